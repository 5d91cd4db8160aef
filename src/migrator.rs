//! The library's migrator: an application runs its embedded migrations
//! at start-up with the CLI's semantics and tables (version table,
//! history, lock, checksums). One dedicated connection per call; the lock
//! is released and the connection closed on every path.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{DatabaseUrl, Settings};
use crate::db::Connection;
use crate::db::{Db, DbError};
use crate::embed::Embedded;
use crate::execute::{self, ExecuteError, Observer, Options, Request, Silent};
use crate::history::History;
use crate::revision::Direction;
use crate::target::Target;

/// What to do when the database records revisions this binary does not
/// know (a newer release already migrated it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnUnknown {
    /// Fail with [`Error::UnknownRevisions`].
    #[default]
    Error,
    /// Change nothing and report them: the rolling-deploy case, where an
    /// older replica starts against a database a newer one migrated.
    Skip,
}

/// What a call did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The revisions run, in order, with their direction.
    pub steps: Vec<(String, Direction)>,
    /// The heads recorded at the end.
    pub heads: Vec<String>,
    /// Recorded revisions this binary does not know, when
    /// [`OnUnknown::Skip`] let the call return without running anything.
    pub unknown: Vec<String>,
}

impl From<execute::Outcome> for Report {
    fn from(outcome: execute::Outcome) -> Report {
        Report {
            steps: outcome.steps,
            heads: outcome.heads,
            unknown: Vec::new(),
        }
    }
}

/// Why a call failed. The Display form is a sentence a person can act on
/// (the revision, file:line, the statement's first line, the database's
/// message and code); [`Error::hint`] says what to do; `source()` leads to
/// the [`DbError`] and from there to sqlx's own error.
///
/// ```no_run
/// # async fn start(m: braid::Migrator) {
/// if let Err(e) = m.upgrade("sqlite://app.db", "heads").await {
///     eprintln!("error: {e}");
///     if let Some(hint) = e.hint() {
///         eprintln!("hint: {hint}");
///     }
///     std::process::exit(1);
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A revision failed; what it ran before was rolled back where the
    /// engine can (PostgreSQL, SQLite).
    #[error(
        "revision `{revision}` failed ({}) at {}:{line} running `{}`: {}{}",
        direction.as_str(),
        path.display(),
        first_line(statement),
        source.message,
        code_note(source)
    )]
    Failed {
        /// The revision.
        revision: String,
        /// Applying or reverting.
        direction: Direction,
        /// Its file (as embedded: relative to the crate).
        path: PathBuf,
        /// The line of the failing statement in the file.
        line: usize,
        /// The statement.
        statement: String,
        /// Whether its transaction was rolled back (nothing of it stayed).
        rolled_back: bool,
        /// What the database said.
        #[source]
        source: DbError,
    },
    /// Applied files changed since they ran.
    #[error("applied migration files changed since they ran: {}", revisions.join(", "))]
    ChecksumChanged {
        /// The revisions whose files changed.
        revisions: Vec<String>,
    },
    /// A revision outside a transaction stopped halfway.
    #[error("revision `{revision}` stopped halfway outside a transaction")]
    HalfApplied {
        /// The revision.
        revision: String,
    },
    /// The database records revisions the embedded set does not have.
    #[error("the database records revisions this binary does not have: {}", revisions.join(", "))]
    UnknownRevisions {
        /// The revisions.
        revisions: Vec<String>,
    },
    /// The migration lock was not had in time.
    #[error("{0}")]
    LockTimeout(String),
    /// The target does not parse or resolve.
    #[error("bad target: {0}")]
    BadTarget(String),
    /// The embedded files or their graph are invalid.
    #[error("invalid migrations: {0}")]
    Invalid(String),
    /// The database failed otherwise (connection, query).
    #[error("{doing}: {}{}", source.message, code_note(source))]
    Database {
        /// What braid was doing (`connecting`, `reading the version table`).
        doing: String,
        /// What the database said.
        #[source]
        source: DbError,
    },
}

impl Error {
    /// What the operator can do about it, when braid knows.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Failed {
                rolled_back: true, ..
            } => Some("nothing of the revision stayed: fix its SQL (or the data it met) and run again".into()),
            Error::Failed { .. } => Some(
                "the revision runs outside a transaction: the statements before this one stayed; a rerun of the unchanged file continues at this statement".into(),
            ),
            Error::ChecksumChanged { revisions } => Some(format!(
                "if the new content is what should have run, accept it: `braid accept {}` or `Migrator::accept`; else restore the files as they were",
                revisions.join(" ")
            )),
            Error::HalfApplied { revision } => Some(format!(
                "look at what it did, then `braid resolve {revision} --applied` or `--reverted`"
            )),
            Error::UnknownRevisions { .. } => Some(
                "a newer release migrated this database: deploy it, or start with `OnUnknown::Skip` to run without migrating".into(),
            ),
            Error::Database { source, .. } if source.connection => {
                Some("the database was not reached: check the URL and that the server is up".into())
            }
            _ => None,
        }
    }
}

fn first_line(statement: &str) -> &str {
    statement
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("--"))
        .unwrap_or_default()
}

fn code_note(e: &DbError) -> String {
    match (&e.code, &e.constraint) {
        (Some(code), Some(c)) => format!(" (code {code}, constraint {c})"),
        (Some(code), None) => format!(" (code {code})"),
        (None, Some(c)) => format!(" (constraint {c})"),
        (None, None) => String::new(),
    }
}

impl Error {
    fn database(doing: impl Into<String>, source: DbError) -> Error {
        Error::Database {
            doing: doing.into(),
            source,
        }
    }
}

impl From<ExecuteError> for Error {
    fn from(e: ExecuteError) -> Error {
        match e {
            ExecuteError::StepFailed {
                revision,
                direction,
                path,
                line,
                statement,
                source,
                rolled_back,
                ..
            } => Error::Failed {
                revision,
                direction,
                path,
                line,
                statement,
                rolled_back,
                source,
            },
            ExecuteError::Changed { files } => Error::ChecksumChanged {
                revisions: files.into_iter().map(|f| f.revision).collect(),
            },
            ExecuteError::Blocked { row } => Error::HalfApplied {
                revision: row.revision,
            },
            ExecuteError::UnknownRecorded { revisions } => Error::UnknownRevisions { revisions },
            ExecuteError::Target(t) => Error::BadTarget(t.to_string()),
            ExecuteError::Database { doing, source } if doing.contains("lock") => {
                Error::LockTimeout(source.message)
            }
            ExecuteError::Database { doing, source } => Error::database(doing, source),
            e => Error::Invalid(e.to_string()),
        }
    }
}

/// Where a call runs: a URL, a sqlx pool, or a connection the application
/// opened. Built with `.into()` (or implicitly by the migrator's methods)
/// from `&str`, `String`, `&SqlitePool`/`&PgPool`/`&MySqlPool`, a
/// connection of any of the three engines, or a [`Connection`].
#[non_exhaustive]
pub enum Database {
    /// Opened for the call and closed at its end.
    Url(String),
    /// Taken for the call and closed at its end.
    Connection(Connection),
    /// One connection taken out of the pool (detached) for the call.
    #[cfg(feature = "sqlite")]
    SqlitePool(sqlx::SqlitePool),
    /// One connection taken out of the pool (detached) for the call.
    #[cfg(feature = "postgres")]
    PgPool(sqlx::PgPool),
    /// One connection taken out of the pool (detached) for the call.
    #[cfg(feature = "mysql")]
    MySqlPool(sqlx::MySqlPool),
}

impl From<&str> for Database {
    fn from(url: &str) -> Database {
        Database::Url(url.to_owned())
    }
}

impl From<String> for Database {
    fn from(url: String) -> Database {
        Database::Url(url)
    }
}

impl From<&String> for Database {
    fn from(url: &String) -> Database {
        Database::Url(url.clone())
    }
}

impl From<Connection> for Database {
    fn from(conn: Connection) -> Database {
        Database::Connection(conn)
    }
}

/// Pools and connections of each compiled-in engine.
macro_rules! database_from {
    ($feature:literal, $pool:ty => $variant:ident, $conn:ty) => {
        #[cfg(feature = $feature)]
        impl From<&$pool> for Database {
            fn from(pool: &$pool) -> Database {
                Database::$variant(pool.clone())
            }
        }
        #[cfg(feature = $feature)]
        impl From<$conn> for Database {
            fn from(conn: $conn) -> Database {
                Database::Connection(conn.into())
            }
        }
    };
}

database_from!("sqlite", sqlx::SqlitePool => SqlitePool, sqlx::SqliteConnection);
database_from!("postgres", sqlx::PgPool => PgPool, sqlx::PgConnection);
database_from!("mysql", sqlx::MySqlPool => MySqlPool, sqlx::MySqlConnection);

/// A target: a [`Target`] (`Target::heads()`, `Target::parse("…")?`) or a
/// string in the CLI's grammar, parsed when the call starts.
pub trait IntoTarget {
    /// The parsed target.
    ///
    /// # Errors
    ///
    /// [`Error::BadTarget`] when the text does not parse.
    fn into_target(self) -> Result<Target, Error>;
}

impl IntoTarget for Target {
    fn into_target(self) -> Result<Target, Error> {
        Ok(self)
    }
}

impl IntoTarget for &Target {
    fn into_target(self) -> Result<Target, Error> {
        Ok(self.clone())
    }
}

impl IntoTarget for &str {
    fn into_target(self) -> Result<Target, Error> {
        Target::parse(self).map_err(|e| Error::BadTarget(e.to_string()))
    }
}

impl IntoTarget for &String {
    fn into_target(self) -> Result<Target, Error> {
        self.as_str().into_target()
    }
}

impl IntoTarget for String {
    fn into_target(self) -> Result<Target, Error> {
        self.as_str().into_target()
    }
}

/// Runs embedded migrations.
///
/// ```no_run
/// # async fn start() -> Result<(), braid::migrator::Error> {
/// let report = braid::Migrator::new(braid::embed!())
///     .lock_timeout(std::time::Duration::from_secs(60))
///     .upgrade("postgres://app@db/app", "heads")
///     .await?;
/// println!("at {}", report.heads.join(", "));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Migrator {
    embedded: Embedded,
    version_table: String,
    schema: Option<String>,
    lock_timeout: Option<Duration>,
    timeouts: crate::config::Timeouts,
    on_unknown: OnUnknown,
}

impl Migrator {
    /// A migrator over `embedded`, with the CLI's defaults (version table
    /// `braid_version`, no schema, waiting for the lock as long as it
    /// takes, unknown recorded revisions an error).
    pub fn new(embedded: Embedded) -> Migrator {
        Migrator {
            embedded,
            version_table: crate::config::DEFAULT_VERSION_TABLE.to_owned(),
            schema: None,
            lock_timeout: None,
            timeouts: Default::default(),
            on_unknown: OnUnknown::Error,
        }
    }

    /// The version table (`alembic_version` takes over Alembic's).
    pub fn version_table(mut self, table: impl Into<String>) -> Migrator {
        self.version_table = table.into();
        self
    }

    /// The PostgreSQL schema of the version tables and the search path.
    /// MySQL's schema is the URL's database and SQLite has none: there the
    /// setting is ignored, with a `tracing` warning at each call.
    pub fn schema(mut self, schema: impl Into<String>) -> Migrator {
        self.schema = Some(schema.into());
        self
    }

    /// How long to wait for the migration lock.
    pub fn lock_timeout(mut self, timeout: Duration) -> Migrator {
        self.lock_timeout = Some(timeout);
        self
    }

    /// How long each statement may wait for a table's lock, how often a
    /// revision that ran out of it is tried again, and how long a
    /// statement may run (braid.toml's `[database] lock_timeout`,
    /// `lock_retries`, `statement_timeout`; a revision's header overrides
    /// them).
    ///
    /// ```
    /// # fn doc(embedded: braid::embed::Embedded) {
    /// use std::time::Duration;
    /// let migrator = braid::Migrator::new(embedded).statement_timeouts(braid::config::Timeouts {
    ///     lock: Some(Duration::from_secs(2)),
    ///     lock_retries: 5,
    ///     statement: None,
    /// });
    /// # }
    /// ```
    pub fn statement_timeouts(mut self, timeouts: crate::config::Timeouts) -> Migrator {
        self.timeouts = timeouts;
        self
    }

    /// What to do about recorded revisions this binary does not know.
    pub fn on_unknown(mut self, on_unknown: OnUnknown) -> Migrator {
        self.on_unknown = on_unknown;
        self
    }

    /// The embedded set as a history (also for [`crate::testing`]).
    pub(crate) fn history(&self) -> Result<History, Error> {
        self.embedded
            .history()
            .map_err(|e| Error::Invalid(e.to_string()))
    }

    /// The settings of a call on `url` (also for [`crate::testing`]).
    pub(crate) fn settings(&self, url: &str) -> Result<Settings, Error> {
        Ok(Settings {
            config_file: None,
            directories: Vec::new(),
            url: DatabaseUrl::parse(url).map_err(Error::Invalid)?,
            url_source: "the application".into(),
            schema: self.schema.clone(),
            version_table: self.version_table.clone(),
            single_head: false,
            dev_url: None,
            schema_dump: None,
            schema_ignore: Vec::new(),
            schema_desired: Vec::new(),
            schema_models: Vec::new(),
            python: "python3".into(),
            project_dir: PathBuf::from("."),
            fleet: Default::default(),
            lint: Default::default(),
            timeouts: self.timeouts,
        })
    }

    /// The run's own connection: opened from a URL, taken out of a pool,
    /// or the one the application handed over.
    async fn open(&self, database: Database) -> Result<Db, Error> {
        let db = self.open_any(database).await?;
        #[cfg(feature = "tracing")]
        if let Some(schema) = self.schema.as_deref()
            && db.engine() != crate::config::Engine::Postgres
        {
            tracing::warn!(
                target: "braid",
                schema,
                engine = db.engine().name(),
                "the schema setting is for PostgreSQL; on this engine it is ignored"
            );
        }
        Ok(db)
    }

    async fn open_any(&self, database: Database) -> Result<Db, Error> {
        let conn = match database {
            Database::Url(url) => {
                return Db::connect(&self.settings(&url)?)
                    .await
                    .map_err(|e| Error::database("connecting", e));
            }
            Database::Connection(conn) => Ok(conn),
            #[cfg(feature = "sqlite")]
            Database::SqlitePool(pool) => pool.acquire().await.map(|c| c.detach().into()),
            #[cfg(feature = "postgres")]
            Database::PgPool(pool) => pool.acquire().await.map(|c| c.detach().into()),
            #[cfg(feature = "mysql")]
            Database::MySqlPool(pool) => pool.acquire().await.map(|c| c.detach().into()),
        }
        .map_err(|e| Error::database("taking a connection from the pool", e.into()))?;
        Db::from_connection(conn, self.schema.as_deref(), &self.version_table)
            .await
            .map_err(|e| Error::database("preparing the connection", e))
    }

    fn options(&self) -> Options {
        Options {
            lock_timeout: self.lock_timeout,
            timeouts: self.timeouts,
            stop: None,
            // An embedded application's revisions were linted when they
            // were written (`braid lint`, `check`).
            #[cfg(feature = "lint")]
            lint: None,
            measure: false,
        }
    }

    /// Applies every revision needed to reach `target`: [`Target::heads`]
    /// or a string in the CLI's grammar (`heads`, `billing@head`, `ae10`,
    /// `+1`). `database` is a URL, a sqlx pool (`&pool`: one connection is
    /// taken out of it for the run) or a connection the application opened.
    ///
    /// ```no_run
    /// # async fn start(pool: sqlx::PgPool) -> Result<(), braid::migrator::Error> {
    /// use braid::target::Target;
    /// let migrator = braid::Migrator::new(braid::embed!());
    /// migrator.upgrade(&pool, Target::heads()).await?;
    /// migrator.upgrade("postgres://app@db/app", "billing@head").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// See [`Error`]: a failed revision, changed files, a half-applied
    /// step, unknown recorded revisions, a lock timeout, a bad target.
    pub async fn upgrade(
        &self,
        database: impl Into<Database>,
        target: impl IntoTarget,
    ) -> Result<Report, Error> {
        self.upgrade_with(database, target, &mut Silent).await
    }

    /// [`Migrator::upgrade`], reporting progress to `observer`.
    ///
    /// ```no_run
    /// # async fn start() -> Result<(), braid::migrator::Error> {
    /// let mut progress = braid::execute::Silent; // or your own Observer
    /// braid::Migrator::new(braid::embed!())
    ///     .upgrade_with("sqlite://app.db", "heads", &mut progress)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Migrator::upgrade`].
    pub async fn upgrade_with(
        &self,
        database: impl Into<Database>,
        target: impl IntoTarget,
        observer: &mut dyn Observer,
    ) -> Result<Report, Error> {
        self.migrate(database.into(), target, Direction::Up, observer)
            .await
    }

    /// Reverts down to `target`.
    ///
    /// ```no_run
    /// # async fn back() -> Result<(), braid::migrator::Error> {
    /// braid::Migrator::new(braid::embed!())
    ///     .downgrade("sqlite://app.db", "-1")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Migrator::upgrade`], and a revision without a down section.
    pub async fn downgrade(
        &self,
        database: impl Into<Database>,
        target: impl IntoTarget,
    ) -> Result<Report, Error> {
        self.migrate(database.into(), target, Direction::Down, &mut Silent)
            .await
    }

    async fn migrate(
        &self,
        database: Database,
        target: impl IntoTarget,
        direction: Direction,
        observer: &mut dyn Observer,
    ) -> Result<Report, Error> {
        let h = self.history()?;
        let t = target.into_target()?;
        let mut db = self.open(database).await?;
        let result = async {
            if self.on_unknown == OnUnknown::Skip {
                let recorded = execute::current_heads(&mut db).await?;
                let unknown: Vec<String> = recorded
                    .iter()
                    .filter(|r| h.graph.node(r).is_none())
                    .cloned()
                    .collect();
                if !unknown.is_empty() {
                    return Ok(Report {
                        steps: Vec::new(),
                        heads: recorded,
                        unknown,
                    });
                }
            }
            let req = match direction {
                Direction::Up => Request::Upgrade(&t),
                Direction::Down => Request::Downgrade(&t),
            };
            let mut traced = execute::trace::Traced { inner: observer };
            let outcome = execute::run(&mut db, &h, req, &self.options(), &mut traced).await?;
            Ok(Report::from(outcome))
        }
        .await;
        db.close().await;
        result.map_err(|e: ExecuteError| e.into())
    }

    /// Records `target` as current without running SQL.
    ///
    /// ```no_run
    /// # async fn adopt() -> Result<(), braid::migrator::Error> {
    /// // A database whose schema was built by hand, now at the head.
    /// braid::Migrator::new(braid::embed!())
    ///     .stamp("sqlite://app.db", braid::target::Target::heads())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// A bad target, a lock timeout, a database error.
    pub async fn stamp(
        &self,
        database: impl Into<Database>,
        target: impl IntoTarget,
    ) -> Result<Report, Error> {
        let h = self.history()?;
        let targets = [target.into_target()?];
        let mut db = self.open(database.into()).await?;
        let req = Request::Stamp {
            targets: &targets,
            purge: false,
        };
        let mut traced = execute::trace::Traced { inner: &mut Silent };
        let result = execute::run(&mut db, &h, req, &self.options(), &mut traced).await;
        db.close().await;
        let outcome = result?;
        Ok(Report::from(outcome))
    }

    /// Accepts the current content of applied files whose checksum changed
    /// since they ran ([`Error::ChecksumChanged`]): the history records the
    /// new checksums, no SQL runs. `revisions` names the ones to accept;
    /// empty accepts every changed file. The operator's other path is the
    /// CLI's `braid accept [REVISION…]` on the same database.
    ///
    /// ```no_run
    /// # async fn deploy(m: braid::Migrator) -> Result<(), braid::migrator::Error> {
    /// use braid::migrator::Error;
    /// match m.upgrade("sqlite://app.db", "heads").await {
    ///     // A comment fixed in an applied file: what ran is still right.
    ///     Err(Error::ChecksumChanged { revisions }) => {
    ///         m.accept("sqlite://app.db", &revisions).await?;
    ///         m.upgrade("sqlite://app.db", "heads").await?;
    ///     }
    ///     other => { other?; }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// A revision that is not applied or not known, a database error.
    pub async fn accept(
        &self,
        database: impl Into<Database>,
        revisions: &[impl AsRef<str>],
    ) -> Result<Report, Error> {
        let h = self.history()?;
        let targets = revisions
            .iter()
            .map(|r| r.as_ref().into_target())
            .collect::<Result<Vec<_>, _>>()?;
        let mut db = self.open(database.into()).await?;
        let result = execute::run(
            &mut db,
            &h,
            Request::Accept(&targets),
            &self.options(),
            &mut Silent,
        )
        .await;
        db.close().await;
        let outcome = result?;
        Ok(Report::from(outcome))
    }

    /// The revisions the database records as current heads.
    ///
    /// ```no_run
    /// # async fn show() -> Result<(), braid::migrator::Error> {
    /// let heads = braid::Migrator::new(braid::embed!())
    ///     .current("sqlite://app.db")
    ///     .await?;
    /// println!("at {}", heads.join(", "));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// A database error.
    pub async fn current(&self, database: impl Into<Database>) -> Result<Vec<String>, Error> {
        let mut db = self.open(database.into()).await?;
        let heads = execute::current_heads(&mut db).await;
        db.close().await;
        Ok(heads?)
    }

    /// Runs every embedded revision up, down and up again on a scratch
    /// database made on the server of `url` (SQLite: in memory), comparing
    /// the schema at each step, as `braid verify` does, and drops the
    /// scratch database: for an application's own tests. The database at
    /// `url` itself is not touched.
    ///
    /// ```no_run
    /// # async fn test() -> Result<(), braid::migrator::Error> {
    /// let reports = braid::Migrator::new(braid::embed!())
    ///     .verify("postgres://postgres@localhost/postgres")
    ///     .await?;
    /// assert!(reports.iter().all(|r| r.status == braid::verify::Status::Ok));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// Invalid migrations, a scratch database that cannot be made, read or
    /// dropped, a revision that fails to run (in its report, not here).
    #[cfg(feature = "tools")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tools")))]
    pub async fn verify(&self, url: &str) -> Result<Vec<crate::verify::Report>, Error> {
        let h = self.history()?;
        let settings = self.settings(url)?;
        let mut scratch = crate::schema::scratch::Scratch::create(&settings)
            .await
            .map_err(|e| {
                let source = DbError {
                    message: e.to_string(),
                    ..DbError::default()
                };
                Error::database("making a scratch database", source)
            })?;
        let all = vec![true; h.graph.len()];
        let filter = crate::schema::Filter::for_settings(&settings);
        let reports =
            crate::verify::stairway(&mut scratch.db, &h, &all, &filter, &mut |_| {}).await;
        let dropped = scratch.drop().await;
        let reports = reports.map_err(|e| Error::Invalid(e.to_string()))?;
        dropped.map_err(|e| Error::database("dropping the scratch database", e))?;
        Ok(reports)
    }

    /// Read-only: pending revisions, unknown recorded ones, changed files
    /// and half-applied steps, as `braid check` reports them. No lock.
    ///
    /// ```no_run
    /// # async fn ready() -> Result<bool, braid::migrator::Error> {
    /// // A readiness probe: the database is at the binary's heads.
    /// let state = braid::Migrator::new(braid::embed!())
    ///     .check("postgres://app@db/app")
    ///     .await?;
    /// Ok(state.pending.is_empty() && state.changed.is_empty())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// Invalid migrations, a database error.
    pub async fn check(&self, database: impl Into<Database>) -> Result<execute::Inspection, Error> {
        let h = self.history()?;
        let mut db = self.open(database.into()).await?;
        let ins = execute::inspect(&mut db, &h).await;
        db.close().await;
        Ok(ins?)
    }

    /// The steps an upgrade (or downgrade) to `target` would run, in order:
    /// a dry run.
    ///
    /// ```no_run
    /// # async fn preview() -> Result<(), braid::migrator::Error> {
    /// use braid::revision::Direction;
    /// let steps = braid::Migrator::new(braid::embed!())
    ///     .plan("sqlite://app.db", Direction::Up, "heads")
    ///     .await?;
    /// for (revision, _) in steps {
    ///     println!("would apply {revision}");
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// A bad target, unknown recorded revisions, a database error.
    pub async fn plan(
        &self,
        database: impl Into<Database>,
        direction: Direction,
        target: impl IntoTarget,
    ) -> Result<Vec<(String, Direction)>, Error> {
        let h = self.history()?;
        let t = target.into_target()?;
        let recorded = self.current(database).await?;
        let mut current = Vec::new();
        for r in &recorded {
            current.push(h.graph.node(r).ok_or_else(|| Error::UnknownRevisions {
                revisions: vec![r.clone()],
            })?);
        }
        let plan = match direction {
            Direction::Up => crate::plan::upgrade(&h.graph, &current, &t),
            Direction::Down => crate::plan::downgrade(&h.graph, &current, &t),
        }
        .map_err(|e| Error::BadTarget(e.to_string()))?;
        Ok(plan
            .steps
            .iter()
            .map(|s| (h.graph.id(s.node).to_string(), s.direction))
            .collect())
    }
}
