//! `braid fleet status|upgrade|downgrade`: every member of `[fleet]` (or
//! `--members-from`), several at once, each exactly as `braid upgrade`
//! would migrate it alone; a summary grouped by status and resulting heads.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use braid::execute::Options;
use braid::fleet::{self, MemberResult, Op, Schedule, Status};
use serde_json::json;

use crate::cli::ui::FleetProgress;
use crate::cli::{CommandError, Ctx, Format, only_formats, out, out_json};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand, Debug)]
enum Action {
    /// Where every member stands (read-only, no lock); exit 1 unless all
    /// are at the heads.
    Status(Common),
    /// Upgrade every member to TARGET.
    Upgrade(Migrate),
    /// Downgrade every member to TARGET.
    Downgrade(Migrate),
}

#[derive(clap::Args, Debug)]
struct Common {
    /// Members from a file (or `-` for standard input), one URL or schema
    /// name a line, instead of `[fleet]`.
    #[arg(long = "members-from", value_name = "FILE")]
    members_from: Option<String>,
    /// Only the K-th of N parts of the fleet (to split it across machines).
    #[arg(long, value_name = "K/N")]
    part: Option<String>,
    /// Members migrated at once.
    #[arg(long, default_value_t = 4)]
    jobs: usize,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(clap::Args, Debug)]
struct Migrate {
    /// The target, as for `braid upgrade`/`downgrade`.
    target: String,
    /// Go on with the other members after one fails (default: start no
    /// new member after the first failure).
    #[arg(long = "continue-on-error")]
    continue_on_error: bool,
    /// Migrate the first N members one at a time before the rest; if one
    /// of them fails, no other member starts.
    #[arg(long, value_name = "N", default_value_t = 0)]
    canary: usize,
    /// Further attempts, with a doubling pause from 0.5 s, for a member
    /// that cannot be reached, loses its connection or does not get its
    /// lock in time; never after a failed statement.
    #[arg(long, value_name = "N", default_value_t = 3)]
    retries: u32,
    /// How long each member waits for its migration lock.
    #[arg(long = "lock-timeout", value_name = "SECONDS")]
    lock_timeout: Option<u64>,
    #[command(flatten)]
    common: Common,
}

fn part(text: Option<&str>) -> Result<Option<(usize, usize)>, CommandError> {
    let Some(t) = text else { return Ok(None) };
    let bad = || CommandError::new(format!("invalid --part `{t}`: expected K/N with 1 ≤ K ≤ N"));
    let (k, n) = t.split_once('/').ok_or_else(bad)?;
    Ok(Some((
        k.parse().map_err(|_| bad())?,
        n.parse().map_err(|_| bad())?,
    )))
}

fn listed(from: Option<&str>) -> Result<Option<Vec<String>>, CommandError> {
    let Some(from) = from else { return Ok(None) };
    let mut text = String::new();
    if from == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CommandError::new(format!("cannot read standard input: {e}")))?;
    } else {
        text = std::fs::read_to_string(from)
            .map_err(|e| CommandError::new(format!("cannot read {from}: {e}")))?;
    }
    Ok(Some(text.lines().map(str::to_owned).collect()))
}

fn line(r: &MemberResult) -> String {
    let heads = if r.heads_after.is_empty() {
        "base".to_owned()
    } else {
        r.heads_after.join(", ")
    };
    match r.status {
        Status::Ok if r.pending.is_some() => format!("{}: at {heads}", r.member),
        Status::Ok => format!("{}: ok, {} step(s), at {heads}", r.member, r.steps),
        Status::Pending => format!(
            "{}: {} pending, at {heads}{}",
            r.member,
            r.pending.unwrap_or(0),
            r.error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        ),
        Status::Failed => format!("{}: FAILED: {}", r.member, r.error.as_deref().unwrap_or("")),
        Status::Skipped => format!("{}: skipped", r.member),
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CommandError> {
    let (op, m) = match args.action {
        Action::Status(common) => {
            let m = Migrate {
                target: String::new(),
                continue_on_error: true,
                canary: 0,
                retries: Schedule::default().retries,
                lock_timeout: None,
                common,
            };
            (Op::Status, m)
        }
        Action::Upgrade(m) => (Op::Upgrade(braid::target::parse(&m.target)?), m),
        Action::Downgrade(m) => (Op::Downgrade(braid::target::parse(&m.target)?), m),
    };
    let interrupted = Arc::new(AtomicBool::new(false));
    let schedule = Schedule {
        jobs: m.common.jobs,
        canary: m.canary,
        continue_on_error: m.continue_on_error,
        retries: m.retries,
        member: Options {
            lock_timeout: m.lock_timeout.map(Duration::from_secs),
            timeouts: ctx.settings.timeouts,
            stop: Some(interrupted.clone()),
            lint: None,
            measure: false,
        },
        ..Schedule::default()
    };
    let common = m.common;
    only_formats(common.format, &[Format::Text, Format::Json])?;
    let h = ctx.history()?;
    let members = fleet::members(
        &ctx.settings,
        listed(common.members_from.as_deref())?,
        part(common.part.as_deref())?,
    )
    .await
    .map_err(|e| CommandError::new(e.to_string()))?;
    // Ctrl-C / SIGTERM: no new member starts, and members in flight stop
    // before their next revision, as a single run does.
    // (A member's failure stops only the scheduling: in-flight members
    // finish.)
    let stop = Arc::new(AtomicBool::new(false));
    let total = members.len();
    let json_out = common.format == Format::Json;
    let mut progress = FleetProgress::new(total, ctx.quiet || json_out, line);
    let mut signal: Option<i32> = None;
    let results = {
        let run = fleet::run(
            &ctx.settings,
            &h,
            &members,
            &op,
            &schedule,
            stop.clone(),
            &mut progress,
        );
        tokio::pin!(run);
        let interrupt = crate::cli::signal::interrupted();
        tokio::pin!(interrupt);
        loop {
            tokio::select! {
                r = &mut run => break r,
                code = &mut interrupt, if signal.is_none() => {
                    signal = Some(code);
                    stop.store(true, std::sync::atomic::Ordering::SeqCst);
                    interrupted.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            }
        }
    };
    progress.finish();
    let failed = results
        .iter()
        .filter(|r| r.status == Status::Failed)
        .count();
    let not_at_target = results.iter().filter(|r| r.status != Status::Ok).count();
    if json_out {
        let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
        for r in &results {
            *by_status
                .entry(format!("{:?}", r.status).to_lowercase())
                .or_default() += 1;
        }
        out_json(&json!({
            "members": results,
            "summary": {"members": total, "by_status": by_status},
        }));
    } else {
        // Grouped by status, then by resulting heads: diverged members stand out.
        let mut groups: BTreeMap<(String, String), Vec<&str>> = BTreeMap::new();
        for r in &results {
            let heads = if r.heads_after.is_empty() {
                "base".to_owned()
            } else {
                r.heads_after.join(", ")
            };
            groups
                .entry((format!("{:?}", r.status).to_lowercase(), heads))
                .or_default()
                .push(&r.member);
        }
        let mut s = String::new();
        for ((status, heads), names) in &groups {
            s.push_str(&format!("{status} at {heads}: {} member(s)\n", names.len()));
        }
        for r in results.iter().filter(|r| r.status == Status::Failed) {
            s.push_str(&format!("  {}\n", line(r)));
        }
        out(&s);
    }
    if let Some(code) = signal {
        ctx.note(&format!(
            "interrupted by {}: no new member started; members in flight stopped after their running revision; run the command again to go on",
            crate::cli::signal::name(code)
        ));
        std::process::exit(code);
    }
    if failed > 0 {
        return Err(CommandError::new(format!(
            "{failed} of {total} member(s) failed"
        )));
    }
    if matches!(op, Op::Status) && not_at_target > 0 {
        return Err(CommandError::new(format!(
            "{not_at_target} of {total} member(s) are not at the heads"
        )));
    }
    Ok(())
}
