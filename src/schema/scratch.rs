//! Scratch databases: where braid builds a schema to look at it, never
//! the database at the URL. SQLite: an in-memory database on one pinned
//! connection. PostgreSQL: `CREATE DATABASE braid_scratch_<time>_<random>
//! TEMPLATE template0` on the URL's server (or `--dev-url`'s), with the
//! configured schema created inside. MySQL: a database of that name.
//!
//! The caller drops a scratch database with [`Scratch::drop`] on every
//! path; a process killed before that leaves one behind, and the next
//! scratch made on that server sweeps those older than an hour (the name
//! carries its creation time).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::{DatabaseUrl, Engine, Settings};
use crate::db::{Db, DbError};

/// The prefix of every scratch database's name.
pub const PREFIX: &str = "braid_scratch_";

/// Leftovers older than this are swept.
const STALE: Duration = Duration::from_secs(3600);

/// Why no scratch database could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScratchError {
    /// The dev server could not be reached.
    #[error("cannot connect to the scratch server {url}: {error}")]
    Connect {
        /// The dev URL, password hidden.
        url: String,
        /// The error.
        error: DbError,
    },
    /// The scratch database could not be created (a role without CREATEDB, …).
    #[error("cannot create a scratch database on {url}: {error}")]
    Create {
        /// The dev URL, password hidden.
        url: String,
        /// The error.
        error: DbError,
    },
    /// The dev URL does not parse.
    #[error("the scratch URL {url} is not usable: {message}")]
    Url {
        /// The URL as given, password hidden.
        url: String,
        /// What is wrong.
        message: String,
    },
}

impl ScratchError {
    /// What the user can do about it.
    pub fn hints(&self) -> Vec<String> {
        let mut h = vec![
            "name a server where braid may create and drop databases with `--dev-url URL` or `[schema] dev_url` in braid.toml".to_owned(),
        ];
        if let ScratchError::Create { error, .. } = self
            && (error.code.as_deref() == Some("42501") || error.code.as_deref() == Some("1044"))
        {
            h.insert(
                0,
                "the role lacks the right to create databases: `ALTER ROLE … CREATEDB` (PostgreSQL; `make db-up` grants it to the local role) or `GRANT ALL ON `braid_scratch_%`.* TO …` (MySQL)".to_owned(),
            );
        }
        h
    }
}

enum Home {
    Memory,
    Server { admin: Box<Db>, name: String },
}

/// A scratch database and a connection to it.
pub struct Scratch {
    /// The connection to it.
    pub db: Db,
    home: Home,
    /// What to call it in messages (no password).
    pub label: String,
    url: String,
}

fn fresh_name() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let random = blake3::hash(format!("{:?}{}", now, std::process::id()).as_bytes()).to_hex();
    format!("{PREFIX}{}_{}", now.as_secs(), &random[..10])
}

/// Whether a leftover's name says it is older than [`STALE`].
fn is_stale(name: &str, now: SystemTime) -> bool {
    let Some(secs) = name
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.split('_').next())
        .and_then(|s| s.parse::<u64>().ok())
    else {
        return false;
    };
    let made = UNIX_EPOCH + Duration::from_secs(secs);
    now.duration_since(made).is_ok_and(|age| age > STALE)
}

fn with_url(settings: &Settings, url: &str) -> Result<Settings, ScratchError> {
    let mut s = settings.clone();
    s.url = DatabaseUrl::parse(url).map_err(|message| ScratchError::Url {
        url: crate::config::redact(url),
        message,
    })?;
    Ok(s)
}

impl Scratch {
    /// Makes a scratch database of the settings' engine, with the
    /// settings' schema and version table.
    ///
    /// # Errors
    ///
    /// [`ScratchError`]: the dev server cannot be reached, the database cannot
    /// be created (a role without CREATEDB), the URL does not parse.
    ///
    /// ```no_run
    /// # async fn doc(settings: &braid::config::Settings) -> Result<(), Box<dyn std::error::Error>> {
    /// let mut scratch = braid::schema::scratch::Scratch::create(settings).await?;
    /// scratch.db.exec("CREATE TABLE t (id integer)").await?;
    /// scratch.drop().await?;
    /// # Ok(()) }
    /// ```
    pub async fn create(settings: &Settings) -> Result<Scratch, ScratchError> {
        Scratch::copy_of(settings, None).await
    }

    /// [`Scratch::copy_of`] on `dev_url` when one is given (a `--dev-url`
    /// flag), else where the settings say (`[schema] dev_url`, else the
    /// URL's server).
    ///
    /// # Errors
    ///
    /// As [`Scratch::create`].
    pub async fn on(
        settings: &Settings,
        dev_url: Option<&str>,
        template: Option<&str>,
    ) -> Result<Scratch, ScratchError> {
        match dev_url {
            Some(u) => {
                let mut settings = settings.clone();
                settings.dev_url = Some(u.to_owned());
                Scratch::copy_of(&settings, template).await
            }
            None => Scratch::copy_of(settings, template).await,
        }
    }

    /// [`Scratch::create`], as a copy of the database `template` on the
    /// dev server (PostgreSQL's `CREATE DATABASE … TEMPLATE`: a file copy,
    /// far faster than building a large schema statement by statement).
    /// The copy fails while anyone else is connected to `template`; the
    /// caller then builds the scratch database another way. Other engines
    /// ignore `template`.
    ///
    /// # Errors
    ///
    /// As [`Scratch::create`].
    ///
    /// ```no_run
    /// # async fn doc(settings: &braid::config::Settings) -> Result<(), Box<dyn std::error::Error>> {
    /// use braid::schema::scratch::Scratch;
    /// let scratch = Scratch::copy_of(settings, Some("staging")).await?;
    /// scratch.drop().await?;
    /// # Ok(()) }
    /// ```
    pub async fn copy_of(
        settings: &Settings,
        template: Option<&str>,
    ) -> Result<Scratch, ScratchError> {
        let engine = settings.url.engine().map_err(|message| ScratchError::Url {
            url: settings.url.to_string(),
            message,
        })?;
        let server = settings
            .dev_url
            .clone()
            .unwrap_or_else(|| settings.url.expose().to_owned());
        match engine {
            Engine::Sqlite => {
                let url = settings
                    .dev_url
                    .clone()
                    .unwrap_or_else(|| "sqlite::memory:".to_owned());
                let s = with_url(settings, &url)?;
                let db = Db::connect(&s)
                    .await
                    .map_err(|error| ScratchError::Connect {
                        url: s.url.to_string(),
                        error,
                    })?;
                Ok(Scratch {
                    db,
                    home: Home::Memory,
                    label: s.url.to_string(),
                    url: s.url.expose().to_owned(),
                })
            }
            Engine::Postgres | Engine::Mysql => {
                let admin_settings = with_url(settings, &server)?;
                let shown = admin_settings.url.to_string();
                let mut admin_settings_no_schema = admin_settings.clone();
                admin_settings_no_schema.schema = None;
                let mut admin = Db::connect(&admin_settings_no_schema)
                    .await
                    .map_err(|error| ScratchError::Connect {
                        url: shown.clone(),
                        error,
                    })?;
                sweep(&mut admin).await;
                if let Some(t) = template.filter(|_| engine == Engine::Postgres) {
                    // The server waits five seconds for other sessions on a
                    // template before it gives up: ask first.
                    let others = admin
                        .text_rows(
                            "SELECT count(*)::text FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                            &[t],
                        )
                        .await;
                    let idle = matches!(others.as_deref(), Ok([row]) if row.first() == Some(&Some("0".to_owned())));
                    if !idle {
                        admin.close().await;
                        return Err(ScratchError::Create {
                            url: shown,
                            error: DbError {
                                message: format!("other sessions are connected to `{t}`"),
                                code: None,
                                connection: false,
                                ..Default::default()
                            },
                        });
                    }
                }
                let name = fresh_name();
                let create = match engine {
                    Engine::Postgres => format!(
                        "CREATE DATABASE \"{name}\" TEMPLATE \"{}\"",
                        template.unwrap_or("template0").replace('"', "\"\"")
                    ),
                    _ => format!("CREATE DATABASE `{name}`"),
                };
                if let Err(error) = admin.exec(&create).await {
                    admin.close().await;
                    return Err(ScratchError::Create { url: shown, error });
                }
                let mut url = match url::Url::parse(&server) {
                    Ok(u) => u,
                    Err(e) => {
                        let _ = drop_database(&mut admin, &name).await;
                        admin.close().await;
                        return Err(ScratchError::Url {
                            url: shown,
                            message: e.to_string(),
                        });
                    }
                };
                url.set_path(&format!("/{name}"));
                let s = with_url(settings, url.as_str())?;
                let label = s.url.to_string();
                let exposed = s.url.expose().to_owned();
                let connected = async {
                    let mut db = Db::connect(&s).await?;
                    if engine == Engine::Postgres {
                        // A throwaway database needs no durable commits:
                        // building a schema statement by statement is
                        // otherwise one WAL flush per statement.
                        db.exec("SET synchronous_commit TO off").await?;
                    }
                    if let Some(sql) = db.dialect.create_schema() {
                        db.exec(&sql).await?;
                    }
                    Ok::<Db, DbError>(db)
                }
                .await;
                match connected {
                    Ok(db) => Ok(Scratch {
                        db,
                        home: Home::Server {
                            admin: Box::new(admin),
                            name,
                        },
                        label,
                        url: exposed,
                    }),
                    Err(error) => {
                        let _ = drop_database(&mut admin, &name).await;
                        admin.close().await;
                        Err(ScratchError::Connect { url: label, error })
                    }
                }
            }
        }
    }

    /// Its URL, password included: for a tool that must connect to it
    /// (`psql` restoring a copy).
    pub fn expose_url(&self) -> &str {
        &self.url
    }

    /// Closes the connection and drops the database.
    ///
    /// # Errors
    ///
    /// The server refused to drop it (the name is in the error).
    ///
    /// ```no_run
    /// # async fn doc(settings: &braid::config::Settings) -> Result<(), Box<dyn std::error::Error>> {
    /// let scratch = braid::schema::scratch::Scratch::create(settings).await?;
    /// scratch.drop().await?;
    /// # Ok(()) }
    /// ```
    pub async fn drop(self) -> Result<(), DbError> {
        self.db.close().await;
        match self.home {
            Home::Memory => Ok(()),
            Home::Server { mut admin, name } => {
                let r = drop_database(&mut admin, &name).await;
                admin.close().await;
                r
            }
        }
    }
}

async fn drop_database(admin: &mut Db, name: &str) -> Result<(), DbError> {
    let sql = match admin.engine() {
        Engine::Postgres => format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        _ => format!("DROP DATABASE IF EXISTS `{name}`"),
    };
    admin.exec(&sql).await
}

/// Drops scratch databases that killed runs left behind (older than an
/// hour, so never one a running process uses). Best effort.
async fn sweep(admin: &mut Db) {
    let sql = match admin.engine() {
        Engine::Postgres => {
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'braid\\_scratch\\_%'"
        }
        _ => {
            "SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'braid\\_scratch\\_%'"
        }
    };
    let Ok(rows) = admin.text_rows(sql, &[]).await else {
        return;
    };
    let now = SystemTime::now();
    for name in rows
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
    {
        if is_stale(&name, now) {
            let _ = drop_database(admin, &name).await;
        }
    }
}

/// The name of the PostgreSQL database `db` is connected to, when it is
/// at most `limit` bytes: what [`Scratch::copy_of`] may copy. `None` on
/// other engines, for a larger database, or when the server does not say.
///
/// ```no_run
/// # async fn doc(db: &mut braid::db::Db) {
/// if let Some(name) = braid::schema::scratch::copyable(db, 64 << 20).await {
///     println!("{name} can be copied");
/// }
/// # }
/// ```
pub async fn copyable(db: &mut Db, limit: u64) -> Option<String> {
    if db.engine() != Engine::Postgres {
        return None;
    }
    let rows = db
        .text_rows(
            "SELECT current_database()::text, pg_database_size(current_database())::text",
            &[],
        )
        .await
        .ok()?;
    match rows.into_iter().next()?.as_slice() {
        [Some(name), Some(size)] if size.parse::<u64>().is_ok_and(|b| b <= limit) => {
            Some(name.clone())
        }
        _ => None,
    }
}

/// Empties those of `tables` that hold rows (a copy made by
/// [`Scratch::copy_of`] holds the original's): one query finds them, most
/// being empty in a development database, one `TRUNCATE` empties them.
///
/// # Errors
///
/// A table that is not there, or the database's refusal.
///
/// ```no_run
/// # async fn doc(scratch: &mut braid::db::Db) -> Result<(), braid::db::DbError> {
/// braid::schema::scratch::empty(scratch, ["users", "orders"].into_iter()).await?;
/// # Ok(()) }
/// ```
pub async fn empty<'a>(db: &mut Db, tables: impl Iterator<Item = &'a str>) -> Result<(), DbError> {
    let probes: Vec<String> = tables
        .map(|t| {
            let q = db.dialect.quote(t);
            format!(
                "SELECT '{}' WHERE EXISTS (SELECT 1 FROM {q})",
                q.replace('\'', "''")
            )
        })
        .collect();
    if probes.is_empty() {
        return Ok(());
    }
    let full: Vec<String> = db
        .text_rows(&probes.join(" UNION ALL "), &[])
        .await?
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .collect();
    if !full.is_empty() {
        db.exec(&format!("TRUNCATE {} CASCADE", full.join(", ")))
            .await?;
    }
    Ok(())
}

/// The scratch databases on the server `db` is connected to (for tests
/// and for `make` targets that check nothing was left behind).
///
/// # Errors
///
/// The server's catalog cannot be read.
///
/// ```no_run
/// # async fn doc(db: &mut braid::db::Db) -> Result<(), Box<dyn std::error::Error>> {
/// assert!(braid::schema::scratch::list(db).await?.is_empty(), "a scratch database was left");
/// # Ok(()) }
/// ```
pub async fn list(db: &mut Db) -> Result<Vec<String>, DbError> {
    let sql = match db.engine() {
        Engine::Postgres => {
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'braid\\_scratch\\_%'"
        }
        Engine::Mysql => {
            "SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'braid\\_scratch\\_%'"
        }
        Engine::Sqlite => return Ok(Vec::new()),
    };
    Ok(db
        .text_rows(sql, &[])
        .await?
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staleness_is_read_from_the_name() {
        let now = UNIX_EPOCH + Duration::from_secs(100_000);
        assert!(is_stale("braid_scratch_1000_abcdef", now));
        assert!(!is_stale("braid_scratch_99000_abcdef", now));
        assert!(!is_stale("braid_scratch_x_abcdef", now));
        assert!(!is_stale("production", now));
        let name = fresh_name();
        assert!(name.starts_with(PREFIX));
        assert!(!is_stale(&name, SystemTime::now()));
    }
}
