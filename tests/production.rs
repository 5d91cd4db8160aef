//! SPEC §14 on real servers: `rehearse` on a copy of the database (its
//! measurements, the rollback tested, the database itself untouched, no
//! scratch database left), `upgrade --backup` (a backup that restores to
//! the same schema and rows), and `status` on a branching history.

mod common;

use std::sync::Mutex;

use common::migration;
use common::scratch::{ENGINES, Engine, Scratch, mysql_server, pg_server, rt, unique};
use sqlx::Connection;

/// The tests here count scratch databases on the servers: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn json(r: &common::Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", r.stdout, r.stderr))
}

/// Scratch databases left on the two servers.
fn scratch_left() -> Vec<String> {
    rt().block_on(async {
        let mut pg = sqlx::PgConnection::connect(&pg_server()).await.unwrap();
        let mut names: Vec<String> = sqlx::query_scalar(
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'braid\\_scratch\\_%'",
        )
        .fetch_all(&mut pg)
        .await
        .unwrap();
        let mut my = sqlx::MySqlConnection::connect(&mysql_server()).await.unwrap();
        let more: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'braid\\_scratch\\_%'",
        )
        .fetch_all(&mut my)
        .await
        .unwrap();
        names.extend(more);
        names
    })
}

/// A number that changes when any row of `big` changes.
fn rows_sum(s: &Scratch) -> i64 {
    s.scalar(match s.engine {
        Engine::Postgres => "SELECT COALESCE(SUM(hashtext(id || ':' || v)), 0)::bigint FROM big",
        Engine::Mysql => {
            "SELECT CAST(COALESCE(SUM(CRC32(CONCAT(id, ':', v))), 0) AS SIGNED) FROM big"
        }
        Engine::Sqlite => "SELECT COALESCE(SUM(length(v) * id), 0) FROM big",
    })
}

/// The revisions of the rehearsal: a table of rows, a statement that
/// rewrites it, an index built beside it (concurrently on PostgreSQL), and
/// a revision whose down leaves a table behind.
fn write_rehearsed(s: &Scratch, rows: u32) {
    let series =
        format!("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows})");
    let fill = match s.engine {
        Engine::Postgres => {
            format!("INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, {rows}) g;")
        }
        Engine::Mysql => {
            format!(
                "SET SESSION max_recursive_iterations = {rows};\nINSERT INTO big (id, v) {series} SELECT x, CONCAT('row ', x) FROM c;"
            )
        }
        Engine::Sqlite => format!("INSERT INTO big (id, v) {series} SELECT x, 'row ' || x FROM c;"),
    };
    s.write(
        "migrations/a1.sql",
        &migration(
            "a1",
            &[],
            "",
            &format!("CREATE TABLE big (id integer PRIMARY KEY, v varchar(20));\n{fill}"),
            Some("DROP TABLE big;"),
        ),
    );
    let (rewrite, back) = match s.engine {
        Engine::Postgres => (
            "ALTER TABLE big ADD COLUMN r double precision DEFAULT random();",
            "ALTER TABLE big DROP COLUMN r;",
        ),
        Engine::Mysql => (
            "ALTER TABLE big MODIFY v varchar(40), ALGORITHM=COPY;",
            "ALTER TABLE big MODIFY v varchar(20);",
        ),
        Engine::Sqlite => (
            "CREATE TABLE big_new (id integer PRIMARY KEY, v varchar(40));\nINSERT INTO big_new SELECT id, v FROM big;\nDROP TABLE big;\nALTER TABLE big_new RENAME TO big;",
            "CREATE TABLE big_old (id integer PRIMARY KEY, v varchar(20));\nINSERT INTO big_old SELECT id, v FROM big;\nDROP TABLE big;\nALTER TABLE big_old RENAME TO big;",
        ),
    };
    s.write(
        "migrations/b2.sql",
        &migration("b2", &["a1"], "", rewrite, Some(back)),
    );
    let (extra, index, drop) = match s.engine {
        Engine::Postgres => (
            "-- transactional = false",
            "CREATE INDEX CONCURRENTLY ix_big_v ON big (v);",
            "DROP INDEX CONCURRENTLY ix_big_v;",
        ),
        Engine::Mysql => (
            "",
            "CREATE INDEX ix_big_v ON big (v);",
            "DROP INDEX ix_big_v ON big;",
        ),
        Engine::Sqlite => (
            "",
            "CREATE INDEX ix_big_v ON big (v);",
            "DROP INDEX ix_big_v;",
        ),
    };
    s.write(
        "migrations/c3.sql",
        &migration("c3", &["b2"], extra, index, Some(drop)),
    );
    s.write(
        "migrations/d4.sql",
        &migration(
            "d4",
            &["c3"],
            "",
            "CREATE TABLE extra (id integer);\nCREATE TABLE extra2 (id integer);",
            Some("DROP TABLE extra2;"),
        ),
    );
}

/// What must not change on the database rehearsed: its schema, its rows,
/// its version table and its history.
fn state(s: &Scratch) -> (String, i64, Vec<String>, usize) {
    let schema = s.ok(&["schema", "--format", "json"]).stdout;
    let log = json(&s.ok(&["log", "--format", "json"]));
    (
        schema,
        rows_sum(s),
        s.current(),
        log["entries"].as_array().unwrap().len(),
    )
}

/// SPEC §14: the pending revisions measured on a copy; the rewrite and
/// its lock named, the concurrent build not; the revision whose down does
/// not restore named; the database itself unchanged; no copy left.
#[test]
fn rehearse_measures_each_statement_on_a_copy_and_tests_the_rollback() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for engine in ENGINES {
        let s = Scratch::new(engine);
        let rows = if engine == Engine::Postgres {
            100_000
        } else {
            10_000
        };
        write_rehearsed(&s, rows);
        s.ok(&["upgrade", "a1"]);
        let file = s.project.path().join("test.db");
        let file_hash = || std::fs::read(&file).map(|b| blake3::hash(&b)).ok();
        let (before, hash) = (state(&s), file_hash());
        let r = s.braid(&["rehearse", "--with-data", "--format", "json"]);
        assert_eq!(
            r.code, 1,
            "{engine:?}: d4 does not restore: {}{}",
            r.stdout, r.stderr
        );
        assert!(
            r.stderr
                .contains("the down of d4 does not give back the schema"),
            "{engine:?}: {}",
            r.stderr
        );
        let v = json(&r);
        let ids = |k: &str| -> Vec<String> {
            v[k].as_array()
                .unwrap()
                .iter()
                .map(|s| s["revision"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(ids("up"), ["b2", "c3", "d4"], "{engine:?}: {v}");
        assert_eq!(ids("down"), ["d4", "c3", "b2"], "{engine:?}: {v}");
        assert_eq!(v["from"], serde_json::json!(["a1"]));
        let statements = |step: usize| v["up"][step]["statements"].as_array().unwrap().clone();
        let rewrote = |step: usize| -> Vec<String> {
            statements(step)
                .iter()
                .flat_map(|m| m["rewrote"].as_array().unwrap().clone())
                .map(|t| t.as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(rewrote(0), ["big"], "{engine:?}: b2 rewrites big: {v}");
        assert!(
            rewrote(1).is_empty(),
            "{engine:?}: the index build does not: {v}"
        );
        for m in statements(0).iter().chain(&statements(1)) {
            assert!(m["duration_ms"].as_f64().unwrap() >= 0.0);
            assert!(m["line"].as_u64().unwrap() > 0);
        }
        if engine == Engine::Postgres {
            let locks = statements(0)[0]["locks"].clone();
            assert!(
                locks
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|l| l["mode"] == "ACCESS EXCLUSIVE" && l["table"] == "big"),
                "{v}"
            );
            // Built concurrently, outside a transaction: no lock held to
            // its end, none read.
            assert!(statements(1)[0]["locks"].is_null(), "{v}");
            // The lint finding sits beside its statement.
            assert_eq!(
                statements(0)[0]["findings"][0]["rule"],
                "volatile-default",
                "{v}"
            );
            // 100,000 rows rewritten take measurable time.
            assert!(
                statements(0)[0]["duration_ms"].as_f64().unwrap() > 1.0,
                "{v}"
            );
        }
        let not = v["not_restored"].as_array().unwrap();
        assert_eq!(not.len(), 1, "{engine:?}: {v}");
        assert_eq!(not[0]["revision"], "d4");
        assert!(
            not[0]["differences"].to_string().contains("extra"),
            "{engine:?}: {v}"
        );
        assert_eq!(v["restored"], false);
        // The database rehearsed is as it was.
        assert_eq!(state(&s), before, "{engine:?}");
        assert_eq!(file_hash(), hash, "{engine:?}");
        // The text form: a table per step, the rollback's verdict.
        let text = s.braid(&["rehearse"]);
        assert_eq!(text.code, 1);
        assert!(
            text.stdout
                .contains("rollback: d4 is not restored by its down:"),
            "{engine:?}: {}{}",
            text.stdout,
            text.stderr
        );
        if engine == Engine::Postgres {
            assert!(
                text.stdout.contains("ACCESS EXCLUSIVE big"),
                "{}",
                text.stdout
            );
        }
        // Without d4, the rollback holds: exit 0.
        let ok = s.braid(&["rehearse", "c3"]);
        assert_eq!(ok.code, 0, "{engine:?}: {}{}", ok.stdout, ok.stderr);
        assert!(
            ok.stdout.contains(
                "rollback: each of the 2 revision(s) reverted to the schema it started from"
            ),
            "{engine:?}: {}",
            ok.stdout
        );
        assert_eq!(state(&s), before, "{engine:?}");
        assert_eq!(scratch_left(), Vec::<String>::new(), "{engine:?}");
    }
}

/// A bad target, and a copy tool that is not installed: exit 1, named,
/// nothing made.
#[test]
fn rehearse_refuses_bad_input_and_a_missing_tool() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut s = Scratch::new(Engine::Postgres);
    write_rehearsed(&s, 10);
    s.ok(&["upgrade", "a1"]);
    let r = s.braid(&["rehearse", "nosuch"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("nosuch"), "{}", r.stderr);
    // Another engine's database cannot be copied onto this one's.
    let missing = s.project.path().join("missing.db");
    let sqlite = format!("sqlite://{}?mode=rwc", missing.display());
    let r = s.braid(&["rehearse", "--from", &sqlite]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("is not a PostgreSQL database like"),
        "{}",
        r.stderr
    );
    // A SQLite file that is not there is not created.
    let lite = Scratch::new(Engine::Sqlite);
    let r = lite.braid(&["rehearse", "--from", &sqlite]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("yet: nothing to rehearse on"),
        "{}",
        r.stderr
    );
    assert!(!missing.exists());
    let empty = tempfile::tempdir().unwrap();
    s.project.env("PATH", &empty.path().display().to_string());
    let r = s.braid(&["rehearse"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("pg_dump is not installed"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("install PostgreSQL's client programs"),
        "{}",
        r.stderr
    );
    assert_eq!(scratch_left(), Vec::<String>::new());
    // The same missing tool stops `upgrade --backup` before any revision.
    let backup = s.project.path().join("backup.dump");
    let r = s.braid(&[
        "upgrade",
        "heads",
        "--backup",
        &backup.display().to_string(),
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("no revision was run: the backup failed: pg_dump is not installed"),
        "{}",
        r.stderr
    );
    assert!(!backup.exists());
    assert_eq!(s.current(), ["a1"]);
}

/// SPEC §14: `upgrade --backup PATH` writes the engine's backup before the
/// first revision; restored into a new database it gives the schema and
/// rows the database had before the upgrade.
#[test]
fn a_backup_restores_to_the_same_schema_and_rows() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for engine in ENGINES {
        let s = Scratch::new(engine);
        write_rehearsed(&s, 500);
        s.ok(&["upgrade", "a1"]);
        let before = (s.ok(&["schema"]).stdout, rows_sum(&s));
        let backup = s.project.path().join("backup.out");
        let path = backup.display().to_string();
        let r = s.ok(&["upgrade", "c3", "--backup", &path]);
        assert!(
            r.stderr.contains("to restore it: "),
            "{engine:?}: {}",
            r.stderr
        );
        assert_eq!(s.current(), ["c3"]);
        // A second backup to the same file is refused, and nothing runs.
        let again = s.braid(&["upgrade", "heads", "--backup", &path]);
        assert_eq!(again.code, 1);
        assert!(again.stderr.contains("exists already"), "{}", again.stderr);
        assert_eq!(s.current(), ["c3"]);
        // Restore into a new database and compare.
        let restored = unique("braid_restored");
        let url = match engine {
            Engine::Sqlite => format!("sqlite://{path}"),
            Engine::Postgres => {
                let server = pg_server();
                let admin = server.clone();
                let name = restored.clone();
                rt().block_on(async move {
                    let mut c = sqlx::PgConnection::connect(&admin).await.unwrap();
                    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
                        .execute(&mut c)
                        .await
                        .unwrap();
                });
                let url = format!("{}/{restored}", server.rsplit_once('/').unwrap().0);
                common::succeed(std::process::Command::new("pg_restore").args([
                    "--no-owner",
                    "--dbname",
                    &url,
                    &path,
                ]));
                url
            }
            Engine::Mysql => {
                s.exec(&format!("CREATE DATABASE `{restored}`"));
                common::succeed(std::process::Command::new("sh").args([
                    "-c",
                    &format!(
                        "mariadb --protocol=TCP -h 127.0.0.1 -P 3306 -u root {restored} < '{path}'"
                    ),
                ]));
                format!("{}/{restored}", mysql_server().rsplit_once('/').unwrap().0)
            }
        };
        let schema = s.ok(&["--url", &url, "schema"]).stdout;
        assert_eq!(schema, before.0, "{engine:?}");
        assert_eq!(
            s.ok(&["--url", &url, "current"]).stdout.trim(),
            "a1",
            "{engine:?}"
        );
        let sum = match engine {
            Engine::Sqlite => {
                let copy = Scratch::new(Engine::Sqlite);
                std::fs::copy(&backup, copy.project.path().join("test.db")).unwrap();
                rows_sum(&copy)
            }
            Engine::Postgres => rt().block_on(async {
                let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                let sql = format!(
                    "SELECT COALESCE(SUM(hashtext(id || ':' || v)), 0)::bigint FROM \"{}\".big",
                    s.name
                );
                sqlx::query_scalar::<_, i64>(&sql)
                    .fetch_one(&mut c)
                    .await
                    .unwrap()
            }),
            Engine::Mysql => rt().block_on(async {
                let mut c = sqlx::MySqlConnection::connect(&url).await.unwrap();
                sqlx::query_scalar::<_, i64>(
                    "SELECT CAST(COALESCE(SUM(CRC32(CONCAT(id, ':', v))), 0) AS SIGNED) FROM big",
                )
                .fetch_one(&mut c)
                .await
                .unwrap()
            }),
        };
        assert_eq!(sum, before.1, "{engine:?}");
        match engine {
            Engine::Postgres => s.exec(&format!("DROP DATABASE {restored} WITH (FORCE)")),
            Engine::Mysql => s.exec(&format!("DROP DATABASE `{restored}`")),
            Engine::Sqlite => {}
        }
    }
}

/// SPEC §14: `status` on a branching history, the database part way:
/// applied, pending, a failed revision and a recorded revision no file
/// declares, each named so.
#[test]
fn status_names_each_revision_state_on_a_branching_history() {
    for engine in ENGINES {
        let s = Scratch::new(engine);
        s.write(
            "migrations/a.sql",
            &migration(
                "a",
                &[],
                "",
                "CREATE TABLE a (id integer);",
                Some("DROP TABLE a;"),
            ),
        );
        s.write(
            "migrations/b.sql",
            &migration(
                "b",
                &["a"],
                "",
                "CREATE TABLE b (id integer);",
                Some("DROP TABLE b;"),
            ),
        );
        s.write(
            "migrations/c.sql",
            &migration(
                "c",
                &["a"],
                "",
                "CREATE TABLE c (id integer);\nINSERT INTO nosuch VALUES (1);",
                Some("DROP TABLE c;"),
            ),
        );
        s.write(
            "migrations/m.sql",
            &migration(
                "m",
                &["b", "c"],
                "",
                "CREATE TABLE m (id integer);",
                Some("DROP TABLE m;"),
            ),
        );
        s.ok(&["upgrade", "b"]);
        assert_eq!(
            s.braid(&["upgrade", "heads"]).code,
            1,
            "{engine:?}: c fails"
        );
        // A revision recorded by someone else's branch, no file here.
        s.exec("INSERT INTO braid_version (version_num) VALUES ('zzz')");
        let v = json(&s.ok(&["status", "--format", "json"]));
        let states = common::status_states(&v);
        let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        let mut sorted = states.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            [
                pair("a", "applied"),
                pair("b", "applied"),
                pair("c", "failed"),
                pair("m", "pending"),
                pair("zzz", "unknown"),
            ],
            "{engine:?}: {v}"
        );
        // Graph order: a first, m after b and c, the unknown row last.
        assert_eq!(states[0].0, "a");
        assert_eq!(states[3].0, "m", "{engine:?}: {v}");
        assert_eq!(states[4].0, "zzz");
        let applied = &v["revisions"][0];
        assert!(applied["duration_ms"].as_i64().is_some(), "{v}");
        assert!(applied["run_by"].as_str().unwrap().contains('@'), "{v}");
        assert!(v["revisions"][3]["applied_at"].is_null());
        let text = s.ok(&["status"]).stdout;
        assert!(text.contains("zzz"), "{engine:?}: {text}");
        assert!(text.contains("failed"), "{engine:?}: {text}");
    }
}

/// A PostgreSQL database with no configured schema (`public`, which every
/// database has): the copy still restores, with and without rows.
#[test]
fn rehearse_copies_a_database_that_uses_the_public_schema() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let name = unique("braid_rehearse_public");
    let server = pg_server();
    let admin = |sql: String| {
        let server = server.clone();
        rt().block_on(async move {
            let mut c = sqlx::PgConnection::connect(&server).await.unwrap();
            sqlx::raw_sql(&sql).execute(&mut c).await.unwrap();
        })
    };
    admin(format!("CREATE DATABASE {name}"));
    let url = format!("{}/{name}", server.rsplit_once('/').unwrap().0);
    let p = common::Project::new();
    p.write("braid.toml", &format!("[database]\nurl = \"{url}\"\n"));
    p.write(
        "migrations/a.sql",
        &migration(
            "a",
            &[],
            "",
            "CREATE TABLE t (id integer PRIMARY KEY);\nINSERT INTO t VALUES (1);",
            Some("DROP TABLE t;"),
        ),
    );
    p.write(
        "migrations/b.sql",
        &migration(
            "b",
            &["a"],
            "",
            "ALTER TABLE t ADD COLUMN v text;",
            Some("ALTER TABLE t DROP COLUMN v;"),
        ),
    );
    assert_eq!(p.run(&["upgrade", "a"]).code, 0);
    for args in [&["rehearse"][..], &["rehearse", "--with-data"][..]] {
        let r = p.run(args);
        assert_eq!(r.code, 0, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stdout.contains("ALTER TABLE t ADD COLUMN v text"),
            "{}",
            r.stdout
        );
    }
    assert_eq!(scratch_left(), Vec::<String>::new());
    admin(format!("DROP DATABASE {name} WITH (FORCE)"));
}
