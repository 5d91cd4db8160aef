//! `braid rehearse [TARGET] [--with-data] [--from URL] [--dev-url URL]`
//! (SPEC §14): the pending revisions run on a copy of the database, each
//! statement measured, then reverted one by one and the schema compared.
//! The library does the work ([`braid::rehearse`]); this prints it.

use serde_json::json;

use braid::execute::probe::Measured;
use braid::lint::safety::Finding;
use braid::rehearse::{Plan, Rehearsal, Step};

use crate::cli::{CommandError, Ctx, Format, only_formats, out, out_json};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to upgrade to (default: heads).
    target: Option<String>,
    /// Copy the rows too (the engine's dump tool), not only the schema.
    #[arg(long)]
    with_data: bool,
    /// The database to copy, when not the configured one.
    #[arg(long, value_name = "URL")]
    from: Option<String>,
    /// The server to make the copy on (default: `[schema] dev_url`, else the URL's).
    #[arg(long, value_name = "URL")]
    dev_url: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CommandError> {
    only_formats(args.format, &[Format::Text, Format::Json])?;
    let h = ctx.history()?;
    let plan = Plan {
        target: args.target,
        with_data: args.with_data,
        from: args.from,
        dev_url: args.dev_url,
    };
    let copied = if plan.with_data {
        "its schema and rows"
    } else {
        "its schema and version table"
    };
    ctx.note(&format!("rehearsing on a copy of the database ({copied})"));
    let r = braid::rehearse::rehearse(&ctx.settings, &h, &plan)
        .await
        .map_err(|e| {
            let hint = match &e {
                braid::rehearse::RehearseError::Copy(b) => b.hint(),
                _ => None,
            };
            let err = CommandError::new(format!("cannot rehearse: {e}"));
            match hint {
                Some(h) => err.hint(h),
                None => err,
            }
        })?;
    if args.format == Format::Json {
        out_json(&json!({
            "from": r.from,
            "rows_copied": plan.with_data,
            "up_duration_ms": r.up_time().as_millis() as u64,
            "up": r.up.iter().map(|s| step_json(s, &r.findings)).collect::<Vec<_>>(),
            "down": r.down.iter().map(|s| step_json(s, &[])).collect::<Vec<_>>(),
            "restored": r.not_restored.is_empty() && r.down.iter().all(|s| s.error.is_none()),
            "not_restored": r.not_restored.iter().map(|n| json!({
                "revision": n.revision,
                "differences": n.differences,
            })).collect::<Vec<_>>(),
        }));
    } else {
        out(&text(&r));
    }
    if r.passed() {
        Ok(())
    } else {
        Err(CommandError::new(failure(&r)))
    }
}

/// What went wrong, in one line, for the exit status's message.
fn failure(r: &Rehearsal) -> String {
    if let Some(s) = r.up.iter().chain(&r.down).find(|s| s.error.is_some()) {
        return format!(
            "the rehearsal stopped: {} {} failed on the copy",
            s.direction.as_str(),
            s.revision
        );
    }
    let names: Vec<&str> = r.not_restored.iter().map(|n| n.revision.as_str()).collect();
    format!(
        "the rollback plan does not hold: the down of {} does not give back the schema its up started from",
        names.join(", ")
    )
}

fn findings_at<'a>(findings: &'a [Finding], revision: &str, line: usize) -> Vec<&'a Finding> {
    findings
        .iter()
        .filter(|f| f.revision == revision && f.line == line && f.direction == "up")
        .collect()
}

fn step_json(s: &Step, findings: &[Finding]) -> serde_json::Value {
    json!({
        "revision": s.revision,
        "direction": s.direction.as_str(),
        "duration_ms": s.duration.as_millis() as u64,
        "error": s.error,
        "statements": s.statements.iter().map(|m| {
            json!({
                "index": m.index,
                "line": m.line,
                "statement": m.statement,
                "duration_ms": m.duration.as_secs_f64() * 1000.0,
                "locks": m.locks.as_ref().map(|l| l.iter().map(|(mode, table)| json!({
                    "mode": mode,
                    "table": table,
                })).collect::<Vec<_>>()),
                "rewrote": m.rewrote,
                "findings": findings_at(findings, &s.revision, m.line).iter().map(|f| json!({
                    "rule": f.rule,
                    "severity": f.severity.as_str(),
                    "message": f.message,
                })).collect::<Vec<_>>(),
            })
        }).collect::<Vec<_>>(),
    })
}

fn ms(d: std::time::Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1}ms")
    } else if ms < 1000.0 {
        format!("{ms:.0}ms")
    } else {
        format!("{:.2}s", ms / 1000.0)
    }
}

fn locks(m: &Measured) -> String {
    match &m.locks {
        None => "-".into(),
        Some(l) if l.is_empty() => "none".into(),
        Some(l) => l
            .iter()
            .map(|(mode, t)| format!("{mode} {t}"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn text(r: &Rehearsal) -> String {
    let mut s = String::new();
    let at = if r.from.is_empty() {
        "base".to_owned()
    } else {
        r.from.join(", ")
    };
    if r.up.is_empty() {
        s.push_str(&format!("the database is at {at}: nothing to rehearse\n"));
        return s;
    }
    s.push_str(&format!("from {at}\n"));
    for step in r.up.iter().chain(&r.down) {
        s.push_str(&format!(
            "{:<4} {} ({})\n",
            step.direction.as_str(),
            step.revision,
            ms(step.duration)
        ));
        if !step.statements.is_empty() {
            s.push_str(
                "     line  time      locks taken                      rewrote      statement\n",
            );
        }
        for m in &step.statements {
            let rewrote = if m.rewrote.is_empty() {
                "-".to_owned()
            } else {
                m.rewrote.join(", ")
            };
            s.push_str(&format!(
                "     {:<5} {:<9} {:<32} {:<12} {}\n",
                m.line,
                ms(m.duration),
                locks(m),
                rewrote,
                m.statement
            ));
            if step.direction == braid::revision::Direction::Up {
                for f in findings_at(&r.findings, &step.revision, m.line) {
                    s.push_str(&format!(
                        "           lint {}[{}]: {}\n",
                        f.severity.as_str(),
                        f.rule,
                        f.message
                    ));
                }
            }
        }
        if let Some(e) = &step.error {
            s.push_str(&format!("     failed: {e}\n"));
        }
    }
    s.push_str(&format!(
        "up: {} revision(s) in {} on the copy, each statement measured\n",
        r.up.len(),
        ms(r.up_time())
    ));
    if r.not_restored.is_empty() && r.down.iter().all(|d| d.error.is_none()) {
        s.push_str(&format!(
            "rollback: each of the {} revision(s) reverted to the schema it started from\n",
            r.down.len()
        ));
    }
    for n in &r.not_restored {
        s.push_str(&format!(
            "rollback: {} is not restored by its down:\n",
            n.revision
        ));
        for d in &n.differences {
            s.push_str(&format!("  {d}\n"));
        }
    }
    s
}
