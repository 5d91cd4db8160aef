//! Constraint rules (PostgreSQL): a constraint checked against every row
//! under a lock, and the two-step recipes that avoid it.

use super::Severity::{Error, Warning};
use super::read::{Action, ConstraintKind, Kind, Read};
use super::rules::{Ctx, Hit};
use crate::config::Engine;

pub(super) fn check(read: &Read, ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    if ctx.engine != Engine::Postgres {
        return;
    }
    let Kind::AlterTable { table, actions, .. } = &read.kind else {
        return;
    };
    let existing = ctx.existing(table);
    for a in actions {
        match a {
            Action::AddConstraint {
                kind: kind @ (ConstraintKind::Check | ConstraintKind::ForeignKey),
                not_valid: false,
                ..
            } if existing => {
                let what = if *kind == ConstraintKind::Check {
                    "a CHECK constraint"
                } else {
                    "a FOREIGN KEY (which also locks the referenced table)"
                };
                out.push(Hit::new(
                    "constraint-not-valid",
                    Error,
                    Some(table),
                    format!("adding {what} checks every row of `{table}` while writes to it are blocked"),
                    "add it with NOT VALID (new rows are checked at once), then VALIDATE CONSTRAINT in a later revision: validation takes a lock that lets reads and writes go on",
                ));
            }
            Action::AddConstraint {
                kind:
                    kind @ (ConstraintKind::Unique
                    | ConstraintKind::PrimaryKey
                    | ConstraintKind::Exclude),
                using_index: false,
                ..
            } if existing => {
                let what = match kind {
                    ConstraintKind::Unique => "UNIQUE",
                    ConstraintKind::PrimaryKey => "PRIMARY KEY",
                    _ => "EXCLUDE",
                };
                let fix = if *kind == ConstraintKind::Exclude {
                    "no online recipe exists for an exclusion constraint: add it in a quiet hour, or on a new table".to_owned()
                } else {
                    format!(
                        "CREATE UNIQUE INDEX CONCURRENTLY in a revision with `transactional = false`, then `ADD CONSTRAINT … {what} USING INDEX` in the next"
                    )
                };
                out.push(Hit::new(
                    "unique-without-index",
                    Error,
                    Some(table),
                    format!("ADD {what} builds its index on `{table}` under an ACCESS EXCLUSIVE lock: reads and writes wait"),
                    fix,
                ));
            }
            Action::ValidateConstraint { name }
                if ctx.transactional && ctx.not_valid.contains(name) =>
            {
                out.push(Hit::new(
                    "validate-in-same-transaction",
                    Error,
                    Some(table),
                    format!("`{name}` is added NOT VALID and validated in the same transaction: the lock taken when adding it is held through the whole scan"),
                    "VALIDATE CONSTRAINT in a later revision",
                ));
            }
            Action::SetNotNull { column } if existing => {
                let pg12 = ctx.version.is_none_or(|v| v.at_least(12, 0));
                let fix = if pg12 {
                    format!(
                        "ADD CONSTRAINT … CHECK ({column} IS NOT NULL) NOT VALID, VALIDATE it in a later revision, then SET NOT NULL (PostgreSQL 12+ uses the validated check and skips the scan) and drop the check"
                    )
                } else {
                    format!(
                        "keep a validated CHECK ({column} IS NOT NULL) NOT VALID constraint instead: before PostgreSQL 12, SET NOT NULL always scans"
                    )
                };
                out.push(Hit::new(
                    "set-not-null",
                    Warning,
                    Some(table),
                    format!("SET NOT NULL on `{table}`.`{column}` scans every row under an ACCESS EXCLUSIVE lock"),
                    fix,
                ));
            }
            _ => {}
        }
    }
}
