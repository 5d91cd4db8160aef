//! Database access: one dedicated connection per run to SQLite, PostgreSQL
//! or MySQL/MariaDB, a closed enum picked from the URL scheme (not
//! `sqlx::Any`: the engines differ in locks, DDL transactions and error
//! codes, and that difference is the point), the version table, the
//! append-only history, and the run lock.
//!
//! This module knows SQL and connections, not graphs or plans.

pub mod dialect;

#[cfg(feature = "sqlite")]
use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::Connection as _;
#[cfg(feature = "mysql")]
use sqlx::mysql::MySqlConnection;
#[cfg(feature = "postgres")]
use sqlx::postgres::PgConnection;
#[cfg(feature = "sqlite")]
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

pub use dialect::Dialect;

use crate::config::{Engine, Settings};

/// An error the database reported, or a failure to reach it: what it
/// said, its code, the constraint it names, and the driver's own error
/// as [`std::error::Error::source`].
#[derive(Debug, Clone, Default)]
pub struct DbError {
    /// What the database (or the driver) said.
    pub message: String,
    /// The engine's own error code (SQLSTATE, MySQL number, SQLite code).
    pub code: Option<String>,
    /// The database was not reached, or the connection was lost: no
    /// answer from the database itself.
    pub connection: bool,
    /// The constraint the error concerns, where the engine names it
    /// (PostgreSQL).
    pub constraint: Option<String>,
    /// The driver's error, when the error came from sqlx.
    pub driver: Option<std::sync::Arc<sqlx::Error>>,
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// `source()` is sqlx's own error, as `sqlx::Error` (downcast it).
impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.driver
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Equal when the database said the same: the driver's error is not compared.
impl PartialEq for DbError {
    fn eq(&self, other: &DbError) -> bool {
        (&self.message, &self.code, self.connection, &self.constraint)
            == (
                &other.message,
                &other.code,
                other.connection,
                &other.constraint,
            )
    }
}

impl Eq for DbError {}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        let mut out = match e.as_database_error() {
            Some(d) => {
                #[cfg(feature = "mysql")]
                let code = match d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
                    Some(my) => Some(my.number().to_string()),
                    None => d.code().map(|c| c.into_owned()),
                };
                #[cfg(not(feature = "mysql"))]
                let code = d.code().map(|c| c.into_owned());
                DbError {
                    message: d.message().to_owned(),
                    code,
                    constraint: d.constraint().map(str::to_owned),
                    ..DbError::default()
                }
            }
            None => DbError {
                connection: matches!(
                    e,
                    sqlx::Error::Io(_)
                        | sqlx::Error::Tls(_)
                        | sqlx::Error::Protocol(_)
                        | sqlx::Error::PoolTimedOut
                        | sqlx::Error::PoolClosed
                        | sqlx::Error::WorkerCrashed
                ),
                message: e.to_string(),
                ..DbError::default()
            },
        };
        out.driver = Some(std::sync::Arc::new(e));
        out
    }
}

impl DbError {
    /// An error worth trying again after a pause: the connection failed or
    /// was lost, or the server refused it for now (PostgreSQL SQLSTATE
    /// class 08, shutting down or starting up, too many connections; MySQL
    /// too many connections, server gone away, connection lost).
    pub fn is_transient(&self) -> bool {
        self.connection
            || self.code.as_deref().is_some_and(|c| {
                c.starts_with("08")
                    || matches!(
                        c,
                        "57P01" | "57P02" | "57P03" | "53300" | "1040" | "1053" | "2006" | "2013"
                    )
            })
    }

    fn is_sqlite_busy(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some("5") | Some("6") | Some("517") | Some("261")
        ) || self.message.contains("database is locked")
    }
}

/// A connection an application already has (taken from a sqlx pool with
/// `detach()`, or opened itself), for the library's migrator.
pub enum Connection {
    /// A SQLite connection.
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteConnection),
    /// A PostgreSQL connection.
    #[cfg(feature = "postgres")]
    Postgres(PgConnection),
    /// A MySQL or MariaDB connection.
    #[cfg(feature = "mysql")]
    Mysql(MySqlConnection),
}

#[cfg(feature = "sqlite")]
impl From<SqliteConnection> for Connection {
    fn from(c: SqliteConnection) -> Connection {
        Connection::Sqlite(c)
    }
}

#[cfg(feature = "postgres")]
impl From<PgConnection> for Connection {
    fn from(c: PgConnection) -> Connection {
        Connection::Postgres(c)
    }
}

#[cfg(feature = "mysql")]
impl From<MySqlConnection> for Connection {
    fn from(c: MySqlConnection) -> Connection {
        Connection::Mysql(c)
    }
}

use Connection as Conn;

/// Runs `$body` with `$c` bound to the engine's connection.
macro_rules! with_conn {
    ($self:expr, $c:ident => $body:expr) => {
        match &mut $self.conn {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite($c) => $body,
            #[cfg(feature = "postgres")]
            Conn::Postgres($c) => $body,
            #[cfg(feature = "mysql")]
            Conn::Mysql($c) => $body,
        }
    };
}

mod live;
pub use live::Limits;

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// The row's id, in the order the rows were written.
    pub id: i64,
    /// The revision.
    pub revision: String,
    /// `up` or `down`.
    pub direction: String,
    /// The file's checksum when it ran.
    pub checksum: Option<String>,
    /// One of [`status`]'s values.
    pub status: String,
    /// When the step started (RFC 3339).
    pub started_at: String,
}

/// A history row as [`Db::log`] reads it: id, revision, direction,
/// status, started, finished, run by, message, statement index, rows.
#[cfg(feature = "tools")]
type HistoryJson = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

/// One entry of the history as `braid log` shows it (SPEC §14).
#[cfg(feature = "tools")]
#[cfg_attr(docsrs, doc(cfg(feature = "tools")))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogEntry {
    /// The row's id, in the order rows were written.
    pub id: i64,
    /// The revision.
    pub revision: String,
    /// `up`, `down`, `stamp`, `accept`.
    pub direction: String,
    /// One of [`status`]'s values.
    pub status: String,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it finished (RFC 3339), unless it did not.
    pub finished_at: Option<String>,
    /// How long it took, in milliseconds, when it finished.
    pub duration_ms: Option<i64>,
    /// Who ran it (`user@host`).
    pub run_by: Option<String>,
    /// The database's message, or braid's note.
    pub message: Option<String>,
    /// For one statement of a step outside a transaction: its 1-based index.
    pub statement: Option<i64>,
    /// For one statement: the rows it changed.
    pub rows: Option<i64>,
}

/// The newest record of each revision's being applied (`up` or `stamp`,
/// done), from entries newest first as [`Db::log`] gives them: when,
/// how long, by whom.
#[cfg(feature = "tools")]
#[cfg_attr(docsrs, doc(cfg(feature = "tools")))]
pub fn last_applied(entries: &[LogEntry]) -> std::collections::HashMap<&str, &LogEntry> {
    let mut out = std::collections::HashMap::new();
    for e in entries.iter().filter(|e| {
        e.statement.is_none()
            && e.status == status::DONE
            && matches!(e.direction.as_str(), "up" | "stamp")
    }) {
        out.entry(e.revision.as_str()).or_insert(e);
    }
    out
}

/// A history row to write.
struct NewRow<'a> {
    revision: &'a str,
    direction: &'a str,
    checksum: Option<&'a str>,
    status: &'a str,
    started: &'a str,
    finished: Option<&'a str>,
    message: Option<&'a str>,
    /// A statement's row: its index and the rows it changed.
    statement: Option<(i64, Option<i64>)>,
}

/// What the history table is like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HistoryShape {
    /// There is none (braid never ran, or Alembic's version table alone).
    Missing,
    /// An older braid made it, without the statement columns.
    Old,
    /// It has every column.
    Current,
}

/// History statuses. `pending` and `failed` block further runs until
/// resolved; the others are records.
pub mod status {
    /// Started, not finished: blocks further runs.
    pub const PENDING: &str = "pending";
    /// Finished and recorded.
    pub const DONE: &str = "done";
    /// Failed outside a transaction: blocks further runs.
    pub const FAILED: &str = "failed";
    /// Failed and rolled back: nothing left behind.
    pub const ROLLED_BACK: &str = "rolled_back";
    /// A blocking step settled by `braid resolve`.
    pub const RESOLVED: &str = "resolved";
    /// One statement of a step outside a transaction completed (a record:
    /// where a rerun of an unchanged file continues).
    pub const STATEMENT: &str = "statement";
}

/// Who is running braid, for the history: `user@host`.
fn run_by() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("{user}@{host}")
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

/// A connection with its dialect.
pub struct Db {
    conn: Conn,
    /// How the engine spells braid's statements.
    pub dialect: Dialect,
    /// The version table's name as configured (unqualified).
    #[cfg_attr(not(feature = "tools"), allow(dead_code))]
    version_table_name: String,
    locked: bool,
    /// The server's version string, once asked.
    version: Option<String>,
    /// The history table is known to have every column.
    history_current: bool,
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    lock_name: String,
    run_by: String,
}

/// The run lock's name: one per (schema-qualified) version table.
fn lock_name(dialect: &Dialect) -> String {
    format!(
        "braid:{}",
        &blake3::hash(dialect.version_table.as_bytes()).to_hex()[..32]
    )
}

/// Called while waiting for the run lock, with what holds it if known.
pub type WaitingFn<'a> = &'a mut dyn FnMut(Option<String>);

impl Db {
    /// Connects to the settings' database.
    ///
    /// # Errors
    ///
    /// The URL names an engine left out of the build, or the database cannot
    /// be reached or refuses the connection.
    ///
    /// ```no_run
    /// # async fn doc(settings: &braid::config::Settings) -> Result<(), Box<dyn std::error::Error>> {
    /// let mut db = braid::db::Db::connect(settings).await?;
    /// db.exec("SELECT 1").await?;
    /// db.close().await;
    /// # Ok(()) }
    /// ```
    pub async fn connect(settings: &Settings) -> Result<Db, DbError> {
        let engine = settings.url.engine().map_err(|message| DbError {
            connection: false,
            message,
            code: None,
            ..Default::default()
        })?;
        let url = settings.url.expose();
        let conn = match engine {
            #[cfg(feature = "sqlite")]
            Engine::Sqlite => {
                let opts = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    .busy_timeout(Duration::from_secs(30));
                Conn::Sqlite(SqliteConnection::connect_with(&opts).await?)
            }
            #[cfg(feature = "postgres")]
            Engine::Postgres => Conn::Postgres(PgConnection::connect(url).await?),
            #[cfg(feature = "mysql")]
            Engine::Mysql => Conn::Mysql(MySqlConnection::connect(url).await?),
            #[allow(unreachable_patterns)]
            other => {
                return Err(DbError {
                    connection: false,
                    message: format!(
                        "braid was built without {} support: enable its `{}` feature",
                        other.name(),
                        other.feature()
                    ),
                    code: None,
                    ..Default::default()
                });
            }
        };
        Db::from_connection(conn, settings.schema.as_deref(), &settings.version_table).await
    }

    /// Wraps a connection the caller opened, with the version table (and
    /// PostgreSQL schema) to use.
    pub(crate) async fn from_connection(
        conn: Connection,
        schema: Option<&str>,
        version_table: &str,
    ) -> Result<Db, DbError> {
        let engine = match &conn {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(_) => Engine::Sqlite,
            #[cfg(feature = "postgres")]
            Conn::Postgres(_) => Engine::Postgres,
            #[cfg(feature = "mysql")]
            Conn::Mysql(_) => Engine::Mysql,
        };
        let dialect = Dialect::new(engine, schema, version_table);
        let mut db = Db {
            conn,
            lock_name: lock_name(&dialect),
            dialect,
            version_table_name: version_table.to_owned(),
            locked: false,
            version: None,
            history_current: false,
            run_by: run_by(),
        };
        if let Some(schema) = db.dialect.schema.clone() {
            // Migrations run with the schema first on the search path.
            let sql = format!("SET search_path TO {}, public", db.dialect.quote(&schema));
            db.exec(&sql).await?;
        }
        Ok(db)
    }

    /// Points the connection at another PostgreSQL schema (a fleet's next
    /// tenant): the session's settings are reset (what the last member's
    /// migrations SET goes), and the version tables, lock and search path
    /// become the schema's.
    #[cfg(feature = "tools")]
    pub(crate) async fn switch_schema(&mut self, schema: Option<&str>) -> Result<(), DbError> {
        if self.engine() == Engine::Postgres {
            self.exec("RESET ALL").await?;
        }
        self.dialect = Dialect::new(self.dialect.engine, schema, &self.version_table_name);
        self.lock_name = lock_name(&self.dialect);
        // Another schema's history table, not asked about yet.
        self.history_current = false;
        if let Some(schema) = self.dialect.schema.clone() {
            let sql = format!("SET search_path TO {}, public", self.dialect.quote(&schema));
            self.exec(&sql).await?;
        }
        Ok(())
    }

    /// The connection's engine.
    pub fn engine(&self) -> Engine {
        self.dialect.engine
    }

    /// Runs SQL text as is (one or several statements, no parameters).
    ///
    /// # Errors
    ///
    /// The database's error for the first statement that fails.
    ///
    /// ```no_run
    /// # async fn doc(db: &mut braid::db::Db) -> Result<(), Box<dyn std::error::Error>> {
    /// db.exec("CREATE TABLE t (id integer); INSERT INTO t VALUES (1);").await?;
    /// # Ok(()) }
    /// ```
    pub async fn exec(&mut self, sql: &str) -> Result<(), DbError> {
        with_conn!(self, c => sqlx::raw_sql(sql).execute(&mut *c).await.map(|_| ()))?;
        Ok(())
    }

    async fn bind_exec(&mut self, sql: &str, args: &[&str]) -> Result<(), DbError> {
        with_conn!(self, c => {
            let mut q = sqlx::query(sql);
            for a in args {
                q = q.bind(*a);
            }
            q.execute(&mut *c).await.map(|_| ())
        })?;
        Ok(())
    }

    /// Every row of a query whose columns are all text (or NULL): the
    /// catalog queries cast what they select, so one reader serves the
    /// three engines.
    pub(crate) async fn text_rows(
        &mut self,
        sql: &str,
        args: &[&str],
    ) -> Result<Vec<Vec<Option<String>>>, DbError> {
        use sqlx::Row;
        let rows = with_conn!(self, c => {
            let mut q = sqlx::query(sql);
            for a in args {
                q = q.bind(*a);
            }
            q.fetch_all(&mut *c).await.and_then(|rows| {
                rows.iter()
                    .map(|r| (0..r.len()).map(|i| r.try_get::<Option<String>, _>(i)).collect())
                    .collect::<Result<Vec<Vec<Option<String>>>, sqlx::Error>>()
            })
        })?;
        Ok(rows)
    }

    async fn strings(&mut self, sql: &str, args: &[&str]) -> Result<Vec<String>, DbError> {
        let rows = with_conn!(self, c => {
            let mut q = sqlx::query_scalar::<_, String>(sql);
            for a in args {
                q = q.bind(*a);
            }
            q.fetch_all(&mut *c).await
        })?;
        Ok(rows)
    }

    async fn count(&mut self, sql: &str, args: &[&str]) -> Result<i64, DbError> {
        let n = with_conn!(self, c => {
            let mut q = sqlx::query_scalar::<_, i64>(sql);
            for a in args {
                q = q.bind(*a);
            }
            q.fetch_one(&mut *c).await
        })?;
        Ok(n)
    }

    /// Whether the version table exists (reading commands create nothing).
    pub(crate) async fn has_version_table(&mut self) -> Result<bool, DbError> {
        let vt = &self.dialect.version_table;
        let (sql, name) = match self.engine() {
            // `to_regclass` takes the quoted, schema-qualified name.
            Engine::Postgres => (
                "SELECT CASE WHEN to_regclass($1) IS NULL THEN 0::bigint ELSE 1::bigint END",
                vt.clone(),
            ),
            Engine::Mysql => (
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?",
                unquote_last(vt),
            ),
            Engine::Sqlite => (
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                unquote_last(vt),
            ),
        };
        Ok(self.count(sql, &[&name]).await? > 0)
    }

    /// Creates the schema (PostgreSQL), the version table and the history
    /// table where missing.
    pub(crate) async fn ensure_tables(&mut self) -> Result<(), DbError> {
        if let Some(schema) = self.dialect.schema.clone() {
            let exists = self
                .count(
                    "SELECT COUNT(*) FROM pg_namespace WHERE nspname = $1",
                    &[&schema],
                )
                .await?;
            if exists == 0 {
                let sql = self.dialect.create_schema().expect("schema");
                self.exec(&sql).await.map_err(|e| DbError {
                    connection: false,
                    message: format!(
                        "schema `{schema}` (the `schema` setting or DATABASE_SCHEMA) does not exist and cannot be created: {}",
                        e.message
                    ),
                    code: e.code, ..Default::default() })?;
            }
        }
        let v = self.dialect.create_version_table();
        let h = self.dialect.create_history_table();
        self.exec(&v).await?;
        self.exec(&h).await?;
        Ok(())
    }

    /// What the history table is like: missing, as an older braid made it
    /// (without the statement columns), or current. Read once it is current.
    async fn history_shape(&mut self) -> Result<HistoryShape, DbError> {
        if self.history_current {
            return Ok(HistoryShape::Current);
        }
        let ht = self.dialect.history_table.clone();
        let probe = |columns: &str| format!("SELECT {columns} FROM {ht} WHERE 1 = 0");
        let shape = if self.exec(&probe("statement_index")).await.is_ok() {
            HistoryShape::Current
        } else if self.exec(&probe("id")).await.is_ok() {
            HistoryShape::Old
        } else {
            HistoryShape::Missing
        };
        self.history_current = shape == HistoryShape::Current;
        Ok(shape)
    }

    /// Adds the columns later versions of braid added to a history table
    /// an older one made; only the runs that write them ask (a step outside
    /// a transaction), not every run.
    async fn upgrade_history(&mut self) -> Result<(), DbError> {
        if self.history_shape().await? == HistoryShape::Old {
            let ht = self.dialect.history_table.clone();
            for (column, ty) in self.dialect.history_additions() {
                self.exec(&format!("ALTER TABLE {ht} ADD COLUMN {column} {ty}"))
                    .await?;
            }
            self.history_current = true;
        }
        Ok(())
    }

    /// The revisions recorded as current heads, sorted.
    pub(crate) async fn read_heads(&mut self) -> Result<Vec<String>, DbError> {
        let sql = format!(
            "SELECT version_num FROM {} ORDER BY version_num",
            self.dialect.version_table
        );
        self.strings(&sql, &[]).await
    }

    /// Replaces the recorded heads: deletes `removed`, inserts `added`.
    pub(crate) async fn update_heads(
        &mut self,
        removed: &[&str],
        added: &[&str],
    ) -> Result<(), DbError> {
        let vt = self.dialect.version_table.clone();
        let p1 = self.dialect.param(1);
        let p2 = self.dialect.param(2);
        // One UPDATE where one head replaces another, as Alembic does.
        if let ([from], [to]) = (removed, added) {
            let sql = format!("UPDATE {vt} SET version_num = {p1} WHERE version_num = {p2}");
            return self.bind_exec(&sql, &[to, from]).await;
        }
        for r in removed {
            let sql = format!("DELETE FROM {vt} WHERE version_num = {p1}");
            self.bind_exec(&sql, &[r]).await?;
        }
        for a in added {
            let sql = format!("INSERT INTO {vt} (version_num) VALUES ({p1})");
            self.bind_exec(&sql, &[a]).await?;
        }
        Ok(())
    }

    /// Appends a history row and returns its id.
    pub(crate) async fn insert_history(
        &mut self,
        revision: &str,
        direction: &str,
        checksum: Option<&str>,
        status: &str,
        message: Option<&str>,
    ) -> Result<i64, DbError> {
        self.record_history(revision, direction, checksum, status, message)
            .await?;
        // The id of the row just written: the largest one (the run lock
        // keeps other writers out).
        let sql = format!("SELECT MAX(id) FROM {}", self.dialect.history_table);
        let id =
            with_conn!(self, c => sqlx::query_scalar::<_, i64>(&sql).fetch_one(&mut *c).await)?;
        Ok(id)
    }

    /// Appends a history row.
    pub(crate) async fn record_history(
        &mut self,
        revision: &str,
        direction: &str,
        checksum: Option<&str>,
        status: &str,
        message: Option<&str>,
    ) -> Result<(), DbError> {
        let started = now();
        let finished = (status != status::PENDING).then(now);
        self.insert_row(NewRow {
            revision,
            direction,
            checksum,
            status,
            started: &started,
            finished: finished.as_deref(),
            message,
            statement: None,
        })
        .await
    }

    /// Writes a history row; the statement columns only for a statement's
    /// row (a table an older braid made has them only once upgraded).
    async fn insert_row(&mut self, row: NewRow<'_>) -> Result<(), DbError> {
        let ht = self.dialect.history_table.clone();
        let mut columns =
            "revision, direction, checksum, status, started_at, finished_at, run_by, message"
                .to_owned();
        if row.statement.is_some() {
            columns.push_str(", statement_index, affected_rows");
        }
        let n = if row.statement.is_some() { 10 } else { 8 };
        let ps: Vec<String> = (1..=n).map(|i| self.dialect.param(i)).collect();
        let sql = format!("INSERT INTO {ht} ({columns}) VALUES ({})", ps.join(", "));
        let run_by = self.run_by.clone();
        with_conn!(self, c => {
            let mut q = sqlx::query(&sql)
                .bind(row.revision)
                .bind(row.direction)
                .bind(row.checksum)
                .bind(row.status)
                .bind(row.started)
                .bind(row.finished)
                .bind(&run_by)
                .bind(row.message);
            if let Some((index, rows)) = row.statement {
                q = q.bind(index).bind(rows);
            }
            q.execute(&mut *c).await.map(|_| ())
        })?;
        Ok(())
    }

    /// The SQL that records a finished step: the version-table changes and
    /// a `done` history row that started at `started` and finishes now (or,
    /// given `finish`, that row marked `done`), as literals, to send in one
    /// round trip with the step's COMMIT.
    #[allow(clippy::too_many_arguments)]
    pub fn bookkeeping_sql(
        &self,
        removed: &[&str],
        added: &[&str],
        revision: &str,
        direction: &str,
        checksum: &str,
        started: &str,
        finish: Option<i64>,
    ) -> String {
        let d = &self.dialect;
        let vt = &d.version_table;
        let ht = &d.history_table;
        let mut sql = String::new();
        if let ([from], [to]) = (removed, added) {
            sql.push_str(&format!(
                "UPDATE {vt} SET version_num = {} WHERE version_num = {};\n",
                d.literal(to),
                d.literal(from)
            ));
        } else {
            for r in removed {
                sql.push_str(&format!(
                    "DELETE FROM {vt} WHERE version_num = {};\n",
                    d.literal(r)
                ));
            }
            for a in added {
                sql.push_str(&format!(
                    "INSERT INTO {vt} (version_num) VALUES ({});\n",
                    d.literal(a)
                ));
            }
        }
        let t = d.literal(&now());
        // PostgreSQL gets the step and its bookkeeping in one round trip,
        // written before the step runs: the server's clock says when the
        // script arrived and when it got here.
        let (started, t) = if self.engine() == Engine::Postgres && finish.is_none() {
            let at = |f: &str| {
                format!("to_char({f}() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
            };
            (at("statement_timestamp"), at("clock_timestamp"))
        } else {
            (d.literal(started), t)
        };
        match finish {
            Some(id) => sql.push_str(&format!(
                "UPDATE {ht} SET status = '{}', finished_at = {t} WHERE id = {id};\n",
                status::DONE
            )),
            None => sql.push_str(&format!(
                "INSERT INTO {ht} (revision, direction, checksum, status, started_at, finished_at, run_by) \
                 VALUES ({}, {}, {}, '{}', {}, {t}, {});\n",
                d.literal(revision),
                d.literal(direction),
                d.literal(checksum),
                status::DONE,
                started,
                d.literal(&self.run_by)
            )),
        }
        sql
    }

    /// Records that statement `index` (1-based) of a step outside a
    /// transaction completed, when it started, and the rows it changed:
    /// what a rerun continues after (SPEC §13).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn record_statement(
        &mut self,
        revision: &str,
        direction: &str,
        checksum: &str,
        index: usize,
        started: &str,
        rows: Option<u64>,
        message: &str,
    ) -> Result<(), DbError> {
        self.upgrade_history().await?;
        let finished = now();
        self.insert_row(NewRow {
            revision,
            direction,
            checksum: Some(checksum),
            status: status::STATEMENT,
            started,
            finished: Some(&finished),
            message: Some(message),
            statement: Some((index as i64, rows.map(|r| r as i64))),
        })
        .await
    }

    /// How many statements of the step whose `pending` row is `row` have
    /// completed (the highest recorded statement index after it).
    pub(crate) async fn completed_statements(
        &mut self,
        row: &HistoryRow,
    ) -> Result<usize, DbError> {
        self.upgrade_history().await?;
        let ht = self.dialect.history_table.clone();
        let (p1, p2) = (self.dialect.param(1), self.dialect.param(2));
        let sql = format!(
            "SELECT CAST(COALESCE(MAX(statement_index), 0) AS {}) FROM {ht} \
             WHERE status = '{}' AND revision = {p1} AND direction = {p2} AND id > {}",
            if self.engine() == Engine::Mysql {
                "SIGNED"
            } else {
                "BIGINT"
            },
            status::STATEMENT,
            row.id
        );
        Ok(self.count(&sql, &[&row.revision, &row.direction]).await? as usize)
    }

    /// A moment for the history (RFC 3339), taken now.
    pub(crate) fn now(&self) -> String {
        now()
    }

    /// Sets a history row's status (and message), stamping its end time.
    pub(crate) async fn finish_history(
        &mut self,
        id: i64,
        status: &str,
        message: Option<&str>,
    ) -> Result<(), DbError> {
        let ht = self.dialect.history_table.clone();
        let (p1, p2, p3, p4) = (
            self.dialect.param(1),
            self.dialect.param(2),
            self.dialect.param(3),
            self.dialect.param(4),
        );
        let sql = format!(
            "UPDATE {ht} SET status = {p1}, finished_at = {p2}, message = {p3} WHERE id = {p4}"
        );
        let finished = now();
        with_conn!(self, c => sqlx::query(&sql)
            .bind(status)
            .bind(&finished)
            .bind(message)
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// History rows that block a run: a step that started outside a
    /// transaction and did not finish.
    pub(crate) async fn blocking_rows(&mut self) -> Result<Vec<HistoryRow>, DbError> {
        let ht = self.dialect.history_table.clone();
        let sql = format!(
            "SELECT id, revision, direction, checksum, status, started_at FROM {ht} WHERE status IN ('{}', '{}') ORDER BY id",
            status::PENDING,
            status::FAILED
        );
        self.history_rows(&sql).await
    }

    /// (revision, checksum) of every row that records a revision's content
    /// as applied (`up`, `stamp`, `accept`), oldest first.
    pub(crate) async fn checksum_rows(&mut self) -> Result<Vec<(String, String)>, DbError> {
        let ht = self.dialect.history_table.clone();
        let filter = format!(
            "FROM {ht} WHERE status = '{}' AND direction IN ('up', 'stamp', 'accept') AND checksum IS NOT NULL",
            status::DONE
        );
        // SQLite hands each row across sqlx's worker thread: at a thousand
        // applied revisions that was most of an embedded application's
        // start-up. One row instead (ids and checksums hold no space or
        // newline).
        if self.engine() == Engine::Sqlite {
            let sql = format!(
                "SELECT group_concat(revision || ' ' || checksum, char(10) ORDER BY id) {filter}"
            );
            let joined: Option<String> =
                with_conn!(self, c => sqlx::query_scalar(&sql).fetch_one(&mut *c).await)?;
            return Ok(joined
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.split_once(' '))
                .map(|(r, c)| (r.to_owned(), c.to_owned()))
                .collect());
        }
        let sql = format!("SELECT revision, checksum {filter} ORDER BY id");
        Ok(with_conn!(self, c => sqlx::query_as(&sql).fetch_all(&mut *c).await)?)
    }

    async fn history_rows(&mut self, sql: &str) -> Result<Vec<HistoryRow>, DbError> {
        type Row = (i64, String, String, Option<String>, String, String);
        let rows: Vec<Row> =
            with_conn!(self, c => sqlx::query_as::<_, Row>(sql).fetch_all(&mut *c).await)?;
        Ok(rows
            .into_iter()
            .map(
                |(id, revision, direction, checksum, status, started_at)| HistoryRow {
                    id,
                    revision,
                    direction,
                    checksum,
                    status,
                    started_at,
                },
            )
            .collect())
    }

    /// The history, newest first, at most `limit` entries (empty when
    /// braid never ran here).
    ///
    /// # Errors
    ///
    /// The history table cannot be read.
    #[cfg(feature = "tools")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tools")))]
    pub async fn log(&mut self, limit: Option<usize>) -> Result<Vec<LogEntry>, DbError> {
        // None where braid never ran, or beside a version table Alembic
        // wrote; an older braid's table has no statement columns.
        let statement_columns = match self.history_shape().await? {
            HistoryShape::Missing => return Ok(Vec::new()),
            HistoryShape::Old if self.engine() == Engine::Postgres => {
                "CAST(NULL AS BIGINT), CAST(NULL AS BIGINT)".to_owned()
            }
            HistoryShape::Old => "NULL, NULL".to_owned(),
            HistoryShape::Current if self.engine() == Engine::Mysql => {
                "CAST(statement_index AS CHAR), CAST(affected_rows AS CHAR)".to_owned()
            }
            HistoryShape::Current if self.engine() == Engine::Postgres => {
                "CAST(statement_index AS BIGINT), affected_rows".to_owned()
            }
            HistoryShape::Current => "statement_index, affected_rows".to_owned(),
        };
        let ht = self.dialect.history_table.clone();
        let limit = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
        let columns = format!(
            "id, revision, direction, status, started_at, finished_at, run_by, message, {statement_columns}"
        );
        // SQLite hands the whole history over as one JSON value: a row at
        // a time costs sqlx's SQLite driver a trip between threads, ten
        // times the query's own time on a long history. PostgreSQL sends
        // rows as they are: building JSON cost the server three times the
        // query's own time (36 ms against 13 at 10,000 rows).
        let rows: Vec<HistoryJson> = match self.engine() {
            Engine::Postgres => {
                let sql = format!("SELECT {columns} FROM {ht} ORDER BY id DESC{limit}");
                with_conn!(self, c => sqlx::query_as(&sql).fetch_all(&mut *c).await)?
            }
            Engine::Sqlite => {
                let sql = format!(
                    "SELECT json_group_array(json_array({columns})) FROM \
                     (SELECT * FROM {ht} ORDER BY id DESC{limit})"
                );
                let text = self.strings(&sql, &[]).await?;
                serde_json::from_str(text.first().map_or("[]", String::as_str)).map_err(|e| {
                    DbError {
                        message: format!("cannot read the history: {e}"),
                        code: None,
                        connection: false,
                        ..Default::default()
                    }
                })?
            }
            Engine::Mysql => {
                let sql = format!(
                    "SELECT CAST(id AS CHAR), revision, direction, status, started_at, finished_at, run_by, message, \
                     {statement_columns} FROM {ht} ORDER BY id DESC{limit}"
                );
                let num = |v: &Option<String>| v.as_deref().and_then(|n| n.parse::<i64>().ok());
                self.text_rows(&sql, &[])
                    .await?
                    .into_iter()
                    .map(|r| {
                        let text = |i: usize| r[i].clone();
                        (
                            num(&r[0]).unwrap_or_default(),
                            text(1).unwrap_or_default(),
                            text(2).unwrap_or_default(),
                            text(3).unwrap_or_default(),
                            text(4).unwrap_or_default(),
                            text(5),
                            text(6),
                            text(7),
                            num(&r[8]),
                            num(&r[9]),
                        )
                    })
                    .collect()
            }
        };
        Ok(rows
            .into_iter()
            .map(|r| {
                let duration_ms = r.5.as_deref().and_then(|finished| {
                    let (a, b) = (
                        r.4.parse::<jiff::Timestamp>(),
                        finished.parse::<jiff::Timestamp>(),
                    );
                    Some(b.ok()?.duration_since(a.ok()?).as_millis() as i64)
                });
                LogEntry {
                    id: r.0,
                    revision: r.1,
                    direction: r.2,
                    status: r.3,
                    started_at: r.4,
                    finished_at: r.5,
                    duration_ms,
                    run_by: r.6,
                    message: r.7,
                    statement: r.8,
                    rows: r.9,
                }
            })
            .collect())
    }

    /// Starts a transaction. On SQLite this takes the write lock, waiting
    /// (and saying so once) while another process holds it.
    pub(crate) async fn begin(
        &mut self,
        timeout: Option<Duration>,
        waiting: WaitingFn<'_>,
    ) -> Result<(), DbError> {
        let begin = self.dialect.begin();
        if self.engine() != Engine::Sqlite {
            return self.exec(begin).await;
        }
        self.exec("PRAGMA busy_timeout = 0").await?;
        let first = self.exec(begin).await;
        let result = match first {
            Err(e) if e.is_sqlite_busy() => {
                waiting(None);
                let ms = timeout.map_or(i64::from(i32::MAX), |t| t.as_millis() as i64);
                self.exec(&format!("PRAGMA busy_timeout = {ms}")).await?;
                self.exec(begin).await.map_err(|e| {
                    if e.is_sqlite_busy() {
                        DbError {
                            connection: false,
                            message: format!(
                                "timed out after {}s waiting for the SQLite write lock held by another process",
                                timeout.map_or(0, |t| t.as_secs())
                            ),
                            code: e.code, ..Default::default() }
                    } else {
                        e
                    }
                })
            }
            other => other,
        };
        self.exec("PRAGMA busy_timeout = 30000").await?;
        result
    }

    /// Commits the open transaction.
    pub(crate) async fn commit(&mut self) -> Result<(), DbError> {
        self.exec("COMMIT").await
    }

    /// Rolls back the open transaction.
    pub(crate) async fn rollback(&mut self) -> Result<(), DbError> {
        self.exec("ROLLBACK").await
    }

    /// Takes the run lock: a PostgreSQL advisory lock keyed by the schema
    /// and table, or MySQL's `GET_LOCK`. SQLite locks per step instead,
    /// with `BEGIN IMMEDIATE` (see [`Db::begin`]).
    #[cfg_attr(
        not(all(feature = "postgres", feature = "mysql")),
        allow(unused_variables, unreachable_code)
    )]
    /// Takes the migration lock, waiting at most `timeout`; `waiting` hears who holds it.
    pub(crate) async fn lock(
        &mut self,
        timeout: Option<Duration>,
        waiting: WaitingFn<'_>,
    ) -> Result<(), DbError> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let timed_out = |holder: Option<String>| DbError {
            connection: false,
            message: format!(
                "timed out after {}s waiting for the migration lock{}",
                timeout.map_or(0, |t| t.as_secs()),
                holder.map(|h| format!(" held by {h}")).unwrap_or_default()
            ),
            code: None,
            ..Default::default()
        };
        match &mut self.conn {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(_) => return Ok(()),
            #[cfg(feature = "postgres")]
            Conn::Postgres(c) => {
                let key = pg_lock_key(&self.lock_name);
                let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(key)
                    .fetch_one(&mut *c)
                    .await
                    .map_err(DbError::from)?;
                if !got {
                    let holder: Option<String> = sqlx::query_scalar(
                        "SELECT 'PostgreSQL backend pid ' || string_agg(pid::text, ', ') FROM pg_locks \
                         WHERE locktype = 'advisory' AND granted AND objsubid = 1 \
                         AND ((classid::bigint << 32) | objid::bigint) = $1",
                    )
                    .bind(key)
                    .fetch_one(&mut *c)
                    .await
                    .map_err(DbError::from)?;
                    waiting(holder.clone());
                    match deadline {
                        None => {
                            sqlx::query("SELECT pg_advisory_lock($1)")
                                .bind(key)
                                .execute(&mut *c)
                                .await
                                .map_err(DbError::from)?;
                        }
                        Some(deadline) => loop {
                            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                                .bind(key)
                                .fetch_one(&mut *c)
                                .await
                                .map_err(DbError::from)?;
                            if got {
                                break;
                            }
                            if Instant::now() >= deadline {
                                return Err(timed_out(holder));
                            }
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        },
                    }
                }
            }
            #[cfg(feature = "mysql")]
            Conn::Mysql(c) => {
                let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, 0)")
                    .bind(&self.lock_name)
                    .fetch_one(&mut *c)
                    .await
                    .map_err(DbError::from)?;
                if got != Some(1) {
                    let holder: Option<i64> = sqlx::query_scalar("SELECT IS_USED_LOCK(?)")
                        .bind(&self.lock_name)
                        .fetch_one(&mut *c)
                        .await
                        .map_err(DbError::from)?;
                    let holder = holder.map(|h| format!("MySQL connection {h}"));
                    waiting(holder.clone());
                    // A year stands for "no timeout".
                    let secs = timeout.map_or(31_536_000, |t| t.as_secs().max(1) as i64);
                    let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, ?)")
                        .bind(&self.lock_name)
                        .bind(secs)
                        .fetch_one(&mut *c)
                        .await
                        .map_err(DbError::from)?;
                    if got != Some(1) {
                        return Err(timed_out(holder));
                    }
                }
            }
        }
        self.locked = true;
        Ok(())
    }

    /// Releases the run lock, if held.
    pub(crate) async fn unlock(&mut self) -> Result<(), DbError> {
        if !self.locked {
            return Ok(());
        }
        self.locked = false;
        match &mut self.conn {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(_) => {}
            #[cfg(feature = "postgres")]
            Conn::Postgres(c) => {
                sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(pg_lock_key(&self.lock_name))
                    .execute(&mut *c)
                    .await
                    .map_err(DbError::from)?;
            }
            #[cfg(feature = "mysql")]
            Conn::Mysql(c) => {
                sqlx::query("SELECT RELEASE_LOCK(?)")
                    .bind(&self.lock_name)
                    .execute(&mut *c)
                    .await
                    .map_err(DbError::from)?;
            }
        }
        Ok(())
    }

    /// The server's version string (`SHOW server_version`, `VERSION()`,
    /// `sqlite_version()`).
    ///
    /// # Errors
    ///
    /// The query fails.
    pub async fn server_version(&mut self) -> Result<String, DbError> {
        if let Some(v) = &self.version {
            return Ok(v.clone());
        }
        let sql = match self.engine() {
            Engine::Postgres => "SELECT current_setting('server_version')",
            Engine::Mysql => "SELECT CAST(VERSION() AS CHAR)",
            Engine::Sqlite => "SELECT sqlite_version()",
        };
        let version = self
            .strings(sql, &[])
            .await?
            .into_iter()
            .next()
            .unwrap_or_default();
        self.version = Some(version.clone());
        Ok(version)
    }

    /// Sizes (planner statistics: rows estimated, bytes with indexes) and
    /// column types of the named tables that exist, for the lint. Nothing
    /// is counted: PostgreSQL `pg_class.reltuples`, MySQL
    /// `information_schema.TABLES.TABLE_ROWS`, SQLite `sqlite_stat1` when
    /// ANALYZE made it.
    ///
    /// # Errors
    ///
    /// A catalog query fails.
    #[cfg(feature = "lint")]
    #[cfg_attr(docsrs, doc(cfg(feature = "lint")))]
    pub async fn table_facts(
        &mut self,
        tables: &[String],
    ) -> Result<crate::lint::safety::Facts, DbError> {
        use crate::lint::safety::TableSize;
        let mut facts = crate::lint::safety::Facts {
            reachable: true,
            ..Default::default()
        };
        let num = |v: &Option<String>| v.as_deref().and_then(|n| n.parse::<f64>().ok());
        // SQLite has statistics only once ANALYZE made sqlite_stat1.
        let has_stats = self.engine() != Engine::Sqlite
            || self
                .count(
                    "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'",
                    &[],
                )
                .await?
                > 0;
        for t in tables {
            let (size_sql, column_sql) = match self.engine() {
                Engine::Postgres => (
                    "SELECT CAST(c.reltuples AS TEXT), CAST(pg_total_relation_size(c.oid) AS TEXT) \
                     FROM pg_class c WHERE c.oid = to_regclass(quote_ident($1))",
                    "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
                     WHERE a.attrelid = to_regclass(quote_ident($1)) AND a.attnum > 0 AND NOT a.attisdropped",
                ),
                Engine::Mysql => (
                    "SELECT CAST(TABLE_ROWS AS CHAR), CAST(DATA_LENGTH + INDEX_LENGTH AS CHAR) \
                     FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
                    "SELECT CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR) FROM information_schema.COLUMNS \
                     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
                ),
                Engine::Sqlite => (
                    "SELECT substr(stat, 1, instr(stat || ' ', ' ') - 1), NULL FROM sqlite_stat1 \
                     WHERE tbl = ? LIMIT 1",
                    "SELECT name, type FROM pragma_table_info(?)",
                ),
            };
            let size_row = if has_stats {
                self.text_rows(size_sql, &[t]).await?.into_iter().next()
            } else {
                None
            };
            if let Some(row) = size_row {
                // PostgreSQL: -1 when the table was never analyzed.
                let rows = num(&row[0]).filter(|r| *r >= 0.0).map(|r| r as u64);
                let bytes = row.get(1).and_then(num).map(|b| b as u64);
                facts.sizes.insert(t.clone(), TableSize { rows, bytes });
            }
            let columns: std::collections::HashMap<String, String> = self
                .text_rows(column_sql, &[t])
                .await?
                .into_iter()
                .filter_map(|r| Some((r[0].clone()?, r[1].clone()?)))
                .collect();
            if !columns.is_empty() {
                facts.columns.insert(t.clone(), columns);
            }
        }
        Ok(facts)
    }

    /// A handle that cancels what this connection is running from a second
    /// connection (PostgreSQL `pg_cancel_backend`, MySQL `KILL QUERY`):
    /// what a signal handler needs to stop a step that went to the server
    /// in one round trip and would otherwise go on after braid exits.
    /// `None` for SQLite, which runs in this process.
    ///
    /// # Errors
    ///
    /// The session id cannot be read.
    pub async fn canceller(&mut self, settings: &Settings) -> Result<Option<Canceller>, DbError> {
        let sql = match self.engine() {
            Engine::Sqlite => return Ok(None),
            Engine::Postgres => "SELECT CAST(pg_backend_pid() AS BIGINT)",
            Engine::Mysql => "SELECT CAST(CONNECTION_ID() AS SIGNED)",
        };
        let session = self.count(sql, &[]).await?;
        Ok(Some(Canceller {
            settings: settings.clone(),
            session,
        }))
    }

    /// Closes the connection cleanly.
    ///
    /// ```no_run
    /// # async fn doc(settings: &braid::config::Settings) -> Result<(), Box<dyn std::error::Error>> {
    /// let db = braid::db::Db::connect(settings).await?;
    /// db.close().await;
    /// # Ok(()) }
    /// ```
    pub async fn close(self) {
        let _ = match self.conn {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(c) => c.close().await,
            #[cfg(feature = "postgres")]
            Conn::Postgres(c) => c.close().await,
            #[cfg(feature = "mysql")]
            Conn::Mysql(c) => c.close().await,
        };
    }
}

/// Cancels the statement another connection is running (see
/// [`Db::canceller`]).
#[derive(Debug, Clone)]
pub struct Canceller {
    settings: Settings,
    session: i64,
}

impl Canceller {
    /// Asks the server, over a connection of its own, to cancel what the
    /// session is running now. The session then gets an error (PostgreSQL
    /// SQLSTATE 57014, MySQL 1317) and its transaction rolls back; a
    /// session that is idle is left alone.
    ///
    /// # Errors
    ///
    /// The server cannot be reached.
    pub async fn cancel(&self) -> Result<(), DbError> {
        let mut settings = self.settings.clone();
        // The second connection needs no search path of its own.
        settings.schema = None;
        let mut db = Db::connect(&settings).await?;
        let sql = match db.engine() {
            Engine::Postgres => format!(
                "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE pid = {} AND state = 'active'",
                self.session
            ),
            Engine::Mysql => format!("KILL QUERY {}", self.session),
            Engine::Sqlite => String::new(),
        };
        let result = db.exec(&sql).await;
        db.close().await;
        result
    }
}

impl DbError {
    /// The statement was cancelled on request (PostgreSQL 57014 `query_canceled`,
    /// MySQL/MariaDB 1317 `ER_QUERY_INTERRUPTED`).
    pub fn is_cancelled(&self) -> bool {
        matches!(self.code.as_deref(), Some("57014") | Some("1317"))
    }
}

/// The advisory lock key: 64 bits of the lock name's hash.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
fn pg_lock_key(name: &str) -> i64 {
    let h = blake3::hash(name.as_bytes());
    i64::from_le_bytes(h.as_bytes()[..8].try_into().expect("8 bytes"))
}

/// The table name of a quoted, possibly qualified identifier.
fn unquote_last(quoted: &str) -> String {
    let q = quoted.chars().last().unwrap_or('"');
    let inner = &quoted[..quoted.len() - 1];
    let start = inner.rfind(&format!(".{q}")).map_or(1, |i| i + 2);
    inner[start..].replace(&format!("{q}{q}"), &q.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquotes_table_names() {
        assert_eq!(unquote_last("\"braid_version\""), "braid_version");
        assert_eq!(unquote_last("`a``b`"), "a`b");
        assert_eq!(unquote_last("\"s\".\"t\"\"x\""), "t\"x");
    }
}
