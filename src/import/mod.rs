//! Readers of other tools' projects, writing braid migration files with
//! the same revision ids, so the databases those tools managed need no
//! change. Alembic first.

pub mod alembic;
pub mod python;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::migration::{file_name_for, render_header};
use alembic::{FileError, Offline, Revision};

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Files that could not be read.
    #[error("{} problem{} in the Alembic revision files", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Files(Vec<FileError>),
    /// The file exists (`--force` replaces it).
    #[error("{} already exists: pass --force to overwrite it", .0.display())]
    Exists(PathBuf),
    /// Alembic failed to produce SQL.
    #[error("Alembic could not run the project ({ini}): {message}")]
    Alembic {
        /// The Alembic configuration used.
        ini: PathBuf,
        /// Alembic's error.
        message: String,
    },
    /// A file could not be written.
    #[error("cannot write {}: {message}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why it could not be written.
        message: String,
    },
}

/// What an import wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// (revision, file written).
    pub written: Vec<(String, PathBuf)>,
    /// Revisions written with their SQL.
    pub with_sql: usize,
    /// (revision, file written, why Alembic could not give its SQL).
    pub untranslated: Vec<(String, PathBuf, String)>,
}

/// Runs Alembic's offline mode over the project of `ini` with `python`,
/// for `dialect` (`postgresql`, `mysql`, `sqlite`).
pub fn offline_sql(
    ini: &Path,
    python: &Path,
    dialect: &str,
) -> Result<HashMap<String, Offline>, ImportError> {
    let fail = |message: String| ImportError::Alembic {
        ini: ini.to_owned(),
        message,
    };
    let dir = ini
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let out = Command::new(python)
        .arg("-c")
        .arg(alembic::OFFLINE_HELPER)
        .arg(ini)
        .arg(dialect)
        .current_dir(dir)
        .output()
        .map_err(|e| fail(format!("cannot run {}: {e}", python.display())))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        return Err(fail(last.trim().to_owned()));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| fail(format!("unexpected output: {e}")))
}

/// Alembic's offline output as a section: its statements, trimmed.
fn section(sql: &str) -> String {
    sql.trim().to_owned()
}

/// The text of one braid file for an Alembic revision.
fn render(r: &Revision, sql: Option<&Offline>) -> (String, Option<String>) {
    let created = r
        .created
        .map(|c| c.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
    let mut text = render_header(
        &r.id,
        &r.down_revisions,
        &r.branch_labels,
        &r.depends_on,
        r.message.as_deref(),
        created.as_deref(),
    );
    let why = match sql {
        None => Some("no --alembic-ini: only the header was read".to_owned()),
        Some(o) if o.error.is_some() => o.error.clone(),
        Some(o) if o.upgrade.is_none() => Some("Alembic did not list this revision".to_owned()),
        Some(_) => None,
    };
    match (&why, sql) {
        (None, Some(o)) => {
            text.push_str(&format!(
                "-- braid:up\n{}\n\n-- braid:down\n{}\n",
                section(o.upgrade.as_deref().unwrap_or_default()),
                section(o.downgrade.as_deref().unwrap_or_default())
            ));
        }
        _ => {
            text.push_str("-- braid:untranslated\n");
            text.push_str(&format!(
                "-- {}\n-- The Alembic revision, to translate by hand (then remove the line above):\n--\n",
                why.as_deref().unwrap_or_default()
            ));
            for line in r.source.lines() {
                text.push_str(format!("-- {line}").trim_end());
                text.push('\n');
            }
            text.push_str("\n-- braid:up\n\n-- braid:down\n");
        }
    }
    (text, why)
}

/// Writes one braid file per revision into `out` (which must not exist,
/// or be empty, unless `force`). `sql` is Alembic's offline output, when
/// the project could run.
pub fn write(
    revisions: &[Revision],
    sql: Option<&HashMap<String, Offline>>,
    out: &Path,
    force: bool,
) -> Result<Summary, ImportError> {
    let occupied = out.exists()
        && std::fs::read_dir(out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true);
    if occupied && !force {
        return Err(ImportError::Exists(out.to_owned()));
    }
    let mut files = Vec::new();
    let mut summary = Summary::default();
    for r in revisions {
        let (text, why) = render(r, sql.and_then(|s| s.get(&r.id)));
        let path = out.join(file_name_for(
            &r.id,
            r.message.as_deref().unwrap_or_default(),
            r.created,
        ));
        match why {
            None => summary.with_sql += 1,
            Some(w) => summary.untranslated.push((r.id.clone(), path.clone(), w)),
        }
        summary.written.push((r.id.clone(), path.clone()));
        files.push((path, text));
    }
    std::fs::create_dir_all(out).map_err(|e| ImportError::Write {
        path: out.to_owned(),
        message: e.to_string(),
    })?;
    for (path, text) in files {
        std::fs::write(&path, text).map_err(|e| ImportError::Write {
            path: path.clone(),
            message: e.to_string(),
        })?;
    }
    Ok(summary)
}

/// The version table and its schema as an Alembic env.py configures them
/// (`version_table=`, `version_table_schema=`), when it says.
pub fn env_settings(env_py: &str) -> (Option<String>, Option<String>) {
    let find = |key: &str| {
        env_py.match_indices(key).find_map(|(i, _)| {
            let rest = env_py[i + key.len()..].trim_start();
            let rest = rest.strip_prefix('=')?.trim_start();
            let q = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            let end = rest[1..].find(q)?;
            Some(rest[1..1 + end].to_owned())
        })
    };
    (find("version_table"), find("version_table_schema"))
}

/// The models an Alembic env.py compares against (`target_metadata =
/// Base.metadata` or `= metadata`, with the name imported `from MODULE
/// import NAME [as ALIAS]`), as a braid source: `sqlalchemy:MODULE:NAME`.
/// `None` when env.py sets none (`target_metadata = None`) or the name
/// does not come from an import braid can read.
pub fn env_models(env_py: &str) -> Option<String> {
    let value = env_py.lines().find_map(|line| {
        let rest = line.trim_start().strip_prefix("target_metadata")?;
        let value = rest.trim_start().strip_prefix('=')?.trim();
        Some(
            value
                .split('#')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned(),
        )
    })?;
    let name = value.strip_suffix(".metadata").unwrap_or(&value);
    let is_name = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
    if name == "None" || !is_name(name) {
        return None;
    }
    env_py.lines().find_map(|line| {
        let code = line.split('#').next().unwrap_or_default();
        let rest = code.trim().strip_prefix("from ")?;
        let (module, names) = rest.split_once(" import ")?;
        let names = names.trim_matches(|c: char| c == '(' || c == ')' || c.is_whitespace());
        names.split(',').find_map(|item| {
            let mut words = item.split_whitespace();
            let original = words.next()?;
            let local = match (words.next(), words.next()) {
                (Some("as"), Some(alias)) => alias,
                (None, None) => original,
                _ => return None,
            };
            (local == name && is_name(original))
                .then(|| format!("sqlalchemy:{}:{original}", module.trim()))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_models_env_py_compares_against() {
        let env = "from alembic import context\nfrom boneca.models import Base  # noqa\n\ntarget_metadata = Base.metadata\n";
        assert_eq!(
            env_models(env).as_deref(),
            Some("sqlalchemy:boneca.models:Base")
        );
        let env = "from app.db import (engine, meta as md)\ntarget_metadata = md  # the models\n";
        assert_eq!(env_models(env).as_deref(), Some("sqlalchemy:app.db:meta"));
        assert_eq!(env_models("target_metadata = None\n"), None);
        assert_eq!(
            env_models("import app\ntarget_metadata = app.Base.metadata\n"),
            None
        );
    }

    #[test]
    fn version_table_settings_from_env_py() {
        let (t, s) = env_settings(
            "context.configure(\n    connection=connection,\n    version_table_schema=\"boneca\",\n    include_schemas=True,\n)\n",
        );
        assert_eq!((t, s.as_deref()), (None, Some("boneca")));
        let (t, _) = env_settings("context.configure(version_table='my_versions')");
        assert_eq!(t.as_deref(), Some("my_versions"));
    }
}
