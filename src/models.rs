//! The application's SQLAlchemy models as a desired schema (SPEC §15):
//! `sqlalchemy:MODULE:ATTRIBUTE` names a `MetaData`, or a declarative
//! base whose `.metadata` is taken. The project's Python (`[schema]
//! python`) imports it with the project's directory on `PYTHONPATH` and
//! asks SQLAlchemy for the DDL of the URL's engine without connecting
//! (a mock engine and `create_all`); braid builds that DDL on a scratch
//! database like a `.sql` source.
//!
//! Every schema the models name (`schema='boneca'`) is mapped to the
//! scratch database's own (the configured PostgreSQL schema, the MySQL
//! database, SQLite's `main`) through SQLAlchemy's own
//! `schema_translate_map`.
//!
//! Renames are never guessed: a model declares one with
//! `info={"braid_renamed_from": "old_name"}` on the `Table` (or
//! `__table_args__`) or on the `Column`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::config::Settings;
use crate::schema::diff::Renames;

/// What a models source starts with.
pub use crate::config::MODELS_PREFIX as PREFIX;

/// The program the project's Python runs: argv[1] the source
/// (`MODULE:ATTRIBUTE`), argv[2] the SQLAlchemy dialect, argv[3] the
/// schema the models' schemas become. It prints one
/// JSON object: the DDL and the renames, or what went wrong.
const PROGRAM: &str = r#"
import importlib, json, sys, traceback

def answer(value):
    sys.__stdout__.write(json.dumps(value))
    sys.__stdout__.flush()
    sys.exit(0)

def failed(kind, message):
    answer({"error": kind, "message": message})

def last_line(e):
    return "".join(traceback.format_exception_only(type(e), e)).strip()

try:
    import sqlalchemy
    from sqlalchemy import MetaData, create_mock_engine
except Exception as e:
    failed("sqlalchemy", last_line(e))

spec, dialect, home = sys.argv[1], sys.argv[2], sys.argv[3]
module_name, _, attribute = spec.partition(":")
# Whatever the application prints while it is imported is not the answer.
sys.stdout = sys.stderr
try:
    target = importlib.import_module(module_name)
except Exception as e:
    failed("import", last_line(e))
for part in attribute.split("."):
    if not hasattr(target, part):
        failed("attribute", "module %s has no attribute %s" % (module_name, attribute))
    target = getattr(target, part)
metadata = target if isinstance(target, MetaData) else getattr(target, "metadata", None)
if not isinstance(metadata, MetaData):
    failed("attribute", "%s is neither a MetaData nor a declarative base (it has no .metadata)" % spec)

schemas = {t.schema for t in metadata.tables.values() if t.schema}
if metadata.schema:
    schemas.add(metadata.schema)
translate = {s: home for s in schemas}
statements = []
engine = None
def executor(ddl, *args, **kwargs):
    compiled = ddl.compile(dialect=engine.dialect, schema_translate_map=translate, render_schema_translate=True)
    statements.append(str(compiled).strip())
try:
    engine = create_mock_engine(dialect + "://", executor)
    metadata.create_all(engine, checkfirst=False)
except Exception as e:
    failed("compile", last_line(e))

renames = {"tables": [], "columns": []}
for table in metadata.sorted_tables:
    old = table.info.get("braid_renamed_from")
    if old:
        renames["tables"].append([old, table.name])
    for column in table.columns:
        old = column.info.get("braid_renamed_from")
        if old:
            renames["columns"].append([table.name, old, column.name])
answer({"statements": statements, "renames": renames, "sqlalchemy": sqlalchemy.__version__})
"#;

/// Why the models could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelsError {
    /// Not `sqlalchemy:MODULE:ATTRIBUTE`.
    #[error(
        "`{0}` is not a models source: expected `sqlalchemy:MODULE:ATTRIBUTE` (a MetaData or a declarative base)"
    )]
    Spec(String),
    /// The Python could not be run.
    #[error("cannot run `{python}` for {spec}: {message}")]
    NoPython {
        /// The source.
        spec: String,
        /// The program.
        python: String,
        /// What the system said.
        message: String,
    },
    /// Python ran and said what failed.
    #[error("{spec}: {what}: {message}")]
    Python {
        /// The source.
        spec: String,
        /// What failed, in words.
        what: &'static str,
        /// Python's message.
        message: String,
        /// The failure's kind: `sqlalchemy`, `import`, `attribute`, `compile`.
        kind: String,
        /// The Python that ran.
        python: String,
        /// Where it imported from.
        project_dir: PathBuf,
    },
}

impl ModelsError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            ModelsError::NoPython { .. } => Some(
                "name the project's Python (a virtualenv's bin/python) with `[schema] python` in braid.toml".into(),
            ),
            ModelsError::Python { kind, python, .. } if kind == "sqlalchemy" => Some(format!(
                "install SQLAlchemy into the Python braid runs (`{python} -m pip install SQLAlchemy`), or name the project's own with `[schema] python`"
            )),
            ModelsError::Python {
                kind,
                python,
                project_dir,
                ..
            } if kind == "import" => Some(format!(
                "the module is imported by `{python}` with {} on PYTHONPATH",
                project_dir.display()
            )),
            _ => None,
        }
    }
}

/// The models' DDL for one engine, and the renames they declare.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// The statements, in `create_all`'s order, without `;`.
    pub statements: Vec<String>,
    /// The renames the models declare.
    pub renames: Renames,
    /// How long Python took (start, import, render).
    pub python_time: Duration,
}

/// Renders `spec` (`sqlalchemy:MODULE:ATTRIBUTE`) for SQLAlchemy's
/// `dialect` (`postgresql`, `mysql`, `mariadb`, `sqlite`) with the
/// settings' Python, from the project's directory; the models' schemas
/// become `home`.
///
/// # Errors
///
/// [`ModelsError`]: a bad source, no Python, no SQLAlchemy, an import
/// error, an attribute that names nothing, a model that does not compile.
pub async fn render(
    settings: &Settings,
    spec: &str,
    dialect: &str,
    home: &str,
) -> Result<Rendered, ModelsError> {
    let target = spec
        .strip_prefix(PREFIX)
        .filter(|t| matches!(t.split_once(':'), Some((m, a)) if !m.is_empty() && !a.is_empty()))
        .ok_or_else(|| ModelsError::Spec(spec.to_owned()))?;
    let mut path: Vec<PathBuf> = vec![settings.project_dir.clone()];
    if let Some(existing) = std::env::var_os("PYTHONPATH") {
        path.extend(std::env::split_paths(&existing));
    }
    let started = Instant::now();
    let out = tokio::process::Command::new(&settings.python)
        .arg("-c")
        .arg(PROGRAM)
        .arg(target)
        .arg(dialect)
        .arg(home)
        .current_dir(&settings.project_dir)
        .env("PYTHONPATH", std::env::join_paths(path).unwrap_or_default())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| ModelsError::NoPython {
            spec: spec.to_owned(),
            python: settings.python.clone(),
            message: e.to_string(),
        })?;
    let python_time = started.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    let answer: serde_json::Value = match serde_json::from_str(text.trim()) {
        Ok(v) => v,
        Err(_) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last: Vec<&str> = stderr.lines().rev().take(3).collect();
            return Err(ModelsError::NoPython {
                spec: spec.to_owned(),
                python: settings.python.clone(),
                message: format!(
                    "it exited with {} and no answer{}",
                    out.status,
                    if last.is_empty() {
                        String::new()
                    } else {
                        format!(
                            ": {}",
                            last.into_iter().rev().collect::<Vec<_>>().join(" / ")
                        )
                    }
                ),
            });
        }
    };
    if let Some(kind) = answer["error"].as_str() {
        return Err(ModelsError::Python {
            spec: spec.to_owned(),
            what: match kind {
                "sqlalchemy" => "SQLAlchemy cannot be imported",
                "import" => "cannot import the module",
                "attribute" => "no such models",
                _ => "SQLAlchemy cannot compile the models for this engine",
            },
            message: answer["message"].as_str().unwrap_or_default().to_owned(),
            kind: kind.to_owned(),
            python: settings.python.clone(),
            project_dir: settings.project_dir.clone(),
        });
    }
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect()
    };
    let mut renames = Renames::default();
    for pair in answer["renames"]["tables"].as_array().into_iter().flatten() {
        if let [old, new] = strings(pair).as_slice() {
            renames.tables.push((old.clone(), new.clone()));
        }
    }
    for triple in answer["renames"]["columns"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let [table, old, new] = strings(triple).as_slice() {
            renames
                .columns
                .push((table.clone(), old.clone(), new.clone()));
        }
    }
    Ok(Rendered {
        statements: strings(&answer["statements"]),
        renames,
        python_time,
    })
}
