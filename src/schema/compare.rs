//! Object-level differences between two snapshots.
//!
//! Two equalities: strict (everything the snapshot holds) and equivalent
//! (column order, integer display width and redundant collations ignored).
//! A comparison in equivalent mode still lists what only strict equality
//! sees, marked `strict_only`, so that verify and drift can show them as
//! notes. Constraints and indexes whose names the engine generated are
//! matched by definition, never by name.

use serde::Serialize;

use super::{Column, Constraint, Index, Snapshot, Table, squash};

/// Which equality a comparison asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Equality {
    /// Everything counts, column order included.
    Strict,
    /// What changes behaviour counts; column order, display widths and spelled-out defaults are notes.
    Equivalent,
}

/// How an object differs from the first snapshot to the second.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Only in the second snapshot.
    Added,
    /// Only in the first snapshot.
    Removed,
    /// In both, different: what differs, first → second.
    Changed(String),
}

/// One object that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// `table users`, `column users.email`, `index ix_users_email`,
    /// `enum status`…
    pub object: String,
    /// A part of the object (an enum value), when only that differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
    /// How it differs.
    pub change: Change,
    /// Only strict equality sees it (column order, display width, a
    /// collation spelled out that is the default).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub strict_only: bool,
}

impl Difference {
    fn new(object: String, change: Change) -> Difference {
        Difference {
            object,
            part: None,
            change,
            strict_only: false,
        }
    }

    /// The difference in words, with what to call "only in the second"
    /// and "only in the first" (`left behind` / `missing` for a stairway).
    pub fn describe(&self, added: &str, removed: &str) -> String {
        let what = match &self.part {
            Some(p) => format!("{}: {p}", self.object),
            None => self.object.clone(),
        };
        let note = if self.strict_only {
            " (strict equality only)"
        } else {
            ""
        };
        match &self.change {
            Change::Added => format!("{what} {added}{note}"),
            Change::Removed => format!("{what} {removed}{note}"),
            Change::Changed(how) => format!("{what} changed: {how}{note}"),
        }
    }
}

/// Every difference from `a` to `b`, sorted by object. In equivalent mode
/// the strict-only ones are included, marked.
pub fn compare(a: &Snapshot, b: &Snapshot) -> Vec<Difference> {
    let mut out = Vec::new();
    keyed(&mut out, "table", &a.tables, &b.tables, table);
    keyed(&mut out, "view", &a.views, &b.views, |out, name, x, y| {
        if squash(&x.definition) != squash(&y.definition) {
            out.push(Difference::new(
                format!("view {name}"),
                Change::Changed("definition".into()),
            ));
        }
        field(
            out,
            &format!("view {name}"),
            "comment",
            &x.comment,
            &y.comment,
        );
    });
    keyed(
        &mut out,
        "sequence",
        &a.sequences,
        &b.sequences,
        |out, name, x, y| {
            let obj = format!("sequence {name}");
            for (what, p, q) in [
                ("type", &x.data_type, &y.data_type),
                ("start", &x.start, &y.start),
                ("increment", &x.increment, &y.increment),
                ("minimum", &x.min, &y.min),
                ("maximum", &x.max, &y.max),
            ] {
                if p != q {
                    out.push(Difference::new(
                        obj.clone(),
                        Change::Changed(format!("{what} {p} → {q}")),
                    ));
                }
            }
            if x.cycle != y.cycle {
                out.push(Difference::new(
                    obj.clone(),
                    Change::Changed(format!("cycle {} → {}", x.cycle, y.cycle)),
                ));
            }
            field(out, &obj, "owned by", &x.owned_by, &y.owned_by);
        },
    );
    keyed(&mut out, "enum", &a.enums, &b.enums, |out, name, x, y| {
        let obj = format!("enum {name}");
        for v in y.iter().filter(|v| !x.contains(v)) {
            out.push(Difference {
                part: Some(format!("value '{v}'")),
                ..Difference::new(obj.clone(), Change::Added)
            });
        }
        for v in x.iter().filter(|v| !y.contains(v)) {
            out.push(Difference {
                part: Some(format!("value '{v}'")),
                ..Difference::new(obj.clone(), Change::Removed)
            });
        }
        let common_x: Vec<&String> = x.iter().filter(|v| y.contains(v)).collect();
        let common_y: Vec<&String> = y.iter().filter(|v| x.contains(v)).collect();
        if common_x != common_y {
            out.push(Difference::new(
                obj,
                Change::Changed(format!("value order {x:?} → {y:?}")),
            ));
        }
    });
    let commented: std::collections::BTreeSet<&String> = a
        .type_comments
        .keys()
        .chain(b.type_comments.keys())
        .collect();
    for name in commented {
        let (x, y) = (a.type_comments.get(name), b.type_comments.get(name));
        field(
            &mut out,
            &format!("type {name}"),
            "comment",
            &x.cloned(),
            &y.cloned(),
        );
    }
    for u in b.unsupported.iter().filter(|u| !a.unsupported.contains(u)) {
        out.push(Difference::new(u.clone(), Change::Added));
    }
    for u in a.unsupported.iter().filter(|u| !b.unsupported.contains(u)) {
        out.push(Difference::new(u.clone(), Change::Removed));
    }
    keyed(
        &mut out,
        "domain",
        &a.domains,
        &b.domains,
        |out, name, x, y| {
            if x != y {
                out.push(Difference::new(
                    format!("domain {name}"),
                    Change::Changed(format!(
                        "{} → {}",
                        serde_json::to_string(x).unwrap_or_default(),
                        serde_json::to_string(y).unwrap_or_default()
                    )),
                ));
            }
        },
    );
    out
}

/// Whether a difference's `object` is `container` or a part of it (a
/// column, key, constraint or index of the table `container` names).
pub fn within(object: &str, container: &str) -> bool {
    if object == container {
        return true;
    }
    match container.strip_prefix("table ") {
        Some(t) => {
            object.starts_with(&format!("column {t}."))
                || object.ends_with(&format!(" on {t}"))
                || object == format!("primary key of {t}")
        }
        None => false,
    }
}

/// Whether `a` and `b` are equal under `eq`.
pub fn equal(a: &Snapshot, b: &Snapshot, eq: Equality) -> bool {
    compare(a, b)
        .iter()
        .all(|d| eq == Equality::Equivalent && d.strict_only)
}

/// Objects in two name-keyed maps: added, removed, and `both` for those in
/// both.
fn keyed<T>(
    out: &mut Vec<Difference>,
    noun: &str,
    a: &std::collections::BTreeMap<String, T>,
    b: &std::collections::BTreeMap<String, T>,
    mut both: impl FnMut(&mut Vec<Difference>, &str, &T, &T),
) {
    for (name, x) in a {
        match b.get(name) {
            Some(y) => both(out, name, x, y),
            None => out.push(Difference::new(format!("{noun} {name}"), Change::Removed)),
        }
    }
    for name in b.keys().filter(|n| !a.contains_key(*n)) {
        out.push(Difference::new(format!("{noun} {name}"), Change::Added));
    }
}

fn field(out: &mut Vec<Difference>, obj: &str, what: &str, a: &Option<String>, b: &Option<String>) {
    if a != b {
        out.push(Difference::new(
            obj.to_owned(),
            Change::Changed(format!("{what} {} → {}", show(a), show(b))),
        ));
    }
}

fn show(v: &Option<String>) -> String {
    match v {
        Some(s) => s.clone(),
        None => "none".into(),
    }
}

/// `int(11)` → `int`: MySQL's display width says nothing about the values
/// (and 8.0.19 stopped printing it).
fn without_display_width(t: &str) -> String {
    for int in ["tinyint", "smallint", "mediumint", "int", "bigint"] {
        if let Some(rest) = t.strip_prefix(int)
            && let Some(rest) = rest.strip_prefix('(')
            && let Some((digits, after)) = rest.split_once(')')
            && digits.bytes().all(|b| b.is_ascii_digit())
        {
            return format!("{int}{after}");
        }
    }
    t.to_owned()
}

fn table(out: &mut Vec<Difference>, name: &str, a: &Table, b: &Table) {
    for x in &a.columns {
        match b.columns.iter().find(|c| c.name == x.name) {
            Some(y) => column(out, name, x, y),
            None => out.push(Difference::new(
                format!("column {name}.{}", x.name),
                Change::Removed,
            )),
        }
    }
    for y in b
        .columns
        .iter()
        .filter(|y| !a.columns.iter().any(|x| x.name == y.name))
    {
        out.push(Difference::new(
            format!("column {name}.{}", y.name),
            Change::Added,
        ));
    }
    // Column order among the columns both have.
    let order = |t: &Table, other: &Table| -> Vec<String> {
        t.columns
            .iter()
            .filter(|c| other.columns.iter().any(|o| o.name == c.name))
            .map(|c| c.name.clone())
            .collect()
    };
    let (oa, ob) = (order(a, b), order(b, a));
    if oa != ob {
        out.push(Difference {
            strict_only: true,
            ..Difference::new(
                format!("table {name}"),
                Change::Changed(format!(
                    "column order ({}) → ({})",
                    oa.join(", "),
                    ob.join(", ")
                )),
            )
        });
    }
    let pk = |t: &Table| t.primary_key.as_ref().map(|c| squash(&c.definition));
    if pk(a) != pk(b) {
        out.push(Difference::new(
            format!("primary key of {name}"),
            match (pk(a), pk(b)) {
                (None, _) => Change::Added,
                (_, None) => Change::Removed,
                (Some(x), Some(y)) => Change::Changed(format!("{x} → {y}")),
            },
        ));
    }
    matched(
        out,
        &a.constraints,
        &b.constraints,
        |c| (c.name.as_str(), c.generated_name),
        constraint_key,
        // A name the engine made up means nothing to the reader: the
        // definition says which one it is.
        |c: &Constraint| match c.generated_name {
            true => format!("{} {} on {name}", c.kind.noun(), squash(&c.definition)),
            false => format!("{} {} on {name}", c.kind.noun(), c.name),
        },
    );
    matched(
        out,
        &a.indexes,
        &b.indexes,
        |i| (i.name.as_str(), i.generated_name),
        index_key,
        |i: &Index| match i.generated_name {
            true => format!(
                "{}index on {name} ({})",
                if i.unique { "unique " } else { "" },
                squash(&i.columns)
            ),
            false => format!("index {} on {name}", i.name),
        },
    );
    field(
        out,
        &format!("table {name}"),
        "comment",
        &a.comment,
        &b.comment,
    );
}

pub(crate) fn constraint_key(c: &Constraint) -> String {
    format!("{:?} {}", c.kind, squash(&c.definition))
}

pub(crate) fn index_key(i: &Index) -> String {
    format!(
        "{} ({}) {} {}",
        if i.unique { "unique" } else { "" },
        squash(&i.columns),
        i.predicate.as_deref().map(squash).unwrap_or_default(),
        i.method.as_deref().unwrap_or_default()
    )
}

/// Constraints or indexes of two tables, paired: by name where both sides
/// chose it, by definition (`key`) where a side's name is generated.
pub(crate) struct Pairing<'a, 'b, T> {
    /// Only in the first.
    pub removed: Vec<&'a T>,
    /// Only in the second.
    pub added: Vec<&'b T>,
    /// Same name, different definitions.
    pub changed: Vec<(&'a T, &'b T)>,
    /// Paired with the same definition (their comments may differ).
    pub same: Vec<(&'a T, &'b T)>,
}

pub(crate) fn pair<'a, 'b, T>(
    a: &'a [T],
    b: &'b [T],
    name: impl Fn(&T) -> (&str, bool),
    key: impl Fn(&T) -> String,
) -> Pairing<'a, 'b, T> {
    let mut out = Pairing {
        removed: Vec::new(),
        added: Vec::new(),
        changed: Vec::new(),
        same: Vec::new(),
    };
    let mut used_b = vec![false; b.len()];
    let mut left = Vec::new();
    for x in a {
        let (n, generated) = name(x);
        let by_name = (!generated)
            .then(|| {
                b.iter()
                    .enumerate()
                    .find(|(i, y)| !used_b[*i] && name(y) == (n, false))
            })
            .flatten();
        match by_name {
            Some((i, y)) => {
                used_b[i] = true;
                if key(x) != key(y) {
                    out.changed.push((x, y));
                } else {
                    out.same.push((x, y));
                }
            }
            None => left.push(x),
        }
    }
    for x in left {
        let found = b
            .iter()
            .enumerate()
            .find(|(i, y)| !used_b[*i] && key(x) == key(y) && (name(x).1 || name(y).1));
        match found {
            Some((i, y)) => {
                used_b[i] = true;
                out.same.push((x, y));
            }
            None => out.removed.push(x),
        }
    }
    out.added = b
        .iter()
        .enumerate()
        .filter(|(i, _)| !used_b[*i])
        .map(|(_, y)| y)
        .collect();
    out
}

/// The differences between paired constraints or indexes.
fn matched<T: super::Commented>(
    out: &mut Vec<Difference>,
    a: &[T],
    b: &[T],
    name: impl Fn(&T) -> (&str, bool),
    key: impl Fn(&T) -> String,
    label: impl Fn(&T) -> String,
) {
    let p = pair(a, b, name, &key);
    for (x, y) in &p.same {
        let text = |c: Option<&str>| c.map(str::to_owned);
        field(
            out,
            &label(x),
            "comment",
            &text(x.comment()),
            &text(y.comment()),
        );
    }
    for (x, y) in p.changed {
        out.push(Difference::new(
            label(x),
            Change::Changed(format!("{} → {}", key(x), key(y))),
        ));
    }
    for x in p.removed {
        out.push(Difference::new(label(x), Change::Removed));
    }
    for y in p.added {
        out.push(Difference::new(label(y), Change::Added));
    }
}

fn column(out: &mut Vec<Difference>, table: &str, a: &Column, b: &Column) {
    let obj = format!("column {table}.{}", a.name);
    if a.data_type != b.data_type {
        let width_only = without_display_width(&a.data_type) == without_display_width(&b.data_type);
        out.push(Difference {
            strict_only: width_only,
            ..Difference::new(
                obj.clone(),
                Change::Changed(format!("type {} → {}", a.data_type, b.data_type)),
            )
        });
    }
    if a.nullable != b.nullable {
        let word = |n: bool| if n { "NULL" } else { "NOT NULL" };
        out.push(Difference::new(
            obj.clone(),
            Change::Changed(format!("{} → {}", word(a.nullable), word(b.nullable))),
        ));
    }
    field(out, &obj, "default", &a.default, &b.default);
    field(out, &obj, "identity", &a.identity, &b.identity);
    field(
        out,
        &obj,
        "identity options",
        &a.identity_options,
        &b.identity_options,
    );
    field(out, &obj, "generated", &a.generated, &b.generated);
    field(out, &obj, "comment", &a.comment, &b.comment);
    if a.collation != b.collation {
        // A collation on one side only is the default spelled out.
        let redundant = a.collation.is_none() || b.collation.is_none();
        out.push(Difference {
            strict_only: redundant,
            ..Difference::new(
                obj,
                Change::Changed(format!(
                    "collation {} → {}",
                    show(&a.collation),
                    show(&b.collation)
                )),
            )
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::ConstraintKind;
    use super::*;

    fn col(name: &str, pos: usize, ty: &str) -> Column {
        Column {
            identity_options: None,
            name: name.into(),
            position: pos,
            data_type: ty.into(),
            nullable: true,
            ..Column::default()
        }
    }

    fn snap(tables: Vec<(&str, Table)>) -> Snapshot {
        Snapshot {
            engine: "sqlite".into(),
            tables: tables.into_iter().map(|(n, t)| (n.to_owned(), t)).collect(),
            ..Snapshot::default()
        }
    }

    #[test]
    fn column_order_and_display_width_are_strict_only() {
        let a = snap(vec![(
            "t",
            Table {
                columns: vec![col("a", 1, "int(11)"), col("b", 2, "text")],
                ..Table::default()
            },
        )]);
        let b = snap(vec![(
            "t",
            Table {
                columns: vec![col("b", 1, "text"), col("a", 2, "int")],
                ..Table::default()
            },
        )]);
        let d = compare(&a, &b);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d.iter().all(|d| d.strict_only));
        assert!(equal(&a, &b, Equality::Equivalent));
        assert!(!equal(&a, &b, Equality::Strict));
    }

    #[test]
    fn generated_names_match_by_definition() {
        let fk = |name: &str, generated| Constraint {
            comment: None,
            name: name.into(),
            generated_name: generated,
            kind: ConstraintKind::ForeignKey,
            definition: "FOREIGN KEY (u) REFERENCES users(id)".into(),
        };
        let t = |c: Constraint| Table {
            columns: vec![col("u", 1, "int")],
            constraints: vec![c],
            ..Table::default()
        };
        let a = snap(vec![("t", t(fk("t_ibfk_1", true)))]);
        let b = snap(vec![("t", t(fk("t_ibfk_2", true)))]);
        assert!(compare(&a, &b).is_empty());
        // Named on both sides: the name counts.
        let a = snap(vec![("t", t(fk("fk_one", false)))]);
        let b = snap(vec![("t", t(fk("fk_two", false)))]);
        let d = compare(&a, &b);
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(
            d[0].describe("left behind", "missing"),
            "foreign key fk_one on t missing"
        );
        // A made-up name is no name to the reader: the definition is.
        let check = |definition: &str| Constraint {
            comment: None,
            name: "check constraint check on products".into(),
            generated_name: true,
            kind: ConstraintKind::Check,
            definition: definition.into(),
        };
        let a = snap(vec![("products", t(check("CHECK (price >= 0)")))]);
        let b = snap(vec![("products", t(check("CHECK (price > 0)")))]);
        let d: Vec<String> = compare(&a, &b)
            .iter()
            .map(|d| d.describe("left behind", "missing"))
            .collect();
        assert_eq!(
            d,
            [
                "check constraint CHECK (price >= 0) on products missing",
                "check constraint CHECK (price > 0) on products left behind"
            ]
        );
        let ix = |generated| Index {
            comment: None,
            name: "sqlite_autoindex_categories_1".into(),
            generated_name: generated,
            unique: true,
            columns: "slug".into(),
            predicate: None,
            method: None,
            create_sql: String::new(),
        };
        let a = snap(vec![("categories", Table::default())]);
        let mut with = Table::default();
        with.indexes.push(ix(true));
        let b = snap(vec![("categories", with)]);
        assert_eq!(
            compare(&a, &b)[0].describe("left behind", "missing"),
            "unique index on categories (slug) left behind"
        );
    }

    #[test]
    fn enum_values_left_behind() {
        let mut a = Snapshot::default();
        a.enums
            .insert("status".into(), vec!["active".into(), "closed".into()]);
        let mut b = a.clone();
        b.enums.get_mut("status").unwrap().push("archived".into());
        let d = compare(&a, &b);
        assert_eq!(
            d.iter()
                .map(|d| d.describe("not removed", "missing"))
                .collect::<Vec<_>>(),
            ["enum status: value 'archived' not removed"]
        );
    }
}
