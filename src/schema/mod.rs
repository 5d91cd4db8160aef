//! What a database's schema is: a snapshot read from the server's own
//! catalogs (one file per engine), compared object by object, and rendered
//! back to SQL. Snapshots are plain data (serde), sorted, so that the JSON
//! and SQL forms are deterministic and a team can commit them.
//!
//! Types, defaults, index and constraint definitions are kept as the server
//! prints them: both sides of a comparison are read back from a server, so
//! the server normalizes them, and no SQL is re-parsed by hand.
//!
//! This module knows catalogs and DDL text, not revisions or graphs.

pub mod compare;
pub mod diff;
mod mysql;
mod postgres;
pub mod scratch;
pub mod slice;
pub mod source;
mod sqlite;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::Engine;
use crate::db::{Db, DbError};

pub use compare::{Change, Difference, Equality};

/// A schema, as one engine describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The engine that described it (`sqlite`, `postgres`, `mysql`).
    pub engine: String,
    /// Tables by name.
    pub tables: BTreeMap<String, Table>,
    /// Views by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub views: BTreeMap<String, View>,
    /// Sequences by name (PostgreSQL).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sequences: BTreeMap<String, Sequence>,
    /// PostgreSQL enum types and their labels, in order.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub enums: BTreeMap<String, Vec<String>>,
    /// PostgreSQL domains.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub domains: BTreeMap<String, Domain>,
    /// Comments on PostgreSQL enum types and domains, by type name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub type_comments: BTreeMap<String, String>,
    /// Objects braid does not read (triggers, functions, …), named so that
    /// they are reported, never silently left out of a comparison.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsupported: Vec<String>,
}

/// A table: its columns, keys, constraints and indexes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// The columns, in table order.
    pub columns: Vec<Column>,
    /// The primary key, if the table has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<Constraint>,
    /// Unique, foreign key and check constraints, sorted by kind and name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<Constraint>,
    /// Indexes that no constraint owns, sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    /// The table's comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The engine's own CREATE TABLE text where it keeps one (SQLite,
    /// MySQL's SHOW CREATE TABLE): what the SQL form prints. Not compared.
    #[serde(skip)]
    pub create_sql: Option<String>,
}

/// A column of a table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// The column's name.
    pub name: String,
    /// 1-based position in the table.
    pub position: usize,
    /// The type as the server prints it.
    #[serde(rename = "type")]
    pub data_type: String,
    /// Whether it accepts NULL.
    pub nullable: bool,
    /// The default expression, as the server prints it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// `always` or `by default` (identity), `autoincrement`, `serial`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// A PostgreSQL identity's sequence options that are not the defaults,
    /// as `CREATE TABLE` writes them (`START WITH 100 INCREMENT BY 5`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_options: Option<String>,
    /// The generation expression (or `stored`/`virtual` where the engine
    /// does not say more).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
    /// The collation, when it is not the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// The column's comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// What a constraint enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintKind {
    /// `PRIMARY KEY`.
    PrimaryKey,
    /// `UNIQUE`.
    Unique,
    /// `FOREIGN KEY … REFERENCES`.
    ForeignKey,
    /// `CHECK (…)`.
    Check,
}

impl ConstraintKind {
    /// The kind in words (`foreign key`), for messages.
    pub fn noun(self) -> &'static str {
        match self {
            ConstraintKind::PrimaryKey => "primary key",
            ConstraintKind::Unique => "unique constraint",
            ConstraintKind::ForeignKey => "foreign key",
            ConstraintKind::Check => "check constraint",
        }
    }
}

/// A table constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    /// The constraint's name (made up by the engine when `generated_name`).
    pub name: String,
    /// The engine made the name up (`t_pkey`, `t_ibfk_1`,
    /// `sqlite_autoindex_t_1`, or no name at all): matched by definition.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub generated_name: bool,
    /// What it enforces.
    pub kind: ConstraintKind,
    /// The definition as the server prints it (`UNIQUE (email)`,
    /// `FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE`).
    pub definition: String,
    /// The constraint's comment (PostgreSQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// An index that no constraint owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    /// The index's name.
    pub name: String,
    /// The engine made the name up: matched by definition.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub generated_name: bool,
    /// Whether the index is unique.
    pub unique: bool,
    /// The indexed columns or expressions, as the server prints them.
    pub columns: String,
    /// The `WHERE` of a partial index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// The access method when it is not the engine's default (`gin`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The index's comment (PostgreSQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The full CREATE INDEX text, for the SQL form. Not compared.
    #[serde(skip)]
    pub create_sql: String,
}

/// A view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    /// The query, as the server prints it.
    pub definition: String,
    /// The view's comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The full CREATE VIEW text, for the SQL form. Not compared.
    #[serde(skip)]
    pub create_sql: String,
}

/// A sequence (PostgreSQL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequence {
    /// Its integer type.
    #[serde(rename = "type")]
    pub data_type: String,
    /// The first value.
    pub start: String,
    /// The step.
    pub increment: String,
    /// The smallest value.
    pub min: String,
    /// The largest value.
    pub max: String,
    /// Whether it wraps around after the last value.
    pub cycle: bool,
    /// `table.column` for a sequence a column owns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
}

/// A domain (PostgreSQL): a type with constraints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    /// The underlying type.
    #[serde(rename = "type")]
    pub data_type: String,
    /// Whether it accepts NULL.
    pub nullable: bool,
    /// The default expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Its `CHECK` expressions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<String>,
}

/// Which objects a snapshot leaves out: braid's own tables and the
/// configured ignore patterns.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Exact names (the version table and its history).
    pub names: Vec<String>,
    /// `*` wildcard patterns (`audit_*`).
    pub patterns: Vec<String>,
}

impl Filter {
    /// Leaves out the version table `version_table`, its history table
    /// and `ignore`'s patterns.
    pub fn new(version_table: &str, ignore: &[String]) -> Filter {
        Filter {
            names: vec![version_table.to_owned(), format!("{version_table}_history")],
            patterns: ignore.to_vec(),
        }
    }

    /// The settings' filter: braid's tables and `[schema] ignore`.
    pub fn for_settings(settings: &crate::config::Settings) -> Filter {
        Filter::new(&settings.version_table, &settings.schema_ignore)
    }

    /// Whether a snapshot keeps the object named `name`.
    pub fn keeps(&self, name: &str) -> bool {
        !self.names.iter().any(|n| n == name) && !self.patterns.iter().any(|p| glob(p, name))
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            let Some(tail) = name.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i))
                .any(|i| glob(rest, &tail[i..]))
        }
    }
}

/// `[schema] dump` could not be rewritten.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// The database's schema could not be read.
    #[error("cannot read the database's schema for `[schema] dump`")]
    Read(#[source] DbError),
    /// The file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The dump file.
        path: std::path::PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

/// Rewrites `[schema] dump` (when configured) with the schema of the
/// database `db` is connected to: the file follows the database, as after
/// a run (Rails' habit).
///
/// # Errors
///
/// [`DumpError`]: the schema cannot be read, or the file cannot be written.
pub async fn write_dump(db: &mut Db, settings: &crate::config::Settings) -> Result<(), DumpError> {
    let Some(path) = &settings.schema_dump else {
        return Ok(());
    };
    let snap = introspect(db, &Filter::for_settings(settings))
        .await
        .map_err(DumpError::Read)?;
    std::fs::write(path, snap.to_sql()).map_err(|source| DumpError::Write {
        path: path.clone(),
        source,
    })
}

/// Reads the schema of the database `db` is connected to (on PostgreSQL,
/// the dialect's schema, or `public`).
///
/// # Errors
///
/// The catalog cannot be read.
///
/// ```no_run
/// # async fn doc(db: &mut braid::db::Db) -> Result<(), Box<dyn std::error::Error>> {
/// let filter = braid::schema::Filter::new("braid_version", &[]);
/// let snapshot = braid::schema::introspect(db, &filter).await?;
/// print!("{}", snapshot.to_json());
/// # Ok(()) }
/// ```
pub async fn introspect(db: &mut Db, filter: &Filter) -> Result<Snapshot, DbError> {
    introspect_with(db, filter, &mut Cache::default()).await
}

/// What [`introspect_with`] read before, to read again only what changed:
/// for a run that reads one database many times (`verify` reads it four
/// times per revision), so that the cost per read follows what moved,
/// not the size of the schema. SQLite tables are kept by the text of
/// their `CREATE TABLE` and `CREATE INDEX` statements, which determine
/// everything read of them.
#[derive(Debug, Clone, Default)]
pub struct Cache {
    sqlite_tables: std::collections::HashMap<String, Table>,
}

/// [`introspect`], reading again only what changed since `cache` was filled.
///
/// # Errors
///
/// The catalog cannot be read.
///
/// ```no_run
/// # async fn doc(db: &mut braid::db::Db) -> Result<(), Box<dyn std::error::Error>> {
/// let filter = braid::schema::Filter::new("braid_version", &[]);
/// let mut cache = braid::schema::Cache::default();
/// let before = braid::schema::introspect_with(db, &filter, &mut cache).await?;
/// db.exec("CREATE TABLE t (id integer)").await?;
/// let after = braid::schema::introspect_with(db, &filter, &mut cache).await?;
/// assert_eq!(after.tables.len(), before.tables.len() + 1);
/// # Ok(()) }
/// ```
pub async fn introspect_with(
    db: &mut Db,
    filter: &Filter,
    cache: &mut Cache,
) -> Result<Snapshot, DbError> {
    let mut snap = match db.engine() {
        Engine::Sqlite => sqlite::introspect(db, &|n| filter.keeps(n), cache).await?,
        Engine::Postgres => {
            let schema = db.dialect.schema.clone().unwrap_or_else(|| "public".into());
            postgres::introspect(db, &schema).await?
        }
        Engine::Mysql => mysql::introspect(db).await?,
    };
    snap.tables.retain(|n, _| filter.keeps(n));
    snap.views.retain(|n, _| filter.keeps(n));
    // A sequence a left-out table owns (its serial column's) goes with it.
    snap.sequences.retain(|n, s| {
        filter.keeps(n)
            && s.owned_by
                .as_deref()
                .and_then(|o| o.split_once('.'))
                .is_none_or(|(t, _)| filter.keeps(t))
    });
    snap.enums.retain(|n, _| filter.keeps(n));
    snap.domains.retain(|n, _| filter.keeps(n));
    snap.unsupported.sort();
    for t in snap.tables.values_mut() {
        t.constraints.sort_by(|a, b| {
            (a.kind, &a.name, &a.definition).cmp(&(b.kind, &b.name, &b.definition))
        });
        t.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        t.columns.sort_by_key(|c| c.position);
    }
    Ok(snap)
}

impl Snapshot {
    /// The schema as SQL that, run on an empty database of the same
    /// engine, gives back this snapshot.
    pub fn to_sql(&self) -> String {
        match self.engine.as_str() {
            "postgres" => postgres::render(self),
            "mysql" => mysql::render(self),
            _ => sqlite::render(self),
        }
    }

    /// The snapshot as pretty JSON, with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Whether it holds no object at all.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
            && self.views.is_empty()
            && self.sequences.is_empty()
            && self.enums.is_empty()
            && self.domains.is_empty()
    }
}

/// The objects of `snap` that its own SQL form does not give back, read
/// on `scratch` (an empty database of the same engine): what braid cannot
/// compare faithfully. Skeema's self-check.
///
/// # Errors
///
/// The scratch database fails the SQL form or cannot be read.
///
/// ```no_run
/// # async fn doc(db: &mut braid::db::Db, scratch: &mut braid::db::Db) -> Result<(), Box<dyn std::error::Error>> {
/// let filter = braid::schema::Filter::new("braid_version", &[]);
/// let snapshot = braid::schema::introspect(db, &filter).await?;
/// for object in braid::schema::self_check(&snapshot, scratch, &filter).await? {
///     eprintln!("not compared faithfully: {object}");
/// }
/// # Ok(()) }
/// ```
pub async fn self_check(
    snap: &Snapshot,
    scratch: &mut Db,
    filter: &Filter,
) -> Result<Vec<String>, DbError> {
    scratch.exec(&snap.to_sql()).await?;
    let back = introspect(scratch, filter).await?;
    let mut objects: Vec<String> = compare::compare(snap, &back)
        .into_iter()
        .map(|d| d.object)
        .collect();
    objects.dedup();
    Ok(objects)
}

/// Collapses runs of white space to one space and trims: server texts
/// that differ only in layout (SQLite keeps the user's) compare equal.
pub(crate) fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What carries a comment of its own beside its definition.
pub(crate) trait Commented {
    /// The comment, if any.
    fn comment(&self) -> Option<&str>;
}

impl Commented for Constraint {
    fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }
}

impl Commented for Index {
    fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_patterns() {
        assert!(glob("audit_*", "audit_log"));
        assert!(glob("*_tmp", "x_tmp"));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("audit_*", "users"));
        assert!(glob("users", "users"));
        let f = Filter::new("braid_version", &["audit_*".into()]);
        assert!(!f.keeps("braid_version_history"));
        assert!(!f.keeps("audit_x"));
        assert!(f.keeps("users"));
    }
}
