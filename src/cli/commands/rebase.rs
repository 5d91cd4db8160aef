//! `braid rebase REV --onto TARGET`: re-parents a revision that no
//! database has applied, rewriting its header, so that a late branch lands
//! as a straight line instead of a merge.

use braid::history::History;

use crate::cli::{CommandError, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The revision to move (its descendants follow it).
    #[arg(value_name = "REV")]
    revision: String,
    /// Its new parent.
    #[arg(long, value_name = "TARGET")]
    onto: String,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CommandError> {
    let h = ctx.history()?;
    let g = &h.graph;
    let one = |text: &str| -> Result<braid::graph::Node, CommandError> {
        let t = braid::target::parse(text)?;
        braid::target::resolve_revision(g, &t)?
            .ok_or_else(|| CommandError::new(format!("`{text}` names no revision")))
    };
    let rev = one(&args.revision)?;
    let onto = one(&args.onto)?;
    let id = g.id(rev).to_string();
    if rev == onto || g.is_ancestor(rev, onto, true) {
        return Err(CommandError::new(format!(
            "cannot rebase `{id}` onto `{}`: it is `{id}` itself or comes after it",
            g.id(onto)
        )));
    }
    if ctx.has_database() {
        let recorded = ctx.recorded_heads().await?;
        let heads: Vec<_> = recorded.iter().filter_map(|r| g.node(r)).collect();
        let applied = braid::plan::applied_set(g, &heads);
        if applied[rev.index()] {
            return Err(CommandError::new(format!(
                "revision `{id}` is applied in {}: rebasing it would rewrite history the database has run",
                ctx.settings.url
            ))
            .hint(format!("downgrade it first (`braid downgrade {}`), or merge instead of rebasing", g.parents(rev).first().map(|p| g.id(*p).to_string()).unwrap_or_else(|| "base".into()))));
        }
    }
    let m = h.migration(rev);
    let new_parents = vec![g.id(onto).to_string()];
    let text =
        braid::migration::replace_down_revisions(&m.source, &new_parents).ok_or_else(|| {
            CommandError::new("the header has no `down_revisions` entry to rewrite")
                .at(m.path.display().to_string())
        })?;
    // The rewritten history must still be a valid graph.
    let mut migrations = h.migrations.clone();
    let index = g.record_index(rev);
    migrations[index] = braid::migration::parse(&m.path, text.as_bytes())
        .map_err(|e| CommandError::new(e.message.clone()).at(e.location()))?;
    History::from_migrations(migrations)?;
    std::fs::write(&m.path, &text)
        .map_err(|e| CommandError::new(format!("cannot write {}: {e}", m.path.display())))?;
    ctx.note(&format!("rebased {id} onto {}", g.id(onto)));
    crate::cli::out(&format!("{}\n", m.path.display()));
    Ok(())
}
