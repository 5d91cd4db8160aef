//! What running on a live database needs from a connection (SPEC §13):
//! per-statement lock and statement timeouts set and put back, who holds
//! a lock a statement gave up waiting for, whether a concurrently built
//! index is valid, and how many rows a statement changed.

use std::time::Duration;

use super::{Conn, Db, DbError};
use crate::config::Engine;

/// The limits one statement runs under. `lock: Some(ZERO)` lifts a lock
/// timeout for a statement that must wait (a `CONCURRENTLY` build waits
/// for old snapshots by design); `None` leaves the session's setting alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// How long to wait for a lock.
    pub lock: Option<Duration>,
    /// How long to run.
    pub statement: Option<Duration>,
}

impl Limits {
    /// Whether anything is set.
    pub fn any(&self) -> bool {
        self.lock.is_some() || self.statement.is_some()
    }
}

/// Whole seconds, at least one: MySQL's and MariaDB's lock waits are
/// counted in seconds (0 would mean "do not wait" on MariaDB).
fn mysql_seconds(d: Duration) -> u64 {
    d.as_millis().div_ceil(1000).max(1) as u64
}

impl DbError {
    /// A statement gave up waiting for a lock: PostgreSQL 55P03
    /// `lock_not_available`, MySQL/MariaDB 1205 `ER_LOCK_WAIT_TIMEOUT`,
    /// SQLite busy.
    pub fn is_lock_timeout(&self) -> bool {
        matches!(self.code.as_deref(), Some("55P03") | Some("1205")) || self.is_sqlite_busy()
    }
}

impl Db {
    /// Whether the MySQL-protocol server is MariaDB.
    pub(crate) async fn mariadb(&mut self) -> Result<bool, DbError> {
        Ok(self.server_version().await?.contains("MariaDB"))
    }

    /// The SQL that sets `limits` for the statements that follow. With
    /// `local`, PostgreSQL's `SET LOCAL`: inside a transaction, undone when
    /// it ends, committed or rolled back.
    pub(crate) async fn limits_sql(
        &mut self,
        limits: Limits,
        local: bool,
    ) -> Result<String, DbError> {
        let mut sql = String::new();
        match self.engine() {
            Engine::Postgres => {
                let set = if local { "SET LOCAL" } else { "SET" };
                if let Some(l) = limits.lock {
                    sql.push_str(&format!("{set} lock_timeout = '{}ms';\n", l.as_millis()));
                }
                if let Some(s) = limits.statement {
                    sql.push_str(&format!(
                        "{set} statement_timeout = '{}ms';\n",
                        s.as_millis()
                    ));
                }
            }
            Engine::Mysql => {
                if let Some(l) = limits.lock {
                    // Metadata locks (DDL) and InnoDB row locks (DML).
                    let s = mysql_seconds(l);
                    sql.push_str(&format!(
                        "SET SESSION lock_wait_timeout = {s}, SESSION innodb_lock_wait_timeout = {s};\n"
                    ));
                }
                if let Some(s) = limits.statement {
                    if self.mariadb().await? {
                        sql.push_str(&format!(
                            "SET SESSION max_statement_time = {:.3};\n",
                            s.as_secs_f64()
                        ));
                    } else {
                        // MySQL bounds SELECTs only.
                        sql.push_str(&format!(
                            "SET SESSION max_execution_time = {};\n",
                            s.as_millis()
                        ));
                    }
                }
            }
            Engine::Sqlite => {
                if let Some(l) = limits.lock {
                    sql.push_str(&format!("PRAGMA busy_timeout = {};\n", l.as_millis()));
                }
            }
        }
        Ok(sql)
    }

    /// The SQL that puts the session's current limits back, read now,
    /// before a step changes them.
    pub(crate) async fn limits_restore_sql(&mut self) -> Result<String, DbError> {
        let row = |rows: Vec<Vec<Option<String>>>| {
            rows.into_iter()
                .next()
                .unwrap_or_default()
                .into_iter()
                .map(Option::unwrap_or_default)
                .collect::<Vec<_>>()
        };
        Ok(match self.engine() {
            Engine::Postgres => {
                let v = row(self
                    .text_rows(
                        "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')",
                        &[],
                    )
                    .await?);
                format!(
                    "SET lock_timeout = {}; SET statement_timeout = {}",
                    self.dialect.literal(&v[0]),
                    self.dialect.literal(&v[1])
                )
            }
            Engine::Mysql => {
                let timer = if self.mariadb().await? {
                    "max_statement_time"
                } else {
                    "max_execution_time"
                };
                let v = row(self
                    .text_rows(
                        &format!(
                            "SELECT CAST(@@SESSION.lock_wait_timeout AS CHAR), \
                             CAST(@@SESSION.innodb_lock_wait_timeout AS CHAR), CAST(@@SESSION.{timer} AS CHAR)"
                        ),
                        &[],
                    )
                    .await?);
                format!(
                    "SET SESSION lock_wait_timeout = {}, SESSION innodb_lock_wait_timeout = {}, SESSION {timer} = {}",
                    v[0], v[1], v[2]
                )
            }
            // What `Db::connect` sets.
            Engine::Sqlite => "PRAGMA busy_timeout = 30000".to_owned(),
        })
    }

    /// Who holds locks on these tables, other than this session, for a
    /// statement that gave up waiting: PostgreSQL backends from `pg_locks`
    /// with their transaction's age and query; MySQL/MariaDB connections
    /// with an open InnoDB transaction (what holds a metadata lock).
    pub(crate) async fn lock_holders(&mut self, tables: &[String]) -> Result<Vec<String>, DbError> {
        let rows = match self.engine() {
            Engine::Postgres => {
                let joined = tables.join("\u{1f}");
                self.text_rows(
                    "SELECT CAST(a.pid AS TEXT), string_agg(DISTINCT c.relname, ', '), \
                     COALESCE(a.state, ''), \
                     CAST(CAST(EXTRACT(EPOCH FROM now() - COALESCE(a.xact_start, a.query_start)) AS BIGINT) AS TEXT), \
                     left(regexp_replace(COALESCE(a.query, ''), '\\s+', ' ', 'g'), 120), \
                     string_agg(DISTINCT l.mode, ', ') \
                     FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid JOIN pg_class c ON c.oid = l.relation \
                     WHERE l.granted AND l.pid <> pg_backend_pid() \
                     AND l.relation IN (SELECT to_regclass(quote_ident(t)) FROM unnest(string_to_array($1, chr(31))) t) \
                     GROUP BY a.pid, a.state, a.xact_start, a.query_start, a.query ORDER BY a.pid",
                    &[&joined],
                )
                .await?
                .into_iter()
                .map(|r| {
                    let t = |i: usize| r[i].clone().unwrap_or_default();
                    format!(
                        "PostgreSQL backend {} ({} on {}, {} for {}s: {})",
                        t(0),
                        t(5),
                        t(1),
                        t(2),
                        t(3),
                        t(4)
                    )
                })
                .collect()
            }
            Engine::Mysql => self
                .text_rows(
                    "SELECT CAST(t.trx_mysql_thread_id AS CHAR), \
                     CAST(TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) AS CHAR), \
                     CAST(COALESCE(p.COMMAND, '') AS CHAR), CAST(COALESCE(LEFT(p.INFO, 120), t.trx_query, '') AS CHAR) \
                     FROM information_schema.INNODB_TRX t \
                     LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id \
                     WHERE t.trx_mysql_thread_id <> CONNECTION_ID() ORDER BY t.trx_started",
                    &[],
                )
                .await?
                .into_iter()
                .map(|r| {
                    let t = |i: usize| r[i].clone().unwrap_or_default();
                    let query = t(3);
                    format!(
                        "connection {} (a transaction open for {}s, {}{})",
                        t(0),
                        t(1),
                        t(2).to_lowercase(),
                        if query.is_empty() {
                            String::new()
                        } else {
                            format!(": {query}")
                        }
                    )
                })
                .collect(),
            Engine::Sqlite => vec!["another process holds the SQLite write lock".to_owned()],
        };
        Ok(rows)
    }

    /// Whether the PostgreSQL index of that name exists and is valid:
    /// `None` when there is none.
    pub(crate) async fn index_valid(&mut self, name: &str) -> Result<Option<bool>, DbError> {
        let rows = self
            .text_rows(
                "SELECT CASE WHEN i.indisvalid THEN 't' ELSE 'f' END FROM pg_index i \
                 WHERE i.indexrelid = to_regclass($1)",
                &[name],
            )
            .await?;
        Ok(rows
            .into_iter()
            .next()
            .map(|r| r[0].as_deref() == Some("t")))
    }

    /// Runs one statement and says how many rows it changed.
    pub(crate) async fn exec_rows(&mut self, sql: &str) -> Result<u64, DbError> {
        let done = with_conn!(self, c => sqlx::raw_sql(sql).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_waits_are_whole_seconds_of_at_least_one() {
        assert_eq!(mysql_seconds(Duration::from_millis(200)), 1);
        assert_eq!(mysql_seconds(Duration::from_millis(1000)), 1);
        assert_eq!(mysql_seconds(Duration::from_millis(1500)), 2);
    }

    #[test]
    fn lock_timeouts_are_told_from_other_errors() {
        let e = |code: &str| DbError {
            message: String::new(),
            code: Some(code.into()),
            connection: false,
            ..Default::default()
        };
        assert!(e("55P03").is_lock_timeout());
        assert!(e("1205").is_lock_timeout());
        assert!(!e("57014").is_lock_timeout());
        assert!(!e("23505").is_lock_timeout());
    }
}
