//! `braid diff FROM TO`: the SQL that turns one schema into another, proven
//! on a scratch database in both directions before it is printed. Also the
//! schema building `revision --autogenerate` shares.

use std::io::Write;
use std::path::PathBuf;

use braid::autogen::{self, AutogenError};
use braid::execute::{self, Options, Request, Silent};
use braid::schema::diff::{Renames, Script};
use braid::schema::scratch::Scratch;
use braid::schema::{self, Filter, Snapshot};
use serde_json::json;

use crate::cli::{CommandError, Ctx, SchemaFormat, out, out_json};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The schema to start from: `migrations` (every revision to the one
    /// head applied on a scratch database), `migrations@TARGET`,
    /// `database` (the database at the URL), another database's URL (of
    /// the same engine), `schema` (`[schema] desired`), or a `.sql` file
    /// or a directory of them.
    from: String,
    /// The schema to reach, as FROM.
    to: String,
    /// `sql` (default) or `json`.
    #[arg(long, value_enum, default_value = "sql")]
    format: SchemaFormat,
    /// Exit 1 when the schemas differ, as `git diff --exit-code`.
    #[arg(long = "exit-code")]
    exit_code: bool,
    /// Where scratch databases are made.
    #[arg(long = "dev-url", value_name = "URL")]
    dev_url: Option<String>,
}

/// A schema built from a source: its snapshot, the renames its files
/// declare, and the scratch database that holds it (none for a database).
pub struct Built {
    pub snap: Snapshot,
    pub renames: Renames,
    pub scratch: Option<usize>,
    /// A PostgreSQL database read as it is (`database`, a URL), small
    /// enough that the proof's scratch database may be a copy of it.
    pub template: Option<String>,
}

/// Databases up to this size are copied for the proof instead of being
/// rebuilt from their SQL form; a larger one (data) is not copied.
const TEMPLATE_LIMIT: u64 = 64 << 20;

pub fn autogen_error(e: AutogenError) -> CommandError {
    match e {
        AutogenError::Statement {
            path,
            line,
            statement,
            error,
        } => CommandError::new(format!("the desired schema does not build: {}", error.message))
            .at(format!("{}:{line}", path.display()))
            .cause(format!("statement: {}", statement.trim())),
        AutogenError::Apply {
            direction,
            statement,
            error,
        } => CommandError::new(format!(
            "braid cannot express this change: the generated {direction} script fails on a scratch database: {}",
            error.message
        ))
        .cause(format!("statement: {statement}")),
        AutogenError::NotProven {
            direction,
            differences,
        } => {
            let mut e = CommandError::new(format!(
                "braid cannot express this change: the generated {direction} script, applied on a scratch database, does not reach the schema it should"
            ));
            e.causes = differences;
            e
        }
        e => CommandError::new(e.to_string()),
    }
}

/// Builds a schema source, pushing the scratch database it made (if any)
/// onto `scratches`: the caller drops them all, whatever happens.
pub async fn build(
    ctx: &Ctx,
    source: &str,
    dev_url: Option<&str>,
    scratches: &mut Vec<Scratch>,
) -> Result<Built, CommandError> {
    let mut slot = None;
    let built = build_into(ctx, source, dev_url, &mut slot).await;
    keep(built, slot, scratches)
}

/// Files the scratch database a build made, whatever the build's result.
fn keep(
    built: Result<Built, CommandError>,
    slot: Option<Scratch>,
    scratches: &mut Vec<Scratch>,
) -> Result<Built, CommandError> {
    let index = slot.map(|s| {
        scratches.push(s);
        scratches.len() - 1
    });
    built.map(|b| Built {
        scratch: b.scratch.and(index),
        ..b
    })
}

/// Builds two sources at once (each on its own connection: a large schema
/// takes the server seconds to build).
pub async fn build_pair(
    ctx: &Ctx,
    a: &str,
    b: &str,
    dev_url: Option<&str>,
    scratches: &mut Vec<Scratch>,
) -> Result<(Built, Built), CommandError> {
    let (mut slot_a, mut slot_b) = (None, None);
    let (built_a, built_b) = tokio::join!(
        build_into(ctx, a, dev_url, &mut slot_a),
        build_into(ctx, b, dev_url, &mut slot_b)
    );
    let a = keep(built_a, slot_a, scratches);
    let b = keep(built_b, slot_b, scratches);
    Ok((a?, b?))
}

/// Builds one source; the scratch database it makes goes into `slot`
/// before anything can fail on it.
async fn build_into(
    ctx: &Ctx,
    source: &str,
    dev_url: Option<&str>,
    slot: &mut Option<Scratch>,
) -> Result<Built, CommandError> {
    let filter = Filter::for_settings(&ctx.settings);
    if source == "database" || source.contains("://") {
        return read_database(ctx, source, dev_url, &filter).await;
    }
    let paths: Vec<PathBuf> = if source == "schema" {
        if ctx.settings.schema_desired.is_empty() {
            return Err(CommandError::new("no desired schema is configured").hint(
                "list its files or directories in `[schema] desired = [\"schema\"]` in braid.toml",
            ));
        }
        ctx.settings.schema_desired.clone()
    } else if source == "migrations" || source.starts_with("migrations@") {
        Vec::new()
    } else if source.ends_with(".sql") || ctx.cwd.join(source).is_dir() {
        vec![ctx.cwd.join(source)]
    } else {
        return Err(CommandError::new(format!(
            "unknown schema source `{source}`: expected `migrations`, `migrations@TARGET`, `database`, a database URL, `schema`, or a .sql file or directory"
        )));
    };
    let migrations = (source == "migrations" || source.starts_with("migrations@")).then(|| {
        source
            .strip_prefix("migrations@")
            .unwrap_or("head")
            .to_owned()
    });
    // Resolve what can fail without a database first.
    let plan = match &migrations {
        Some(target) => {
            let h = ctx.history()?;
            let t = braid::target::parse(target)?;
            // No revision yet: the migrations build an empty schema.
            if !h.graph.is_empty() {
                braid::target::resolve_upgrade(&h.graph, &[], &t)?;
            }
            Some((h, t))
        }
        None => None,
    };
    let db = &mut slot
        .insert(Scratch::on(&ctx.settings, dev_url, None).await?)
        .db;
    let renames = match plan {
        Some((h, t)) => {
            if !h.graph.is_empty() {
                execute::run(
                    db,
                    &h,
                    Request::Upgrade(&t),
                    &Options::default(),
                    &mut Silent,
                )
                .await
                .map_err(|e| CommandError::from(braid::verify::VerifyError::from(e)))?;
            }
            Renames::default()
        }
        None => autogen::load_files(db, &paths)
            .await
            .map_err(autogen_error)?,
    };
    let snap = schema::introspect(db, &filter).await.map_err(|e| {
        CommandError::new("cannot read the scratch database's schema").cause(e.message)
    })?;
    Ok(Built {
        snap,
        renames,
        // Set to its place in the caller's list by `keep`.
        scratch: Some(usize::MAX),
        template: None,
    })
}

/// A database read as it is: `database` (the configured one) or a URL of
/// the configured engine (another database, as migra compares two).
async fn read_database(
    ctx: &Ctx,
    source: &str,
    dev_url: Option<&str>,
    filter: &schema::Filter,
) -> Result<Built, CommandError> {
    let mut settings = ctx.settings.clone();
    if source != "database" {
        settings.url = braid::config::DatabaseUrl::parse(source)
            .map_err(|m| CommandError::new(format!("invalid schema source URL: {m}")))?;
        let (want, got) = (ctx.settings.url.engine(), settings.url.engine());
        if want.is_ok() && got != want {
            return Err(CommandError::new(format!(
                "schema source {} is not a {} database like {}: diff compares schemas of one engine",
                settings.url,
                want.map(|e| e.name()).unwrap_or_default(),
                ctx.settings.url
            )));
        }
    } else if !ctx.has_database() {
        return Err(CommandError::new(format!(
            "no database at {}",
            ctx.settings.url
        )));
    }
    let mut db = braid::db::Db::connect(&settings).await.map_err(|e| {
        CommandError::new(format!("cannot connect to {}", settings.url)).cause(e.message)
    })?;
    let snap = schema::introspect(&mut db, filter).await;
    // Copied only on the server where scratch databases are made: a
    // database of the same name elsewhere is another database.
    let dev = dev_url
        .or(ctx.settings.dev_url.as_deref())
        .unwrap_or(ctx.settings.url.expose());
    let template = if same_server(settings.url.expose(), dev) {
        braid::schema::scratch::copyable(&mut db, TEMPLATE_LIMIT).await
    } else {
        None
    };
    db.close().await;
    let snap = snap.map_err(|e| {
        CommandError::new(format!("cannot read the schema of {}", settings.url)).cause(e.message)
    })?;
    Ok(Built {
        snap,
        renames: Renames::default(),
        scratch: None,
        template,
    })
}

/// The up and down scripts from `from` to `to`, proven on a scratch
/// database holding `from` (made from its SQL form when it has none).
/// Returns the notes strict equality adds.
pub async fn scripts(
    ctx: &Ctx,
    from: &Built,
    to: &Built,
    dev_url: Option<&str>,
    scratches: &mut Vec<Scratch>,
) -> Result<(Script, Script, Vec<String>), CommandError> {
    let renames = &to.renames;
    let up = schema::diff::diff(&from.snap, &to.snap, renames);
    if !up.unsupported.is_empty() {
        let mut e = CommandError::new("braid cannot express these changes");
        e.causes = up.unsupported.clone();
        return Err(e);
    }
    if up.is_empty() {
        return Ok((up, Script::default(), Vec::new()));
    }
    let index = match from.scratch {
        Some(i) => i,
        None => {
            // A copy of the database itself where the server allows it
            // (nobody else connected, the same server), its rows emptied:
            // the proof runs on empty tables. Else its SQL form.
            // Which way the proof went is said: the two ways prove
            // different things (the copy has the database's own objects).
            let copy = match &from.template {
                Some(name) => match Scratch::on(&ctx.settings, dev_url, Some(name)).await {
                    Ok(copy) => {
                        ctx.note(&format!(
                            "proving the script on a copy of database {name}, its rows emptied"
                        ));
                        Some(copy)
                    }
                    Err(e) => {
                        ctx.note(&format!(
                            "proving the script on database {name}'s schema rebuilt from SQL: it could not be copied ({e})"
                        ));
                        None
                    }
                },
                None => None,
            };
            // Filed before anything can fail on it: the caller drops it.
            let copied = copy.is_some();
            scratches.push(match copy {
                Some(s) => s,
                None => Scratch::on(&ctx.settings, dev_url, None).await?,
            });
            let i = scratches.len() - 1;
            let db = &mut scratches[i].db;
            let built = if copied {
                let tables = from.snap.tables.keys().map(String::as_str);
                braid::schema::scratch::empty(db, tables)
                    .await
                    .map_err(|e| ("cannot empty the copy of the database", e))
            } else {
                autogen::run_sql(db, &from.snap.to_sql())
                    .await
                    .map_err(|e| {
                        (
                            "cannot build the database's schema on a scratch database",
                            e,
                        )
                    })
            };
            built.map_err(|(what, e)| CommandError::new(what).cause(e.message))?;
            i
        }
    };
    let (down, notes) = autogen::prove(
        &mut scratches[index].db,
        &from.snap,
        &to.snap,
        &up,
        renames,
        &Filter::for_settings(&ctx.settings),
    )
    .await
    .map_err(autogen_error)?;
    if !down.unsupported.is_empty() {
        let mut e = CommandError::new("braid cannot express the way back");
        e.causes = down.unsupported.clone();
        return Err(e);
    }
    Ok((up, down, notes))
}

/// Whether two URLs name the same server (host and port).
fn same_server(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => a.host_str() == b.host_str() && a.port() == b.port(),
        _ => false,
    }
}

/// Warnings about a script on stderr: data loss, risks, rename hints.
pub fn warn(ctx: &Ctx, script: &Script, notes: &[String]) {
    if ctx.quiet {
        return;
    }
    let mut err = std::io::stderr().lock();
    for l in script.losses() {
        let _ = writeln!(err, "warning: data loss: {l}");
    }
    for r in script.risks() {
        let _ = writeln!(err, "warning: may fail: {r}");
    }
    for h in &script.hints {
        let _ = writeln!(err, "hint: {h}");
    }
    for n in notes {
        let _ = writeln!(err, "note: {n}");
    }
}

pub async fn drop_all(scratches: Vec<Scratch>) -> Result<(), CommandError> {
    let mut failed = None;
    for s in scratches {
        if let Err(e) = s.drop().await {
            failed = Some(e);
        }
    }
    match failed {
        Some(e) => Err(CommandError::new("cannot drop a scratch database").cause(e.message)),
        None => Ok(()),
    }
}

async fn work(ctx: &Ctx, args: &Args, scratches: &mut Vec<Scratch>) -> Result<bool, CommandError> {
    let dev = args.dev_url.as_deref();
    let (from, to) = build_pair(ctx, &args.from, &args.to, dev, scratches).await?;
    let (up, _down, notes) = scripts(ctx, &from, &to, dev, scratches).await?;
    match args.format {
        SchemaFormat::Sql => out(&up.to_sql()),
        SchemaFormat::Json => out_json(&json!({
            "equal": up.is_empty(),
            "statements": up.statements.iter().map(|s| json!({
                "sql": s.sql,
                "phase": format!("{:?}", s.phase),
                "data_loss": s.loss,
                "may_fail": s.risk,
            })).collect::<Vec<_>>(),
            "hints": up.hints,
            "notes": notes,
        })),
    }
    warn(ctx, &up, &notes);
    Ok(!up.is_empty())
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CommandError> {
    let mut scratches = Vec::new();
    let result = work(ctx, &args, &mut scratches).await;
    let dropped = drop_all(scratches).await;
    let differ = result?;
    dropped?;
    if differ && args.exit_code {
        return Err(CommandError::new("the schemas differ").quiet_exit());
    }
    Ok(())
}
