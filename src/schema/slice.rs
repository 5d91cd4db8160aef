//! The part of a schema a change can touch: what a proof needs to build
//! when the schema it starts from is a database read as it is.
//!
//! Building a large schema on a scratch database costs the server seconds
//! (PostgreSQL: a file per table and index, each synced), copying one
//! costs as much, while a script of 50 changes on 500 tables touches 50 of
//! them. The slice is those objects, the views built on them, the tables
//! whose keys point at them, and everything any of these needs to be
//! created (the tables their keys reference, their types, sequences and
//! the views they select from), transitively.
//!
//! Dependencies are found by name: an object depends on every object whose
//! name appears as a word in its description (column types, defaults,
//! constraint and index definitions, view queries). That errs on the side
//! of taking too much (a column named like a table), never too little for
//! what a snapshot holds; [`Slice::proves_the_same`] then checks that the
//! differ writes the very same scripts between the two slices as between
//! the whole schemas, so that the proof on the slice runs the script the
//! user gets.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::Snapshot;
use super::diff::{self, Renames};

/// Two schemas cut down to the objects a change between them touches.
#[derive(Debug, Clone)]
pub struct Slice {
    /// The first schema's part.
    pub from: Snapshot,
    /// The second schema's part.
    pub to: Snapshot,
    /// How many objects of the first schema the slice holds.
    pub objects: usize,
    /// How many objects the first schema holds.
    pub of: usize,
}

impl Slice {
    /// The slice of `from` and `to` that the change between them touches.
    pub fn of(from: &Snapshot, to: &Snapshot) -> Slice {
        let keep = touched(from, to);
        let (sliced_from, sliced_to) = (from.only(&keep), to.only(&keep));
        Slice {
            objects: sliced_from.object_count(),
            of: from.object_count(),
            from: sliced_from,
            to: sliced_to,
        }
    }

    /// Whether the differ writes the same scripts, both ways, between the
    /// two slices as between the whole schemas: then the proof on the
    /// slice runs what the user gets.
    pub fn proves_the_same(
        &self,
        from: &Snapshot,
        to: &Snapshot,
        up: &diff::Script,
        renames: &Renames,
    ) -> bool {
        let back = renames.reversed();
        diff::diff(&self.from, &self.to, renames) == *up
            && diff::diff(&self.to, &self.from, &back) == diff::diff(to, from, &back)
    }
}

/// The names of the objects (in either schema) that differ, that depend on
/// one that differs, or that one of these needs.
fn touched(from: &Snapshot, to: &Snapshot) -> BTreeSet<String> {
    let (a, b) = (descriptions(from), descriptions(to));
    let mut keep: BTreeSet<String> = a
        .keys()
        .chain(b.keys())
        .filter(|n| a.get(*n) != b.get(*n))
        .cloned()
        .collect();
    let changed = keep.clone();
    // Every object's description, both sides together, and the names it uses.
    let mut uses: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let names: HashSet<&str> = a.keys().chain(b.keys()).map(String::as_str).collect();
    let lower: HashMap<String, Vec<&str>> = names.iter().fold(HashMap::new(), |mut m, n| {
        m.entry(n.to_lowercase()).or_default().push(*n);
        m
    });
    let odd: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !n.chars().all(is_word))
        .collect();
    for (name, text) in a.iter().chain(b.iter()) {
        let used = uses.entry(name.as_str()).or_default();
        for word in text.split(|c: char| !is_word(c)).filter(|w| !w.is_empty()) {
            if let Some(found) = lower.get(&word.to_lowercase()) {
                used.extend(found.iter().filter(|n| **n != name));
            }
        }
        used.extend(odd.iter().filter(|n| **n != name && text.contains(**n)));
    }
    let is_view = |n: &str| from.views.contains_key(n) || to.views.contains_key(n);
    // What depends on a change: whatever names a changed object, and the
    // views over anything kept (a view must be dropped and made again
    // around a change under it; a table pointing at a kept table is not
    // changed by it unless it names a changed one).
    loop {
        let more: Vec<&str> = uses
            .iter()
            .filter(|(n, used)| {
                !keep.contains(**n)
                    && used
                        .iter()
                        .any(|u| changed.contains(*u) || (is_view(n) && keep.contains(*u)))
            })
            .map(|(n, _)| *n)
            .collect();
        if more.is_empty() {
            break;
        }
        keep.extend(more.into_iter().map(str::to_owned));
    }
    // What the kept objects need in order to be created.
    let mut todo: Vec<String> = keep.iter().cloned().collect();
    while let Some(n) = todo.pop() {
        for u in uses.get(n.as_str()).into_iter().flatten() {
            if keep.insert((*u).to_owned()) {
                todo.push((*u).to_owned());
            }
        }
    }
    keep
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// Each object's description by name: everything the snapshot says of it
/// (a name used by a table and a type on PostgreSQL gets both).
fn descriptions(s: &Snapshot) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut add =
        |name: &str, text: String| out.entry(name.to_owned()).or_default().push_str(&text);
    for (n, t) in &s.tables {
        add(n, json(t));
    }
    for (n, v) in &s.views {
        add(n, json(v));
    }
    for (n, q) in &s.sequences {
        add(n, json(q));
    }
    for (n, e) in &s.enums {
        add(n, json(e));
    }
    for (n, d) in &s.domains {
        add(n, json(d));
    }
    for (n, c) in &s.type_comments {
        add(n, format!("comment {c:?}"));
    }
    out
}

/// A value's JSON form: a description compared and searched as text.
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

impl Snapshot {
    /// This snapshot with only the objects named in `keep`.
    pub fn only(&self, keep: &BTreeSet<String>) -> Snapshot {
        fn cut<T: Clone>(m: &BTreeMap<String, T>, keep: &BTreeSet<String>) -> BTreeMap<String, T> {
            m.iter()
                .filter(|(n, _)| keep.contains(*n))
                .map(|(n, v)| (n.clone(), v.clone()))
                .collect()
        }
        Snapshot {
            engine: self.engine.clone(),
            tables: cut(&self.tables, keep),
            views: cut(&self.views, keep),
            sequences: cut(&self.sequences, keep),
            enums: cut(&self.enums, keep),
            domains: cut(&self.domains, keep),
            type_comments: cut(&self.type_comments, keep),
            unsupported: self.unsupported.clone(),
        }
    }

    /// How many objects it holds (tables, views, sequences and types).
    pub fn object_count(&self) -> usize {
        self.tables.len()
            + self.views.len()
            + self.sequences.len()
            + self.enums.len()
            + self.domains.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Column, Constraint, ConstraintKind, Table, View};

    fn table(columns: &[(&str, &str)], fks: &[&str]) -> Table {
        Table {
            columns: columns
                .iter()
                .enumerate()
                .map(|(i, (name, ty))| Column {
                    name: (*name).to_owned(),
                    position: i + 1,
                    data_type: (*ty).to_owned(),
                    nullable: true,
                    ..Column::default()
                })
                .collect(),
            constraints: fks
                .iter()
                .map(|t| Constraint {
                    name: format!("fk_{t}"),
                    generated_name: false,
                    kind: ConstraintKind::ForeignKey,
                    definition: format!("FOREIGN KEY (parent_id) REFERENCES {t}(id)"),
                    comment: None,
                })
                .collect(),
            ..Table::default()
        }
    }

    fn view(query: &str) -> View {
        View {
            definition: query.to_owned(),
            comment: None,
            create_sql: String::new(),
        }
    }

    /// A chain of tables t1 ← t2 ← … ← t6 (each pointing at the one
    /// before), a view over t3 and a view over that view, an enum.
    fn chain() -> Snapshot {
        let mut s = Snapshot {
            engine: "postgres".to_owned(),
            ..Snapshot::default()
        };
        s.tables
            .insert("t1".into(), table(&[("id", "bigint")], &[]));
        for i in 2..=6 {
            let t = table(
                &[("id", "bigint"), ("parent_id", "bigint")],
                &[&format!("t{}", i - 1)],
            );
            s.tables.insert(format!("t{i}"), t);
        }
        s.tables.insert(
            "flags".into(),
            table(&[("id", "bigint"), ("mood", "mood")], &[]),
        );
        s.enums
            .insert("mood".into(), vec!["sad".into(), "ok".into()]);
        s.views.insert("v3".into(), view(" SELECT t3.id FROM t3;"));
        s.views.insert("vv3".into(), view(" SELECT v3.id FROM v3;"));
        s
    }

    fn names(s: &Snapshot) -> Vec<&str> {
        s.tables
            .keys()
            .chain(s.views.keys())
            .chain(s.enums.keys())
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn a_changed_table_brings_its_dependents_and_what_they_need() {
        let from = chain();
        let mut to = chain();
        to.tables.get_mut("t3").expect("t3").columns[0].data_type = "integer".into();
        let slice = Slice::of(&from, &to);
        // t4 points at t3 (its key may change with it), the views are over
        // it, and t1, t2 are what t3 needs; t5, t6 and flags are left out.
        assert_eq!(names(&slice.from), ["t1", "t2", "t3", "t4", "v3", "vv3"]);
        assert_eq!((slice.objects, slice.of), (6, 10));
        let up = diff::diff(&from, &to, &Renames::default());
        assert!(slice.proves_the_same(&from, &to, &up, &Renames::default()));
    }

    #[test]
    fn a_changed_type_brings_the_tables_using_it() {
        let from = chain();
        let mut to = chain();
        to.enums.get_mut("mood").expect("mood").push("glad".into());
        let slice = Slice::of(&from, &to);
        assert_eq!(names(&slice.to), ["flags", "mood"]);
    }

    #[test]
    fn a_new_table_brings_what_it_references() {
        let from = chain();
        let mut to = chain();
        to.tables.insert(
            "t7".into(),
            table(&[("id", "bigint"), ("parent_id", "bigint")], &["t6"]),
        );
        let slice = Slice::of(&from, &to);
        assert_eq!(names(&slice.to), ["t1", "t2", "t3", "t4", "t5", "t6", "t7"]);
        assert_eq!(names(&slice.from), ["t1", "t2", "t3", "t4", "t5", "t6"]);
    }

    #[test]
    fn a_slice_that_would_change_the_script_is_refused() {
        let from = chain();
        let mut to = chain();
        to.tables.get_mut("t3").expect("t3").columns[0].data_type = "integer".into();
        let up = diff::diff(&from, &to, &Renames::default());
        let mut slice = Slice::of(&from, &to);
        assert!(slice.proves_the_same(&from, &to, &up, &Renames::default()));
        // The views over t3 left out by hand: the whole script drops and
        // makes them again around the change, the slice's would not.
        slice.from.views.clear();
        slice.to.views.clear();
        assert!(!slice.proves_the_same(&from, &to, &up, &Renames::default()));
    }
}
