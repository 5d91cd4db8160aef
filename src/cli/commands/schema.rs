//! `braid schema` (the database's schema, SQL or JSON) and `braid verify`
//! (every revision up, down and up again on a scratch database, the schema
//! compared at each step).

use std::io::Write;

use braid::schema::scratch::Scratch;
use braid::schema::{self, Filter};
use braid::verify::{self, Report, Status};
use serde_json::json;

use crate::cli::{CommandError, Ctx, Format, SchemaFormat, only_formats, out, out_json};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// `sql` (default: the DDL that rebuilds the schema) or `json`.
    #[arg(long, value_enum, default_value = "sql")]
    format: SchemaFormat,
    /// Apply the SQL form to a scratch database and read it back: list
    /// the objects that do not come back equal (exit 1 if any).
    #[arg(long = "self-check")]
    self_check: bool,
    /// Where the scratch database for `--self-check` is made.
    #[arg(long = "dev-url", value_name = "URL")]
    dev_url: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// Test only the revisions in `[START]:[END]` (the others are applied
    /// untested): `-r ae10:`, `-r :auth@head`.
    #[arg(short = 'r', long = "rev-range", value_name = "RANGE")]
    range: Option<String>,
    /// Where scratch databases are made (default: `[schema] dev_url`, else
    /// the URL's server; SQLite in memory).
    #[arg(long = "dev-url", value_name = "URL")]
    dev_url: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CommandError> {
    if !ctx.has_database() {
        return Err(
            CommandError::new(format!("no database at {}", ctx.settings.url))
                .hint("`braid upgrade heads` creates it"),
        );
    }
    let mut db = ctx.connect().await?;
    let snap = schema::introspect(&mut db, &Filter::for_settings(&ctx.settings)).await;
    db.close().await;
    let snap =
        snap.map_err(|e| CommandError::new("cannot read the database's schema").cause(e.message))?;
    if args.self_check {
        let mut scratch = Scratch::on(&ctx.settings, args.dev_url.as_deref(), None).await?;
        let found =
            schema::self_check(&snap, &mut scratch.db, &Filter::for_settings(&ctx.settings)).await;
        let dropped = scratch.drop().await;
        let found = found.map_err(|e| {
            CommandError::new("the schema's SQL form does not run on a scratch database")
                .cause(e.message)
        })?;
        if let Err(e) = dropped {
            return Err(CommandError::new("cannot drop the scratch database").cause(e.message));
        }
        if found.is_empty() {
            ctx.note("self-check: the SQL form gives back the same schema");
            return Ok(());
        }
        let mut e = CommandError::new(format!(
            "self-check: {} object{} braid cannot read faithfully",
            found.len(),
            if found.len() == 1 { "" } else { "s" }
        ));
        e.causes = found;
        return Err(e);
    }
    match args.format {
        SchemaFormat::Sql => {
            let mut text = String::new();
            for u in &snap.unsupported {
                text.push_str(&format!("-- {u}\n"));
            }
            if !snap.unsupported.is_empty() {
                text.push('\n');
            }
            text.push_str(&snap.to_sql());
            out(&text)
        }
        SchemaFormat::Json => out(&snap.to_json()),
    }
    Ok(())
}

/// The revisions a `-r START:END` range names: START and its descendants,
/// up to END and its ancestors.
fn included(h: &braid::history::History, range: Option<&str>) -> Result<Vec<bool>, CommandError> {
    let g = &h.graph;
    let mut include = vec![true; g.len()];
    let Some(range) = range else {
        return Ok(include);
    };
    let (start, end) = range.split_once(':').ok_or_else(|| {
        CommandError::new(format!("invalid range `{range}`: expected `[START]:[END]`"))
            .hint("for example `-r ae10:`, `-r :auth@head`, `-r base:heads`")
    })?;
    if !start.is_empty() && start != "base" {
        let t = braid::target::parse(start)?;
        let from = braid::target::resolve_upgrade(g, &[], &t)?;
        include = g.descendants(from, false);
    }
    if !end.is_empty() {
        let t = braid::target::parse(end)?;
        let to = braid::target::resolve_upgrade(g, &[], &t)?;
        for (i, b) in g.ancestors(to, true).iter().enumerate() {
            include[i] &= *b;
        }
    }
    Ok(include)
}

fn print_report(r: &Report, quiet: bool) {
    let mut err = std::io::stderr().lock();
    let word = match r.status {
        Status::Ok => "ok",
        Status::NotRestored => "NOT RESTORED",
        Status::Irreversible => "irreversible (no down section)",
        Status::Failed => "FAILED",
    };
    if quiet && matches!(r.status, Status::Ok | Status::Irreversible) {
        return;
    }
    let _ = writeln!(err, "{} {word}", r.revision);
    if r.status != Status::Ok {
        let _ = writeln!(err, "  --> {}", r.file.display());
    }
    for f in &r.differences {
        let _ = writeln!(err, "  after {}: {}", f.after, f.text);
    }
    for f in &r.notes {
        let _ = writeln!(err, "  note: after {}: {}", f.after, f.text);
    }
    if let Some(e) = &r.error {
        let _ = writeln!(err, "  {e}");
    }
}

pub async fn verify(ctx: &Ctx, args: VerifyArgs) -> Result<(), CommandError> {
    only_formats(args.format, &[Format::Text, Format::Json])?;
    let h = ctx.history()?;
    let include = included(&h, args.range.as_deref())?;
    let mut scratch = Scratch::on(&ctx.settings, args.dev_url.as_deref(), None).await?;
    let json_out = args.format == Format::Json;
    let quiet = ctx.quiet;
    let result = verify::stairway(
        &mut scratch.db,
        &h,
        &include,
        &Filter::for_settings(&ctx.settings),
        &mut |r| {
            if !json_out {
                print_report(r, quiet);
            }
        },
    )
    .await;
    let dropped = scratch.drop().await;
    let reports = result.map_err(CommandError::from)?;
    if let Err(e) = dropped {
        return Err(CommandError::new("cannot drop the scratch database").cause(e.message));
    }
    let bad: Vec<&Report> = reports
        .iter()
        .filter(|r| matches!(r.status, Status::NotRestored | Status::Failed))
        .collect();
    if json_out {
        out_json(&json!({ "revisions": reports }));
    } else {
        let tested = reports.len();
        ctx.note(&format!(
            "{} revision{} checked: {} not restored, {} failed, {} irreversible",
            tested,
            if tested == 1 { "" } else { "s" },
            reports
                .iter()
                .filter(|r| r.status == Status::NotRestored)
                .count(),
            reports
                .iter()
                .filter(|r| r.status == Status::Failed)
                .count(),
            reports
                .iter()
                .filter(|r| r.status == Status::Irreversible)
                .count(),
        ));
    }
    if bad.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = bad.iter().map(|r| r.revision.as_str()).collect();
    Err(CommandError::new(format!(
        "verify failed: {} ({})",
        if bad.len() == 1 {
            "1 revision".to_owned()
        } else {
            format!("{} revisions", bad.len())
        },
        names.join(", ")
    )))
}
