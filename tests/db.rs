//! The executor against the machine's real databases: SQLite, PostgreSQL
//! (127.0.0.1:5432) and MariaDB/MySQL (127.0.0.1:3306). Each scenario runs
//! one body on all three engines. A server that cannot be reached fails
//! the test: nothing here is skipped (`make test` starts the servers).
//!
//! `BRAID_TEST_PG_URL` and `BRAID_TEST_MYSQL_URL` point elsewhere.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::migration;
use common::scratch::{ENGINES, Engine, Scratch, mysql_server, pg_server, rt, unique};
use sqlx::Connection;

/// Runs `upgrade heads` again after a fault. Only where DDL is not
/// transactional may a step be left halfway, and then braid must name it:
/// the test settles it as a user would (from what the step left behind)
/// and goes on.
fn finish_after_fault(s: &Scratch) {
    let again = s.braid(&["upgrade", "heads"]);
    if again.code == 0 {
        return;
    }
    assert_eq!(s.engine, Engine::Mysql, "{:?}: {}", s.engine, again.stderr);
    assert!(again.stderr.contains("stopped halfway"), "{}", again.stderr);
    let rev = again.stderr.split('`').nth(1).unwrap().to_owned();
    let logged = s.scalar(&format!(
        "SELECT COUNT(*) FROM applied_log WHERE rev = '{rev}'"
    ));
    let outcome = if logged == 1 {
        "--applied"
    } else {
        "--reverted"
    };
    s.ok(&["resolve", &rev, outcome]);
    s.ok(&["upgrade", "heads"]);
}

/// A table-creating revision whose downgrade drops the table.
fn table_rev(rev: &str, down: &[&str], extra: &str) -> String {
    migration(
        rev,
        down,
        extra,
        &format!("CREATE TABLE t_{rev} (id integer PRIMARY KEY);"),
        Some(&format!("DROP TABLE t_{rev};")),
    )
}

//        r0
//       /  \
// a1(@auth) b1(@billing)
//      |      |
//     a2     b2 (depends on a1)
//       \   /
//         m
//         |
//         r9
fn write_branchy(s: &Scratch) {
    s.write("migrations/r0.sql", &table_rev("r0", &[], ""));
    s.write(
        "migrations/a1.sql",
        &table_rev("a1", &["r0"], "-- branch_labels = [\"auth\"]"),
    );
    s.write("migrations/a2.sql", &table_rev("a2", &["a1"], ""));
    s.write(
        "migrations/b1.sql",
        &table_rev("b1", &["r0"], "-- branch_labels = [\"billing\"]"),
    );
    s.write(
        "migrations/b2.sql",
        &table_rev("b2", &["b1"], "-- depends_on = [\"a1\"]"),
    );
    s.write(
        "migrations/m.sql",
        &migration("m", &["a2", "b2"], "", "", Some("")),
    );
    s.write("migrations/r9.sql", &table_rev("r9", &["m"], ""));
}

fn tables(s: &Scratch) -> Vec<&'static str> {
    ["r0", "a1", "a2", "b1", "b2", "r9"]
        .into_iter()
        .filter(|t| s.has_table(&format!("t_{t}")))
        .collect()
}

#[test]
fn branches_merges_labels_relative_targets_and_stamp() {
    for engine in ENGINES {
        let s = Scratch::new(engine);
        write_branchy(&s);
        assert!(s.current().is_empty());
        s.ok(&["upgrade", "auth@head", "--dry-run"]);
        s.ok(&["upgrade", "a1"]);
        assert_eq!(s.current(), ["a1"], "{engine:?}");
        assert_eq!(tables(&s), ["r0", "a1"]);
        s.ok(&["upgrade", "billing@+1"]);
        assert_eq!(s.current(), ["a1", "b1"], "{engine:?}");
        // b2 depends on a1: a1 stops being a recorded head.
        s.ok(&["upgrade", "b2"]);
        assert_eq!(s.current(), ["b2"], "{engine:?}");
        s.ok(&["upgrade", "heads"]);
        assert_eq!(s.current(), ["r9"]);
        assert_eq!(tables(&s), ["r0", "a1", "a2", "b1", "b2", "r9"]);
        s.ok(&["downgrade", "-1"]);
        assert_eq!(s.current(), ["m"]);
        // Below the merge point on one branch.
        s.ok(&["downgrade", "b1"]);
        assert_eq!(s.current(), ["a2", "b1"], "{engine:?}");
        assert_eq!(tables(&s), ["r0", "a1", "a2", "b1"]);
        s.ok(&["downgrade", "auth@-1"]);
        assert_eq!(s.current(), ["a1", "b1"]);
        let r = s.braid(&["downgrade", "-1"]);
        assert_eq!(r.code, 1);
        assert!(
            r.stderr.contains("several current heads (a1, b1)"),
            "{}",
            r.stderr
        );
        s.ok(&["downgrade", "base"]);
        assert!(s.current().is_empty());
        assert!(tables(&s).is_empty());
        // Stamp records without running anything.
        s.ok(&["stamp", "a2", "b1"]);
        assert_eq!(s.current(), ["a2", "b1"]);
        assert!(tables(&s).is_empty());
        s.ok(&["stamp", "billing@base"]);
        assert_eq!(s.current(), ["a2"]);
        s.ok(&["stamp", "--purge", "heads"]);
        assert_eq!(s.current(), ["r9"]);
        s.ok(&["stamp", "base"]);
        assert!(s.current().is_empty());
    }
}

#[test]
fn a_failing_revision_stops_at_the_last_success() {
    for engine in ENGINES {
        let s = Scratch::new(engine);
        s.write("migrations/1.sql", &table_rev("r1", &[], ""));
        s.write("migrations/2.sql", &table_rev("r2", &["r1"], ""));
        s.write(
            "migrations/3.sql",
            &migration(
                "r3",
                &["r2"],
                "",
                "CREATE TABLE t_r3 (id integer PRIMARY KEY);\nINSERT INTO t_r3 VALUES (1);\nINSERT INTO no_such_table VALUES (1);",
                Some("DROP TABLE t_r3;"),
            ),
        );
        s.write("migrations/4.sql", &table_rev("r4", &["r3"], ""));
        let r = s.braid(&["upgrade", "heads"]);
        assert_eq!(r.code, 1, "{engine:?}");
        assert!(
            r.stderr.contains("error: revision `r3` failed (up)"),
            "{}",
            r.stderr
        );
        assert!(
            r.stderr.contains("3.sql:8"),
            "the failing statement's line: {}",
            r.stderr
        );
        assert!(
            r.stderr
                .contains("statement: INSERT INTO no_such_table VALUES (1)"),
            "{}",
            r.stderr
        );
        assert!(
            r.stderr.to_lowercase().contains("no_such_table"),
            "{}",
            r.stderr
        );
        assert_eq!(s.current(), ["r2"], "{engine:?}");
        assert!(!s.has_table("t_r4"));
        match engine {
            Engine::Sqlite | Engine::Postgres => {
                // Rolled back whole: r3 left nothing behind.
                assert!(!s.has_table("t_r3"), "{engine:?}");
                assert!(r.stderr.contains("was rolled back"), "{}", r.stderr);
            }
            Engine::Mysql => {
                // No transactional DDL: r3's table stays, and braid refuses
                // to go on until someone says what happened.
                assert!(s.has_table("t_r3"));
                let again = s.braid(&["upgrade", "heads"]);
                assert_eq!(again.code, 1);
                assert!(
                    again.stderr.contains("revision `r3` stopped halfway"),
                    "{}",
                    again.stderr
                );
                assert!(
                    again.stderr.contains("braid resolve r3 --applied"),
                    "{}",
                    again.stderr
                );
                let check = s.braid(&["check"]);
                assert_eq!(check.code, 1);
                s.exec("DROP TABLE t_r3");
                s.ok(&["resolve", "r3", "--reverted"]);
            }
        }
        // Fix the file and go on.
        s.write("migrations/3.sql", &table_rev("r3", &["r2"], ""));
        s.ok(&["upgrade", "heads"]);
        assert_eq!(s.current(), ["r4"]);
    }
}

#[test]
fn a_changed_applied_file_stops_upgrade_until_accepted() {
    for engine in ENGINES {
        let s = Scratch::new(engine);
        s.write("migrations/1.sql", &table_rev("r1", &[], ""));
        s.ok(&["upgrade", "heads"]);
        s.write("migrations/2.sql", &table_rev("r2", &["r1"], ""));
        s.write(
            "migrations/1.sql",
            &table_rev("r1", &[], "-- # edited after it ran"),
        );
        let r = s.braid(&["upgrade", "heads"]);
        assert_eq!(r.code, 1, "{engine:?}");
        assert!(
            r.stderr
                .contains("1 applied migration file changed since it ran: r1"),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("braid accept"), "{}", r.stderr);
        assert!(!s.has_table("t_r2"));
        let c = s.braid(&["check", "--format", "json"]);
        assert_eq!(c.code, 1);
        let v: serde_json::Value = serde_json::from_str(&c.stdout).unwrap();
        assert_eq!(v["database"]["changed"][0]["revision"], "r1");
        assert_eq!(v["database"]["pending"], serde_json::json!(["r2"]));
        s.ok(&["accept", "r1"]);
        s.ok(&["check"]);
        s.ok(&["upgrade", "heads"]);
        assert_eq!(s.current(), ["r2"]);
    }
}

/// `common::logged_chain`, each revision taking `sleep_ms` on this engine.
fn write_logged_chain(s: &Scratch, n: usize, sleep_ms: u32) {
    let sleep = if sleep_ms > 0 {
        s.sleep_sql(sleep_ms)
    } else {
        String::new()
    };
    common::logged_chain(&s.project, n, &sleep);
}

#[test]
fn eight_processes_upgrade_heads_at_once() {
    for engine in ENGINES {
        let s = Scratch::new(engine);
        write_logged_chain(&s, 50, 0);
        let children: Vec<_> = (0..8)
            .map(|_| {
                s.project
                    .command(&["upgrade", "heads"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{engine:?}: a process failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert_eq!(s.current(), ["r049"], "{engine:?}");
        assert_eq!(
            s.scalar("SELECT COUNT(*) FROM applied_log"),
            49,
            "{engine:?}"
        );
        assert_eq!(
            s.scalar("SELECT COUNT(DISTINCT rev) FROM applied_log"),
            49,
            "{engine:?}"
        );
        let history = s.scalar("SELECT COUNT(*) FROM braid_version_history WHERE status = 'done'");
        assert_eq!(history, 50, "{engine:?}: each revision recorded once");
    }
}

#[test]
fn a_second_process_waits_for_the_lock_and_says_so() {
    for engine in ENGINES {
        let s = Scratch::new(engine);
        s.write(
            "migrations/1.sql",
            &migration("r1", &[], "", &s.sleep_sql(2500), Some("")),
        );
        let first = s
            .project
            .command(&["upgrade", "heads"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(700));
        let second = s.braid(&["upgrade", "heads"]);
        let first = first.wait_with_output().unwrap();
        assert!(
            first.status.success(),
            "{}",
            String::from_utf8_lossy(&first.stderr)
        );
        assert_eq!(second.code, 0, "{engine:?}: {}", second.stderr);
        assert!(
            second.stderr.contains("waiting for the migration lock"),
            "{engine:?}: {}",
            second.stderr
        );
        assert!(
            second.stderr.contains("nothing to do")
                || second.stderr.contains("revision(s) left to run"),
            "{engine:?}: {}",
            second.stderr
        );
        assert_eq!(s.current(), ["r1"]);
        // With a timeout, a held lock ends the wait with an error.
        s.write(
            "migrations/2.sql",
            &migration("r2", &["r1"], "", &s.sleep_sql(5000), Some("")),
        );
        let holder = s
            .project
            .command(&["upgrade", "heads"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(700));
        let timed = s.braid(&["upgrade", "heads", "--lock-timeout", "1"]);
        holder.wait_with_output().unwrap();
        assert_eq!(timed.code, 1, "{engine:?}: {}", timed.stderr);
        assert!(
            timed.stderr.contains("timed out"),
            "{engine:?}: {}",
            timed.stderr
        );
        // Where the engine can tell, the message names what holds the lock.
        let holder = match engine {
            Engine::Postgres => "held by PostgreSQL backend pid",
            Engine::Mysql => "held by MySQL connection",
            Engine::Sqlite => "SQLite write lock held by another process",
        };
        assert!(
            timed.stderr.contains(holder),
            "{engine:?}: {}",
            timed.stderr
        );
    }
}

#[test]
fn a_killed_upgrade_resumes_with_every_revision_applied_once() {
    for engine in ENGINES {
        for attempt in 0..2u64 {
            let s = Scratch::new(engine);
            write_logged_chain(&s, 60, 15);
            let mut child = s
                .project
                .command(&["upgrade", "heads"])
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            // Somewhere in the middle of the run.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos() as u64
                / 1_000_000
                + attempt * 137;
            std::thread::sleep(Duration::from_millis(250 + nanos % 400));
            child.kill().unwrap();
            child.wait().unwrap();
            assert_ne!(
                s.current(),
                ["r059"],
                "{engine:?}: the kill must land mid-run"
            );
            finish_after_fault(&s);
            assert_eq!(s.current(), ["r059"], "{engine:?}");
            assert_eq!(
                s.scalar("SELECT COUNT(*) FROM applied_log"),
                59,
                "{engine:?}"
            );
            assert_eq!(
                s.scalar("SELECT COUNT(DISTINCT rev) FROM applied_log"),
                59,
                "{engine:?}"
            );
        }
    }
}

#[test]
fn takes_over_an_alembic_version_table() {
    for engine in ENGINES {
        let s = Scratch::new(engine);
        for r in ["r1", "r2", "r3"] {
            let down: Vec<&str> = match r {
                "r1" => vec![],
                "r2" => vec!["r1"],
                _ => vec!["r2"],
            };
            s.write(&format!("migrations/{r}.sql"), &table_rev(r, &down, ""));
        }
        // What Alembic leaves after `alembic upgrade r2`.
        let create = if engine == Engine::Postgres {
            format!(
                "CREATE SCHEMA \"{}\"; SET search_path TO \"{}\"; ",
                s.name, s.name
            )
        } else {
            String::new()
        };
        s.exec(&format!(
            "{create}CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)); \
             INSERT INTO alembic_version (version_num) VALUES ('r2'); CREATE TABLE t_r1 (id integer); CREATE TABLE t_r2 (id integer);"
        ));
        let mut toml = std::fs::read_to_string(s.project.path().join("braid.toml")).unwrap();
        toml.push_str("version_table = \"alembic_version\"\n");
        s.write("braid.toml", &toml);
        assert_eq!(s.current(), ["r2"]);
        let dry = s.ok(&["upgrade", "heads", "--dry-run", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&dry.stdout).unwrap();
        assert_eq!(
            v["steps"],
            serde_json::json!([{"revision": "r3", "direction": "up"}])
        );
        s.ok(&["upgrade", "heads"]);
        assert_eq!(s.current(), ["r3"]);
        assert_eq!(s.scalar("SELECT COUNT(*) FROM alembic_version"), 1);
        s.ok(&["downgrade", "r1"]);
        assert_eq!(s.current(), ["r1"]);
        assert!(!s.has_table("t_r2"));
    }
}

#[test]
fn names_with_quotes_inject_nothing() {
    for engine in ENGINES {
        let schema = unique("bo\"ne'ca");
        let s = Scratch::with_schema(engine, &schema);
        s.write("migrations/1.sql", &table_rev("r1", &[], ""));
        let mut toml = std::fs::read_to_string(s.project.path().join("braid.toml")).unwrap();
        toml.push_str("version_table = \"ver\\\"si`on'; DROP TABLE x; --\"\n");
        s.write("braid.toml", &toml);
        s.ok(&["upgrade", "heads"]);
        assert_eq!(s.current(), ["r1"], "{engine:?}");
        assert!(s.has_table("t_r1"));
        assert!(s.has_table("ver\"si`on'; DROP TABLE x; --"), "{engine:?}");
        s.ok(&["downgrade", "base"]);
        assert!(s.current().is_empty());
    }
}

#[test]
fn non_transactional_revisions_run_outside_a_transaction() {
    // CREATE INDEX CONCURRENTLY cannot run inside a transaction block.
    let s = Scratch::new(Engine::Postgres);
    s.write("migrations/1.sql", &table_rev("r1", &[], ""));
    s.write(
        "migrations/2.sql",
        &migration(
            "r2",
            &["r1"],
            "-- transactional = false",
            "CREATE INDEX CONCURRENTLY ix_r1 ON t_r1 (id);",
            Some("DROP INDEX CONCURRENTLY ix_r1;"),
        ),
    );
    s.ok(&["upgrade", "heads"]);
    assert_eq!(s.current(), ["r2"]);
    s.ok(&["downgrade", "r1"]);
    assert_eq!(s.current(), ["r1"]);
    // The same statement in a transactional revision is refused before
    // anything runs, naming the file and line.
    s.write(
        "migrations/2.sql",
        &migration(
            "r2",
            &["r1"],
            "",
            "SELECT 1;\nCREATE INDEX CONCURRENTLY ix_r1 ON t_r1 (id);",
            Some(""),
        ),
    );
    let r = s.braid(&["upgrade", "heads"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("CREATE INDEX CONCURRENTLY cannot run inside a transaction"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("set `transactional = false`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("2.sql:7"), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was run"), "{}", r.stderr);
    assert_eq!(s.current(), ["r1"]);
    let check = s.braid(&["check"]);
    assert_eq!(check.code, 1);
    assert!(
        check.stderr.contains("CREATE INDEX CONCURRENTLY"),
        "{}",
        check.stderr
    );
}

#[test]
fn database_settings_come_from_the_environment_and_never_show_passwords() {
    let s = Scratch::new(Engine::Postgres);
    s.write("migrations/1.sql", &table_rev("r1", &[], ""));
    // DATABASE_* variables, as the application's own settings use them,
    // read from `.env`, with the URL in braid.toml out of the way.
    s.write(
        "braid.toml",
        "[migrations]\ndirectories = [\"migrations\"]\n",
    );
    let user = pg_server()
        .split("//")
        .nth(1)
        .unwrap()
        .split('@')
        .next()
        .unwrap()
        .to_owned();
    s.write(
        ".env",
        &format!(
            "DATABASE_HOST=127.0.0.1\nDATABASE_PORT=5432\nDATABASE_NAME=test\nDATABASE_USER={user}\nDATABASE_PASSWORD=s3cret-pw\nDATABASE_SCHEMA={}\n",
            s.name
        ),
    );
    s.ok(&["upgrade", "heads"]);
    assert!(
        s.has_table("t_r1"),
        "migrations ran in the DATABASE_SCHEMA schema"
    );
    let check = s.ok(&["check"]);
    assert!(
        !check.stdout.contains("s3cret") && !check.stderr.contains("s3cret"),
        "{}",
        check.stdout
    );
    assert!(check.stdout.contains("***"), "{}", check.stdout);
    // A wrong port: a clear error, no password.
    let mut bad = Command::new(env!("CARGO_BIN_EXE_braid"));
    bad.args([
        "current",
        "--url",
        "postgres://u:s3cret-pw@127.0.0.1:1/test",
    ])
    .current_dir(s.project.path());
    let out = bad.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("cannot connect to postgres://u:***@127.0.0.1:1/test"),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");
}

#[test]
fn signals_stop_cleanly_and_the_next_run_completes() {
    for engine in ENGINES {
        for (signal, code) in [("-TERM", 143), ("-INT", 130)] {
            let s = Scratch::new(engine);
            write_logged_chain(&s, 40, 60);
            let child = s
                .project
                .command(&["upgrade", "heads"])
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            common::wait_until_under_way(&s.project);
            let killed = Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .unwrap();
            assert!(killed.success());
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(code),
                "{engine:?} {signal}: {stderr}"
            );
            assert!(stderr.contains("interrupted by"), "{engine:?}: {stderr}");
            // braid exits only once the server is done: what it reads now
            // stays true (a step left running on the server would commit
            // after the exit and move the version table).
            let current = s.current();
            std::thread::sleep(std::time::Duration::from_millis(300));
            assert_eq!(s.current(), current, "{engine:?}: {stderr}");
            // The report names what happened to the step that was running.
            assert!(
                [
                    "was cancelled and rolled back",
                    "stopped between revisions",
                    "finished and was recorded"
                ]
                .iter()
                .any(|w| stderr.contains(w)),
                "{engine:?}: {stderr}"
            );
            if let Some(at) = stderr.find(" was cancelled and rolled back") {
                // The cancelled revision is the one after the last recorded.
                let rev = &stderr[at - 4..at];
                let k: i64 = current[0][1..].parse().unwrap();
                assert_eq!(rev, format!("r{:03}", k + 1), "{engine:?}: {stderr}");
            }
            // The version table is true: exactly the revisions it records ran.
            assert_eq!(current.len(), 1, "{engine:?}: {current:?}");
            let k: i64 = current[0][1..].parse().unwrap();
            assert!(k < 39, "{engine:?}: the signal must land mid-run");
            if k > 0 {
                assert_eq!(
                    s.scalar("SELECT COUNT(*) FROM applied_log"),
                    k,
                    "{engine:?}"
                );
            }
            s.ok(&["upgrade", "heads"]);
            assert_eq!(s.current(), ["r039"]);
            assert_eq!(
                s.scalar("SELECT COUNT(*) FROM applied_log"),
                39,
                "{engine:?}"
            );
            assert_eq!(
                s.scalar("SELECT COUNT(DISTINCT rev) FROM applied_log"),
                39,
                "{engine:?}"
            );
        }
    }
}

#[test]
fn a_missing_schema_without_rights_to_create_it_is_named() {
    let s = Scratch::new(Engine::Postgres);
    s.write("migrations/1.sql", &table_rev("r1", &[], ""));
    rt().block_on(async {
        let mut c = sqlx::PgConnection::connect(&pg_server()).await.unwrap();
        let _ = sqlx::raw_sql("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'braid_limited') THEN CREATE ROLE braid_limited LOGIN; END IF; END $$")
            .execute(&mut c)
            .await;
    });
    let url = pg_server()
        .replacen("//postgres@", "//braid_limited@", 1)
        .replacen("//root@", "//braid_limited@", 1);
    let r = s.braid(&["--url", &url, "upgrade", "heads"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("schema `{}`", s.name)),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("cannot be created"), "{}", r.stderr);
    assert!(r.stderr.contains("permission denied"), "{}", r.stderr);
    assert!(!s.has_table("t_r1"));
}

/// Kills braid's own database session from the outside, mid-run.
fn cut_connection(s: &Scratch) {
    rt().block_on(async {
        match s.engine {
            Engine::Postgres => {
                let mut c = sqlx::PgConnection::connect(&pg_server()).await.unwrap();
                sqlx::raw_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE pid <> pg_backend_pid() AND query LIKE '%applied_log%' AND datname = current_database()",
                )
                .execute(&mut c)
                .await
                .unwrap();
            }
            Engine::Mysql => {
                let mut c = sqlx::MySqlConnection::connect(&mysql_server()).await.unwrap();
                let ids: Vec<i64> = sqlx::query_scalar(
                    "SELECT CAST(id AS SIGNED) FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()",
                )
                .bind(&s.name)
                .fetch_all(&mut c)
                .await
                .unwrap();
                for id in ids {
                    let _ = sqlx::raw_sql(&format!("KILL {id}")).execute(&mut c).await;
                }
            }
            Engine::Sqlite => unreachable!("SQLite has no connection to cut"),
        }
    });
}

#[test]
fn a_cut_connection_ends_with_a_clear_message_and_the_next_run_completes() {
    for engine in [Engine::Postgres, Engine::Mysql] {
        let s = Scratch::new(engine);
        write_logged_chain(&s, 30, 80);
        let child = s
            .project
            .command(&["upgrade", "heads"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        common::wait_until_under_way(&s.project);
        cut_connection(&s);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{engine:?}: {stderr}");
        assert!(stderr.contains("error:"), "{engine:?}: {stderr}");
        finish_after_fault(&s);
        assert_eq!(s.current(), ["r029"], "{engine:?}");
        assert_eq!(
            s.scalar("SELECT COUNT(*) FROM applied_log"),
            29,
            "{engine:?}"
        );
        assert_eq!(
            s.scalar("SELECT COUNT(DISTINCT rev) FROM applied_log"),
            29,
            "{engine:?}"
        );
    }
}

#[test]
fn postgres_tls_parameters_in_the_url_work() {
    // The machine's PostgreSQL serves TLS with Debian's self-signed
    // "snakeoil" certificate.
    let s = Scratch::new(Engine::Postgres);
    s.write(
        "migrations/1.sql",
        &migration(
            "r1",
            &[],
            "",
            "CREATE TABLE tls_seen AS SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid();",
            Some("DROP TABLE tls_seen;"),
        ),
    );
    let base = pg_server();
    let sep = if base.contains('?') { '&' } else { '?' };
    let require = format!("{base}{sep}sslmode=require");
    s.ok(&["--url", &require, "upgrade", "heads"]);
    assert_eq!(
        s.scalar("SELECT COUNT(*) FROM tls_seen WHERE ssl"),
        1,
        "the migration ran over TLS"
    );
    s.ok(&["--url", &require, "downgrade", "base"]);
    // Verifying the server against the certificate that signed it works…
    // (The certificate names `localhost`.)
    let verify = format!(
        "{}{sep}sslmode=verify-full&sslrootcert=/etc/ssl/certs/ssl-cert-snakeoil.pem",
        base.replace("127.0.0.1", "localhost")
    );
    s.ok(&["--url", &verify, "upgrade", "heads"]);
    assert_eq!(s.scalar("SELECT COUNT(*) FROM tls_seen WHERE ssl"), 1);
    // …and against another authority fails clearly, changing nothing.
    let other = other_authority(&s);
    let wrong = format!(
        "{}{sep}sslmode=verify-full&sslrootcert={}",
        base.replace("127.0.0.1", "localhost"),
        other.display()
    );
    let r = s.braid(&["--url", &wrong, "current"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("cannot connect to"), "{}", r.stderr);
    // Refused for who signed the server's certificate, not for a file
    // that does not read.
    assert!(
        r.stderr.contains("invalid peer certificate: UnknownIssuer"),
        "{}",
        r.stderr
    );
}

/// A real certificate authority that did not sign the servers'
/// certificates (made with openssl, as scripts/services.sh makes theirs).
fn other_authority(s: &Scratch) -> std::path::PathBuf {
    let dir = s.project.path();
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=braid tests: another authority"])
        .arg("-keyout")
        .arg(dir.join("other-ca.key"))
        .arg("-out")
        .arg(dir.join("other-ca.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "openssl could not make a certificate");
    dir.join("other-ca.pem")
}

#[test]
fn mysql_tls_parameters_in_the_url_work() {
    // `make test` (scripts/services.sh) gives MariaDB a self-signed
    // certificate for `localhost`.
    let s = Scratch::new(Engine::Mysql);
    s.write(
        "migrations/1.sql",
        &migration(
            "r1",
            &[],
            "",
            "CREATE TABLE tls_seen AS SELECT VARIABLE_VALUE AS cipher FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'SSL_CIPHER';",
            Some("DROP TABLE tls_seen;"),
        ),
    );
    let require = format!("{}?ssl-mode=required", s.url);
    s.ok(&["--url", &require, "upgrade", "heads"]);
    assert_eq!(
        s.scalar("SELECT COUNT(*) FROM tls_seen WHERE cipher <> ''"),
        1,
        "the migration ran over TLS"
    );
    s.ok(&["--url", &require, "downgrade", "base"]);
    let verify = format!(
        "{}?ssl-mode=verify_identity&ssl-ca=/etc/mysql/braid-tls-v2/ca.pem",
        s.url.replace("127.0.0.1", "localhost")
    );
    s.ok(&["--url", &verify, "upgrade", "heads"]);
    assert_eq!(
        s.scalar("SELECT COUNT(*) FROM tls_seen WHERE cipher <> ''"),
        1
    );
    // Another authority: a clear failure, nothing changed.
    let other = other_authority(&s);
    let wrong = format!(
        "{}?ssl-mode=verify_identity&ssl-ca={}",
        s.url.replace("127.0.0.1", "localhost"),
        other.display()
    );
    let r = s.braid(&["--url", &wrong, "downgrade", "base"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("cannot connect to"), "{}", r.stderr);
    assert!(
        r.stderr.contains("invalid peer certificate: UnknownIssuer"),
        "{}",
        r.stderr
    );
    assert_eq!(s.current(), ["r1"]);
}

/// The lint's findings on one file as JSON (SPEC §12).
fn lint_json(s: &Scratch) -> Vec<serde_json::Value> {
    let r = s.braid(&["lint", "--format", "json"]);
    let v: serde_json::Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", r.stdout, r.stderr));
    v["findings"].as_array().unwrap().clone()
}

#[test]
fn lint_names_table_sizes_and_lowers_small_tables_to_warnings() {
    for engine in [Engine::Postgres, Engine::Mysql] {
        let s = Scratch::new(engine);
        let fill = match engine {
            Engine::Postgres => {
                "INSERT INTO big SELECT g, g % 7 FROM generate_series(1, 150000) g;\nINSERT INTO small VALUES (1, 1), (2, 2);"
            }
            // MariaDB's sequence engine gives the rows.
            _ => {
                "INSERT INTO big SELECT seq, seq % 7 FROM seq_1_to_150000;\nINSERT INTO small VALUES (1, 1), (2, 2);"
            }
        };
        s.write(
            "migrations/1.sql",
            &migration(
                "r1",
                &[],
                "",
                &format!("CREATE TABLE big (id bigint PRIMARY KEY, n int);\nCREATE TABLE small (id bigint PRIMARY KEY, n int);\n{fill}"),
                None,
            ),
        );
        // The same statements on a large and a small table.
        let (big, small) = match engine {
            Engine::Postgres => (
                "ALTER TABLE big ALTER COLUMN n TYPE bigint;",
                "ALTER TABLE small ALTER COLUMN n TYPE bigint;",
            ),
            _ => (
                "ALTER TABLE big MODIFY n bigint;",
                "ALTER TABLE small MODIFY n bigint;",
            ),
        };
        s.write(
            "migrations/2.sql",
            &migration("r2", &["r1"], "", &format!("{big}\n{small}"), None),
        );
        s.ok(&["upgrade", "r1"]);
        // Planner statistics, as autovacuum or a DBA's ANALYZE leaves them.
        s.exec(match engine {
            Engine::Postgres => "ANALYZE big; ANALYZE small;",
            _ => "ANALYZE TABLE big, small;",
        });
        let findings = lint_json(&s);
        assert_eq!(findings.len(), 2, "{engine:?}: {findings:#?}");
        let by_table = |t: &str| {
            findings
                .iter()
                .find(|f| f["table"] == t)
                .unwrap_or_else(|| panic!("{engine:?}: no finding on {t}: {findings:#?}"))
        };
        let (b, sm) = (by_table("big"), by_table("small"));
        assert_eq!(b["rule"], "column-type-change", "{engine:?}");
        assert_eq!(b["severity"], "error", "{engine:?}: {b}");
        assert_eq!(sm["severity"], "warning", "{engine:?}: {sm}");
        // Estimates, not counts: within a few percent of the real number.
        let rows = b["rows"]
            .as_u64()
            .unwrap_or_else(|| panic!("{engine:?}: {b}"));
        assert!(
            (100_000..=200_000).contains(&rows),
            "{engine:?}: about 150,000 rows estimated, got {rows}"
        );
        assert!(b["bytes"].as_u64().unwrap() > 1_000_000, "{engine:?}: {b}");
        assert!(sm["rows"].as_u64().unwrap() < 100, "{engine:?}: {sm}");
        // The type on the database is known: the message names it.
        assert!(
            b["message"].as_str().unwrap().contains("from int"),
            "{engine:?}: {b}"
        );
        // `check` fails on the error; the text names the size.
        let c = s.braid(&["check"]);
        assert_eq!(c.code, 1, "{engine:?}: {}", c.stderr);
        assert!(
            c.stderr.contains("error[column-type-change]"),
            "{}",
            c.stderr
        );
        assert!(c.stderr.contains("rows"), "{}", c.stderr);
        // upgrade prints the findings and runs (upgrade = "warn")…
        let toml = std::fs::read_to_string(s.project.path().join("braid.toml")).unwrap();
        s.write(
            "braid.toml",
            &format!("{toml}\n[lint]\nupgrade = \"deny\"\n"),
        );
        // …and with upgrade = "deny" refuses before anything runs.
        let r = s.braid(&["upgrade", "heads"]);
        assert_eq!(r.code, 1, "{engine:?}: {}", r.stderr);
        assert!(r.stderr.contains("nothing was run"), "{}", r.stderr);
        assert_eq!(s.current(), ["r1"]);
        s.write("braid.toml", &toml);
        let r = s.ok(&["upgrade", "heads"]);
        assert!(
            r.stderr.contains("error[column-type-change]"),
            "{}",
            r.stderr
        );
        assert_eq!(s.current(), ["r2"]);
    }
}

/// Each MariaDB verdict of the lint, tried on the server: what braid
/// flags as copying or blocking writes is refused with
/// `ALGORITHM=INPLACE, LOCK=NONE`, and what it lets pass runs online.
#[test]
fn lint_verdicts_on_mariadb_match_the_server() {
    let s = Scratch::new(Engine::Mysql);
    let base = "CREATE TABLE t (id bigint NOT NULL, n int, s varchar(50), doc text, p int, KEY (p));\nINSERT INTO t SELECT seq, seq, 'x', 'y', seq FROM seq_1_to_1000;\nCREATE TABLE parent (id int PRIMARY KEY);";
    let cases: &[(&str, bool)] = &[
        // (ALTER TABLE t …, flagged)
        ("MODIFY n bigint", true),
        ("ADD FULLTEXT INDEX ft (doc)", true),
        ("ADD COLUMN total bigint AS (n * 2) STORED", true),
        (
            "ADD COLUMN seqno bigint NOT NULL AUTO_INCREMENT, ADD UNIQUE KEY (seqno)",
            true,
        ),
        (
            "ADD CONSTRAINT fk FOREIGN KEY (p) REFERENCES parent (id)",
            true,
        ),
        ("CONVERT TO CHARACTER SET latin1", true),
        ("ENGINE=InnoDB", false),
        ("ADD COLUMN extra int", false),
        ("ADD COLUMN v bigint AS (n * 2) VIRTUAL", false),
        ("ADD INDEX ix_n (n)", false),
        ("ADD PRIMARY KEY (id)", false),
        ("DROP COLUMN s", false),
        ("MODIFY n int NOT NULL DEFAULT 0", false),
    ];
    s.write("migrations/0.sql", &migration("r0", &[], "", base, None));
    s.ok(&["upgrade", "heads"]);
    for (i, (action, flagged)) in cases.iter().enumerate() {
        let rev = format!("c{i}");
        let path = format!("migrations/c{i}.sql");
        s.write(
            &path,
            &migration(&rev, &["r0"], "", &format!("ALTER TABLE t {action};"), None),
        );
        let copy = lint_json(&s).iter().any(|f| {
            f["revision"] == rev.as_str()
                && (f["rule"] == "mysql-copy-algorithm" || f["rule"] == "column-type-change")
        });
        std::fs::remove_file(s.project.path().join(&path)).unwrap();
        assert_eq!(copy, *flagged, "lint on `{action}`");
        // The server's own verdict, on a copy of the table.
        s.exec("DROP TABLE IF EXISTS t2; CREATE TABLE t2 LIKE t; INSERT INTO t2 SELECT * FROM t;");
        let online = rt().block_on(async {
            let mut c = sqlx::MySqlConnection::connect(&s.url).await.unwrap();
            sqlx::raw_sql(&format!(
                "ALTER TABLE t2 {}, ALGORITHM=INPLACE, LOCK=NONE",
                action.replace(" fk ", " fk2 ")
            ))
            .execute(&mut c)
            .await
        });
        assert_eq!(
            online.is_err(),
            *flagged,
            "the server on `{action}`: {online:?}"
        );
    }
}
