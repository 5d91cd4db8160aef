//! `braid rehearse` (SPEC §14): the pending revisions run on a copy of the
//! database before they run on it. The copy is a scratch database made
//! with the engine's own dump tool ([`crate::backup::copy`]), holding the
//! database's schema and version table (and its rows, when asked); the
//! database itself is only read. Each statement is measured (duration,
//! the table locks it took, the tables it rewrote), then every revision
//! is reverted in turn and the schema compared with what it was before
//! that revision ran: the rollback plan, tested. The copy is dropped on
//! every path.

use std::time::{Duration, Instant};

use crate::config::{Engine, Lint, LintUpgrade, Settings};
use crate::db::Db;
use crate::execute::probe::Measured;
use crate::execute::{self, Event, ExecuteError, Observer, Options, Request};
use crate::history::History;
use crate::lint::safety::Finding;
use crate::revision::Direction;
use crate::schema::scratch::{Scratch, ScratchError};
use crate::schema::{self, Filter, Snapshot};
use crate::target::{self, Target, TargetError};

/// Why a rehearsal could not be held (a revision that fails on the copy
/// is a finding, in [`Rehearsal`], not an error).
#[derive(Debug, thiserror::Error)]
pub enum RehearseError {
    /// The target does not parse or resolve.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// The database to copy is not one to copy.
    #[error("{0}")]
    Source(String),
    /// The copy could not be made.
    #[error("cannot copy the database: {0}")]
    Copy(#[from] crate::backup::BackupError),
    /// No scratch database.
    #[error(transparent)]
    Scratch(#[from] ScratchError),
    /// The copy could not be read or planned.
    #[error("on the copy: {0}")]
    Execute(#[from] ExecuteError),
    /// The copy's schema could not be read.
    #[error("cannot read the copy's schema: {0}")]
    Read(crate::db::DbError),
}

/// One revision run on the copy.
#[derive(Debug, Clone)]
pub struct Step {
    /// The revision.
    pub revision: String,
    /// Applied or reverted.
    pub direction: Direction,
    /// How long the step took, bookkeeping included.
    pub duration: Duration,
    /// Its statements, measured.
    pub statements: Vec<Measured>,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// A revision whose down did not give back the schema its up started
/// from, or that has no down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotRestored {
    /// The revision.
    pub revision: String,
    /// What differs (or why there is no down).
    pub differences: Vec<String>,
}

/// What a rehearsal found.
#[derive(Debug, Clone, Default)]
pub struct Rehearsal {
    /// The heads the database is at.
    pub from: Vec<String>,
    /// The revisions applied, in order.
    pub up: Vec<Step>,
    /// The revisions reverted, in order.
    pub down: Vec<Step>,
    /// Revisions whose down does not restore the schema.
    pub not_restored: Vec<NotRestored>,
    /// `braid lint`'s findings on the statements run, with the copy's
    /// table sizes.
    pub findings: Vec<Finding>,
}

impl Rehearsal {
    /// How long the upgrade took on the copy: its steps, measuring
    /// included.
    pub fn up_time(&self) -> Duration {
        self.up.iter().map(|s| s.duration).sum()
    }

    /// Whether every revision applied and was reverted to the schema it
    /// started from.
    pub fn passed(&self) -> bool {
        self.not_restored.is_empty() && self.up.iter().chain(&self.down).all(|s| s.error.is_none())
    }
}

/// How to rehearse.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Where to upgrade to (`heads` when `None`).
    pub target: Option<String>,
    /// Copy the rows as well as the schema.
    pub with_data: bool,
    /// The database to copy, when not the settings' URL.
    pub from: Option<String>,
    /// Where to make the copy (`--dev-url`), else `[schema] dev_url`, else
    /// the URL's server (SQLite: a temporary file).
    pub dev_url: Option<String>,
}

/// Copies the database, rehearses the upgrade to the plan's target and
/// the downgrade back on the copy, and drops it.
///
/// # Errors
///
/// [`RehearseError`]: the target, the copy, the scratch database; a
/// revision failing on the copy is reported in the [`Rehearsal`].
pub async fn rehearse(
    settings: &Settings,
    h: &History,
    plan: &Plan,
) -> Result<Rehearsal, RehearseError> {
    let t = match &plan.target {
        Some(text) => target::parse(text)?,
        None => Target::heads(),
    };
    let mut from = settings.clone();
    if let Some(url) = &plan.from {
        from.url = crate::config::DatabaseUrl::parse(url).map_err(|message| ScratchError::Url {
            url: crate::config::redact(url),
            message,
        })?;
    }
    if from.url.engine() != settings.url.engine() {
        return Err(RehearseError::Source(format!(
            "{} is not a {} database like {}: the copy is made on the configured engine",
            from.url,
            settings.url.engine().map(|e| e.name()).unwrap_or("known"),
            settings.url
        )));
    }
    // Only read: a SQLite URL naming no file is not opened (that would
    // create it).
    if !from.has_database() {
        return Err(RehearseError::Source(format!(
            "there is no database at {} yet: nothing to rehearse on",
            from.url
        )));
    }
    if from.url.engine() == Ok(Engine::Sqlite) {
        let dir = crate::backup::temporary_dir()?;
        let copy =
            crate::backup::sqlite_copy(&from, &dir.path().join("copy.db"), plan.with_data).await?;
        let mut db = Db::connect(&copy).await.map_err(|e| {
            RehearseError::Execute(ExecuteError::Database {
                doing: "opening the copy",
                source: e,
            })
        })?;
        let result = on_copy(&mut db, settings, h, &t).await;
        db.close().await;
        return result;
    }
    let mut scratch = Scratch::on(settings, plan.dev_url.as_deref(), None).await?;
    let url = scratch.expose_url().to_owned();
    let result = async {
        crate::backup::copy(&from, &url, plan.with_data).await?;
        on_copy(&mut scratch.db, settings, h, &t).await
    }
    .await;
    let dropped = scratch.drop().await;
    let rehearsal = result?;
    dropped.map_err(|e| {
        RehearseError::Execute(ExecuteError::Database {
            doing: "dropping the copy",
            source: e,
        })
    })?;
    Ok(rehearsal)
}

/// The rehearsal proper, on a copy `db` already holds.
async fn on_copy(
    db: &mut Db,
    settings: &Settings,
    h: &History,
    t: &Target,
) -> Result<Rehearsal, RehearseError> {
    let filter = Filter::for_settings(settings);
    let heads = execute::current_heads(db).await?;
    let current: Vec<_> = heads.iter().filter_map(|id| h.graph.node(id)).collect();
    let steps = crate::plan::upgrade(&h.graph, &current, t)?.steps;
    let mut out = Rehearsal {
        from: heads,
        ..Rehearsal::default()
    };
    // Each step is linted as it runs (with the copy's table sizes); the
    // findings never stop the rehearsal.
    let lint = Lint {
        upgrade: LintUpgrade::Warn,
        ..settings.lint.clone()
    };
    let up_opts = Options {
        timeouts: settings.timeouts,
        lint: Some(lint),
        measure: true,
        ..Options::default()
    };
    let down_opts = Options {
        lint: None,
        ..up_opts.clone()
    };
    let mut before: Vec<(String, &crate::migration::Migration, Snapshot)> = Vec::new();
    for step in &steps {
        let id = h.graph.id(step.node).to_string();
        let snap = read(db, &filter).await?;
        let one = target::parse(&id)?;
        let (ran, mut findings) =
            run(db, h, Request::Upgrade(&one), &up_opts, &id, Direction::Up).await;
        out.findings.append(&mut findings);
        let failed = ran.error.is_some();
        out.up.push(ran);
        if failed {
            break;
        }
        before.push((id, h.migration(step.node), snap));
    }
    // Back again, one revision at a time, newest first. What a later
    // revision's down left behind is its own finding, not again each
    // earlier one's.
    let mut inherited: Vec<String> = Vec::new();
    for (id, m, snap) in before.into_iter().rev() {
        if m.down.is_none() {
            out.not_restored.push(NotRestored {
                revision: id,
                differences: vec!["it has no down section: the rollback stops here".into()],
            });
            break;
        }
        let one = target::parse(&id)?;
        let (ran, _) = run(
            db,
            h,
            Request::Revert(&one),
            &down_opts,
            &id,
            Direction::Down,
        )
        .await;
        let failed = ran.error.is_some();
        out.down.push(ran);
        if failed {
            break;
        }
        let after = read(db, &filter).await?;
        let all: Vec<String> = schema::compare::compare(&snap, &after)
            .into_iter()
            .filter(|d| !d.strict_only)
            .map(|d| d.describe("left behind", "missing"))
            .collect();
        let differences: Vec<String> = all
            .iter()
            .filter(|d| !inherited.contains(d))
            .cloned()
            .collect();
        inherited = all;
        if !differences.is_empty() {
            out.not_restored.push(NotRestored {
                revision: id,
                differences,
            });
        }
    }
    Ok(out)
}

async fn read(db: &mut Db, filter: &Filter) -> Result<Snapshot, RehearseError> {
    schema::introspect(db, filter)
        .await
        .map_err(RehearseError::Read)
}

/// Runs one request, measured, and collects what it reported.
async fn run(
    db: &mut Db,
    h: &History,
    request: Request<'_>,
    opts: &Options,
    id: &str,
    direction: Direction,
) -> (Step, Vec<Finding>) {
    let mut seen = Seen::default();
    let started = Instant::now();
    let result = execute::run(db, h, request, opts, &mut seen).await;
    let step = Step {
        revision: id.to_owned(),
        direction,
        duration: started.elapsed(),
        statements: seen.statements,
        error: result.err().map(|e| e.to_string()),
    };
    (step, seen.findings)
}

/// Collects the measured statements and the lint findings of a run.
#[derive(Default)]
struct Seen {
    statements: Vec<Measured>,
    findings: Vec<Finding>,
}

impl Observer for Seen {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Statement { measured, .. } => self.statements.push(measured.clone()),
            Event::Finding(f) => self.findings.push(f.clone()),
            _ => {}
        }
    }
}
