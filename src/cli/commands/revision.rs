//! `braid revision -m MSG`: writes a new migration file on the current
//! single head (or `--head`), as `alembic revision` does.

use std::path::{Path, PathBuf};

use braid::graph::Node;
use braid::history::History;
use braid::migration::{NewRevision, file_name, render_new};

use crate::cli::{CommandError, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The revision's message (also the file name's slug).
    #[arg(short, long, default_value = "")]
    message: String,
    /// The revision to build on: a head, `LABEL@head`, or `base` for a new
    /// root. Defaults to the single head.
    #[arg(long, value_name = "REV")]
    head: Option<String>,
    /// A branch label for the new revision.
    #[arg(long = "branch-label", value_name = "LABEL")]
    branch_labels: Vec<String>,
    /// A revision or label the new revision depends on (repeatable).
    #[arg(long = "depends-on", value_name = "REV")]
    depends_on: Vec<String>,
    /// Allow `--head` to name a revision that is not a head (starts a branch).
    #[arg(long)]
    splice: bool,
    /// The revision id (default: 12 random hex digits).
    #[arg(long = "rev-id", value_name = "ID")]
    rev_id: Option<String>,
    /// The directory to write into (one of the configured directories).
    #[arg(long = "version-path", value_name = "DIR")]
    version_path: Option<PathBuf>,
}

/// The creation time: now, or `BRAID_NOW` (RFC 3339) so that tests and
/// reproducible builds get fixed file names.
pub fn now() -> Result<jiff::Timestamp, CommandError> {
    match std::env::var("BRAID_NOW") {
        Ok(t) => t.parse().map_err(|e| {
            CommandError::new(format!(
                "invalid BRAID_NOW: expected an RFC 3339 time, found `{t}` ({e})"
            ))
        }),
        Err(_) => Ok(jiff::Timestamp::now()),
    }
}

/// A new revision id: 12 hex digits, unique in the history.
pub fn new_id(
    h: Option<&History>,
    given: Option<String>,
    seed: &str,
) -> Result<String, CommandError> {
    let taken =
        |id: &str| h.is_some_and(|h| h.graph.node(id).is_some() || h.graph.label(id).is_some());
    if let Some(id) = given {
        braid::revision::RevisionId::new(id.as_str())
            .map_err(|e| CommandError::new(format!("invalid --rev-id: {e}")))?;
        if taken(&id) {
            return Err(CommandError::new(format!("revision `{id}` already exists")));
        }
        return Ok(id);
    }
    for attempt in 0u32.. {
        let mut hasher = blake3::Hasher::new();
        hasher.update(seed.as_bytes());
        hasher.update(&std::process::id().to_le_bytes());
        hasher.update(&attempt.to_le_bytes());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        hasher.update(&nanos.to_le_bytes());
        let id = hasher.finalize().to_hex()[..12].to_owned();
        // An id of digits only could read as a relative step count.
        if !taken(&id) && !id.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(id);
        }
    }
    unreachable!("ids run out")
}

/// Where a new file goes: `--version-path` (one of the configured
/// directories), else the parent's directory, else the first directory.
pub fn directory(
    ctx: &Ctx,
    h: Option<&History>,
    parent: Option<Node>,
    given: Option<&Path>,
) -> Result<PathBuf, CommandError> {
    if let Some(p) = given {
        let p = ctx.cwd.join(p);
        let canon = |x: &Path| std::fs::canonicalize(x).unwrap_or_else(|_| x.to_owned());
        if !ctx
            .settings
            .directories
            .iter()
            .any(|d| canon(d) == canon(&p))
        {
            return Err(CommandError::new(format!(
                "{} is not one of the configured migration directories",
                p.display()
            ))
            .hint("add it to `[migrations] directories` in braid.toml"));
        }
        return Ok(p);
    }
    if let (Some(h), Some(parent)) = (h, parent)
        && let Some(dir) = h.migration(parent).path.parent()
    {
        return Ok(dir.to_owned());
    }
    ctx.settings
        .directories
        .first()
        .cloned()
        .ok_or_else(|| CommandError::new("no migration directory is configured"))
}

/// Writes the file and prints its path.
pub fn write(ctx: &Ctx, dir: &Path, rev: &NewRevision) -> Result<(), CommandError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CommandError::new(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join(file_name(rev));
    std::fs::write(&path, render_new(rev))
        .map_err(|e| CommandError::new(format!("cannot write {}: {e}", path.display())))?;
    ctx.note(&format!("created revision {}", rev.id));
    crate::cli::out(&format!("{}\n", path.display()));
    Ok(())
}

/// Loads the history, or none when the directories hold no migration yet.
pub fn history_or_empty(ctx: &Ctx) -> Result<Option<History>, CommandError> {
    let h = ctx.history()?;
    Ok((!h.graph.is_empty()).then_some(h))
}

pub fn run(ctx: &Ctx, args: Args) -> Result<(), CommandError> {
    for d in &ctx.settings.directories {
        if !d.exists() {
            std::fs::create_dir_all(d)
                .map_err(|e| CommandError::new(format!("cannot create {}: {e}", d.display())))?;
        }
    }
    let h = history_or_empty(ctx)?;
    let parent: Option<Node> = match (&h, args.head.as_deref()) {
        (None, None | Some("base") | Some("head") | Some("heads")) => None,
        (None, Some(other)) => {
            return Err(CommandError::new(format!(
                "no revision `{other}`: the history is empty"
            )));
        }
        (Some(_), Some("base")) => None,
        (Some(h), given) => {
            let text = given.unwrap_or("head");
            let t = braid::target::parse(text)?;
            let n = braid::target::resolve_revision(&h.graph, &t).map_err(|e| {
                let mut c = CommandError::from(e);
                if given.is_none() {
                    c.hints = vec![format!(
                        "pass --head REV to build on one head, or join them first with `braid merge -m MSG heads` ({})",
                        h.graph.ids(&h.graph.heads()).collect::<Vec<_>>().join(", ")
                    )];
                }
                c
            })?;
            if let Some(n) = n
                && !h.graph.is_head(n)
                && !args.splice
            {
                return Err(CommandError::new(format!(
                    "revision `{}` is not a head",
                    h.graph.id(n)
                ))
                .hint("pass --splice to start a new branch from it"));
            }
            n
        }
    };
    for l in &args.branch_labels {
        braid::revision::BranchLabel::new(l.as_str())
            .map_err(|e| CommandError::new(format!("invalid --branch-label: {e}")))?;
        if let Some(h) = &h
            && (h.graph.label(l).is_some() || h.graph.node(l).is_some())
        {
            return Err(CommandError::new(format!(
                "branch label `{l}` is already used in the history"
            )));
        }
    }
    let mut depends_on = Vec::new();
    for d in &args.depends_on {
        let resolved = match &h {
            Some(h) => {
                if h.graph.label(d).is_some() {
                    d.clone()
                } else {
                    let t = braid::target::parse(d)?;
                    match braid::target::resolve_revision(&h.graph, &t)? {
                        Some(n) => h.graph.id(n).to_string(),
                        None => {
                            return Err(CommandError::new("--depends-on base names no revision"));
                        }
                    }
                }
            }
            None => {
                return Err(CommandError::new(format!(
                    "--depends-on `{d}`: the history is empty"
                )));
            }
        };
        depends_on.push(resolved);
    }
    let id = new_id(h.as_ref(), args.rev_id, &args.message)?;
    let rev = NewRevision {
        id,
        down_revisions: parent
            .iter()
            .map(|p| {
                h.as_ref()
                    .expect("parent implies history")
                    .graph
                    .id(*p)
                    .to_string()
            })
            .collect(),
        branch_labels: args.branch_labels,
        depends_on,
        message: args.message,
        created: now()?,
    };
    let dir = directory(ctx, h.as_ref(), parent, args.version_path.as_deref())?;
    write(ctx, &dir, &rev)
}
