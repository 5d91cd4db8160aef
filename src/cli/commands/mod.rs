//! One module per command: its arguments and its `run`.

pub mod check;
pub mod completions;
pub mod current;
pub mod diff;
pub mod fleet;
pub mod graph;
pub mod heads;
pub mod history;
pub mod import;
pub mod init;
pub mod lint;
pub mod log;
pub mod merge;
pub mod migrate;
pub mod rebase;
pub mod rehearse;
pub mod revision;
pub mod schema;
pub mod show;
pub mod stamp;
pub mod status;
