//! PostgreSQL's schema, from `pg_catalog` with the server's own
//! deparsers (`format_type`, `pg_get_expr`, `pg_get_constraintdef`,
//! `pg_get_indexdef`, `pg_get_viewdef`), for one schema. Connections have
//! that schema first on the search path, so definitions name its objects
//! without a schema and a scratch database compares equal to the real one.

use std::collections::BTreeMap;

use super::{
    Column, Constraint, ConstraintKind, Domain, Index, Sequence, Snapshot, Table, View, squash,
};
use crate::db::{Db, DbError};

fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// Whether PostgreSQL would have chosen `name` itself for a constraint of
/// `kind` on `table` (`users_pkey`, `users_email_key`, `orders_user_id_fkey`,
/// `users_age_check`, with a number when taken; cut to 63 bytes).
fn generated(table: &str, name: &str, kind: ConstraintKind) -> bool {
    let base = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let suffix = match kind {
        ConstraintKind::PrimaryKey => return base == format!("{table}_pkey") || name.len() == 63,
        ConstraintKind::Unique => "_key",
        ConstraintKind::ForeignKey => "_fkey",
        ConstraintKind::Check => "_check",
    };
    let prefix = &table[..table.len().min(28)];
    base.ends_with(suffix) && name.starts_with(prefix)
}

const TABLES: &str = "
SELECT c.relname::text, ds.description
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_description ds
  ON ds.objoid = c.oid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1";

const COLUMNS: &str = "
SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod),
       (NOT a.attnotnull)::text, pg_get_expr(d.adbin, d.adrelid, true),
       a.attidentity::text, a.attgenerated::text,
       CASE WHEN a.attcollation <> t.typcollation THEN co.collname::text END,
       dc.description,
       CASE WHEN a.attidentity <> '' THEN
         (SELECT concat_ws(',', s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle)
          FROM pg_sequence s
          WHERE s.seqrelid = pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname)::regclass)
       END
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_description dc
  ON dc.objoid = c.oid AND dc.classoid = 'pg_class'::regclass AND dc.objsubid = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY 1, a.attnum";

const CONSTRAINTS: &str = "
SELECT c.relname::text, k.conname::text, k.contype::text, pg_get_constraintdef(k.oid, true),
       dk.description
FROM pg_constraint k
LEFT JOIN pg_description dk
  ON dk.objoid = k.oid AND dk.classoid = 'pg_constraint'::regclass AND dk.objsubid = 0
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND k.contype IN ('p', 'u', 'f', 'c', 'x')
ORDER BY 1, 2";

const INDEXES: &str = "
SELECT t.relname::text, i.relname::text, ix.indisunique::text,
       pg_get_indexdef(ix.indexrelid, 0, true),
       pg_get_expr(ix.indpred, ix.indrelid, true), am.amname::text, di.description
FROM pg_index ix
LEFT JOIN pg_description di
  ON di.objoid = ix.indexrelid AND di.classoid = 'pg_class'::regclass AND di.objsubid = 0
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = i.relam
WHERE n.nspname = $1 AND t.relkind IN ('r', 'p', 'm')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                  WHERE k.conindid = ix.indexrelid AND k.conrelid = ix.indrelid
                    AND k.contype IN ('p', 'u', 'x'))
ORDER BY 1, 2";

const VIEWS: &str = "
SELECT c.relname::text, pg_get_viewdef(c.oid, true), obj_description(c.oid, 'pg_class'),
       c.relkind::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('v', 'm')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1";

const SEQUENCES: &str = "
SELECT c.relname::text, format_type(s.seqtypid, NULL), s.seqstart::text, s.seqincrement::text,
       s.seqmin::text, s.seqmax::text, s.seqcycle::text,
       (SELECT t.relname || '.' || a.attname FROM pg_depend d
          JOIN pg_class t ON t.oid = d.refobjid
          JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
        WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.deptype = 'a' LIMIT 1)
FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('i', 'e'))
ORDER BY 1";

const ENUMS: &str = "
SELECT t.typname::text, e.enumlabel::text
FROM pg_type t
JOIN pg_enum e ON e.enumtypid = t.oid
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = $1
ORDER BY 1, e.enumsortorder";

const TYPE_COMMENTS: &str = "
SELECT t.typname::text, obj_description(t.oid, 'pg_type')
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = $1 AND t.typtype IN ('e', 'd') AND obj_description(t.oid, 'pg_type') IS NOT NULL
ORDER BY 1";

/// What braid does not read: triggers, routines, policies.
const UNSUPPORTED: &str = "
SELECT 'trigger ' || t.tgname || ' on ' || c.relname || ' (not read)'
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND NOT t.tgisinternal
UNION ALL
SELECT 'function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') (not read)'
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = $1
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT 'policy ' || pol.polname || ' on ' || c.relname || ' (not read)'
FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1";

const DOMAINS: &str = "
SELECT t.typname::text, format_type(t.typbasetype, t.typtypmod), (NOT t.typnotnull)::text,
       t.typdefault,
       (SELECT string_agg(pg_get_constraintdef(k.oid, true), '\n' ORDER BY k.conname)
        FROM pg_constraint k WHERE k.contypid = t.oid)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = $1 AND t.typtype = 'd'
ORDER BY 1";

/// The column list of a `pg_get_indexdef` text: what stands in the
/// parentheses after `USING method`, with DESC, opclasses and expressions.
fn index_columns(def: &str) -> String {
    let Some(using) = def.find(" USING ") else {
        return def.to_owned();
    };
    let rest = &def[using..];
    let Some(open) = rest.find('(') else {
        return def.to_owned();
    };
    let mut depth = 0;
    for (i, ch) in rest[open..].char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return rest[open + 1..open + i].to_owned();
                }
            }
            _ => {}
        }
    }
    def.to_owned()
}

pub(super) async fn introspect(db: &mut Db, schema: &str) -> Result<Snapshot, DbError> {
    let mut snap = Snapshot {
        engine: "postgres".into(),
        ..Snapshot::default()
    };
    for r in db.text_rows(TABLES, &[schema]).await? {
        snap.tables.insert(
            text(&r[0]),
            Table {
                comment: r[1].clone(),
                ..Table::default()
            },
        );
    }
    for r in db.text_rows(COLUMNS, &[schema]).await? {
        let Some(t) = snap.tables.get_mut(&text(&r[0])) else {
            continue;
        };
        let generated_expr = (text(&r[6]) == "s").then(|| text(&r[4]));
        t.columns.push(Column {
            name: text(&r[1]),
            position: t.columns.len() + 1,
            data_type: text(&r[2]),
            nullable: text(&r[3]) == "true",
            default: if generated_expr.is_some() {
                None
            } else {
                r[4].clone()
            },
            identity: match text(&r[5]).as_str() {
                "a" => Some("always".into()),
                "d" => Some("by default".into()),
                _ => None,
            },
            identity_options: r[9]
                .as_deref()
                .and_then(|o| identity_options(o, &text(&r[2]))),
            generated: generated_expr,
            collation: r[7].clone(),
            comment: r[8].clone(),
        });
    }
    for r in db.text_rows(CONSTRAINTS, &[schema]).await? {
        let table = text(&r[0]);
        let Some(t) = snap.tables.get_mut(&table) else {
            continue;
        };
        let kind = match text(&r[2]).as_str() {
            "p" => ConstraintKind::PrimaryKey,
            "u" => ConstraintKind::Unique,
            "f" => ConstraintKind::ForeignKey,
            // Exclusion constraints are compared by their definition too.
            _ => ConstraintKind::Check,
        };
        let name = text(&r[1]);
        let c = Constraint {
            comment: r[4].clone(),
            generated_name: generated(&table, &name, kind),
            name,
            kind,
            definition: text(&r[3]),
        };
        if kind == ConstraintKind::PrimaryKey {
            t.primary_key = Some(c);
        } else {
            t.constraints.push(c);
        }
    }
    for r in db.text_rows(INDEXES, &[schema]).await? {
        let Some(t) = snap.tables.get_mut(&text(&r[0])) else {
            continue;
        };
        let def = text(&r[3]);
        let method = text(&r[5]);
        t.indexes.push(Index {
            comment: r[6].clone(),
            name: text(&r[1]),
            generated_name: false,
            unique: text(&r[2]) == "true",
            columns: index_columns(&def),
            predicate: r[4].clone(),
            method: (method != "btree").then_some(method),
            create_sql: def,
        });
    }
    for r in db.text_rows(VIEWS, &[schema]).await? {
        let name = text(&r[0]);
        let def = text(&r[1]);
        let materialized = text(&r[3]) == "m";
        let create_sql = format!(
            "CREATE {}VIEW {} AS\n{}",
            if materialized { "MATERIALIZED " } else { "" },
            quote(&name),
            def.trim_end().trim_end_matches(';')
        );
        snap.views.insert(
            name,
            View {
                definition: squash(&def),
                comment: r[2].clone(),
                create_sql,
            },
        );
    }
    for r in db.text_rows(SEQUENCES, &[schema]).await? {
        snap.sequences.insert(
            text(&r[0]),
            Sequence {
                data_type: text(&r[1]),
                start: text(&r[2]),
                increment: text(&r[3]),
                min: text(&r[4]),
                max: text(&r[5]),
                cycle: text(&r[6]) == "true",
                owned_by: r[7].clone(),
            },
        );
    }
    let mut enums: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in db.text_rows(ENUMS, &[schema]).await? {
        enums.entry(text(&r[0])).or_default().push(text(&r[1]));
    }
    snap.enums = enums;
    for r in db.text_rows(TYPE_COMMENTS, &[schema]).await? {
        snap.type_comments.insert(text(&r[0]), text(&r[1]));
    }
    for r in db.text_rows(DOMAINS, &[schema]).await? {
        snap.domains.insert(
            text(&r[0]),
            Domain {
                data_type: text(&r[1]),
                nullable: text(&r[2]) == "true",
                default: r[3].clone(),
                checks: r[4]
                    .as_deref()
                    .map(|c| c.lines().map(str::to_owned).collect())
                    .unwrap_or_default(),
            },
        );
    }
    snap.unsupported = db
        .text_rows(UNSUPPORTED, &[schema])
        .await?
        .into_iter()
        .map(|r| text(&r[0]))
        .collect();
    Ok(snap)
}

/// An identity's sequence options that differ from PostgreSQL's defaults
/// for the column's type, from `start,increment,min,max,cache,cycle`.
fn identity_options(raw: &str, data_type: &str) -> Option<String> {
    let v: Vec<&str> = raw.split(',').collect();
    let [start, increment, min, max, cache, cycle] = v.as_slice() else {
        return None;
    };
    let type_max = match data_type {
        "smallint" => "32767",
        "bigint" => "9223372036854775807",
        _ => "2147483647",
    };
    let ascending = !increment.starts_with('-');
    let mut out = Vec::new();
    let default_start = if ascending { min } else { max };
    if start != default_start {
        out.push(format!("START WITH {start}"));
    }
    if *increment != "1" {
        out.push(format!("INCREMENT BY {increment}"));
    }
    if !ascending || *min != "1" {
        out.push(format!("MINVALUE {min}"));
    }
    if !ascending || *max != type_max {
        out.push(format!("MAXVALUE {max}"));
    }
    if *cache != "1" {
        out.push(format!("CACHE {cache}"));
    }
    if matches!(*cycle, "t" | "true") {
        out.push("CYCLE".into());
    }
    (!out.is_empty()).then(|| out.join(" "))
}

/// The value of `key` (`["MINVALUE"]`, `["START", "WITH"]`) in identity
/// options as [`identity_options`] writes them.
pub(super) fn identity_option(options: Option<&str>, key: &[&str]) -> Option<String> {
    let words: Vec<&str> = options.unwrap_or_default().split_whitespace().collect();
    words
        .windows(key.len() + 1)
        .find(|w| w[..key.len()] == *key)
        .map(|w| w[key.len()].to_owned())
}

/// `ALTER COLUMN`'s clauses that set an identity's options to `options`
/// (the defaults where it names none).
pub(super) fn identity_option_clauses(options: Option<&str>) -> String {
    let words: Vec<&str> = options.unwrap_or_default().split_whitespace().collect();
    let value = |key: &[&str]| identity_option(options, key);
    let mut out = vec![
        format!(
            "SET START WITH {}",
            value(&["START", "WITH"]).unwrap_or("1".into())
        ),
        format!(
            "SET INCREMENT BY {}",
            value(&["INCREMENT", "BY"]).unwrap_or("1".into())
        ),
        value(&["MINVALUE"]).map_or("SET NO MINVALUE".into(), |v| format!("SET MINVALUE {v}")),
        value(&["MAXVALUE"]).map_or("SET NO MAXVALUE".into(), |v| format!("SET MAXVALUE {v}")),
        format!("SET CACHE {}", value(&["CACHE"]).unwrap_or("1".into())),
    ];
    out.push(
        if words.contains(&"CYCLE") {
            "SET CYCLE"
        } else {
            "SET NO CYCLE"
        }
        .into(),
    );
    out.join(" ")
}

/// A column as `CREATE TABLE` and `ADD COLUMN` declare it.
pub(super) fn column_def(c: &super::Column) -> String {
    let mut line = format!("{} {}", quote(&c.name), c.data_type);
    if let Some(coll) = &c.collation {
        line.push_str(&format!(" COLLATE {}", quote(coll)));
    }
    match (&c.identity, &c.generated) {
        (Some(i), _) => {
            line.push_str(&format!(" GENERATED {} AS IDENTITY", i.to_uppercase()));
            if let Some(o) = &c.identity_options {
                line.push_str(&format!(" ({o})"));
            }
        }
        (None, Some(g)) => line.push_str(&format!(" GENERATED ALWAYS AS ({g}) STORED")),
        (None, None) => {}
    }
    if let Some(d) = &c.default {
        line.push_str(&format!(" DEFAULT {d}"));
    }
    if !c.nullable {
        line.push_str(" NOT NULL");
    }
    line
}

/// `CREATE TABLE` with the columns only: keys, constraints and indexes
/// follow as their own statements.
pub(super) fn create_table(name: &str, t: &Table) -> String {
    let cols: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("    {}", column_def(c)))
        .collect();
    format!("CREATE TABLE {} (\n{}\n)", quote(name), cols.join(",\n"))
}

pub(super) fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

pub(super) fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Types, sequences, tables, then keys, uniques and checks, indexes,
/// foreign keys (so that tables may reference each other in any order),
/// sequence ownership, views and comments.
pub(super) fn render(s: &Snapshot) -> String {
    let mut out = String::new();
    for (name, labels) in &s.enums {
        let labels: Vec<String> = labels.iter().map(|l| literal(l)).collect();
        out.push_str(&format!(
            "CREATE TYPE {} AS ENUM ({});\n",
            quote(name),
            labels.join(", ")
        ));
    }
    for (name, d) in &s.domains {
        out.push_str(&format!("CREATE DOMAIN {} AS {}", quote(name), d.data_type));
        if let Some(def) = &d.default {
            out.push_str(&format!(" DEFAULT {def}"));
        }
        if !d.nullable {
            out.push_str(" NOT NULL");
        }
        for c in &d.checks {
            out.push_str(&format!(" {c}"));
        }
        out.push_str(";\n");
    }
    for (name, q) in &s.sequences {
        out.push_str(&format!(
            "CREATE SEQUENCE {} AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {}{};\n",
            quote(name),
            q.data_type,
            q.increment,
            q.min,
            q.max,
            q.start,
            if q.cycle { " CYCLE" } else { "" }
        ));
    }
    if !out.is_empty() {
        out.push('\n');
    }
    for (name, t) in &s.tables {
        out.push_str(&format!("{};\n", create_table(name, t)));
        for c in t.primary_key.iter().chain(
            t.constraints
                .iter()
                .filter(|c| c.kind != ConstraintKind::ForeignKey),
        ) {
            out.push_str(&format!(
                "ALTER TABLE {} ADD CONSTRAINT {} {};\n",
                quote(name),
                quote(&c.name),
                c.definition
            ));
        }
        for i in &t.indexes {
            out.push_str(&format!("{};\n", i.create_sql));
        }
        out.push('\n');
    }
    for (name, t) in &s.tables {
        for c in t
            .constraints
            .iter()
            .filter(|c| c.kind == ConstraintKind::ForeignKey)
        {
            out.push_str(&format!(
                "ALTER TABLE {} ADD CONSTRAINT {} {};\n",
                quote(name),
                quote(&c.name),
                c.definition
            ));
        }
    }
    for (name, q) in &s.sequences {
        if let Some((t, c)) = q.owned_by.as_deref().and_then(|o| o.split_once('.')) {
            out.push_str(&format!(
                "ALTER SEQUENCE {} OWNED BY {}.{};\n",
                quote(name),
                quote(t),
                quote(c)
            ));
        }
    }
    for (_, v) in crate::schema::diff::views_in_order(&s.views) {
        out.push_str(&format!("{};\n", v.create_sql));
    }
    for (name, t) in &s.tables {
        if let Some(c) = &t.comment {
            out.push_str(&format!(
                "COMMENT ON TABLE {} IS {};\n",
                quote(name),
                literal(c)
            ));
        }
        for col in &t.columns {
            if let Some(c) = &col.comment {
                out.push_str(&format!(
                    "COMMENT ON COLUMN {}.{} IS {};\n",
                    quote(name),
                    quote(&col.name),
                    literal(c)
                ));
            }
        }
        for k in t.primary_key.iter().chain(&t.constraints) {
            if let Some(c) = &k.comment {
                out.push_str(&format!(
                    "COMMENT ON CONSTRAINT {} ON {} IS {};\n",
                    quote(&k.name),
                    quote(name),
                    literal(c)
                ));
            }
        }
        for i in &t.indexes {
            if let Some(c) = &i.comment {
                out.push_str(&format!(
                    "COMMENT ON INDEX {} IS {};\n",
                    quote(&i.name),
                    literal(c)
                ));
            }
        }
    }
    for (name, v) in &s.views {
        if let Some(c) = &v.comment {
            out.push_str(&format!(
                "COMMENT ON VIEW {} IS {};\n",
                quote(name),
                literal(c)
            ));
        }
    }
    for (name, c) in &s.type_comments {
        out.push_str(&format!(
            "COMMENT ON TYPE {} IS {};\n",
            quote(name),
            literal(c)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_constraint_names() {
        assert!(generated("users", "users_pkey", ConstraintKind::PrimaryKey));
        assert!(generated(
            "users",
            "users_email_key",
            ConstraintKind::Unique
        ));
        assert!(generated(
            "users",
            "users_email_key1",
            ConstraintKind::Unique
        ));
        assert!(generated(
            "orders",
            "orders_user_id_fkey",
            ConstraintKind::ForeignKey
        ));
        assert!(generated("users", "users_age_check", ConstraintKind::Check));
        assert!(!generated(
            "users",
            "uq_users_email",
            ConstraintKind::Unique
        ));
        assert!(!generated("users", "pk_users", ConstraintKind::PrimaryKey));
    }

    #[test]
    fn index_columns_from_the_definition() {
        assert_eq!(
            index_columns(
                "CREATE INDEX ix ON boneca.users USING btree (lower(email), id DESC) WHERE (deleted_at IS NULL)"
            ),
            "lower(email), id DESC"
        );
    }
}
