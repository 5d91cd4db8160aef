//! The safety lint (SPEC §12): runs every rule over the sections of the
//! chosen revisions with their context (tables created earlier in the
//! section, the server's version, table sizes and column types read
//! beforehand), applies ignores and `[lint]`, and lowers findings on small
//! tables to warnings. Pure: what it knows of the database arrives in
//! [`Facts`].

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use crate::config::{Engine, Lint as LintSettings};
use crate::graph::Node;
use crate::history::History;
use crate::migration::Migration;
use crate::migration::split::{Statement, split};
use crate::migration::{BATCH_SIZE, Batch};
use crate::revision::Direction;

use super::Severity;
use super::read::{Action, ConstraintKind, Kind, Read, read};
use super::rules::{self, Ctx, Version};

/// A table's size from the planner's statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TableSize {
    /// Estimated rows (`None` when the statistics have none yet).
    pub rows: Option<u64>,
    /// Bytes, indexes included.
    pub bytes: Option<u64>,
}

/// What the database tells the lint, read before it runs.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The server's version (else `[lint] server_version`).
    pub version: Option<Version>,
    /// Table sizes by table name.
    pub sizes: HashMap<String, TableSize>,
    /// Column types by table, then column.
    pub columns: HashMap<String, HashMap<String, String>>,
    /// Whether a database was read at all.
    pub reachable: bool,
}

pub use super::Finding;

/// A statement sqlparser could not parse (read by keywords instead).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unparsed {
    /// The file.
    pub file: PathBuf,
    /// The line.
    pub line: usize,
    /// sqlparser's message.
    pub error: String,
}

/// What a lint run found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Findings, by file and line.
    pub findings: Vec<Finding>,
    /// Statements read by keywords because sqlparser could not parse them.
    pub unparsed: Vec<Unparsed>,
}

impl Report {
    /// How many findings are errors.
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }
}

/// One section's statements, each read once.
struct Section<'h> {
    node: Node,
    direction: Direction,
    statements: Vec<(Statement<'h>, Read)>,
}

/// The sections to lint, their statements split and read once: the
/// tables they touch (what to ask the database about) and the lint itself
/// both come from this.
pub struct Sections<'h> {
    engine: Engine,
    items: Vec<Section<'h>>,
}

impl<'h> Sections<'h> {
    /// Splits and reads each `(revision, direction)` section.
    pub fn read(h: &'h History, sections: &[(Node, Direction)], engine: Engine) -> Sections<'h> {
        let lexer = engine.lexer();
        let items = sections
            .iter()
            .map(|(node, direction)| {
                let m = h.migration(*node);
                let statements = match m.section(*direction) {
                    Some(s) => split(&m.source[s.range.clone()], s.first_line, lexer),
                    None => Vec::new(),
                };
                Section {
                    node: *node,
                    direction: *direction,
                    statements: statements
                        .into_iter()
                        .map(|s| {
                            // A batch block's placeholder stands for a number.
                            let code = match Batch::of(s.leading_comments()) {
                                Some(Ok(b)) => b.statement(s.code()),
                                _ => s.code().to_owned(),
                            };
                            let r = read(&code, engine, lexer);
                            (s, r)
                        })
                        .collect(),
                }
            })
            .collect();
        Sections { engine, items }
    }

    /// The tables the statements touch: what to read sizes and column
    /// types of before linting.
    pub fn tables(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (_, r) in self.items.iter().flat_map(|s| &s.statements) {
            for t in r.kind.tables() {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
        out
    }
}

/// An ignore mark: the rules it names, where it is, and whether it
/// silenced anything.
struct Ignore {
    rules: Vec<String>,
    line: usize,
    used: Vec<bool>,
}

/// Reads `-- braid:lint-ignore RULE[, RULE] REASON` (or `-ignore-file`)
/// from one comment line: the rule names, comma-separated; the first word
/// not after a comma starts the reason.
fn ignore_rules(rest: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = rest.trim_start();
    loop {
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        out.push(rest[..end].to_owned());
        let after = rest[end..].trim_start();
        match after.strip_prefix(',') {
            Some(next) => rest = next.trim_start(),
            None => break,
        }
    }
    out
}

/// The ignore marks in a comment block that starts on `first_line`.
fn marks(comments: &str, first_line: usize, marker: &str) -> Vec<Ignore> {
    comments
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let l = l.trim_start().strip_prefix("--")?.trim_start();
            let rest = l.strip_prefix(marker)?;
            // `lint-ignore` must not match `lint-ignore-file`.
            if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
                return None;
            }
            let rules = ignore_rules(rest);
            Some(Ignore {
                used: vec![false; rules.len()],
                rules,
                line: first_line + i,
            })
        })
        .collect()
}

/// Lints the sections, in order.
pub fn lint(
    h: &History,
    sections: &Sections<'_>,
    settings: &LintSettings,
    facts: &Facts,
) -> Report {
    let version = facts
        .version
        .or_else(|| settings.server_version.as_deref().and_then(Version::parse));
    let mut report = Report::default();
    let mut files: HashMap<Node, Vec<Ignore>> = HashMap::new();
    for sec in &sections.items {
        let m = h.migration(sec.node);
        let file_marks = files
            .entry(sec.node)
            .or_insert_with(|| marks(&m.source, 1, "braid:lint-ignore-file"));
        section(
            m,
            sec,
            sections.engine,
            version,
            facts,
            file_marks,
            &mut report,
        );
    }
    for (n, marks) in &files {
        let m = h.migration(*n);
        unused(m, marks, "braid:lint-ignore-file", &mut report.findings);
    }
    // `[lint]`: allow drops, warn and deny set; then small tables lower.
    report
        .findings
        .retain(|f| !settings.allow.iter().any(|a| a == f.rule));
    // SPEC §12 reports what is done to a table that already exists: one
    // the database does not have yet is made by an earlier revision of the
    // same run, and is empty when this one runs.
    if facts.reachable {
        report.findings.retain(|f| {
            f.table
                .as_ref()
                .is_none_or(|t| facts.columns.contains_key(t))
        });
    }
    for f in &mut report.findings {
        if let Some(size) = f.table.as_ref().and_then(|t| facts.sizes.get(t)) {
            f.rows = size.rows;
            f.bytes = size.bytes;
            if size.rows.is_some_and(|r| r < settings.large_table_rows) {
                f.severity = Severity::Warning;
            }
        }
        if settings.warn.iter().any(|w| w == f.rule) {
            f.severity = Severity::Warning;
        }
        if settings.deny.iter().any(|d| d == f.rule) {
            f.severity = Severity::Error;
        }
    }
    report
        .findings
        .sort_by(|a, b| (&a.file, a.line, a.rule).cmp(&(&b.file, b.line, b.rule)));
    report
}

fn section(
    m: &Migration,
    sec: &Section<'_>,
    engine: Engine,
    version: Option<Version>,
    facts: &Facts,
    file_marks: &mut [Ignore],
    report: &mut Report,
) {
    let direction = sec.direction;
    let stmts = &sec.statements;
    let mut created = HashSet::new();
    let mut altered = HashSet::new();
    let mut not_valid = HashSet::new();
    let mut copied = HashSet::new();
    for (index, (s, r)) in stmts.iter().enumerate() {
        if let Some(error) = &r.parse_error {
            report.unparsed.push(Unparsed {
                file: m.path.clone(),
                line: s.line,
                error: error.clone(),
            });
        }
        let ctx = Ctx {
            engine,
            version,
            transactional: m.transactional,
            direction,
            created: &created,
            altered: &altered,
            not_valid: &not_valid,
            copied: &copied,
            statements: stmts.len(),
            index,
            columns: &facts.columns,
            batch: Batch::of(s.leading_comments()).map(|_| s.code().contains(BATCH_SIZE)),
        };
        let hits = rules::check(r, &ctx);
        // Marks on the lines before the statement.
        let comments = s.leading_comments();
        let comment_line = s.line - comments.matches('\n').count();
        let mut here = marks(comments, comment_line.max(1), "braid:lint-ignore");
        let first_line = s.code().lines().next().unwrap_or("").trim().to_owned();
        for hit in hits {
            let silenced_here = here.iter_mut().any(|i| silence(i, hit.rule));
            let silenced_file = file_marks.iter_mut().any(|i| silence(i, hit.rule));
            if silenced_here || silenced_file {
                continue;
            }
            report.findings.push(Finding {
                rule: hit.rule,
                severity: hit.severity,
                revision: m.id.to_string(),
                file: m.path.clone(),
                line: s.line,
                direction: direction.as_str(),
                statement: first_line.clone(),
                table: hit.table,
                message: hit.message,
                fix: hit.fix,
                rows: None,
                bytes: None,
            });
        }
        unused(m, &here, "braid:lint-ignore", &mut report.findings);
        match &r.kind {
            Kind::CreateTable { table, .. } => {
                created.insert(table.clone());
            }
            Kind::InsertSelect { source, .. } => {
                copied.insert(source.clone());
            }
            Kind::AlterTable { table, actions, .. } => {
                altered.insert(table.clone());
                for a in actions {
                    if let Action::AddConstraint {
                        name: Some(name),
                        not_valid: true,
                        kind: ConstraintKind::Check | ConstraintKind::ForeignKey,
                        ..
                    } = a
                    {
                        not_valid.insert(name.clone());
                    }
                }
            }
            _ => {}
        }
    }
}

fn silence(ignore: &mut Ignore, rule: &str) -> bool {
    match ignore.rules.iter().position(|r| r == rule) {
        Some(i) => {
            ignore.used[i] = true;
            true
        }
        None => false,
    }
}

/// Unknown rules and ignores that silenced nothing, as findings.
fn unused(m: &Migration, marks: &[Ignore], marker: &str, out: &mut Vec<Finding>) {
    for mark in marks {
        if mark.rules.is_empty() {
            out.push(meta(
                m,
                mark.line,
                "unknown-rule",
                format!("`-- {marker}` names no rule"),
            ));
        }
        for (rule, used) in mark.rules.iter().zip(&mark.used) {
            if rules::rule(rule).is_none() {
                out.push(meta(
                    m,
                    mark.line,
                    "unknown-rule",
                    format!("`-- {marker}` names an unknown rule `{rule}`"),
                ));
            } else if !used {
                out.push(meta(
                    m,
                    mark.line,
                    "unused-ignore",
                    format!("`-- {marker} {rule}` silences nothing here"),
                ));
            }
        }
    }
}

fn meta(m: &Migration, line: usize, rule: &'static str, message: String) -> Finding {
    Finding {
        rule,
        severity: Severity::Warning,
        revision: m.id.to_string(),
        file: m.path.clone(),
        line,
        direction: "up",
        statement: String::new(),
        table: None,
        message,
        fix: if rule == "unknown-rule" {
            format!(
                "name one of: {}",
                rules::RULES
                    .iter()
                    .map(|r| r.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            "remove the ignore".to_owned()
        },
        rows: None,
        bytes: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_lists_and_reasons() {
        assert_eq!(
            ignore_rules(" drop, rename the column is unused"),
            ["drop", "rename"]
        );
        assert_eq!(ignore_rules(" drop"), ["drop"]);
        assert!(ignore_rules("").is_empty());
        let m = marks(
            "-- braid:lint-ignore drop because\n-- braid:lint-ignore-file rename\n",
            4,
            "braid:lint-ignore",
        );
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].line, 4);
    }
}
