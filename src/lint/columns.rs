//! Column rules: defaults and types that rewrite a table, columns a
//! populated table cannot take, and renames and drops that break the
//! application still running against the old schema.

use super::Severity::{Error, Warning};
use super::read::{Action, Kind, Read, volatile};
use super::rules::{Ctx, Hit};
use crate::config::Engine;
use crate::revision::Direction;

pub(super) fn check(read: &Read, ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    match &read.kind {
        Kind::AlterTable { table, actions, .. } => {
            let existing = ctx.existing(table);
            for a in actions {
                alter(a, table, existing, ctx, out);
            }
        }
        Kind::RenameTable { table } if ctx.existing(table) => out.push(rename("table", table)),
        Kind::DropTable { tables } if ctx.direction == Direction::Up => {
            for t in tables
                .iter()
                .filter(|t| ctx.existing(t) && !ctx.copied.contains(*t))
            {
                out.push(Hit::new(
                    "drop",
                    Warning,
                    Some(t),
                    format!("DROP TABLE `{t}`: the running application fails on it, and its rows are gone"),
                    "stop using the table in a deploy first, then drop it in a later revision (with a backup: `upgrade --backup`)",
                ));
            }
        }
        _ => {}
    }
}

fn rename(what: &str, table: &str) -> Hit {
    Hit::new(
        "rename",
        Warning,
        Some(table),
        format!(
            "renaming a {what} of `{table}` breaks the application running against the old name until it is deployed again"
        ),
        "expand and contract: add the new name (a new column written by both versions, or a view with the old table name), move the code over, then drop the old one",
    )
}

fn alter(a: &Action, table: &str, existing: bool, ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    match a {
        Action::AddColumn {
            column,
            not_null,
            default,
            stored_generated,
            auto_increment,
            ..
        } if existing => {
            if ctx.engine == Engine::Postgres {
                let pg11 = ctx.version.is_none_or(|v| v.at_least(11, 0));
                let why = if *stored_generated {
                    Some("a stored generated column is computed for every row".to_owned())
                } else if *auto_increment {
                    Some("a serial or identity column is filled for every row".to_owned())
                } else {
                    match default.as_deref() {
                        Some(d) if !d.eq_ignore_ascii_case("null") && !pg11 => Some(format!(
                            "before PostgreSQL 11 any default ({d}) is written into every row"
                        )),
                        Some(d) if volatile(d, ctx.engine) => Some(format!(
                            "the default {d} is volatile: it is computed and written for every row"
                        )),
                        _ => None,
                    }
                };
                if let Some(why) = why {
                    out.push(Hit::new(
                        "volatile-default",
                        Error,
                        Some(table),
                        format!("adding `{column}` rewrites `{table}` under an ACCESS EXCLUSIVE lock: {why}"),
                        "add the column without the default (or with a constant one), set the default with ALTER COLUMN … SET DEFAULT, then backfill existing rows in batches (`-- braid:batch`)",
                    ));
                }
            }
            let filled = default
                .as_deref()
                .is_some_and(|d| !d.eq_ignore_ascii_case("null"));
            if *not_null && !filled && !auto_increment && !stored_generated {
                out.push(Hit::new(
                    "add-required-column",
                    Error,
                    Some(table),
                    format!("`{column}` is added NOT NULL without a default: it fails on a table with rows (SQLite and PostgreSQL refuse it), and the running application's inserts fail"),
                    "add it nullable (or with a constant default), backfill, then make it NOT NULL in a later revision",
                ));
            }
        }
        Action::ColumnType {
            column,
            type_words,
            renamed_to,
            ..
        } if existing => {
            if renamed_to.is_some() {
                out.push(rename("column", table));
            }
            type_change(table, column, type_words, ctx, out);
        }
        Action::Rename { what } if existing => out.push(rename(what, table)),
        Action::DropColumn { column } if existing && ctx.direction == Direction::Up => {
            out.push(Hit::new(
                "drop",
                Warning,
                Some(table),
                format!("DROP COLUMN `{table}`.`{column}`: the running application fails on it, and its values are gone"),
                "stop reading and writing the column in a deploy first, then drop it in a later revision",
            ));
        }
        _ => {}
    }
}

/// The base of a type (`VARCHAR(255)` → `VARCHAR`) and its first size.
fn base_and_size(words: &[String]) -> (String, Option<u64>) {
    let base = words
        .iter()
        .take_while(|w| *w != "(" && *w != "[")
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    let size = words
        .iter()
        .skip_while(|w| *w != "(")
        .nth(1)
        .and_then(|n| n.parse().ok());
    (normal(&base), size)
}

/// One spelling for the names the catalogs and the files use.
fn normal(base: &str) -> String {
    match base.to_ascii_uppercase().as_str() {
        "CHARACTER VARYING" | "VARCHAR" => "VARCHAR".into(),
        "INT" | "INTEGER" | "INT4" => "INTEGER".into(),
        "BIGINT" | "INT8" => "BIGINT".into(),
        "NUMERIC" | "DECIMAL" => "NUMERIC".into(),
        "TIMESTAMP WITH TIME ZONE" | "TIMESTAMPTZ" => "TIMESTAMPTZ".into(),
        other => other.to_owned(),
    }
}

/// Whether moving a column from `old` to `new` needs no rewrite: a wider
/// varchar, varchar to text, a wider numeric of the same scale
/// (PostgreSQL: binary-coercible; MySQL: in place while the length bytes
/// stay the same, which braid does not judge: only an identical type).
fn same_storage(old: &str, new: &[String], engine: Engine) -> bool {
    let old_words = super::read::tokens(old, crate::migration::split::Lexer::POSTGRES)
        .into_iter()
        .map(|t| t.upper)
        .collect::<Vec<_>>();
    let (ob, os) = base_and_size(&old_words);
    let (nb, ns) = base_and_size(new);
    if engine == Engine::Mysql {
        // An integer's size is a display width, not storage.
        let integer = ob.ends_with("INT") || ob == "INTEGER";
        return ob == nb && (os == ns || integer);
    }
    match (ob.as_str(), nb.as_str()) {
        ("VARCHAR" | "TEXT", "TEXT") => true,
        ("VARCHAR", "VARCHAR") => ns.is_none() || (os.is_some() && ns >= os),
        ("NUMERIC", "NUMERIC") => ns.is_none() || (os.is_some() && ns >= os),
        (a, b) => a == b && os == ns,
    }
}

fn type_change(table: &str, column: &str, new: &[String], ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    let rule = "column-type-change";
    let lock = match ctx.engine {
        Engine::Postgres => "an ACCESS EXCLUSIVE lock",
        // MySQL/MariaDB: a type change is done by copying, writes blocked
        // (ALGORITHM=COPY; "Online DDL Operations", column operations).
        Engine::Mysql => "a table copy that blocks writes",
        Engine::Sqlite => return,
    };
    let new_text = new.join(" ");
    let fix = "expand and contract: add a column of the new type, write both, backfill in batches, move reads, then drop the old column";
    match ctx.column_type(table, column) {
        Some(old) if same_storage(old, new, ctx.engine) => {}
        Some(old) => out.push(Hit::new(
            rule,
            Error,
            Some(table),
            format!("`{table}`.`{column}` goes from {old} to {new_text}: the table is rewritten under {lock}"),
            fix,
        )),
        None => {
            // Unknown old type: only a change to text or an unsized
            // varchar can be free, and only from varchar/text.
            let (nb, ns) = base_and_size(new);
            let maybe_free = ctx.engine == Engine::Postgres
                && (nb == "TEXT" || (nb == "VARCHAR" && ns.is_none()));
            out.push(Hit::new(
                rule,
                if maybe_free { Warning } else { Error },
                Some(table),
                format!("`{table}`.`{column}` becomes {new_text}: unless the storage stays the same, the table is rewritten under {lock} (connect to a database to know its current type)"),
                fix,
            ));
        }
    }
}
