//! The pieces of `diff` and `revision --autogenerate` that touch a
//! database: loading desired-state `.sql` files onto a scratch database
//! (statement by statement, so an error names its file and line), and the
//! proof that a generated script does what it says: applied to the first
//! schema it gives the second, and its reverse gives the first back.

use std::path::{Path, PathBuf};

use crate::db::{Db, DbError};
use crate::migration::split::split;
use crate::schema::diff::{Renames, Script};
use crate::schema::{self, Filter, Snapshot, compare};

/// Why a schema could not be built or a script not proven.
#[derive(Debug, thiserror::Error)]
pub enum AutogenError {
    /// A desired-state file could not be read.
    #[error("cannot read {}: {message}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        message: String,
    },
    /// A statement of a desired-state file failed (file:line and the database's message).
    #[error("{}:{line}: {}", path.display(), error.message)]
    Statement {
        /// The file.
        path: PathBuf,
        /// The statement's line in it.
        line: usize,
        /// The statement.
        statement: String,
        /// The database's error.
        error: DbError,
    },
    /// The scratch database's schema could not be read.
    #[error("cannot read the scratch database's schema: {0}")]
    Introspect(DbError),
    /// The generated script failed on the scratch database.
    #[error("the generated {direction} script fails: {}", error.message)]
    Apply {
        /// `up` or `down`.
        direction: &'static str,
        /// The statement.
        statement: String,
        /// The database's error.
        error: DbError,
    },
    /// The generated script did not reach the schema it should.
    #[error("the generated {direction} script does not reach the schema it should: {}", differences.join("; "))]
    NotProven {
        /// `up` or `down`.
        direction: &'static str,
        /// What still differs from the schema it should reach.
        differences: Vec<String>,
    },
}

/// The `.sql` files a path names: the file, or every `.sql` file under
/// the directory, in path order.
pub fn sql_files(path: &Path) -> Result<Vec<PathBuf>, AutogenError> {
    if path.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    if !path.is_dir() {
        return Err(AutogenError::Read {
            path: path.to_owned(),
            message: "no such file or directory".into(),
        });
    }
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(path)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "sql"))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    Ok(files)
}

/// Runs `sql` in one transaction and one round trip; `false` (everything
/// rolled back) when a statement fails, so that the caller runs it
/// statement by statement to name the one. MySQL has no transactional DDL:
/// always `false` there.
pub(crate) async fn in_one_go(db: &mut Db, sql: &str) -> bool {
    if db.engine() == crate::config::Engine::Mysql || db.exec("BEGIN").await.is_err() {
        return false;
    }
    if db.exec(sql).await.is_ok() && db.exec("COMMIT").await.is_ok() {
        return true;
    }
    let _ = db.exec("ROLLBACK").await;
    false
}

/// Runs every statement of the files on `db` (a scratch database), and
/// returns the renames they declare.
///
/// # Errors
///
/// [`AutogenError`]: a file cannot be read, or a statement fails (file:line
/// and the database's message).
///
/// ```no_run
/// # async fn doc(scratch: &mut braid::db::Db) -> Result<(), Box<dyn std::error::Error>> {
/// let renames = braid::autogen::load_files(scratch, &["schema/".into()]).await?;
/// # Ok(()) }
/// ```
pub async fn load_files(db: &mut Db, paths: &[PathBuf]) -> Result<Renames, AutogenError> {
    let mut renames = Renames::default();
    for dir in paths {
        for path in sql_files(dir)? {
            let text = std::fs::read_to_string(&path).map_err(|e| AutogenError::Read {
                path: path.clone(),
                message: e.to_string(),
            })?;
            renames.extend(Renames::parse(&text));
            if in_one_go(db, &text).await {
                continue;
            }
            for stmt in split(&text, 1, db.dialect.lexer()) {
                if crate::migration::split::words(stmt.text, db.dialect.lexer()).is_empty() {
                    continue;
                }
                db.exec(stmt.text)
                    .await
                    .map_err(|error| AutogenError::Statement {
                        path: path.clone(),
                        line: stmt.line,
                        statement: stmt.text.to_owned(),
                        error,
                    })?;
            }
        }
    }
    Ok(renames)
}

/// Runs SQL text on `db` statement by statement (MySQL takes one at a
/// time).
///
/// # Errors
///
/// The first statement that fails.
///
/// ```no_run
/// # async fn doc(scratch: &mut braid::db::Db) -> Result<(), Box<dyn std::error::Error>> {
/// braid::autogen::run_sql(scratch, "CREATE TABLE a (id int); CREATE TABLE b (id int);").await?;
/// # Ok(()) }
/// ```
pub async fn run_sql(db: &mut Db, sql: &str) -> Result<(), DbError> {
    if in_one_go(db, sql).await {
        return Ok(());
    }
    for stmt in split(sql, 1, db.dialect.lexer()) {
        if !crate::migration::split::words(stmt.text, db.dialect.lexer()).is_empty() {
            db.exec(stmt.text).await?;
        }
    }
    Ok(())
}

/// Runs a generated script on `db` statement by statement.
///
/// # Errors
///
/// [`AutogenError::Apply`] with the statement that failed.
///
/// ```no_run
/// # async fn doc(scratch: &mut braid::db::Db, from: &braid::schema::Snapshot, to: &braid::schema::Snapshot) -> Result<(), Box<dyn std::error::Error>> {
/// let script = braid::schema::diff::diff(from, to, &Default::default());
/// braid::autogen::run_script(scratch, &script, "up").await?;
/// # Ok(()) }
/// ```
pub async fn run_script(
    db: &mut Db,
    script: &Script,
    direction: &'static str,
) -> Result<(), AutogenError> {
    // One round trip where the engine allows it; only when that fails are
    // the statements run one by one, to name the one at fault.
    let all: Vec<&str> = script.statements.iter().map(|s| s.sql.as_str()).collect();
    if all.len() > 1 && in_one_go(db, &all.join("\n")).await {
        return Ok(());
    }
    for s in &script.statements {
        db.exec(&s.sql).await.map_err(|error| AutogenError::Apply {
            direction,
            statement: s.sql.clone(),
            error,
        })?;
    }
    Ok(())
}

/// What strictly differs, in words; `Err` with what equivalently differs.
fn reached(
    want: &Snapshot,
    got: &Snapshot,
    direction: &'static str,
) -> Result<Vec<String>, AutogenError> {
    let (real, notes): (Vec<_>, Vec<_>) = compare::compare(want, got)
        .into_iter()
        .partition(|d| !d.strict_only);
    if real.is_empty() {
        Ok(notes
            .iter()
            .map(|d| d.describe("appears", "is missing"))
            .collect())
    } else {
        Err(AutogenError::NotProven {
            direction,
            differences: real
                .iter()
                .map(|d| d.describe("appears", "is missing"))
                .collect(),
        })
    }
}

/// Proves `up` on `db`, a scratch database that holds the schema `from`:
/// applied, it gives `to` (equivalent equality). The down script is then
/// the differ run from what the up script really built back to `from`
/// (so it names what the engine named, not what the desired schema's
/// engine happened to call a constraint), and is proven in turn. Returns
/// the down script and the notes strict equality adds (column order).
///
/// # Errors
///
/// [`AutogenError`]: a statement fails, or a script does not reach the schema
/// it should ([`AutogenError::NotProven`], with the differences).
///
/// ```no_run
/// # async fn doc(scratch: &mut braid::db::Db, from: &braid::schema::Snapshot, to: &braid::schema::Snapshot) -> Result<(), Box<dyn std::error::Error>> {
/// let filter = braid::schema::Filter::new("braid_version", &[]);
/// let renames = Default::default();
/// let up = braid::schema::diff::diff(from, to, &renames);
/// let (down, _notes) = braid::autogen::prove(scratch, from, to, &up, &renames, &filter).await?;
/// # Ok(()) }
/// ```
pub async fn prove(
    db: &mut Db,
    from: &Snapshot,
    to: &Snapshot,
    up: &Script,
    renames: &Renames,
    filter: &Filter,
) -> Result<(Script, Vec<String>), AutogenError> {
    run_script(db, up, "up").await?;
    let after_up = schema::introspect(db, filter)
        .await
        .map_err(AutogenError::Introspect)?;
    let mut notes = reached(to, &after_up, "up")?;
    let down = crate::schema::diff::diff(&after_up, from, &renames.reversed());
    run_script(db, &down, "down").await?;
    let after_down = schema::introspect(db, filter)
        .await
        .map_err(AutogenError::Introspect)?;
    notes.extend(reached(from, &after_down, "down")?);
    Ok((down, notes))
}
