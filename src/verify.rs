//! Schema checks that run migrations on a scratch database: the stairway
//! (every revision up, down, up again, with the schema compared at each
//! step) and drift (the live database against what its recorded
//! revisions build).
//!
//! Runs go through `execute` exactly as `braid upgrade` runs them, on a
//! connection the caller made to a scratch database.

use std::path::PathBuf;

use serde::Serialize;

use crate::db::Db;
use crate::execute::{self, ExecuteError, Options, Request, Silent};
use crate::graph::Node;
use crate::history::History;
use crate::schema::{self, Change, Difference, Filter, Snapshot};
use crate::target::{self, Target};

/// How one revision fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Up, down and up again left the same schema.
    Ok,
    /// The downgrade did not restore the schema (or the second upgrade built another).
    NotRestored,
    /// The revision has no down section.
    Irreversible,
    /// A step failed on the scratch database.
    Failed,
}

/// One difference found at one step of the stairway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    /// `down` (the downgrade did not restore the schema before the
    /// upgrade) or `up again` (the second upgrade built another schema).
    pub after: &'static str,
    /// The object that differs and how.
    #[serde(flatten)]
    pub difference: Difference,
    /// The difference in words.
    pub text: String,
}

/// What the stairway found for one revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The revision.
    pub revision: String,
    /// Its file.
    pub file: PathBuf,
    /// How it fared.
    pub status: Status,
    /// What differs (equivalent equality).
    pub differences: Vec<Found>,
    /// What only strict equality sees (column order, …): notes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Found>,
    /// Why a step failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why a check could not be made at all.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The scratch database's schema could not be read.
    #[error("cannot read the scratch database's schema: {0}")]
    Introspect(#[source] crate::db::DbError),
    /// A step could not be run.
    #[error(transparent)]
    Execute(#[from] ExecuteError),
    /// The range does not resolve.
    #[error(transparent)]
    Target(#[from] target::TargetError),
}

fn target_of(h: &History, n: Node) -> Target {
    target::parse(h.graph.id(n).as_str()).expect("a revision id is a valid target")
}

async fn snapshot(
    db: &mut Db,
    filter: &Filter,
    cache: &mut schema::Cache,
) -> Result<Snapshot, VerifyError> {
    schema::introspect_with(db, filter, cache)
        .await
        .map_err(VerifyError::Introspect)
}

fn found(after: &'static str, diffs: Vec<Difference>) -> (Vec<Found>, Vec<Found>) {
    diffs
        .into_iter()
        .map(|d| {
            let text = match (&d.change, &d.part) {
                (Change::Added, Some(_)) if after == "down" => d.describe("not removed", "missing"),
                _ if after == "down" => d.describe("left behind", "missing"),
                _ => d.describe("appeared", "missing"),
            };
            Found {
                after,
                text,
                difference: d,
            }
        })
        .partition(|f| !f.difference.strict_only)
}

/// Runs the stairway on `db` (a scratch database at base): every revision
/// in upgrade order, each branch, merges once. Revisions that `include`
/// leaves out are applied without being tested. `each` sees every report
/// as it is made. Stops at the first revision that fails.
///
/// # Errors
///
/// [`VerifyError`]: the scratch database cannot be read or a step cannot
/// be run at all (a revision that fails is a report, not an error).
///
/// ```no_run
/// # async fn doc(scratch: &mut braid::db::Db, history: &braid::history::History) -> Result<(), Box<dyn std::error::Error>> {
/// let filter = braid::schema::Filter::new("braid_version", &[]);
/// let everything = vec![true; history.graph.len()];
/// let reports = braid::verify::stairway(scratch, history, &everything, &filter, &mut |_| {}).await?;
/// println!("{} revision(s) tested", reports.len());
/// # Ok(()) }
/// ```
pub async fn stairway(
    db: &mut Db,
    h: &History,
    include: &[bool],
    filter: &Filter,
    each: &mut dyn FnMut(&Report),
) -> Result<Vec<Report>, VerifyError> {
    let g = &h.graph;
    let opts = Options::default();
    let order = g.upgrade_order(&vec![true; g.len()]);
    let mut reports = Vec::new();
    // The schema is read four times per revision: what did not move is
    // not read again.
    let mut cache = schema::Cache::default();
    // The schema as it stands now, when the last read is still true.
    let mut current: Option<Snapshot> = None;
    for n in order {
        let m = h.migration(n);
        let t = target_of(h, n);
        let mut report = Report {
            revision: m.id.to_string(),
            file: m.path.clone(),
            status: Status::Ok,
            differences: Vec::new(),
            notes: Vec::new(),
            error: None,
        };
        // The last revision's final read is this one's "before": nothing
        // ran in between.
        let known = current.take();
        let before = match (include[n.index()], known) {
            (false, _) => None,
            (true, Some(s)) => Some(s),
            (true, None) => Some(snapshot(db, filter, &mut cache).await?),
        };
        let failed = |mut report: Report, e: ExecuteError, step: &str| {
            report.status = Status::Failed;
            report.error = Some(format!("{step}: {e}"));
            report
        };
        if let Err(e) = execute::run(db, h, Request::Upgrade(&t), &opts, &mut Silent).await {
            let r = failed(report, e, "up");
            each(&r);
            reports.push(r);
            break;
        }
        let Some(before) = before else {
            continue;
        };
        if m.down.is_none() {
            report.status = Status::Irreversible;
            each(&report);
            reports.push(report);
            continue;
        }
        let after_up = snapshot(db, filter, &mut cache).await?;
        if let Err(e) = execute::run(db, h, Request::Revert(&t), &opts, &mut Silent).await {
            let r = failed(report, e, "down");
            each(&r);
            reports.push(r);
            break;
        }
        let after_down = snapshot(db, filter, &mut cache).await?;
        let (diffs, notes) = found("down", schema::compare::compare(&before, &after_down));
        report.differences.extend(diffs);
        report.notes.extend(notes);
        if let Err(e) = execute::run(db, h, Request::Upgrade(&t), &opts, &mut Silent).await {
            if report.differences.is_empty() {
                let r = failed(report, e, "up again");
                each(&r);
                reports.push(r);
                break;
            }
            // What the down left behind made the second up fail (an index
            // that already exists): that is the finding. The schema is as
            // the first up left it, so record the revision and go on.
            report.status = Status::NotRestored;
            report.error = Some(format!("up again: {e}"));
            let stamped = [t.clone()];
            let stamp = Request::Stamp {
                targets: &stamped,
                purge: false,
            };
            if let Err(e) = execute::run(db, h, stamp, &opts, &mut Silent).await {
                report.status = Status::Failed;
                report.error = Some(format!("stamping after the failed second up: {e}"));
                each(&report);
                reports.push(report);
                break;
            }
            each(&report);
            reports.push(report);
            continue;
        }
        let again = snapshot(db, filter, &mut cache).await?;
        let (diffs, notes) = found("up again", schema::compare::compare(&after_up, &again));
        report.differences.extend(diffs);
        report.notes.extend(notes);
        current = Some(again);
        if !report.differences.is_empty() {
            report.status = Status::NotRestored;
        }
        each(&report);
        reports.push(report);
    }
    Ok(reports)
}

/// Applies the revisions `heads` name (and everything below them) on the
/// scratch database `db`, and reads its schema: what the migrations say a
/// database at those heads holds.
///
/// # Errors
///
/// As [`stairway`].
///
/// ```no_run
/// # async fn doc(scratch: &mut braid::db::Db, history: &braid::history::History) -> Result<(), Box<dyn std::error::Error>> {
/// let filter = braid::schema::Filter::new("braid_version", &[]);
/// let heads = history.graph.heads();
/// let snapshot = braid::verify::expected(scratch, history, &heads, &filter).await?;
/// print!("{}", snapshot.to_sql());
/// # Ok(()) }
/// ```
pub async fn expected(
    db: &mut Db,
    h: &History,
    heads: &[Node],
    filter: &Filter,
) -> Result<Snapshot, VerifyError> {
    for n in heads {
        let t = target_of(h, *n);
        execute::run(
            db,
            h,
            Request::Upgrade(&t),
            &Options::default(),
            &mut Silent,
        )
        .await?;
    }
    snapshot(db, filter, &mut schema::Cache::default()).await
}
