//! braid: a database migration tool with a branching revision graph.
//!
//! Plain SQL migration files declare their revision id and down revisions;
//! [`graph`] validates the DAG and answers questions about heads, branches
//! and merge points; [`target`] resolves Alembic's target grammar; [`plan`]
//! orders the steps; `execute` runs them on SQLite, PostgreSQL or MySQL.
//!
//! The library never depends on the command line; the `braid` binary does.

pub mod autogen;
pub mod config;
pub mod conflict;
pub mod db;
pub mod embed;
pub mod execute;
pub mod import;
pub mod lint;
pub mod migrator;
pub mod render;
pub mod schema;
pub mod verify;

pub use braid_core::{graph, history, migration, plan, revision, target};
#[cfg(feature = "embed")]
pub use braid_macros::embed;
pub use migrator::Migrator;
