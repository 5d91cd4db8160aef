//! braid: database migrations as a branching revision graph, for plain SQL
//! files, with Alembic's semantics and the database guarantees (lock,
//! checksums, history, crash safety) built in.
//!
//! The `braid` binary is the command line; this crate is also the library
//! an application embeds to run its migrations at start-up.
//!
//! # Migrations compiled into the application
//!
//! ```no_run
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), braid::migrator::Error> {
//!     // braid.toml's `[migrations] directories`, read and validated at
//!     // compile time: a bad header or an invalid graph is a compile error.
//!     let report = braid::Migrator::new(braid::embed!())
//!         .lock_timeout(std::time::Duration::from_secs(60))
//!         .upgrade("postgres://app@db/app", "heads")
//!         .await?;
//!     println!("applied {}, at {}", report.steps.len(), report.heads.join(", "));
//!     Ok(())
//! }
//! ```
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `sqlite` | yes | SQLite (sqlx's bundled libsqlite3) |
//! | `postgres` | yes | PostgreSQL |
//! | `mysql` | yes | MySQL and MariaDB |
//! | `tls` | yes | TLS to PostgreSQL and MySQL (rustls, webpki roots) |
//! | `embed` | yes | `braid::embed!()` (the `braid-macros` proc macro) |
//! | `tracing` | yes | warnings and progress as `tracing` events (target `braid`) |
//! | `lint` | yes | the safety lint at upgrade (sqlparser): [`execute::Options`]'s `lint` |
//! | `tools` | yes | `lint`, and the rest of what the CLI does as a library: schema reading, diff and verify, autogenerate, import, rehearse, backups, fleets, authoring, [`testing`] |
//! | `testing` | no | the same as `tools`, named for a dev-dependency |
//! | `cli` | yes | `tools`, clap, indicatif, dotenvy, and every engine: the `braid` binary needs it |
//!
//! An application compiles only what it uses; with `embed` and one engine
//! it gets the graph walk and the executor, the migrations parsed at
//! compile time, and no SQL parser, thread pool or schema work:
//!
//! ```toml
//! [dependencies]
//! braid = { version = "0.1", default-features = false, features = ["embed", "postgres", "tls"] }
//!
//! [dev-dependencies]
//! braid = { version = "0.1", default-features = false, features = ["testing"] }
//! ```
//!
//! A URL of an engine left out is an error at run time naming the feature
//! to enable.
//!
//! # Where and to what
//!
//! Every call of the [`Migrator`] takes the database as a URL, a sqlx pool
//! (`&pool`: one connection is taken out of it for the run) or a
//! connection of any engine ([`migrator::Database`]), and a target as a
//! [`target::Target`] (`Target::heads()`, `Target::branch_head("billing")`,
//! `Target::parse("ae10+1")?`) or a string in the CLI's grammar.
//!
//! ## Rebuilding when migrations change
//!
//! `embed!()` includes every file with `include_str!`, so editing one
//! rebuilds the crate. A file *added* to the directory is seen only when
//! cargo reruns the build: `braid init --build-script` writes a build.rs
//! with `cargo:rerun-if-changed` on the directory.
//!
//! ## Several replicas starting at once
//!
//! Every replica may call `upgrade` at start-up: the migration lock
//! (PostgreSQL advisory lock, MySQL `GET_LOCK`, SQLite's write lock) lets
//! one apply each revision exactly once while the others wait, then find
//! nothing to do. `lock_timeout` bounds the wait.
//!
//! ## Rolling deploys
//!
//! An older replica starting against a database a newer one migrated sees
//! recorded revisions it does not know. By default that is an error
//! ([`migrator::Error::UnknownRevisions`]); `on_unknown(OnUnknown::Skip)`
//! changes nothing and reports them, so the old replica starts.
//!
//! ## The CLI and the library on one database
//!
//! Both keep the same version and history tables and compute the same
//! checksums (blake3 of the file's text, line endings normalized), so
//! `braid current`, `braid check` and `braid history --indicate-current`
//! work on a database the application migrated, and the other way round.
//!
//! ## Composing migration sets
//!
//! A library crate exports its own set (`pub fn migrations() ->
//! braid::embed::Embedded { braid::embed!("migrations") }`, with a branch
//! label); the application merges it with its own
//! (`braid::embed!("migrations", partial).merge(lib::migrations())`, where
//! `partial` lets its files name the library's label or revisions) into one
//! graph, validated when the migrator runs, in one version table.
//!
//! # Errors, warnings, tests
//!
//! [`migrator::Error`]'s Display names the revision, file:line, the
//! statement and the database's message and code; `hint()` says what to
//! do; `source()` leads to [`db::DbError`] and to sqlx's own error.
//! Warnings and progress are `tracing` events with target `braid` (the
//! `tracing` feature). [`testing`] gives a test a migrated database of its
//! own and checks the migrations in one call (`verify`, `diff`), from an
//! explicit server URL, never `DATABASE_URL` unless asked. braid is built
//! on sqlx 0.8, re-exported as [`sqlx`].
//!
//! # The rest of the library
//!
//! [`graph`] validates the DAG and answers questions about heads, branches
//! and merge points; [`target`] resolves Alembic's target grammar; [`plan`]
//! orders the steps; [`execute`] runs them; [`schema`] reads, compares and
//! diffs schemas; [`import`] reads Alembic projects. The library never
//! depends on the command line.

#![warn(missing_docs)]
// docs.rs marks what each feature adds.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod config;
pub mod db;
pub mod embed;
pub mod execute;
pub mod lint;
pub mod migrator;

/// Items that come with the `tools` feature, marked so on docs.rs.
macro_rules! tools {
    ($($item:item)*) => {
        $(
            #[cfg(feature = "tools")]
            #[cfg_attr(docsrs, doc(cfg(feature = "tools")))]
            $item
        )*
    };
}

tools! {
    pub mod authoring;
    pub mod autogen;
    pub mod backup;
    pub mod conflict;
    pub mod fleet;
    pub mod import;
    pub mod models;
    pub mod rehearse;
    pub mod render;
    pub mod schema;
    pub mod testing;
    pub mod verify;
}

pub use braid_core::{graph, history, migration, plan, revision, target};
#[cfg(feature = "embed")]
#[cfg_attr(docsrs, doc(cfg(feature = "embed")))]
pub use braid_macros::embed;
pub use migrator::Migrator;

/// The sqlx braid is built on (0.8): a pool or connection handed to the
/// [`Migrator`] must come from this version. `braid::sqlx::SqlitePool`
/// and the others name the same types as the application's own `sqlx`
/// 0.8 dependency; an application may also use this re-export and leave
/// sqlx out of its own Cargo.toml.
pub use sqlx;
