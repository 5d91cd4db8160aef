//! Runs every pair in `schema-fixtures/` (an old and a desired schema, one
//! concern each) on each engine it names: SQLite in memory, PostgreSQL
//! and MariaDB on the machine's real servers. For each: `diff X X` is
//! empty on both sides; the generated up script, applied to the old
//! schema, gives the desired one and the down script gives the old one
//! back (strict equality unless the fixture says `strict = false`); data
//! loss is reported exactly when the fixture says so.

mod common;

use common::settings;
use std::path::Path;

use braid::autogen;
use braid::db::Db;
use braid::schema::diff::{self, Renames};
use braid::schema::{self, Filter};
use serde::Deserialize;

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct Override {
    old: Option<String>,
    new: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    description: String,
    engines: Vec<String>,
    old: String,
    new: String,
    #[serde(default)]
    data_loss: bool,
    #[serde(default = "yes")]
    strict: bool,
    #[serde(default)]
    up_contains: Vec<String>,
    #[serde(default)]
    sqlite: Override,
    #[serde(default)]
    postgres: Override,
    #[serde(default)]
    mysql: Override,
}

fn yes() -> bool {
    true
}

/// Two empty databases of one engine, made anew for each fixture.
struct Pair {
    engine: &'static str,
    names: [String; 2],
}

impl Pair {
    async fn fresh(&self) -> (Db, Db) {
        match self.engine {
            "sqlite" => (
                Db::connect(&settings("sqlite::memory:", None))
                    .await
                    .unwrap(),
                Db::connect(&settings("sqlite::memory:", None))
                    .await
                    .unwrap(),
            ),
            "postgres" => {
                let url = "postgres://postgres@127.0.0.1:5432/test";
                let mut out = Vec::new();
                for n in &self.names {
                    let mut db = Db::connect(&settings(url, Some(n)))
                        .await
                        .expect("PostgreSQL on 127.0.0.1:5432 (make test starts it)");
                    db.exec(&format!(
                        "DROP SCHEMA IF EXISTS \"{n}\" CASCADE; CREATE SCHEMA \"{n}\""
                    ))
                    .await
                    .unwrap();
                    out.push(db);
                }
                let b = out.pop().unwrap();
                (out.pop().unwrap(), b)
            }
            _ => {
                let mut admin = Db::connect(&settings("mysql://root@127.0.0.1:3306/test", None))
                    .await
                    .expect("MariaDB on 127.0.0.1:3306 (make test starts it)");
                let mut out = Vec::new();
                for n in &self.names {
                    admin
                        .exec(&format!("DROP DATABASE IF EXISTS `{n}`"))
                        .await
                        .unwrap();
                    admin.exec(&format!("CREATE DATABASE `{n}`")).await.unwrap();
                    out.push(
                        Db::connect(&settings(&format!("mysql://root@127.0.0.1:3306/{n}"), None))
                            .await
                            .unwrap(),
                    );
                }
                admin.close().await;
                let b = out.pop().unwrap();
                (out.pop().unwrap(), b)
            }
        }
    }

    async fn clean(&self) {
        match self.engine {
            "postgres" => {
                let mut db =
                    Db::connect(&settings("postgres://postgres@127.0.0.1:5432/test", None))
                        .await
                        .unwrap();
                for n in &self.names {
                    let _ = db
                        .exec(&format!("DROP SCHEMA IF EXISTS \"{n}\" CASCADE"))
                        .await;
                }
                db.close().await;
            }
            "mysql" => {
                let mut db = Db::connect(&settings("mysql://root@127.0.0.1:3306/test", None))
                    .await
                    .unwrap();
                for n in &self.names {
                    let _ = db.exec(&format!("DROP DATABASE IF EXISTS `{n}`")).await;
                }
                db.close().await;
            }
            _ => {}
        }
    }
}

async fn check(pair: &Pair, fx: &Fixture) -> Result<(), String> {
    let over = match pair.engine {
        "sqlite" => fx.sqlite.clone(),
        "postgres" => fx.postgres.clone(),
        _ => fx.mysql.clone(),
    };
    let old = over.old.unwrap_or_else(|| fx.old.clone());
    let new = over.new.unwrap_or_else(|| fx.new.clone());
    let filter = Filter::default();
    let (mut a, mut b) = pair.fresh().await;
    let result = async {
        autogen::run_sql(&mut a, &old)
            .await
            .map_err(|e| format!("old schema: {e}"))?;
        autogen::run_sql(&mut b, &new)
            .await
            .map_err(|e| format!("new schema: {e}"))?;
        let sa = schema::introspect(&mut a, &filter)
            .await
            .map_err(|e| e.to_string())?;
        let sb = schema::introspect(&mut b, &filter)
            .await
            .map_err(|e| e.to_string())?;
        for (s, which) in [(&sa, "old"), (&sb, "new")] {
            let same = diff::diff(s, s, &Renames::default());
            if !same.is_empty() {
                return Err(format!(
                    "diff {which} {which} is not empty:\n{}",
                    same.to_sql()
                ));
            }
        }
        let renames = Renames::parse(&new);
        let up = diff::diff(&sa, &sb, &renames);
        if up.is_empty() {
            return Err("no up statement for a fixture that changes something".into());
        }
        if !up.unsupported.is_empty() {
            return Err(format!("unsupported: {:?}", up.unsupported));
        }
        let sql = up.to_sql();
        for want in &fx.up_contains {
            if !sql.contains(want.as_str()) {
                return Err(format!("the up script lacks `{want}`:\n{sql}"));
            }
        }
        let reported = !up.losses().is_empty();
        if fx.data_loss != reported {
            return Err(format!(
                "data loss expected: {}, reported: {:?}\n{sql}",
                fx.data_loss,
                up.losses()
            ));
        }
        let (down, notes) = autogen::prove(&mut a, &sa, &sb, &up, &renames, &filter)
            .await
            .map_err(|e| format!("{e}\n--- up\n{sql}"))?;
        if !down.unsupported.is_empty() {
            return Err(format!("unsupported down: {:?}", down.unsupported));
        }
        if fx.strict && !notes.is_empty() {
            return Err(format!("not strictly equal: {notes:?}\n--- up\n{sql}"));
        }
        if !fx.strict && notes.is_empty() {
            return Err("marked `strict = false` but strictly equal: drop the mark".into());
        }
        Ok(())
    }
    .await;
    a.close().await;
    b.close().await;
    result
}

#[test]
fn schema_fixtures() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema-fixtures");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 60, "the corpus holds {} pairs", paths.len());
    let pid = std::process::id();
    let pairs: Vec<Pair> = ["sqlite", "postgres", "mysql"]
        .into_iter()
        .map(|engine| Pair {
            engine,
            names: [format!("braid_fx_a_{pid}"), format!("braid_fx_b_{pid}")],
        })
        .collect();
    let mut failures = Vec::new();
    let mut ran = [0usize; 3];
    for path in &paths {
        let text = std::fs::read_to_string(path).unwrap();
        let fx: Fixture =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for (i, pair) in pairs.iter().enumerate() {
            if !fx.engines.iter().any(|e| e == pair.engine) {
                continue;
            }
            ran[i] += 1;
            if let Err(e) = rt.block_on(check(pair, &fx)) {
                failures.push(format!(
                    "{} ({}) on {}: {e}",
                    path.file_name().unwrap().to_string_lossy(),
                    fx.description,
                    pair.engine
                ));
            }
        }
    }
    for pair in &pairs {
        rt.block_on(pair.clean());
    }
    assert!(
        failures.is_empty(),
        "{} failure(s) (pairs run: sqlite {}, postgres {}, mysql {}):\n\n{}",
        failures.len(),
        ran[0],
        ran[1],
        ran[2],
        failures.join("\n\n")
    );
    // Every engine runs most of the corpus.
    assert!(
        ran.iter().all(|n| *n >= 45),
        "pairs run per engine: {ran:?}"
    );
}
