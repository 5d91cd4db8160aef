//! `braid diff FROM TO`: the SQL that turns one schema into another, proven
//! on a scratch database in both directions before it is printed (the
//! building and proving are `braid::schema::source`'s).

use braid::schema::scratch::Scratch;
use braid::schema::source::{self, Source};
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

async fn work(ctx: &Ctx, args: &Args, scratches: &mut Vec<Scratch>) -> Result<bool, CommandError> {
    let dev = args.dev_url.as_deref();
    let from = Source::parse(&args.from, &ctx.cwd)?;
    let to = Source::parse(&args.to, &ctx.cwd)?;
    // The history, only when a source needs it.
    let needs = |s: &Source| matches!(s, Source::Migrations(_));
    let h = if needs(&from) || needs(&to) {
        Some(ctx.history()?)
    } else {
        None
    };
    let (from, to) =
        source::build_pair(&ctx.settings, &from, &to, h.as_ref(), dev, scratches).await?;
    let scripts = source::scripts(&ctx.settings, &from, &to, dev, scratches).await?;
    ctx.proof_note(scripts.proof.as_ref());
    let (up, notes) = (scripts.up, scripts.notes);
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
    ctx.warn_script(&up, &notes);
    Ok(!up.is_empty())
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CommandError> {
    let mut scratches = Vec::new();
    let result = work(ctx, &args, &mut scratches).await;
    let dropped = source::drop_all(scratches)
        .await
        .map_err(CommandError::dropping);
    let differ = result?;
    dropped?;
    if differ && args.exit_code {
        return Err(CommandError::new("the schemas differ").quiet_exit());
    }
    Ok(())
}
