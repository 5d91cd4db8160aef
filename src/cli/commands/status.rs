//! `braid status`: every revision in graph order with its state on the
//! database at the URL (`applied`, `pending`, `failed`, and recorded
//! revisions no file declares as `unknown`), when it was applied, how
//! long it took and by whom (SPEC §14). Read-only: it reads the version
//! table and the history, once each.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::Serialize;

use serde_json::json;

use crate::cli::{CommandError, Ctx, Format, only_formats, out, out_json};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CommandError> {
    only_formats(args.format, &[Format::Text, Format::Json])?;
    // The files' headers are read (through the cache beside braid.toml)
    // on another thread while the database answers: neither waits for the
    // other. A bad file is still the error shown first.
    let dirs = ctx.settings.directories.clone();
    let project = ctx
        .settings
        .config_file
        .as_ref()
        .map(|_| ctx.settings.project_dir.clone());
    let loading = std::thread::spawn(move || crate::cli::headers::load(&dirs, project.as_deref()));
    let read = async {
        if !ctx.has_database() {
            return Ok((Vec::new(), Vec::new()));
        }
        let mut db = ctx.connect().await?;
        let heads = braid::execute::current_heads(&mut db).await;
        let log = db.log(None).await;
        db.close().await;
        Ok::<_, CommandError>((
            heads?,
            log.map_err(|e| CommandError::new("cannot read the history").cause(e.message))?,
        ))
    }
    .await;
    let h = loading
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
    let (heads, log) = read?;
    let g = &h.graph;
    let known: Vec<_> = heads.iter().filter_map(|id| g.node(id)).collect();
    let applied = braid::plan::applied_set(g, &known);
    // The newest record of each revision applied, and the steps that
    // stopped halfway (newest first: the first seen is the latest).
    let last_up = braid::db::last_applied(&log);
    let mut latest: HashMap<&str, &braid::db::LogEntry> = HashMap::new();
    for e in log.iter().filter(|e| e.statement.is_none()) {
        latest.entry(e.revision.as_str()).or_insert(e);
    }
    // Failed: the last step stopped halfway (outside a transaction), or
    // the last attempt to apply it was rolled back and it is not applied.
    let failed = |id: &str, applied: bool| {
        use braid::db::status::{FAILED, PENDING, ROLLED_BACK};
        latest.get(id).is_some_and(|e| match e.status.as_str() {
            PENDING | FAILED => true,
            ROLLED_BACK => !applied && e.direction == "up",
            _ => false,
        })
    };
    let mut rows = Vec::with_capacity(g.len() + heads.len());
    for n in g.upgrade_order(&vec![true; g.len()]) {
        let id = g.id(n).as_str();
        let state = if failed(id, applied[n.index()]) {
            "failed"
        } else if applied[n.index()] {
            "applied"
        } else {
            "pending"
        };
        let at = last_up.get(id).filter(|_| state == "applied");
        rows.push(Row {
            revision: id,
            state,
            known: Some(Known {
                message: h.message(n),
                applied_at: at.and_then(|e| e.finished_at.as_deref()),
                duration_ms: at.and_then(|e| e.duration_ms),
                run_by: at.and_then(|e| e.run_by.as_deref()),
                how: at.map(|e| e.direction.as_str()),
            }),
        });
    }
    for id in heads.iter().filter(|id| g.node(id).is_none()) {
        rows.push(Row {
            revision: id,
            state: "unknown",
            known: None,
        });
    }
    if args.format == Format::Json {
        out_json(&json!({ "revisions": rows }));
        return Ok(());
    }
    let count = |s: &str| rows.iter().filter(|r| r.state == s).count();
    let mut s = String::with_capacity(rows.len() * 100);
    for r in &rows {
        let k = r.known.as_ref();
        let duration = k
            .and_then(|k| k.duration_ms)
            .map(|ms| format!("{:.2}s", ms as f64 / 1000.0))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "{:<14} {:<8} {:<28} {:>8}  {:<20} {}",
            r.revision,
            r.state,
            k.and_then(|k| k.applied_at).unwrap_or_default(),
            duration,
            k.and_then(|k| k.run_by).unwrap_or_default(),
            k.and_then(|k| k.message).unwrap_or_default(),
        );
    }
    let pending = count("pending");
    let _ = writeln!(
        s,
        "{} applied, {pending} pending revision{}{}{}",
        count("applied"),
        if pending == 1 { "" } else { "s" },
        match count("failed") {
            0 => String::new(),
            n => format!(", {n} failed"),
        },
        match count("unknown") {
            0 => String::new(),
            n => format!(", {n} recorded but unknown to the files"),
        }
    );
    out(&s);
    Ok(())
}

/// One line of `status`.
#[derive(Serialize)]
struct Row<'a> {
    revision: &'a str,
    state: &'static str,
    /// None for a recorded revision no file declares.
    #[serde(flatten)]
    known: Option<Known<'a>>,
}

/// What `status` says of a revision the files declare.
#[derive(Serialize)]
struct Known<'a> {
    message: Option<&'a str>,
    applied_at: Option<&'a str>,
    duration_ms: Option<i64>,
    run_by: Option<&'a str>,
    how: Option<&'a str>,
}
