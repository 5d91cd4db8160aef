//! SQLite rules: a table copied under the database's single write lock
//! (the rebuild recipe, `DROP COLUMN`), and ALTERs SQLite does not have.

use super::Severity::{Error, Warning};
use super::read::{Action, Kind, Read};
use super::rules::{Ctx, Hit};
use crate::config::Engine;

const REBUILD_FIX: &str = "the copy cannot be made online in SQLite: run it when writers can wait (writers get SQLITE_BUSY after their busy timeout), and keep the table small enough to copy quickly";

pub(super) fn check(read: &Read, ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    if ctx.engine != Engine::Sqlite {
        return;
    }
    match &read.kind {
        Kind::InsertSelect { table, source } if !ctx.existing(table) && ctx.existing(source) => {
            out.push(Hit::new(
                "sqlite-table-rebuild",
                Warning,
                Some(source),
                format!("copying every row of `{source}` into `{table}` (a table rebuild) holds the database's write lock until it ends: every writer waits"),
                REBUILD_FIX,
            ));
        }
        Kind::AlterTable { table, actions, .. } if ctx.existing(table) => {
            for a in actions {
                match a {
                    Action::DropColumn { column } => out.push(Hit::new(
                        "sqlite-table-rebuild",
                        Warning,
                        Some(table),
                        format!("DROP COLUMN `{column}` rewrites every row of `{table}` under the database's write lock"),
                        REBUILD_FIX,
                    )),
                    Action::AddColumn { .. } | Action::Rename { .. } => {}
                    Action::ColumnType { .. }
                    | Action::SetNotNull { .. }
                    | Action::AddConstraint { .. }
                    | Action::Other => out.push(Hit::new(
                        "sqlite-table-rebuild",
                        Error,
                        Some(table),
                        format!("SQLite's ALTER TABLE cannot do this to `{table}` (only RENAME, ADD COLUMN and DROP COLUMN): the statement fails"),
                        "rebuild the table: CREATE TABLE new_t with the new definition, INSERT INTO new_t SELECT … FROM t, DROP TABLE t, ALTER TABLE new_t RENAME TO t, in one transaction with foreign keys off (sqlite.org/lang_altertable.html)",
                    )),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}
