//! `braid upgrade TARGET` and `braid downgrade TARGET`, with `--dry-run`
//! (the plan) and `--sql` (the offline script, no connection).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use braid::db::Dialect;
use braid::execute::{self, Options, Request};
use braid::history::History;
use braid::plan::{self, Plan};
use braid::revision::Direction;
use serde_json::json;

use crate::cli::ui::Progress;
use crate::cli::{CommandError, Ctx, Format, only_formats, out, out_json};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to go: `heads`, `head`, `base`, a revision or prefix,
    /// `LABEL@head`, `+N`, `-N`, `REV+N`… (`FROM:TO` with --sql).
    #[arg(allow_hyphen_values = true, value_name = "TARGET")]
    target: String,
    /// Print the SQL script instead of running it (no connection).
    #[arg(long)]
    sql: bool,
    /// Print the plan without running it.
    #[arg(long = "dry-run")]
    dry_run: bool,
    /// Output format of --dry-run.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Give up after waiting this many seconds for the migration lock.
    #[arg(long = "lock-timeout", value_name = "SECONDS")]
    lock_timeout: Option<u64>,
    /// Back the database up to PATH before the first revision runs
    /// (SQLite: VACUUM INTO; PostgreSQL: pg_dump -Fc; MySQL: mariadb-dump
    /// or mysqldump). A failed backup runs nothing.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["sql", "dry_run"])]
    backup: Option<std::path::PathBuf>,
}

fn verb(d: Direction) -> &'static str {
    match d {
        Direction::Up => "upgrade",
        Direction::Down => "downgrade",
    }
}

fn print_plan(h: &History, plan: &Plan, format: Format) {
    let g = &h.graph;
    match format {
        Format::Json => {
            let steps: Vec<_> = plan
                .steps
                .iter()
                .map(|s| json!({"revision": g.id(s.node), "direction": s.direction}))
                .collect();
            out_json(&json!({
                "steps": steps,
                "heads_before": g.ids(&plan.before).collect::<Vec<_>>(),
                "heads_after": g.ids(&plan.after).collect::<Vec<_>>(),
            }));
        }
        _ => {
            let mut s = String::new();
            for step in &plan.steps {
                let m = h.migration(step.node);
                s.push_str(&format!(
                    "{:<4} {} {}\n",
                    step.direction.as_str(),
                    m.id,
                    m.message.as_deref().unwrap_or("")
                ));
            }
            out(&s);
        }
    }
}

/// Statements that cannot run as written stop a plan before anything runs;
/// warnings are printed and the plan goes on.
fn check_lints(ctx: &Ctx, h: &History, plan: &Plan, dialect: &Dialect) -> Result<(), CommandError> {
    let (errors, warnings): (Vec<_>, Vec<_>) = braid::lint::plan_lints(h, plan, dialect.lexer())
        .into_iter()
        .partition(|l| l.severity == braid::lint::Severity::Error);
    if !errors.is_empty() {
        return Err(execute::ExecuteError::Lint(errors).into());
    }
    if !ctx.quiet {
        let mut stderr = std::io::stderr().lock();
        for l in &warnings {
            crate::cli::error::print_warning(l, &mut stderr);
        }
    }
    Ok(())
}

/// `--backup PATH`: the backup, when the plan has anything to run, and
/// how to restore it.
async fn backup(
    ctx: &Ctx,
    h: &History,
    target: &braid::target::Target,
    direction: Direction,
    path: &std::path::Path,
) -> Result<(), CommandError> {
    if !ctx.has_database() {
        ctx.note("no backup: there is no database yet");
        return Ok(());
    }
    let g = &h.graph;
    let current: Vec<_> = ctx
        .recorded_heads()
        .await?
        .iter()
        .filter_map(|r| g.node(r))
        .collect();
    let plan = match direction {
        Direction::Up => plan::upgrade(g, &current, target)?,
        Direction::Down => plan::downgrade(g, &current, target)?,
    };
    if plan.is_empty() {
        ctx.note("no backup: there is nothing to run");
        return Ok(());
    }
    let done = braid::backup::backup(&ctx.settings, path)
        .await
        .map_err(|e| {
            let err = CommandError::new(format!("no revision was run: the backup failed: {e}"));
            match e.hint() {
                Some(h) => err.hint(h),
                None => err,
            }
        })?;
    ctx.note(&format!(
        "backed up to {} ({} bytes); to restore it: {}",
        done.path.display(),
        done.bytes,
        done.restore
    ));
    Ok(())
}

pub async fn run(ctx: &Ctx, args: Args, direction: Direction) -> Result<(), CommandError> {
    only_formats(args.format, &[Format::Text, Format::Json])?;
    if args.format == Format::Json && !args.dry_run {
        return Err(CommandError::new("--format json goes with --dry-run"));
    }
    let h = ctx.history()?;
    let g = &h.graph;
    if args.sql {
        let (from, to) = match args.target.split_once(':') {
            Some((f, t)) => (Some(f), t),
            None => (None, args.target.as_str()),
        };
        let from_nodes = match from {
            None if direction == Direction::Down => {
                return Err(CommandError::new(
                    "downgrade --sql needs a range FROM:TO, since there is no database to read the current revision from",
                )
                .hint("for example `braid downgrade --sql heads:base`"));
            }
            None | Some("") => Vec::new(),
            Some(f) => braid::target::resolve_upgrade(g, &[], &braid::target::parse(f)?)?,
        };
        let to = braid::target::parse(to)?;
        let plan = plan::between(g, direction, &from_nodes, &to)?;
        h.check_reversible(&plan)?;
        h.check_translated(&plan)
            .map_err(execute::ExecuteError::from)?;
        let engine = ctx.settings.url.engine().map_err(CommandError::new)?;
        let dialect = Dialect::new(
            engine,
            ctx.settings.schema.as_deref(),
            &ctx.settings.version_table,
        );
        check_lints(ctx, &h, &plan, &dialect)?;
        out(&braid::render::sql::script(
            &h,
            &plan,
            &dialect,
            &format!("{} {}", verb(direction), args.target),
        ));
        return Ok(());
    }
    if args.target.contains(':') {
        return Err(CommandError::new("`FROM:TO` ranges are only for --sql"));
    }
    let target = braid::target::parse(&args.target)?;
    if args.dry_run {
        let recorded = ctx.recorded_heads().await?;
        let mut current = Vec::new();
        for r in &recorded {
            current.push(g.node(r).ok_or_else(|| {
                CommandError::from(execute::ExecuteError::UnknownRecorded {
                    revisions: vec![r.clone()],
                })
            })?);
        }
        let plan = match direction {
            Direction::Up => plan::upgrade(g, &current, &target)?,
            Direction::Down => plan::downgrade(g, &current, &target)?,
        };
        h.check_reversible(&plan)?;
        h.check_translated(&plan)
            .map_err(execute::ExecuteError::from)?;
        let engine = ctx.settings.url.engine().map_err(CommandError::new)?;
        check_lints(
            ctx,
            &h,
            &plan,
            &Dialect::new(engine, None, &ctx.settings.version_table),
        )?;
        print_plan(&h, &plan, args.format);
        return Ok(());
    }
    if !ctx.has_database() {
        // No database yet (an SQLite file not created): plan against the
        // empty state first, so that a bad request creates nothing.
        let plan = match direction {
            Direction::Up => plan::upgrade(g, &[], &target)?,
            Direction::Down => plan::downgrade(g, &[], &target)?,
        };
        h.check_reversible(&plan)?;
        h.check_translated(&plan)
            .map_err(execute::ExecuteError::from)?;
        if plan.is_empty() {
            ctx.note("nothing to do: the database is at base");
            return Ok(());
        }
    }
    if let Some(path) = &args.backup {
        backup(ctx, &h, &target, direction, path).await?;
    }
    let mut db = ctx.connect().await?;
    let stop = Arc::new(AtomicBool::new(false));
    let opts = Options {
        lock_timeout: args.lock_timeout.map(Duration::from_secs),
        timeouts: ctx.settings.timeouts,
        stop: Some(stop.clone()),
        lint: Some(ctx.settings.lint.clone()),
        measure: false,
    };
    let mut progress = Progress::new(ctx.quiet);
    let in_flight = progress.in_flight.clone();
    let started = Instant::now();
    let req = match direction {
        Direction::Up => Request::Upgrade(&target),
        Direction::Down => Request::Downgrade(&target),
    };
    // The step that went to the server in one round trip keeps running
    // there if braid just exits, and may commit: a signal cancels it on the
    // server instead, and braid waits to hear how it ended.
    let canceller = db
        .canceller(&ctx.settings)
        .await
        .map_err(|e| CommandError::new(format!("cannot read the session id: {e}")))?;
    let mut signal: Option<i32> = None;
    let result = {
        let run = execute::run(&mut db, &h, req, &opts, &mut progress);
        tokio::pin!(run);
        let mut interrupt = Box::pin(crate::cli::signal::interrupted());
        // The cancel request, sent beside the running step once a signal
        // comes (a fused future: pending before and after).
        type Cancel = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;
        let mut cancel = Box::pin(futures::future::Fuse::<Cancel>::terminated());
        loop {
            tokio::select! {
                r = &mut run => break Some(r),
                () = &mut cancel => {}
                code = &mut interrupt => {
                    if signal.is_some() {
                        // A second signal: leave now.
                        break None;
                    }
                    signal = Some(code);
                    stop.store(true, Ordering::SeqCst);
                    interrupt = Box::pin(crate::cli::signal::interrupted());
                    // A step outside a transaction is let finish (stopping it
                    // midway would leave it half applied); one inside a
                    // transaction is cancelled on the server and rolled back.
                    let in_transaction = in_flight.borrow().as_ref().is_some_and(|(_, tx)| *tx);
                    if in_transaction && let Some(c) = canceller.clone() {
                        let request: Cancel = Box::pin(async move {
                            let _ = c.cancel().await;
                        });
                        cancel.set(futures::FutureExt::fuse(request));
                    }
                }
            }
        }
    };
    progress.finish();
    if let Some(code) = signal {
        let what = match &result {
            None => match in_flight.borrow().as_ref() {
                Some((rev, _)) => format!(
                    "a second signal: braid left without waiting for revision {rev}, which may still be running on the server"
                ),
                None => "a second signal: braid left at once".to_owned(),
            },
            Some(Err(execute::ExecuteError::Interrupted {
                cancelled: Some(rev),
                ..
            })) => format!("revision {rev} was cancelled and rolled back"),
            Some(Err(execute::ExecuteError::Interrupted {
                paused: Some(rev), ..
            })) => format!(
                "revision {rev} stopped between two batches of its batch block (each batch committed); a rerun continues it"
            ),
            Some(Err(execute::ExecuteError::Interrupted { .. })) => {
                "stopped between revisions".to_owned()
            }
            Some(Ok(_)) => "the revision that was running finished and was recorded".to_owned(),
            Some(Err(e)) => format!("the run ended with an error: {e}"),
        };
        let name = crate::cli::signal::name(code);
        ctx.note(&format!(
            "interrupted by {name}: {what}; the version table records every revision that finished; run the command again to go on"
        ));
        std::process::exit(code);
    }
    let result = result.expect("finished without a signal");
    // `[schema] dump`: the schema file follows the database (Rails'
    // habit), read on the run's own connection.
    let dumped = match &result {
        Ok(_) => braid::schema::write_dump(&mut db, &ctx.settings).await,
        Err(_) => Ok(()),
    };
    db.close().await;
    let outcome = result?;
    dumped?;
    let heads = if outcome.heads.is_empty() {
        "base".to_owned()
    } else {
        outcome.heads.join(", ")
    };
    if outcome.steps.is_empty() {
        ctx.note(&format!("nothing to do: the database is at {heads}"));
    } else {
        ctx.note(&format!(
            "{} {} revision{} in {:.2}s; current: {heads}",
            match direction {
                Direction::Up => "applied",
                Direction::Down => "reverted",
            },
            outcome.steps.len(),
            if outcome.steps.len() == 1 { "" } else { "s" },
            started.elapsed().as_secs_f64()
        ));
    }
    Ok(())
}
