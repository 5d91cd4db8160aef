//! SQLite's schema: the `pragma_*` table functions for columns, keys,
//! indexes and foreign keys, and sqlparser on the `CREATE` text SQLite
//! keeps in `sqlite_master` for what no pragma tells (checks, constraint
//! names, collations, AUTOINCREMENT, partial index predicates).

use sqlparser::ast::{ColumnOption, CreateIndex, Statement, TableConstraint};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;

use super::{Column, Constraint, ConstraintKind, Index, Snapshot, Table, View, squash};
use crate::db::{Db, DbError};

fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// What the table's own CREATE text says beyond the pragmas.
#[derive(Default)]
struct Parsed {
    /// (name, definition) of each check.
    checks: Vec<(Option<String>, String)>,
    /// Constraint names by kind and columns (`u:a,b`, `f:a`).
    names: Vec<(String, String)>,
    /// Column collations.
    collations: Vec<(String, String)>,
    /// Generated columns' expressions.
    generated: Vec<(String, String)>,
    ok: bool,
}

fn parse_table(sql: &str) -> Parsed {
    let mut p = Parsed::default();
    let Ok(stmts) = Parser::parse_sql(&SQLiteDialect {}, sql) else {
        return p;
    };
    let Some(Statement::CreateTable(ct)) = stmts.into_iter().next() else {
        return p;
    };
    p.ok = true;
    for c in &ct.columns {
        for opt in &c.options {
            let name = opt.name.as_ref().map(|n| n.value.clone());
            match &opt.option {
                ColumnOption::Check(e) => p.checks.push((name, format!("CHECK ({e})"))),
                ColumnOption::Collation(n) => {
                    p.collations.push((c.name.value.clone(), n.to_string()))
                }
                ColumnOption::Generated {
                    generation_expr: Some(e),
                    ..
                } => p.generated.push((c.name.value.clone(), e.to_string())),
                ColumnOption::Unique { .. } => {
                    if let Some(n) = name {
                        p.names.push((format!("u:{}", c.name.value), n));
                    }
                }
                ColumnOption::ForeignKey { .. } => {
                    if let Some(n) = name {
                        p.names.push((format!("f:{}", c.name.value), n));
                    }
                }
                _ => {}
            }
        }
    }
    for tc in &ct.constraints {
        match tc {
            TableConstraint::Check { name, expr, .. } => p.checks.push((
                name.as_ref().map(|n| n.value.clone()),
                format!("CHECK ({expr})"),
            )),
            TableConstraint::Unique {
                name: Some(n),
                columns,
                ..
            } => {
                let cols: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
                p.names
                    .push((format!("u:{}", cols.join(",")), n.value.clone()));
            }
            TableConstraint::ForeignKey {
                name: Some(n),
                columns,
                ..
            } => {
                let cols: Vec<String> = columns.iter().map(|c| c.value.clone()).collect();
                p.names
                    .push((format!("f:{}", cols.join(",")), n.value.clone()));
            }
            _ => {}
        }
    }
    p
}

fn parse_index(sql: &str) -> Option<CreateIndex> {
    match Parser::parse_sql(&SQLiteDialect {}, sql)
        .ok()?
        .into_iter()
        .next()?
    {
        Statement::CreateIndex(ci) => Some(ci),
        _ => None,
    }
}

pub(super) async fn introspect(
    db: &mut Db,
    keep: &dyn Fn(&str) -> bool,
    cache: &mut super::Cache,
) -> Result<Snapshot, DbError> {
    let mut snap = Snapshot {
        engine: "sqlite".into(),
        ..Snapshot::default()
    };
    let objects = db
        .text_rows(
            "SELECT type, name, tbl_name, sql FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite_%' AND sql IS NOT NULL ORDER BY name",
            &[],
        )
        .await?;
    // Each table's indexes' text, for the cache key.
    let mut index_sql: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
    for i in objects.iter().filter(|i| i[0].as_deref() == Some("index")) {
        let entry = index_sql
            .entry(i[2].as_deref().unwrap_or_default())
            .or_default();
        entry.push('\0');
        entry.push_str(i[3].as_deref().unwrap_or_default());
    }
    for o in objects.iter().filter(|o| text(&o[0]) == "table") {
        let name = text(&o[1]);
        if !keep(&name) {
            continue;
        }
        let sql = text(&o[3]);
        // Everything read of a table follows from its CREATE TABLE and its
        // indexes' CREATE INDEX: a table whose texts did not change since
        // the cache read it is not read again.
        let key = format!(
            "{name}\0{sql}{}",
            index_sql.get(name.as_str()).map_or("", String::as_str)
        );
        let table = match cache.sqlite_tables.get(&key) {
            Some(t) => t.clone(),
            None => {
                let t = table(db, &name, &sql, &objects).await?;
                cache.sqlite_tables.insert(key, t.clone());
                t
            }
        };
        snap.tables.insert(name, table);
    }
    for o in objects.iter().filter(|o| text(&o[0]) == "trigger") {
        snap.unsupported.push(format!(
            "trigger {} on {} (not read)",
            text(&o[1]),
            text(&o[2])
        ));
    }
    for o in objects.iter().filter(|o| text(&o[0]) == "view") {
        let sql = text(&o[3]);
        snap.views.insert(
            text(&o[1]),
            View {
                definition: squash(&sql),
                comment: None,
                create_sql: sql,
            },
        );
    }
    Ok(snap)
}

async fn table(
    db: &mut Db,
    name: &str,
    sql: &str,
    objects: &[Vec<Option<String>>],
) -> Result<Table, DbError> {
    let parsed = parse_table(sql);
    let autoincrement = sql.to_ascii_uppercase().contains("AUTOINCREMENT");
    let cols = db
        .text_rows(
            "SELECT CAST(cid AS TEXT), name, type, CAST(\"notnull\" AS TEXT), dflt_value, \
             CAST(pk AS TEXT), CAST(hidden AS TEXT) FROM pragma_table_xinfo(?) ORDER BY cid",
            &[name],
        )
        .await?;
    let mut t = Table {
        create_sql: Some(sql.to_owned()),
        ..Table::default()
    };
    let mut pk: Vec<(usize, String)> = Vec::new();
    for (i, c) in cols.iter().enumerate() {
        let col = text(&c[1]);
        let pk_pos: usize = text(&c[5]).parse().unwrap_or(0);
        if pk_pos > 0 {
            pk.push((pk_pos, col.clone()));
        }
        let expression = parsed
            .generated
            .iter()
            .find(|(n, _)| *n == col)
            .map(|(_, e)| format!("{e} "))
            .unwrap_or_default();
        let generated = match text(&c[6]).as_str() {
            "2" => Some(format!("{expression}VIRTUAL")),
            "3" => Some(format!("{expression}STORED")),
            _ => None,
        };
        t.columns.push(Column {
            identity_options: None,
            position: i + 1,
            data_type: text(&c[2]),
            nullable: text(&c[3]) == "0",
            default: c[4].clone(),
            identity: (autoincrement && pk_pos > 0).then(|| "autoincrement".to_owned()),
            generated,
            collation: parsed
                .collations
                .iter()
                .find(|(n, _)| *n == col)
                .map(|(_, c)| c.clone()),
            comment: None,
            name: col,
        });
    }
    pk.sort();
    if !pk.is_empty() {
        let cols: Vec<String> = pk.into_iter().map(|p| p.1).collect();
        t.primary_key = Some(Constraint {
            comment: None,
            name: format!("{name}_pkey"),
            generated_name: true,
            kind: ConstraintKind::PrimaryKey,
            definition: format!("PRIMARY KEY ({})", cols.join(", ")),
        });
    }
    let named = |key: String| {
        parsed
            .names
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, n)| n.clone())
    };
    // Foreign keys, one per id, columns in order.
    let fks = db
        .text_rows(
            "SELECT CAST(id AS TEXT), \"table\", \"from\", \"to\", on_update, on_delete \
             FROM pragma_foreign_key_list(?) ORDER BY id, seq",
            &[name],
        )
        .await?;
    let mut i = 0;
    while i < fks.len() {
        let id = text(&fks[i][0]);
        let group: Vec<&Vec<Option<String>>> =
            fks[i..].iter().take_while(|r| text(&r[0]) == id).collect();
        i += group.len();
        let from: Vec<String> = group.iter().map(|r| text(&r[2])).collect();
        let to: Vec<String> = group.iter().map(|r| text(&r[3])).collect();
        let mut def = format!(
            "FOREIGN KEY ({}) REFERENCES {}({})",
            from.join(", "),
            text(&group[0][1]),
            to.join(", ")
        );
        for (what, action) in [
            ("UPDATE", text(&group[0][4])),
            ("DELETE", text(&group[0][5])),
        ] {
            if action != "NO ACTION" {
                def.push_str(&format!(" ON {what} {action}"));
            }
        }
        let name = named(format!("f:{}", from.join(",")));
        t.constraints.push(Constraint {
            comment: None,
            generated_name: name.is_none(),
            name: name.unwrap_or_else(|| format!("fk_{}", from.join("_"))),
            kind: ConstraintKind::ForeignKey,
            definition: def,
        });
    }
    if parsed.ok {
        for (n, def) in &parsed.checks {
            t.constraints.push(Constraint {
                comment: None,
                generated_name: n.is_none(),
                name: n.clone().unwrap_or_else(|| "check".into()),
                kind: ConstraintKind::Check,
                definition: def.clone(),
            });
        }
    } else {
        // sqlparser could not read this table's text: its checks and names
        // are compared as the whole text, never silently left out.
        t.constraints.push(Constraint {
            comment: None,
            name: "(table text sqlparser cannot read)".into(),
            generated_name: false,
            kind: ConstraintKind::Check,
            definition: squash(sql),
        });
    }
    let list = db
        .text_rows(
            "SELECT name, CAST(\"unique\" AS TEXT), origin FROM pragma_index_list(?)",
            &[name],
        )
        .await?;
    for ix in list {
        let ix_name = text(&ix[0]);
        let origin = text(&ix[2]);
        if origin == "pk" {
            continue;
        }
        let cols = db
            .text_rows(
                "SELECT name FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno",
                &[&ix_name],
            )
            .await?;
        let cols: Vec<String> = cols.iter().map(|c| text(&c[0])).collect();
        if origin == "u" {
            let name = named(format!("u:{}", cols.join(",")));
            t.constraints.push(Constraint {
                comment: None,
                generated_name: name.is_none(),
                name: name.unwrap_or(ix_name),
                kind: ConstraintKind::Unique,
                definition: format!("UNIQUE ({})", cols.join(", ")),
            });
            continue;
        }
        let sql = objects
            .iter()
            .find(|o| text(&o[1]) == ix_name)
            .map(|o| text(&o[3]))
            .unwrap_or_default();
        let (columns, predicate) = match parse_index(&sql) {
            Some(ci) => (
                ci.columns
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                ci.predicate.map(|p| p.to_string()),
            ),
            None => (squash(&sql), None),
        };
        t.indexes.push(Index {
            comment: None,
            name: ix_name,
            generated_name: false,
            unique: text(&ix[1]) == "1",
            columns,
            predicate,
            method: None,
            create_sql: sql,
        });
    }
    Ok(t)
}

/// SQLite keeps each object's CREATE text: tables, then indexes, then
/// views, as written.
pub(super) fn render(s: &Snapshot) -> String {
    let mut out = String::new();
    for t in s.tables.values() {
        if let Some(sql) = &t.create_sql {
            out.push_str(sql.trim_end());
            out.push_str(";\n\n");
        }
    }
    for t in s.tables.values() {
        for i in &t.indexes {
            out.push_str(i.create_sql.trim_end());
            out.push_str(";\n");
        }
    }
    for (_, v) in crate::schema::diff::views_in_order(&s.views) {
        out.push_str(v.create_sql.trim_end());
        out.push_str(";\n\n");
    }
    out
}
