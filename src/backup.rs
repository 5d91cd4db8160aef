//! Copies of a database made with the engine's own tools (SPEC §14): the
//! backup `upgrade --backup PATH` writes before the first revision runs,
//! and the copy `braid rehearse` runs the pending revisions on.
//!
//! SQLite: `VACUUM INTO` (a consistent copy, read from a live database).
//! PostgreSQL: `pg_dump` (custom format for a backup, restored with
//! `pg_restore`; plain SQL through `psql` for a copy). MySQL and MariaDB:
//! `mariadb-dump` or `mysqldump`, restored with `mariadb` or `mysql`. The
//! database copied is only read (`--single-transaction` on MySQL).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::config::{Engine, Settings};
use crate::db::{Db, DbError};

/// Why a backup or a copy could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The engine's dump tool is not installed.
    #[error("{tool} is not installed (looked for {looked} on PATH)")]
    MissingTool {
        /// What it is for (`pg_dump`, `the MariaDB client`).
        tool: &'static str,
        /// The program names looked for.
        looked: String,
        /// What to install.
        install: &'static str,
    },
    /// The tool ran and failed.
    #[error("{program} failed: {message}")]
    Failed {
        /// The program.
        program: String,
        /// What it printed on stderr (its last lines).
        message: String,
    },
    /// The database refused (SQLite's `VACUUM INTO`, a table emptied).
    #[error("{doing}: {source}")]
    Database {
        /// What was being done.
        doing: &'static str,
        /// The database's error.
        source: DbError,
    },
    /// The URL does not say enough to run the tool.
    #[error("cannot back up {url}: {message}")]
    Url {
        /// The URL, password hidden.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// The backup file is there already.
    #[error("{} exists already; braid does not overwrite a backup", path.display())]
    Exists {
        /// The file.
        path: PathBuf,
    },
}

impl BackupError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            BackupError::MissingTool { install, .. } => Some(format!("install {install}")),
            BackupError::Exists { .. } => Some("name a new file, or move the old one away".into()),
            _ => None,
        }
    }
}

/// A backup written, and how to put it back.
#[derive(Debug, Clone)]
pub struct Backup {
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// The shell command that restores it (password left out).
    pub restore: String,
}

/// Writes a backup of the database at the settings' URL to `path`, which
/// must not exist yet.
///
/// # Errors
///
/// [`BackupError`]: the dump tool is missing or fails, the file exists.
pub async fn backup(settings: &Settings, path: &Path) -> Result<Backup, BackupError> {
    if path.exists() {
        return Err(BackupError::Exists {
            path: path.to_owned(),
        });
    }
    let url = settings.url.expose();
    let shown = settings.url.to_string();
    let restore = match settings.url.engine().map_err(|message| BackupError::Url {
        url: shown.clone(),
        message,
    })? {
        Engine::Sqlite => {
            vacuum_into(settings, path).await?;
            let file = settings.url.sqlite_file().unwrap_or_default();
            format!("cp {} {}", quote(path), quote(&file))
        }
        Engine::Postgres => {
            let dump = find(PG_DUMP)?;
            let mut cmd = Command::new(dump);
            cmd.arg("--format=custom")
                .arg("--file")
                .arg(path)
                .arg("--dbname")
                .arg(url);
            run(cmd, None)?;
            format!(
                "pg_restore --clean --if-exists --no-owner --dbname '{shown}' {}",
                quote(path)
            )
        }
        Engine::Mysql => {
            let server = MyServer::parse(url, &shown)?;
            let mut cmd = Command::new(find(MY_DUMP)?);
            server.args(&mut cmd);
            cmd.args(["--single-transaction", "--routines", "--triggers"])
                .arg(format!("--result-file={}", path.display()))
                .arg(&server.database);
            run(cmd, None)?;
            format!(
                "mariadb {} {} < {}",
                server.shown_args(),
                server.database,
                quote(path)
            )
        }
    };
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(Backup {
        path: path.to_owned(),
        bytes,
        restore,
    })
}

/// Copies the database at `from`'s URL onto the scratch database at
/// `scratch_url` (made empty, of the same engine, holding the settings'
/// schema): its schema, braid's version table with its rows, and the rows
/// of every table with `with_data`. SQLite's copy is a file, made by
/// [`sqlite_copy`].
///
/// # Errors
///
/// [`BackupError`]: a missing tool, a failed dump or restore.
pub async fn copy(from: &Settings, scratch_url: &str, with_data: bool) -> Result<(), BackupError> {
    let url = from.url.expose();
    let shown = from.url.to_string();
    let dir = temporary_dir()?;
    let file = dir.path().join("copy.sql");
    let version = &from.version_table;
    let tables = [version.clone(), format!("{version}_history")];
    match from.url.engine().map_err(|message| BackupError::Url {
        url: shown.clone(),
        message,
    })? {
        Engine::Sqlite => {
            return Err(BackupError::Url {
                url: shown,
                message: "a SQLite database is copied to a file, with `sqlite_copy`".into(),
            });
        }
        Engine::Postgres => {
            let (dump, psql) = (find(PG_DUMP)?, find(PSQL)?);
            let schema = from.schema.clone().unwrap_or_else(|| "public".into());
            let q = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
            // The scratch database holds the schema already, empty (`public`
            // is in every database): the dump's CREATE SCHEMA is made to
            // accept that (`schema_if_not_exists`).
            let mut parts = vec![Vec::<OsString>::new()];
            if !with_data {
                parts[0].push("--schema-only".into());
                let tables: Vec<OsString> = tables
                    .iter()
                    .map(|t| format!("--table={}.{}", q(&schema), q(t)).into())
                    .collect();
                let mut rows = vec!["--data-only".into()];
                rows.extend(tables);
                parts.push(rows);
            }
            for extra in parts {
                let mut cmd = Command::new(&dump);
                cmd.args(["--no-owner", "--no-privileges", "--file"])
                    .arg(&file)
                    .arg(format!("--schema={}", q(&schema)))
                    .args(&extra)
                    .arg("--dbname")
                    .arg(url);
                // (A version table that is not there matches nothing.)
                run(cmd, None)?;
                schema_if_not_exists(&file, &schema)?;
                let mut restore = Command::new(&psql);
                restore
                    .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "--file"])
                    .arg(&file)
                    .arg("--dbname")
                    .arg(scratch_url);
                run(restore, None)?;
            }
        }
        Engine::Mysql => {
            let (dump, client) = (find(MY_DUMP)?, find(MY_CLIENT)?);
            let source = MyServer::parse(url, &shown)?;
            let target = MyServer::parse(scratch_url, &crate::config::redact(scratch_url))?;
            let mut present = Vec::new();
            if !with_data {
                let mut db = Db::connect(from)
                    .await
                    .map_err(|source| BackupError::Database {
                        doing: "connecting",
                        source,
                    })?;
                let there = db
                    .text_rows(
                        "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
                         WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?, ?) ORDER BY TABLE_NAME",
                        &[&source.database, &tables[0], &tables[1]],
                    )
                    .await;
                db.close().await;
                present = there
                    .map_err(|source| BackupError::Database {
                        doing: "looking for braid's tables",
                        source,
                    })?
                    .into_iter()
                    .filter_map(|r| r.into_iter().next().flatten())
                    .collect();
            }
            let mut parts: Vec<Vec<String>> = vec![vec![source.database.clone()]];
            if !with_data {
                parts[0].insert(0, "--no-data".into());
                if !present.is_empty() {
                    let mut rows = vec!["--no-create-info".into(), source.database.clone()];
                    rows.extend(present);
                    parts.push(rows);
                }
            }
            for extra in parts {
                let mut cmd = Command::new(&dump);
                source.args(&mut cmd);
                cmd.args([
                    "--single-transaction",
                    "--routines",
                    "--triggers",
                    "--skip-comments",
                ])
                .arg(format!("--result-file={}", file.display()))
                .args(&extra);
                run(cmd, None)?;
                let mut restore = Command::new(&client);
                target.args(&mut restore);
                restore.arg(&target.database);
                run(restore, Some(&file))?;
            }
        }
    }
    Ok(())
}

/// SQLite's copy: `VACUUM INTO` a new file at `to`; without `with_data`,
/// every table but braid's emptied on the copy.
///
/// # Errors
///
/// [`BackupError::Database`]: the source cannot be read or the copy emptied.
pub async fn sqlite_copy(
    from: &Settings,
    to: &Path,
    with_data: bool,
) -> Result<Settings, BackupError> {
    let db_err = |doing| move |source| BackupError::Database { doing, source };
    vacuum_into(from, to).await?;
    let mut copy = from.clone();
    copy.url = crate::config::DatabaseUrl::parse(&format!("sqlite://{}", to.display())).map_err(
        |message| BackupError::Url {
            url: to.display().to_string(),
            message,
        },
    )?;
    if !with_data {
        let mut db = Db::connect(&copy)
            .await
            .map_err(db_err("opening the copy"))?;
        let keep = [
            from.version_table.clone(),
            format!("{}_history", from.version_table),
        ];
        let tables = db
            .text_rows(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                &[],
            )
            .await
            .map_err(db_err("listing the copy's tables"))?;
        let mut sql = "PRAGMA foreign_keys = OFF;".to_owned();
        for t in tables
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
        {
            if !keep.contains(&t) {
                sql.push_str(&format!("DELETE FROM \"{}\";", t.replace('"', "\"\"")));
            }
        }
        sql.push_str("PRAGMA foreign_keys = ON;");
        let emptied = db.exec(&sql).await;
        db.close().await;
        emptied.map_err(db_err("emptying the copy's tables"))?;
    }
    Ok(copy)
}

/// SQLite's consistent copy of the database at the settings' URL into a
/// new file at `to` (the database is only read).
async fn vacuum_into(settings: &Settings, to: &Path) -> Result<(), BackupError> {
    let mut db = Db::connect(settings)
        .await
        .map_err(|source| BackupError::Database {
            doing: "connecting",
            source,
        })?;
    let target = to.to_string_lossy().replace('\'', "''");
    let done = db.exec(&format!("VACUUM INTO '{target}'")).await;
    db.close().await;
    done.map_err(|source| BackupError::Database {
        doing: "VACUUM INTO",
        source,
    })
}

/// A temporary directory, removed when dropped.
pub(crate) fn temporary_dir() -> Result<tempfile::TempDir, BackupError> {
    tempfile::tempdir().map_err(|e| BackupError::Failed {
        program: "a temporary directory".into(),
        message: e.to_string(),
    })
}

/// Rewrites the dump's `CREATE SCHEMA s;` (pg_dump writes one for the
/// schema it was asked for, `public` too) as `CREATE SCHEMA IF NOT EXISTS
/// s;`: the scratch database has it already.
fn schema_if_not_exists(file: &Path, schema: &str) -> Result<(), BackupError> {
    let failed = |e: std::io::Error| BackupError::Failed {
        program: "rewriting the dump".into(),
        message: e.to_string(),
    };
    let text = std::fs::read_to_string(file).map_err(failed)?;
    let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
    let mut changed = false;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            for name in [schema, quoted.as_str()] {
                if line == format!("CREATE SCHEMA {name};") {
                    changed = true;
                    return format!("CREATE SCHEMA IF NOT EXISTS {name};");
                }
            }
            line.to_owned()
        })
        .collect();
    if changed {
        std::fs::write(file, lines.join("\n") + "\n").map_err(failed)?;
    }
    Ok(())
}

/// A program and the names it goes by.
struct Tool {
    what: &'static str,
    names: &'static [&'static str],
    install: &'static str,
}

const PG_DUMP: Tool = Tool {
    what: "pg_dump",
    names: &["pg_dump"],
    install: "PostgreSQL's client programs (Debian: postgresql-client; Homebrew: libpq) in a version at least the server's",
};
const PSQL: Tool = Tool {
    what: "psql",
    names: &["psql"],
    install: "PostgreSQL's client programs (Debian: postgresql-client; Homebrew: libpq)",
};
const MY_DUMP: Tool = Tool {
    what: "the MySQL/MariaDB dump tool",
    names: &["mariadb-dump", "mysqldump"],
    install: "the MariaDB or MySQL client programs (Debian: mariadb-client; Homebrew: mariadb or mysql-client)",
};
const MY_CLIENT: Tool = Tool {
    what: "the MySQL/MariaDB client",
    names: &["mariadb", "mysql"],
    install: "the MariaDB or MySQL client programs (Debian: mariadb-client; Homebrew: mariadb or mysql-client)",
};

/// The first of the tool's names found on `PATH`. (A lookup of a few
/// lines; no crate needed for it.)
fn find(tool: Tool) -> Result<PathBuf, BackupError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in tool.names {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(BackupError::MissingTool {
        tool: tool.what,
        looked: tool.names.join(" or "),
        install: tool.install,
    })
}

/// Runs a tool (with `input` as its stdin) and turns a failure into the
/// last lines it printed.
fn run(mut cmd: Command, input: Option<&Path>) -> Result<(), BackupError> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let program = Path::new(&program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or(program);
    if let Some(input) = input {
        let file = std::fs::File::open(input).map_err(|e| BackupError::Failed {
            program: program.clone(),
            message: e.to_string(),
        })?;
        cmd.stdin(file);
    } else {
        cmd.stdin(Stdio::null());
    }
    let out = cmd.output().map_err(|e| BackupError::Failed {
        program: program.clone(),
        message: e.to_string(),
    })?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
    Err(BackupError::Failed {
        program,
        message: tail.into_iter().rev().collect::<Vec<_>>().join(" / "),
    })
}

/// A MySQL server as the client programs take it.
struct MyServer {
    host: String,
    port: u16,
    user: String,
    password: Option<String>,
    database: String,
}

impl MyServer {
    fn parse(url: &str, shown: &str) -> Result<MyServer, BackupError> {
        let bad = |message: &str| BackupError::Url {
            url: shown.to_owned(),
            message: message.to_owned(),
        };
        let u = url::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
        let database = u.path().trim_start_matches('/').to_owned();
        if database.is_empty() {
            return Err(bad("the URL names no database"));
        }
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        Ok(MyServer {
            host: u.host_str().unwrap_or("localhost").to_owned(),
            port: u.port().unwrap_or(3306),
            user: match u.username() {
                "" => "root".to_owned(),
                name => decode(name),
            },
            password: u.password().map(decode),
            database,
        })
    }

    /// The connection arguments; the password goes by the environment,
    /// never on the command line (where `ps` shows it).
    fn args(&self, cmd: &mut Command) {
        cmd.args([
            "--protocol=TCP",
            "-h",
            &self.host,
            "-P",
            &self.port.to_string(),
            "-u",
            &self.user,
        ]);
        if let Some(p) = &self.password {
            cmd.env("MYSQL_PWD", p);
        }
    }

    fn shown_args(&self) -> String {
        let password = if self.password.is_some() { " -p" } else { "" };
        format!(
            "--protocol=TCP -h {} -P {} -u {}{password}",
            self.host, self.port, self.user
        )
    }
}

/// A path quoted for a POSIX shell.
fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "'\\''"))
}
