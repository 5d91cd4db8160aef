//! Reads every `*.sql` file under the configured directories (Alembic's
//! version_locations), in parallel with the `parallel` feature, and
//! collects every error rather than stopping at the first.

use std::fmt;
use std::path::{Path, PathBuf};

use super::{LoadError, Migration, parse};

/// Every problem found while loading, in path order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadErrors(pub Vec<LoadError>);

/// The message of a migrations directory that is not there.
const NO_DIRECTORY: &str = "migrations directory not found (create it with `braid init`, or fix `[migrations] directories` in braid.toml)";

/// Counts the missing directories and the unreadable files apart: a
/// missing directory is not "a migration file".
impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dirs = self.0.iter().filter(|e| e.message == NO_DIRECTORY).count();
        let files = self.0.len() - dirs;
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        match (dirs, files) {
            (0, n) => write!(f, "{n} migration file{} could not be read", plural(n)),
            (1, 0) => f.write_str("a migrations directory is not there"),
            (d, 0) => write!(f, "{d} migrations directories are not there"),
            (d, n) => write!(
                f,
                "{d} migrations director{} not there, and {n} migration file{} could not be read",
                if d == 1 { "y is" } else { "ies are" },
                plural(n)
            ),
        }
    }
}

/// The `*.sql` files below `dirs`, sorted by path, as
/// [`load_directories`] reads them (links followed), each
/// with what `stat` says of it (the file a link leads to, for a link).
/// Each is asked of its directory as the listing goes, which costs the
/// kernel less than a stat by the whole path afterwards (and, measured on
/// two cores, less than stats by path spread over both).
///
/// # Errors
///
/// A directory that is not there or cannot be read, a file that cannot
/// be stat'ed.
pub fn migration_files_stat(
    dirs: &[PathBuf],
) -> Result<Vec<(PathBuf, std::fs::Metadata)>, LoadErrors> {
    listing(dirs, true)
        .map(|files| {
            files
                .into_iter()
                .filter_map(|(path, meta)| Some((path, meta?)))
                .collect()
        })
        .map_err(LoadErrors)
}

/// Lists the `*.sql` files below `dirs`, sorted by path.
fn list_files(dirs: &[PathBuf]) -> Result<Vec<PathBuf>, Vec<LoadError>> {
    listing(dirs, false).map(|files| files.into_iter().map(|(path, _)| path).collect())
}

/// A file found, with its metadata when asked for.
type Listed = (PathBuf, Option<std::fs::Metadata>);

/// The files below `dirs`, sorted by path, with their metadata when
/// `stat` asks for it.
fn listing(dirs: &[PathBuf], stat: bool) -> Result<Vec<Listed>, Vec<LoadError>> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for dir in dirs {
        if !dir.is_dir() {
            errors.push(LoadError::new(dir, None, NO_DIRECTORY));
            continue;
        }
        walk(dir, stat, &mut Vec::new(), &mut files, &mut errors);
    }
    if errors.is_empty() {
        // By bytes: comparing 100,000 paths component by component showed
        // in profiles, and any fixed order will do.
        files.sort_unstable_by(|(a, _), (b, _)| {
            a.as_os_str()
                .as_encoded_bytes()
                .cmp(b.as_os_str().as_encoded_bytes())
        });
        if dirs.len() > 1 {
            // A directory nested in another, or listed twice, yields its
            // files twice.
            let mut seen = std::collections::HashSet::with_capacity(files.len());
            files.retain(|(f, _)| seen.insert(f.clone()));
        }
        Ok(files)
    } else {
        Err(errors)
    }
}

/// Collects the `*.sql` files below `dir`, following symbolic links; a
/// link back to a directory above it is an error, not a loop. (By hand
/// with `std::fs`, not walkdir: `braid::embed!()` walks the directories
/// at compile time, and an embedding application then builds two crates
/// fewer.)
fn walk(
    dir: &Path,
    stat: bool,
    above: &mut Vec<PathBuf>,
    files: &mut Vec<Listed>,
    errors: &mut Vec<LoadError>,
) {
    let cannot =
        |path: &Path, e: std::io::Error| LoadError::new(path, None, format!("cannot read: {e}"));
    let real = match dir.canonicalize() {
        Ok(real) => real,
        Err(e) => return errors.push(cannot(dir, e)),
    };
    if above.contains(&real) {
        let message = format!("cannot read: a file system loop back to {}", real.display());
        return errors.push(LoadError::new(dir, None, message));
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return errors.push(cannot(dir, e)),
    };
    above.push(real);
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                errors.push(cannot(dir, e));
                continue;
            }
        };
        let path = entry.path();
        // The entry's own type costs no system call; only a link is
        // followed with a stat.
        let (kind, mut meta) = match entry.file_type() {
            Ok(t) if t.is_symlink() => match std::fs::metadata(&path) {
                Ok(m) => (Ok(m.file_type()), Some(m)),
                Err(e) => (Err(e), None),
            },
            other => (other, None),
        };
        match kind {
            Ok(t) if t.is_dir() => walk(&path, stat, above, files, errors),
            Ok(t) if t.is_file() && path.extension().is_some_and(|e| e == "sql") => {
                if stat && meta.is_none() {
                    match entry.metadata() {
                        Ok(m) => meta = Some(m),
                        Err(e) => {
                            errors.push(cannot(&path, e));
                            continue;
                        }
                    }
                }
                files.push((path, meta.filter(|_| stat)))
            }
            Ok(_) => {}
            Err(e) => errors.push(cannot(&path, e)),
        }
    }
    above.pop();
}

fn read_one(path: &Path) -> Result<Migration, LoadError> {
    let bytes =
        std::fs::read(path).map_err(|e| LoadError::new(path, None, format!("cannot read: {e}")))?;
    parse(path, &bytes)
}

/// Loads every migration under `dirs`. Either all files parse, or every
/// error is returned.
pub fn load_directories(dirs: &[PathBuf]) -> Result<Vec<Migration>, LoadErrors> {
    let files = list_files(dirs).map_err(LoadErrors)?;
    // The usual case collects straight into the result; only when a file
    // is bad are they all read again, to report every error at once.
    #[cfg(feature = "parallel")]
    use rayon::prelude::*;
    #[cfg(feature = "parallel")]
    let each = || files.par_iter();
    #[cfg(not(feature = "parallel"))]
    let each = || files.iter();
    match each().map(|p| read_one(p)).collect::<Result<Vec<_>, _>>() {
        Ok(migrations) => Ok(migrations),
        Err(_) => Err(LoadErrors(
            each().filter_map(|p| read_one(p).err()).collect(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_several_directories_recursively_and_collects_all_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a");
        let b = tmp.path().join("b/nested");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(
            a.join("1.sql"),
            "-- revision = \"r1\"\n-- down_revisions = []\n-- braid:up\n",
        )
        .unwrap();
        std::fs::write(
            b.join("2.sql"),
            "-- revision = \"r2\"\n-- down_revisions = [\"r1\"]\n-- braid:up\n",
        )
        .unwrap();
        std::fs::write(b.join("notes.txt"), "not a migration").unwrap();
        let dirs = vec![a.clone(), tmp.path().join("b")];
        let ms = load_directories(&dirs).unwrap();
        assert_eq!(ms.len(), 2);

        std::fs::write(a.join("bad1.sql"), "").unwrap();
        std::fs::write(b.join("bad2.sql"), "SELECT 1;").unwrap();
        let errs = load_directories(&dirs).unwrap_err();
        assert_eq!(errs.0.len(), 2, "{errs:?}");

        let missing = load_directories(&[tmp.path().join("nope")]).unwrap_err();
        assert!(missing.0[0].message.contains("not found"));
    }

    #[cfg(unix)]
    #[test]
    fn follows_links_and_names_a_loop() {
        let tmp = tempfile::tempdir().unwrap();
        let shared = tmp.path().join("shared");
        let dir = tmp.path().join("migrations");
        std::fs::create_dir_all(&shared).unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            shared.join("1.sql"),
            "-- revision = \"r1\"\n-- down_revisions = []\n-- braid:up\n",
        )
        .unwrap();
        std::os::unix::fs::symlink(&shared, dir.join("linked")).unwrap();
        std::os::unix::fs::symlink(shared.join("1.sql"), dir.join("also.sql")).unwrap();
        // Both links are followed: the file is read through each.
        let ms = load_directories(std::slice::from_ref(&dir)).unwrap();
        let mut paths: Vec<_> = ms.iter().map(|m| m.path.clone()).collect();
        paths.sort();
        assert_eq!(paths, [dir.join("also.sql"), dir.join("linked/1.sql")]);

        std::os::unix::fs::symlink(&dir, shared.join("back")).unwrap();
        let errs = load_directories(std::slice::from_ref(&dir)).unwrap_err();
        assert_eq!(errs.0.len(), 1, "{errs:?}");
        assert_eq!(errs.0[0].path, dir.join("linked/back"));
        assert!(errs.0[0].message.contains("loop"), "{errs:?}");
    }
}
