//! `braid merge -m MSG REV…`: writes a merge revision joining the given
//! revisions (`heads` for all of them).

use braid::graph::Node;
use braid::migration::NewRevision;

use crate::cli::{CommandError, Ctx};
use braid::authoring::{self, directory, new_id, now};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The merge revision's message.
    #[arg(short, long, default_value = "merge")]
    message: String,
    /// The revisions to join, or `heads`.
    #[arg(required = true, value_name = "REV")]
    revisions: Vec<String>,
    /// A branch label for the merge revision.
    #[arg(long = "branch-label", value_name = "LABEL")]
    branch_labels: Vec<String>,
    /// The revision id (default: 12 random hex digits).
    #[arg(long = "rev-id", value_name = "ID")]
    rev_id: Option<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<(), CommandError> {
    let h = ctx.history()?;
    let g = &h.graph;
    let mut parents: Vec<Node> = Vec::new();
    for r in &args.revisions {
        let nodes = if r == "heads" {
            g.heads()
        } else {
            let t = braid::target::parse(r)?;
            braid::target::resolve_revision(g, &t)?
                .into_iter()
                .collect()
        };
        for n in nodes {
            if !parents.contains(&n) {
                parents.push(n);
            }
        }
    }
    if parents.len() < 2 {
        return Err(CommandError::new(format!(
            "nothing to merge: {} names {} revision",
            args.revisions.join(" "),
            parents.len()
        ))
        .hint("a merge joins two or more heads; `braid heads` lists them"));
    }
    for a in &parents {
        for b in &parents {
            if g.is_ancestor(*a, *b, false) {
                return Err(CommandError::new(format!(
                    "`{}` is an ancestor of `{}`: a merge joins revisions on different branches",
                    g.id(*a),
                    g.id(*b)
                )));
            }
        }
    }
    for l in &args.branch_labels {
        braid::revision::BranchLabel::new(l.as_str())
            .map_err(|e| CommandError::new(format!("invalid --branch-label: {e}")))?;
        if g.label(l).is_some() || g.node(l).is_some() {
            return Err(CommandError::new(format!(
                "branch label `{l}` is already used in the history"
            )));
        }
    }
    let rev = NewRevision {
        id: new_id(Some(&h), args.rev_id, &args.message)?,
        down_revisions: parents.iter().map(|p| g.id(*p).to_string()).collect(),
        branch_labels: args.branch_labels,
        depends_on: Vec::new(),
        message: args.message,
        created: now()?,
        up: String::new(),
        down: String::new(),
    };
    let dir = directory(
        &ctx.settings,
        &ctx.cwd,
        Some(&h),
        parents.first().copied(),
        None,
    )?;
    ctx.created(&rev.id, &authoring::write(&dir, &rev)?);
    Ok(())
}
