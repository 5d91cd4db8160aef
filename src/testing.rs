//! Testing an application's migrations, as `#[sqlx::test]` tests queries:
//! a fresh database per test, migrated, dropped afterwards; one-call
//! `verify` and `diff` with a report that asserts.
//!
//! Every helper takes the server explicitly (a URL of the engine, any
//! database on it: scratch databases are made beside it; SQLite: a URL
//! starting `sqlite:`, and the test database is a file in a temporary
//! directory). Nothing reads `DATABASE_URL` unless the test asks with
//! [`server_from_env`], so a developer whose shell points at another
//! engine runs the same tests.
//!
//! The module comes with the `testing` feature (or `tools`): an
//! application turns it on for its tests only, as a dev-dependency
//! (`braid = { version = "0.1", default-features = false, features =
//! ["testing"] }`), and its own build stays lean.
//!
//! ```no_run
//! # async fn t() {
//! use braid::testing;
//! let migrator = braid::Migrator::new(braid::embed!());
//! // A migrated database of its own, dropped when the body ends (even by a panic).
//! testing::with_migrated(&migrator, "postgres://postgres@localhost/postgres", async |url| {
//!     let pool = sqlx::PgPool::connect(url).await.unwrap();
//!     sqlx::query("INSERT INTO users (email) VALUES ('a@b.c')").execute(&pool).await.unwrap();
//! })
//! .await
//! .unwrap();
//! // Every revision up, down and up again: each down restores the schema.
//! testing::verify(&migrator, "sqlite::memory:").await.unwrap().assert_ok();
//! // The migrations at their head give the schema declared in schema/.
//! testing::diff(&migrator, "sqlite::memory:", &["schema".into()]).await.unwrap().assert_ok();
//! # }
//! ```

use std::path::PathBuf;

use crate::migrator::{Error, Migrator};
use crate::schema::diff::Script;
use crate::schema::scratch::Scratch;
use crate::schema::source::{self, Source};
use crate::target::Target;

/// A database made for one test, dropped by [`TestDatabase::drop`] (or
/// when the helper that made it returns).
pub struct TestDatabase {
    url: String,
    home: Home,
}

enum Home {
    File(tempfile::TempDir),
    Server(Box<Scratch>),
}

impl TestDatabase {
    /// An empty database on the server `server` (its engine; SQLite: a
    /// file in a temporary directory), with the migrator's schema.
    ///
    /// # Errors
    ///
    /// The server cannot be reached or refuses to create a database.
    pub async fn create(migrator: &Migrator, server: &str) -> Result<TestDatabase, Error> {
        if server.starts_with("sqlite:") {
            let dir = tempfile::tempdir().map_err(|e| Error::Invalid(e.to_string()))?;
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
            return Ok(TestDatabase {
                url,
                home: Home::File(dir),
            });
        }
        let settings = migrator.settings(server)?;
        let scratch = Scratch::create(&settings)
            .await
            .map_err(|e| Error::Database {
                doing: "making a test database".into(),
                source: crate::db::DbError {
                    message: e.to_string(),
                    ..crate::db::DbError::default()
                },
            })?;
        Ok(TestDatabase {
            url: scratch.expose_url().to_owned(),
            home: Home::Server(Box::new(scratch)),
        })
    }

    /// Its URL, for the application's own pool.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops it.
    ///
    /// # Errors
    ///
    /// The server refused to drop it.
    pub async fn drop(self) -> Result<(), Error> {
        match self.home {
            Home::File(dir) => {
                drop(dir);
                Ok(())
            }
            Home::Server(scratch) => {
                Scratch::drop(*scratch)
                    .await
                    .map_err(|source| Error::Database {
                        doing: "dropping the test database".into(),
                        source,
                    })
            }
        }
    }
}

/// Runs `body` with the URL of a fresh database on `server`, migrated to
/// the heads, and drops the database afterwards, also when `body` panics
/// (the panic then goes on).
///
/// # Errors
///
/// The database cannot be made, migrated or dropped.
pub async fn with_migrated<F>(migrator: &Migrator, server: &str, body: F) -> Result<(), Error>
where
    F: AsyncFnOnce(&str),
{
    use futures::FutureExt as _;
    let db = TestDatabase::create(migrator, server).await?;
    if let Err(e) = migrator.upgrade(db.url(), Target::heads()).await {
        let _ = db.drop().await;
        return Err(e);
    }
    let ran = std::panic::AssertUnwindSafe(body(db.url()))
        .catch_unwind()
        .await;
    let dropped = db.drop().await;
    if let Err(panic) = ran {
        std::panic::resume_unwind(panic);
    }
    dropped
}

/// The server named by the environment variable `var`, else `default`:
/// for a test suite that runs on the developer's server when asked
/// (`TEST_DATABASE_URL=postgres://… cargo test`) and on SQLite otherwise.
pub fn server_from_env(var: &str, default: &str) -> String {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// What [`verify`] found, per revision.
#[derive(Debug, Clone)]
pub struct VerifyReport {
    /// Each revision's report.
    pub revisions: Vec<crate::verify::Report>,
}

impl VerifyReport {
    /// The revisions that are not fine (a down that does not restore, no
    /// down, a step that failed).
    pub fn problems(&self) -> Vec<&crate::verify::Report> {
        self.revisions
            .iter()
            .filter(|r| r.status != crate::verify::Status::Ok)
            .collect()
    }

    /// Panics, naming each revision and what differs, unless every
    /// revision went up, down and up again to the same schemas.
    #[track_caller]
    pub fn assert_ok(&self) {
        let problems = self.problems();
        if problems.is_empty() {
            return;
        }
        let lines: Vec<String> = problems
            .iter()
            .map(|r| {
                let what: Vec<String> = r
                    .differences
                    .iter()
                    .map(|d| format!("after {}: {}", d.after, d.text))
                    .collect();
                format!(
                    "{} ({}): {:?} {}{}",
                    r.revision,
                    r.file.display(),
                    r.status,
                    what.join("; "),
                    r.error
                        .as_deref()
                        .map(|e| format!(" {e}"))
                        .unwrap_or_default()
                )
            })
            .collect();
        panic!(
            "braid verify: {} revision(s) do not go up, down and up again cleanly:\n{}",
            problems.len(),
            lines.join("\n")
        );
    }
}

/// Every revision up, down and up again on a scratch database on
/// `server`, comparing schemas at each step (`braid verify`).
///
/// # Errors
///
/// The scratch database cannot be made, read or dropped; a failing
/// revision is in the report, not here.
pub async fn verify(migrator: &Migrator, server: &str) -> Result<VerifyReport, Error> {
    Ok(VerifyReport {
        revisions: migrator.verify(server).await?,
    })
}

/// What [`diff`] found between the migrations at their heads and the
/// desired schema.
#[derive(Debug, Clone)]
pub struct DiffReport {
    /// What would take the migrations' schema to the desired one.
    pub up: Script,
    /// And back.
    pub down: Script,
}

impl DiffReport {
    /// Panics with the SQL still needed unless the migrations give exactly
    /// the desired schema.
    #[track_caller]
    pub fn assert_ok(&self) {
        if !self.up.is_empty() {
            panic!(
                "the migrations do not reach the desired schema; still needed:\n{}",
                self.up.to_sql()
            );
        }
    }
}

/// The migrations at their heads (on a scratch database on `server`)
/// against the schema the `.sql` files or directories `desired` declare
/// (`braid diff migrations schema`): the scripts between them, proven.
///
/// # Errors
///
/// A desired file that does not build (file:line), a scratch database that
/// cannot be made or dropped, a revision that fails.
pub async fn diff(
    migrator: &Migrator,
    server: &str,
    desired: &[PathBuf],
) -> Result<DiffReport, Error> {
    let settings = migrator.settings(server)?;
    let h = migrator.history()?;
    let mut scratches = Vec::new();
    let result = async {
        let (a, b) = source::build_pair(
            &settings,
            &Source::Migrations("heads".into()),
            &Source::Files(desired.to_vec()),
            Some(&h),
            None,
            &mut scratches,
        )
        .await?;
        source::scripts(&settings, &a, &b, None, &mut scratches).await
    }
    .await;
    let dropped = source::drop_all(scratches).await;
    let scripts = result.map_err(|e| Error::Invalid(e.to_string()))?;
    dropped.map_err(|source| Error::Database {
        doing: "dropping a scratch database".into(),
        source,
    })?;
    Ok(DiffReport {
        up: scripts.up,
        down: scripts.down,
    })
}
