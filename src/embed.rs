//! Migrations compiled into an application: what `braid::embed!()`
//! expands to. Each file keeps its path and text, and its header,
//! sections and checksum as the macro parsed them at compile time with the
//! CLI's own parser (blake3 of the text with CRLF normalized): the
//! application builds its migrations from those constants at start-up
//! instead of parsing every file again, and the CLI and the application
//! agree on one database.

use std::path::Path;

use crate::history::{History, HistoryError};
use crate::migration::{LoadErrors, Migration, parse};

/// One embedded migration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct File {
    /// The path relative to the crate that embedded it.
    pub path: &'static str,
    /// The file's text.
    pub source: &'static str,
    /// Its header and sections as `embed!()` parsed them at compile time
    /// (`None`: parsed at start-up).
    pub parsed: Option<crate::migration::Parsed>,
}

/// A set of embedded migrations, possibly from several crates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Embedded {
    files: Vec<File>,
}

impl Embedded {
    /// The files `embed!()` found (it calls this).
    pub fn new(files: &[File]) -> Embedded {
        Embedded {
            files: files.to_vec(),
        }
    }

    /// This set and `other` as one: a library crate exports its own
    /// migrations (with its branch label), the application merges them
    /// with its own into one graph recorded in one version table.
    pub fn merge(mut self, other: Embedded) -> Embedded {
        self.files.extend(other.files);
        self
    }

    /// The embedded files.
    pub fn files(&self) -> &[File] {
        &self.files
    }

    /// Parses the files and builds the graph, exactly as the CLI does.
    ///
    /// # Errors
    ///
    /// A file that does not parse, or a graph problem (duplicate ids
    /// after a merge, a missing parent): each names its file.
    pub fn history(&self) -> Result<History, HistoryError> {
        let mut migrations = Vec::with_capacity(self.files.len());
        let mut errors = Vec::new();
        for f in &self.files {
            let path = Path::new(f.path);
            // Parsed at compile time by the CLI's own parser, the text
            // included in the same build: taken as it is.
            if let Some(m) = f
                .parsed
                .and_then(|p| Migration::from_parsed(path, f.source, &p))
            {
                migrations.push(m);
                continue;
            }
            match parse(path, f.source.as_bytes()) {
                Ok(m) => migrations.push(m),
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(HistoryError::Load(LoadErrors(errors)));
        }
        History::from_migrations(migrations)
    }
}
