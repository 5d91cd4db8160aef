//! The SQL text each engine needs: quoting, the version and history tables,
//! transaction statements and literals for `--sql` scripts. Pure strings,
//! no connection.

use crate::config::Engine;
use crate::migration::split::Lexer;

/// How one engine spells things.
#[derive(Debug, Clone)]
pub struct Dialect {
    /// The engine.
    pub engine: Engine,
    /// `"schema"."braid_version"` (quoted, schema-qualified on PostgreSQL).
    pub version_table: String,
    /// The append-only history table, `<version_table>_history`.
    pub history_table: String,
    /// The PostgreSQL schema of braid's tables.
    pub schema: Option<String>,
}

impl Dialect {
    /// The dialect of `engine`, with braid's tables in `schema` (PostgreSQL) named after `version_table`.
    pub fn new(engine: Engine, schema: Option<&str>, version_table: &str) -> Dialect {
        // A schema only means something on PostgreSQL; MySQL's database is
        // in the URL and SQLite has one main database.
        let schema = match engine {
            Engine::Postgres => schema.map(str::to_owned),
            _ => None,
        };
        let qualify = |name: &str| match &schema {
            Some(s) => format!("{}.{}", quote(engine, s), quote(engine, name)),
            None => quote(engine, name),
        };
        Dialect {
            engine,
            version_table: qualify(version_table),
            history_table: qualify(&format!("{version_table}_history")),
            schema,
        }
    }

    /// `ident` quoted for the engine.
    pub fn quote(&self, ident: &str) -> String {
        quote(self.engine, ident)
    }

    /// Whether DDL takes part in transactions.
    pub fn transactional_ddl(&self) -> bool {
        !matches!(self.engine, Engine::Mysql)
    }

    /// A statement splitter that knows the engine's quoting.
    pub fn lexer(&self) -> Lexer {
        self.engine.lexer()
    }

    /// `BEGIN IMMEDIATE` on SQLite takes the write lock at once, so two
    /// processes never both read the same state and then write.
    pub fn begin(&self) -> &'static str {
        match self.engine {
            Engine::Sqlite => "BEGIN IMMEDIATE",
            Engine::Postgres => "BEGIN",
            Engine::Mysql => "START TRANSACTION",
        }
    }

    /// The n-th (1-based) bind placeholder.
    pub fn param(&self, n: usize) -> String {
        match self.engine {
            Engine::Postgres => format!("${n}"),
            _ => "?".into(),
        }
    }

    /// `CREATE SCHEMA IF NOT EXISTS` for the configured schema, if any.
    pub fn create_schema(&self) -> Option<String> {
        self.schema
            .as_ref()
            .map(|s| format!("CREATE SCHEMA IF NOT EXISTS {}", self.quote(s)))
    }

    /// `CREATE TABLE IF NOT EXISTS` for the version table.
    pub fn create_version_table(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (version_num VARCHAR(255) NOT NULL PRIMARY KEY)",
            self.version_table
        )
    }

    /// `CREATE TABLE IF NOT EXISTS` for the history table.
    pub fn create_history_table(&self) -> String {
        let id = match self.engine {
            Engine::Postgres => "id BIGSERIAL PRIMARY KEY",
            Engine::Mysql => "id BIGINT AUTO_INCREMENT PRIMARY KEY",
            Engine::Sqlite => "id INTEGER PRIMARY KEY AUTOINCREMENT",
        };
        format!(
            "CREATE TABLE IF NOT EXISTS {} ({id}, revision VARCHAR(255) NOT NULL, \
             direction VARCHAR(8) NOT NULL, checksum VARCHAR(80), status VARCHAR(16) NOT NULL, \
             started_at VARCHAR(40) NOT NULL, finished_at VARCHAR(40), run_by VARCHAR(255), \
             message TEXT, statement_index INTEGER, affected_rows BIGINT)",
            self.history_table
        )
    }

    /// The columns later versions of braid added to the history table,
    /// with their types: added to a table an older braid made.
    pub fn history_additions(&self) -> [(&'static str, &'static str); 2] {
        [("statement_index", "INTEGER"), ("affected_rows", "BIGINT")]
    }

    /// A string literal for `--sql` scripts.
    pub fn literal(&self, s: &str) -> String {
        let mut out = s.replace('\'', "''");
        if matches!(self.engine, Engine::Mysql) {
            out = out.replace('\\', "\\\\");
        }
        format!("'{out}'")
    }
}

/// Quotes an identifier, doubling any quote character inside it, so a
/// name with quotes in it can inject nothing.
pub fn quote(engine: Engine, ident: &str) -> String {
    let q = match engine {
        Engine::Mysql => '`',
        _ => '"',
    };
    let mut out = String::with_capacity(ident.len() + 2);
    out.push(q);
    for c in ident.chars() {
        if c == q {
            out.push(q);
        }
        out.push(c);
    }
    out.push(q);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_with_quotes_are_escaped() {
        assert_eq!(quote(Engine::Postgres, "a\"b"), "\"a\"\"b\"");
        assert_eq!(quote(Engine::Mysql, "a`b"), "`a``b`");
        let d = Dialect::new(Engine::Postgres, Some("bo\"neca"), "v");
        assert_eq!(d.version_table, "\"bo\"\"neca\".\"v\"");
        assert_eq!(d.history_table, "\"bo\"\"neca\".\"v_history\"");
        let d = Dialect::new(Engine::Sqlite, Some("ignored"), "v");
        assert_eq!(d.version_table, "\"v\"");
    }

    #[test]
    fn literals_escape_quotes() {
        let d = Dialect::new(Engine::Mysql, None, "v");
        assert_eq!(d.literal("it's \\"), "'it''s \\\\'");
    }
}
