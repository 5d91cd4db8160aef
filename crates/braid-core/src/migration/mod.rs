//! Migration files: what one `*.sql` file declares, how a directory of them
//! is read, and how new ones are written.
//!
//! This module knows the file format of SPEC §2 and nothing of the graph
//! the files form or of any database.

mod checksum;
mod header;
mod load;
pub mod split;
mod write;

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

pub use checksum::Checksum;
pub use header::parse;
pub use load::{LoadErrors, load_directories};
pub use write::{
    NewRevision, file_name, file_name_for, render_header, render_new, replace_down_revisions,
};

use crate::revision::{BranchLabel, RevisionId};

/// One migration file, parsed and validated on its own.
#[derive(Debug, Clone)]
pub struct Migration {
    /// The file.
    pub path: PathBuf,
    /// `revision`.
    pub id: RevisionId,
    /// `down_revisions`: the parents.
    pub down_revisions: Vec<RevisionId>,
    /// `branch_labels`.
    pub branch_labels: Vec<BranchLabel>,
    /// Revision ids or branch labels; the graph resolves them.
    pub depends_on: Vec<String>,
    /// `message`.
    pub message: Option<String>,
    /// `created`.
    pub created: Option<String>,
    /// `transactional` (default true): whether each section runs in one transaction.
    pub transactional: bool,
    /// The file's text with line endings normalized to `\n`.
    pub source: String,
    /// The `-- braid:up` section.
    pub up: Section,
    /// The `-- braid:down` section, when the file has one.
    pub down: Option<Section>,
    /// The line of a `-- braid:untranslated` mark: an imported revision
    /// whose SQL could not be produced, which nothing may run.
    pub untranslated: Option<usize>,
    /// blake3 of the text, line endings normalized.
    pub checksum: Checksum,
}

/// Where one section's SQL stands in [`Migration::source`].
#[derive(Debug, Clone)]
pub struct Section {
    /// Byte range of the SQL (the marker line excluded).
    pub range: Range<usize>,
    /// The 1-based file line on which the SQL starts.
    pub first_line: usize,
}

impl Migration {
    /// The 1-based line of header key `key` (`-- key = …`), if the header
    /// sets it.
    pub fn header_line(&self, key: &str) -> Option<usize> {
        self.source
            .lines()
            .take_while(|l| l.starts_with("--") && !l.starts_with("-- braid:"))
            .position(|l| {
                l.trim_start_matches('-')
                    .trim_start()
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            })
            .map(|i| i + 1)
    }

    /// The up section's SQL.
    pub fn up_sql(&self) -> &str {
        &self.source[self.up.range.clone()]
    }

    /// The down section's SQL, if any.
    pub fn down_sql(&self) -> Option<&str> {
        self.down.as_ref().map(|s| &self.source[s.range.clone()])
    }

    /// The section of a direction.
    pub fn section(&self, direction: crate::revision::Direction) -> Option<&Section> {
        match direction {
            crate::revision::Direction::Up => Some(&self.up),
            crate::revision::Direction::Down => self.down.as_ref(),
        }
    }

    /// The SQL of a direction.
    pub fn sql(&self, direction: crate::revision::Direction) -> Option<&str> {
        self.section(direction)
            .map(|s| &self.source[s.range.clone()])
    }
}

/// A problem with one migration file, located as precisely as it is known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// The 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl LoadError {
    /// An error at `path`, `line`.
    pub fn new(path: &Path, line: Option<usize>, message: impl Into<String>) -> Self {
        Self {
            path: path.to_owned(),
            line,
            column: None,
            message: message.into(),
        }
    }

    /// With a column.
    pub fn at(mut self, column: Option<usize>) -> Self {
        self.column = column;
        self
    }

    /// `path:line:column`, as far as it is known.
    pub fn location(&self) -> String {
        let mut loc = self.path.display().to_string();
        if let Some(line) = self.line {
            loc.push_str(&format!(":{line}"));
            if let Some(col) = self.column {
                loc.push_str(&format!(":{col}"));
            }
        }
        loc
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)
    }
}
