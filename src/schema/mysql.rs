//! MySQL and MariaDB: `information_schema` for the current database, and
//! `SHOW CREATE TABLE` for the SQL form (the only text the server gives
//! back whole). Texts that name the database (view definitions) have the
//! name taken out, since a scratch database has another name.

use super::{Column, Constraint, ConstraintKind, Index, Sequence, Snapshot, Table, View, squash};
use crate::db::{Db, DbError};

fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

const TABLES: &str = "
SELECT CAST(TABLE_NAME AS CHAR), CAST(TABLE_COMMENT AS CHAR), CAST(TABLE_COLLATION AS CHAR)
FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'
ORDER BY 1";

/// MariaDB's sequences (10.3+), tables of a kind of their own.
const SEQUENCES: &str = "
SELECT CAST(TABLE_NAME AS CHAR)
FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'SEQUENCE'
ORDER BY 1";

const COLUMNS: &str = "
SELECT CAST(c.TABLE_NAME AS CHAR), CAST(c.COLUMN_NAME AS CHAR), CAST(c.COLUMN_TYPE AS CHAR),
       CAST(c.IS_NULLABLE AS CHAR), CAST(c.COLUMN_DEFAULT AS CHAR), CAST(c.EXTRA AS CHAR),
       CAST(c.GENERATION_EXPRESSION AS CHAR),
       CAST(CASE WHEN c.COLLATION_NAME <> t.TABLE_COLLATION THEN c.COLLATION_NAME END AS CHAR),
       CAST(c.COLUMN_COMMENT AS CHAR)
FROM information_schema.COLUMNS c
JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE'
ORDER BY 1, c.ORDINAL_POSITION";

const INDEXES: &str = "
SELECT CAST(TABLE_NAME AS CHAR), CAST(INDEX_NAME AS CHAR), CAST(NON_UNIQUE AS CHAR),
       CAST(COLUMN_NAME AS CHAR), CAST(SUB_PART AS CHAR), CAST(INDEX_TYPE AS CHAR),
       CAST(COLLATION AS CHAR)
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY 1, 2, SEQ_IN_INDEX";

const FOREIGN_KEYS: &str = "
SELECT CAST(k.TABLE_NAME AS CHAR), CAST(k.CONSTRAINT_NAME AS CHAR), CAST(k.COLUMN_NAME AS CHAR),
       CAST(k.REFERENCED_TABLE_NAME AS CHAR), CAST(k.REFERENCED_COLUMN_NAME AS CHAR),
       CAST(r.UPDATE_RULE AS CHAR), CAST(r.DELETE_RULE AS CHAR)
FROM information_schema.KEY_COLUMN_USAGE k
JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
 AND r.TABLE_NAME = k.TABLE_NAME
WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY 1, 2, k.ORDINAL_POSITION";

const CHECKS: &str = "
SELECT CAST(TABLE_NAME AS CHAR), CAST(CONSTRAINT_NAME AS CHAR), CAST(CHECK_CLAUSE AS CHAR)
FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE()
ORDER BY 1, 2";

const VIEWS: &str = "
SELECT CAST(TABLE_NAME AS CHAR), CAST(VIEW_DEFINITION AS CHAR)
FROM information_schema.VIEWS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY 1";

fn quote(ident: &str) -> String {
    format!("`{}`", ident.replace('`', "``"))
}

pub(super) async fn introspect(db: &mut Db) -> Result<Snapshot, DbError> {
    let database = db
        .text_rows("SELECT CAST(DATABASE() AS CHAR)", &[])
        .await?
        .into_iter()
        .next()
        .and_then(|r| r[0].clone())
        .unwrap_or_default();
    let mut snap = Snapshot {
        engine: "mysql".into(),
        ..Snapshot::default()
    };
    for r in db.text_rows(TABLES, &[]).await? {
        snap.tables.insert(
            text(&r[0]),
            Table {
                comment: r[1].clone().filter(|c| !c.is_empty()),
                ..Table::default()
            },
        );
    }
    // A MariaDB sequence is read as a one-row table of its settings.
    for r in db.text_rows(SEQUENCES, &[]).await? {
        let name = text(&r[0]);
        let sql = format!(
            "SELECT CAST(start_value AS CHAR), CAST(increment AS CHAR), CAST(minimum_value AS CHAR), \
             CAST(maximum_value AS CHAR), CAST(cycle_option AS CHAR) FROM {}",
            quote(&name)
        );
        if let Some(v) = db.text_rows(&sql, &[]).await?.into_iter().next() {
            snap.sequences.insert(
                name,
                Sequence {
                    data_type: "bigint".into(),
                    start: text(&v[0]),
                    increment: text(&v[1]),
                    min: text(&v[2]),
                    max: text(&v[3]),
                    cycle: text(&v[4]) == "1",
                    owned_by: None,
                },
            );
        }
    }
    for r in db.text_rows(COLUMNS, &[]).await? {
        let Some(t) = snap.tables.get_mut(&text(&r[0])) else {
            continue;
        };
        let extra = text(&r[5]).to_lowercase();
        let generation = text(&r[6]);
        let mut default = r[4].clone();
        // MariaDB says NULL for "no default" on a nullable column.
        if default.as_deref() == Some("NULL") {
            default = None;
        }
        if let Some(on_update) = extra.find("on update ") {
            let clause = extra[on_update..].to_uppercase();
            default = Some(format!("{} {clause}", default.unwrap_or_default()));
        }
        t.columns.push(Column {
            identity_options: None,
            name: text(&r[1]),
            position: t.columns.len() + 1,
            data_type: text(&r[2]),
            nullable: text(&r[3]) == "YES",
            default: if generation.is_empty() { default } else { None },
            identity: extra
                .contains("auto_increment")
                .then(|| "autoincrement".to_owned()),
            generated: (!generation.is_empty()).then(|| {
                let kind = if extra.contains("stored") || extra.contains("persistent") {
                    "STORED"
                } else {
                    "VIRTUAL"
                };
                format!("{generation} {kind}")
            }),
            collation: r[7].clone(),
            comment: r[8].clone().filter(|c| !c.is_empty()),
        });
    }
    // Foreign keys first: the index MySQL adds for one is part of it.
    let fk_rows = db.text_rows(FOREIGN_KEYS, &[]).await?;
    let mut fk_columns: Vec<(String, String, Vec<String>)> = Vec::new();
    let mut i = 0;
    while i < fk_rows.len() {
        let (table, name) = (text(&fk_rows[i][0]), text(&fk_rows[i][1]));
        let group: Vec<&Vec<Option<String>>> = fk_rows[i..]
            .iter()
            .take_while(|r| text(&r[0]) == table && text(&r[1]) == name)
            .collect();
        i += group.len();
        let from: Vec<String> = group.iter().map(|r| text(&r[2])).collect();
        let to: Vec<String> = group.iter().map(|r| text(&r[4])).collect();
        let mut def = format!(
            "FOREIGN KEY ({}) REFERENCES {}({})",
            from.join(", "),
            text(&group[0][3]),
            to.join(", ")
        );
        for (what, rule) in [
            ("UPDATE", text(&group[0][5])),
            ("DELETE", text(&group[0][6])),
        ] {
            if rule != "RESTRICT" && rule != "NO ACTION" {
                def.push_str(&format!(" ON {what} {rule}"));
            }
        }
        fk_columns.push((table.clone(), name.clone(), from));
        if let Some(t) = snap.tables.get_mut(&table) {
            t.constraints.push(Constraint {
                comment: None,
                generated_name: name.starts_with(&format!("{table}_ibfk_")),
                name,
                kind: ConstraintKind::ForeignKey,
                definition: def,
            });
        }
    }
    let ix_rows = db.text_rows(INDEXES, &[]).await?;
    let mut i = 0;
    while i < ix_rows.len() {
        let (table, name) = (text(&ix_rows[i][0]), text(&ix_rows[i][1]));
        let group: Vec<&Vec<Option<String>>> = ix_rows[i..]
            .iter()
            .take_while(|r| text(&r[0]) == table && text(&r[1]) == name)
            .collect();
        i += group.len();
        let Some(t) = snap.tables.get_mut(&table) else {
            continue;
        };
        let names: Vec<String> = group.iter().map(|r| text(&r[3])).collect();
        // A SPATIAL index reports a key length (32) it does not accept back.
        let whole = matches!(text(&group[0][5]).as_str(), "SPATIAL" | "FULLTEXT");
        let cols: Vec<String> = group
            .iter()
            .map(|r| {
                let mut c = text(&r[3]);
                if let Some(n) = r[4].as_ref().filter(|_| !whole) {
                    c.push_str(&format!("({n})"));
                }
                if text(&r[6]) == "D" {
                    c.push_str(" DESC");
                }
                c
            })
            .collect();
        let unique = text(&group[0][2]) == "0";
        let method = text(&group[0][5]);
        if name == "PRIMARY" {
            t.primary_key = Some(Constraint {
                comment: None,
                name,
                generated_name: true,
                kind: ConstraintKind::PrimaryKey,
                definition: format!("PRIMARY KEY ({})", cols.join(", ")),
            });
        } else if unique {
            // An unnamed unique key is named after its first column.
            let first = names.first().cloned().unwrap_or_default();
            let generated = name == first
                || name
                    .strip_prefix(&format!("{first}_"))
                    .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
            t.constraints.push(Constraint {
                comment: None,
                name,
                generated_name: generated,
                kind: ConstraintKind::Unique,
                definition: format!("UNIQUE ({})", cols.join(", ")),
            });
        } else {
            // MySQL makes an index for a foreign key that has none, named
            // after the key or its first column: matched by definition.
            let for_fk = fk_columns.iter().any(|(ft, fname, fcols)| {
                *ft == table && *fcols == names && (*fname == name || fcols[0] == name)
            });
            t.indexes.push(Index {
                comment: None,
                name,
                generated_name: for_fk,
                unique,
                columns: cols.join(", "),
                predicate: None,
                method: (method != "BTREE").then_some(method),
                create_sql: String::new(),
            });
        }
    }
    for r in db.text_rows(CHECKS, &[]).await? {
        let table = text(&r[0]);
        let Some(t) = snap.tables.get_mut(&table) else {
            continue;
        };
        let name = text(&r[1]);
        // MariaDB names a column's check after the column, an unnamed
        // table check CONSTRAINT_n; MySQL uses t_chk_n.
        let generated = t.columns.iter().any(|c| c.name == name)
            || name
                .strip_prefix("CONSTRAINT_")
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
            || name.starts_with(&format!("{table}_chk_"));
        t.constraints.push(Constraint {
            comment: None,
            name,
            generated_name: generated,
            kind: ConstraintKind::Check,
            definition: format!("CHECK ({})", text(&r[2])),
        });
    }
    let qualifier = format!("{}.", quote(&database));
    for r in db.text_rows(VIEWS, &[]).await? {
        let name = text(&r[0]);
        let def = text(&r[1]).replace(&qualifier, "");
        snap.views.insert(
            name.clone(),
            View {
                definition: squash(&def),
                comment: None,
                create_sql: format!("CREATE VIEW {} AS {def}", quote(&name)),
            },
        );
    }
    for r in db
        .text_rows(
            "SELECT CAST(CONCAT('trigger ', TRIGGER_NAME, ' on ', EVENT_OBJECT_TABLE, ' (not read)') AS CHAR) \
             FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() \
             UNION ALL SELECT CAST(CONCAT(LOWER(ROUTINE_TYPE), ' ', ROUTINE_NAME, ' (not read)') AS CHAR) \
             FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()",
            &[],
        )
        .await?
    {
        snap.unsupported.push(text(&r[0]));
    }
    let names: Vec<String> = snap.tables.keys().cloned().collect();
    for name in names {
        let rows = db
            .text_rows(&format!("SHOW CREATE TABLE {}", quote(&name)), &[])
            .await?;
        let sql = rows.first().and_then(|r| r.get(1).cloned().flatten());
        if let (Some(t), Some(sql)) = (snap.tables.get_mut(&name), sql) {
            t.create_sql = Some(without_auto_increment_counter(&sql));
        }
    }
    Ok(snap)
}

/// `CREATE SEQUENCE` (MariaDB) with every setting spelled out.
pub(super) fn create_sequence(name: &str, q: &Sequence) -> String {
    format!(
        "CREATE SEQUENCE {} START WITH {} MINVALUE {} MAXVALUE {} INCREMENT BY {} {}",
        quote(name),
        q.start,
        q.min,
        q.max,
        q.increment,
        if q.cycle { "CYCLE" } else { "NOCYCLE" }
    )
}

/// `… ) ENGINE=InnoDB AUTO_INCREMENT=42 …`: the counter is data, not schema.
fn without_auto_increment_counter(sql: &str) -> String {
    match sql.rfind(" AUTO_INCREMENT=") {
        Some(at) if !sql[at..].contains('\n') => {
            let rest = &sql[at + " AUTO_INCREMENT=".len()..];
            let end = rest.find(' ').unwrap_or(rest.len());
            format!("{}{}", &sql[..at], &rest[end..])
        }
        _ => sql.to_owned(),
    }
}

/// The tables as the server prints them, foreign key checks off while
/// they are created (they may reference each other in any order), then
/// the views.
pub(super) fn render(s: &Snapshot) -> String {
    let mut out = String::from("SET FOREIGN_KEY_CHECKS = 0;\n\n");
    for t in s.tables.values() {
        if let Some(sql) = &t.create_sql {
            out.push_str(sql.trim_end());
            out.push_str(";\n\n");
        }
    }
    out.push_str("SET FOREIGN_KEY_CHECKS = 1;\n");
    for (name, q) in &s.sequences {
        out.push_str(&format!("{};\n", create_sequence(name, q)));
    }
    for (_, v) in crate::schema::diff::views_in_order(&s.views) {
        out.push_str(&format!("{};\n", v.create_sql));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_auto_increment_counter_is_not_schema() {
        assert_eq!(
            without_auto_increment_counter(
                "CREATE TABLE `t` (\n  `id` int\n) ENGINE=InnoDB AUTO_INCREMENT=42 DEFAULT CHARSET=utf8mb4"
            ),
            "CREATE TABLE `t` (\n  `id` int\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
        );
    }
}
