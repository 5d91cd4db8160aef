//! Running statements on a live database (SPEC §13): lock and statement
//! timeouts, retries after a lock timeout naming who holds the lock,
//! concurrent index builds that must end valid, and batch blocks.
//!
//! Each function here runs one statement (or one transaction) and knows
//! nothing of the history; the step runner in the parent module records.

use std::time::{Duration, Instant};

use super::{Event, Observer, Options, stopping};
use crate::config::{Engine, Timeouts};
use crate::db::{Db, DbError, Limits};
use crate::lint::read::{Kind, kind_of};
use crate::migration::Batch;
use crate::migration::split::Statement;

/// The first pause after a lock timeout; it doubles at every retry.
pub const FIRST_PAUSE: Duration = Duration::from_millis(500);

/// The longest pause between two tries.
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// How a statement outside a transaction ended, when not well.
pub(super) enum Stopped {
    /// The database refused it.
    Failed(DbError),
    /// A signal came between two batches of a batch block.
    Interrupted {
        /// Rows the block changed before the stop.
        rows: u64,
    },
}

impl From<DbError> for Stopped {
    fn from(e: DbError) -> Stopped {
        Stopped::Failed(e)
    }
}

/// The tables a statement touches, for naming who holds their locks.
pub(super) fn tables(engine: Engine, code: &str) -> Vec<String> {
    kind_of(code, engine.lexer()).tables()
}

/// The limits of a revision's statements.
pub(super) fn limits(t: &Timeouts) -> Limits {
    Limits {
        lock: t.lock,
        statement: t.statement,
    }
}

/// A lock timeout's error, with who holds the locks said.
pub(super) fn with_holders(mut e: DbError, retries: u32, holders: &[String]) -> DbError {
    e.message = format!(
        "{} (gave up after {retries} retr{}; {})",
        e.message,
        if retries == 1 { "y" } else { "ies" },
        if holders.is_empty() {
            "no other session holds a lock on the tables it names now".to_owned()
        } else {
            holders.join("; ")
        }
    );
    e
}

/// Tries after a lock timeout: how many so far, and the next pause.
pub(super) struct Retry<'t> {
    timeouts: &'t Timeouts,
    /// Retries made so far.
    pub attempt: u32,
    pause: Duration,
}

impl<'t> Retry<'t> {
    pub fn new(timeouts: &'t Timeouts) -> Retry<'t> {
        Retry {
            timeouts,
            attempt: 0,
            pause: FIRST_PAUSE,
        }
    }

    /// Whether an error is a lock timeout worth another try.
    pub fn allows(&self, e: &DbError, opts: &Options) -> bool {
        e.is_lock_timeout()
            && self.timeouts.lock.is_some()
            && self.attempt < self.timeouts.lock_retries
            && !stopping(opts)
    }

    /// Tells the observer who holds the locks and waits the pause out
    /// (a signal cuts it short); the next pause is twice as long.
    pub async fn wait(
        &mut self,
        db: &mut Db,
        tables: &[String],
        revision: &str,
        opts: &Options,
        obs: &mut dyn Observer,
    ) {
        self.attempt += 1;
        let holders = db.lock_holders(tables).await.unwrap_or_default();
        obs.event(Event::LockRetry {
            revision,
            attempt: self.attempt,
            retries: self.timeouts.lock_retries,
            pause: self.pause,
            holders: &holders,
        });
        let until = Instant::now() + self.pause;
        while Instant::now() < until && !stopping(opts) {
            tokio::time::sleep(Duration::from_millis(50).min(until - Instant::now())).await;
        }
        self.pause = (self.pause * 2).min(MAX_PAUSE);
    }
}

/// A PostgreSQL `CREATE INDEX CONCURRENTLY` with a name: the index,
/// qualified by its table's schema. (Read only for a statement that says
/// CONCURRENTLY.)
fn concurrent_index(db: &Db, code: &str) -> Option<String> {
    if db.engine() != Engine::Postgres {
        return None;
    }
    match kind_of(code, db.dialect.lexer()) {
        Kind::CreateIndex {
            name: Some(name),
            concurrently: true,
            table,
            ..
        } => Some(match table.rsplit_once('.') {
            Some((schema, _)) if !name.contains('.') => format!("{schema}.{name}"),
            _ => name,
        }),
        _ => None,
    }
}

/// Whether the statement runs `CONCURRENTLY` (and so waits for old
/// snapshots by design: no lock timeout for it).
fn concurrently(db: &Db, code: &str) -> bool {
    crate::migration::split::words(code, db.dialect.lexer())
        .iter()
        .any(|w| w == "CONCURRENTLY")
}

/// Runs one statement of a revision outside a transaction: its limits
/// set, a lock timeout retried, a concurrent index checked before and
/// after, a batch block run batch by batch. Returns the rows it changed.
#[allow(clippy::too_many_arguments)]
pub(super) async fn statement(
    db: &mut Db,
    stmt: &Statement<'_>,
    revision: &str,
    timeouts: &Timeouts,
    opts: &Options,
    obs: &mut dyn Observer,
) -> Result<u64, Stopped> {
    let code = stmt.code();
    let concurrent = concurrently(db, code);
    let mut limits = limits(timeouts);
    if limits.lock.is_some() && concurrent {
        limits.lock = Some(Duration::ZERO);
    }
    if limits.any() {
        let set = db.limits_sql(limits, false).await?;
        db.exec(&set).await?;
    }
    let index = concurrent.then(|| concurrent_index(db, code)).flatten();
    if let Some(index) = &index {
        before_concurrent_build(db, index, revision, obs).await?;
    }
    let result = match Batch::of(stmt.leading_comments()) {
        Some(Ok(batch)) => batches(db, stmt, &batch, revision, timeouts, opts, obs).await,
        // The loader checked the mark; a mark it let through reads.
        Some(Err(message)) => Err(Stopped::Failed(DbError {
            message: format!("invalid `-- braid:batch`: {message}"),
            code: None,
            connection: false,
            ..Default::default()
        })),
        None => retried(db, code, code, revision, timeouts, opts, obs)
            .await
            .map_err(Stopped::from),
    };
    let Some(index) = index else {
        return result;
    };
    match result {
        Ok(rows) => match db.index_valid(&index).await? {
            Some(false) => Err(Stopped::Failed(DbError {
                message: format!(
                    "index {index} is INVALID after its concurrent build: it is not used and not kept up to date; \
                     braid drops it and builds it again on the next run"
                ),
                code: None,
                connection: false,
                ..Default::default()
            })),
            _ => Ok(rows),
        },
        Err(Stopped::Failed(mut e)) => {
            if db.index_valid(&index).await.ok().flatten() == Some(false) {
                e.message = format!(
                    "{} (the build left index {index} INVALID: braid drops it and builds it again on the next run)",
                    e.message
                );
            }
            Err(Stopped::Failed(e))
        }
        other => other,
    }
}

/// Before a concurrent build: an INVALID index of that name, left by an
/// earlier failed build, is dropped (concurrently) so the build is not
/// skipped by `IF NOT EXISTS` or refused as a duplicate. Warns on the
/// PostgreSQL releases whose concurrent builds could corrupt indexes.
async fn before_concurrent_build(
    db: &mut Db,
    index: &str,
    revision: &str,
    obs: &mut dyn Observer,
) -> Result<(), DbError> {
    let version = db.server_version().await?;
    if let Some(v) = crate::lint::rules::Version::parse(&version)
        && v.major == 14
        && v.minor < 4
    {
        obs.event(Event::Notice {
            revision,
            message: &format!(
                "PostgreSQL {version} can build a corrupt index with CONCURRENTLY (fixed in 14.4): upgrade the server, \
                 and REINDEX indexes built concurrently on it"
            ),
        });
    }
    if db.index_valid(index).await? == Some(false) {
        obs.event(Event::Notice {
            revision,
            message: &format!(
                "dropping the INVALID index {index} an earlier failed build left, to build it again"
            ),
        });
        let quoted = index
            .split('.')
            .map(|p| db.dialect.quote(p))
            .collect::<Vec<_>>()
            .join(".");
        db.exec(&format!("DROP INDEX CONCURRENTLY IF EXISTS {quoted}"))
            .await?;
    }
    Ok(())
}

/// Runs `sql`, trying again after a lock timeout (`lock_timeout` set) up
/// to `lock_retries` times with a doubling pause. `code` is the
/// statement as written (for the tables whose lock holders are named).
async fn retried(
    db: &mut Db,
    sql: &str,
    code: &str,
    revision: &str,
    timeouts: &Timeouts,
    opts: &Options,
    obs: &mut dyn Observer,
) -> Result<u64, DbError> {
    let mut retry = Retry::new(timeouts);
    loop {
        match db.exec_rows(sql).await {
            Ok(rows) => return Ok(rows),
            Err(e) if retry.allows(&e, opts) => {
                let tables = tables(db.engine(), code);
                retry.wait(db, &tables, revision, opts, obs).await;
            }
            Err(e) if e.is_lock_timeout() && timeouts.lock.is_some() => {
                let holders = db
                    .lock_holders(&tables(db.engine(), code))
                    .await
                    .unwrap_or_default();
                return Err(with_holders(e, retry.attempt, &holders));
            }
            Err(e) => return Err(e),
        }
    }
}

/// A batch block: the statement, `:batch_size` replaced, run until it
/// changes no row, each run in its own transaction (autocommit), with a
/// pause between runs; a signal stops it between two batches.
async fn batches(
    db: &mut Db,
    stmt: &Statement<'_>,
    batch: &Batch,
    revision: &str,
    timeouts: &Timeouts,
    opts: &Options,
    obs: &mut dyn Observer,
) -> Result<u64, Stopped> {
    let sql = batch.statement(stmt.code());
    let started = Instant::now();
    let (mut rows, mut count) = (0, 0);
    loop {
        if stopping(opts) {
            return Err(Stopped::Interrupted { rows });
        }
        let changed = retried(db, &sql, stmt.code(), revision, timeouts, opts, obs).await?;
        rows += changed;
        count += 1;
        obs.event(Event::Batch {
            revision,
            line: stmt.line,
            batches: count,
            rows,
            elapsed: started.elapsed(),
            done: changed == 0,
        });
        if changed == 0 {
            return Ok(rows);
        }
        if !batch.pause.is_zero() {
            tokio::time::sleep(batch.pause).await;
        }
    }
}
