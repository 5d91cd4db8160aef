//! `braid stamp`, `braid accept` and `braid resolve`: commands that change
//! what the database records without running migration SQL.

use std::time::Duration;

use braid::execute::{self, Options, Request};
use braid::target::Target;

use crate::cli::ui::Progress;
use crate::cli::{CommandError, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The revisions to record (`heads`, `base`, ids, `LABEL@head`…).
    #[arg(required = true, allow_hyphen_values = true, value_name = "REV")]
    revisions: Vec<String>,
    /// Forget what the version table holds first (even unknown revisions).
    #[arg(long)]
    purge: bool,
    /// Give up after waiting this many seconds for the migration lock.
    #[arg(long = "lock-timeout", value_name = "SECONDS")]
    lock_timeout: Option<u64>,
}

#[derive(clap::Args, Debug)]
pub struct AcceptArgs {
    /// The changed revisions to accept (all of them when none is given).
    #[arg(value_name = "REV")]
    revisions: Vec<String>,
}

#[derive(clap::Args, Debug)]
#[command(group = clap::ArgGroup::new("outcome").required(true))]
pub struct ResolveArgs {
    /// The revision that stopped halfway.
    #[arg(value_name = "REV")]
    revision: String,
    /// Its statements all took effect (finished by hand): record it as run.
    #[arg(long, group = "outcome")]
    applied: bool,
    /// None of its statements remain (undone by hand): record it as not run.
    #[arg(long, group = "outcome")]
    reverted: bool,
}

fn targets(texts: &[String]) -> Result<Vec<Target>, CommandError> {
    texts
        .iter()
        .map(|t| braid::target::parse(t).map_err(CommandError::from))
        .collect()
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CommandError> {
    let h = ctx.history()?;
    let ts = targets(&args.revisions)?;
    let mut db = ctx.connect().await?;
    let opts = Options {
        lock_timeout: args.lock_timeout.map(Duration::from_secs),
        ..Options::default()
    };
    let mut progress = Progress::new(ctx.quiet);
    let result = execute::run(
        &mut db,
        &h,
        Request::Stamp {
            targets: &ts,
            purge: args.purge,
        },
        &opts,
        &mut progress,
    )
    .await;
    db.close().await;
    let outcome = result?;
    ctx.note(&format!(
        "stamped; current: {}",
        if outcome.heads.is_empty() {
            "base".to_owned()
        } else {
            outcome.heads.join(", ")
        }
    ));
    Ok(())
}

pub async fn accept(ctx: &Ctx, args: AcceptArgs) -> Result<(), CommandError> {
    let h = ctx.history()?;
    let ts = targets(&args.revisions)?;
    let mut db = ctx.connect().await?;
    let result = execute::run(
        &mut db,
        &h,
        Request::Accept(&ts),
        &Options::default(),
        &mut Progress::new(ctx.quiet),
    )
    .await;
    db.close().await;
    let outcome = result?;
    if outcome.steps.is_empty() {
        ctx.note("nothing to accept: no applied file changed");
    } else {
        for (rev, _) in &outcome.steps {
            ctx.note(&format!("accepted the new content of {rev}"));
        }
    }
    Ok(())
}

pub async fn resolve(ctx: &Ctx, args: ResolveArgs) -> Result<(), CommandError> {
    let h = ctx.history()?;
    let t = braid::target::parse(&args.revision)?;
    let mut db = ctx.connect().await?;
    let result = execute::run(
        &mut db,
        &h,
        Request::Resolve {
            revision: &t,
            applied: args.applied,
        },
        &Options::default(),
        &mut Progress::new(ctx.quiet),
    )
    .await;
    db.close().await;
    let outcome = result?;
    ctx.note(&format!(
        "resolved {} as {}; current: {}",
        args.revision,
        if args.applied { "applied" } else { "reverted" },
        if outcome.heads.is_empty() {
            "base".to_owned()
        } else {
            outcome.heads.join(", ")
        }
    ));
    Ok(())
}
