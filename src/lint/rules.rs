//! The table of safety rules (SPEC §12) that docs, `--help` and tests
//! read, and what every rule's check sees: one statement read, plus its
//! context. The checks live one file per family beside this one.

#[cfg(feature = "lint")]
use std::collections::{HashMap, HashSet};

use crate::config::Engine;
#[cfg(feature = "lint")]
use crate::revision::Direction;

#[cfg(feature = "lint")]
use super::Severity;
#[cfg(feature = "lint")]
use super::read::Read;

/// A rule: its stable name, where the hazard is real, and what it is.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The stable name, used in ignores, `[lint]` and output.
    pub name: &'static str,
    /// The engines it applies to (versions are gated in its check).
    pub engines: &'static [Engine],
    /// What it flags, in one line.
    pub summary: &'static str,
}

const PG: &[Engine] = &[Engine::Postgres];
const MY: &[Engine] = &[Engine::Mysql];
const LITE: &[Engine] = &[Engine::Sqlite];
const ALL: &[Engine] = &[Engine::Postgres, Engine::Mysql, Engine::Sqlite];

/// Every rule, in the order SPEC §12 lists them.
pub const RULES: &[Rule] = &[
    Rule {
        name: "index-not-concurrent",
        engines: PG,
        summary: "CREATE INDEX without CONCURRENTLY on an existing table blocks its writes while the index builds",
    },
    Rule {
        name: "drop-index-not-concurrent",
        engines: PG,
        summary: "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table",
    },
    Rule {
        name: "concurrently-in-transaction",
        engines: PG,
        summary: "a CONCURRENTLY statement in a revision that runs in a transaction fails",
    },
    Rule {
        name: "constraint-not-valid",
        engines: PG,
        summary: "ADD CHECK / FOREIGN KEY without NOT VALID scans the table under a lock that blocks writes",
    },
    Rule {
        name: "validate-in-same-transaction",
        engines: PG,
        summary: "VALIDATE CONSTRAINT in the transaction that added it NOT VALID keeps the lock through the scan",
    },
    Rule {
        name: "unique-without-index",
        engines: PG,
        summary: "ADD UNIQUE / PRIMARY KEY without USING INDEX builds the index under ACCESS EXCLUSIVE",
    },
    Rule {
        name: "set-not-null",
        engines: PG,
        summary: "SET NOT NULL scans the table under ACCESS EXCLUSIVE",
    },
    Rule {
        name: "volatile-default",
        engines: PG,
        summary: "ADD COLUMN with a volatile default (any default before PostgreSQL 11), a stored generated column or a serial/identity rewrites the table",
    },
    Rule {
        name: "column-type-change",
        engines: &[Engine::Postgres, Engine::Mysql],
        summary: "changing a column's type rewrites the table under a lock",
    },
    Rule {
        name: "add-required-column",
        engines: ALL,
        summary: "ADD COLUMN NOT NULL without a default fails on a table with rows, and breaks old code's inserts",
    },
    Rule {
        name: "rename",
        engines: ALL,
        summary: "renaming a table or column breaks the running application",
    },
    Rule {
        name: "drop",
        engines: ALL,
        summary: "dropping a table or column breaks the running application and loses data",
    },
    Rule {
        name: "blocking-maintenance",
        engines: PG,
        summary: "REINDEX, VACUUM FULL, CLUSTER, REFRESH MATERIALIZED VIEW and LOCK TABLE block the table",
    },
    Rule {
        name: "unbatched-backfill",
        engines: ALL,
        summary: "an UPDATE or DELETE of a whole table (or under a DDL lock) holds its row locks until it ends",
    },
    Rule {
        name: "non-transactional-multi-statement",
        engines: ALL,
        summary: "a revision with `transactional = false` and several statements stops half applied when one fails",
    },
    Rule {
        name: "mysql-copy-algorithm",
        engines: MY,
        summary: "an ALTER that MySQL/MariaDB can only do by copying the table (or with writes blocked)",
    },
    Rule {
        name: "mysql-lock-clause",
        engines: MY,
        summary: "LOCK=SHARED / LOCK=EXCLUSIVE blocks writes (or reads) for the whole ALTER",
    },
    Rule {
        name: "mysql-inline-references",
        engines: MY,
        summary: "a column-level REFERENCES is ignored by MySQL before 9.0: no foreign key is made",
    },
    Rule {
        name: "sqlite-table-rebuild",
        engines: LITE,
        summary: "copying a SQLite table (a rebuild, DROP COLUMN) holds the database's write lock throughout",
    },
];

/// The rules that report on ignores themselves.
pub const META_RULES: &[&str] = &["unknown-rule", "unused-ignore"];

/// The rule of that name.
pub fn rule(name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.name == name)
}

/// A server version, read from the server or from `[lint] server_version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    /// MariaDB rather than MySQL.
    pub mariadb: bool,
    /// Major.
    pub major: u32,
    /// Minor.
    pub minor: u32,
}

impl Version {
    /// Reads `16.2`, `PostgreSQL 16.2 on …`, `10.11.6-MariaDB-0+deb12u1`,
    /// `mariadb 10.11`, `8.0.36`.
    pub fn parse(text: &str) -> Option<Version> {
        let mariadb = text.to_ascii_lowercase().contains("mariadb");
        let start = text.find(|c: char| c.is_ascii_digit())?;
        let mut nums = text[start..]
            .split(|c: char| !c.is_ascii_digit())
            .take(2)
            .map(|n| n.parse::<u32>().ok());
        let major = nums.next().flatten()?;
        let minor = nums.next().flatten().unwrap_or(0);
        Some(Version {
            mariadb,
            major,
            minor,
        })
    }

    /// Whether the version is at least `major.minor`.
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.mariadb {
            write!(f, "MariaDB ")?;
        }
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// What a check sees besides the statement.
#[cfg(feature = "lint")]
#[cfg_attr(docsrs, doc(cfg(feature = "lint")))]
pub struct Ctx<'a> {
    /// The engine.
    pub engine: Engine,
    /// The server's version, when known.
    pub version: Option<Version>,
    /// Whether the revision runs in a transaction.
    pub transactional: bool,
    /// The section's direction.
    pub direction: Direction,
    /// Tables created earlier in the same section.
    pub created: &'a HashSet<String>,
    /// Tables altered earlier in the same section (a DDL lock held when the
    /// section runs in one transaction).
    pub altered: &'a HashSet<String>,
    /// Tables copied into another earlier in the same section (a rebuild:
    /// dropping one afterwards loses nothing).
    pub copied: &'a HashSet<String>,
    /// Constraints added `NOT VALID` earlier in the same section.
    pub not_valid: &'a HashSet<String>,
    /// How many statements the section has.
    pub statements: usize,
    /// This statement's 0-based position in the section.
    pub index: usize,
    /// Column types on the database (`table` → `column` → type), when read.
    pub columns: &'a HashMap<String, HashMap<String, String>>,
    /// A `-- braid:batch` mark before the statement: whether the statement
    /// has its `:batch_size` placeholder.
    pub batch: Option<bool>,
}

#[cfg(feature = "lint")]
impl Ctx<'_> {
    /// Whether a table already exists when the statement runs (it was not
    /// created earlier in the section).
    pub fn existing(&self, table: &str) -> bool {
        !self.created.contains(table)
    }

    /// The column's current type on the database, when known.
    pub fn column_type(&self, table: &str, column: &str) -> Option<&str> {
        self.columns
            .get(table)
            .and_then(|c| c.get(column))
            .map(String::as_str)
    }
}

/// A rule's hit on one statement, before severities are settled.
#[cfg(feature = "lint")]
#[cfg_attr(docsrs, doc(cfg(feature = "lint")))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The rule.
    pub rule: &'static str,
    /// Its severity before `[lint]` and table sizes change it.
    pub severity: Severity,
    /// The table.
    pub table: Option<String>,
    /// What happens.
    pub message: String,
    /// The safe recipe.
    pub fix: String,
}

#[cfg(feature = "lint")]
impl Hit {
    pub(crate) fn new(
        rule: &'static str,
        severity: Severity,
        table: Option<&str>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Hit {
        debug_assert!(super::rules::rule(rule).is_some(), "unknown rule {rule}");
        Hit {
            rule,
            severity,
            table: table.map(str::to_owned),
            message: message.into(),
            fix: fix.into(),
        }
    }
}

/// Every rule's hits on one statement.
#[cfg(feature = "lint")]
#[cfg_attr(docsrs, doc(cfg(feature = "lint")))]
pub fn check(read: &Read, ctx: &Ctx<'_>) -> Vec<Hit> {
    let mut out = Vec::new();
    super::indexes::check(read, ctx, &mut out);
    super::constraints::check(read, ctx, &mut out);
    super::columns::check(read, ctx, &mut out);
    super::maintenance::check(read, ctx, &mut out);
    super::mysql::check(read, ctx, &mut out);
    super::sqlite::check(read, ctx, &mut out);
    out.retain(|h| rule(h.rule).is_some_and(|r| r.engines.contains(&ctx.engine)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn versions() {
        let v = Version::parse("PostgreSQL 16.2 on x86_64").unwrap();
        assert_eq!((v.major, v.minor, v.mariadb), (16, 2, false));
        let v = Version::parse("10.11.6-MariaDB-0+deb12u1").unwrap();
        assert_eq!((v.major, v.minor, v.mariadb), (10, 11, true));
        assert!(v.at_least(10, 5) && !v.at_least(11, 0));
        assert_eq!(Version::parse("11").unwrap().minor, 0);
        assert!(Version::parse("latest").is_none());
    }

    #[test]
    fn rule_names_are_unique_and_kebab_case() {
        let mut seen = HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.name), "{}", r.name);
            assert!(r.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
        }
        assert_eq!(RULES.len(), 19);
    }
}
