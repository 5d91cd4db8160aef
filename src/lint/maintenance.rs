//! Maintenance and data rules: statements that hold a table for their
//! whole run (REINDEX, VACUUM FULL, CLUSTER, …), backfills done in one
//! statement, and non-transactional revisions that can stop half applied.

use super::Severity::{Error, Warning};
use super::read::{Kind, Read};
use super::rules::{Ctx, Hit};
use crate::config::Engine;

pub(super) fn check(read: &Read, ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    match &read.kind {
        Kind::Maintenance {
            what,
            table,
            concurrently: false,
        } if ctx.engine == Engine::Postgres => {
            let (severity, fix) = match *what {
                "REINDEX" => (Error, "REINDEX … CONCURRENTLY (PostgreSQL 12+), in a revision with `transactional = false`".to_owned()),
                "REFRESH MATERIALIZED VIEW" => (Warning, "REFRESH MATERIALIZED VIEW CONCURRENTLY (it needs a unique index on the view)".to_owned()),
                "LOCK TABLE" => (Warning, "set `lock_timeout` so the lock is given up rather than queued for, and keep the revision short".to_owned()),
                _ => (Error, if ctx.version.is_some_and(|v| v.at_least(19, 0)) {
                    "REPACK (CONCURRENTLY), or pg_repack".to_owned()
                } else {
                    "pg_repack (rewrites the table online), or run it in a maintenance window outside the migrations".to_owned()
                }),
            };
            if table.as_deref().is_none_or(|t| ctx.existing(t)) {
                out.push(Hit::new(
                    "blocking-maintenance",
                    severity,
                    table.as_deref(),
                    format!(
                        "{what} holds a lock that blocks {} for its whole run",
                        if *what == "REINDEX" {
                            "writes (and reads that use the index)"
                        } else {
                            "reads and writes"
                        }
                    ),
                    fix,
                ));
            }
        }
        _ if ctx.batch.is_some() => batch_block(read, ctx, out),
        Kind::Dml {
            verb,
            table,
            has_where,
        } if ctx.existing(table) => {
            if !has_where {
                out.push(Hit::new(
                    "unbatched-backfill",
                    Warning,
                    Some(table),
                    format!("{verb} of every row of `{table}` in one statement locks each row it touches until it ends, and bloats the table"),
                    "a batch block: `-- braid:batch size=10000` before an UPDATE/DELETE limited to `:batch_size` rows, in a revision with `transactional = false`",
                ));
            } else if ctx.transactional && ctx.altered.contains(table) {
                out.push(Hit::new(
                    "unbatched-backfill",
                    Warning,
                    Some(table),
                    format!("{verb} of `{table}` in the transaction that altered it: the ALTER's lock is held until the {verb} ends"),
                    "move the backfill to its own revision with `transactional = false`, in batches (`-- braid:batch`)",
                ));
            }
        }
        _ => {}
    }
    // Said once, at the second statement: from there a failure leaves
    // the earlier statements applied.
    if !ctx.transactional && ctx.statements > 1 && ctx.index == 1 {
        out.push(Hit::new(
            "non-transactional-multi-statement",
            Warning,
            None,
            format!("this revision runs {} statements outside a transaction: a failure midway leaves the earlier ones applied", ctx.statements),
            "one statement per revision with `transactional = false`, or make each statement safe to run again (IF NOT EXISTS / IF EXISTS)",
        ));
    }
}

/// A statement after `-- braid:batch`: it must be one UPDATE or DELETE
/// with `:batch_size`, in a revision outside a transaction, or the
/// batches are not batches.
fn batch_block(read: &Read, ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    let table = match &read.kind {
        Kind::Dml { table, .. } => Some(table.as_str()),
        _ => None,
    };
    let mut flag = |message: &str, fix: &str| {
        out.push(Hit::new(
            "unbatched-backfill",
            Error,
            table,
            message.to_owned(),
            fix.to_owned(),
        ));
    };
    if table.is_none() {
        flag(
            "`-- braid:batch` must come before one UPDATE or DELETE",
            "move the mark to the line before the UPDATE or DELETE it batches",
        );
    }
    if ctx.transactional {
        flag(
            "a batch block in a revision that runs in one transaction: every batch commits together at the end, holding all their row locks until then",
            "set `transactional = false` in the revision's header",
        );
    }
    if ctx.batch == Some(false) {
        flag(
            "a batch statement without `:batch_size`: each batch would change every row it matches, and the block would never see an empty batch if the statement keeps matching rows",
            "limit the statement to `:batch_size` rows not yet done, e.g. `WHERE id = ANY(ARRAY(SELECT id FROM t WHERE col IS NULL LIMIT :batch_size))` (PostgreSQL) or `WHERE col IS NULL LIMIT :batch_size` (MySQL)",
        );
    }
}
