//! PostgreSQL's DDL for a diff: everything in place (`ALTER TABLE`,
//! `ALTER TYPE … ADD VALUE`), an enum that loses or reorders values by
//! migra's type swap, views made again over changed tables.

use super::{Model, Phase, Script, TableChange, is_fk, narrows};
use crate::schema::postgres::{column_def, create_table, literal, quote};
use crate::schema::{Constraint, ConstraintKind, Sequence, View};

fn comment(c: &Option<String>) -> String {
    c.as_deref().map_or("NULL".to_owned(), literal)
}

/// `COMMENT ON COLUMN` setting the column's comment (or clearing it).
fn column_comment(table: &str, c: &crate::schema::Column, s: &mut Script) {
    s.push(
        Phase::Comments,
        format!(
            "COMMENT ON COLUMN {}.{} IS {}",
            quote(table),
            quote(&c.name),
            comment(&c.comment)
        ),
    );
}

fn drop_view(name: &str, v: &View) -> String {
    let kind = if v.create_sql.starts_with("CREATE MATERIALIZED") {
        "MATERIALIZED VIEW"
    } else {
        "VIEW"
    };
    format!("DROP {kind} {}", quote(name))
}

fn create_sequence(name: &str, q: &Sequence) -> String {
    format!(
        "CREATE SEQUENCE {} AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {}{}",
        quote(name),
        q.data_type,
        q.increment,
        q.min,
        q.max,
        q.start,
        if q.cycle { " CYCLE" } else { "" }
    )
}

fn owned_by(name: &str, q: &Sequence) -> String {
    let target = q
        .owned_by
        .as_deref()
        .and_then(|o| o.split_once('.'))
        .map_or("NONE".to_owned(), |(t, c)| {
            format!("{}.{}", quote(t), quote(c))
        });
    format!("ALTER SEQUENCE {} OWNED BY {target}", quote(name))
}

fn types(m: &Model, s: &mut Script) {
    let (from, to) = (m.from, m.to);
    // Comments on enum types and domains: set where new or changed,
    // cleared where gone from a type that stays.
    for (name, c) in &to.type_comments {
        if from.type_comments.get(name) != Some(c) {
            s.push(
                Phase::Comments,
                format!("COMMENT ON TYPE {} IS {}", quote(name), literal(c)),
            );
        }
    }
    for name in from.type_comments.keys() {
        let stays = to.enums.contains_key(name) || to.domains.contains_key(name);
        if stays && !to.type_comments.contains_key(name) {
            s.push(
                Phase::Comments,
                format!("COMMENT ON TYPE {} IS NULL", quote(name)),
            );
        }
    }
    for (name, labels) in &to.enums {
        let create = |name: &str| {
            let labels: Vec<String> = labels.iter().map(|l| literal(l)).collect();
            format!(
                "CREATE TYPE {} AS ENUM ({})",
                quote(name),
                labels.join(", ")
            )
        };
        let Some(old) = from.enums.get(name) else {
            s.push(Phase::Types, create(name));
            continue;
        };
        if old == labels {
            continue;
        }
        let kept: Vec<&String> = labels.iter().filter(|l| old.contains(l)).collect();
        let appendable =
            old.iter().all(|l| labels.contains(l)) && kept.iter().copied().eq(old.iter());
        if appendable {
            for (i, l) in labels.iter().enumerate().filter(|(_, l)| !old.contains(l)) {
                let place = match i {
                    0 => format!(" BEFORE {}", literal(&labels[1])),
                    _ => format!(" AFTER {}", literal(&labels[i - 1])),
                };
                s.push(
                    Phase::Types,
                    format!("ALTER TYPE {} ADD VALUE {}{place}", quote(name), literal(l)),
                );
            }
            continue;
        }
        // Values removed or reordered: migra's swap.
        let old_name = format!("{name}__braid_old");
        s.push(
            Phase::Types,
            format!("ALTER TYPE {} RENAME TO {}", quote(name), quote(&old_name)),
        );
        s.push(Phase::Types, create(name));
        let gone: Vec<&String> = old.iter().filter(|l| !labels.contains(l)).collect();
        // Columns of the type in tables both schemas have (a new table is
        // created with the new type). This runs before tables and columns
        // are renamed: the old names.
        // Tables unchanged otherwise have no TableChange: pair them too.
        let unchanged: Vec<TableChange> = to
            .tables
            .iter()
            .filter(|(n, _)| {
                from.tables.contains_key(*n) && !m.changed.iter().any(|c| c.name == n.as_str())
            })
            .map(|(n, t)| super::unchanged(n, &from.tables[n.as_str()], t))
            .collect();
        for c in m.changed.iter().chain(&unchanged) {
            for to_col in c.to.columns.iter().filter(|col| col.data_type == *name) {
                let Some(src) = c.source_of(&to_col.name) else {
                    continue;
                };
                let Some(f) = c
                    .from
                    .columns
                    .iter()
                    .find(|f| f.name == src && f.data_type == *name)
                else {
                    continue;
                };
                let tq = quote(c.old_name);
                let cq = quote(&f.name);
                if f.default.is_some() {
                    s.push(
                        Phase::Types,
                        format!("ALTER TABLE {tq} ALTER COLUMN {cq} DROP DEFAULT"),
                    );
                }
                let sql = format!(
                    "ALTER TABLE {tq} ALTER COLUMN {cq} TYPE {} USING {cq}::text::{}",
                    quote(name),
                    quote(name)
                );
                if gone.is_empty() {
                    s.push(Phase::Types, sql);
                } else {
                    let values: Vec<String> = gone.iter().map(|g| literal(g)).collect();
                    s.push_risk(
                        Phase::Types,
                        sql,
                        format!(
                            "fails if {}.{} holds a removed value ({})",
                            c.old_name,
                            f.name,
                            values.join(", ")
                        ),
                    );
                }
                // A changed default is set with the table's other changes.
                if let Some(d) = &f.default
                    && f.default == to_col.default
                {
                    s.push(
                        Phase::Types,
                        format!("ALTER TABLE {tq} ALTER COLUMN {cq} SET DEFAULT {d}"),
                    );
                }
            }
        }
        s.push(Phase::Cleanup, format!("DROP TYPE {}", quote(&old_name)));
    }
    for name in from.enums.keys().filter(|n| !to.enums.contains_key(*n)) {
        s.push(Phase::Cleanup, format!("DROP TYPE {}", quote(name)));
    }
    for (name, d) in &to.domains {
        let create = || {
            let mut sql = format!("CREATE DOMAIN {} AS {}", quote(name), d.data_type);
            if let Some(def) = &d.default {
                sql.push_str(&format!(" DEFAULT {def}"));
            }
            if !d.nullable {
                sql.push_str(" NOT NULL");
            }
            for c in &d.checks {
                sql.push_str(&format!(" {c}"));
            }
            sql
        };
        match from.domains.get(name) {
            None => s.push(Phase::Types, create()),
            Some(old) if old == d => {}
            Some(_) => {
                s.push_risk(
                    Phase::Types,
                    format!("DROP DOMAIN {}", quote(name)),
                    format!("fails while a column uses domain {name}: change it by hand"),
                );
                s.push(Phase::Types, create());
            }
        }
    }
    for name in from.domains.keys().filter(|n| !to.domains.contains_key(*n)) {
        s.push(Phase::Cleanup, format!("DROP DOMAIN {}", quote(name)));
    }
    sequences(m, s);
}

/// The sequence of the first schema a new sequence is: the one the same
/// (maybe renamed) column owned. Renaming it keeps its position.
fn renamed_sequence<'a>(m: &Model<'a>, q: &Sequence) -> Option<&'a str> {
    let (table, column) = q.owned_by.as_deref()?.split_once('.')?;
    let c = m.changed.iter().find(|c| c.name == table)?;
    let src = c.source_of(column)?;
    let owner = format!("{}.{src}", c.old_name);
    m.from
        .sequences
        .iter()
        .find(|(n, f)| {
            f.owned_by.as_deref() == Some(owner.as_str()) && !m.to.sequences.contains_key(*n)
        })
        .map(|(n, _)| n.as_str())
}

fn sequences(m: &Model, s: &mut Script) {
    let (from, to) = (m.from, m.to);
    let mut renamed: Vec<&str> = Vec::new();
    for (name, q) in &to.sequences {
        let existing = match from.sequences.get(name) {
            Some(f) => Some(f),
            None => renamed_sequence(m, q).map(|old| {
                renamed.push(old);
                s.push(
                    Phase::Types,
                    format!("ALTER SEQUENCE {} RENAME TO {}", quote(old), quote(name)),
                );
                &from.sequences[old]
            }),
        };
        match existing {
            None => {
                s.push(Phase::Types, create_sequence(name, q));
                if q.owned_by.is_some() {
                    s.push(Phase::Comments, owned_by(name, q));
                }
            }
            Some(old) => {
                let mut parts = Vec::new();
                if old.data_type != q.data_type {
                    parts.push(format!("AS {}", q.data_type));
                }
                parts.extend(super::sequence_changes(old, q, "NO CYCLE"));
                if !parts.is_empty() {
                    s.push(
                        Phase::Types,
                        format!("ALTER SEQUENCE {} {}", quote(name), parts.join(" ")),
                    );
                }
                if old.owned_by != q.owned_by {
                    s.push(Phase::Comments, owned_by(name, q));
                }
            }
        }
    }
    for (name, q) in &from.sequences {
        if to.sequences.contains_key(name) || renamed.contains(&name.as_str()) {
            continue;
        }
        // A sequence a column owns goes with the column (or its table),
        // which may be dropped in this script.
        let with_table = q.owned_by.is_some();
        let sql = format!(
            "DROP SEQUENCE {}{}",
            if with_table { "IF EXISTS " } else { "" },
            quote(name)
        );
        s.push(Phase::Cleanup, sql);
    }
}

/// A constraint whose name the engine made up is added without one, so
/// the engine picks a free name again (matching is by definition).
fn add_constraint(table: &str, c: &crate::schema::Constraint) -> String {
    if c.generated_name {
        return format!("ALTER TABLE {} ADD {}", quote(table), c.definition);
    }
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} {}",
        quote(table),
        quote(&c.name),
        c.definition
    )
}

fn created(name: &str, t: &crate::schema::Table, s: &mut Script) {
    s.push(Phase::Tables, create_table(name, t));
    for c in t.primary_key.iter() {
        s.push(Phase::Tables, add_constraint(name, c));
    }
    for c in t.constraints.iter().filter(|c| !is_fk(c)) {
        s.push(Phase::Indexes, add_constraint(name, c));
    }
    for i in &t.indexes {
        s.push(Phase::Indexes, i.create_sql.clone());
    }
    for c in t.constraints.iter().filter(|c| is_fk(c)) {
        s.push(Phase::ForeignKeys, add_constraint(name, c));
    }
    if t.comment.is_some() {
        s.push(
            Phase::Comments,
            format!(
                "COMMENT ON TABLE {} IS {}",
                quote(name),
                comment(&t.comment)
            ),
        );
    }
    for c in t.columns.iter().filter(|c| c.comment.is_some()) {
        column_comment(name, c, s);
    }
    let keys: Vec<&Constraint> = t.primary_key.iter().chain(&t.constraints).collect();
    key_and_index_comments(name, &keys, &t.indexes.iter().collect::<Vec<_>>(), false, s);
}

/// `COMMENT ON CONSTRAINT` and `COMMENT ON INDEX` for those of `keys` and
/// `indexes` that have one (with `all`, also to clear one that went).
fn key_and_index_comments(
    table: &str,
    keys: &[&Constraint],
    indexes: &[&crate::schema::Index],
    all: bool,
    s: &mut Script,
) {
    for k in keys.iter().filter(|k| all || k.comment.is_some()) {
        s.push(
            Phase::Comments,
            format!(
                "COMMENT ON CONSTRAINT {} ON {} IS {}",
                quote(&k.name),
                quote(table),
                comment(&k.comment)
            ),
        );
    }
    for i in indexes.iter().filter(|i| all || i.comment.is_some()) {
        s.push(
            Phase::Comments,
            format!(
                "COMMENT ON INDEX {} IS {}",
                quote(&i.name),
                comment(&i.comment)
            ),
        );
    }
}

fn changed(m: &Model, c: &TableChange, s: &mut Script) {
    let old = quote(c.old_name);
    let t = quote(c.name);
    for k in &c.constraints_dropped {
        let phase = if is_fk(k) {
            Phase::DropDependents
        } else {
            Phase::DropIndexes
        };
        s.push(
            phase,
            format!("ALTER TABLE {old} DROP CONSTRAINT {}", quote(&k.name)),
        );
    }
    if c.pk_changed
        && let Some(pk) = &c.from.primary_key
    {
        s.push(
            Phase::DropIndexes,
            format!("ALTER TABLE {old} DROP CONSTRAINT {}", quote(&pk.name)),
        );
    }
    for i in &c.indexes_dropped {
        s.push(Phase::DropIndexes, format!("DROP INDEX {}", quote(&i.name)));
    }
    if c.name != c.old_name {
        s.push(Phase::Tables, format!("ALTER TABLE {old} RENAME TO {t}"));
    }
    super::rename_and_drop_columns(c, s, quote);
    for a in &c.added {
        let sql = format!("ALTER TABLE {t} ADD COLUMN {}", column_def(a));
        if !a.nullable && a.default.is_none() && a.identity.is_none() && a.generated.is_none() {
            s.push_risk(
                Phase::Tables,
                sql,
                format!(
                    "adds NOT NULL column {}.{} without a default: fails if the table has rows",
                    c.name, a.name
                ),
            );
        } else {
            s.push(Phase::Tables, sql);
        }
        // A column added back by a down script brings its comment back.
        if a.comment.is_some() {
            column_comment(c.name, a, s);
        }
    }
    for (f, to) in &c.altered {
        altered(m, c, f, to, s);
    }
    for k in c.constraints_added.iter().filter(|k| !is_fk(k)) {
        s.push(Phase::Indexes, add_constraint(c.name, k));
    }
    if c.pk_changed
        && let Some(pk) = &c.to.primary_key
    {
        s.push(Phase::Indexes, add_constraint(c.name, pk));
    }
    for i in &c.indexes_added {
        s.push(Phase::Indexes, i.create_sql.clone());
    }
    for k in c.constraints_added.iter().filter(|k| is_fk(k)) {
        s.push(Phase::ForeignKeys, add_constraint(c.name, k));
    }
    if c.comment_changed {
        s.push(
            Phase::Comments,
            format!("COMMENT ON TABLE {t} IS {}", comment(&c.to.comment)),
        );
    }
    // New keys and indexes with a comment, and kept ones whose comment alone changed.
    let mut keys: Vec<&Constraint> = c.constraints_added.clone();
    if c.pk_changed {
        keys.extend(c.to.primary_key.as_ref());
    }
    key_and_index_comments(c.name, &keys, &c.indexes_added, false, s);
    key_and_index_comments(c.name, &c.constraint_comments, &c.index_comments, true, s);
}

fn altered(
    m: &Model,
    c: &TableChange,
    f: &crate::schema::Column,
    to: &crate::schema::Column,
    s: &mut Script,
) {
    let t = quote(c.name);
    let col = quote(&to.name);
    let alter = |what: String| format!("ALTER TABLE {t} ALTER COLUMN {col} {what}");
    if f.generated != to.generated {
        // A generation expression cannot be altered: the column is made
        // again (its values are computed, nothing is lost).
        s.push(Phase::Tables, format!("ALTER TABLE {t} DROP COLUMN {col}"));
        s.push(
            Phase::Tables,
            format!("ALTER TABLE {t} ADD COLUMN {}", column_def(to)),
        );
        if to.comment.is_some() {
            column_comment(c.name, to, s);
        }
        return;
    }
    let retyped = f.data_type != to.data_type || f.collation != to.collation;
    if retyped && f.default.is_some() {
        s.push(Phase::Tables, alter("DROP DEFAULT".into()));
    }
    if retyped {
        let collate = to
            .collation
            .as_deref()
            .map(|c| format!(" COLLATE {}", quote(c)))
            .unwrap_or_default();
        // From one enum type to another: no cast between them but through
        // text, and what can fail is a label the new type lacks.
        let labels = |snap: &'_ crate::schema::Snapshot, ty: &str| {
            snap.enums.get(ty.trim_matches('"')).cloned()
        };
        if let (Some(old), Some(new)) = (labels(m.from, &f.data_type), labels(m.to, &to.data_type))
        {
            let sql = alter(format!(
                "TYPE {}{collate} USING {col}::text::{}",
                to.data_type, to.data_type
            ));
            let lacking: Vec<&String> = old.iter().filter(|l| !new.contains(l)).collect();
            if lacking.is_empty() {
                s.push(Phase::Tables, sql);
            } else {
                s.push_risk(
                    Phase::Tables,
                    sql,
                    format!(
                        "fails if {}.{} holds {}, which {} lacks",
                        c.name,
                        to.name,
                        lacking
                            .iter()
                            .map(|l| literal(l))
                            .collect::<Vec<_>>()
                            .join(", "),
                        to.data_type
                    ),
                );
            }
        } else {
            let sql = alter(format!(
                "TYPE {}{collate} USING {col}::{}",
                to.data_type, to.data_type
            ));
            if f.data_type != to.data_type && narrows(&f.data_type, &to.data_type) {
                s.push_loss(
                    Phase::Tables,
                    sql,
                    format!(
                        "narrows {}.{} from {} to {}",
                        c.name, to.name, f.data_type, to.data_type
                    ),
                );
            } else {
                s.push(Phase::Tables, sql);
            }
        }
    }
    if f.nullable != to.nullable {
        if to.nullable {
            s.push(Phase::Tables, alter("DROP NOT NULL".into()));
        } else {
            s.push_risk(
                Phase::Tables,
                alter("SET NOT NULL".into()),
                format!("fails if {}.{} holds NULL", c.name, to.name),
            );
        }
    }
    if f.default != to.default || (retyped && to.default.is_some()) {
        match &to.default {
            Some(d) => s.push(Phase::Tables, alter(format!("SET DEFAULT {d}"))),
            None if !retyped => s.push(Phase::Tables, alter("DROP DEFAULT".into())),
            None => {}
        }
    }
    if f.identity != to.identity {
        let kind = |i: &str| i.to_uppercase();
        match (&f.identity, &to.identity) {
            (None, Some(i)) => s.push(
                Phase::Tables,
                alter(format!(
                    "ADD GENERATED {} AS IDENTITY{}",
                    kind(i),
                    to.identity_options
                        .as_deref()
                        .map(|o| format!(" ({o})"))
                        .unwrap_or_default()
                )),
            ),
            (Some(_), None) => s.push(Phase::Tables, alter("DROP IDENTITY".into())),
            (Some(_), Some(i)) => {
                s.push(Phase::Tables, alter(format!("SET GENERATED {}", kind(i))))
            }
            (None, None) => {}
        }
    }
    // The options of an identity that stays.
    if f.identity.is_some() && to.identity.is_some() && f.identity_options != to.identity_options {
        use crate::schema::postgres::{identity_option, identity_option_clauses};
        let mut sql = alter(identity_option_clauses(to.identity_options.as_deref()));
        // A raised MINVALUE refuses a sequence still below it: it must
        // restart, at the new START, and values above may come again.
        let min = |o: &Option<String>| {
            identity_option(o.as_deref(), &["MINVALUE"])
                .and_then(|v| v.parse::<i128>().ok())
                .unwrap_or(1)
        };
        if min(&to.identity_options) > min(&f.identity_options) {
            let start = identity_option(to.identity_options.as_deref(), &["START", "WITH"])
                .unwrap_or_else(|| min(&to.identity_options).to_string());
            sql.push_str(&format!(" RESTART WITH {start}"));
            s.push_risk(
                Phase::Tables,
                sql,
                format!(
                    "restarts the identity of {}.{} at {start}: values from there up already in the table would be generated again",
                    c.name, to.name
                ),
            );
        } else {
            s.push(Phase::Tables, sql);
        }
    }
    if f.comment != to.comment {
        column_comment(c.name, to, s);
    }
}

pub(super) fn render(m: &Model, s: &mut Script) {
    for (name, v) in &m.views_dropped {
        s.push(Phase::DropDependents, drop_view(name, v));
    }
    for (name, t) in &m.dropped {
        for k in t
            .constraints
            .iter()
            .filter(|k| k.kind == ConstraintKind::ForeignKey)
        {
            s.push(
                Phase::DropDependents,
                format!(
                    "ALTER TABLE {} DROP CONSTRAINT {}",
                    quote(name),
                    quote(&k.name)
                ),
            );
        }
    }
    types(m, s);
    let names: Vec<&str> = m.dropped.iter().map(|(n, _)| *n).collect();
    super::drop_tables(&names, s, quote);
    for c in &m.changed {
        changed(m, c, s);
    }
    for (name, t) in &m.created {
        created(name, t, s);
    }
    for (name, v) in &m.views_created {
        s.push(Phase::Views, v.create_sql.clone());
        if v.comment.is_some() {
            s.push(
                Phase::Comments,
                format!("COMMENT ON VIEW {} IS {}", quote(name), comment(&v.comment)),
            );
        }
    }
    // A view kept as it is whose comment alone changed.
    for (name, v) in &m.to.views {
        let kept = !m.views_created.iter().any(|(n, _)| n == name);
        if kept
            && m.from
                .views
                .get(name)
                .is_some_and(|old| old.comment != v.comment)
        {
            s.push(
                Phase::Comments,
                format!("COMMENT ON VIEW {} IS {}", quote(name), comment(&v.comment)),
            );
        }
    }
}
