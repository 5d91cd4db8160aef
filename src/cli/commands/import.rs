//! `braid import alembic VERSIONS_DIR`: an Alembic project's revisions as
//! braid files with the same ids, and a braid.toml that takes over the
//! database Alembic managed (its `alembic_version` table stays).

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use braid::config::Engine;
use braid::import::{self, ImportError};

use crate::cli::{CommandError, Ctx, out};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    tool: Tool,
}

#[derive(clap::Subcommand, Debug)]
enum Tool {
    /// Read an Alembic versions directory (without running it) and write
    /// one braid file per revision.
    Alembic(AlembicArgs),
}

#[derive(clap::Args, Debug)]
pub struct AlembicArgs {
    /// The Alembic versions directory (read recursively).
    versions: PathBuf,
    /// Where the braid files go.
    #[arg(long, value_name = "DIR", default_value = "migrations")]
    out: PathBuf,
    /// The project's alembic.ini: each revision's SQL comes from Alembic's
    /// offline mode, in the dialect of the database URL's engine.
    #[arg(long = "alembic-ini", value_name = "FILE")]
    alembic_ini: Option<PathBuf>,
    /// The Python that has the project's Alembic (default: the project's
    /// .venv or venv beside alembic.ini, else python3).
    #[arg(long, value_name = "PATH")]
    python: Option<PathBuf>,
    /// A value for a name the revision files take from the project's own
    /// code (`--define cli.EXPAND_BRANCH=expand`), repeatable.
    #[arg(long = "define", value_name = "NAME=VALUE")]
    defines: Vec<String>,
    /// The schema of the version table (default: env.py's
    /// `version_table_schema`).
    #[arg(long)]
    schema: Option<String>,
    /// Overwrite a non-empty output directory and an existing braid.toml.
    #[arg(long)]
    force: bool,
}

fn files_error(errors: Vec<import::alembic::FileError>) -> CommandError {
    let mut e = CommandError::new(format!(
        "{} problem{} in the Alembic revision files; nothing was written",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    ));
    e.before = errors
        .iter()
        .map(|f| {
            let loc = match f.line {
                Some(l) => format!("{}:{l}", f.path.display()),
                None => f.path.display().to_string(),
            };
            CommandError::new(f.message.clone()).at(loc)
        })
        .collect();
    e
}

fn import_error(e: ImportError) -> CommandError {
    match e {
        ImportError::Files(errors) => files_error(errors),
        ImportError::Alembic { ini, message } => CommandError::new(format!(
            "Alembic could not run the project: {message}; nothing was written"
        ))
        .at(ini.display().to_string())
        .hint("check --alembic-ini and that --python has the project's Alembic (or import without --alembic-ini: headers only)"),
        e => CommandError::new(e.to_string()),
    }
}

pub fn run(ctx: &Ctx, args: Args) -> Result<(), CommandError> {
    let Tool::Alembic(args) = args.tool;
    let mut defines = HashMap::new();
    for d in &args.defines {
        let (k, v) = d.split_once('=').ok_or_else(|| {
            CommandError::new(format!("invalid --define `{d}`: expected NAME=VALUE"))
        })?;
        defines.insert(k.to_owned(), v.to_owned());
    }
    let versions = ctx.cwd.join(&args.versions);
    let revisions = import::alembic::read_versions(&versions, &defines).map_err(files_error)?;
    let sql = match &args.alembic_ini {
        None => None,
        Some(ini) => {
            let ini = ctx.cwd.join(ini);
            if !ini.is_file() {
                return Err(CommandError::new(format!("no file {}", ini.display())));
            }
            let dir = ini.parent().map(PathBuf::from).unwrap_or_default();
            let python = args.python.clone().unwrap_or_else(|| {
                [".venv/bin/python", "venv/bin/python"]
                    .iter()
                    .map(|p| dir.join(p))
                    .find(|p| p.is_file())
                    .unwrap_or_else(|| PathBuf::from("python3"))
            });
            let dialect = match ctx.settings.url.engine() {
                Ok(Engine::Postgres) => "postgresql",
                Ok(Engine::Mysql) => "mysql",
                _ => "sqlite",
            };
            Some(import::offline_sql(&ini, &python, dialect).map_err(import_error)?)
        }
    };
    let out_dir = ctx.cwd.join(&args.out);
    let toml_path = ctx.cwd.join("braid.toml");
    if toml_path.exists() && !args.force {
        return Err(CommandError::new(format!(
            "{} already exists: pass --force to overwrite it; nothing was written",
            toml_path.display()
        )));
    }
    let env_py = versions
        .parent()
        .map(|p| p.join("env.py"))
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    let (table, env_schema) = import::env_settings(&env_py);
    let schema = args.schema.clone().or(env_schema);
    let summary =
        import::write(&revisions, sql.as_ref(), &out_dir, args.force).map_err(import_error)?;
    let mut toml = format!(
        "# Written by `braid import alembic`: braid takes over the database that\n# Alembic managed; its version table stays as it is.\n[migrations]\ndirectories = [{}]\n\n[database]\nversion_table = {}\n",
        toml::Value::String(args.out.display().to_string()),
        toml::Value::String(table.unwrap_or_else(|| "alembic_version".into()))
    );
    if let Some(s) = &schema {
        toml.push_str(&format!("schema = {}\n", toml::Value::String(s.clone())));
    }
    // The models Alembic's autogenerate compared against become the
    // desired schema braid's autogenerate builds.
    if let Some(models) = import::env_models(&env_py) {
        toml.push_str(&format!(
            "\n[schema]\ndesired = [{}]\n",
            toml::Value::String(models)
        ));
    }
    std::fs::write(&toml_path, toml)
        .map_err(|e| CommandError::new(format!("cannot write {}: {e}", toml_path.display())))?;
    let mut table = String::new();
    table.push_str("| revisions written | with SQL | untranslated |\n| ---: | ---: | ---: |\n");
    table.push_str(&format!(
        "| {} | {} | {} |\n",
        summary.written.len(),
        summary.with_sql,
        summary.untranslated.len()
    ));
    out(&table);
    if !ctx.quiet {
        let mut err = std::io::stderr().lock();
        if sql.is_none() {
            let _ = writeln!(
                err,
                "headers only (no --alembic-ini): every revision is marked untranslated until its SQL is written"
            );
        } else {
            for (rev, path, why) in &summary.untranslated {
                let _ = writeln!(err, "untranslated: {rev} ({}): {why}", path.display());
            }
        }
        let _ = writeln!(
            err,
            "wrote {} and {}; `braid current` shows what `alembic current` showed",
            out_dir.display(),
            toml_path.display()
        );
    }
    Ok(())
}
