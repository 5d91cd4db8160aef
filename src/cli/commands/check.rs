//! `braid check`: validates the graph and, with a database, reports
//! pending revisions, recorded revisions the files no longer have, applied
//! files whose checksum changed, and steps that stopped halfway.

use std::io::Write;

use braid::history::HistoryError;
use braid::schema::Filter;
use braid::schema::scratch::Scratch;
use serde_json::{Value, json};

use crate::cli::{CommandError, Ctx, Format, only_formats, out, out_json};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Fail when the history has more than one head (also
    /// `[migrations] single_head = true`).
    #[arg(long = "single-head")]
    single_head: bool,
    /// Report objects changed on two branches as errors, not warnings.
    #[arg(long)]
    strict: bool,
    /// Check the files only, not the database.
    #[arg(long = "no-db")]
    no_db: bool,
    /// Also compare the database's schema with what its recorded revisions
    /// build on a scratch database, and fail naming every object that
    /// differs (objects in `[schema] ignore` left out).
    #[arg(long, conflicts_with = "no_db")]
    drift: bool,
    /// Where the scratch database for `--drift` is made.
    #[arg(long = "dev-url", value_name = "URL")]
    dev_url: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

fn problems_json(e: &HistoryError) -> Vec<Value> {
    match e {
        HistoryError::Load(errors) => errors
            .0
            .iter()
            .map(|l| json!({"message": l.message, "files": [l.path.display().to_string()], "line": l.line, "column": l.column}))
            .collect(),
        HistoryError::Graph(problems) => problems
            .iter()
            .map(|p| json!({"message": p.problem.to_string(), "files": p.paths.iter().map(|x| x.display().to_string()).collect::<Vec<_>>()}))
            .collect(),
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CommandError> {
    only_formats(args.format, &[Format::Text, Format::Json])?;
    let json_out = args.format == Format::Json;
    let h = match braid::history::History::load(&ctx.settings.directories) {
        Ok(h) => h,
        Err(e) => {
            if json_out {
                out_json(&json!({ "ok": false, "problems": problems_json(&e), "database": null }));
            }
            return Err(e.into());
        }
    };
    let g = &h.graph;
    let heads = g.heads();
    let mut errors: Vec<String> = Vec::new();
    // Statements that cannot run as written (errors) and data a downgrade
    // cannot bring back (warnings).
    let lexer = match ctx.settings.url.engine() {
        Ok(engine) => engine.lexer(),
        Err(_) => braid::migration::split::Lexer::SQLITE,
    };
    let lints = braid::lint::lint_history(&h, lexer);
    let engine = ctx
        .settings
        .url
        .engine()
        .unwrap_or(braid::config::Engine::Sqlite);
    let conflicts = braid::conflict::analyze(&h, engine);
    let (lint_errors, lint_warnings): (Vec<_>, Vec<_>) = lints
        .iter()
        .partition(|l| l.severity == braid::lint::Severity::Error);
    let mut hints: Vec<String> = Vec::new();
    for n in g.sorted_nodes() {
        let m = h.migration(*n);
        if let Some(line) = m.untranslated {
            errors.push(format!(
                "revision `{}` is untranslated: {}:{line} has no SQL yet",
                m.id,
                m.path.display()
            ));
        }
    }
    if errors.iter().any(|e| e.contains("is untranslated")) {
        hints.push("write the SQL of each untranslated revision, then remove its `-- braid:untranslated` line".into());
    }
    let single_head = args.single_head || ctx.settings.single_head;
    if single_head && heads.len() > 1 {
        let ids: Vec<&str> = g.ids(&heads).collect();
        errors.push(format!(
            "the history has {} heads ({}); one is required",
            heads.len(),
            ids.join(", ")
        ));
        hints.push(format!(
            "join them with `braid merge -m \"merge heads\" {}`",
            ids.join(" ")
        ));
    }
    let mut database = Value::Null;
    let mut findings: Vec<braid::lint::safety::Finding> = Vec::new();
    let mut drift_notes: Vec<String> = Vec::new();
    if !args.no_db && ctx.has_database() {
        let mut db = ctx.connect().await?;
        let ins = braid::execute::inspect(&mut db, &h).await;
        // The safety lint on what the database has still to run, with its
        // table sizes (SPEC §12); errors fail the check.
        if let Ok(ins) = &ins {
            let sections: Vec<_> = ins
                .pending
                .iter()
                .map(|n| (*n, braid::revision::Direction::Up))
                .collect();
            let report = ctx.lint(&h, &sections, Some(&mut db)).await?;
            for f in report.findings {
                // Already an error of the checks above (it cannot run).
                let twice = f.rule == "concurrently-in-transaction"
                    && lint_errors
                        .iter()
                        .any(|l| l.path == f.file && l.line == f.line);
                if !twice {
                    findings.push(f);
                }
            }
        }
        let filter = Filter::for_settings(&ctx.settings);
        let live = if args.drift && ins.is_ok() {
            Some(braid::schema::introspect(&mut db, &filter).await)
        } else {
            None
        };
        db.close().await;
        let ins = ins?;
        if let Some(live) = live {
            let live = live.map_err(|e| {
                CommandError::new("cannot read the database's schema").cause(e.message)
            })?;
            let heads: Vec<braid::graph::Node> =
                ins.heads.iter().filter_map(|id| g.node(id)).collect();
            let mut scratch = Scratch::on(&ctx.settings, args.dev_url.as_deref(), None).await?;
            let expected = braid::verify::expected(&mut scratch.db, &h, &heads, &filter).await;
            let dropped = scratch.drop().await;
            let expected = expected.map_err(CommandError::from)?;
            if let Err(e) = dropped {
                return Err(CommandError::new("cannot drop the scratch database").cause(e.message));
            }
            // Skeema's self-check: what the live schema's own SQL does not
            // give back is reported, not compared.
            let mut checker = Scratch::on(&ctx.settings, args.dev_url.as_deref(), None).await?;
            let unsupported = braid::schema::self_check(&live, &mut checker.db, &filter).await;
            let dropped = checker.drop().await;
            let unsupported = unsupported.map_err(|e| {
                CommandError::new("cannot check the schema's SQL form on a scratch database")
                    .cause(e.message)
            })?;
            if let Err(e) = dropped {
                return Err(CommandError::new("cannot drop the scratch database").cause(e.message));
            }
            for u in &unsupported {
                drift_notes.push(format!(
                    "{u}: braid cannot read it faithfully, not compared"
                ));
            }
            for d in braid::schema::compare::compare(&expected, &live) {
                if unsupported
                    .iter()
                    .any(|u| braid::schema::compare::within(&d.object, u))
                {
                    continue;
                }
                let text = d.describe(
                    "is in the database but not in the migrations",
                    "is in the migrations but not in the database",
                );
                if d.strict_only {
                    drift_notes.push(format!("drift: {text}"));
                } else {
                    errors.push(format!("drift: {text}"));
                }
            }
        }
        if !ins.unknown.is_empty() {
            errors.push(format!(
                "the database records revisions that no migration file declares: {}",
                ins.unknown.join(", ")
            ));
        }
        for c in &ins.changed {
            errors.push(format!(
                "applied file changed: {} ({}): recorded {}, now {}",
                c.revision,
                c.path.display(),
                c.recorded,
                c.current
            ));
        }
        if !ins.changed.is_empty() {
            hints.push(
                "restore the files as they ran, or accept the new content with `braid accept`"
                    .into(),
            );
        }
        for b in &ins.blocked {
            errors.push(format!(
                "revision {} stopped halfway ({} started {}, status {})",
                b.revision, b.direction, b.started_at, b.status
            ));
            hints.push(if braid::execute::resumable(&h, b) {
                format!(
                    "its file is unchanged: `braid upgrade` continues {} at the first statement it did not complete (or settle it by hand with `braid resolve {} --applied` or `--reverted`)",
                    b.revision, b.revision
                )
            } else {
                format!(
                    "fix the database by hand, then `braid resolve {} --applied` or `--reverted`",
                    b.revision
                )
            });
        }
        database = json!({
            "url": ctx.settings.url.to_string(),
            "current": ins.heads,
            "pending": g.ids(&ins.pending).collect::<Vec<_>>(),
            "unknown": ins.unknown,
            "changed": ins.changed.iter().map(|c| json!({
                "revision": c.revision,
                "path": c.path.display().to_string(),
                "recorded": c.recorded,
                "current": c.current,
            })).collect::<Vec<_>>(),
            "blocked": ins.blocked.iter().map(|b| json!({
                "revision": b.revision, "direction": b.direction, "status": b.status, "started_at": b.started_at,
            })).collect::<Vec<_>>(),
        });
    }
    let unsafe_errors = findings
        .iter()
        .filter(|f| f.severity == braid::lint::Severity::Error)
        .count();
    let lint_json = |l: &braid::lint::Lint| json!({"message": l.message, "revision": l.revision, "file": l.path.display().to_string(), "line": l.line});
    if json_out {
        let mut problems: Vec<Value> = errors.iter().map(|e| json!({"message": e})).collect();
        problems.extend(lint_errors.iter().map(|l| lint_json(l)));
        out_json(&json!({
            "ok": errors.is_empty() && lint_errors.is_empty() && (!args.strict || conflicts.is_empty()) && unsafe_errors == 0,
            "warnings": lint_warnings.iter().map(|l| lint_json(l)).collect::<Vec<_>>(),
            "conflicts": conflicts.iter().map(|c| json!({
                "object": c.object.to_string(),
                "revisions": c.revisions,
                "merge": c.merge,
                "message": c.to_string(),
            })).collect::<Vec<_>>(),
            "revisions": g.len(),
            "heads": g.ids(&heads).collect::<Vec<_>>(),
            "bases": g.ids(&g.bases()).collect::<Vec<_>>(),
            "problems": problems,
            "database": database,
            "findings": findings,
        }));
    } else {
        let mut s = format!(
            "{} revisions, {} head{} ({}), {} base{}\n",
            g.len(),
            heads.len(),
            if heads.len() == 1 { "" } else { "s" },
            g.ids(&heads).collect::<Vec<_>>().join(", "),
            g.bases().len(),
            if g.bases().len() == 1 { "" } else { "s" },
        );
        if let Some(db) = database.as_object() {
            let current = db["current"].as_array().map(|a| a.len()).unwrap_or(0);
            let pending: Vec<&str> = db["pending"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            s.push_str(&format!(
                "database {}: {} current head{}, {} pending revision{}{}\n",
                db["url"].as_str().unwrap_or_default(),
                current,
                if current == 1 { "" } else { "s" },
                pending.len(),
                if pending.len() == 1 { "" } else { "s" },
                if pending.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", pending.join(", "))
                }
            ));
        }
        out(&s);
    }
    if !json_out && !ctx.quiet {
        let mut stderr = std::io::stderr().lock();
        for l in &lint_warnings {
            crate::cli::error::print_warning(l, &mut stderr);
        }
        for f in &findings {
            let _ = write!(stderr, "{}", crate::cli::error::finding_text(f));
        }
        for n in &drift_notes {
            let _ = writeln!(stderr, "note: {n}");
        }
        if !args.strict {
            for c in &conflicts {
                let _ = writeln!(stderr, "warning: {c}");
            }
        }
    }
    if args.strict {
        errors.extend(conflicts.iter().map(|c| c.to_string()));
    }
    if unsafe_errors > 0 {
        errors.push(format!(
            "`braid lint`: {unsafe_errors} statement{} of pending revisions would lock or rewrite a large table",
            if unsafe_errors == 1 { "" } else { "s" }
        ));
    }
    let count = errors.len() + lint_errors.len();
    if count == 0 {
        if !json_out {
            ctx.note("ok");
        }
        return Ok(());
    }
    let mut e = CommandError::new(format!(
        "check failed ({count} problem{})",
        if count == 1 { "" } else { "s" }
    ));
    e.before = lint_errors
        .iter()
        .map(|l| crate::cli::error::lint_error(l))
        .collect();
    e.before.extend(errors.into_iter().map(CommandError::new));
    e.hints = hints;
    Err(e)
}
