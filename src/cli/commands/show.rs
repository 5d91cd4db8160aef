//! `braid show REV`: one revision in full.

use serde_json::json;

use crate::cli::{CommandError, Ctx, Format, only_formats, out, out_json};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A revision id or prefix, `head`, `LABEL@head`…
    #[arg(allow_hyphen_values = true, value_name = "REV")]
    revision: String,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CommandError> {
    only_formats(args.format, &[Format::Text, Format::Json])?;
    let h = ctx.history()?;
    let g = &h.graph;
    let t = braid::target::parse(&args.revision)?;
    let n = braid::target::resolve_revision(g, &t)?
        .ok_or_else(|| CommandError::new("`base` is not a revision"))?;
    let m = h.migration(n);
    let own = g.labels_of(n);
    // What ran of it on the database at the URL, newest first (SPEC §14).
    let ran: Vec<braid::db::LogEntry> = ctx
        .log(None)
        .await?
        .into_iter()
        .filter(|e| e.revision == m.id.as_str() && e.statement.is_none())
        .collect();
    if args.format == Format::Json {
        let mut v = braid::render::revision_json(&h, n, &own);
        v["children"] = json!(g.ids(g.children(n)).collect::<Vec<_>>());
        v["dependents"] = json!(g.ids(g.dependents(n)).collect::<Vec<_>>());
        v["up"] = json!(m.up_sql());
        v["down"] = json!(m.down_sql());
        v["ran"] = json!(ran);
        out_json(&v);
        return Ok(());
    }
    let list = |nodes: &[braid::graph::Node]| g.ids(nodes).collect::<Vec<_>>().join(", ");
    let mut s = format!("Rev: {}{}\n", m.id, braid::render::marks(g, n, &own, false));
    s.push_str(&format!(
        "Parent: {}\n",
        if g.parents(n).is_empty() {
            "<base>".to_owned()
        } else {
            list(g.parents(n))
        }
    ));
    if !g.dependencies(n).is_empty() {
        s.push_str(&format!("Also depends on: {}\n", list(g.dependencies(n))));
    }
    if g.is_branch_point(n) {
        s.push_str(&format!("Branches into: {}\n", list(g.children(n))));
    }
    if g.is_merge_point(n) {
        s.push_str(&format!("Merges: {}\n", list(g.parents(n))));
    }
    if !own.is_empty() {
        let l: Vec<&str> = own.iter().map(|l| l.as_str()).collect();
        s.push_str(&format!("Branch names: {}\n", l.join(", ")));
    }
    s.push_str(&format!("Path: {}\n", m.path.display()));
    if let Some(c) = &m.created {
        s.push_str(&format!("Created: {c}\n"));
    }
    s.push_str(&format!("Transactional: {}\n", m.transactional));
    s.push_str(&format!("Checksum: {}\n", m.checksum));
    for e in &ran {
        s.push_str(&format!(
            "Ran: {} {} {}{} by {}\n",
            e.direction,
            e.status,
            e.finished_at.as_deref().unwrap_or(&e.started_at),
            e.duration_ms
                .map(|ms| format!(" ({:.2}s)", ms as f64 / 1000.0))
                .unwrap_or_default(),
            e.run_by.as_deref().unwrap_or("?")
        ));
    }
    s.push_str(&format!("\n    {}\n\n", m.message.as_deref().unwrap_or("")));
    s.push_str("-- braid:up\n");
    s.push_str(m.up_sql().trim_end());
    s.push('\n');
    match m.down_sql() {
        Some(down) => {
            s.push_str("\n-- braid:down\n");
            s.push_str(down.trim_end());
            s.push('\n');
        }
        None => s.push_str("\n(no downgrade: this revision is irreversible)\n"),
    }
    out(&s);
    Ok(())
}
