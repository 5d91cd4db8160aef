//! `braid upgrade TARGET` and `braid downgrade TARGET`, with `--dry-run`
//! (the plan) and `--sql` (the offline script, no connection).

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

/// Statements that cannot run as written stop a plan before anything runs.
fn check_lints(h: &History, plan: &Plan, dialect: &Dialect) -> Result<(), CommandError> {
    let lints = braid::lint::plan_errors(h, plan, dialect.lexer());
    if lints.is_empty() {
        Ok(())
    } else {
        Err(execute::ExecuteError::Lint(lints).into())
    }
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
        let engine = ctx.settings.url.engine().map_err(CommandError::new)?;
        let dialect = Dialect::new(
            engine,
            ctx.settings.schema.as_deref(),
            &ctx.settings.version_table,
        );
        check_lints(&h, &plan, &dialect)?;
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
        let engine = ctx.settings.url.engine().map_err(CommandError::new)?;
        check_lints(
            &h,
            &plan,
            &Dialect::new(engine, None, &ctx.settings.version_table),
        )?;
        print_plan(&h, &plan, args.format);
        return Ok(());
    }
    let mut db = ctx.connect().await?;
    let opts = Options {
        lock_timeout: args.lock_timeout.map(Duration::from_secs),
    };
    let mut progress = Progress::new(ctx.quiet);
    let started = Instant::now();
    let req = match direction {
        Direction::Up => Request::Upgrade(&target),
        Direction::Down => Request::Downgrade(&target),
    };
    let result = execute::run(&mut db, &h, req, &opts, &mut progress).await;
    progress.finish();
    db.close().await;
    let outcome = result?;
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
