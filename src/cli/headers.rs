//! The revision graph from the migration files' headers alone, read
//! through a cache, for `status` (SPEC §14: fast on 10,000 revisions).
//!
//! Opening and reading 10,000 files costs the kernel more than the rest of
//! `status` together. The cache (`.braid_cache/headers.bin` beside
//! braid.toml, with a `.gitignore` of its own) keeps each file's header
//! with what `stat` says of the file: size, inode, and modification and
//! change times to the nanosecond, as git's index does. A file whose stat
//! differs is read and parsed again; a file changed less than two seconds
//! before the cache was written is not kept in it (a second change within
//! the clock's resolution could leave the same times). The change time
//! cannot be set by hand, so a file written back with its old modification
//! time is read again too.
//!
//! Only the graph and each revision's message come from here: nothing
//! that runs, checks a checksum or shows SQL uses the cache. Anything out
//! of the ordinary (a file that does not parse, a graph problem, a cache
//! that cannot be read or written) falls back to reading every file as
//! the other commands do, so errors are the same.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use braid::graph::{Graph, Record};
use braid::history::History;
use braid::revision::{BranchLabel, RevisionId};
use serde::{Deserialize, Serialize};

use crate::cli::CommandError;

/// The cache's directory, beside braid.toml.
pub const DIR: &str = ".braid_cache";

/// Bumped whenever an entry's shape or meaning changes.
const FORMAT: u32 = 1;

/// How old a file's last change must be for its entry to be kept.
const SETTLED: Duration = Duration::from_secs(2);

/// The graph and each record's message (by record index).
pub struct Headers {
    /// The graph the headers declare.
    pub graph: Graph,
    /// `message`, by the graph's record index.
    pub messages: Vec<Option<String>>,
}

impl Headers {
    /// The message of a revision.
    pub fn message(&self, n: braid::graph::Node) -> Option<&str> {
        self.messages[self.graph.record_index(n)].as_deref()
    }
}

/// What `stat` says of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    len: u64,
    ino: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

#[cfg(unix)]
fn stamp(m: &std::fs::Metadata) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
    Some(Stamp {
        len: m.len(),
        ino: m.ino(),
        mtime_ns: ns(m.mtime(), m.mtime_nsec()),
        ctime_ns: ns(m.ctime(), m.ctime_nsec()),
    })
}

#[cfg(not(unix))]
fn stamp(_: &std::fs::Metadata) -> Option<Stamp> {
    None
}

/// One file's header, with its stamp.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    path: PathBuf,
    stamp: Stamp,
    id: String,
    parents: Vec<String>,
    depends_on: Vec<String>,
    labels: Vec<String>,
    message: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    directories: Vec<PathBuf>,
    entries: Vec<Entry>,
}

/// Reads the graph of the files under `dirs`, through the cache in
/// `project` when there is one (`None`: no cache, every file read).
pub fn load(dirs: &[PathBuf], project: Option<&Path>) -> Result<Headers, CommandError> {
    match project.and_then(|p| cached(dirs, p)) {
        Some(headers) => Ok(headers),
        None => {
            let h = History::load(dirs)?;
            let messages = h.migrations.iter().map(|m| m.message.clone()).collect();
            Ok(Headers {
                graph: h.graph,
                messages,
            })
        }
    }
}

/// The headers through the cache; `None` sends the caller to the full
/// read (and its errors).
fn cached(dirs: &[PathBuf], project: &Path) -> Option<Headers> {
    let path = project.join(DIR).join("headers.bin");
    let started = SystemTime::now();
    // The cache decodes on another thread while this one lists the files
    // and stats each (asked of its directory as the listing goes).
    let (cache, files) = std::thread::scope(|s| {
        let decoding = s.spawn(|| {
            std::fs::read(&path)
                .ok()
                .and_then(|bytes| postcard::from_bytes::<CacheFile>(&bytes).ok())
                .filter(|c| c.format == FORMAT && c.directories == dirs)
                .map(|c| c.entries)
                .unwrap_or_default()
        });
        let files = braid::migration::migration_files_stat(dirs);
        let cache: Vec<Entry> = decoding
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (cache, files)
    });
    let files = files.ok()?;
    // Both lists are in the files' order: walked side by side.
    let mut changed = cache.len() != files.len();
    let mut cache = cache.into_iter().peekable();
    let mut entries = Vec::with_capacity(files.len());
    for (file, meta) in &files {
        let stamp = stamp(meta)?;
        while cache
            .next_if(|e| {
                e.path.as_os_str().as_encoded_bytes() < file.as_os_str().as_encoded_bytes()
            })
            .is_some()
        {}
        match cache
            .next_if(|e| e.path == *file)
            .filter(|e| e.stamp == stamp)
        {
            Some(e) => entries.push(e),
            None => {
                changed = true;
                entries.push(entry(file, stamp)?);
            }
        }
    }
    if changed {
        write(&path, dirs, &entries, started);
    }
    // The names move into the graph's records: nothing is copied.
    let mut messages = Vec::with_capacity(entries.len());
    let mut records = Vec::with_capacity(entries.len());
    for e in entries {
        messages.push(e.message);
        records.push(Record {
            id: RevisionId::new(e.id).ok()?,
            parents: e
                .parents
                .into_iter()
                .map(|p| RevisionId::new(p).ok())
                .collect::<Option<_>>()?,
            depends_on: e.depends_on,
            labels: e
                .labels
                .into_iter()
                .map(|l| BranchLabel::new(l).ok())
                .collect::<Option<_>>()?,
        });
    }
    let graph = Graph::build(&records).ok()?;
    Some(Headers { graph, messages })
}

/// A file's entry, read and parsed now. `None` when it cannot be read or
/// parsed.
fn entry(file: &Path, stamp: Stamp) -> Option<Entry> {
    let bytes = std::fs::read(file).ok()?;
    let m = braid::migration::parse(file, &bytes).ok()?;
    Some(Entry {
        path: file.to_owned(),
        stamp,
        id: m.id.to_string(),
        parents: m.down_revisions.iter().map(ToString::to_string).collect(),
        depends_on: m.depends_on,
        labels: m.branch_labels.iter().map(ToString::to_string).collect(),
        message: m.message,
    })
}

/// Writes the cache (best effort: a cache that cannot be written is no
/// error), leaving out files changed too recently to trust their times.
fn write(path: &Path, dirs: &[PathBuf], entries: &[Entry], started: SystemTime) {
    let Ok(since_epoch) = started.duration_since(SystemTime::UNIX_EPOCH) else {
        return;
    };
    let settled = since_epoch.saturating_sub(SETTLED).as_nanos() as i128;
    let file = CacheFile {
        format: FORMAT,
        directories: dirs.to_vec(),
        entries: entries
            .iter()
            .filter(|e| e.stamp.mtime_ns < settled && e.stamp.ctime_ns < settled)
            .cloned()
            .collect(),
    };
    let Some(dir) = path.parent() else { return };
    let _ = std::fs::create_dir_all(dir);
    let _ = std::fs::write(
        dir.join(".gitignore"),
        "# braid's cache: nothing here belongs in git.\n*\n",
    );
    // postcard: a compact binary form that 10,000 entries decode from in
    // a few milliseconds, where JSON took twelve.
    let Ok(bytes) = postcard::to_stdvec(&file) else {
        return;
    };
    // A reader never sees half a file: written aside, then renamed.
    let aside = dir.join(format!("headers.bin.{}", std::process::id()));
    if std::fs::write(&aside, bytes).is_ok() && std::fs::rename(&aside, path).is_err() {
        let _ = std::fs::remove_file(&aside);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &Path, id: &str, parents: &[&str], message: &str) -> PathBuf {
        let path = dir.join(format!("{id}.sql"));
        let downs: Vec<String> = parents.iter().map(|p| format!("\"{p}\"")).collect();
        std::fs::write(
            &path,
            format!(
                "-- revision = \"{id}\"\n-- down_revisions = [{}]\n-- message = \"{message}\"\n-- braid:up\nSELECT 1;\n",
                downs.join(", ")
            ),
        )
        .unwrap();
        path
    }

    fn cache(project: &Path) -> CacheFile {
        postcard::from_bytes(&std::fs::read(project.join(DIR).join("headers.bin")).unwrap())
            .unwrap()
    }

    #[cfg(unix)]
    #[test]
    fn a_settled_file_comes_from_the_cache_and_a_changed_one_is_read_again() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = vec![tmp.path().join("migrations")];
        std::fs::create_dir_all(&dirs[0]).unwrap();
        file(&dirs[0], "a1", &[], "first");
        let b = file(&dirs[0], "b2", &["a1"], "second");

        // Just written: read from the files, and nothing is kept yet.
        let h = load(&dirs, Some(tmp.path())).unwrap();
        assert_eq!(h.graph.len(), 2);
        assert!(cache(tmp.path()).entries.is_empty());
        let ignore = std::fs::read_to_string(tmp.path().join(DIR).join(".gitignore")).unwrap();
        assert!(ignore.lines().any(|l| l == "*"));

        // A cache written long after the files (made here by hand, with
        // the files' stamps): an entry whose message differs from its
        // file shows that a later read comes from the cache.
        let mut c = cache(tmp.path());
        c.entries = braid::migration::migration_files_stat(&dirs)
            .unwrap()
            .iter()
            .map(|(f, meta)| entry(f, stamp(meta).unwrap()).unwrap())
            .collect();
        for e in &mut c.entries {
            e.message = Some(format!("cached {}", e.id));
        }
        std::fs::write(
            tmp.path().join(DIR).join("headers.bin"),
            postcard::to_stdvec(&c).unwrap(),
        )
        .unwrap();
        let h = load(&dirs, Some(tmp.path())).unwrap();
        let n = h.graph.node("b2").unwrap();
        assert_eq!(h.message(n), Some("cached b2"));

        // The file changes (same length, new text, written aside and
        // renamed over it as editors do): its stamp differs, so it is read
        // again; the other stays cached.
        let aside = file(tmp.path(), "b2", &["a1"], "SECOND");
        std::fs::rename(&aside, &b).unwrap();
        assert_eq!(std::fs::metadata(&b).unwrap().len(), c.entries[1].stamp.len);
        let h = load(&dirs, Some(tmp.path())).unwrap();
        assert_eq!(h.message(h.graph.node("b2").unwrap()), Some("SECOND"));
        assert_eq!(h.message(h.graph.node("a1").unwrap()), Some("cached a1"));

        // A new file joins the graph; a removed one leaves it.
        file(&dirs[0], "c3", &["b2"], "third");
        std::fs::remove_file(dirs[0].join("a1.sql")).unwrap();
        file(&dirs[0], "b2", &[], "SECOND");
        let h = load(&dirs, Some(tmp.path())).unwrap();
        assert!(h.graph.node("a1").is_none());
        assert!(h.graph.node("c3").is_some());
    }

    #[test]
    fn bad_files_and_graphs_give_the_full_read_s_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = vec![tmp.path().join("migrations")];
        std::fs::create_dir_all(&dirs[0]).unwrap();
        file(&dirs[0], "b2", &["missing"], "orphan");
        let e = load(&dirs, Some(tmp.path())).err().unwrap();
        let full = match History::load(&dirs) {
            Err(e) => CommandError::from(e),
            Ok(_) => panic!("the graph has a missing parent"),
        };
        assert_eq!(format!("{e:?}"), format!("{full:?}"));
        std::fs::write(dirs[0].join("bad.sql"), "SELECT 1;").unwrap();
        assert!(load(&dirs, Some(tmp.path())).is_err());
    }
}
