//! Lints over migration SQL, run by `check` and before `upgrade` and
//! `downgrade`:
//!
//! - a statement that cannot run inside a transaction (`CREATE INDEX
//!   CONCURRENTLY`, `VACUUM`, …) in a revision with `transactional = true`
//!   is an error, found before anything runs;
//! - a destructive statement (`DROP TABLE`, `DROP COLUMN`, `TRUNCATE`,
//!   `DELETE` without `WHERE`) in a revision without a downgrade is a
//!   warning: nothing will bring the data back;
//! - an up section with nothing but white space and comments, in a
//!   revision that is not a merge point, is a warning: a revision that
//!   runs nothing is almost always SQL written in the wrong section.
//!
//! It reads statements word by word (outside quotes and comments); it does
//! not parse SQL.
//!
//! The safety lint (`braid lint`, SPEC §12) lives in the submodules: what
//! a statement does to a large, busy table, one file per rule family
//! (indexes, constraints, columns, maintenance, mysql, sqlite), the rule
//! table ([`rules`]), the statement reader
//! ([`read`]) and the driver ([`safety`]). Lint knows nothing of the
//! executor or the database: what it needs from one arrives as
//! [`safety::Facts`]. The safety lint and sqlparser come with the `lint`
//! feature; the checks above, the rule table and the statement reader's
//! keyword reading are always there (the executor names the tables a
//! statement locks with it).

#[cfg(feature = "lint")]
mod columns;
#[cfg(feature = "lint")]
mod constraints;
#[cfg(feature = "lint")]
mod indexes;
#[cfg(feature = "lint")]
mod maintenance;
#[cfg(feature = "lint")]
mod mysql;
pub mod read;
pub mod rules;
#[cfg(feature = "lint")]
#[cfg_attr(docsrs, doc(cfg(feature = "lint")))]
pub mod safety;
#[cfg(feature = "lint")]
mod sqlite;

use std::path::PathBuf;

use crate::graph::Node;
use crate::history::History;
use crate::migration::Migration;
use crate::migration::split::{Lexer, split, words};
use crate::plan::Plan;
use crate::revision::Direction;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The statement cannot run: nothing is run.
    Error,
    /// The statement runs, but probably not as meant.
    Warning,
}

impl Severity {
    /// `error` or `warning`, as printed and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One finding, located in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lint {
    /// How bad it is.
    pub severity: Severity,
    /// The revision.
    pub revision: String,
    /// Its file.
    pub path: PathBuf,
    /// The statement's line in the file.
    pub line: usize,
    /// What is wrong, and what to do.
    pub message: String,
}

fn starts(w: &[String], prefix: &[&str]) -> bool {
    w.len() >= prefix.len() && w.iter().zip(prefix).all(|(a, b)| a == b)
}

/// Why a statement cannot run inside a transaction, if it cannot.
fn outside_transaction_only(w: &[String]) -> Option<&'static str> {
    let has = |word: &str| w.iter().any(|x| x == word);
    if (starts(w, &["CREATE", "INDEX"]) || starts(w, &["CREATE", "UNIQUE", "INDEX"]))
        && has("CONCURRENTLY")
    {
        return Some("CREATE INDEX CONCURRENTLY");
    }
    if starts(w, &["DROP", "INDEX", "CONCURRENTLY"]) {
        return Some("DROP INDEX CONCURRENTLY");
    }
    if starts(w, &["REINDEX"]) && has("CONCURRENTLY") {
        return Some("REINDEX CONCURRENTLY");
    }
    if starts(w, &["VACUUM"]) {
        return Some("VACUUM");
    }
    if starts(w, &["CREATE", "DATABASE"]) || starts(w, &["DROP", "DATABASE"]) {
        return Some("CREATE/DROP DATABASE");
    }
    if starts(w, &["CREATE", "TABLESPACE"]) || starts(w, &["DROP", "TABLESPACE"]) {
        return Some("CREATE/DROP TABLESPACE");
    }
    if starts(w, &["ALTER", "SYSTEM"]) {
        return Some("ALTER SYSTEM");
    }
    None
}

/// What a statement destroys, if it destroys data.
fn destructive(w: &[String]) -> Option<&'static str> {
    if starts(w, &["DROP", "TABLE"]) {
        return Some("DROP TABLE");
    }
    if starts(w, &["DROP", "SCHEMA"]) {
        return Some("DROP SCHEMA");
    }
    if starts(w, &["TRUNCATE"]) {
        return Some("TRUNCATE");
    }
    if starts(w, &["ALTER", "TABLE"])
        && w.windows(2).any(|p| {
            p[0] == "DROP"
                && p[1] != "CONSTRAINT"
                && p[1] != "INDEX"
                && p[1] != "DEFAULT"
                && p[1] != "NOT"
        })
    {
        return Some("ALTER TABLE … DROP COLUMN");
    }
    if starts(w, &["DELETE"]) && !w.iter().any(|x| x == "WHERE") {
        return Some("DELETE without WHERE");
    }
    None
}

/// Why a batch block (or a `:batch_size` outside one) cannot run as
/// written, if it cannot (SPEC §13).
fn batch_error(
    m: &Migration,
    stmt: &crate::migration::split::Statement<'_>,
    w: &[String],
) -> Option<String> {
    let placeholder = stmt.code().contains(crate::migration::BATCH_SIZE);
    if crate::migration::Batch::of(stmt.leading_comments()).is_none() {
        return placeholder.then(|| {
            "`:batch_size` outside a batch block: put `-- braid:batch` on the line before the statement".to_owned()
        });
    }
    if m.transactional {
        return Some(format!(
            "a batch block runs each batch in its own transaction, and revision `{}` runs in one: set `transactional = false` in its header",
            m.id
        ));
    }
    if !(starts(w, &["UPDATE"]) || starts(w, &["DELETE"])) {
        return Some("`-- braid:batch` must come before one UPDATE or DELETE".to_owned());
    }
    (!placeholder).then(|| {
        "a batch statement needs `:batch_size` where the batch's row limit goes (e.g. `LIMIT :batch_size`): without it the block runs the whole statement again and again".to_owned()
    })
}

fn lint_section(m: &Migration, direction: Direction, lexer: Lexer, out: &mut Vec<Lint>) {
    let Some(section) = m.section(direction) else {
        return;
    };
    let sql = &m.source[section.range.clone()];
    let mut empty = true;
    for stmt in split(sql, section.first_line, lexer) {
        let w = words(stmt.text, lexer);
        empty &= w.is_empty();
        if m.transactional
            && let Some(what) = outside_transaction_only(&w)
        {
            out.push(Lint {
                severity: Severity::Error,
                revision: m.id.to_string(),
                path: m.path.clone(),
                line: stmt.line,
                message: format!(
                    "{what} cannot run inside a transaction, and revision `{}` runs in one: set `transactional = false` in its header",
                    m.id
                ),
            });
        }
        if let Some(message) = batch_error(m, &stmt, &w) {
            out.push(Lint {
                severity: Severity::Error,
                revision: m.id.to_string(),
                path: m.path.clone(),
                line: stmt.line,
                message,
            });
        }
        if direction == Direction::Up
            && m.down.is_none()
            && let Some(what) = destructive(&w)
        {
            out.push(Lint {
                severity: Severity::Warning,
                revision: m.id.to_string(),
                path: m.path.clone(),
                line: stmt.line,
                message: format!(
                    "{what} in revision `{}`, which has no `-- braid:down`: the data cannot be brought back by a downgrade",
                    m.id
                ),
            });
        }
    }
    // A merge point that only joins branches has nothing to run.
    if direction == Direction::Up && empty && m.down_revisions.len() < 2 && m.untranslated.is_none()
    {
        out.push(Lint {
            severity: Severity::Warning,
            revision: m.id.to_string(),
            path: m.path.clone(),
            // The `-- braid:up` marker's line.
            line: section.first_line.saturating_sub(1).max(1),
            message: format!(
                "revision `{}` has an empty up section (nothing but white space or comments): its upgrade runs nothing; was its SQL written in another section?",
                m.id
            ),
        });
    }
}

/// Every finding in one revision, both directions.
pub fn lint_revision(h: &History, n: Node, lexer: Lexer) -> Vec<Lint> {
    let m = h.migration(n);
    let mut out = Vec::new();
    lint_section(m, Direction::Up, lexer, &mut out);
    lint_section(m, Direction::Down, lexer, &mut out);
    out
}

/// Every finding in the history, errors first, then by file and line.
pub fn lint_history(h: &History, lexer: Lexer) -> Vec<Lint> {
    let mut out: Vec<Lint> = h
        .graph
        .sorted_nodes()
        .iter()
        .flat_map(|n| lint_revision(h, *n, lexer))
        .collect();
    out.sort_by(|a, b| (a.severity, &a.path, a.line).cmp(&(b.severity, &b.path, b.line)));
    out
}

/// One finding of the safety lint (SPEC §12). (Here, not in
/// [`safety`], so that the executor's events and errors name it whatever
/// the features.)
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The rule's stable name.
    pub rule: &'static str,
    /// `error` or `warning`.
    pub severity: Severity,
    /// The revision.
    pub revision: String,
    /// Its file.
    pub file: PathBuf,
    /// The line of the statement's first keyword.
    pub line: usize,
    /// `up` or `down`.
    pub direction: &'static str,
    /// The statement's first line.
    pub statement: String,
    /// The table, when one is concerned.
    pub table: Option<String>,
    /// What happens, in one line.
    pub message: String,
    /// The safe recipe.
    pub fix: String,
    /// The table's rows, from the planner's statistics.
    pub rows: Option<u64>,
    /// The table's bytes.
    pub bytes: Option<u64>,
}

/// Every finding in the sections a plan would run, errors first.
pub fn plan_lints(h: &History, plan: &Plan, lexer: Lexer) -> Vec<Lint> {
    let mut out = Vec::new();
    for step in &plan.steps {
        lint_section(h.migration(step.node), step.direction, lexer, &mut out);
    }
    out.sort_by_key(|l| l.severity);
    out
}

/// The errors in the sections a plan would run: found before anything runs.
pub fn plan_errors(h: &History, plan: &Plan, lexer: Lexer) -> Vec<Lint> {
    let mut out = plan_lints(h, plan, lexer);
    out.retain(|l| l.severity == Severity::Error);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        words(s, Lexer::POSTGRES)
    }

    #[test]
    fn statements_that_need_no_transaction() {
        assert!(outside_transaction_only(&w("create index concurrently ix on t (a)")).is_some());
        assert!(
            outside_transaction_only(&w(
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ix ON t (a)"
            ))
            .is_some()
        );
        assert!(outside_transaction_only(&w("VACUUM ANALYZE t")).is_some());
        assert!(outside_transaction_only(&w("CREATE INDEX ix ON t (a)")).is_none());
        // Words in strings and comments do not count.
        assert!(
            outside_transaction_only(&w("CREATE INDEX ix ON t (a) -- not CONCURRENTLY")).is_none()
        );
        assert!(outside_transaction_only(&w("INSERT INTO t VALUES ('VACUUM')")).is_none());
    }

    #[test]
    fn destructive_statements() {
        assert!(destructive(&w("DROP TABLE users")).is_some());
        assert!(destructive(&w("ALTER TABLE users DROP COLUMN email")).is_some());
        assert!(destructive(&w("alter table users drop email")).is_some());
        assert!(destructive(&w("ALTER TABLE users DROP CONSTRAINT fk")).is_none());
        assert!(destructive(&w("DELETE FROM users")).is_some());
        assert!(destructive(&w("DELETE FROM users WHERE id = 1")).is_none());
        assert!(destructive(&w("TRUNCATE users")).is_some());
        assert!(destructive(&w("CREATE TABLE users (id int)")).is_none());
    }
}
