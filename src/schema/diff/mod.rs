//! From one snapshot to another: the DDL, in the engine's dialect, that
//! turns the first schema into the second.
//!
//! The objects are paired here, engine-blind (tables and columns by name or
//! by a declared rename, constraints and indexes as `compare` pairs them);
//! each engine's file turns the pairs into statements. Statements run in
//! phases, as migra orders them: dependents dropped (views, foreign keys),
//! indexes and constraints dropped, types and sequences made, tables
//! dropped, altered and created, indexes, uniques and checks, foreign keys,
//! views, comments, and last the types and sequences nothing uses any more.
//! Inside a phase the order is the objects' names, so output is stable.

mod mysql;
mod postgres;
pub mod renames;
mod sqlite;

use super::compare::{constraint_key, index_key, pair};
use super::{Column, Constraint, ConstraintKind, Index, Snapshot, Table, View};

pub use renames::Renames;

/// When a statement runs, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// `PRAGMA foreign_keys = OFF` before a SQLite rebuild.
    Prelude,
    /// Drop what depends on what changes (views, foreign keys).
    DropDependents,
    /// Drop indexes and constraints that go or change.
    DropIndexes,
    /// Types and sequences.
    Types,
    /// Create, alter, rename and drop tables and columns.
    Tables,
    /// Indexes, unique and check constraints.
    Indexes,
    /// Foreign keys, after every table they name exists.
    ForeignKeys,
    /// Views.
    Views,
    /// Comments.
    Comments,
    /// Drop types and sequences nothing uses any more.
    Cleanup,
    /// `PRAGMA foreign_keys = ON` after a SQLite rebuild.
    Postlude,
}

/// One statement of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// When it runs.
    pub phase: Phase,
    /// The statement, ending with `;`.
    pub sql: String,
    /// What this statement loses, when it loses data.
    pub loss: Option<String>,
    /// What may make it fail on a table with rows.
    pub risk: Option<String>,
}

/// The statements that turn one schema into another, and what a reader
/// must know about them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    /// The statements, in running order.
    pub statements: Vec<Statement>,
    /// A drop and an add that look like a rename nobody declared.
    pub hints: Vec<String>,
    /// What the differ cannot express (the command fails on these).
    pub unsupported: Vec<String>,
}

impl Script {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// What the script loses, one line per statement that loses data.
    pub fn losses(&self) -> Vec<&str> {
        self.statements
            .iter()
            .filter_map(|s| s.loss.as_deref())
            .collect()
    }

    /// The risks of its statements (`may fail` notes).
    pub fn risks(&self) -> Vec<&str> {
        self.statements
            .iter()
            .filter_map(|s| s.risk.as_deref())
            .collect()
    }

    /// The script as SQL, each statement ended with `;`, data loss and
    /// risks marked in comments above the statement.
    pub fn to_sql(&self) -> String {
        let mut out = String::new();
        for s in &self.statements {
            if let Some(l) = &s.loss {
                out.push_str(&format!("-- DATA LOSS: {l}\n"));
            }
            if let Some(r) = &s.risk {
                out.push_str(&format!("-- may fail: {r}\n"));
            }
            out.push_str(s.sql.trim_end());
            out.push_str(";\n");
        }
        out
    }

    fn push(&mut self, phase: Phase, sql: impl Into<String>) {
        self.statements.push(Statement {
            phase,
            sql: sql.into(),
            loss: None,
            risk: None,
        });
    }

    fn push_loss(&mut self, phase: Phase, sql: impl Into<String>, loss: String) {
        self.statements.push(Statement {
            phase,
            sql: sql.into(),
            loss: Some(loss),
            risk: None,
        });
    }

    fn push_risk(&mut self, phase: Phase, sql: impl Into<String>, risk: String) {
        self.statements.push(Statement {
            phase,
            sql: sql.into(),
            loss: None,
            risk: Some(risk),
        });
    }
}

/// A table in both schemas, and what changed in it.
#[derive(Debug, Clone)]
pub(crate) struct TableChange<'a> {
    pub name: &'a str,
    /// Its name in the first schema (another when renamed).
    pub old_name: &'a str,
    pub from: &'a Table,
    pub to: &'a Table,
    pub added: Vec<&'a Column>,
    pub dropped: Vec<&'a Column>,
    /// (old name, new name).
    pub renamed: Vec<(&'a str, &'a str)>,
    /// Columns in both whose definition differs (from, to).
    pub altered: Vec<(&'a Column, &'a Column)>,
    pub pk_changed: bool,
    pub constraints_dropped: Vec<&'a Constraint>,
    pub constraints_added: Vec<&'a Constraint>,
    pub indexes_dropped: Vec<&'a Index>,
    pub indexes_added: Vec<&'a Index>,
    /// Constraints and indexes kept whose comment alone changed (as the
    /// second schema has them).
    pub constraint_comments: Vec<&'a Constraint>,
    pub index_comments: Vec<&'a Index>,
    pub comment_changed: bool,
    /// The columns both have stand in another order.
    pub reordered: bool,
}

impl TableChange<'_> {
    pub fn is_empty(&self) -> bool {
        self.name == self.old_name
            && self.added.is_empty()
            && self.dropped.is_empty()
            && self.renamed.is_empty()
            && self.altered.is_empty()
            && !self.pk_changed
            && self.constraints_dropped.is_empty()
            && self.constraints_added.is_empty()
            && self.constraint_comments.is_empty()
            && self.index_comments.is_empty()
            && self.indexes_dropped.is_empty()
            && self.indexes_added.is_empty()
            && !self.comment_changed
    }

    /// The column of the first schema a column of the second comes from.
    pub fn source_of(&self, to_col: &str) -> Option<&str> {
        if let Some((old, _)) = self.renamed.iter().find(|(_, new)| *new == to_col) {
            return Some(old);
        }
        self.from
            .columns
            .iter()
            .find(|c| c.name == to_col && !self.dropped.iter().any(|d| d.name == c.name))
            .map(|c| c.name.as_str())
    }

    /// Whether columns were dropped, altered or renamed: views over the
    /// table must be made again.
    pub fn touches_columns(&self) -> bool {
        !self.dropped.is_empty() || !self.altered.is_empty() || !self.renamed.is_empty()
    }
}

/// Everything the engines render.
pub(crate) struct Model<'a> {
    pub from: &'a Snapshot,
    pub to: &'a Snapshot,
    pub created: Vec<(&'a str, &'a Table)>,
    pub dropped: Vec<(&'a str, &'a Table)>,
    pub changed: Vec<TableChange<'a>>,
    /// Views to drop first (gone, changed, or over a changed table).
    pub views_dropped: Vec<(&'a str, &'a View)>,
    /// Views to create last.
    pub views_created: Vec<(&'a str, &'a View)>,
}

/// Whether a column's definition differs, other than by name.
fn column_differs(a: &Column, b: &Column) -> bool {
    a.data_type != b.data_type
        || a.nullable != b.nullable
        || a.default != b.default
        || a.identity != b.identity
        || a.identity_options != b.identity_options
        || a.generated != b.generated
        || a.collation != b.collation
        || a.comment != b.comment
}

/// The same column definition, names aside: a rename nobody declared.
fn same_definition(a: &Column, b: &Column) -> bool {
    !column_differs(a, b)
}

/// Whether `view`'s definition names `table` (a word of it).
fn mentions(view: &View, table: &str) -> bool {
    let def = view.definition.to_lowercase();
    let t = table.to_lowercase();
    def.match_indices(&t).any(|(i, _)| {
        let before = def[..i].chars().next_back();
        let after = def[i + t.len()..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !word(before) && !word(after)
    })
}

fn model<'a>(
    from: &'a Snapshot,
    to: &'a Snapshot,
    renames: &Renames,
    hints: &mut Vec<String>,
) -> Model<'a> {
    let mut m = Model {
        from,
        to,
        created: Vec::new(),
        dropped: Vec::new(),
        changed: Vec::new(),
        views_dropped: Vec::new(),
        views_created: Vec::new(),
    };
    let mut used_from: Vec<&str> = Vec::new();
    for (name, t) in &to.tables {
        let old: Option<&'a str> = if from.tables.contains_key(name) {
            Some(name.as_str())
        } else {
            renames
                .table_source(name)
                .filter(|o| !to.tables.contains_key(*o))
                .and_then(|o| from.tables.get_key_value(o))
                .map(|(k, _)| k.as_str())
        };
        match old {
            None => m.created.push((name, t)),
            Some(old) => {
                used_from.push(old);
                m.changed.push(table_change(
                    name,
                    old,
                    &from.tables[old],
                    t,
                    renames,
                    hints,
                ));
            }
        }
    }
    for (name, t) in &from.tables {
        if !used_from.contains(&name.as_str()) {
            m.dropped.push((name, t));
        }
    }
    // A dropped table and a created one with the same columns: a rename?
    for (d, dt) in &m.dropped {
        for (c, ct) in &m.created {
            let same = dt.columns.len() == ct.columns.len()
                && dt
                    .columns
                    .iter()
                    .zip(&ct.columns)
                    .all(|(a, b)| a.name == b.name && same_definition(a, b));
            if same {
                hints.push(format!(
                    "table {d} is dropped and table {c} created with the same columns: if it was renamed, write `-- braid:renamed-from {d}` on the CREATE TABLE {c} line of the desired schema"
                ));
            }
        }
    }
    m.changed.retain(|c| !c.is_empty());
    // Views: gone or changed, and those over a table whose columns change.
    let rebuilt: Vec<&str> = m
        .changed
        .iter()
        .filter(|c| {
            c.touches_columns()
                || c.name != c.old_name
                || c.pk_changed
                || !c.constraints_dropped.is_empty()
        })
        .flat_map(|c| [c.name, c.old_name])
        .chain(m.dropped.iter().map(|d| d.0))
        .collect();
    for (name, v) in &from.views {
        let redo = match to.views.get(name) {
            None => true,
            Some(w) => {
                super::squash(&w.definition) != super::squash(&v.definition)
                    || rebuilt.iter().any(|t| mentions(v, t))
            }
        };
        if redo {
            m.views_dropped.push((name, v));
        }
    }
    // A view over a view that goes (or is made again) goes too, and so on
    // up: PostgreSQL refuses to drop a view others depend on, and MariaDB
    // would leave them broken.
    loop {
        let more: Vec<(&'a str, &'a View)> = from
            .views
            .iter()
            .filter(|(name, v)| {
                !m.views_dropped.iter().any(|(n, _)| n == name)
                    && m.views_dropped.iter().any(|(d, _)| mentions(v, d))
            })
            .map(|(n, v)| (n.as_str(), v))
            .collect();
        if more.is_empty() {
            break;
        }
        m.views_dropped.extend(more);
    }
    for (name, v) in &to.views {
        let keep = from.views.contains_key(name) && !m.views_dropped.iter().any(|(n, _)| n == name);
        if !keep {
            m.views_created.push((name, v));
        }
    }
    dependency_order(&mut m.views_dropped, true);
    dependency_order(&mut m.views_created, false);
    m
}

/// The clauses of `ALTER SEQUENCE` that take `old`'s settings to `new`'s
/// (increment, bounds, start, cycle), as PostgreSQL and MariaDB both spell
/// them, but for the word that ends a cycle (`NO CYCLE`, `NOCYCLE`).
pub(crate) fn sequence_changes(
    old: &crate::schema::Sequence,
    new: &crate::schema::Sequence,
    no_cycle: &str,
) -> Vec<String> {
    let mut parts = Vec::new();
    if old.increment != new.increment {
        parts.push(format!("INCREMENT BY {}", new.increment));
    }
    if old.min != new.min {
        parts.push(format!("MINVALUE {}", new.min));
    }
    if old.max != new.max {
        parts.push(format!("MAXVALUE {}", new.max));
    }
    if old.start != new.start {
        parts.push(format!("START WITH {}", new.start));
    }
    if old.cycle != new.cycle {
        parts.push(if new.cycle { "CYCLE" } else { no_cycle }.to_owned());
    }
    parts
}

/// A snapshot's views, each after the views it selects from: the order
/// the SQL form creates them in.
pub(crate) fn views_in_order(
    views: &std::collections::BTreeMap<String, View>,
) -> Vec<(&str, &View)> {
    let mut list: Vec<(&str, &View)> = views.iter().map(|(n, v)| (n.as_str(), v)).collect();
    dependency_order(&mut list, false);
    list
}

/// Orders views so that each comes after the views its definition names
/// (with `dependents_first`, before them), names breaking ties: views are
/// created bottom up and dropped top down. The views a definition names
/// are read from its text, which serves every engine (PostgreSQL's and
/// MariaDB's stored definitions name what they select from); a cycle,
/// which no engine allows, falls back to name order.
pub(crate) fn dependency_order<'a>(views: &mut Vec<(&'a str, &'a View)>, dependents_first: bool) {
    let mut left = std::mem::take(views);
    left.sort_by_key(|v| v.0);
    while !left.is_empty() {
        let ready = left
            .iter()
            .position(|(n, v)| !left.iter().any(|(o, _)| o != n && mentions(v, o)))
            .unwrap_or(0);
        views.push(left.remove(ready));
    }
    if dependents_first {
        views.reverse();
    }
}

fn table_change<'a>(
    name: &'a str,
    old_name: &'a str,
    from: &'a Table,
    to: &'a Table,
    renames: &Renames,
    hints: &mut Vec<String>,
) -> TableChange<'a> {
    let mut c = TableChange {
        old_name,
        comment_changed: from.comment != to.comment,
        ..unchanged(name, from, to)
    };
    let mut used: Vec<&str> = Vec::new();
    for col in &to.columns {
        let source = if from.columns.iter().any(|f| f.name == col.name) {
            Some(col.name.as_str())
        } else {
            renames
                .column_source(name, &col.name)
                .filter(|o| from.columns.iter().any(|f| f.name == *o))
                .filter(|o| !to.columns.iter().any(|t| t.name == *o))
        };
        match source {
            None => c.added.push(col),
            Some(old) => {
                used.push(old);
                let f = from.columns.iter().find(|f| f.name == old).expect("found");
                if old != col.name {
                    c.renamed.push((&f.name, &col.name));
                }
                if column_differs(f, col) {
                    c.altered.push((f, col));
                }
            }
        }
    }
    c.dropped = from
        .columns
        .iter()
        .filter(|f| !used.contains(&f.name.as_str()))
        .collect();
    for d in &c.dropped {
        for a in c.added.iter().filter(|a| same_definition(d, a)) {
            hints.push(format!(
                "column {name}.{} is dropped and {name}.{} added with the same definition: if it was renamed, write `-- braid:renamed-from {}` on the {} line of the desired schema",
                d.name, a.name, d.name, a.name
            ));
        }
    }
    let kept_order = |cols: &[Column], names: &dyn Fn(&str) -> Option<String>| -> Vec<String> {
        cols.iter().filter_map(|c| names(&c.name)).collect()
    };
    let from_order = kept_order(&from.columns, &|n| {
        used.contains(&n).then(|| {
            c.renamed
                .iter()
                .find(|r| r.0 == n)
                .map_or(n, |r| r.1)
                .to_owned()
        })
    });
    let to_order = kept_order(&to.columns, &|n| {
        from_order.iter().any(|f| f == n).then(|| n.to_owned())
    });
    c.reordered = from_order != to_order;
    let pk = |t: &Table| t.primary_key.as_ref().map(constraint_key);
    // A renamed column renames what names it: compare keys after renames.
    let renamed_key = |k: String| {
        c.renamed
            .iter()
            .fold(k, |k, (old, new)| replace_word(&k, old, new))
    };
    c.pk_changed = pk(from).map(&renamed_key) != pk(to);
    let from_cons: Vec<Constraint> = from
        .constraints
        .iter()
        .map(|k| Constraint {
            definition: renamed_key(k.definition.clone()),
            ..k.clone()
        })
        .collect();
    (
        c.constraints_dropped,
        c.constraints_added,
        c.constraint_comments,
    ) = changes(
        &from.constraints,
        &from_cons,
        &to.constraints,
        |k| (&k.name, k.generated_name),
        constraint_key,
    );
    let from_ix: Vec<Index> = from
        .indexes
        .iter()
        .map(|i| Index {
            columns: renamed_key(i.columns.clone()),
            predicate: i.predicate.clone().map(&renamed_key),
            ..i.clone()
        })
        .collect();
    (c.indexes_dropped, c.indexes_added, c.index_comments) = changes(
        &from.indexes,
        &from_ix,
        &to.indexes,
        |i| (&i.name, i.generated_name),
        index_key,
    );
    c
}

/// What to drop and what to add for constraints or indexes: `renamed` is
/// `from` with declared column renames applied (so a renamed column's
/// index is not remade); a pair with the same name and another definition
/// is dropped and added. What is dropped is returned as `from` holds it.
/// What goes, what comes, and what stays with another comment.
type Changes<'a, T> = (Vec<&'a T>, Vec<&'a T>, Vec<&'a T>);

fn changes<'a, T: crate::schema::Commented>(
    from: &'a [T],
    renamed: &[T],
    to: &'a [T],
    name: impl Fn(&T) -> (&str, bool),
    key: impl Fn(&T) -> String,
) -> Changes<'a, T> {
    let p = pair(renamed, to, &name, key);
    let commented = p
        .same
        .iter()
        .filter(|(x, y)| x.comment() != y.comment())
        .map(|(_, y)| *y)
        .collect();
    let back = |x: &T| {
        let i = renamed
            .iter()
            .position(|r| std::ptr::eq(r, x))
            .expect("paired from these");
        &from[i]
    };
    let dropped = p
        .removed
        .iter()
        .map(|x| back(x))
        .chain(p.changed.iter().map(|(x, _)| back(x)))
        .collect();
    let added = p
        .added
        .into_iter()
        .chain(p.changed.iter().map(|(_, y)| *y))
        .collect();
    (dropped, added, commented)
}

/// `DROP TABLE` for each table, marked as losing its rows.
pub(crate) fn drop_tables(names: &[&str], s: &mut Script, quote: fn(&str) -> String) {
    for name in names {
        s.push_loss(
            Phase::Tables,
            format!("DROP TABLE {}", quote(name)),
            format!("drops table {name} and its rows"),
        );
    }
}

/// Column renames and drops, in place: the same SQL on every engine.
pub(crate) fn rename_and_drop_columns(c: &TableChange, s: &mut Script, quote: fn(&str) -> String) {
    let t = quote(c.name);
    for (from, to) in &c.renamed {
        s.push(
            Phase::Tables,
            format!(
                "ALTER TABLE {t} RENAME COLUMN {} TO {}",
                quote(from),
                quote(to)
            ),
        );
    }
    for d in &c.dropped {
        s.push_loss(
            Phase::Tables,
            format!("ALTER TABLE {t} DROP COLUMN {}", quote(&d.name)),
            format!("drops column {}.{} and its values", c.name, d.name),
        );
    }
}

/// A table in both schemas that nothing changed.
pub(crate) fn unchanged<'a>(name: &'a str, from: &'a Table, to: &'a Table) -> TableChange<'a> {
    TableChange {
        name,
        old_name: name,
        from,
        to,
        added: Vec::new(),
        dropped: Vec::new(),
        renamed: Vec::new(),
        altered: Vec::new(),
        pk_changed: false,
        constraints_dropped: Vec::new(),
        constraints_added: Vec::new(),
        indexes_dropped: Vec::new(),
        indexes_added: Vec::new(),
        constraint_comments: Vec::new(),
        index_comments: Vec::new(),
        comment_changed: false,
        reordered: false,
    }
}

/// `text` with the identifier `old` replaced by `new` where it stands as
/// a word.
pub(crate) fn replace_word(text: &str, old: &str, new: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    while let Some(i) = rest.find(old) {
        let before = if out.is_empty() && i == 0 {
            None
        } else {
            rest[..i].chars().next_back().or(out.chars().next_back())
        };
        let after = rest[i + old.len()..].chars().next();
        out.push_str(&rest[..i]);
        if word(before) || word(after) {
            out.push_str(old);
        } else {
            out.push_str(new);
        }
        rest = &rest[i + old.len()..];
    }
    out.push_str(rest);
    out
}

/// Whether a type change may lose data: anything but a known widening.
pub(crate) fn narrows(from: &str, to: &str) -> bool {
    let f = from.to_lowercase();
    let t = to.to_lowercase();
    let len = |s: &str, prefix: &str| -> Option<u64> {
        s.strip_prefix(prefix)?
            .strip_prefix('(')?
            .split(')')
            .next()?
            .parse()
            .ok()
    };
    let ints = ["smallint", "integer", "int", "bigint"];
    let rank = |s: &str| {
        ints.iter()
            .position(|i| s == *i || s.starts_with(&format!("{i}(")))
    };
    for prefix in ["character varying", "varchar", "char", "character"] {
        if let (Some(a), Some(b)) = (len(&f, prefix), len(&t, prefix)) {
            return b < a;
        }
    }
    if (f.starts_with("character varying") || f.starts_with("varchar"))
        && (t == "text" || t == "longtext")
    {
        return false;
    }
    if let (Some(a), Some(b)) = (rank(&f), rank(&t)) {
        return b < a;
    }
    if rank(&f).is_some()
        && (t.starts_with("numeric")
            || t.starts_with("decimal")
            || t == "double precision"
            || t == "real" && f == "smallint")
    {
        return false;
    }
    if f == "real" && t == "double precision" {
        return false;
    }
    // MySQL `enum('a','b')` → `enum('a','b','c')`: values added at the end.
    for kind in ["enum(", "set("] {
        if let (Some(a), Some(b)) = (f.strip_prefix(kind), t.strip_prefix(kind)) {
            let a = a.trim_end_matches(')');
            return !b.trim_end_matches(')').starts_with(&format!("{a},"));
        }
    }
    true
}

/// The script that turns `from` into `to` (both of one engine).
pub fn diff(from: &Snapshot, to: &Snapshot, renames: &Renames) -> Script {
    let mut script = Script::default();
    let m = model(from, to, renames, &mut script.hints);
    match to.engine.as_str() {
        "postgres" => postgres::render(&m, &mut script),
        "mysql" => mysql::render(&m, &mut script),
        _ => sqlite::render(&m, &mut script),
    }
    for u in to
        .unsupported
        .iter()
        .filter(|u| !from.unsupported.contains(u))
    {
        script.unsupported.push(u.clone());
    }
    for u in from
        .unsupported
        .iter()
        .filter(|u| !to.unsupported.contains(u))
    {
        script.unsupported.push(u.clone());
    }
    // Stable: by phase, then as each engine emitted them (by name).
    script.statements.sort_by_key(|s| s.phase);
    script
}

/// Kinds that are created inline with a table or after it.
pub(crate) fn is_fk(c: &Constraint) -> bool {
    c.kind == ConstraintKind::ForeignKey
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_replaced_whole() {
        assert_eq!(
            replace_word("UNIQUE (email, email2)", "email", "mail"),
            "UNIQUE (mail, email2)"
        );
        assert_eq!(replace_word("lower(email)", "email", "mail"), "lower(mail)");
        assert_eq!(replace_word("x_email", "email", "mail"), "x_email");
    }

    #[test]
    fn narrowing_types() {
        assert!(narrows("character varying(100)", "character varying(50)"));
        assert!(!narrows("character varying(50)", "character varying(100)"));
        assert!(!narrows("varchar(50)", "text"));
        assert!(narrows("text", "varchar(50)"));
        assert!(narrows("bigint", "integer"));
        assert!(!narrows("integer", "bigint"));
        assert!(!narrows("integer", "numeric(12,2)"));
        assert!(narrows("text", "integer"));
    }
}
