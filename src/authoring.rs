//! Writing new revision files (`braid revision`, `braid merge`): a fresh
//! id, the creation time, the directory the file goes to, and the file.
//! Knows files and the graph, not the command line.

use std::path::{Path, PathBuf};

use crate::config::Settings;
use crate::graph::Node;
use crate::history::History;
use crate::migration::{NewRevision, file_name, render_new};

/// A new revision cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum AuthorError {
    /// The given id is not a valid revision id.
    #[error("invalid --rev-id: {0}")]
    InvalidId(String),
    /// The given id is taken.
    #[error("revision `{0}` already exists")]
    Taken(String),
    /// `BRAID_NOW` is not an RFC 3339 time.
    #[error("invalid BRAID_NOW: expected an RFC 3339 time, found `{value}` ({message})")]
    InvalidNow {
        /// The variable's value.
        value: String,
        /// Why it does not parse.
        message: String,
    },
    /// `--version-path` names a directory braid does not read.
    #[error("{} is not one of the configured migration directories", .0.display())]
    NotConfigured(PathBuf),
    /// No migration directory is configured.
    #[error("no migration directory is configured")]
    NoDirectory,
    /// The directory or file cannot be written.
    #[error("cannot {doing} {}: {source}", path.display())]
    Io {
        /// `create` or `write`.
        doing: &'static str,
        /// The directory or file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

/// The creation time: now, or `BRAID_NOW` (RFC 3339) so that tests and
/// reproducible builds get fixed file names.
///
/// # Errors
///
/// `BRAID_NOW` does not parse.
pub fn now() -> Result<jiff::Timestamp, AuthorError> {
    match std::env::var("BRAID_NOW") {
        Ok(t) => t.parse().map_err(|e: jiff::Error| AuthorError::InvalidNow {
            message: e.to_string(),
            value: t,
        }),
        Err(_) => Ok(jiff::Timestamp::now()),
    }
}

/// A new revision id: `given` when valid and free, else 12 hex digits,
/// unique in the history.
///
/// # Errors
///
/// `given` is not a valid id, or is taken.
pub fn new_id(
    h: Option<&History>,
    given: Option<String>,
    seed: &str,
) -> Result<String, AuthorError> {
    let taken =
        |id: &str| h.is_some_and(|h| h.graph.node(id).is_some() || h.graph.label(id).is_some());
    if let Some(id) = given {
        crate::revision::RevisionId::new(id.as_str())
            .map_err(|e| AuthorError::InvalidId(e.to_string()))?;
        if taken(&id) {
            return Err(AuthorError::Taken(id));
        }
        return Ok(id);
    }
    for attempt in 0u32.. {
        let mut hasher = blake3::Hasher::new();
        hasher.update(seed.as_bytes());
        hasher.update(&std::process::id().to_le_bytes());
        hasher.update(&attempt.to_le_bytes());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        hasher.update(&nanos.to_le_bytes());
        let id = hasher.finalize().to_hex()[..12].to_owned();
        // An id of digits only could read as a relative step count.
        if !taken(&id) && !id.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(id);
        }
    }
    unreachable!("ids run out")
}

/// Where a new file goes: `given` (one of the configured directories,
/// relative to `cwd`), else the parent's directory, else the first
/// directory.
///
/// # Errors
///
/// `given` is not a configured directory, or none is configured.
pub fn directory(
    settings: &Settings,
    cwd: &Path,
    h: Option<&History>,
    parent: Option<Node>,
    given: Option<&Path>,
) -> Result<PathBuf, AuthorError> {
    if let Some(p) = given {
        let p = cwd.join(p);
        let canon = |x: &Path| std::fs::canonicalize(x).unwrap_or_else(|_| x.to_owned());
        if !settings.directories.iter().any(|d| canon(d) == canon(&p)) {
            return Err(AuthorError::NotConfigured(p));
        }
        return Ok(p);
    }
    if let (Some(h), Some(parent)) = (h, parent)
        && let Some(dir) = h.migration(parent).path.parent()
    {
        return Ok(dir.to_owned());
    }
    settings
        .directories
        .first()
        .cloned()
        .ok_or(AuthorError::NoDirectory)
}

/// Writes the revision's file in `dir` (made if missing) and returns its
/// path.
///
/// # Errors
///
/// The directory or the file cannot be written.
pub fn write(dir: &Path, rev: &NewRevision) -> Result<PathBuf, AuthorError> {
    std::fs::create_dir_all(dir).map_err(|source| AuthorError::Io {
        doing: "create",
        path: dir.to_owned(),
        source,
    })?;
    let path = dir.join(file_name(rev));
    std::fs::write(&path, render_new(rev)).map_err(|source| AuthorError::Io {
        doing: "write",
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
