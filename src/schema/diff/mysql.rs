//! MySQL and MariaDB DDL for a diff: columns changed with `MODIFY COLUMN`
//! (and put back in place with `FIRST`/`AFTER`), unique keys as indexes,
//! foreign keys added after every table exists. New tables are the
//! server's own `SHOW CREATE TABLE` text without their foreign keys.

use super::{Model, Phase, Script, TableChange, is_fk, narrows};
use crate::schema::{Column, Constraint, ConstraintKind, Table};

fn quote(ident: &str) -> String {
    format!("`{}`", ident.replace('`', "``"))
}

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

fn column_def(c: &Column) -> String {
    let mut sql = format!("{} {}", quote(&c.name), c.data_type);
    if let Some(g) = &c.generated {
        // `expr STORED` / `expr VIRTUAL`, as introspection keeps it.
        let (expr, kind) = g.rsplit_once(' ').unwrap_or((g, "VIRTUAL"));
        sql.push_str(&format!(" AS ({expr}) {kind}"));
    }
    if let Some(coll) = &c.collation {
        sql.push_str(&format!(" COLLATE {coll}"));
    }
    if c.generated.is_none() {
        sql.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
        if let Some(d) = &c.default {
            sql.push_str(&format!(" DEFAULT {d}"));
        }
    }
    if c.identity.is_some() {
        sql.push_str(" AUTO_INCREMENT");
    }
    if let Some(cm) = &c.comment {
        sql.push_str(&format!(" COMMENT {}", literal(cm)));
    }
    sql
}

/// `FIRST` or `AFTER prev`: where column `name` stands in `t`.
fn place(t: &Table, name: &str) -> String {
    let i = t.columns.iter().position(|c| c.name == name).unwrap_or(0);
    match i {
        0 => " FIRST".to_owned(),
        _ => format!(" AFTER {}", quote(&t.columns[i - 1].name)),
    }
}

/// The server's CREATE TABLE without its foreign keys (added once every
/// table exists).
fn without_foreign_keys(sql: &str) -> String {
    let lines: Vec<&str> = sql
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            !(t.starts_with("CONSTRAINT") && t.contains("FOREIGN KEY"))
        })
        .collect();
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    if let Some(close) = out.iter().rposition(|l| l.starts_with(')'))
        && close > 0
    {
        let prev = out[close - 1].trim_end().trim_end_matches(',').to_owned();
        out[close - 1] = prev;
    }
    out.join("\n")
}

/// A constraint whose name the engine made up is added without one, so
/// the engine picks a free name again (matching is by definition).
fn add_constraint(table: &str, c: &Constraint) -> String {
    match c.kind {
        _ if c.generated_name => format!("ALTER TABLE {} ADD {}", quote(table), c.definition),
        ConstraintKind::PrimaryKey => {
            format!("ALTER TABLE {} ADD {}", quote(table), c.definition)
        }
        _ => format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {}",
            quote(table),
            quote(&c.name),
            c.definition
        ),
    }
}

fn drop_constraint(table: &str, c: &Constraint) -> String {
    let t = quote(table);
    match c.kind {
        ConstraintKind::PrimaryKey => format!("ALTER TABLE {t} DROP PRIMARY KEY"),
        ConstraintKind::Unique => format!("ALTER TABLE {t} DROP INDEX {}", quote(&c.name)),
        ConstraintKind::ForeignKey => {
            format!("ALTER TABLE {t} DROP FOREIGN KEY {}", quote(&c.name))
        }
        ConstraintKind::Check => format!("ALTER TABLE {t} DROP CONSTRAINT {}", quote(&c.name)),
    }
}

fn create_index(table: &str, i: &crate::schema::Index) -> String {
    // FULLTEXT and SPATIAL are kinds of index, written before INDEX; the
    // others (HASH, RTREE) are methods, written after the columns.
    let (kind, method) = match i.method.as_deref() {
        Some(k @ ("FULLTEXT" | "SPATIAL")) => (format!("{k} "), String::new()),
        Some(m) => (String::new(), format!(" USING {m}")),
        None => (String::new(), String::new()),
    };
    format!(
        "CREATE {}{kind}INDEX {} ON {} ({}){method}",
        if i.unique { "UNIQUE " } else { "" },
        quote(&i.name),
        quote(table),
        i.columns,
    )
}

fn changed(c: &TableChange, s: &mut Script) {
    for k in &c.constraints_dropped {
        let phase = if is_fk(k) {
            Phase::DropDependents
        } else {
            Phase::DropIndexes
        };
        s.push(phase, drop_constraint(c.old_name, k));
    }
    // A primary key on an AUTO_INCREMENT column that is dropped goes with
    // it: dropping the key first is refused (the column must stay a key).
    let goes_with_its_column = |pk: &Constraint| {
        c.dropped
            .iter()
            .any(|d| d.identity.is_some() && pk.definition == format!("PRIMARY KEY ({})", d.name))
    };
    if c.pk_changed
        && let Some(pk) = c
            .from
            .primary_key
            .as_ref()
            .filter(|pk| !goes_with_its_column(pk))
    {
        s.push(Phase::DropIndexes, drop_constraint(c.old_name, pk));
    }
    for i in &c.indexes_dropped {
        s.push(
            Phase::DropIndexes,
            format!("DROP INDEX {} ON {}", quote(&i.name), quote(c.old_name)),
        );
    }
    let t = quote(c.name);
    if c.name != c.old_name {
        s.push(
            Phase::Tables,
            format!("RENAME TABLE {} TO {t}", quote(c.old_name)),
        );
    }
    super::rename_and_drop_columns(c, s, quote);
    // The new primary key, until an ALTER takes it along.
    let mut new_key = c.to.primary_key.as_ref().filter(|_| c.pk_changed);
    // Columns in the desired order: added ones in place, the others moved
    // when the order changed.
    for col in &c.to.columns {
        let added = c.added.iter().any(|a| a.name == col.name);
        let from = c
            .altered
            .iter()
            .find(|(_, to)| to.name == col.name)
            .map(|(f, _)| *f);
        if added {
            let mut sql = format!(
                "ALTER TABLE {t} ADD COLUMN {}{}",
                column_def(col),
                place(c.to, &col.name)
            );
            // An AUTO_INCREMENT column must be a key the moment it exists:
            // its primary key comes in the same ALTER.
            if col.identity.is_some()
                && let Some(pk) = new_key.take()
            {
                sql.push_str(&format!(", ADD {}", pk.definition));
            }
            if !col.nullable
                && col.default.is_none()
                && col.identity.is_none()
                && col.generated.is_none()
            {
                s.push_risk(
                    Phase::Tables,
                    sql,
                    format!("adds NOT NULL column {}.{} without a default: existing rows get the type's zero value or fail in strict mode", c.name, col.name),
                );
            } else {
                s.push(Phase::Tables, sql);
            }
            continue;
        }
        if from.is_none() && !c.reordered {
            continue;
        }
        // A regular column made generated: MySQL refuses MODIFY, MariaDB
        // overwrites the values without a word; dropped and added, the
        // loss said.
        if let Some(f) = from.filter(|f| f.generated.is_none() && col.generated.is_some()) {
            s.push_loss(
                Phase::Tables,
                format!("ALTER TABLE {t} DROP COLUMN {}", quote(&f.name)),
                format!(
                    "replaces the values of {}.{} with its generated ones",
                    c.name, col.name
                ),
            );
            s.push(
                Phase::Tables,
                format!(
                    "ALTER TABLE {t} ADD COLUMN {}{}",
                    column_def(col),
                    place(c.to, &col.name)
                ),
            );
            continue;
        }
        let sql = format!(
            "ALTER TABLE {t} MODIFY COLUMN {}{}",
            column_def(col),
            if c.reordered {
                place(c.to, &col.name)
            } else {
                String::new()
            }
        );
        match from {
            Some(f) if f.data_type != col.data_type && narrows(&f.data_type, &col.data_type) => s
                .push_loss(
                    Phase::Tables,
                    sql,
                    format!(
                        "narrows {}.{} from {} to {}",
                        c.name, col.name, f.data_type, col.data_type
                    ),
                ),
            Some(f) if f.nullable && !col.nullable => s.push_risk(
                Phase::Tables,
                sql,
                format!("fails if {}.{} holds NULL", c.name, col.name),
            ),
            _ => s.push(Phase::Tables, sql),
        }
    }
    if let Some(pk) = new_key {
        s.push(Phase::Indexes, add_constraint(c.name, pk));
    }
    for k in c.constraints_added.iter().filter(|k| !is_fk(k)) {
        s.push(Phase::Indexes, add_constraint(c.name, k));
    }
    for i in &c.indexes_added {
        s.push(Phase::Indexes, create_index(c.name, i));
    }
    for k in c.constraints_added.iter().filter(|k| is_fk(k)) {
        s.push(Phase::ForeignKeys, add_constraint(c.name, k));
    }
    if c.comment_changed {
        s.push(
            Phase::Comments,
            format!(
                "ALTER TABLE {t} COMMENT = {}",
                literal(c.to.comment.as_deref().unwrap_or_default())
            ),
        );
    }
}

/// MariaDB sequences created, changed in place, dropped.
fn sequences(m: &Model, s: &mut Script) {
    for (name, q) in &m.to.sequences {
        match m.from.sequences.get(name) {
            None => s.push(Phase::Types, crate::schema::mysql::create_sequence(name, q)),
            Some(old) if old != q => {
                let parts = super::sequence_changes(old, q, "NOCYCLE");
                s.push(
                    Phase::Types,
                    format!("ALTER SEQUENCE {} {}", quote(name), parts.join(" ")),
                );
            }
            Some(_) => {}
        }
    }
    for name in m
        .from
        .sequences
        .keys()
        .filter(|n| !m.to.sequences.contains_key(*n))
    {
        s.push(Phase::Cleanup, format!("DROP SEQUENCE {}", quote(name)));
    }
}

pub(super) fn render(m: &Model, s: &mut Script) {
    sequences(m, s);
    for (name, _) in &m.views_dropped {
        s.push(Phase::DropDependents, format!("DROP VIEW {}", quote(name)));
    }
    for (name, t) in &m.dropped {
        for k in t.constraints.iter().filter(|k| is_fk(k)) {
            s.push(Phase::DropDependents, drop_constraint(name, k));
        }
    }
    let names: Vec<&str> = m.dropped.iter().map(|(n, _)| *n).collect();
    super::drop_tables(&names, s, quote);
    for c in &m.changed {
        changed(c, s);
    }
    for (name, t) in &m.created {
        let sql = t
            .create_sql
            .as_deref()
            .map(without_foreign_keys)
            .unwrap_or_default();
        s.push(Phase::Tables, sql);
        for k in t.constraints.iter().filter(|k| is_fk(k)) {
            s.push(Phase::ForeignKeys, add_constraint(name, k));
        }
    }
    for (_, v) in &m.views_created {
        s.push(Phase::Views, v.create_sql.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_keys_come_out_of_create_table() {
        let sql = "CREATE TABLE `o` (\n  `id` int(11) NOT NULL,\n  `u` int(11) NOT NULL,\n  PRIMARY KEY (`id`),\n  KEY `u` (`u`),\n  CONSTRAINT `o_ibfk_1` FOREIGN KEY (`u`) REFERENCES `users` (`id`)\n) ENGINE=InnoDB";
        assert_eq!(
            without_foreign_keys(sql),
            "CREATE TABLE `o` (\n  `id` int(11) NOT NULL,\n  `u` int(11) NOT NULL,\n  PRIMARY KEY (`id`),\n  KEY `u` (`u`)\n) ENGINE=InnoDB"
        );
    }
}
