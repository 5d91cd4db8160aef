//! SQLite's DDL for a diff. `ALTER TABLE` does little in SQLite: renames,
//! a plain `ADD COLUMN`, a `DROP COLUMN` nothing else names. Everything
//! else goes through SQLite's documented table rebuild
//! (sqlite.org/lang_altertable.html, "other kinds of table schema
//! changes"): create the new shape under a temporary name, copy the rows,
//! drop the old table, rename the new one, make its indexes and the views
//! over it again. The old table is not renamed away first, which would
//! carry the temporary name into other tables' foreign keys.
//!
//! Dropping the old table deletes its rows, which with foreign keys on
//! would cascade into child tables, and `PRAGMA foreign_keys = OFF` does
//! nothing inside a transaction: the script says `PRAGMA foreign_keys =
//! OFF` first, and braid's executor turns foreign keys off before BEGIN
//! for such a revision and checks them (`PRAGMA foreign_key_check`)
//! before COMMIT.

use super::{Model, Phase, Script, TableChange, is_fk};
use crate::schema::{Column, Table};

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// The items between a CREATE TABLE's outer parentheses (columns and
/// table constraints), as written.
fn items(create: &str) -> Vec<&str> {
    let Some(open) = create.find('(') else {
        return Vec::new();
    };
    let bytes = create.as_bytes();
    let mut out = Vec::new();
    let (mut depth, mut start, mut quote) = (0, open + 1, None::<u8>);
    for i in open + 1..bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'\'' | b'"' | b'`' => quote = Some(b),
                b'(' => depth += 1,
                b')' if depth == 0 => {
                    out.push(create[start..i].trim());
                    return out;
                }
                b')' => depth -= 1,
                b',' if depth == 0 => {
                    out.push(create[start..i].trim());
                    start = i + 1;
                }
                _ => {}
            },
        }
    }
    out
}

/// The column's definition as the desired CREATE TABLE wrote it (SQLite
/// keeps the declared type's spelling, so it must stay as written).
fn column_text(t: &Table, c: &Column) -> String {
    let create = t.create_sql.as_deref().unwrap_or_default();
    for item in items(create) {
        // Comments (a rename annotation) end at the line's end.
        let item: String = item
            .lines()
            .map(|l| l.split("--").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(" ");
        let first = item.split_whitespace().next().unwrap_or_default();
        let name = first.trim_matches(|ch| ch == '"' || ch == '`' || ch == '[' || ch == ']');
        if name.eq_ignore_ascii_case(&c.name) {
            return item.trim().to_owned();
        }
    }
    let mut sql = format!("{} {}", quote(&c.name), c.data_type);
    if !c.nullable {
        sql.push_str(" NOT NULL");
    }
    if let Some(d) = &c.default {
        sql.push_str(&format!(" DEFAULT {d}"));
    }
    sql
}

/// Whether `ALTER TABLE … ADD COLUMN` can add `c` (sqlite.org lists what
/// it cannot).
fn addable(c: &Column) -> bool {
    let d = c.default.as_deref().unwrap_or_default().to_uppercase();
    let expression_default = d.starts_with('(') || d.starts_with("CURRENT_");
    !expression_default
        && (c.nullable || c.default.is_some())
        && c.generated
            .as_deref()
            .is_none_or(|g| g.ends_with("VIRTUAL"))
}

/// Whether `ALTER TABLE … DROP COLUMN` can drop `c`: nothing else in the
/// old table names it.
fn droppable(t: &Table, c: &Column) -> bool {
    let named = |text: &str| super::replace_word(text, &c.name, "\u{0}") != text;
    c.generated.is_none()
        && !t.primary_key.as_ref().is_some_and(|p| named(&p.definition))
        && !t.constraints.iter().any(|k| named(&k.definition))
        && !t
            .indexes
            .iter()
            .any(|i| named(&i.columns) || i.predicate.as_deref().is_some_and(named))
}

fn in_place(c: &TableChange) -> bool {
    c.altered.is_empty()
        && !c.pk_changed
        && c.constraints_dropped.is_empty()
        && c.constraints_added.is_empty()
        && c.added.iter().all(|a| addable(a))
        && c.dropped.iter().all(|d| droppable(c.from, d))
}

fn alter(c: &TableChange, s: &mut Script) {
    let old = quote(c.old_name);
    let t = quote(c.name);
    for i in &c.indexes_dropped {
        s.push(Phase::DropIndexes, format!("DROP INDEX {}", quote(&i.name)));
    }
    if c.name != c.old_name {
        s.push(Phase::Tables, format!("ALTER TABLE {old} RENAME TO {t}"));
    }
    super::rename_and_drop_columns(c, s, quote);
    for a in &c.added {
        s.push(
            Phase::Tables,
            format!("ALTER TABLE {t} ADD COLUMN {}", column_text(c.to, a)),
        );
    }
    for i in &c.indexes_added {
        s.push(Phase::Indexes, i.create_sql.clone());
    }
}

fn rebuild(c: &TableChange, s: &mut Script) {
    let Some(create) = c.to.create_sql.as_deref() else {
        s.unsupported.push(format!(
            "table {}: no CREATE text to rebuild it from",
            c.name
        ));
        return;
    };
    let Some(open) = create.find('(') else {
        s.unsupported
            .push(format!("table {}: cannot read its CREATE text", c.name));
        return;
    };
    let temp = quote(&format!("_braid_new_{}", c.name));
    s.push(
        Phase::Tables,
        format!("CREATE TABLE {temp} {}", &create[open..]),
    );
    let pairs: Vec<(String, String)> =
        c.to.columns
            .iter()
            .filter(|col| col.generated.is_none())
            .filter_map(|col| {
                let src = c.source_of(&col.name)?;
                let from = c.from.columns.iter().find(|f| f.name == src)?;
                from.generated
                    .is_none()
                    .then(|| (quote(&col.name), quote(src)))
            })
            .collect();
    let (into, select): (Vec<String>, Vec<String>) = pairs.into_iter().unzip();
    let copy = format!(
        "INSERT INTO {temp} ({}) SELECT {} FROM {}",
        into.join(", "),
        select.join(", "),
        quote(c.old_name)
    );
    let tightened: Vec<&str> = c
        .altered
        .iter()
        .filter(|(f, t)| f.nullable && !t.nullable)
        .map(|(_, t)| t.name.as_str())
        .collect();
    if tightened.is_empty() {
        s.push(Phase::Tables, copy);
    } else {
        s.push_risk(
            Phase::Tables,
            copy,
            format!("fails if {}.{} holds NULL", c.name, tightened.join(", ")),
        );
    }
    let lost: Vec<String> = c
        .dropped
        .iter()
        .map(|d| format!("{}.{}", c.name, d.name))
        .collect();
    let drop = format!("DROP TABLE {}", quote(c.old_name));
    if lost.is_empty() {
        s.push(Phase::Tables, drop);
    } else {
        s.push_loss(
            Phase::Tables,
            drop,
            format!(
                "drops column {} and its values (the table is rebuilt without it)",
                lost.join(", ")
            ),
        );
    }
    s.push(
        Phase::Tables,
        format!("ALTER TABLE {temp} RENAME TO {}", quote(c.name)),
    );
    for i in &c.to.indexes {
        s.push(Phase::Indexes, i.create_sql.clone());
    }
}

pub(super) fn render(m: &Model, s: &mut Script) {
    let rebuilt: Vec<&TableChange> = m.changed.iter().filter(|c| !in_place(c)).collect();
    // Views over a rebuilt table are made again: renaming the new table
    // into place fails while a view names a table that is gone.
    let mut views_dropped = m.views_dropped.clone();
    let mut views_created = m.views_created.clone();
    for (name, v) in &m.from.views {
        let over = rebuilt
            .iter()
            .any(|c| super::mentions(v, c.old_name) || super::mentions(v, c.name));
        if over && !views_dropped.iter().any(|(n, _)| n == name) {
            views_dropped.push((name, v));
            if let Some((n, w)) = m.to.views.get_key_value(name) {
                views_created.push((n, w));
            }
        }
    }
    super::dependency_order(&mut views_dropped, true);
    super::dependency_order(&mut views_created, false);
    if !rebuilt.is_empty() {
        s.push(Phase::Prelude, "PRAGMA foreign_keys = OFF");
        s.push(Phase::Postlude, "PRAGMA foreign_keys = ON");
    }
    for (name, _) in &views_dropped {
        s.push(Phase::DropDependents, format!("DROP VIEW {}", quote(name)));
    }
    // Children before their parents: a parent's DROP deletes its rows.
    let mut dropped = m.dropped.clone();
    dropped.sort_by_key(|(name, _)| {
        m.dropped.iter().any(|(_, other)| {
            other
                .constraints
                .iter()
                .any(|k| is_fk(k) && k.definition.contains(&format!("REFERENCES {name}(")))
        })
    });
    let names: Vec<&str> = dropped.iter().map(|(n, _)| *n).collect();
    super::drop_tables(&names, s, quote);
    for c in &m.changed {
        if in_place(c) {
            alter(c, s);
        } else {
            rebuild(c, s);
        }
    }
    for (_, t) in &m.created {
        if let Some(sql) = &t.create_sql {
            s.push(Phase::Tables, sql.clone());
        }
        for i in &t.indexes {
            s.push(Phase::Indexes, i.create_sql.clone());
        }
    }
    for (_, v) in &views_created {
        s.push(Phase::Views, v.create_sql.clone());
    }
}
