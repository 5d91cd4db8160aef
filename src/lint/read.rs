//! Reads one statement into what the safety rules ask of it: its kind, the
//! table it touches and, for `ALTER TABLE`, each action.
//!
//! Every statement is read by keywords over a token stream (quotes,
//! comments and dollar quotes respected), so a statement no parser knows
//! is still read, never skipped; sqlparser then parses it in the engine's
//! dialect, which says whether the reading rests on a full parse and
//! judges default expressions (see [`volatile`]). Knows nothing of files,
//! revisions or databases.

#[cfg(feature = "lint")]
use sqlparser::ast::{Expr, Value, visit_expressions};
#[cfg(feature = "lint")]
use sqlparser::dialect::{Dialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
#[cfg(feature = "lint")]
use sqlparser::parser::Parser;
#[cfg(feature = "lint")]
use std::ops::ControlFlow;

#[cfg(feature = "lint")]
use crate::config::Engine;
use crate::migration::split::{Lexer, skip_opaque};

/// One token of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tok {
    /// The token as written.
    pub text: String,
    /// Upper-cased for words; as written otherwise.
    pub upper: String,
    /// What it is.
    pub kind: TokKind,
    /// Parenthesis depth at the token (0 at the top level).
    pub depth: usize,
}

/// A token's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokKind {
    /// A keyword or unquoted identifier.
    Word,
    /// A quoted identifier (`"x"`, `` `x` ``).
    Quoted,
    /// A string literal (or a dollar-quoted string).
    String,
    /// A number.
    Number,
    /// Anything else, one character.
    Punct,
}

impl Tok {
    fn is(&self, word: &str) -> bool {
        self.kind == TokKind::Word && self.upper == word
    }

    fn is_punct(&self, c: &str) -> bool {
        self.kind == TokKind::Punct && self.text == c
    }

    /// The identifier this token names, folded as the engine folds an
    /// unquoted name (PostgreSQL: lower case).
    fn ident(&self) -> String {
        match self.kind {
            TokKind::Quoted => {
                let q = &self.text[..1];
                self.text[1..self.text.len() - 1].replace(&format!("{q}{q}"), q)
            }
            _ => self.text.to_lowercase(),
        }
    }
}

/// Splits a statement into tokens, outside comments.
pub fn tokens(sql: &str, lexer: Lexer) -> Vec<Tok> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(end) = skip_opaque(sql, i, lexer) {
            let text = &sql[i..end];
            let kind = match b {
                b'-' | b'/' => None,
                b'"' | b'`' => Some(TokKind::Quoted),
                _ => Some(TokKind::String),
            };
            if let Some(kind) = kind {
                out.push(Tok {
                    text: text.to_owned(),
                    upper: text.to_owned(),
                    kind,
                    depth,
                });
            }
            i = end;
            continue;
        }
        if b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if word(b) || (b == b'$' && lexer.dollar_quotes) {
            let start = i;
            i += 1;
            while i < bytes.len() && (word(bytes[i]) || bytes[i] == b'$') {
                i += 1;
            }
            let text = &sql[start..i];
            let kind = if b.is_ascii_digit() {
                TokKind::Number
            } else {
                TokKind::Word
            };
            out.push(Tok {
                text: text.to_owned(),
                upper: text.to_ascii_uppercase(),
                kind,
                depth,
            });
            continue;
        }
        let len = sql[i..].chars().next().map_or(1, char::len_utf8);
        let text = &sql[i..i + len];
        if text == ")" {
            depth = depth.saturating_sub(1);
        }
        out.push(Tok {
            text: text.to_owned(),
            upper: text.to_owned(),
            kind: TokKind::Punct,
            depth,
        });
        if text == "(" {
            depth += 1;
        }
        i += len;
    }
    out
}

/// The kind of constraint an `ADD` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintKind {
    /// `CHECK (…)`.
    Check,
    /// `FOREIGN KEY … REFERENCES`.
    ForeignKey,
    /// `UNIQUE`.
    Unique,
    /// `PRIMARY KEY`.
    PrimaryKey,
    /// `EXCLUDE` (PostgreSQL).
    Exclude,
}

/// One action of an `ALTER TABLE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `ADD [COLUMN] name type …`.
    AddColumn {
        /// The column.
        column: String,
        /// Its type, as written (upper-cased words).
        type_words: Vec<String>,
        /// `NOT NULL` (or `PRIMARY KEY`, which implies it).
        not_null: bool,
        /// The default expression, as written.
        default: Option<String>,
        /// `GENERATED ALWAYS AS (…) STORED` (or MySQL's `AS (…) STORED`).
        stored_generated: bool,
        /// `AUTO_INCREMENT`, `SERIAL` or an identity.
        auto_increment: bool,
        /// A column-level `REFERENCES`.
        inline_references: bool,
    },
    /// `DROP [COLUMN] name`.
    DropColumn {
        /// The column.
        column: String,
    },
    /// A column's type changed (PostgreSQL `ALTER COLUMN … TYPE`, MySQL
    /// `MODIFY` / `CHANGE`).
    ColumnType {
        /// The column (its old name for `CHANGE`).
        column: String,
        /// The new type (upper-cased words, up to the first option).
        type_words: Vec<String>,
        /// MySQL `CHANGE old new`: the new name when it differs.
        renamed_to: Option<String>,
        /// MySQL `MODIFY`/`CHANGE` restate the whole column: `NOT NULL` in it.
        not_null: bool,
    },
    /// `ALTER COLUMN … SET NOT NULL`.
    SetNotNull {
        /// The column.
        column: String,
    },
    /// `ADD [CONSTRAINT name] CHECK | FOREIGN KEY | UNIQUE | PRIMARY KEY`.
    AddConstraint {
        /// Its name, when given.
        name: Option<String>,
        /// What it is.
        kind: ConstraintKind,
        /// `NOT VALID` (PostgreSQL).
        not_valid: bool,
        /// `USING INDEX name` (PostgreSQL).
        using_index: bool,
    },
    /// `VALIDATE CONSTRAINT name`.
    ValidateConstraint {
        /// The constraint.
        name: String,
    },
    /// `ADD [UNIQUE | FULLTEXT | SPATIAL] INDEX` (MySQL).
    AddIndex {
        /// `FULLTEXT` or `SPATIAL`, when it is one.
        special: Option<&'static str>,
    },
    /// `DROP PRIMARY KEY` (MySQL).
    DropPrimaryKey,
    /// `RENAME [COLUMN] a TO b`, `RENAME TO b`.
    Rename {
        /// `column` or `table`.
        what: &'static str,
    },
    /// MySQL table options that copy the table: `CONVERT TO CHARACTER
    /// SET`, `PARTITION BY` (a rebuild in the same engine, `ENGINE=InnoDB`
    /// or `FORCE`, runs online on MariaDB: checked in tests/db.rs).
    Rebuild {
        /// The option, as written.
        what: String,
    },
    /// Anything else (`ALTER COLUMN … SET DEFAULT`, `DROP CONSTRAINT`, …).
    Other,
}

/// What a statement is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `CREATE TABLE`.
    CreateTable {
        /// The table.
        table: String,
        /// A column-level `REFERENCES` in it.
        inline_references: bool,
    },
    /// `CREATE [UNIQUE] INDEX`.
    CreateIndex {
        /// The table.
        table: String,
        /// The index's name.
        name: Option<String>,
        /// `CONCURRENTLY`.
        concurrently: bool,
        /// `FULLTEXT` or `SPATIAL` (MySQL).
        special: Option<&'static str>,
    },
    /// `DROP INDEX`.
    DropIndex {
        /// `CONCURRENTLY`.
        concurrently: bool,
        /// The index's name.
        name: String,
    },
    /// `ALTER TABLE`.
    AlterTable {
        /// The table.
        table: String,
        /// Its actions.
        actions: Vec<Action>,
        /// MySQL `ALGORITHM=…`, upper-cased.
        algorithm: Option<String>,
        /// MySQL `LOCK=…`, upper-cased.
        lock: Option<String>,
    },
    /// MySQL `RENAME TABLE a TO b`.
    RenameTable {
        /// The table renamed.
        table: String,
    },
    /// `DROP TABLE`.
    DropTable {
        /// The tables.
        tables: Vec<String>,
    },
    /// `UPDATE` / `DELETE`.
    Dml {
        /// `UPDATE` or `DELETE`.
        verb: &'static str,
        /// The table.
        table: String,
        /// Whether it has a `WHERE`.
        has_where: bool,
    },
    /// `INSERT INTO t … SELECT … FROM source`: a copy of a table.
    InsertSelect {
        /// Where rows go.
        table: String,
        /// Where they come from.
        source: String,
    },
    /// `REINDEX`, `VACUUM FULL`, `CLUSTER`, `REFRESH MATERIALIZED VIEW`,
    /// `LOCK TABLE`, `OPTIMIZE TABLE`, a `DETACH PARTITION`.
    Maintenance {
        /// What it is.
        what: &'static str,
        /// The table, when one is named.
        table: Option<String>,
        /// `CONCURRENTLY`.
        concurrently: bool,
    },
    /// `VALIDATE CONSTRAINT` alone is an `AlterTable`; this is anything the
    /// rules have no view on.
    Other,
}

impl Kind {
    /// The existing tables the statement touches (for a copy, the source).
    pub fn tables(&self) -> Vec<String> {
        match self {
            Kind::CreateIndex { table, .. }
            | Kind::AlterTable { table, .. }
            | Kind::RenameTable { table }
            | Kind::Dml { table, .. } => vec![table.clone()],
            Kind::DropTable { tables } => tables.clone(),
            Kind::InsertSelect { source, .. } => vec![source.clone()],
            Kind::Maintenance { table, .. } => table.iter().cloned().collect(),
            _ => Vec::new(),
        }
    }
}

/// A statement read.
#[cfg(feature = "lint")]
#[cfg_attr(docsrs, doc(cfg(feature = "lint")))]
#[derive(Debug, Clone)]
pub struct Read {
    /// What it is.
    pub kind: Kind,
    /// Whether sqlparser parsed it in the engine's dialect.
    pub parsed: bool,
    /// sqlparser's message when it did not.
    pub parse_error: Option<String>,
}

#[cfg(feature = "lint")]
fn dialect(engine: Engine) -> Box<dyn Dialect> {
    match engine {
        Engine::Postgres => Box::new(PostgreSqlDialect {}),
        Engine::Mysql => Box::new(MySqlDialect {}),
        Engine::Sqlite => Box::new(SQLiteDialect {}),
    }
}

/// What one statement is, read by keywords alone (no parse): what the
/// executor needs to name the tables a statement locks.
pub fn kind_of(sql: &str, lexer: Lexer) -> Kind {
    kind(&tokens(sql, lexer))
}

/// Reads one statement (its code, without leading comments).
#[cfg(feature = "lint")]
#[cfg_attr(docsrs, doc(cfg(feature = "lint")))]
pub fn read(sql: &str, engine: Engine, lexer: Lexer) -> Read {
    let kind = kind_of(sql, lexer);
    let (parsed, parse_error) = match Parser::parse_sql(dialect(engine).as_ref(), sql) {
        Ok(_) => (true, None),
        Err(e) => (false, Some(e.to_string())),
    };
    Read {
        kind,
        parsed,
        parse_error,
    }
}

/// The name at `t[i..]` (`a`, `s.a`, `"s"."a"`): its last part, and the
/// index past it.
fn name_at(t: &[Tok], mut i: usize) -> Option<(String, usize)> {
    let mut last = None;
    loop {
        let tok = t.get(i)?;
        if !matches!(tok.kind, TokKind::Word | TokKind::Quoted) {
            return last.map(|l| (l, i));
        }
        last = Some(tok.ident());
        i += 1;
        if t.get(i).is_some_and(|x| x.is_punct(".")) {
            i += 1;
        } else {
            return last.map(|l| (l, i));
        }
    }
}

/// Skips `IF [NOT] EXISTS` and `ONLY` at `i`.
fn skip_guards(t: &[Tok], mut i: usize) -> usize {
    loop {
        match t.get(i) {
            Some(x) if x.is("IF") => {
                i += 1;
                while t.get(i).is_some_and(|x| x.is("NOT") || x.is("EXISTS")) {
                    i += 1;
                }
            }
            Some(x) if x.is("ONLY") => i += 1,
            _ => return i,
        }
    }
}

fn has_top(t: &[Tok], word: &str) -> bool {
    t.iter().any(|x| x.depth == 0 && x.is(word))
}

fn kind(t: &[Tok]) -> Kind {
    let Some(first) = t.first() else {
        return Kind::Other;
    };
    match first.upper.as_str() {
        "CREATE" => create(t),
        "ALTER" if t.get(1).is_some_and(|x| x.is("TABLE")) => alter_table(t),
        "DROP" => drop(t),
        "UPDATE" | "DELETE" => dml(t),
        "INSERT" | "REPLACE" => insert_select(t),
        "RENAME" if t.get(1).is_some_and(|x| x.is("TABLE")) => match name_at(t, 2) {
            Some((table, _)) => Kind::RenameTable { table },
            None => Kind::Other,
        },
        "REINDEX" => {
            let concurrently = has_top(t, "CONCURRENTLY");
            // REINDEX [(options)] TABLE|INDEX [CONCURRENTLY] name
            let table = t
                .iter()
                .position(|x| x.depth == 0 && (x.is("TABLE") || x.is("INDEX")))
                .and_then(|i| {
                    let i = if t.get(i + 1).is_some_and(|x| x.is("CONCURRENTLY")) {
                        i + 2
                    } else {
                        i + 1
                    };
                    name_at(t, i).map(|n| n.0)
                });
            Kind::Maintenance {
                what: "REINDEX",
                table,
                concurrently,
            }
        }
        "VACUUM" if has_top(t, "FULL") => Kind::Maintenance {
            what: "VACUUM FULL",
            table: t
                .iter()
                .rposition(|x| x.depth == 0 && x.kind != TokKind::Punct)
                .filter(|i| *i > 1)
                .and_then(|i| name_at(t, i).map(|n| n.0)),
            concurrently: false,
        },
        "CLUSTER" => Kind::Maintenance {
            what: "CLUSTER",
            table: name_at(t, 1).map(|n| n.0).filter(|n| n != "verbose"),
            concurrently: false,
        },
        "REFRESH" => Kind::Maintenance {
            what: "REFRESH MATERIALIZED VIEW",
            table: name_at(t, skip_after(t, "VIEW").unwrap_or(t.len())).map(|n| n.0),
            concurrently: has_top(t, "CONCURRENTLY"),
        },
        "LOCK" => Kind::Maintenance {
            what: "LOCK TABLE",
            table: name_at(
                t,
                if t.get(1).is_some_and(|x| x.is("TABLE") || x.is("TABLES")) {
                    2
                } else {
                    1
                },
            )
            .map(|n| n.0),
            concurrently: false,
        },
        "OPTIMIZE" => Kind::Maintenance {
            what: "OPTIMIZE TABLE",
            table: name_at(t, skip_after(t, "TABLE").unwrap_or(t.len())).map(|n| n.0),
            concurrently: false,
        },
        _ => Kind::Other,
    }
}

/// The index just past the first top-level `word`.
fn skip_after(t: &[Tok], word: &str) -> Option<usize> {
    t.iter()
        .position(|x| x.depth == 0 && x.is(word))
        .map(|i| skip_guards(t, i + 1))
}

fn create(t: &[Tok]) -> Kind {
    // CREATE [OR REPLACE] [UNIQUE|FULLTEXT|SPATIAL] INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON [ONLY] table
    let mut i = 1;
    let mut special = None;
    while let Some(x) = t.get(i) {
        match x.upper.as_str() {
            "UNIQUE" | "OR" | "REPLACE" if x.kind == TokKind::Word => i += 1,
            "FULLTEXT" if x.kind == TokKind::Word => {
                special = Some("FULLTEXT");
                i += 1;
            }
            "SPATIAL" if x.kind == TokKind::Word => {
                special = Some("SPATIAL");
                i += 1;
            }
            _ => break,
        }
    }
    if t.get(i).is_some_and(|x| x.is("INDEX")) {
        i += 1;
        let concurrently = t.get(i).is_some_and(|x| x.is("CONCURRENTLY"));
        if concurrently {
            i += 1;
        }
        i = skip_guards(t, i);
        let name = if t.get(i).is_some_and(|x| x.is("ON")) {
            None
        } else {
            name_at(t, i).map(|(n, j)| {
                i = j;
                n
            })
        };
        let Some(on) = t[i.min(t.len())..].iter().position(|x| x.is("ON")) else {
            return Kind::Other;
        };
        let at = skip_guards(t, i + on + 1);
        return match name_at(t, at) {
            Some((table, _)) => Kind::CreateIndex {
                table,
                name,
                concurrently,
                special,
            },
            None => Kind::Other,
        };
    }
    // CREATE [TEMP|TEMPORARY|UNLOGGED|GLOBAL|LOCAL] TABLE [IF NOT EXISTS] name
    while t.get(i).is_some_and(|x| {
        matches!(
            x.upper.as_str(),
            "TEMP" | "TEMPORARY" | "UNLOGGED" | "GLOBAL" | "LOCAL"
        )
    }) {
        i += 1;
    }
    if t.get(i).is_some_and(|x| x.is("TABLE")) {
        let at = skip_guards(t, i + 1);
        if let Some((table, _)) = name_at(t, at) {
            // A column's own REFERENCES: inside the column list (depth 1),
            // not after FOREIGN KEY (…).
            let inline_references = t
                .iter()
                .enumerate()
                .any(|(k, x)| x.depth == 1 && x.is("REFERENCES") && !after_foreign_key(t, k));
            return Kind::CreateTable {
                table,
                inline_references,
            };
        }
    }
    Kind::Other
}

/// Whether the `REFERENCES` at `k` closes a `FOREIGN KEY (…)` clause.
fn after_foreign_key(t: &[Tok], k: usize) -> bool {
    // Walk back over `(cols)` to the word before it.
    let mut j = k;
    while j > 0 {
        j -= 1;
        if t[j].depth == t[k].depth && t[j].is_punct("(") {
            return j >= 1 && t[j - 1].is("KEY");
        }
        if t[j].depth == t[k].depth && !t[j].is_punct(")") {
            return false;
        }
    }
    false
}

fn drop(t: &[Tok]) -> Kind {
    if t.get(1).is_some_and(|x| x.is("INDEX")) {
        let concurrently = t.get(2).is_some_and(|x| x.is("CONCURRENTLY"));
        let at = skip_guards(t, if concurrently { 3 } else { 2 });
        return match name_at(t, at) {
            Some((name, _)) => Kind::DropIndex { concurrently, name },
            None => Kind::Other,
        };
    }
    if t.get(1).is_some_and(|x| x.is("TABLE")) {
        let mut i = skip_guards(t, 2);
        let mut tables = Vec::new();
        while let Some((n, j)) = name_at(t, i) {
            if matches!(n.as_str(), "cascade" | "restrict") {
                break;
            }
            tables.push(n);
            i = j;
            if t.get(i).is_some_and(|x| x.is_punct(",")) {
                i += 1;
            } else {
                break;
            }
        }
        return Kind::DropTable { tables };
    }
    Kind::Other
}

fn dml(t: &[Tok]) -> Kind {
    let verb = if t[0].is("UPDATE") {
        "UPDATE"
    } else {
        "DELETE"
    };
    let mut i = 1;
    if verb == "DELETE" {
        match t.iter().position(|x| x.depth == 0 && x.is("FROM")) {
            Some(p) => i = p + 1,
            None => return Kind::Other,
        }
    }
    i = skip_guards(t, i);
    match name_at(t, i) {
        Some((table, _)) => Kind::Dml {
            verb,
            table,
            has_where: has_top(t, "WHERE"),
        },
        None => Kind::Other,
    }
}

fn insert_select(t: &[Tok]) -> Kind {
    let Some(into) = t.iter().position(|x| x.is("INTO")) else {
        return Kind::Other;
    };
    let Some((table, _)) = name_at(t, into + 1) else {
        return Kind::Other;
    };
    let source = t
        .iter()
        .position(|x| x.depth == 0 && x.is("FROM"))
        .and_then(|f| name_at(t, f + 1))
        .map(|n| n.0);
    match source {
        Some(source) if has_top(t, "SELECT") => Kind::InsertSelect { table, source },
        _ => Kind::Other,
    }
}

fn alter_table(t: &[Tok]) -> Kind {
    let at = skip_guards(t, 2);
    let Some((table, mut i)) = name_at(t, at) else {
        return Kind::Other;
    };
    let mut actions = Vec::new();
    let mut algorithm = None;
    let mut lock = None;
    while i < t.len() {
        let end = (i..t.len())
            .find(|&k| t[k].depth == 0 && t[k].is_punct(","))
            .unwrap_or(t.len());
        let part = &t[i..end];
        // MySQL's ALGORITHM= and LOCK= clauses sit among the actions.
        if let Some(first) = part.first()
            && (first.is("ALGORITHM") || first.is("LOCK"))
        {
            let value = part
                .iter()
                .skip(1)
                .find(|x| x.kind == TokKind::Word)
                .map(|x| x.upper.clone());
            if first.is("ALGORITHM") {
                algorithm = value;
            } else {
                lock = value;
            }
        } else if !part.is_empty() {
            actions.push(action(part));
        }
        i = end + 1;
    }
    Kind::AlterTable {
        table,
        actions,
        algorithm,
        lock,
    }
}

/// The options that may follow a column's type (and end a default).
const COLUMN_OPTIONS: &[&str] = &[
    "NOT",
    "NULL",
    "PRIMARY",
    "UNIQUE",
    "REFERENCES",
    "CHECK",
    "CONSTRAINT",
    "GENERATED",
    "COLLATE",
    "COMMENT",
    "FIRST",
    "AFTER",
    "ON",
    "AUTO_INCREMENT",
];

/// Words that end a type but may sit inside a default expression.
const TYPE_ENDS: &[&str] = &[
    "DEFAULT",
    "AS",
    "USING",
    "CHARACTER",
    "CHARSET",
    "INVISIBLE",
    "VISIBLE",
];

/// Words of a column type: from `i` to the first column option.
fn type_words(part: &[Tok], i: usize) -> Vec<String> {
    part[i.min(part.len())..]
        .iter()
        .take_while(|x| {
            let w = x.upper.as_str();
            !(x.depth == 0
                && x.kind == TokKind::Word
                && (COLUMN_OPTIONS.contains(&w) || TYPE_ENDS.contains(&w)))
        })
        .map(|x| x.upper.clone())
        .collect()
}

/// The text of the default expression after `DEFAULT` at `k`, up to the
/// next column option at the top level.
fn default_text(part: &[Tok], k: usize) -> String {
    let base = part[k].depth;
    let mut out = Vec::new();
    for x in &part[k + 1..] {
        if x.depth == base
            && x.kind == TokKind::Word
            && COLUMN_OPTIONS.contains(&x.upper.as_str())
            && !out.is_empty()
        {
            break;
        }
        out.push(x.text.clone());
    }
    let mut s = String::new();
    for (n, w) in out.iter().enumerate() {
        let glue = n > 0
            && !matches!(w.as_str(), "(" | ")" | "," | "." | ":")
            && !matches!(out[n - 1].as_str(), "(" | "." | ":");
        if glue {
            s.push(' ');
        }
        s.push_str(w);
    }
    s
}

fn column_def(part: &[Tok], i: usize) -> Option<Action> {
    let (column, j) = name_at(part, i)?;
    let type_words = type_words(part, j);
    let top = |w: &str| part[j..].iter().any(|x| x.depth == 0 && x.is(w));
    let not_null = has_pair(&part[j..], "NOT", "NULL") || top("PRIMARY");
    let default = part[j..]
        .iter()
        .position(|x| x.depth == 0 && x.is("DEFAULT"))
        .map(|k| default_text(part, j + k));
    let stored_generated = (top("GENERATED") || top("AS")) && top("STORED");
    let identity = top("GENERATED") && top("IDENTITY");
    let serial = type_words
        .first()
        .is_some_and(|w| matches!(w.as_str(), "SERIAL" | "BIGSERIAL" | "SMALLSERIAL"));
    Some(Action::AddColumn {
        column,
        type_words,
        not_null,
        default,
        stored_generated,
        auto_increment: top("AUTO_INCREMENT") || identity || serial,
        inline_references: top("REFERENCES"),
    })
}

fn constraint_kind(part: &[Tok]) -> Option<ConstraintKind> {
    part.iter().find_map(|x| match x.upper.as_str() {
        "CHECK" if x.kind == TokKind::Word => Some(ConstraintKind::Check),
        "FOREIGN" if x.kind == TokKind::Word => Some(ConstraintKind::ForeignKey),
        "UNIQUE" if x.kind == TokKind::Word => Some(ConstraintKind::Unique),
        "PRIMARY" if x.kind == TokKind::Word => Some(ConstraintKind::PrimaryKey),
        "EXCLUDE" if x.kind == TokKind::Word => Some(ConstraintKind::Exclude),
        _ => None,
    })
}

/// Whether the top level of `part` has the two words in a row.
fn has_pair(part: &[Tok], a: &str, b: &str) -> bool {
    part.windows(2)
        .any(|p| p[0].depth == 0 && p[0].is(a) && p[1].is(b))
}

/// `ADD [CONSTRAINT name] …`, its kind read from `part[from..]`.
fn add_constraint(part: &[Tok], name: Option<String>, from: usize) -> Action {
    Action::AddConstraint {
        name,
        kind: constraint_kind(&part[from..]).unwrap_or(ConstraintKind::Check),
        not_valid: has_pair(part, "NOT", "VALID"),
        using_index: has_pair(part, "USING", "INDEX"),
    }
}

fn action(part: &[Tok]) -> Action {
    let w = |k: usize| {
        part.get(k).map_or("", |x| {
            if x.kind == TokKind::Word {
                x.upper.as_str()
            } else {
                ""
            }
        })
    };
    let has = |word: &str| part.iter().any(|x| x.depth == 0 && x.is(word));
    match (w(0), w(1)) {
        ("ADD", "CONSTRAINT") => add_constraint(part, name_at(part, 2).map(|n| n.0), 2),
        ("ADD", "CHECK" | "FOREIGN" | "PRIMARY" | "EXCLUDE") | ("ADD", "UNIQUE")
            if !(w(1) == "UNIQUE" && matches!(w(2), "INDEX" | "KEY")) =>
        {
            add_constraint(part, None, 1)
        }
        ("ADD", "INDEX" | "KEY" | "UNIQUE") => Action::AddIndex { special: None },
        ("ADD", "FULLTEXT") => Action::AddIndex {
            special: Some("FULLTEXT"),
        },
        ("ADD", "SPATIAL") => Action::AddIndex {
            special: Some("SPATIAL"),
        },
        ("ADD", "COLUMN") => column_def(part, skip_guards(part, 2)).unwrap_or(Action::Other),
        ("ADD", _) => column_def(part, skip_guards(part, 1)).unwrap_or(Action::Other),
        ("DROP", "PRIMARY") => Action::DropPrimaryKey,
        ("DROP", "CONSTRAINT" | "INDEX" | "KEY" | "FOREIGN" | "CHECK" | "DEFAULT") => Action::Other,
        ("DROP", "COLUMN") => match name_at(part, skip_guards(part, 2)) {
            Some((column, _)) => Action::DropColumn { column },
            None => Action::Other,
        },
        ("DROP", _) => match name_at(part, skip_guards(part, 1)) {
            Some((column, _)) => Action::DropColumn { column },
            None => Action::Other,
        },
        ("ALTER", _) => {
            let at = if w(1) == "COLUMN" { 2 } else { 1 };
            let Some((column, j)) = name_at(part, at) else {
                return Action::Other;
            };
            let rest = &part[j..];
            let rw = |k: usize| rest.get(k).map_or("", |x| x.upper.as_str());
            match (rw(0), rw(1), rw(2)) {
                ("TYPE", ..) => Action::ColumnType {
                    column,
                    type_words: type_words(rest, 1),
                    renamed_to: None,
                    not_null: false,
                },
                ("SET", "DATA", "TYPE") => Action::ColumnType {
                    column,
                    type_words: type_words(rest, 3),
                    renamed_to: None,
                    not_null: false,
                },
                ("SET", "NOT", "NULL") => Action::SetNotNull { column },
                _ => Action::Other,
            }
        }
        ("MODIFY", _) => {
            let at = if w(1) == "COLUMN" { 2 } else { 1 };
            match name_at(part, at) {
                Some((column, j)) => Action::ColumnType {
                    column,
                    type_words: type_words(part, j),
                    renamed_to: None,
                    not_null: has_pair(&part[j..], "NOT", "NULL"),
                },
                None => Action::Other,
            }
        }
        ("CHANGE", _) => {
            let at = if w(1) == "COLUMN" { 2 } else { 1 };
            let Some((old, j)) = name_at(part, at) else {
                return Action::Other;
            };
            let Some((new, k)) = name_at(part, j) else {
                return Action::Other;
            };
            Action::ColumnType {
                renamed_to: (new != old).then_some(new),
                column: old,
                type_words: type_words(part, k),
                not_null: has_pair(&part[k..], "NOT", "NULL"),
            }
        }
        ("VALIDATE", "CONSTRAINT") => match name_at(part, 2) {
            Some((name, _)) => Action::ValidateConstraint { name },
            None => Action::Other,
        },
        ("RENAME", "TO" | "AS") => Action::Rename { what: "table" },
        ("RENAME", "COLUMN") => Action::Rename { what: "column" },
        ("RENAME", "INDEX" | "KEY" | "CONSTRAINT") => Action::Other,
        ("RENAME", _) => Action::Rename { what: "column" },
        ("CONVERT", _) => Action::Rebuild {
            what: "CONVERT TO CHARACTER SET".to_owned(),
        },
        ("PARTITION", "BY") => Action::Rebuild {
            what: "PARTITION BY".to_owned(),
        },
        _ if has("PARTITION") && (has("REORGANIZE") || has("COALESCE")) => Action::Rebuild {
            what: "repartitioning".to_owned(),
        },
        _ => Action::Other,
    }
}

/// Functions PostgreSQL marks immutable or stable that defaults commonly
/// use: a default calling only these is evaluated once for `ADD COLUMN`
/// (PostgreSQL 11+, "fast default"), not per row. Any other call may be
/// volatile (`random()`, `gen_random_uuid()`, `clock_timestamp()`,
/// `nextval()`), which rewrites the table.
#[cfg(feature = "lint")]
const NON_VOLATILE: &[&str] = &[
    "now",
    "current_timestamp",
    "current_date",
    "current_time",
    "localtimestamp",
    "localtime",
    "transaction_timestamp",
    "statement_timestamp",
    "current_user",
    "session_user",
    "current_schema",
    "lower",
    "upper",
    "length",
    "coalesce",
    "concat",
    "to_jsonb",
    "to_json",
    "jsonb_build_object",
    "json_build_object",
    "jsonb_build_array",
    "array",
    "make_interval",
    "make_date",
    "abs",
    "round",
    "timezone",
    "date_trunc",
];

/// Whether a default expression may differ from row to row (so adding a
/// column with it rewrites the table), judged on sqlparser's expression
/// tree; when the expression does not parse, any function call counts.
#[cfg(feature = "lint")]
#[cfg_attr(docsrs, doc(cfg(feature = "lint")))]
pub fn volatile(expr: &str, engine: Engine) -> bool {
    let d = dialect(engine);
    let parsed = Parser::new(d.as_ref())
        .try_with_sql(expr)
        .and_then(|mut p| p.parse_expr());
    match parsed {
        Ok(e) => {
            let mut found = false;
            let _ = visit_expressions(&e, |x: &Expr| {
                if let Expr::Function(f) = x {
                    let name = f.name.to_string().to_lowercase();
                    let name = name.rsplit('.').next().unwrap_or(&name).to_owned();
                    if !NON_VOLATILE.contains(&name.as_str()) {
                        found = true;
                        return ControlFlow::Break(());
                    }
                }
                if let Expr::Value(v) = x
                    && matches!(v.value, Value::Placeholder(_))
                {
                    found = true;
                }
                ControlFlow::Continue(())
            });
            found
        }
        Err(_) => {
            let t = tokens(expr, Lexer::POSTGRES);
            t.windows(2).any(|p| {
                p[0].kind == TokKind::Word
                    && p[1].is_punct("(")
                    && !NON_VOLATILE.contains(&p[0].text.to_lowercase().as_str())
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(sql: &str) -> Kind {
        kind(&tokens(sql, Lexer::POSTGRES))
    }

    #[test]
    fn indexes() {
        assert_eq!(
            k("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ix ON public.\"Users\" (email)"),
            Kind::CreateIndex {
                table: "Users".into(),
                name: Some("ix".into()),
                concurrently: true,
                special: None
            }
        );
        assert_eq!(
            k("create index on Users using gin (doc)"),
            Kind::CreateIndex {
                table: "users".into(),
                name: None,
                concurrently: false,
                special: None
            }
        );
        assert_eq!(
            k("DROP INDEX CONCURRENTLY IF EXISTS s.ix"),
            Kind::DropIndex {
                concurrently: true,
                name: "ix".into()
            }
        );
    }

    #[test]
    fn alter_table_actions() {
        let Kind::AlterTable { table, actions, .. } = k(
            "ALTER TABLE ONLY users ADD COLUMN n int NOT NULL DEFAULT 0, ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES b (id) NOT VALID, ALTER COLUMN e TYPE text, ALTER e SET NOT NULL, VALIDATE CONSTRAINT fk, RENAME COLUMN a TO b, DROP COLUMN x",
        ) else {
            panic!()
        };
        assert_eq!(table, "users");
        assert!(
            matches!(&actions[0], Action::AddColumn { column, not_null: true, default: Some(d), .. } if column == "n" && d == "0")
        );
        assert!(matches!(
            &actions[1],
            Action::AddConstraint {
                kind: ConstraintKind::ForeignKey,
                not_valid: true,
                ..
            }
        ));
        assert!(
            matches!(&actions[2], Action::ColumnType { type_words, .. } if type_words == &["TEXT"])
        );
        assert!(matches!(&actions[3], Action::SetNotNull { .. }));
        assert!(matches!(&actions[4], Action::ValidateConstraint { name } if name == "fk"));
        assert!(matches!(&actions[5], Action::Rename { what: "column" }));
        assert!(matches!(&actions[6], Action::DropColumn { column } if column == "x"));
    }

    #[test]
    fn mysql_clauses() {
        let Kind::AlterTable {
            actions,
            algorithm,
            lock,
            ..
        } = kind(&tokens(
            "ALTER TABLE `t` MODIFY COLUMN a bigint NOT NULL, ADD FULLTEXT INDEX ft (b), ALGORITHM=INPLACE, LOCK=NONE",
            Lexer::MYSQL,
        ))
        else {
            panic!()
        };
        assert_eq!(algorithm.as_deref(), Some("INPLACE"));
        assert_eq!(lock.as_deref(), Some("NONE"));
        assert!(matches!(
            &actions[0],
            Action::ColumnType { not_null: true, .. }
        ));
        assert!(matches!(
            &actions[1],
            Action::AddIndex {
                special: Some("FULLTEXT")
            }
        ));
    }

    #[test]
    fn inline_references_are_told_from_table_foreign_keys() {
        let t = |s| kind(&tokens(s, Lexer::MYSQL));
        assert!(matches!(
            t("CREATE TABLE a (id int, b int REFERENCES b (id))"),
            Kind::CreateTable {
                inline_references: true,
                ..
            }
        ));
        assert!(matches!(
            t("CREATE TABLE a (id int, b int, FOREIGN KEY (b) REFERENCES b (id))"),
            Kind::CreateTable {
                inline_references: false,
                ..
            }
        ));
    }

    #[test]
    #[cfg(feature = "lint")]
    fn volatility_of_defaults() {
        let pg = Engine::Postgres;
        assert!(!volatile("0", pg));
        assert!(!volatile("false", pg));
        assert!(!volatile("now()", pg));
        assert!(!volatile("CURRENT_TIMESTAMP", pg));
        assert!(!volatile("'{}'::jsonb", pg));
        assert!(!volatile("ARRAY[]::text[]", pg));
        assert!(volatile("gen_random_uuid()", pg));
        assert!(volatile("random() * 10", pg));
        assert!(volatile("nextval('s')", pg));
        assert!(volatile("clock_timestamp()", pg));
        // Not parsed: any call counts.
        assert!(volatile("my_fn((", pg));
    }

    #[test]
    fn dml_and_maintenance() {
        assert_eq!(
            k("UPDATE users SET a = 1"),
            Kind::Dml {
                verb: "UPDATE",
                table: "users".into(),
                has_where: false
            }
        );
        assert_eq!(
            k("DELETE FROM users WHERE id IN (SELECT 1)"),
            Kind::Dml {
                verb: "DELETE",
                table: "users".into(),
                has_where: true
            }
        );
        assert!(matches!(
            k("REINDEX TABLE CONCURRENTLY users"),
            Kind::Maintenance {
                what: "REINDEX",
                concurrently: true,
                ..
            }
        ));
        assert!(matches!(
            k("VACUUM FULL users"),
            Kind::Maintenance { what: "VACUUM FULL", table: Some(t), .. } if t == "users"
        ));
    }
}
