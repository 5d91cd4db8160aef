//! `braid lint [-r RANGE] [--format text|json|gcc|github]`: what the
//! statements of the pending revisions (or RANGE) do to a large, busy
//! table (SPEC §12). Exit 1 when an error finding remains.

use braid::graph::Node;
use braid::lint::safety::Report;
use braid::revision::Direction;
use serde_json::json;

use crate::cli::{CommandError, Ctx, out, out_json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LintFormat {
    /// As rustc prints diagnostics.
    Text,
    /// `{"findings": [...]}`.
    Json,
    /// `file:line:1: error: message [rule]`, for editors.
    Gcc,
    /// GitHub Actions annotations (`::error file=…,line=…::…`).
    Github,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    // Default: the revisions not applied on the database, or all of them
    // when it cannot be reached.
    #[command(flatten)]
    range: crate::cli::RangeArg,
    /// List the rules and exit.
    #[arg(long)]
    rules: bool,
    #[arg(long, value_enum, default_value = "text")]
    format: LintFormat,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CommandError> {
    if args.rules {
        let mut s = String::new();
        for r in braid::lint::rules::RULES {
            let engines: Vec<&str> = r.engines.iter().map(|e| e.name()).collect();
            s.push_str(&format!(
                "{:<36} {:<28} {}\n",
                r.name,
                engines.join(", "),
                r.summary
            ));
        }
        out(&s);
        return Ok(());
    }
    let h = ctx.history()?;
    let g = &h.graph;
    // A database when one is there and answers; lint runs without one.
    let mut db = None;
    let mut unreachable = None;
    if ctx.has_database() {
        match ctx.connect().await {
            Ok(d) => db = Some(d),
            Err(e) => unreachable = Some(e.message),
        }
    }
    let nodes: Vec<Node> = match (&args.range.range, db.as_mut()) {
        (Some(range), _) => {
            let mut current = None;
            let include = crate::cli::range(ctx, &h, range, &mut current).await?;
            g.sorted_nodes()
                .iter()
                .copied()
                .filter(|n| include[n.index()])
                .collect()
        }
        (None, Some(db)) => braid::execute::inspect(db, &h).await?.pending,
        (None, None) => g.sorted_nodes().to_vec(),
    };
    let sections: Vec<(Node, Direction)> = nodes
        .iter()
        .flat_map(|n| [(*n, Direction::Up), (*n, Direction::Down)])
        .filter(|(n, d)| h.migration(*n).section(*d).is_some())
        .collect();
    let report = ctx.lint(&h, &sections, db.as_mut()).await?;
    if let Some(db) = db {
        db.close().await;
    }
    if let Some(why) = &unreachable {
        ctx.note(&format!(
            "the database could not be reached ({why}): linted without table sizes, by {}",
            match &ctx.settings.lint.server_version {
                Some(v) => format!("[lint] server_version = \"{v}\""),
                None => "the rules of every server version".to_owned(),
            }
        ));
    }
    print(ctx, &report, args.format, nodes.len());
    let errors = report.errors();
    if errors > 0 {
        return Err(CommandError::new(format!(
            "{errors} finding{} of severity error",
            if errors == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

fn print(ctx: &Ctx, report: &Report, format: LintFormat, revisions: usize) {
    match format {
        LintFormat::Json => out_json(&json!({
            "findings": report.findings,
            "unparsed": report.unparsed,
        })),
        LintFormat::Gcc => {
            let mut s = String::new();
            for f in &report.findings {
                s.push_str(&format!(
                    "{}:{}:1: {}: {} [{}]\n",
                    f.file.display(),
                    f.line,
                    f.severity.as_str(),
                    f.message,
                    f.rule
                ));
            }
            out(&s);
        }
        LintFormat::Github => {
            // Workflow commands: `%`, CR and LF escaped in the message,
            // also `:` and `,` in properties.
            let esc = |s: &str| {
                s.replace('%', "%25")
                    .replace('\r', "%0D")
                    .replace('\n', "%0A")
            };
            let prop = |s: &str| esc(s).replace(':', "%3A").replace(',', "%2C");
            let mut s = String::new();
            for f in &report.findings {
                s.push_str(&format!(
                    "::{} file={},line={},title={}::{}\n",
                    f.severity.as_str(),
                    prop(&f.file.display().to_string()),
                    f.line,
                    prop(&format!("braid lint: {}", f.rule)),
                    esc(&format!("{}\nfix: {}", f.message, f.fix))
                ));
            }
            out(&s);
        }
        LintFormat::Text => {
            let mut s = String::new();
            for f in &report.findings {
                s.push_str(&crate::cli::error::finding_text(f));
                s.push('\n');
            }
            out(&s);
            for u in &report.unparsed {
                ctx.note(&format!(
                    "{}:{}: read by keywords (sqlparser: {})",
                    u.file.display(),
                    u.line,
                    u.error
                ));
            }
            let errors = report.errors();
            ctx.note(&format!(
                "{} revision{} linted: {} error{}, {} warning{}",
                revisions,
                if revisions == 1 { "" } else { "s" },
                errors,
                if errors == 1 { "" } else { "s" },
                report.findings.len() - errors,
                if report.findings.len() - errors == 1 {
                    ""
                } else {
                    "s"
                }
            ));
        }
    }
}
