//! Runs plans on a database: lock, re-read the state, re-plan, run each
//! revision with its version-table update, record it in the history, and
//! release the lock on every path. Reports progress to an [`Observer`];
//! knows nothing of the command line.
//!
//! Guarantees (SPEC §7): where DDL is transactional (PostgreSQL, SQLite)
//! a revision and its version-table update commit together or not at all.
//! Where it is not (MySQL, and `transactional = false` revisions), the
//! history row is written as `pending` before the SQL runs and `done`
//! after; a row left `pending` or `failed` blocks later runs until
//! `braid resolve` settles it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::config::Engine;
use crate::db::{Db, DbError, HistoryRow, status};
use crate::graph::Node;
use crate::history::{History, Irreversible, Untranslated};
use crate::migration::split::split;
use crate::plan::{self, Plan, Step};
use crate::revision::Direction;
use crate::target::{self, DowngradeTarget, Target, TargetError};

mod live;
pub mod probe;
pub mod trace;

/// What to do.
#[derive(Debug, Clone)]
pub enum Request<'a> {
    /// Apply what reaches the target.
    Upgrade(&'a Target),
    /// Revert down to the target.
    Downgrade(&'a Target),
    /// Revert one revision that is a current head, and nothing else (a
    /// stairway test's down step).
    Revert(&'a Target),
    /// Record the targets as current without running SQL (`purge` empties the version table first).
    Stamp {
        /// The revisions to record.
        targets: &'a [Target],
        /// Empty the version table first.
        purge: bool,
    },
    /// Accept the current content of changed applied files (all of them
    /// when the list is empty).
    Accept(&'a [Target]),
    /// Settle a revision that stopped halfway outside a transaction.
    Resolve {
        /// The revision.
        revision: &'a Target,
        /// Whether its SQL took effect (record it applied) or not (record it reverted).
        applied: bool,
    },
}

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// How long to wait for the migration lock; `None` waits as long as it takes.
    pub lock_timeout: Option<Duration>,
    /// How long each statement may wait for a table's lock (and how often
    /// to try again) and run (SPEC §13); revision headers override them.
    pub timeouts: crate::config::Timeouts,
    /// Set (by a signal handler) to stop before the next step.
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Run the safety lint (SPEC §12) over what the plan runs, with these
    /// settings: findings go to the observer, and with `upgrade = "deny"`
    /// an error finding stops the run before anything runs (the `lint`
    /// feature).
    #[cfg(feature = "lint")]
    #[cfg_attr(docsrs, doc(cfg(feature = "lint")))]
    pub lint: Option<crate::config::Lint>,
    /// Measure every statement (`braid rehearse`): its duration, the
    /// table locks it took and the tables it rewrote, reported as
    /// [`Event::Statement`]. A transactional revision on PostgreSQL then
    /// runs statement by statement instead of in one round trip.
    pub measure: bool,
}

/// Progress, for the user interface.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// A lint warning about a revision the plan runs (the run goes on).
    Warning(&'a crate::lint::Lint),
    /// A safety finding on a statement the plan runs (the `lint`
    /// feature).
    Finding(&'a crate::lint::Finding),
    /// Another process holds the lock; `holder` says who where the engine can tell.
    Waiting {
        /// Who holds the lock, where the engine can tell.
        holder: Option<&'a str>,
    },
    /// The plan is ready (after the lock was taken and the state re-read).
    Planned {
        /// How many revisions the plan runs.
        steps: usize,
    },
    /// Another process changed the database; the rest was planned again.
    Replanned {
        /// How many revisions are left to run.
        steps: usize,
    },
    /// A revision starts.
    StepStarted {
        /// 0-based position in the plan.
        index: usize,
        /// Revisions in the plan.
        total: usize,
        /// The revision.
        revision: &'a str,
        /// Applied or reverted.
        direction: Direction,
        /// Its message.
        message: Option<&'a str>,
        /// Whether the step runs inside one transaction (abandoning it
        /// midway leaves nothing behind).
        in_transaction: bool,
    },
    /// Something the user should know about the running revision: an
    /// invalid index dropped before its build, a revision continued where
    /// an earlier run stopped, a server with a known defect.
    Notice {
        /// The revision.
        revision: &'a str,
        /// What happened, in a sentence.
        message: &'a str,
    },
    /// A statement gave up waiting for a lock (`lock_timeout`); the
    /// revision (outside a transaction: the statement) is tried again
    /// after `pause`.
    LockRetry {
        /// The revision.
        revision: &'a str,
        /// The retry about to be made (1-based).
        attempt: u32,
        /// How many retries are allowed.
        retries: u32,
        /// The pause before it.
        pause: Duration,
        /// Who holds locks on the statement's tables, where the engine can tell.
        holders: &'a [String],
    },
    /// A batch of a batch block finished.
    Batch {
        /// The revision.
        revision: &'a str,
        /// The batch block's file line.
        line: usize,
        /// Batches run so far.
        batches: u64,
        /// Rows changed so far.
        rows: u64,
        /// Time since the block started.
        elapsed: Duration,
        /// The last batch changed no row: the block is done.
        done: bool,
    },
    /// A statement finished, measured (with [`Options::measure`]).
    Statement {
        /// The revision.
        revision: &'a str,
        /// Applied or reverted.
        direction: Direction,
        /// What it did.
        measured: &'a probe::Measured,
    },
    /// A revision finished and was recorded.
    StepFinished {
        /// 0-based position in the plan.
        index: usize,
        /// Revisions in the plan.
        total: usize,
        /// The revision.
        revision: &'a str,
        /// Applied or reverted.
        direction: Direction,
        /// How long it took.
        elapsed: Duration,
    },
}

/// Receives progress events.
pub trait Observer {
    /// Called for each event, in order.
    fn event(&mut self, event: Event<'_>);
}

/// An observer that ignores everything.
pub struct Silent;

impl Observer for Silent {
    fn event(&mut self, _: Event<'_>) {}
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The revisions run, in order.
    pub steps: Vec<(String, Direction)>,
    /// The heads recorded at the end.
    pub heads: Vec<String>,
}

impl Outcome {
    fn completed(&self) -> Vec<String> {
        self.steps.iter().map(|s| s.0.clone()).collect()
    }
}

/// An applied file whose content changed since it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    /// The revision.
    pub revision: String,
    /// Its file.
    pub path: PathBuf,
    /// The checksum recorded when it ran.
    pub recorded: String,
    /// The checksum of the file today.
    pub current: String,
}

/// Why a run stopped.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExecuteError {
    /// The database failed while braid was `doing` something of its own.
    #[error("database error while {doing}: {source}")]
    Database {
        /// What braid was doing (`taking the migration lock`).
        doing: &'static str,
        /// The database's error.
        #[source]
        source: DbError,
    },
    /// The target does not resolve.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// The database records revisions no file declares.
    #[error("the database records {} that no migration file declares: {}", if revisions.len() == 1 { "a revision" } else { "revisions" }, revisions.join(", "))]
    UnknownRecorded {
        /// The revisions.
        revisions: Vec<String>,
    },
    /// A downgrade would run a revision without a down section.
    #[error(transparent)]
    Irreversible(#[from] Irreversible),
    /// The plan would run an imported revision nobody translated.
    #[error(transparent)]
    Untranslated(#[from] Untranslated),
    /// Applied files changed since they ran.
    #[error("{} applied migration file{} changed since {} ran: {}", files.len(), if files.len() == 1 { "" } else { "s" }, if files.len() == 1 { "it" } else { "they" }, files.iter().map(|f| f.revision.as_str()).collect::<Vec<_>>().join(", "))]
    Changed {
        /// The files.
        files: Vec<ChangedFile>,
    },
    /// A revision stopped halfway and blocks further runs.
    #[error("revision `{}` stopped halfway ({} started {}, status {}): the database may hold part of it", row.revision, row.direction, row.started_at, row.status)]
    Blocked {
        /// The history row of the unfinished step.
        row: HistoryRow,
    },
    /// A revision's statement failed.
    #[error("revision `{revision}` failed ({direction}): {}", source.message)]
    StepFailed {
        /// The revision.
        revision: String,
        /// Its file.
        path: PathBuf,
        /// Applied or reverted.
        direction: Direction,
        /// The file line where the failing statement starts.
        line: usize,
        /// The statement that failed.
        statement: String,
        /// The database's error.
        #[source]
        source: DbError,
        /// Whether the revision's changes were rolled back.
        rolled_back: bool,
        /// Whether a rerun of the unchanged file continues at the failed
        /// statement (a `transactional = false` revision, SPEC §13).
        resumable: bool,
        /// Revisions this run completed before the failure.
        completed: Vec<String>,
    },
    /// `resolve` named a revision with nothing to resolve.
    #[error("revision `{0}` has no unfinished step to resolve")]
    NothingToResolve(String),
    /// Statements that cannot run as written (found before anything ran).
    #[error("{} statement{} cannot run as written; nothing was run", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Lint(Vec<crate::lint::Lint>),
    /// `[lint] upgrade = "deny"` and the safety lint found errors in what
    /// the plan runs: nothing was run.
    #[error("{} statement{} would lock or rewrite a large table; nothing was run", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Unsafe(Vec<crate::lint::Finding>),
    /// A signal stopped the run: between revisions, or by cancelling the
    /// revision that was running in a transaction (rolled back).
    #[error("interrupted: stopped after {} revision{}{}{}", completed.len(), if completed.len() == 1 { "" } else { "s" }, cancelled.as_ref().map(|r| format!("; revision {r} was cancelled and rolled back")).unwrap_or_default(), paused.as_ref().map(|r| format!("; revision {r} stopped between its batches, and a rerun continues it")).unwrap_or_default())]
    Interrupted {
        /// The revisions completed before the stop.
        completed: Vec<String>,
        /// The revision that was running in a transaction when the stop
        /// came, cancelled and rolled back.
        cancelled: Option<String>,
        /// The revision outside a transaction that stopped between the
        /// batches of a batch block: a rerun continues it.
        paused: Option<String>,
    },
}

fn db_err(doing: &'static str) -> impl FnOnce(DbError) -> ExecuteError {
    move |source| ExecuteError::Database { doing, source }
}

/// Maps recorded heads to graph nodes.
fn to_nodes(h: &History, ids: &[String]) -> Result<Vec<Node>, ExecuteError> {
    let mut unknown = Vec::new();
    let mut nodes = Vec::new();
    for id in ids {
        match h.graph.node(id) {
            Some(n) => nodes.push(n),
            None => unknown.push(id.clone()),
        }
    }
    if unknown.is_empty() {
        Ok(nodes)
    } else {
        Err(ExecuteError::UnknownRecorded { revisions: unknown })
    }
}

fn sorted_ids(h: &History, nodes: &[Node]) -> Vec<String> {
    let mut ids: Vec<String> = nodes.iter().map(|n| h.graph.id(*n).to_string()).collect();
    ids.sort();
    ids
}

/// The recorded checksum of every revision, from the history.
fn recorded_checksums(rows: &[(String, String)]) -> HashMap<&str, &str> {
    rows.iter().map(|(r, c)| (r.as_str(), c.as_str())).collect()
}

/// Applied files whose checksum differs from the one recorded when they ran.
fn changed_files(h: &History, applied: &[bool], rows: &[(String, String)]) -> Vec<ChangedFile> {
    let recorded = recorded_checksums(rows);
    let mut out = Vec::new();
    for &n in h.graph.sorted_nodes() {
        if !applied[n.index()] {
            continue;
        }
        let m = h.migration(n);
        if let Some(rec) = recorded.get(m.id.as_str())
            && !m.checksum.is_stored_as(rec)
        {
            out.push(ChangedFile {
                revision: m.id.to_string(),
                path: m.path.clone(),
                recorded: (*rec).to_owned(),
                current: m.checksum.to_string(),
            });
        }
    }
    out
}

/// What `check` and `current` learn from a database, without locking or
/// writing anything.
#[derive(Debug, Clone, Default)]
pub struct Inspection {
    /// The recorded heads.
    pub heads: Vec<String>,
    /// Recorded revisions no file declares.
    pub unknown: Vec<String>,
    /// Revisions not applied yet, in graph order.
    pub pending: Vec<Node>,
    /// Applied files whose text changed since they ran.
    pub changed: Vec<ChangedFile>,
    /// History rows of revisions that stopped halfway.
    pub blocked: Vec<HistoryRow>,
}

/// Reads the recorded heads (empty when braid never ran here).
///
/// # Errors
///
/// The version table cannot be read.
///
/// ```no_run
/// # async fn doc(db: &mut braid::db::Db, history: &braid::history::History) -> Result<(), Box<dyn std::error::Error>> {
/// let heads = braid::execute::current_heads(db).await?;
/// println!("at {}", heads.join(", "));
/// # Ok(()) }
/// ```
pub async fn current_heads(db: &mut Db) -> Result<Vec<String>, ExecuteError> {
    if !db
        .has_version_table()
        .await
        .map_err(db_err("reading the version table"))?
    {
        return Ok(Vec::new());
    }
    db.read_heads()
        .await
        .map_err(db_err("reading the version table"))
}

/// Compares the database with the history.
///
/// # Errors
///
/// The version or history table cannot be read.
///
/// ```no_run
/// # async fn doc(db: &mut braid::db::Db, history: &braid::history::History) -> Result<(), Box<dyn std::error::Error>> {
/// let state = braid::execute::inspect(db, history).await?;
/// println!("{} pending, {} changed", state.pending.len(), state.changed.len());
/// # Ok(()) }
/// ```
pub async fn inspect(db: &mut Db, h: &History) -> Result<Inspection, ExecuteError> {
    let heads = current_heads(db).await?;
    let mut out = Inspection {
        heads: heads.clone(),
        ..Default::default()
    };
    if heads.is_empty() && !db.has_version_table().await.map_err(db_err("reading"))? {
        out.pending = plan::upgrade_to(&h.graph, &[], &h.graph.real_heads())
            .steps
            .iter()
            .map(|s| s.node)
            .collect();
        return Ok(out);
    }
    let known: Vec<Node> = heads.iter().filter_map(|id| h.graph.node(id)).collect();
    out.unknown = heads
        .iter()
        .filter(|id| h.graph.node(id).is_none())
        .cloned()
        .collect();
    let known = plan::normalize_heads(&h.graph, &known);
    out.pending = plan::upgrade_to(&h.graph, &known, &h.graph.real_heads())
        .steps
        .iter()
        .map(|s| s.node)
        .collect();
    // The history table exists wherever braid wrote the version table; a
    // table Alembic wrote has none yet.
    let rows = db.checksum_rows().await.unwrap_or_default();
    out.changed = changed_files(h, &plan::applied_set(&h.graph, &known), &rows);
    out.blocked = db.blocking_rows().await.unwrap_or_default();
    Ok(out)
}

/// What the safety lint needs from the database for these sections: the
/// server's version, and the sizes and column types of the tables their
/// statements touch.
///
/// # Errors
///
/// A catalog query fails.
#[cfg(feature = "lint")]
#[cfg_attr(docsrs, doc(cfg(feature = "lint")))]
pub async fn lint_facts(
    db: &mut Db,
    sections: &crate::lint::safety::Sections<'_>,
) -> Result<crate::lint::safety::Facts, ExecuteError> {
    let tables = sections.tables();
    let mut facts = db
        .table_facts(&tables)
        .await
        .map_err(db_err("reading table sizes"))?;
    let version = db
        .server_version()
        .await
        .map_err(db_err("reading the server version"))?;
    facts.version = crate::lint::rules::Version::parse(&version);
    Ok(facts)
}

/// Reports waiting for a lock to the observer.
fn waiter(obs: &mut dyn Observer) -> impl FnMut(Option<String>) + '_ {
    move |holder| {
        obs.event(Event::Waiting {
            holder: holder.as_deref(),
        })
    }
}

/// Runs a request under the lock, releasing it on every path.
///
/// # Errors
///
/// [`ExecuteError`]: the lock not had, a target that does not resolve, a
/// failed statement (rolled back where the engine can), changed files, a
/// half-applied revision, a signal.
///
/// ```no_run
/// # async fn doc(db: &mut braid::db::Db, history: &braid::history::History) -> Result<(), Box<dyn std::error::Error>> {
/// use braid::execute::{Options, Request, Silent};
/// let heads = braid::target::Target::heads();
/// let outcome = braid::execute::run(db, history, Request::Upgrade(&heads), &Options::default(), &mut Silent).await?;
/// println!("{} step(s)", outcome.steps.len());
/// # Ok(()) }
/// ```
pub async fn run(
    db: &mut Db,
    h: &History,
    req: Request<'_>,
    opts: &Options,
    obs: &mut dyn Observer,
) -> Result<Outcome, ExecuteError> {
    db.lock(opts.lock_timeout, &mut waiter(obs))
        .await
        .map_err(db_err("taking the migration lock"))?;
    let result = locked(db, h, req, opts, obs).await;
    let unlocked = match db.unlock().await {
        // A cancel sent for the step may land on the unlock instead; the
        // session lock goes with the connection all the same.
        Err(e) if e.is_cancelled() && stopping(opts) => Ok(()),
        other => other.map_err(db_err("releasing the migration lock")),
    };
    let outcome = result?;
    unlocked?;
    Ok(outcome)
}

async fn locked(
    db: &mut Db,
    h: &History,
    req: Request<'_>,
    opts: &Options,
    obs: &mut dyn Observer,
) -> Result<Outcome, ExecuteError> {
    // Bad input leaves no trace: the tables are created only once the
    // request has resolved and there is something to write.
    let exists = db
        .has_version_table()
        .await
        .map_err(db_err("reading the version table"))?;
    if exists {
        // A version table Alembic wrote has no history table beside it, and
        // another process may be creating both right now.
        db.ensure_tables()
            .await
            .map_err(db_err("creating the version and history tables"))?;
    }
    match &req {
        Request::Upgrade(_) | Request::Downgrade(_) | Request::Revert(_) => {}
        Request::Stamp { targets, .. } | Request::Accept(targets) => {
            for t in targets.iter() {
                target::resolve_stamp(&h.graph, &[], t)?;
            }
        }
        Request::Resolve { revision, .. } => {
            target::resolve_revision(&h.graph, revision)?;
        }
    }
    if let Request::Resolve { revision, applied } = req {
        db.ensure_tables()
            .await
            .map_err(db_err("creating the version and history tables"))?;
        return resolve(db, h, revision, applied).await;
    }
    // A revision outside a transaction that stopped halfway blocks the
    // run, unless its file is unchanged: then the run continues it (SPEC
    // §13), provided it is what the plan runs first.
    let mut resume = None;
    if exists {
        let rows = db
            .blocking_rows()
            .await
            .map_err(db_err("reading the history"))?;
        if let Some(row) = rows.into_iter().next() {
            if !resumable(h, &row) || !matches!(req, Request::Upgrade(_) | Request::Downgrade(_)) {
                return Err(ExecuteError::Blocked { row });
            }
            resume = Some(row);
        }
    }
    if matches!(req, Request::Stamp { .. } | Request::Accept(_)) {
        db.ensure_tables()
            .await
            .map_err(db_err("creating the version and history tables"))?;
    }
    match req {
        Request::Upgrade(t) => migrate(db, h, exists, Way::Up, t, resume, opts, obs).await,
        Request::Downgrade(t) => migrate(db, h, exists, Way::Down, t, resume, opts, obs).await,
        Request::Revert(t) => migrate(db, h, exists, Way::Revert, t, resume, opts, obs).await,
        Request::Stamp { targets, purge } => stamp(db, h, targets, purge, opts, obs).await,
        Request::Accept(targets) => accept(db, h, targets).await,
        Request::Resolve { .. } => unreachable!("handled above"),
    }
}

/// Whether a step that stopped halfway can be continued by a rerun: a
/// revision with `transactional = false` whose file is unchanged since it
/// started (SPEC §13).
pub fn resumable(h: &History, row: &HistoryRow) -> bool {
    let Some(n) = h.graph.node(&row.revision) else {
        return false;
    };
    let m = h.migration(n);
    !m.transactional
        && matches!(row.direction.as_str(), "up" | "down")
        && row
            .checksum
            .as_deref()
            .is_some_and(|c| m.checksum.is_stored_as(c))
}

/// Where a run is going, resolved once so that re-planning after another
/// process's work keeps the meaning of relative targets.
enum Dest {
    Up(Vec<Node>),
    Down(DowngradeTarget),
    Revert(Node),
}

/// Which way a run goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    Up,
    Down,
    Revert,
}

fn plan_to(h: &History, current: &[Node], dest: &Dest, text: &str) -> Result<Plan, TargetError> {
    match dest {
        Dest::Up(targets) => Ok(plan::upgrade_to(&h.graph, current, targets)),
        Dest::Down(d) => plan::downgrade_to(&h.graph, current, *d, text),
        Dest::Revert(n) => plan::revert_head(&h.graph, current, *n, text),
    }
}

#[allow(clippy::too_many_arguments)]
async fn migrate(
    db: &mut Db,
    h: &History,
    // Whether the version table exists (the caller has just checked).
    exists: bool,
    way: Way,
    t: &Target,
    // A step that stopped halfway, to continue.
    mut resume: Option<HistoryRow>,
    opts: &Options,
    obs: &mut dyn Observer,
) -> Result<Outcome, ExecuteError> {
    let direction = if way == Way::Up {
        Direction::Up
    } else {
        Direction::Down
    };
    let g = &h.graph;
    let recorded = if exists {
        db.read_heads()
            .await
            .map_err(db_err("reading the version table"))?
    } else {
        Vec::new()
    };
    let current = plan::normalize_heads(g, &to_nodes(h, &recorded)?);
    let dest = match way {
        Way::Up => Dest::Up(target::resolve_upgrade(g, &current, t)?),
        Way::Down => Dest::Down(target::resolve_downgrade(g, &current, t)?),
        Way::Revert => match target::resolve_revision(g, t)? {
            Some(n) => Dest::Revert(n),
            None => Dest::Down(target::resolve_downgrade(g, &current, t)?),
        },
    };
    let mut plan = plan_to(h, &current, &dest, &t.text)?;
    if let Some(row) = &resume {
        // Only the revision that stopped may run first; anything else
        // would run on top of a half-applied revision.
        let first = plan
            .steps
            .first()
            .map(|s| (h.graph.id(s.node).as_str(), s.direction.as_str()));
        if first != Some((row.revision.as_str(), row.direction.as_str())) {
            return Err(ExecuteError::Blocked { row: row.clone() });
        }
    }
    if direction == Direction::Up && exists {
        let rows = db
            .checksum_rows()
            .await
            .map_err(db_err("reading the history"))?;
        let changed = changed_files(h, &plan::applied_set(g, &current), &rows);
        if !changed.is_empty() {
            return Err(ExecuteError::Changed { files: changed });
        }
    }
    h.check_reversible(&plan)?;
    h.check_translated(&plan)?;
    let (errors, warnings): (Vec<_>, Vec<_>) =
        crate::lint::plan_lints(h, &plan, db.dialect.lexer())
            .into_iter()
            .partition(|l| l.severity == crate::lint::Severity::Error);
    if !errors.is_empty() {
        return Err(ExecuteError::Lint(errors));
    }
    for lint in &warnings {
        obs.event(Event::Warning(lint));
    }
    // Nothing to run, nothing to judge: a no-op rerun asks the database nothing more.
    #[cfg(feature = "lint")]
    if let Some(settings) = opts.lint.as_ref().filter(|_| !plan.is_empty()) {
        let sections: Vec<_> = plan.steps.iter().map(|s| (s.node, s.direction)).collect();
        let sections = crate::lint::safety::Sections::read(h, &sections, db.engine());
        let facts = lint_facts(db, &sections).await?;
        let report = crate::lint::safety::lint(h, &sections, settings, &facts);
        for f in &report.findings {
            obs.event(Event::Finding(f));
        }
        if settings.upgrade == crate::config::LintUpgrade::Deny && report.errors() > 0 {
            let errors = report
                .findings
                .into_iter()
                .filter(|f| f.severity == crate::lint::Severity::Error)
                .collect();
            return Err(ExecuteError::Unsafe(errors));
        }
    }
    if !plan.is_empty() {
        db.ensure_tables()
            .await
            .map_err(db_err("creating the version and history tables"))?;
    }
    obs.event(Event::Planned {
        steps: plan.steps.len(),
    });

    let mut outcome = Outcome::default();
    // What the version table holds before the next step; SQLite checks it
    // under the write lock at every step, since it has no run lock.
    let mut expected = recorded;
    let mut index = 0;
    'plan: loop {
        let total = index + plan.steps.len();
        let heads_after = plan.heads_after_each(g);
        for (step, after) in plan.steps.iter().zip(heads_after) {
            let m = h.migration(step.node);
            if stopping(opts) {
                return Err(ExecuteError::Interrupted {
                    completed: outcome.completed(),
                    cancelled: None,
                    paused: None,
                });
            }
            obs.event(Event::StepStarted {
                index,
                total,
                revision: m.id.as_str(),
                direction: step.direction,
                message: m.message.as_deref(),
                in_transaction: m.transactional && db.dialect.transactional_ddl(),
            });
            let started = Instant::now();
            let resuming = resume.take().filter(|r| r.revision == m.id.as_str());
            match run_step(
                db,
                h,
                step,
                &expected,
                resuming.as_ref(),
                opts,
                obs,
                &outcome,
            )
            .await?
            {
                StepResult::Done => {}
                StepResult::Stale(now) => {
                    let current = plan::normalize_heads(g, &to_nodes(h, &now)?);
                    plan = plan_to(h, &current, &dest, &t.text)?;
                    h.check_reversible(&plan)?;
                    h.check_translated(&plan)?;
                    obs.event(Event::Replanned {
                        steps: plan.steps.len(),
                    });
                    expected = now;
                    continue 'plan;
                }
            }
            obs.event(Event::StepFinished {
                index,
                total,
                revision: m.id.as_str(),
                direction: step.direction,
                elapsed: started.elapsed(),
            });
            outcome.steps.push((m.id.to_string(), step.direction));
            expected = sorted_ids(h, &after);
            index += 1;
        }
        break;
    }
    outcome.heads = expected;
    Ok(outcome)
}

/// Whether a signal asked the run to stop.
fn stopping(opts: &Options) -> bool {
    opts.stop
        .as_ref()
        .is_some_and(|s| s.load(std::sync::atomic::Ordering::SeqCst))
}

enum StepResult {
    Done,
    /// The version table no longer holds what the plan expected: another
    /// process moved it. Carries what it holds now.
    Stale(Vec<String>),
}

/// Whether a section turns SQLite's foreign keys off (`PRAGMA
/// foreign_keys = OFF`, as a table rebuild does).
fn turns_foreign_keys_off(db: &Db, sql: &str, first_line: usize) -> bool {
    let lexer = db.dialect.lexer();
    split(sql, first_line, lexer).iter().any(|s| {
        let w = crate::migration::split::words(s.text, lexer);
        w.len() == 3
            && w[0] == "PRAGMA"
            && w[1] == "FOREIGN_KEYS"
            && matches!(w[2].as_str(), "OFF" | "0" | "FALSE" | "NO")
    })
}

#[allow(clippy::too_many_arguments)]
async fn run_step(
    db: &mut Db,
    h: &History,
    step: &Step,
    expected: &[String],
    resume: Option<&HistoryRow>,
    opts: &Options,
    obs: &mut dyn Observer,
    outcome: &Outcome,
) -> Result<StepResult, ExecuteError> {
    let m = h.migration(step.node);
    let section = m.section(step.direction).expect("checked reversible");
    // A table rebuild drops the old table, which with foreign keys on
    // deletes its rows and cascades into child tables; and `PRAGMA
    // foreign_keys` does nothing inside a transaction
    // (sqlite.org/pragma.html#pragma_foreign_keys). So they go off before
    // BEGIN, are checked before COMMIT, and come back on after.
    let fk_off = db.engine() == Engine::Sqlite
        && m.transactional
        && turns_foreign_keys_off(db, &m.source[section.range.clone()], section.first_line);
    if fk_off {
        db.exec("PRAGMA foreign_keys = OFF")
            .await
            .map_err(db_err("turning foreign keys off"))?;
    }
    let result = run_step_inner(db, h, step, expected, resume, opts, obs, outcome, fk_off).await;
    if fk_off {
        db.exec("PRAGMA foreign_keys = ON")
            .await
            .map_err(db_err("turning foreign keys back on"))?;
    }
    result
}

/// The rows that break a foreign key, as `table → parent` counts.
async fn foreign_key_violations(db: &mut Db) -> Result<Vec<String>, DbError> {
    let rows = db
        .text_rows(
            "SELECT \"table\", parent, CAST(count(*) AS TEXT) FROM pragma_foreign_key_check \
             GROUP BY 1, 2 ORDER BY 1, 2",
            &[],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let text = |i: usize| r[i].clone().unwrap_or_default();
            format!(
                "{} row(s) of table {} reference missing rows of {}",
                text(2),
                text(0),
                text(1)
            )
        })
        .collect())
}

#[allow(clippy::too_many_arguments)]
async fn run_step_inner(
    db: &mut Db,
    h: &History,
    step: &Step,
    expected: &[String],
    resume: Option<&HistoryRow>,
    opts: &Options,
    obs: &mut dyn Observer,
    outcome: &Outcome,
    fk_check: bool,
) -> Result<StepResult, ExecuteError> {
    let m = h.migration(step.node);
    let section = m.section(step.direction).expect("checked reversible");
    let sql = &m.source[section.range.clone()];
    let statements = split(sql, section.first_line, db.dialect.lexer());
    let removed: Vec<&str> = h.graph.ids(&step.removed).collect();
    let added: Vec<&str> = h.graph.ids(&step.added).collect();
    let checksum = m.checksum.to_string();
    let direction = step.direction.as_str();
    let transactional = m.transactional && db.dialect.transactional_ddl();
    let timeouts = opts.timeouts.for_revision(m);

    let failed = |stmt: &crate::migration::split::Statement<'_>, source: DbError, rolled_back| {
        ExecuteError::StepFailed {
            revision: m.id.to_string(),
            path: m.path.clone(),
            direction: step.direction,
            line: stmt.line,
            statement: stmt.text.to_owned(),
            source,
            rolled_back,
            resumable: !rolled_back && !m.transactional,
            completed: outcome.completed(),
        }
    };
    // A step cancelled on the server because a signal asked to stop (or
    // stopped between its statements): rolled back, and said so.
    let cancelled = || ExecuteError::Interrupted {
        completed: outcome.completed(),
        cancelled: Some(m.id.to_string()),
        paused: None,
    };
    // When the step started, for its history row (its duration, SPEC §14).
    let started_at = db.now();
    let book = |db: &Db, finish| {
        db.bookkeeping_sql(
            &removed,
            &added,
            m.id.as_str(),
            direction,
            &checksum,
            &started_at,
            finish,
        )
    };

    if transactional && db.engine() == Engine::Postgres && !opts.measure {
        // The run lock is held, so the version table cannot have moved: the
        // whole step (SQL, version table, history, COMMIT) goes in one round
        // trip. Only when it fails are the statements run again one by one,
        // inside a transaction that is rolled back, to name the one at fault.
        // The limits are `SET LOCAL`: they end with the transaction,
        // committed or rolled back.
        let set = db
            .limits_sql(live::limits(&timeouts), true)
            .await
            .map_err(db_err("setting the timeouts"))?;
        let script = format!("BEGIN;\n{set}{sql}\n;\n{}COMMIT;", book(db, None));
        let mut retry = live::Retry::new(&timeouts);
        let engine = db.engine();
        let tables = || {
            let mut all: Vec<String> = statements
                .iter()
                .flat_map(|s| live::tables(engine, s.code()))
                .collect();
            all.sort();
            all.dedup();
            all
        };
        let batch_error = loop {
            let Err(e) = db.exec(&script).await else {
                return Ok(StepResult::Done);
            };
            if e.is_cancelled() && stopping(opts) {
                roll_back_step(db, m.id.as_str(), direction, &checksum, CANCELLED).await?;
                return Err(cancelled());
            }
            // A lock timeout comes before the COMMIT: nothing committed,
            // the whole revision is tried again.
            if retry.allows(&e, opts) {
                db.rollback().await.map_err(db_err("rolling back"))?;
                let t = tables();
                retry.wait(db, &t, m.id.as_str(), opts, obs).await;
                continue;
            }
            break e;
        };
        db.rollback().await.map_err(db_err("rolling back"))?;
        db.exec(&format!("BEGIN;\n{set}"))
            .await
            .map_err(db_err("starting a transaction"))?;
        let mut culprit = None;
        for stmt in &statements {
            if let Err(e) = db.exec(stmt.text).await {
                culprit = Some((stmt, e));
                break;
            }
        }
        roll_back_step(
            db,
            m.id.as_str(),
            direction,
            &checksum,
            &batch_error.message,
        )
        .await?;
        // Retries spent: the error names who still holds the lock.
        if let Some((_, e)) = culprit.as_mut().filter(|(_, e)| e.is_lock_timeout()) {
            let holders = db.lock_holders(&tables()).await.unwrap_or_default();
            *e = live::with_holders(e.clone(), retry.attempt, &holders);
        }
        return Err(match culprit {
            Some((stmt, e)) => failed(stmt, e, true),
            None => ExecuteError::Database {
                doing: "recording the step",
                source: batch_error,
            },
        });
    }

    db.begin(opts.lock_timeout, &mut waiter(obs))
        .await
        .map_err(db_err("starting a transaction"))?;
    if db.engine() == Engine::Sqlite {
        // SQLite has no run lock: under the write lock just taken, check
        // that no other process moved the version table meanwhile.
        let now = db
            .read_heads()
            .await
            .map_err(db_err("reading the version table"))?;
        if now != expected {
            db.rollback().await.map_err(db_err("rolling back"))?;
            return Ok(StepResult::Stale(now));
        }
    }

    if transactional {
        let mut probe = None;
        if opts.measure {
            if db.engine() == Engine::Postgres {
                let set = db
                    .limits_sql(live::limits(&timeouts), true)
                    .await
                    .map_err(db_err("setting the timeouts"))?;
                db.exec(&set)
                    .await
                    .map_err(db_err("setting the timeouts"))?;
            }
            probe = Some(probe::Probe::start(db, true).await);
        }
        for (i, stmt) in statements.iter().enumerate() {
            if stopping(opts) {
                roll_back_step(db, m.id.as_str(), direction, &checksum, CANCELLED).await?;
                return Err(cancelled());
            }
            let ran = measured(
                probe.as_mut(),
                db,
                (i + 1, stmt),
                (m.id.as_str(), step.direction),
                obs,
                async |db, _| db.exec(stmt.text).await,
            )
            .await;
            if let Err(e) = ran {
                if e.is_cancelled() && stopping(opts) {
                    roll_back_step(db, m.id.as_str(), direction, &checksum, CANCELLED).await?;
                    return Err(cancelled());
                }
                roll_back_step(db, m.id.as_str(), direction, &checksum, &e.message).await?;
                return Err(failed(stmt, e, true));
            }
        }
        if fk_check {
            let violations = foreign_key_violations(db)
                .await
                .map_err(db_err("checking foreign keys"))?;
            if !violations.is_empty() {
                let e = DbError {
                    connection: false,
                    message: format!("foreign keys broken: {}", violations.join("; ")),
                    code: None,
                    ..Default::default()
                };
                roll_back_step(db, m.id.as_str(), direction, &checksum, &e.message).await?;
                let check = crate::migration::split::Statement {
                    text: "PRAGMA foreign_key_check",
                    line: section.first_line,
                };
                return Err(failed(&check, e, true));
            }
        }
        let done = format!("{}COMMIT;", book(db, None));
        db.exec(&done).await.map_err(db_err("recording the step"))?;
        return Ok(StepResult::Done);
    }

    // Outside a transaction: say what is about to run before running it,
    // and record each statement as it completes, so that a rerun of the
    // unchanged file continues after the last one (SPEC §13).
    let (row, first) = match resume {
        Some(r) => {
            let done = db
                .completed_statements(r)
                .await
                .map_err(db_err("reading the history"))?;
            (r.id, done)
        }
        None => {
            let row = db
                .insert_history(
                    m.id.as_str(),
                    direction,
                    Some(&checksum),
                    status::PENDING,
                    None,
                )
                .await
                .map_err(db_err("writing the history"))?;
            (row, 0)
        }
    };
    db.commit().await.map_err(db_err("committing"))?;
    if let Some(next) = statements.get(first).filter(|_| resume.is_some()) {
        obs.event(Event::Notice {
            revision: m.id.as_str(),
            message: &format!(
                "continuing where an earlier run stopped: statement {} of {} (line {}); the {} before it completed then",
                first + 1,
                statements.len(),
                next.line,
                if first == 1 {
                    "one".to_owned()
                } else {
                    first.to_string()
                }
            ),
        });
    }
    let restore = if live::limits(&timeouts).any() {
        Some(
            db.limits_restore_sql()
                .await
                .map_err(db_err("reading the session's timeouts"))?,
        )
    } else {
        None
    };
    let total = statements.len();
    let mut result = Ok(());
    let mut probe = match opts.measure {
        true => Some(probe::Probe::start(db, false).await),
        false => None,
    };
    for (i, stmt) in statements.iter().enumerate().skip(first) {
        let started = db.now();
        let ran = measured(
            probe.as_mut(),
            db,
            (i + 1, stmt),
            (m.id.as_str(), step.direction),
            obs,
            async |db, obs| live::statement(db, stmt, m.id.as_str(), &timeouts, opts, obs).await,
        )
        .await;
        match ran {
            Ok(rows) => {
                let batch = crate::migration::Batch::of(stmt.leading_comments()).is_some();
                db.record_statement(
                    m.id.as_str(),
                    direction,
                    &checksum,
                    i + 1,
                    &started,
                    Some(rows),
                    &format!(
                        "statement {} of {total} (line {}){}",
                        i + 1,
                        stmt.line,
                        if batch { ", in batches" } else { "" }
                    ),
                )
                .await
                .map_err(db_err("writing the history"))?;
            }
            Err(live::Stopped::Failed(e)) => {
                let _ = db
                    .finish_history(row, status::FAILED, Some(&e.message))
                    .await;
                result = Err(failed(stmt, e, false));
                break;
            }
            Err(live::Stopped::Interrupted { rows }) => {
                let _ = db
                    .finish_history(
                        row,
                        status::FAILED,
                        Some(&format!(
                            "interrupted by a signal between batches of statement {} (line {}) after {rows} rows",
                            i + 1,
                            stmt.line
                        )),
                    )
                    .await;
                result = Err(ExecuteError::Interrupted {
                    completed: outcome.completed(),
                    cancelled: None,
                    paused: Some(m.id.to_string()),
                });
                break;
            }
        }
    }
    if let Some(restore) = restore {
        db.exec(&restore)
            .await
            .map_err(db_err("putting the session's timeouts back"))?;
    }
    result?;
    db.begin(opts.lock_timeout, &mut |_| {})
        .await
        .map_err(db_err("starting a transaction"))?;
    let done = format!("{}COMMIT;", book(db, Some(row)));
    db.exec(&done).await.map_err(db_err("recording the step"))?;
    Ok(StepResult::Done)
}

/// Runs one statement (`run`); with a probe ([`Options::measure`]), measures
/// it and reports it as [`Event::Statement`].
async fn measured<T, E>(
    probe: Option<&mut probe::Probe>,
    db: &mut Db,
    (index, stmt): (usize, &crate::migration::split::Statement<'_>),
    (revision, direction): (&str, Direction),
    obs: &mut dyn Observer,
    run: impl AsyncFnOnce(&mut Db, &mut dyn Observer) -> Result<T, E>,
) -> Result<T, E> {
    let Some(p) = probe else {
        return run(db, obs).await;
    };
    let (ran, measured) = p
        .measure(db, index, stmt, async |db: &mut Db| {
            run(db, &mut *obs).await
        })
        .await;
    obs.event(Event::Statement {
        revision,
        direction,
        measured: &measured,
    });
    ran
}

/// The history's note on a step a signal cancelled.
const CANCELLED: &str = "cancelled by a signal";

/// Rolls a failed step back and records the attempt (a record only: it
/// blocks nothing).
async fn roll_back_step(
    db: &mut Db,
    revision: &str,
    direction: &str,
    checksum: &str,
    message: &str,
) -> Result<(), ExecuteError> {
    db.rollback().await.map_err(db_err("rolling back"))?;
    let _ = db
        .record_history(
            revision,
            direction,
            Some(checksum),
            status::ROLLED_BACK,
            Some(message),
        )
        .await;
    Ok(())
}

/// The version-table rows to delete and to insert to go from `before` to
/// `after`.
fn head_changes<'a>(before: &'a [String], after: &'a [String]) -> (Vec<&'a str>, Vec<&'a str>) {
    let removed = before
        .iter()
        .filter(|r| !after.contains(r))
        .map(String::as_str)
        .collect();
    let added = after
        .iter()
        .filter(|a| !before.contains(a))
        .map(String::as_str)
        .collect();
    (removed, added)
}

async fn stamp(
    db: &mut Db,
    h: &History,
    targets: &[Target],
    purge: bool,
    opts: &Options,
    obs: &mut dyn Observer,
) -> Result<Outcome, ExecuteError> {
    db.begin(opts.lock_timeout, &mut waiter(obs))
        .await
        .map_err(db_err("starting a transaction"))?;
    let result = async {
        let recorded = db
            .read_heads()
            .await
            .map_err(db_err("reading the version table"))?;
        // `--purge` exists for version tables naming revisions that are gone.
        let current = if purge {
            Vec::new()
        } else {
            to_nodes(h, &recorded)?
        };
        let new = plan::stamp(&h.graph, &current, targets, purge)?;
        let new_ids = sorted_ids(h, &new);
        let (removed, added) = head_changes(&recorded, &new_ids);
        db.update_heads(&removed, &added)
            .await
            .map_err(db_err("updating the version table"))?;
        for a in &added {
            let m = h.migration(h.graph.node(a).expect("known"));
            // Only a pending row needs its id read back.
            db.record_history(
                a,
                "stamp",
                Some(&m.checksum.to_string()),
                status::DONE,
                None,
            )
            .await
            .map_err(db_err("writing the history"))?;
        }
        Ok(new_ids)
    }
    .await;
    match result {
        Ok(heads) => {
            db.commit().await.map_err(db_err("committing"))?;
            Ok(Outcome {
                steps: Vec::new(),
                heads,
            })
        }
        Err(e) => {
            let _ = db.rollback().await;
            Err(e)
        }
    }
}

async fn accept(db: &mut Db, h: &History, targets: &[Target]) -> Result<Outcome, ExecuteError> {
    let recorded = db
        .read_heads()
        .await
        .map_err(db_err("reading the version table"))?;
    let current = plan::normalize_heads(&h.graph, &to_nodes(h, &recorded)?);
    let rows = db
        .checksum_rows()
        .await
        .map_err(db_err("reading the history"))?;
    let mut changed = changed_files(h, &plan::applied_set(&h.graph, &current), &rows);
    if !targets.is_empty() {
        let mut wanted = Vec::new();
        for t in targets {
            if let Some(n) = target::resolve_revision(&h.graph, t)? {
                wanted.push(h.graph.id(n).to_string());
            }
        }
        changed.retain(|c| wanted.contains(&c.revision));
    }
    let mut steps = Vec::new();
    for c in &changed {
        db.record_history(&c.revision, "accept", Some(&c.current), status::DONE, None)
            .await
            .map_err(db_err("writing the history"))?;
        steps.push((c.revision.clone(), Direction::Up));
    }
    Ok(Outcome {
        steps,
        heads: recorded,
    })
}

async fn resolve(
    db: &mut Db,
    h: &History,
    revision: &Target,
    applied: bool,
) -> Result<Outcome, ExecuteError> {
    let n = target::resolve_revision(&h.graph, revision)?
        .ok_or_else(|| ExecuteError::NothingToResolve(revision.text.clone()))?;
    let id = h.graph.id(n).to_string();
    let rows = db
        .blocking_rows()
        .await
        .map_err(db_err("reading the history"))?;
    let Some(row) = rows.into_iter().rev().find(|r| r.revision == id) else {
        return Err(ExecuteError::NothingToResolve(id));
    };
    let recorded = db
        .read_heads()
        .await
        .map_err(db_err("reading the version table"))?;
    let mut heads = recorded.clone();
    if applied {
        let direction = if row.direction == "down" {
            Direction::Down
        } else {
            Direction::Up
        };
        let current = to_nodes(h, &recorded)?;
        let after = plan::heads_after_step(&h.graph, &current, n, direction);
        heads = sorted_ids(h, &after);
    }
    let (removed, added) = head_changes(&recorded, &heads);
    db.begin(None, &mut |_| {})
        .await
        .map_err(db_err("starting a transaction"))?;
    db.update_heads(&removed, &added)
        .await
        .map_err(db_err("updating the version table"))?;
    let (st, note) = if applied {
        (status::DONE, "resolved by the user as applied")
    } else {
        (status::RESOLVED, "resolved by the user as not applied")
    };
    db.finish_history(row.id, st, Some(note))
        .await
        .map_err(db_err("writing the history"))?;
    db.commit().await.map_err(db_err("committing"))?;
    Ok(Outcome {
        steps: Vec::new(),
        heads,
    })
}
