//! Index rules: builds and drops that block a busy table, and
//! `CONCURRENTLY` where a transaction forbids it (PostgreSQL).

use super::Severity::{Error, Warning};
use super::read::{Kind, Read};
use super::rules::{Ctx, Hit};
use crate::config::Engine;

const RUN_CONCURRENTLY: &str = "put it alone in a revision with `transactional = false`";

pub(super) fn check(read: &Read, ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    if ctx.engine != Engine::Postgres {
        return;
    }
    match &read.kind {
        Kind::CreateIndex {
            table,
            concurrently,
            ..
        } => {
            if *concurrently && ctx.transactional {
                out.push(in_transaction("CREATE INDEX CONCURRENTLY", Some(table)));
            }
            if !concurrently && ctx.existing(table) {
                out.push(Hit::new(
                    "index-not-concurrent",
                    Error,
                    Some(table),
                    format!("CREATE INDEX blocks writes to `{table}` until the index is built"),
                    format!("CREATE INDEX CONCURRENTLY, {RUN_CONCURRENTLY}: braid checks that the index is valid before recording the revision"),
                ));
            }
        }
        Kind::DropIndex { concurrently, name } => {
            if *concurrently && ctx.transactional {
                out.push(in_transaction("DROP INDEX CONCURRENTLY", None));
            }
            if !concurrently {
                out.push(Hit::new(
                    "drop-index-not-concurrent",
                    Warning,
                    None,
                    format!("DROP INDEX `{name}` takes an ACCESS EXCLUSIVE lock on its table: every query of it waits, and queues behind it"),
                    format!("DROP INDEX CONCURRENTLY, {RUN_CONCURRENTLY}"),
                ));
            }
        }
        Kind::Maintenance {
            what: "REINDEX" | "REFRESH MATERIALIZED VIEW",
            concurrently: true,
            table,
        } if ctx.transactional => {
            out.push(in_transaction("a CONCURRENTLY statement", table.as_deref()));
        }
        _ => {}
    }
}

fn in_transaction(what: &str, table: Option<&str>) -> Hit {
    Hit::new(
        "concurrently-in-transaction",
        Error,
        table,
        format!("{what} cannot run inside a transaction, and this revision runs in one"),
        "set `transactional = false` in the revision's header, with the statement alone in it",
    )
}
