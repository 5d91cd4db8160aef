//! Conflict analysis: the tables, columns and indexes that more than one
//! branch changes since their branch point, for every merge point and for
//! the current heads. Two teams altering the same table in an order nobody
//! chose is the hazard; `check` reports each pair (`--strict`: as errors).
//!
//! The SQL is read with a real parser (sqlparser, in the URL's dialect):
//! DDL (tables, columns, indexes) and data changes (INSERT, UPDATE, DELETE
//! touch their table); a statement it cannot parse is left out, not
//! guessed at.

use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet};
use std::fmt;

use sqlparser::ast::{
    AlterTableOperation, FromTable, ObjectName, ObjectType, Statement, TableFactor, TableObject,
};
use sqlparser::dialect::{Dialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

use crate::config::Engine;
use crate::graph::{Graph, Node};
use crate::history::History;
use crate::migration::split::split;

/// A database object a revision changes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Object {
    /// A table.
    Table(String),
    /// A column (table, column).
    Column(String, String),
    /// An index.
    Index(String),
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Object::Table(t) => write!(f, "table `{t}`"),
            Object::Column(t, c) => write!(f, "column `{t}.{c}`"),
            Object::Index(i) => write!(f, "index `{i}`"),
        }
    }
}

/// One object changed on two branches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// What both branches change.
    pub object: Object,
    /// The first revision on each side that changes it.
    pub revisions: [String; 2],
    /// The merge revision joining the branches, or `None` for two heads.
    pub merge: Option<String>,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is changed on two branches, by `{}` and by `{}`, ",
            self.object, self.revisions[0], self.revisions[1]
        )?;
        match &self.merge {
            Some(m) => write!(f, "merged by `{m}`: their order was never chosen"),
            None => write!(
                f,
                "both heads: whichever runs second may fail or undo the other"
            ),
        }
    }
}

fn dialect(engine: Engine) -> Box<dyn Dialect> {
    match engine {
        Engine::Postgres => Box::new(PostgreSqlDialect {}),
        Engine::Mysql => Box::new(MySqlDialect {}),
        Engine::Sqlite => Box::new(SQLiteDialect {}),
    }
}

/// The last part of a name, unquoted and lower-cased.
fn name(o: &ObjectName) -> String {
    let s = o.to_string();
    let last = s.rsplit('.').next().unwrap_or(&s);
    last.trim_matches(|c| c == '"' || c == '`' || c == '[' || c == ']')
        .to_lowercase()
}

fn ident(i: &sqlparser::ast::Ident) -> String {
    i.value.to_lowercase()
}

/// What one statement changes.
fn objects(stmt: &Statement, out: &mut BTreeSet<Object>) {
    match stmt {
        Statement::CreateTable(ct) => {
            out.insert(Object::Table(name(&ct.name)));
        }
        Statement::AlterTable {
            name: table,
            operations,
            ..
        } => {
            let t = name(table);
            out.insert(Object::Table(t.clone()));
            for op in operations {
                match op {
                    AlterTableOperation::AddColumn { column_def, .. } => {
                        out.insert(Object::Column(t.clone(), ident(&column_def.name)));
                    }
                    AlterTableOperation::DropColumn { column_names, .. } => {
                        for c in column_names {
                            out.insert(Object::Column(t.clone(), ident(c)));
                        }
                    }
                    AlterTableOperation::RenameColumn {
                        old_column_name,
                        new_column_name,
                    } => {
                        out.insert(Object::Column(t.clone(), ident(old_column_name)));
                        out.insert(Object::Column(t.clone(), ident(new_column_name)));
                    }
                    AlterTableOperation::AlterColumn { column_name, .. } => {
                        out.insert(Object::Column(t.clone(), ident(column_name)));
                    }
                    AlterTableOperation::ChangeColumn {
                        old_name, new_name, ..
                    } => {
                        out.insert(Object::Column(t.clone(), ident(old_name)));
                        out.insert(Object::Column(t.clone(), ident(new_name)));
                    }
                    _ => {}
                }
            }
        }
        Statement::CreateIndex(ci) => {
            if let Some(n) = &ci.name {
                out.insert(Object::Index(name(n)));
            }
            out.insert(Object::Table(name(&ci.table_name)));
        }
        // Data changes touch a table too: two branches rewriting the same
        // rows in an order nobody chose is the same hazard.
        Statement::Insert(insert) => {
            if let TableObject::TableName(n) = &insert.table {
                out.insert(Object::Table(name(n)));
            }
        }
        Statement::Update { table, .. } => {
            if let TableFactor::Table { name: n, .. } = &table.relation {
                out.insert(Object::Table(name(n)));
            }
        }
        Statement::Delete(delete) => {
            let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
            for t in from {
                if let TableFactor::Table { name: n, .. } = &t.relation {
                    out.insert(Object::Table(name(n)));
                }
            }
        }
        Statement::Drop {
            object_type, names, ..
        } => {
            for n in names {
                match object_type {
                    ObjectType::Table => {
                        out.insert(Object::Table(name(n)));
                    }
                    ObjectType::Index => {
                        out.insert(Object::Index(name(n)));
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// The objects a revision's upgrade changes.
pub fn touched(h: &History, n: Node, engine: Engine) -> BTreeSet<Object> {
    let m = h.migration(n);
    let d = dialect(engine);
    let mut out = BTreeSet::new();
    let lexer = match engine {
        Engine::Postgres => crate::migration::split::Lexer::POSTGRES,
        Engine::Mysql => crate::migration::split::Lexer::MYSQL,
        Engine::Sqlite => crate::migration::split::Lexer::SQLITE,
    };
    for stmt in split(m.up_sql(), m.up.first_line, lexer) {
        if let Ok(parsed) = Parser::parse_sql(d.as_ref(), stmt.text) {
            for s in &parsed {
                objects(s, &mut out);
            }
        }
    }
    out
}

/// The revisions only `a` reaches and only `b` reaches, walking down from
/// both at once by `down_revisions` until every open path is shared (git's
/// merge-base walk): the work is the size of the two branches, not of the
/// history. Nodes are numbered topologically, so the highest number is the
/// newest revision left to visit.
fn sides(g: &Graph, a: Node, b: Node) -> (Vec<Node>, Vec<Node>) {
    const A: u8 = 1;
    const B: u8 = 2;
    let mut paint: HashMap<Node, u8> = HashMap::new();
    let mut queue: BinaryHeap<Node> = BinaryHeap::new();
    let mut queued: HashSet<Node> = HashSet::new();
    // Queued nodes painted by one side only: while there are none, every
    // path left leads through revisions both sides share.
    let mut one_sided = 0usize;
    for (n, f) in [(a, A), (b, B)] {
        paint.insert(n, f);
        queue.push(n);
        queued.insert(n);
        one_sided += 1;
    }
    while one_sided > 0 {
        let Some(n) = queue.pop() else { break };
        queued.remove(&n);
        let flags = paint[&n];
        if flags != A | B {
            one_sided -= 1;
        }
        for &p in g.parents(n) {
            let old = paint.get(&p).copied().unwrap_or(0);
            let new = old | flags;
            if new == old {
                continue;
            }
            paint.insert(p, new);
            if queued.insert(p) {
                queue.push(p);
                if new != A | B {
                    one_sided += 1;
                }
            } else if old != 0 && old != A | B && new == A | B {
                // Queued as one-sided; now shared.
                one_sided -= 1;
            }
        }
    }
    let only = |flag: u8| {
        let mut v: Vec<Node> = paint
            .iter()
            .filter(|(_, f)| **f == flag)
            .map(|(n, _)| *n)
            .collect();
        v.sort();
        v
    };
    (only(A), only(B))
}

/// Every object changed on both sides of every merge point, and of every
/// pair of heads.
pub fn analyze(h: &History, engine: Engine) -> Vec<Conflict> {
    let g = &h.graph;
    let mut cache: HashMap<Node, BTreeSet<Object>> = HashMap::new();
    let mut touched_by = |nodes: &[Node]| {
        // Object -> the oldest revision on this side that changes it.
        let mut first: BTreeMap<Object, Node> = BTreeMap::new();
        for &n in nodes {
            let objs = cache.entry(n).or_insert_with(|| touched(h, n, engine));
            for o in objs.iter() {
                first.entry(o.clone()).or_insert(n);
            }
        }
        first
    };
    let mut out = Vec::new();
    let mut pair = |a: Node, b: Node, merge: Option<Node>, out: &mut Vec<Conflict>| {
        let (sa, sb) = sides(g, a, b);
        let ta = touched_by(&sa);
        let tb = touched_by(&sb);
        for (o, ra) in &ta {
            if let Some(rb) = tb.get(o) {
                out.push(Conflict {
                    object: o.clone(),
                    revisions: [g.id(*ra).to_string(), g.id(*rb).to_string()],
                    merge: merge.map(|m| g.id(m).to_string()),
                });
            }
        }
    };
    for &m in g.sorted_nodes() {
        let parents = g.parents(m);
        for i in 0..parents.len() {
            for j in i + 1..parents.len() {
                pair(parents[i], parents[j], Some(m), &mut out);
            }
        }
    }
    let heads = g.heads();
    for i in 0..heads.len() {
        for j in i + 1..heads.len() {
            pair(heads[i], heads[j], None, &mut out);
        }
    }
    out
}
