//! What a statement did, measured while it runs (`braid rehearse`, SPEC
//! §14): how long it took, which table locks its session took (PostgreSQL:
//! the session's own `pg_locks` rows, read before the commit), and which
//! tables it rewrote (a table whose storage changed: PostgreSQL's
//! `relfilenode`, InnoDB's table id, SQLite's root page).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::config::Engine;
use crate::db::Db;
use crate::migration::split::Statement;

/// One statement of a rehearsed revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measured {
    /// Its 1-based place in the revision's section.
    pub index: usize,
    /// Its file line.
    pub line: usize,
    /// Its first line of code.
    pub statement: String,
    /// How long it ran.
    pub duration: Duration,
    /// The table locks its session took with it, as (mode as SQL spells
    /// it, `ACCESS EXCLUSIVE`; table), read
    /// before the commit. `None` where the engine cannot tell (MySQL,
    /// SQLite) or the statement ran outside a transaction (its locks
    /// ended with it).
    pub locks: Option<Vec<(String, String)>>,
    /// The tables whose storage it replaced (a table rewrite).
    pub rewrote: Vec<String>,
}

/// The state a statement is measured against: table storage ids and the
/// locks already held.
pub struct Probe {
    /// Each table's storage when the step started.
    storage: BTreeMap<String, String>,
    /// The tables already reported rewritten in this step.
    rewritten: BTreeSet<String>,
    locks: BTreeSet<(String, String)>,
    in_transaction: bool,
}

impl Probe {
    /// Reads the state before the first statement of a step.
    pub async fn start(db: &mut Db, in_transaction: bool) -> Probe {
        Probe {
            storage: storage(db).await,
            rewritten: BTreeSet::new(),
            locks: if in_transaction {
                locks(db).await.unwrap_or_default()
            } else {
                BTreeSet::new()
            },
            in_transaction,
        }
    }

    /// Runs `run` (the statement) and measures it.
    pub async fn measure<T, E>(
        &mut self,
        db: &mut Db,
        index: usize,
        stmt: &Statement<'_>,
        run: impl AsyncFnOnce(&mut Db) -> Result<T, E>,
    ) -> (Result<T, E>, Measured) {
        let started = Instant::now();
        let result = run(&mut *db).await;
        let duration = started.elapsed();
        let held = if self.in_transaction && result.is_ok() {
            locks(db).await
        } else {
            None
        };
        // Against the step's start: a table rebuilt in several statements
        // (SQLite's create, copy, drop, rename) is named at the statement
        // after which its name holds new storage.
        let after = storage(db).await;
        let rewrote: Vec<String> = after
            .iter()
            .filter(|(t, now)| {
                self.storage.get(*t).is_some_and(|id| id != *now) && !self.rewritten.contains(*t)
            })
            .map(|(t, _)| t.clone())
            .collect();
        self.rewritten.extend(rewrote.iter().cloned());
        let locks = held.map(|h| {
            let new = h.difference(&self.locks).cloned().collect();
            self.locks = h;
            new
        });
        let measured = Measured {
            index,
            line: stmt.line,
            statement: stmt
                .code()
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned(),
            duration,
            locks,
            rewrote,
        };
        (result, measured)
    }
}

/// Each table's storage id. Best effort: empty where it cannot be read.
async fn storage(db: &mut Db) -> BTreeMap<String, String> {
    let sql = match db.engine() {
        Engine::Postgres => {
            "SELECT relname::text, relfilenode::text FROM pg_class \
             WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'm', 'p')"
        }
        // MariaDB names it INNODB_SYS_TABLES, MySQL 8 INNODB_TABLES.
        Engine::Mysql if db.mariadb().await.unwrap_or(true) => {
            "SELECT CAST(SUBSTRING(NAME, LENGTH(DATABASE()) + 2) AS CHAR), CAST(TABLE_ID AS CHAR) \
             FROM information_schema.INNODB_SYS_TABLES WHERE NAME LIKE CONCAT(DATABASE(), '/%')"
        }
        Engine::Mysql => {
            "SELECT CAST(SUBSTRING(NAME, LENGTH(DATABASE()) + 2) AS CHAR), CAST(TABLE_ID AS CHAR) \
             FROM information_schema.INNODB_TABLES WHERE NAME LIKE CONCAT(DATABASE(), '/%')"
        }
        Engine::Sqlite => {
            "SELECT name, CAST(rootpage AS TEXT) FROM sqlite_master WHERE type = 'table'"
        }
    };
    pairs(db, sql)
        .await
        .unwrap_or_default()
        .into_iter()
        .collect()
}

/// The table locks the session holds (PostgreSQL only).
async fn locks(db: &mut Db) -> Option<BTreeSet<(String, String)>> {
    if db.engine() != Engine::Postgres {
        return None;
    }
    let sql = "SELECT l.mode, c.relname::text FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
               WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted \
               AND c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'm', 'p')";
    pairs(db, sql).await.map(|p| {
        p.into_iter()
            .map(|(mode, t)| (sql_mode(&mode), t))
            .collect()
    })
}

/// A lock mode as SQL spells it (`ACCESS EXCLUSIVE`), from `pg_locks`'s
/// `AccessExclusiveLock`.
fn sql_mode(mode: &str) -> String {
    let mut out = String::new();
    for c in mode.strip_suffix("Lock").unwrap_or(mode).chars() {
        if c.is_uppercase() && !out.is_empty() {
            out.push(' ');
        }
        out.extend(c.to_uppercase());
    }
    out
}

async fn pairs(db: &mut Db, sql: &str) -> Option<Vec<(String, String)>> {
    let rows = db.text_rows(sql, &[]).await.ok()?;
    Some(
        rows.into_iter()
            .filter_map(|r| match r.as_slice() {
                [Some(a), Some(b)] => Some((a.clone(), b.clone())),
                _ => None,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn lock_modes_are_spelled_as_sql_spells_them() {
        assert_eq!(super::sql_mode("AccessExclusiveLock"), "ACCESS EXCLUSIVE");
        assert_eq!(
            super::sql_mode("ShareUpdateExclusiveLock"),
            "SHARE UPDATE EXCLUSIVE"
        );
        assert_eq!(super::sql_mode("RowExclusiveLock"), "ROW EXCLUSIVE");
    }
}
