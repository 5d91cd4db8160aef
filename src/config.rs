//! Settings: `braid.toml`, the environment and `.env`, resolved once, in
//! SPEC §5's order, into [`Settings`].
//!
//! The environment is passed in as a lookup function, so the CLI decides
//! what the process environment is (it loads `.env` first) and tests can
//! give their own. This module never prints a password: [`DatabaseUrl`]'s
//! `Display` hides it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// The file name looked up in the working directory.
pub const CONFIG_FILE: &str = "braid.toml";
/// The embedded default database.
pub const DEFAULT_URL: &str = "sqlite://braid.db?mode=rwc";
/// The version table's name when none is configured.
pub const DEFAULT_VERSION_TABLE: &str = "braid_version";

/// What a `[schema] desired` entry naming SQLAlchemy models starts with.
pub const MODELS_PREFIX: &str = "sqlalchemy:";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    migrations: RawMigrations,
    #[serde(default)]
    database: RawDatabase,
    #[serde(default)]
    schema: RawSchema,
    #[serde(default)]
    fleet: Fleet,
    #[serde(default)]
    lint: Lint,
}

/// `[lint]`: how `braid lint`, `check` and `upgrade` judge statements
/// (SPEC §12).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lint {
    /// Rules whose findings are errors.
    #[serde(default)]
    pub deny: Vec<String>,
    /// Rules whose findings are warnings.
    #[serde(default)]
    pub warn: Vec<String>,
    /// Rules not reported.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Below this many rows (planner statistics), a finding on a table is
    /// a warning.
    #[serde(default = "default_large_table_rows")]
    pub large_table_rows: u64,
    /// The server version to judge by when the database cannot be reached
    /// (`"16"`, `"8.0"`, `"mariadb 10.11"`).
    pub server_version: Option<String>,
    /// `"warn"` (the default: findings are printed and the run goes on) or
    /// `"deny"` (an error finding stops `upgrade` before anything runs).
    #[serde(default)]
    pub upgrade: LintUpgrade,
}

fn default_large_table_rows() -> u64 {
    100_000
}

impl Default for Lint {
    fn default() -> Lint {
        Lint {
            deny: Vec::new(),
            warn: Vec::new(),
            allow: Vec::new(),
            large_table_rows: default_large_table_rows(),
            server_version: None,
            upgrade: LintUpgrade::Warn,
        }
    }
}

/// What `upgrade` does with lint errors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LintUpgrade {
    /// Print them and run.
    #[default]
    Warn,
    /// Refuse to run.
    Deny,
}

/// `[fleet]`: the databases or schemas migrated together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fleet {
    /// Member databases by URL.
    #[serde(default)]
    pub urls: Vec<String>,
    /// PostgreSQL schemas (MySQL databases) of the URL's server whose names
    /// match this `LIKE` pattern.
    pub schemas_like: Option<String>,
    /// A query run on the URL's database; each row one URL or schema name.
    pub query: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchema {
    /// Where scratch databases are made (a server URL; SQLite: a file or
    /// `sqlite::memory:`).
    dev_url: Option<String>,
    /// A file rewritten with `braid schema` after every successful
    /// upgrade or downgrade run.
    dump: Option<String>,
    /// Objects other tools own, left out of snapshots (`*` wildcards).
    #[serde(default)]
    ignore: Vec<String>,
    /// Files or directories of plain SQL declaring the desired end state,
    /// or the application's SQLAlchemy models (`sqlalchemy:MODULE:ATTR`).
    #[serde(default)]
    desired: Vec<String>,
    /// The Python that imports the models (default `python3`).
    python: Option<String>,
    /// More desired-state files for one engine only.
    #[serde(default)]
    engine_desired: RawEngineDirectories,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMigrations {
    directories: Option<Vec<String>>,
    /// `check` fails when the history has more than one head.
    #[serde(default)]
    single_head: bool,
    /// More directories for one engine only (`postgres`, `mysql`, `sqlite`):
    /// revisions that only that engine can run.
    #[serde(default)]
    engine_directories: RawEngineDirectories,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEngineDirectories {
    #[serde(default)]
    postgres: Vec<String>,
    #[serde(default)]
    mysql: Vec<String>,
    #[serde(default)]
    sqlite: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: Option<String>,
    schema: Option<String>,
    version_table: Option<String>,
    #[serde(default, deserialize_with = "duration")]
    lock_timeout: Option<Duration>,
    lock_retries: Option<u32>,
    #[serde(default, deserialize_with = "duration")]
    statement_timeout: Option<Duration>,
}

/// A duration setting (`"200ms"`, `"5s"`), its error located by toml.
fn duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    crate::migration::parse_duration(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// How long a migration's statements may wait for a lock and run (SPEC
/// §13): `[database]`, overridden per revision by its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// How long a statement waits for a lock before giving up (`None`: as
    /// long as it takes).
    pub lock: Option<Duration>,
    /// How many times a revision (a non-transactional revision: the
    /// statement) that ran out of `lock` time is tried again.
    pub lock_retries: u32,
    /// How long one statement may run.
    pub statement: Option<Duration>,
}

/// Retries when `lock_timeout` is set and `lock_retries` is not (as
/// strong_migrations does).
pub const DEFAULT_LOCK_RETRIES: u32 = 3;

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            lock: None,
            lock_retries: DEFAULT_LOCK_RETRIES,
            statement: None,
        }
    }
}

impl Timeouts {
    /// These settings with a revision header's own values over them.
    pub fn for_revision(&self, m: &crate::migration::Migration) -> Timeouts {
        Timeouts {
            lock: m.lock_timeout.or(self.lock),
            lock_retries: m.lock_retries.unwrap_or(self.lock_retries),
            statement: m.statement_timeout.or(self.statement),
        }
    }
}

/// Why the settings could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file could not be read.
    #[error("cannot read {}: {message}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        message: String,
    },
    /// The configuration file is not valid (where and why).
    #[error("{}:{line}:{column}: invalid configuration: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// The 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The database URL does not parse; `source_name` says where it came from.
    #[error("invalid database URL from {source_name}: {message}")]
    Url {
        /// Where the URL came from (`--url`, `DATABASE_URL`, braid.toml, the `DATABASE_*` parts).
        source_name: String,
        /// What is wrong with it.
        message: String,
    },
    /// A setting has a bad value.
    #[error("invalid {name}: {message}")]
    Setting {
        /// The setting.
        name: String,
        /// What is wrong with its value.
        message: String,
    },
}

/// A database URL whose `Display` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

/// The engines braid talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// SQLite (`sqlite://`).
    Sqlite,
    /// PostgreSQL (`postgres://`, `postgresql://`).
    Postgres,
    /// MySQL and MariaDB (`mysql://`, `mariadb://`).
    Mysql,
}

impl Engine {
    /// The lexical rules of the engine's SQL (what hides a `;`).
    pub fn lexer(self) -> crate::migration::split::Lexer {
        use crate::migration::split::Lexer;
        match self {
            Engine::Postgres => Lexer::POSTGRES,
            Engine::Mysql => Lexer::MYSQL,
            Engine::Sqlite => Lexer::SQLITE,
        }
    }

    /// The engine's name for people (`PostgreSQL`).
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
            Engine::Mysql => "MySQL",
        }
    }

    /// The cargo feature that compiles the engine in.
    pub fn feature(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
        }
    }
}

impl DatabaseUrl {
    /// Parses and checks a URL; the error names what is wrong with it.
    pub fn parse(url: &str) -> Result<Self, String> {
        let u = DatabaseUrl(url.to_owned());
        u.engine()?;
        if !url.starts_with("sqlite:") {
            url::Url::parse(url).map_err(|e| format!("{e} in `{}`", redact(url)))?;
        }
        Ok(u)
    }

    /// The URL with its password, for the driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A SQLite URL's file (`None` in memory, or for another engine).
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        let rest = self.0.strip_prefix("sqlite:")?;
        let path = rest
            .trim_start_matches("//")
            .split('?')
            .next()
            .unwrap_or_default();
        (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
    }

    /// The engine the URL's scheme names.
    pub fn engine(&self) -> Result<Engine, String> {
        let scheme = self.0.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Engine::Sqlite),
            "postgres" | "postgresql" => Ok(Engine::Postgres),
            "mysql" | "mariadb" => Ok(Engine::Mysql),
            _ => Err(format!(
                "expected a URL starting with `sqlite://`, `postgres://` or `mysql://`, found `{}`",
                redact(&self.0)
            )),
        }
    }
}

/// A URL with any password replaced by `***`.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(_) => url.to_owned(),
        // Unparseable: hide everything between `://` and the last `@`.
        Err(_) => match (url.find("://"), url.rfind('@')) {
            (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
            _ => url.to_owned(),
        },
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// Everything a command needs to know about where things are.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The configuration file, when one was read.
    pub config_file: Option<PathBuf>,
    /// Migration directories, resolved against the configuration file's
    /// directory (or the working directory).
    pub directories: Vec<PathBuf>,
    /// The database.
    pub url: DatabaseUrl,
    /// Where the URL came from, for messages.
    pub url_source: String,
    /// The PostgreSQL schema of braid's tables and the search path.
    pub schema: Option<String>,
    /// The version table's name (unqualified).
    pub version_table: String,
    /// Refuse to leave the graph with more than one head.
    pub single_head: bool,
    /// `[schema] dev_url`: where scratch databases are made.
    pub dev_url: Option<String>,
    /// `[schema] dump`: the schema file rewritten after each run.
    pub schema_dump: Option<PathBuf>,
    /// `[schema] ignore`: name patterns left out of snapshots.
    pub schema_ignore: Vec<String>,
    /// `[schema] desired`: the desired-state files and directories.
    pub schema_desired: Vec<PathBuf>,
    /// `[schema] desired`'s SQLAlchemy models (`sqlalchemy:MODULE:ATTR`).
    pub schema_models: Vec<String>,
    /// `[schema] python`: the Python that imports the models.
    pub python: String,
    /// The project's directory (braid.toml's, else the working
    /// directory): where relative paths start, and what Python imports
    /// the models from.
    pub project_dir: PathBuf,
    /// `[fleet]`: the members migrated together.
    pub fleet: Fleet,
    /// `[lint]`: how statements are judged.
    pub lint: Lint,
    /// `[database] lock_timeout`, `lock_retries`, `statement_timeout`.
    pub timeouts: Timeouts,
}

/// What the command line says, before the file and the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--config FILE`.
    pub config: Option<PathBuf>,
    /// `--url URL`.
    pub url: Option<String>,
}

impl Settings {
    /// Whether the database exists: always for a server URL; for SQLite,
    /// whether the file is there (in memory counts as there).
    pub fn has_database(&self) -> bool {
        match self.url.engine() {
            Ok(Engine::Sqlite) => self.url.sqlite_file().is_none_or(|p| p.exists()),
            _ => true,
        }
    }

    /// Resolves settings from the command line, `env` (a variable lookup,
    /// `.env` already applied) and the configuration file, relative to `cwd`.
    pub fn resolve(
        overrides: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
        cwd: &Path,
    ) -> Result<Settings, ConfigError> {
        let env = |name: &str| env(name).filter(|v| !v.is_empty());
        let explicit = overrides
            .config
            .clone()
            .or_else(|| env("BRAID_CONFIG").map(PathBuf::from));
        let (config_file, raw) = match explicit {
            Some(path) => {
                let path = cwd.join(path);
                let raw = read_config(&path)?;
                (Some(path), raw)
            }
            None => {
                let path = cwd.join(CONFIG_FILE);
                if path.is_file() {
                    let raw = read_config(&path)?;
                    (Some(path), raw)
                } else {
                    (None, RawConfig::default())
                }
            }
        };
        let base = config_file
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_owned)
            .unwrap_or_else(|| cwd.to_owned());
        let mut directories: Vec<PathBuf> = raw
            .migrations
            .directories
            .clone()
            .unwrap_or_else(|| vec!["migrations".into()])
            .iter()
            .map(|d| base.join(d))
            .collect();

        let (url, url_source) = if let Some(u) = &overrides.url {
            (u.clone(), "--url".to_owned())
        } else if let Some(u) = env("DATABASE_URL") {
            (u, "DATABASE_URL".to_owned())
        } else if let Some(host) = env("DATABASE_HOST") {
            (
                postgres_url_from_parts(&host, &env)?,
                "DATABASE_HOST".to_owned(),
            )
        } else if let Some(u) = &raw.database.url {
            let source = config_file
                .as_deref()
                .map(|p| format!("{} [database] url", p.display()))
                .unwrap_or_default();
            (sqlite_relative_to(u, &base), source)
        } else {
            (
                sqlite_relative_to(DEFAULT_URL, cwd),
                "the default (sqlite://braid.db)".to_owned(),
            )
        };
        let url = DatabaseUrl::parse(&url).map_err(|message| ConfigError::Url {
            source_name: url_source.clone(),
            message,
        })?;

        let extra = &raw.migrations.engine_directories;
        let for_engine = match url.engine() {
            Ok(Engine::Postgres) => &extra.postgres,
            Ok(Engine::Mysql) => &extra.mysql,
            Ok(Engine::Sqlite) => &extra.sqlite,
            Err(_) => &extra.sqlite,
        };
        directories.extend(for_engine.iter().map(|d| base.join(d)));

        let extra = &raw.schema.engine_desired;
        let for_engine = match url.engine() {
            Ok(Engine::Postgres) => &extra.postgres,
            Ok(Engine::Mysql) => &extra.mysql,
            _ => &extra.sqlite,
        };
        let (models, files): (Vec<&String>, Vec<&String>) = raw
            .schema
            .desired
            .iter()
            .chain(for_engine)
            .partition(|d| d.starts_with(MODELS_PREFIX));
        let schema_desired: Vec<PathBuf> = files.into_iter().map(|d| base.join(d)).collect();
        let schema_models: Vec<String> = models.into_iter().cloned().collect();

        let schema = env("DATABASE_SCHEMA").or(raw.database.schema);
        let version_table = raw
            .database
            .version_table
            .unwrap_or_else(|| DEFAULT_VERSION_TABLE.to_owned());
        for (list, names) in [
            ("deny", &raw.lint.deny),
            ("warn", &raw.lint.warn),
            ("allow", &raw.lint.allow),
        ] {
            if let Some(bad) = names.iter().find(|n| crate::lint::rules::rule(n).is_none()) {
                return Err(ConfigError::Setting {
                    name: format!("[lint] {list}"),
                    message: format!(
                        "unknown rule `{bad}`; the rules are: {}",
                        crate::lint::rules::RULES
                            .iter()
                            .map(|r| r.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
        }
        for (name, value) in [
            ("schema", schema.as_deref()),
            ("version_table", Some(&version_table)),
        ] {
            if let Some(v) = value
                && (v.is_empty() || v.contains('\0'))
            {
                return Err(ConfigError::Setting {
                    name: name.into(),
                    message: "expected a non-empty name without NUL characters".into(),
                });
            }
        }
        Ok(Settings {
            config_file,
            directories,
            url,
            url_source,
            schema,
            version_table,
            single_head: raw.migrations.single_head,
            dev_url: env("BRAID_DEV_URL").or(raw.schema.dev_url),
            schema_dump: raw.schema.dump.map(|d| base.join(d)),
            schema_ignore: raw.schema.ignore,
            fleet: raw.fleet,
            schema_desired,
            schema_models,
            python: raw.schema.python.unwrap_or_else(|| "python3".to_owned()),
            project_dir: base,
            lint: raw.lint,
            timeouts: Timeouts {
                lock: raw.database.lock_timeout,
                lock_retries: raw.database.lock_retries.unwrap_or(DEFAULT_LOCK_RETRIES),
                statement: raw.database.statement_timeout,
            },
        })
    }
}

fn read_config(path: &Path) -> Result<RawConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    toml::from_str(&text).map_err(|e| {
        let (line, column) = e
            .span()
            .map(|s| {
                let before = &text[..s.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = s.start - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                (line, column)
            })
            .unwrap_or((1, 1));
        ConfigError::Invalid {
            path: path.to_owned(),
            line,
            column,
            message: e.message().trim_end().to_owned(),
        }
    })
}

/// `postgres://USER:PASSWORD@HOST:PORT/NAME` from the `DATABASE_*`
/// variables, each part percent-encoded.
fn postgres_url_from_parts(
    host: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ConfigError> {
    let bad = |name: &str, message: String| ConfigError::Setting {
        name: name.into(),
        message,
    };
    let port = env("DATABASE_PORT").unwrap_or_else(|| "5432".into());
    port.parse::<u16>().map_err(|_| {
        bad(
            "DATABASE_PORT",
            format!("expected a port number, found `{port}`"),
        )
    })?;
    let user = env("DATABASE_USER").unwrap_or_else(|| "postgres".into());
    let name = env("DATABASE_NAME").unwrap_or_else(|| user.clone());
    let mut u = url::Url::parse("postgres://localhost/")
        .map_err(|e| bad("DATABASE_HOST", e.to_string()))?;
    u.set_host(Some(host))
        .map_err(|e| bad("DATABASE_HOST", format!("{e}: `{host}`")))?;
    u.set_port(Some(port.parse().unwrap_or(5432)))
        .map_err(|_| bad("DATABASE_PORT", "cannot be set".into()))?;
    u.set_username(&user)
        .map_err(|_| bad("DATABASE_USER", "cannot be set".into()))?;
    if let Some(pw) = env("DATABASE_PASSWORD") {
        u.set_password(Some(&pw))
            .map_err(|_| bad("DATABASE_PASSWORD", "cannot be set".into()))?;
    }
    u.path_segments_mut()
        .map_err(|_| bad("DATABASE_NAME", "cannot be set".into()))?
        .clear()
        .push(&name);
    Ok(u.to_string())
}

/// A relative SQLite path is taken relative to `base` (the configuration
/// file's directory), as users of a checked-in `braid.toml` expect.
fn sqlite_relative_to(url: &str, base: &Path) -> String {
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return url.to_owned();
    };
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    if path.is_empty() || path == ":memory:" || Path::new(path).is_absolute() {
        return url.to_owned();
    }
    let mut out = format!("sqlite://{}", base.join(path).display());
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    } else {
        out.push_str("?mode=rwc");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(vars: &[(&str, &str)], file: Option<&str>) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        if let Some(text) = file {
            std::fs::write(dir.path().join(CONFIG_FILE), text).unwrap();
        }
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::resolve(&Overrides::default(), &|k| map.get(k).cloned(), dir.path())
    }

    #[test]
    fn default_is_sqlite_braid_db() {
        let s = resolve(&[], None).unwrap();
        assert!(s.url.expose().starts_with("sqlite://"));
        assert!(s.url.expose().ends_with("braid.db?mode=rwc"));
        assert_eq!(s.version_table, "braid_version");
    }

    #[test]
    fn precedence_database_url_then_parts_then_file() {
        let file = "[database]\nurl = \"mysql://root@127.0.0.1/test\"\n";
        let s = resolve(&[("DATABASE_URL", "postgres://a@h/d")], Some(file)).unwrap();
        assert_eq!(s.url.expose(), "postgres://a@h/d");
        let s = resolve(
            &[
                ("DATABASE_HOST", "db.local"),
                ("DATABASE_USER", "boneca"),
                ("DATABASE_PASSWORD", "p@ss:w/rd"),
                ("DATABASE_NAME", "app"),
                ("DATABASE_SCHEMA", "boneca"),
            ],
            Some(file),
        )
        .unwrap();
        assert_eq!(
            s.url.expose(),
            "postgres://boneca:p%40ss%3Aw%2Frd@db.local:5432/app"
        );
        assert_eq!(s.schema.as_deref(), Some("boneca"));
        assert!(!s.url.to_string().contains("p%40ss"), "{}", s.url);
        let s = resolve(&[], Some(file)).unwrap();
        assert_eq!(s.url.expose(), "mysql://root@127.0.0.1/test");
    }

    #[test]
    fn timeouts_come_from_the_database_section() {
        let s = resolve(&[], None).unwrap();
        assert_eq!(s.timeouts, Timeouts::default());
        assert_eq!(s.timeouts.lock_retries, DEFAULT_LOCK_RETRIES);
        let file =
            "[database]\nlock_timeout = \"2s\"\nlock_retries = 7\nstatement_timeout = \"15m\"\n";
        let s = resolve(&[], Some(file)).unwrap();
        assert_eq!(
            s.timeouts,
            Timeouts {
                lock: Some(Duration::from_secs(2)),
                lock_retries: 7,
                statement: Some(Duration::from_secs(900)),
            }
        );
        match resolve(&[], Some("[database]\nlock_timeout = \"2 parsecs\"\n")) {
            Err(ConfigError::Invalid {
                line,
                column,
                message,
                ..
            }) => {
                assert_eq!((line, column), (2, 16));
                assert!(message.contains("expected a duration such as"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn engine_directories_join_for_their_engine_only() {
        let file = "[migrations]\ndirectories = [\"m\"]\n[migrations.engine_directories]\npostgres = [\"m-pg\"]\n";
        let s = resolve(&[], Some(file)).unwrap();
        assert_eq!(s.directories.len(), 1);
        let s = resolve(&[("DATABASE_URL", "postgres://u@h/d")], Some(file)).unwrap();
        assert_eq!(s.directories.len(), 2);
        assert!(s.directories[1].ends_with("m-pg"));
    }

    #[test]
    fn passwords_never_display() {
        let u = DatabaseUrl::parse("postgres://u:secret@h/d").unwrap();
        assert_eq!(u.to_string(), "postgres://u:***@h/d");
        assert!(!format!("{u:?}").contains("secret"));
        assert!(!redact("postgres://u:sec ret@h/d").contains("sec"));
    }

    #[test]
    fn bad_files_name_the_line() {
        let e = resolve(
            &[],
            Some("[database]\nurl = \"sqlite://x.db\"\ncolour = 1\n"),
        )
        .unwrap_err();
        match e {
            ConfigError::Invalid { line, message, .. } => {
                assert_eq!(line, 3);
                assert!(message.contains("unknown field `colour`"));
            }
            other => panic!("{other}"),
        }
        let e = resolve(&[("DATABASE_URL", "oracle://x")], None).unwrap_err();
        assert!(e.to_string().contains("DATABASE_URL"), "{e}");
    }
}
