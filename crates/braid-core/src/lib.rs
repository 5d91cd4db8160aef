//! braid's core, without I/O to a database: migration files (header,
//! sections, checksums, loading and writing), the revision graph, the
//! Alembic target grammar and plans. The `braid` crate re-exports every
//! module; the `braid-macros` crate validates embedded migrations with
//! this same code at compile time.

#![warn(missing_docs)]

pub mod graph;
pub mod history;
pub mod migration;
pub mod plan;
pub mod revision;
pub mod target;
