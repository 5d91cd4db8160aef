//! MySQL and MariaDB rules: ALTERs InnoDB can only do by copying the
//! table or with writes blocked (checked on the server with
//! `ALGORITHM=INPLACE, LOCK=NONE`), explicit LOCK clauses, and a
//! column-level REFERENCES MySQL ignores.

use super::Severity::Error;
use super::read::{Action, ConstraintKind, Kind, Read};
use super::rules::{Ctx, Hit};
use crate::config::Engine;

const ONLINE_FIX: &str = "run it with an online schema change tool (gh-ost, pt-online-schema-change), or expand and contract; add `ALGORITHM=INPLACE, LOCK=NONE` so the server refuses instead of blocking";

pub(super) fn check(read: &Read, ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    if ctx.engine != Engine::Mysql {
        return;
    }
    let copy = |table: &str, why: String| {
        Hit::new(
            "mysql-copy-algorithm",
            Error,
            Some(table),
            format!(
                "{why}: `{table}` is copied (or locked) and writes to it wait until the ALTER ends"
            ),
            ONLINE_FIX,
        )
    };
    match &read.kind {
        Kind::CreateIndex {
            table,
            special: Some(special),
            ..
        } if ctx.existing(table) => out.push(copy(
            table,
            format!("a {special} index cannot be built with writes going on"),
        )),
        Kind::CreateTable {
            table,
            inline_references: true,
        } => inline_references(table, ctx, out),
        Kind::AlterTable {
            table,
            actions,
            algorithm,
            lock,
        } => {
            if actions.iter().any(|a| {
                matches!(
                    a,
                    Action::AddColumn {
                        inline_references: true,
                        ..
                    }
                )
            }) {
                inline_references(table, ctx, out);
            }
            if !ctx.existing(table) {
                return;
            }
            if let Some(l @ ("SHARED" | "EXCLUSIVE")) = lock.as_deref() {
                out.push(Hit::new(
                    "mysql-lock-clause",
                    Error,
                    Some(table),
                    format!(
                        "LOCK={l} blocks {} of `{table}` for the whole ALTER",
                        if l == "SHARED" {
                            "writes"
                        } else {
                            "reads and writes"
                        }
                    ),
                    "leave LOCK out (or LOCK=NONE, so the server refuses what it cannot do online)",
                ));
            }
            if algorithm.as_deref() == Some("COPY") {
                out.push(copy(table, "ALGORITHM=COPY".to_owned()));
                return;
            }
            let adds_pk = actions.iter().any(|a| {
                matches!(
                    a,
                    Action::AddConstraint {
                        kind: ConstraintKind::PrimaryKey,
                        ..
                    }
                )
            });
            for a in actions {
                let why = match a {
                    Action::AddIndex { special: Some(s) } => Some(format!("a {s} index cannot be built with writes going on")),
                    Action::AddColumn { stored_generated: true, column, .. } => Some(format!("the STORED generated column `{column}` is computed for every row")),
                    Action::AddColumn { auto_increment: true, column, .. } => Some(format!("the AUTO_INCREMENT column `{column}` is numbered for every row")),
                    Action::AddConstraint { kind: ConstraintKind::ForeignKey, .. } => Some("a FOREIGN KEY is checked by copying the table unless foreign_key_checks is off".to_owned()),
                    Action::AddConstraint { kind: ConstraintKind::Check, .. } => Some("a CHECK constraint is checked by copying the table".to_owned()),
                    Action::DropPrimaryKey if !adds_pk => Some("dropping the primary key without adding one".to_owned()),
                    Action::Rebuild { what } => Some(format!("{what} rebuilds the table by copying it")),
                    _ => None,
                };
                if let Some(why) = why {
                    out.push(copy(table, why));
                }
            }
        }
        _ => {}
    }
}

fn inline_references(table: &str, ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    // MySQL parses a column-level REFERENCES and ignores it before 9.0;
    // MariaDB makes the foreign key (10.5+).
    let ignored = match ctx.version {
        Some(v) if v.mariadb => !v.at_least(10, 5),
        Some(v) => !v.at_least(9, 0),
        None => true,
    };
    if ignored {
        out.push(Hit::new(
            "mysql-inline-references",
            Error,
            Some(table),
            format!("a column-level REFERENCES on `{table}` is accepted and ignored by MySQL before 9.0: no foreign key is made"),
            "write the foreign key at the table level: FOREIGN KEY (col) REFERENCES other (id)",
        ));
    }
}
