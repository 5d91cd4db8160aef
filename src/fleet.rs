//! Fleets: many databases or tenant schemas migrated as one. Members come
//! from `[fleet]` (`urls`, `schemas_like`, `query`) or a list; each member
//! runs through `execute` exactly as `braid upgrade` would run it alone
//! (its own connection, lock, version and history tables), several at once.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Serialize;

use crate::config::{DatabaseUrl, Engine, Settings, redact};
use crate::db::Db;
use crate::execute::{self, Event, ExecuteError, Observer, Options, Request};
use crate::history::History;
use crate::target::Target;

/// One database or schema of the fleet.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Member {
    /// What to call it: the schema (or database) name, or the URL without
    /// its password.
    pub name: String,
    url: String,
    schema: Option<String>,
}

impl Member {
    fn settings(&self, base: &Settings) -> Result<Settings, String> {
        let mut s = base.clone();
        s.url = DatabaseUrl::parse(&self.url)?;
        s.schema = self.schema.clone().or(base.schema.clone());
        Ok(s)
    }
}

/// Why the members could not be listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FleetError {
    #[error(
        "no fleet is configured: set `[fleet] urls`, `schemas_like` or `query` in braid.toml, or pass --members-from"
    )]
    /// No `[fleet]` and no list.
    NotConfigured,
    /// The members could not be listed (a failing query, an unreachable server).
    #[error("cannot list the fleet's members: {0}")]
    Listing(String),
    /// The members' sources named nobody.
    #[error("the fleet has no members ({0})")]
    Empty(String),
    /// `--part K/N` is not valid.
    #[error("invalid --part `{0}`: expected K/N with 1 ≤ K ≤ N")]
    Part(String),
}

/// A URL with its database (the path) replaced.
fn with_database(url: &str, name: &str) -> Result<String, String> {
    let mut u = url::Url::parse(url).map_err(|e| e.to_string())?;
    u.set_path(&format!("/{name}"));
    Ok(u.to_string())
}

/// A member from a line of a list or a row of `query`: a URL, or a schema
/// (PostgreSQL) / database (MySQL) name on the URL's server.
fn member(base: &Settings, text: &str) -> Result<Member, String> {
    let text = text.trim();
    if text.contains("://") {
        return Ok(Member {
            name: redact(text),
            url: text.to_owned(),
            schema: None,
        });
    }
    match base.url.engine()? {
        Engine::Postgres => Ok(Member {
            name: text.to_owned(),
            url: base.url.expose().to_owned(),
            schema: Some(text.to_owned()),
        }),
        Engine::Mysql => Ok(Member {
            name: text.to_owned(),
            url: with_database(base.url.expose(), text)?,
            schema: None,
        }),
        Engine::Sqlite => Err(format!(
            "`{text}` is not a URL, and an SQLite database has no schemas"
        )),
    }
}

/// The members, sorted by name, without duplicates; `listed` (from
/// `--members-from`) replaces the configuration. `part` (K, N) keeps
/// every N-th member from the K-th, to split a fleet across machines.
///
/// # Errors
///
/// [`FleetError`]: no fleet configured, a failing `query`, a pattern that
/// matches nothing, a bad `--part`.
///
/// ```no_run
/// # async fn doc(settings: &braid::config::Settings) -> Result<(), Box<dyn std::error::Error>> {
/// let all = braid::fleet::members(settings, None, None).await?;
/// let first_half = braid::fleet::members(settings, None, Some((1, 2))).await?;
/// println!("{} members, {} here", all.len(), first_half.len());
/// # Ok(()) }
/// ```
pub async fn members(
    base: &Settings,
    listed: Option<Vec<String>>,
    part: Option<(usize, usize)>,
) -> Result<Vec<Member>, FleetError> {
    let fleet = &base.fleet;
    let mut out: BTreeSet<Member> = BTreeSet::new();
    let what;
    if let Some(lines) = listed {
        what = "the list is empty".to_owned();
        for l in lines
            .iter()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        {
            out.insert(member(base, l).map_err(FleetError::Listing)?);
        }
    } else {
        if fleet.urls.is_empty() && fleet.schemas_like.is_none() && fleet.query.is_none() {
            return Err(FleetError::NotConfigured);
        }
        what = format!(
            "{}{}{}",
            if fleet.urls.is_empty() {
                ""
            } else {
                "no urls; "
            },
            fleet
                .schemas_like
                .as_deref()
                .map(|p| format!("nothing matches `{p}`; "))
                .unwrap_or_default(),
            if fleet.query.is_some() {
                "the query returned no row"
            } else {
                ""
            }
        )
        .trim_end_matches("; ")
        .to_owned();
        for u in &fleet.urls {
            out.insert(member(base, u).map_err(FleetError::Listing)?);
        }
        if fleet.schemas_like.is_some() || fleet.query.is_some() {
            let mut db = Db::connect(base)
                .await
                .map_err(|e| FleetError::Listing(format!("{}: {}", base.url, e.message)))?;
            let rows = async {
                let mut names = Vec::new();
                if let Some(pattern) = &fleet.schemas_like {
                    let sql = match db.engine() {
                        Engine::Postgres => {
                            "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE $1 ORDER BY 1"
                        }
                        Engine::Mysql => {
                            "SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ? ORDER BY 1"
                        }
                        Engine::Sqlite => {
                            return Err("`schemas_like` needs PostgreSQL or MySQL".to_owned());
                        }
                    };
                    for r in db.text_rows(sql, &[pattern]).await.map_err(|e| e.message)? {
                        names.extend(r.into_iter().flatten());
                    }
                }
                if let Some(q) = &fleet.query {
                    let rows = db
                        .text_rows(q, &[])
                        .await
                        .map_err(|e| format!("the `[fleet] query` failed: {}", e.message))?;
                    names.extend(rows.into_iter().filter_map(|r| r.into_iter().next().flatten()));
                }
                Ok(names)
            }
            .await;
            db.close().await;
            for name in rows.map_err(FleetError::Listing)? {
                out.insert(member(base, &name).map_err(FleetError::Listing)?);
            }
        }
    }
    let mut list: Vec<Member> = out.into_iter().collect();
    if let Some((k, n)) = part {
        if k == 0 || n == 0 || k > n {
            return Err(FleetError::Part(format!("{k}/{n}")));
        }
        list = list
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % n == k - 1)
            .map(|(_, m)| m)
            .collect();
    }
    if list.is_empty() {
        return Err(FleetError::Empty(what));
    }
    Ok(list)
}

/// How a member fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// At the target (or migrated there).
    Ok,
    /// Failed; the error says where.
    Failed,
    /// Not started: an earlier member failed (without
    /// `--continue-on-error`), or the run was interrupted.
    Skipped,
    /// `fleet status`: not at the target.
    Pending,
}

/// One member's result (SPEC §11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberResult {
    /// The member's name.
    pub member: String,
    /// How it fared.
    pub status: Status,
    /// Its recorded heads before the run.
    pub heads_before: Vec<String>,
    /// Its recorded heads after the run (where it stopped, on failure).
    pub heads_after: Vec<String>,
    /// Revisions run.
    pub steps: usize,
    /// `fleet status`: revisions not applied yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<usize>,
    /// Why it failed (revision, file:line, the database's message), or what `fleet status` noticed.
    pub error: Option<String>,
    /// Tries it took (more than one after a transient failure).
    pub attempts: u32,
}

impl MemberResult {
    fn new(m: &Member, status: Status, error: Option<String>) -> MemberResult {
        MemberResult {
            member: m.name.clone(),
            status,
            heads_before: Vec::new(),
            heads_after: Vec::new(),
            steps: 0,
            pending: None,
            error,
            attempts: 0,
        }
    }
}

/// What to do on each member.
#[derive(Debug, Clone)]
pub enum Op {
    /// Upgrade each member to the target.
    Upgrade(Target),
    /// Downgrade each member to the target.
    Downgrade(Target),
    /// Read where each member stands (no lock).
    Status,
}

fn describe(e: &ExecuteError) -> String {
    match e {
        ExecuteError::StepFailed {
            revision,
            path,
            line,
            source,
            ..
        } => format!(
            "revision {revision} failed at {}:{line}: {}",
            path.display(),
            source.message
        ),
        e => e.to_string(),
    }
}

/// Whether a failure may be tried again: the member could not be reached,
/// its connection was lost, or its lock was not had in time. A failed
/// statement never is.
fn transient(e: &ExecuteError) -> bool {
    match e {
        ExecuteError::Database { doing, source } => {
            source.is_transient() || *doing == "taking the migration lock"
        }
        _ => false,
    }
}

/// Passes a member's progress on to the fleet's observer.
struct MemberEvents<'a, 'o> {
    member: &'a str,
    observer: &'a std::cell::RefCell<&'o mut dyn FleetObserver>,
}

impl Observer for MemberEvents<'_, '_> {
    fn event(&mut self, event: Event<'_>) {
        self.observer.borrow_mut().event(self.member, &event);
    }
}

/// Runs `op` on one member over `db`, connected to its database (and
/// switched to its schema). The flag says whether the failure, if any, is
/// worth another attempt.
async fn on(
    db: &mut Db,
    h: &History,
    m: &Member,
    op: &Op,
    opts: &Options,
    events: &mut MemberEvents<'_, '_>,
) -> (MemberResult, bool) {
    let mut r = MemberResult::new(m, Status::Failed, None);
    let result: Result<(), ExecuteError> = async {
        match op {
            Op::Status => {
                let ins = execute::inspect(db, h).await?;
                r.heads_before = ins.heads.clone();
                r.heads_after = ins.heads.clone();
                r.pending = Some(ins.pending.len());
                r.status = if ins.pending.is_empty()
                    && ins.unknown.is_empty()
                    && ins.blocked.is_empty()
                    && ins.changed.is_empty()
                {
                    Status::Ok
                } else {
                    Status::Pending
                };
                let mut notes = Vec::new();
                if !ins.unknown.is_empty() {
                    notes.push(format!("unknown revisions: {}", ins.unknown.join(", ")));
                }
                if let Some(b) = ins.blocked.first() {
                    notes.push(format!("revision {} stopped halfway", b.revision));
                }
                if !ins.changed.is_empty() {
                    notes.push(format!("{} applied file(s) changed", ins.changed.len()));
                }
                r.error = (!notes.is_empty()).then(|| notes.join("; "));
            }
            Op::Upgrade(t) | Op::Downgrade(t) => {
                r.heads_before = execute::current_heads(db).await?;
                let req = match op {
                    Op::Upgrade(_) => Request::Upgrade(t),
                    _ => Request::Downgrade(t),
                };
                let outcome = execute::run(db, h, req, opts, events).await?;
                r.steps = outcome.steps.len();
                r.heads_after = outcome.heads;
                r.status = Status::Ok;
            }
        }
        Ok(())
    }
    .await;
    let mut retry = false;
    if let Err(e) = result {
        retry = transient(&e);
        r.status = Status::Failed;
        r.error = Some(describe(&e));
        // Where it stopped: the revisions before the failure stay applied.
        r.heads_after = execute::current_heads(db).await.unwrap_or_default();
    }
    (r, retry)
}

fn failed(m: &Member, error: String) -> MemberResult {
    MemberResult::new(m, Status::Failed, Some(error))
}

/// A connection for member `m`: the worker's open one (`kept`, with the
/// URL it was opened for) when it is on the same database, switched to the
/// member's schema; else a new one, `kept` closed.
async fn connection(
    kept: Option<(String, Db)>,
    m: &Member,
    settings: &Settings,
) -> Result<Db, crate::db::DbError> {
    if let Some((url, mut db)) = kept {
        if url == m.url && db.switch_schema(settings.schema.as_deref()).await.is_ok() {
            return Ok(db);
        }
        db.close().await;
    }
    Db::connect(settings).await
}

/// How a fleet run is scheduled.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Members migrated at once.
    pub jobs: usize,
    /// The first members, run one at a time before the rest; a failure
    /// among them starts nothing more, whatever `continue_on_error` says.
    pub canary: usize,
    /// Go on with the other members after one fails (default: start no
    /// new member after the first failure; those in flight finish).
    pub continue_on_error: bool,
    /// Further attempts for a member that could not be reached, lost its
    /// connection or did not get its lock in time (never after a failed
    /// statement).
    pub retries: u32,
    /// The pause before the first retry, doubled before each next one.
    pub backoff: Duration,
    /// How each member runs: its lock timeout, and the flag that stops
    /// members in flight before their next revision (a signal).
    pub member: Options,
}

impl Default for Schedule {
    fn default() -> Schedule {
        Schedule {
            jobs: 4,
            canary: 0,
            continue_on_error: false,
            retries: 3,
            backoff: Duration::from_millis(500),
            member: Options::default(),
        }
    }
}

/// Sees the fleet's progress: each member as it starts, its revisions as
/// they run, its result.
pub trait FleetObserver {
    /// A member starts (again, on a retry).
    fn started(&mut self, _member: &str, _attempt: u32) {}
    /// Progress of one member, as a single run reports it.
    fn event(&mut self, _member: &str, _event: &Event<'_>) {}
    /// A member's result.
    fn finished(&mut self, result: &MemberResult);
}

/// Runs `op` on every member, exactly as a single database run each, by
/// `schedule`: the canaries one at a time, then `jobs` workers at once. A
/// worker keeps its connection for the next member on the same database
/// (a schema fleet: the session is reset and pointed at the next schema),
/// and opens a fresh one after a failure. Transient failures are tried
/// again after a pause. `stop`, set from outside (a signal) or by a
/// failure, starts no new member. Results come back sorted by member.
///
/// Member failures are results, not errors: each [`MemberResult`] says
/// how its member fared.
///
/// ```no_run
/// # async fn doc(settings: &braid::config::Settings, history: &braid::history::History) -> Result<(), Box<dyn std::error::Error>> {
/// use braid::fleet::{FleetObserver, MemberResult, Op, Schedule};
/// struct Log;
/// impl FleetObserver for Log {
///     fn finished(&mut self, r: &MemberResult) {
///         eprintln!("{}: {:?}", r.member, r.status);
///     }
/// }
/// let members = braid::fleet::members(settings, None, None).await?;
/// let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
/// let op = Op::Upgrade(braid::target::Target::heads());
/// let schedule = Schedule { jobs: 8, canary: 2, ..Schedule::default() };
/// let results = braid::fleet::run(settings, history, &members, &op, &schedule, stop, &mut Log).await;
/// # Ok(()) }
/// ```
pub async fn run(
    base: &Settings,
    h: &History,
    members: &[Member],
    op: &Op,
    schedule: &Schedule,
    stop: Arc<AtomicBool>,
    observer: &mut dyn FleetObserver,
) -> Vec<MemberResult> {
    let canary = schedule.canary.min(members.len());
    let observer = std::cell::RefCell::new(observer);
    let mut results = Vec::with_capacity(members.len());
    if canary > 0 {
        let canaries = Schedule {
            jobs: 1,
            continue_on_error: false,
            ..schedule.clone()
        };
        results = batch(base, h, &members[..canary], op, &canaries, &stop, &observer).await;
    }
    results.extend(batch(base, h, &members[canary..], op, schedule, &stop, &observer).await);
    results.sort_by(|a, b| a.member.cmp(&b.member));
    results
}

async fn batch(
    base: &Settings,
    h: &History,
    members: &[Member],
    op: &Op,
    schedule: &Schedule,
    stop: &AtomicBool,
    observer: &std::cell::RefCell<&mut dyn FleetObserver>,
) -> Vec<MemberResult> {
    let queue = std::sync::Mutex::new(members.iter().collect::<std::collections::VecDeque<_>>());
    let results = std::cell::RefCell::new(Vec::with_capacity(members.len()));
    let report = |r: MemberResult| {
        observer.borrow_mut().finished(&r);
        results.borrow_mut().push(r);
    };
    let worker = || async {
        let mut conn: Option<(String, Db)> = None;
        loop {
            let Some(m) = queue.lock().expect("not poisoned").pop_front() else {
                break;
            };
            if stop.load(Ordering::SeqCst) {
                report(MemberResult::new(m, Status::Skipped, None));
                continue;
            }
            let settings = match m.settings(base) {
                Ok(s) => s,
                Err(e) => {
                    report(failed(m, e));
                    continue;
                }
            };
            let mut attempt = 0;
            let r = loop {
                attempt += 1;
                observer.borrow_mut().started(&m.name, attempt);
                let (r, retry) = match connection(conn.take(), m, &settings).await {
                    Err(e) => (
                        failed(m, format!("cannot connect: {}", e.message)),
                        e.is_transient(),
                    ),
                    Ok(mut db) => {
                        let mut events = MemberEvents {
                            member: &m.name,
                            observer,
                        };
                        let (r, retry) = on(&mut db, h, m, op, &schedule.member, &mut events).await;
                        if r.status == Status::Failed {
                            db.close().await;
                        } else {
                            conn = Some((m.url.clone(), db));
                        }
                        (r, retry)
                    }
                };
                if retry && attempt <= schedule.retries && !stop.load(Ordering::SeqCst) {
                    let pause = schedule.backoff.saturating_mul(1 << (attempt - 1).min(6));
                    tokio::time::sleep(pause).await;
                    continue;
                }
                break MemberResult {
                    attempts: attempt,
                    ..r
                };
            };
            if r.status == Status::Failed && !schedule.continue_on_error {
                stop.store(true, Ordering::SeqCst);
            }
            report(r);
        }
        if let Some((_, db)) = conn {
            db.close().await;
        }
    };
    futures::future::join_all((0..schedule.jobs.max(1)).map(|_| worker())).await;
    results.into_inner()
}
