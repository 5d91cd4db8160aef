//! Alembic projects: revision files read without running them (their
//! headers are Python literals), and each revision's SQL from Alembic's
//! own offline mode when the project can run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::python::{self, Value};
use crate::graph::{Graph, Record};
use crate::revision::{BranchLabel, RevisionId};

/// One Alembic revision, as its file declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// The revision's file.
    pub path: PathBuf,
    /// `revision`.
    pub id: String,
    /// `down_revision` (one, several for a merge, none for a base).
    pub down_revisions: Vec<String>,
    /// `branch_labels`.
    pub branch_labels: Vec<String>,
    /// `depends_on`.
    pub depends_on: Vec<String>,
    /// The message: the docstring's first line.
    pub message: Option<String>,
    /// RFC 3339, from the docstring's `Create Date:`.
    pub created: Option<jiff::Timestamp>,
    /// The file's text (kept beside an untranslated revision).
    pub source: String,
}

/// A problem with one file, or with the graph the files make.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct FileError {
    /// The file.
    pub path: PathBuf,
    /// The line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

fn err(path: &Path, line: Option<usize>, message: impl Into<String>) -> FileError {
    FileError {
        path: path.to_owned(),
        line,
        message: message.into(),
    }
}

/// The Python files under `dir` that may be revisions: `__init__.py` and
/// `__pycache__` left out, sorted.
fn python_files(dir: &Path) -> Result<Vec<PathBuf>, FileError> {
    if !dir.is_dir() {
        return Err(err(dir, None, "not a directory"));
    }
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_entry(|e| e.file_name() != "__pycache__")
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_type().is_file()
                && e.path().extension().is_some_and(|x| x == "py")
                && e.file_name() != "__init__.py"
        })
        .map(|e| e.into_path())
        .collect();
    files.sort();
    Ok(files)
}

/// `Create Date:` as Alembic writes it (`2025-09-19 14:00:00.123456`, with
/// an offset, with a `T`, or a date alone), as a timestamp; a time without
/// an offset is UTC.
pub fn create_date(text: &str) -> Option<jiff::Timestamp> {
    let t = text.trim().replace(' ', "T");
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Some(ts);
    }
    if let Ok(dt) = t.parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
    }
    if let Ok(d) = t.parse::<jiff::civil::Date>() {
        return d
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
    }
    None
}

/// Strings from a literal: one string, `None`, or a tuple/list of them;
/// names resolved through `defines`.
fn strings(
    path: &Path,
    line: usize,
    key: &str,
    value: &Value,
    defines: &HashMap<String, String>,
) -> Result<Vec<String>, FileError> {
    let one = |v: &Value| -> Result<String, FileError> {
        match v {
            Value::Str(s) => Ok(s.clone()),
            Value::Name(n) => defines.get(n).cloned().ok_or_else(|| {
                err(
                    path,
                    Some(line),
                    format!(
                        "`{key}` names `{n}`, a value of the project's own code that braid does not run: pass `--define {n}=VALUE`"
                    ),
                )
            }),
            other => Err(err(
                path,
                Some(line),
                format!("`{key}`: expected a string, None, or a tuple or list of strings, found `{}`", show(other)),
            )),
        }
    };
    match value {
        Value::None => Ok(Vec::new()),
        Value::List(items) => items.iter().map(one).collect(),
        v => one(v).map(|s| vec![s]),
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("{s:?}"),
        Value::None => "None".into(),
        Value::Name(n) => n.clone(),
        Value::Other(o) => o.clone(),
        Value::List(items) => format!(
            "({})",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Reads one file: `None` when it declares no `revision` (a helper).
fn read_file(
    path: &Path,
    defines: &HashMap<String, String>,
) -> Result<Option<Revision>, FileError> {
    let source = std::fs::read_to_string(path).map_err(|e| err(path, None, e.to_string()))?;
    let module = python::read_module(&source).map_err(|e| err(path, Some(e.line), e.message))?;
    let Some(rev) = module.get("revision") else {
        return Ok(None);
    };
    let id = match &rev.value {
        Value::Str(s) => s.clone(),
        Value::Name(n) => defines.get(n).cloned().ok_or_else(|| {
            err(
                path,
                Some(rev.line),
                format!("`revision` names `{n}`: pass `--define {n}=VALUE`"),
            )
        })?,
        other => {
            return Err(err(
                path,
                Some(rev.line),
                format!("`revision`: expected a string, found `{}`", show(other)),
            ));
        }
    };
    RevisionId::new(id.as_str()).map_err(|e| err(path, Some(rev.line), e.to_string()))?;
    let list = |key: &str| -> Result<Vec<String>, FileError> {
        match module.get(key) {
            None => Ok(Vec::new()),
            Some(a) => strings(path, a.line, key, &a.value, defines),
        }
    };
    let down_revisions = list("down_revision")?;
    let branch_labels = list("branch_labels")?;
    for l in &branch_labels {
        BranchLabel::new(l.as_str()).map_err(|e| {
            err(
                path,
                module.get("branch_labels").map(|a| a.line),
                e.to_string(),
            )
        })?;
    }
    let depends_on = list("depends_on")?;
    let doc = module.docstring.as_deref().unwrap_or_default();
    let message = doc
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .filter(|l| !l.starts_with("Revision ID:"))
        .map(str::to_owned);
    let created = doc
        .lines()
        .find_map(|l| l.trim().strip_prefix("Create Date:"))
        .and_then(create_date);
    Ok(Some(Revision {
        path: path.to_owned(),
        id,
        down_revisions,
        branch_labels,
        depends_on,
        message,
        created,
        source,
    }))
}

/// Reads every revision under `dir` (recursively), then checks the graph
/// they make with braid's own rules; every problem at once.
pub fn read_versions(
    dir: &Path,
    defines: &HashMap<String, String>,
) -> Result<Vec<Revision>, Vec<FileError>> {
    let files = python_files(dir).map_err(|e| vec![e])?;
    let mut revisions = Vec::new();
    let mut errors = Vec::new();
    for f in &files {
        match read_file(f, defines) {
            Ok(Some(r)) => revisions.push(r),
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let records: Vec<Record> = revisions
        .iter()
        .map(|r| Record {
            id: RevisionId::new(r.id.as_str()).expect("checked"),
            parents: r
                .down_revisions
                .iter()
                .filter_map(|p| RevisionId::new(p.as_str()).ok())
                .collect(),
            depends_on: r.depends_on.clone(),
            labels: r
                .branch_labels
                .iter()
                .filter_map(|l| BranchLabel::new(l.as_str()).ok())
                .collect(),
        })
        .collect();
    if let Err(e) = Graph::build(&records) {
        return Err(e
            .problems
            .iter()
            .map(|p| {
                let files: Vec<String> = p
                    .records()
                    .iter()
                    .map(|i| revisions[*i].path.display().to_string())
                    .collect();
                FileError {
                    path: files.first().map(PathBuf::from).unwrap_or_default(),
                    line: None,
                    message: if files.len() > 1 {
                        format!("{p} (also {})", files[1..].join(", "))
                    } else {
                        p.to_string()
                    },
                }
            })
            .collect());
    }
    Ok(revisions)
}

/// The SQL Alembic's offline mode gives for each revision, or why not.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct Offline {
    /// The SQL of `upgrade()`.
    #[serde(default)]
    pub upgrade: Option<String>,
    /// The SQL of `downgrade()`.
    #[serde(default)]
    pub downgrade: Option<String>,
    /// Why Alembic could not produce it offline.
    #[serde(default)]
    pub error: Option<String>,
}

/// Runs each revision's `upgrade()` and `downgrade()` in Alembic's offline
/// mode (a `MigrationContext` with `as_sql`, the engine's dialect, literal
/// binds), one Python process for the whole project, without env.py and
/// so without version-table statements.
pub const OFFLINE_HELPER: &str = r#"
import io, json, os, sys
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.runtime.migration import MigrationContext
from alembic.operations import Operations

ini, dialect = sys.argv[1], sys.argv[2]
cfg = Config(ini)
here = os.path.dirname(os.path.abspath(ini))
for p in (cfg.get_main_option("prepend_sys_path") or "").replace(",", " ").split():
    sys.path.insert(0, os.path.join(here, p))
script = ScriptDirectory.from_config(cfg)
out = {}
for rev in script.walk_revisions():
    entry = {}
    for direction in ("upgrade", "downgrade"):
        buf = io.StringIO()
        ctx = MigrationContext.configure(
            dialect_name=dialect,
            opts={"as_sql": True, "output_buffer": buf, "literal_binds": True},
        )
        try:
            with Operations.context(ctx):
                getattr(rev.module, direction)()
            entry[direction] = buf.getvalue()
        except Exception as e:
            entry["error"] = "%s(): %s: %s" % (direction, type(e).__name__, e)
            break
    out[rev.revision] = entry
json.dump(out, sys.stdout)
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_dates() {
        let t = |s: &str| create_date(s).map(|t| t.to_string());
        assert_eq!(
            t("2025-09-19 14:00:00.123456").as_deref(),
            Some("2025-09-19T14:00:00.123456Z")
        );
        assert_eq!(
            t("2025-09-19T14:00:00+02:00").as_deref(),
            Some("2025-09-19T12:00:00Z")
        );
        assert_eq!(
            t("2025-09-19 14:00:00.1+00:00").as_deref(),
            Some("2025-09-19T14:00:00.1Z")
        );
        assert_eq!(t("2025-09-19").as_deref(), Some("2025-09-19T00:00:00Z"));
        assert_eq!(t("yesterday"), None);
    }

    #[test]
    fn a_revision_file_as_the_template_writes_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.py");
        std::fs::write(
            &p,
            "\"\"\"add users\n\nRevision ID: WRONG\nRevises: ALSO_WRONG\nCreate Date: 2025-09-19 14:00:00.123456\n\n\"\"\"\nfrom typing import Sequence, Union\n\nrevision: str = \"Kilo\"\ndown_revision: Union[str, Sequence[str], None] = ('a1', \"b2\")\nbranch_labels = 'auth'\ndepends_on = None\n",
        )
        .unwrap();
        let r = read_file(&p, &HashMap::new()).unwrap().unwrap();
        assert_eq!(r.id, "Kilo");
        assert_eq!(r.down_revisions, ["a1", "b2"]);
        assert_eq!(r.branch_labels, ["auth"]);
        assert!(r.depends_on.is_empty());
        assert_eq!(r.message.as_deref(), Some("add users"));
        assert_eq!(
            r.created.unwrap().to_string(),
            "2025-09-19T14:00:00.123456Z"
        );
        // A label from the project's code needs --define.
        std::fs::write(
            &p,
            "revision = 'x1'\ndown_revision = None\nbranch_labels = (cli.EXPAND_BRANCH,)\n",
        )
        .unwrap();
        let e = read_file(&p, &HashMap::new()).unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(
            e.message.contains("--define cli.EXPAND_BRANCH=VALUE"),
            "{e}"
        );
        let defines = HashMap::from([("cli.EXPAND_BRANCH".to_owned(), "expand".to_owned())]);
        assert_eq!(
            read_file(&p, &defines).unwrap().unwrap().branch_labels,
            ["expand"]
        );
        // Not a revision: a helper module.
        std::fs::write(&p, "def helper():\n    revision = 'no'\n").unwrap();
        assert!(read_file(&p, &HashMap::new()).unwrap().is_none());
    }
}
