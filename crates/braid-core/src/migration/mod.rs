//! Migration files: what one `*.sql` file declares, how a directory of them
//! is read, and how new ones are written.
//!
//! This module knows the file format of SPEC §2 and nothing of the graph
//! the files form or of any database.

mod checksum;
mod header;
mod load;
pub mod split;
#[cfg(feature = "write")]
mod write;

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

pub use checksum::Checksum;
pub use header::parse;
pub use load::{LoadErrors, load_directories, migration_files_stat};
#[cfg(feature = "write")]
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
    /// `lock_timeout`: how long each statement may wait for a lock
    /// (overrides `[database] lock_timeout`).
    pub lock_timeout: Option<std::time::Duration>,
    /// `lock_retries`: how many times a lock timeout is tried again
    /// (overrides `[database] lock_retries`).
    pub lock_retries: Option<u32>,
    /// `statement_timeout`: how long one statement may run (overrides
    /// `[database] statement_timeout`).
    pub statement_timeout: Option<std::time::Duration>,
    /// The file's text with line endings normalized to `\n` (borrowed
    /// from the binary when `braid::embed!()` included it as it is).
    pub source: std::borrow::Cow<'static, str>,
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

/// A migration as `braid::embed!()` parsed it at compile time, with the
/// CLI's own parser: an embedding application builds its [`Migration`]s
/// from these constants ([`Migration::from_parsed`]) instead of parsing
/// every header again at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    /// `revision`.
    pub id: &'static str,
    /// `down_revisions`.
    pub down_revisions: &'static [&'static str],
    /// `branch_labels`.
    pub branch_labels: &'static [&'static str],
    /// `depends_on`.
    pub depends_on: &'static [&'static str],
    /// `message`.
    pub message: Option<&'static str>,
    /// `created`.
    pub created: Option<&'static str>,
    /// `transactional`.
    pub transactional: bool,
    /// `lock_timeout`, in nanoseconds.
    pub lock_timeout_nanos: Option<u64>,
    /// `lock_retries`.
    pub lock_retries: Option<u32>,
    /// `statement_timeout`, in nanoseconds.
    pub statement_timeout_nanos: Option<u64>,
    /// The up section: byte start, byte end, first line.
    pub up: [usize; 3],
    /// The down section, when the file has one.
    pub down: Option<[usize; 3]>,
    /// The line of a `-- braid:untranslated` mark.
    pub untranslated: Option<usize>,
    /// The checksum: blake3's 32 bytes.
    pub checksum: [u8; 32],
}

impl Migration {
    /// The migration `parsed` describes, for the file at `path` whose text
    /// is `text`; `None` when the constants do not fit the text (then the
    /// caller parses it).
    pub fn from_parsed(
        path: &std::path::Path,
        text: &'static str,
        parsed: &Parsed,
    ) -> Option<Migration> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let source = checksum::normalize_line_endings(text);
        let section = |[start, end, first_line]: [usize; 3]| {
            (start <= end
                && end <= source.len()
                && source.is_char_boundary(start)
                && source.is_char_boundary(end))
            .then_some(Section {
                range: start..end,
                first_line,
            })
        };
        let ids = |list: &[&str]| {
            list.iter()
                .map(|r| RevisionId::new(*r).ok())
                .collect::<Option<Vec<_>>>()
        };
        Some(Migration {
            path: path.to_owned(),
            id: RevisionId::new(parsed.id).ok()?,
            down_revisions: ids(parsed.down_revisions)?,
            branch_labels: parsed
                .branch_labels
                .iter()
                .map(|l| BranchLabel::new(*l).ok())
                .collect::<Option<Vec<_>>>()?,
            depends_on: parsed.depends_on.iter().map(|d| (*d).to_owned()).collect(),
            message: parsed.message.map(str::to_owned),
            created: parsed.created.map(str::to_owned),
            transactional: parsed.transactional,
            lock_timeout: parsed
                .lock_timeout_nanos
                .map(std::time::Duration::from_nanos),
            lock_retries: parsed.lock_retries,
            statement_timeout: parsed
                .statement_timeout_nanos
                .map(std::time::Duration::from_nanos),
            up: section(parsed.up)?,
            down: match parsed.down {
                Some(d) => Some(section(d)?),
                None => None,
            },
            untranslated: parsed.untranslated,
            checksum: Checksum::from_bytes(parsed.checksum),
            source,
        })
    }
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

/// Reads a duration as people write it in settings: `"200ms"`, `"5s"`,
/// `"1m 30s"`, `"2 minutes"` (jiff's friendly format) or ISO 8601
/// (`"PT5S"`). Negative durations are refused.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(braid_core::migration::parse_duration("200ms"), Ok(Duration::from_millis(200)));
/// assert!(braid_core::migration::parse_duration("soon").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let d: jiff::SignedDuration = text.trim().parse().map_err(|_| {
        format!("expected a duration such as \"200ms\", \"5s\" or \"1m 30s\", found \"{text}\"")
    })?;
    std::time::Duration::try_from(d)
        .map_err(|_| format!("expected a duration of zero or more, found \"{text}\""))
}

/// A batch block's mark, `-- braid:batch [size=N] [pause=DURATION]` on
/// the line before an `UPDATE` or `DELETE` containing `:batch_size`: the
/// runner runs the statement, `:batch_size` replaced by `size`, each run
/// its own transaction, until it changes no row (SPEC §13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    /// Rows per batch (default 1000).
    pub size: u64,
    /// The pause between batches (default none).
    pub pause: std::time::Duration,
}

/// What a statement's `:batch_size` placeholder is written as.
pub const BATCH_SIZE: &str = ":batch_size";

impl Batch {
    /// Rows per batch when the mark gives no `size`.
    pub const DEFAULT_SIZE: u64 = 1000;

    /// Reads the words after `-- braid:batch`.
    ///
    /// ```
    /// use braid_core::migration::Batch;
    /// let b = Batch::parse("size=500 pause=100ms").unwrap();
    /// assert_eq!((b.size, b.pause.as_millis()), (500, 100));
    /// assert!(Batch::parse("size=none").is_err());
    /// ```
    pub fn parse(words: &str) -> Result<Batch, String> {
        let mut batch = Batch {
            size: Batch::DEFAULT_SIZE,
            pause: std::time::Duration::ZERO,
        };
        for word in words.split_whitespace() {
            match word.split_once('=') {
                Some(("size", n)) => {
                    batch.size = n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        format!("`size` must be a number of rows above 0, found `{n}`")
                    })?;
                }
                Some(("pause", d)) => {
                    batch.pause = parse_duration(d).map_err(|e| format!("`pause`: {e}"))?;
                }
                _ => {
                    return Err(format!(
                        "unknown `{word}`: expected `size=N` or `pause=DURATION`"
                    ));
                }
            }
        }
        Ok(batch)
    }

    /// The batch mark among a statement's leading comments, if any.
    pub fn of(leading_comments: &str) -> Option<Result<Batch, String>> {
        leading_comments.lines().find_map(|l| {
            let rest = l.trim().strip_prefix("-- braid:batch")?;
            (rest.is_empty() || rest.starts_with(char::is_whitespace)).then(|| Batch::parse(rest))
        })
    }

    /// The statement with `:batch_size` replaced by the batch's size.
    pub fn statement(&self, code: &str) -> String {
        code.replace(BATCH_SIZE, &self.size.to_string())
    }
}
