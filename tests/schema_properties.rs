//! Random schemas survive the snapshot round trip: built on an empty
//! database, read, rendered as SQL, rebuilt on another empty database and
//! read again, the two snapshots are strictly equal. Random pairs of
//! schemas diff both ways: the up script turns the first into the second
//! and the down script gives the first back. SQLite in memory (many cases)
//! and PostgreSQL (fewer: each case resets two schemas on the real
//! server). `PROPTEST_CASES` raises both (`make fuzz`): SQLite runs that
//! many cases, PostgreSQL a quarter of them (12 by default).

mod common;

use braid::db::Db;
use braid::schema::diff::{self, Renames};
use braid::schema::{self, Filter, compare};
use common::settings;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Col {
    ty: usize,
    nullable: bool,
    default: bool,
    unique: bool,
    check: bool,
}

#[derive(Debug, Clone)]
struct Tbl {
    cols: Vec<Col>,
    fk: Option<usize>,
    index: Option<(usize, bool)>,
}

fn col() -> impl Strategy<Value = Col> {
    (
        0..4usize,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(ty, nullable, default, unique, check)| Col {
            ty,
            nullable,
            default,
            unique,
            check,
        })
}

fn tables() -> impl Strategy<Value = Vec<Tbl>> {
    prop::collection::vec(
        (
            prop::collection::vec(col(), 1..5),
            prop::option::of(0..4usize),
            prop::option::of((0..5usize, any::<bool>())),
        )
            .prop_map(|(cols, fk, index)| Tbl { cols, fk, index }),
        1..5,
    )
}

/// The schema's DDL. `pg` picks PostgreSQL's type names.
fn ddl(tables: &[Tbl], pg: bool) -> String {
    let types: [(&str, &str); 4] = if pg {
        [
            ("integer", "7"),
            ("text", "'x'"),
            ("numeric(8,2)", "1.5"),
            ("varchar(20)", "'y'"),
        ]
    } else {
        [
            ("INTEGER", "7"),
            ("TEXT", "'x'"),
            ("REAL", "1.5"),
            ("VARCHAR(20)", "'y'"),
        ]
    };
    let mut out = String::new();
    for (i, t) in tables.iter().enumerate() {
        let mut lines = vec!["    id integer PRIMARY KEY".to_owned()];
        for (j, c) in t.cols.iter().enumerate() {
            let (ty, lit) = types[c.ty];
            let mut l = format!("    c{j} {ty}");
            if !c.nullable {
                l.push_str(" NOT NULL");
            }
            if c.default {
                l.push_str(&format!(" DEFAULT {lit}"));
            }
            if c.unique {
                l.push_str(" UNIQUE");
            }
            if c.check {
                l.push_str(&format!(" CHECK (c{j} IS NOT NULL OR id > 0)"));
            }
            lines.push(l);
        }
        if let Some(p) = t.fk.filter(|p| *p < i) {
            lines.push(format!(
                "    parent_id integer REFERENCES t{p} (id) ON DELETE CASCADE"
            ));
        }
        out.push_str(&format!("CREATE TABLE t{i} (\n{}\n);\n", lines.join(",\n")));
        if let Some((c, partial)) = t.index {
            let c = c % t.cols.len();
            out.push_str(&format!("CREATE INDEX ix_t{i}_c{c} ON t{i} (c{c})"));
            if partial {
                out.push_str(" WHERE id > 10");
            }
            out.push_str(";\n");
        }
    }
    out
}

async fn round_trip(a: &mut Db, b: &mut Db, sql: &str) -> Result<(), String> {
    let filter = Filter::new("braid_version", &[]);
    a.exec(sql).await.map_err(|e| format!("{e}\n{sql}"))?;
    let first = schema::introspect(a, &filter)
        .await
        .map_err(|e| e.to_string())?;
    let rendered = first.to_sql();
    b.exec(&rendered)
        .await
        .map_err(|e| format!("{e}\n{rendered}"))?;
    let second = schema::introspect(b, &filter)
        .await
        .map_err(|e| e.to_string())?;
    let d = compare::compare(&first, &second);
    if d.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{d:?}\n--- built from\n{sql}\n--- rendered\n{rendered}"
        ))
    }
}

/// Builds `old` on `a` and `new` on `b`, then proves the diff both ways
/// on `a`.
async fn diff_pair(a: &mut Db, b: &mut Db, old: &str, new: &str) -> Result<(), String> {
    let filter = Filter::new("braid_version", &[]);
    braid::autogen::run_sql(a, old)
        .await
        .map_err(|e| format!("{e}\n{old}"))?;
    braid::autogen::run_sql(b, new)
        .await
        .map_err(|e| format!("{e}\n{new}"))?;
    let sa = schema::introspect(a, &filter)
        .await
        .map_err(|e| e.to_string())?;
    let sb = schema::introspect(b, &filter)
        .await
        .map_err(|e| e.to_string())?;
    let up = diff::diff(&sa, &sb, &Renames::default());
    braid::autogen::prove(a, &sa, &sb, &up, &Renames::default(), &filter)
        .await
        .map(|_| ())
        .map_err(|e| {
            format!(
                "{e}\n--- old\n{old}\n--- new\n{new}\n--- up\n{}",
                up.to_sql()
            )
        })
}

/// PostgreSQL's case count: a quarter of `PROPTEST_CASES`, 12 without it.
fn postgres_cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse::<u32>().ok())
        .map_or(12, |c| (c / 4).max(12))
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(48)
    ))]

    #[test]
    fn random_sqlite_schemas_round_trip(t in tables()) {
        let sql = ddl(&t, false);
        let r = rt().block_on(async {
            let mut a = Db::connect(&settings("sqlite::memory:", None)).await.unwrap();
            let mut b = Db::connect(&settings("sqlite::memory:", None)).await.unwrap();
            let r = round_trip(&mut a, &mut b, &sql).await;
            a.close().await;
            b.close().await;
            r
        });
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(48)
    ))]

    #[test]
    fn random_sqlite_schema_pairs_diff_both_ways(old in tables(), new in tables()) {
        let (old, new) = (ddl(&old, false), ddl(&new, false));
        let r = rt().block_on(async {
            let mut a = Db::connect(&settings("sqlite::memory:", None)).await.unwrap();
            let mut b = Db::connect(&settings("sqlite::memory:", None)).await.unwrap();
            let r = diff_pair(&mut a, &mut b, &old, &new).await;
            a.close().await;
            b.close().await;
            r
        });
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(postgres_cases()))]

    #[test]
    fn random_postgres_schema_pairs_diff_both_ways(old in tables(), new in tables()) {
        let (old, new) = (ddl(&old, true), ddl(&new, true));
        let url = "postgres://postgres@127.0.0.1:5432/test";
        let (sa, sb) = (
            format!("braid_propd_a_{}", std::process::id()),
            format!("braid_propd_b_{}", std::process::id()),
        );
        let r = rt().block_on(async {
            let mut a = Db::connect(&settings(url, Some(&sa))).await.expect("PostgreSQL on 127.0.0.1:5432");
            let mut b = Db::connect(&settings(url, Some(&sb))).await.unwrap();
            for (db, s) in [(&mut a, &sa), (&mut b, &sb)] {
                db.exec(&format!("DROP SCHEMA IF EXISTS \"{s}\" CASCADE; CREATE SCHEMA \"{s}\""))
                    .await
                    .unwrap();
            }
            let r = diff_pair(&mut a, &mut b, &old, &new).await;
            for (db, s) in [(&mut a, &sa), (&mut b, &sb)] {
                db.exec(&format!("DROP SCHEMA IF EXISTS \"{s}\" CASCADE")).await.unwrap();
            }
            a.close().await;
            b.close().await;
            r
        });
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(postgres_cases()))]

    #[test]
    fn random_postgres_schemas_round_trip(t in tables()) {
        let sql = ddl(&t, true);
        let url = "postgres://postgres@127.0.0.1:5432/test";
        let (sa, sb) = (
            format!("braid_prop_a_{}", std::process::id()),
            format!("braid_prop_b_{}", std::process::id()),
        );
        let r = rt().block_on(async {
            let mut a = Db::connect(&settings(url, Some(&sa))).await.expect("PostgreSQL on 127.0.0.1:5432");
            let mut b = Db::connect(&settings(url, Some(&sb))).await.unwrap();
            for (db, s) in [(&mut a, &sa), (&mut b, &sb)] {
                db.exec(&format!("DROP SCHEMA IF EXISTS \"{s}\" CASCADE; CREATE SCHEMA \"{s}\""))
                    .await
                    .unwrap();
            }
            let r = round_trip(&mut a, &mut b, &sql).await;
            for (db, s) in [(&mut a, &sa), (&mut b, &sb)] {
                db.exec(&format!("DROP SCHEMA IF EXISTS \"{s}\" CASCADE")).await.unwrap();
            }
            a.close().await;
            b.close().await;
            r
        });
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}
