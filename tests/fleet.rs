//! `braid fleet` on the machine's real servers: 200 tenant schemas on
//! PostgreSQL and a handful of MariaDB databases, one branching history.

mod common;

use std::process::Stdio;

use common::{Project, migration};
use sqlx::Connection;

const PG: &str = "postgres://postgres@127.0.0.1:5432/test";
const MY: &str = "mysql://root@127.0.0.1:3306";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn pg(sql: &str) {
    rt().block_on(async {
        let mut c = sqlx::PgConnection::connect(PG).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
    })
}

fn pg_count(sql: &str) -> i64 {
    rt().block_on(async {
        let mut c = sqlx::PgConnection::connect(PG).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
    })
}

/// A branching history: r0, two branches (a1-a2, b1) and a merge.
fn history(p: &Project) {
    for (rev, parents, table) in [
        ("r0", vec![], "accounts"),
        ("a1", vec!["r0"], "sessions"),
        ("a2", vec!["a1"], "tokens"),
        ("b1", vec!["r0"], "invoices"),
        ("m1", vec!["a2", "b1"], "audit"),
    ] {
        p.write(
            &format!("migrations/{rev}.sql"),
            &migration(
                rev,
                &parents,
                "",
                &format!("CREATE TABLE {table} (id integer PRIMARY KEY);"),
                Some(&format!("DROP TABLE {table};")),
            ),
        );
    }
}

#[test]
fn two_hundred_tenant_schemas_reach_heads_each_revision_once() {
    let prefix = format!("fleet{}_", std::process::id());
    let n = 200;
    let mut create = String::new();
    for i in 0..n {
        create.push_str(&format!("CREATE SCHEMA {prefix}{i:03};"));
    }
    pg(&create);
    let p = Project::new();
    history(&p);
    p.write(
        "braid.toml",
        &format!(
            "[database]\nurl = \"{PG}\"\n[fleet]\nschemas_like = \"{}%\"\n",
            prefix.replace('_', "\\\\_")
        ),
    );
    // One tenant already at head before the fleet runs; one broken: a
    // table in its way.
    let first = format!("{prefix}000");
    let broken = format!("{prefix}100");
    pg(&format!("CREATE TABLE {broken}.tokens (x int)"));
    let mut single = p.command(&["upgrade", "heads"]);
    single.env("DATABASE_SCHEMA", &first);
    assert!(single.output().unwrap().status.success());
    // That tenant, and nothing outside the fleet's schemas.
    assert_eq!(
        pg_count(&format!("SELECT COUNT(*) FROM \"{first}\".braid_version")),
        1
    );
    assert_eq!(
        pg_count(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'braid_version'"
        ),
        0
    );

    // Without --continue-on-error and one at a time: nothing starts after
    // the broken member.
    let r = p.run(&["fleet", "upgrade", "heads", "--jobs", "1"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout
            .contains(&format!("{broken}: FAILED: revision a2 failed at")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("migrations/a2.sql:6"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains(&format!("skipped at base: {} member(s)", n - 101)),
        "{}",
        r.stdout
    );

    // Two fleet runs at once and a single upgrade on one member, going on
    // past the broken member.
    let run = || {
        p.command(&[
            "fleet",
            "upgrade",
            "heads",
            "--jobs",
            "8",
            "--continue-on-error",
            "--format",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
    };
    let (one, two) = (run(), run());
    let mut single = p.command(&["upgrade", "heads"]);
    single.env("DATABASE_SCHEMA", format!("{prefix}150"));
    let single = single.output().unwrap();
    assert!(
        single.status.success(),
        "{}",
        String::from_utf8_lossy(&single.stderr)
    );
    for child in [one, two] {
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let members = v["members"].as_array().unwrap();
        assert_eq!(members.len(), n);
        for m in members {
            let name = m["member"].as_str().unwrap();
            if name == broken {
                assert_eq!(m["status"], "failed");
                assert!(m["error"].as_str().unwrap().contains("tokens"), "{m}");
            } else {
                assert_eq!(m["status"], "ok", "{m}");
                assert_eq!(m["heads_after"], serde_json::json!(["m1"]), "{m}");
            }
        }
    }
    // Each revision exactly once per member.
    let ups = pg_count(&format!(
        "SELECT count(*) FROM (SELECT nspname FROM pg_namespace WHERE nspname LIKE '{}%') s",
        prefix.replace('_', "\\_")
    ));
    assert_eq!(ups, n as i64);
    for i in [0usize, 1, 99, 150, 199] {
        let done = pg_count(&format!(
            "SELECT count(*) FROM {prefix}{i:03}.braid_version_history WHERE direction = 'up' AND status = 'done'"
        ));
        assert_eq!(done, 5, "member {i}");
    }
    // A member already at head is untouched; status reads without a lock.
    let r = p.run(&[
        "fleet",
        "upgrade",
        "heads",
        "--jobs",
        "8",
        "--continue-on-error",
    ]);
    assert!(
        r.stdout.contains(&format!("ok at m1: {} member(s)", n - 1)),
        "{}",
        r.stdout
    );
    let r = p.run(&["fleet", "status", "--format", "json"]);
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let pending: Vec<&str> = v["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["status"] == "pending")
        .map(|m| m["member"].as_str().unwrap())
        .collect();
    assert_eq!(pending, [broken.as_str()]);
    // Fixed by hand, the fleet completes and status says so.
    pg(&format!("DROP TABLE {broken}.tokens"));
    assert_eq!(p.run(&["fleet", "upgrade", "heads"]).code, 0);
    let r = p.run(&["fleet", "status"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(&format!("ok at m1: {n} member(s)")),
        "{}",
        r.stdout
    );
    // --part splits the fleet; --members-from replaces it.
    let r = p.run(&["fleet", "status", "--part", "2/4", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["members"].as_array().unwrap().len(), n / 4);
    p.write(
        "members.txt",
        &format!("{prefix}003\n\n# a comment\n{prefix}004\n"),
    );
    let r = p.run(&["fleet", "downgrade", "a2", "--members-from", "members.txt"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("ok at a2, b1: 2 member(s)"),
        "{}",
        r.stdout
    );

    let mut drop = String::new();
    for i in 0..n {
        drop.push_str(&format!("DROP SCHEMA {prefix}{i:03} CASCADE;"));
    }
    pg(&drop);
}

#[test]
fn mariadb_databases_and_bad_fleets() {
    let prefix = format!("fleet{}_", std::process::id());
    let admin = format!("{MY}/test");
    rt().block_on(async {
        let mut c = sqlx::MySqlConnection::connect(&admin).await.unwrap();
        for i in 0..5 {
            sqlx::raw_sql(&format!("CREATE DATABASE {prefix}{i}"))
                .execute(&mut c)
                .await
                .unwrap();
        }
    });
    let p = Project::new();
    history(&p);
    p.write(
        "braid.toml",
        &format!(
            "[database]\nurl = \"{admin}\"\n[fleet]\nschemas_like = \"{}%\"\n",
            prefix.replace('_', "\\\\_")
        ),
    );
    let r = p.run(&["fleet", "upgrade", "heads", "--jobs", "3"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("ok at m1: 5 member(s)"), "{}", r.stdout);
    let r = p.run(&["fleet", "status"]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // A query naming the members; one that fails; a pattern matching
    // nothing; a member that cannot be reached.
    p.write(
        "braid.toml",
        &format!("[database]\nurl = \"{admin}\"\n[fleet]\nquery = \"SELECT '{prefix}1' UNION SELECT '{prefix}2'\"\n"),
    );
    let r = p.run(&["fleet", "status", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["members"].as_array().unwrap().len(), 2, "{}", r.stdout);
    p.write(
        "braid.toml",
        &format!("[database]\nurl = \"{admin}\"\n[fleet]\nquery = \"SELECT nope FROM nowhere\"\n"),
    );
    let r = p.run(&["fleet", "upgrade", "heads"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("the `[fleet] query` failed"),
        "{}",
        r.stderr
    );
    p.write(
        "braid.toml",
        &format!("[database]\nurl = \"{admin}\"\n[fleet]\nschemas_like = \"no\\\\_such\\\\_%\"\n"),
    );
    let r = p.run(&["fleet", "upgrade", "heads"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("the fleet has no members (nothing matches"),
        "{}",
        r.stderr
    );
    p.write(
        "braid.toml",
        &format!("[database]\nurl = \"{admin}\"\n[fleet]\nurls = [\"mysql://root@127.0.0.1:1/x\", \"{MY}/{prefix}0\"]\n"),
    );
    let r = p.run(&[
        "fleet",
        "upgrade",
        "heads",
        "--continue-on-error",
        "--retries",
        "1",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("mysql://root@127.0.0.1:1/x: FAILED: cannot connect"),
        "{}",
        r.stdout
    );
    // Unreachable is worth another try (and only one was allowed).
    assert!(
        r.stderr.contains("mysql://root@127.0.0.1:1/x: attempt 2")
            && !r.stderr.contains("attempt 3"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("ok at m1: 1 member(s)"), "{}", r.stdout);
    let empty = Project::new();
    history(&empty);
    let r = empty.run(&["fleet", "status"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no fleet is configured"), "{}", r.stderr);

    rt().block_on(async {
        let mut c = sqlx::MySqlConnection::connect(&admin).await.unwrap();
        for i in 0..5 {
            sqlx::raw_sql(&format!("DROP DATABASE {prefix}{i}"))
                .execute(&mut c)
                .await
                .unwrap();
        }
    });
}

#[test]
fn an_interrupted_fleet_starts_no_new_member_and_a_rerun_completes() {
    let prefix = format!("fleetsig{}_", std::process::id());
    let n = 12;
    let p = slow_fleet(&prefix, n, 0.2);
    let child = p
        .command(&[
            "fleet", "upgrade", "heads", "--jobs", "2", "--format", "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Under way: the first revisions recorded somewhere.
    std::thread::sleep(std::time::Duration::from_millis(700));
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted by Ctrl-C"));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let skipped = v["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["status"] == "skipped")
        .count();
    assert!(skipped > 0, "{v}");
    // No lock held, nothing half done: the rerun completes every member.
    let r = p.run(&["fleet", "upgrade", "heads", "--jobs", "4"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(&format!("ok at s2: {n} member(s)")),
        "{}",
        r.stdout
    );
    assert_eq!(applied(&prefix, n), vec![3; n], "each revision once");
    drop_fleet(&prefix, n);
}

/// A fleet of `n` PostgreSQL schemas named `prefix00…` on a three-revision
/// line whose revisions each sleep `sleep` seconds.
fn slow_fleet(prefix: &str, n: usize, sleep: f64) -> Project {
    let mut create = String::new();
    for i in 0..n {
        create.push_str(&format!("CREATE SCHEMA {prefix}{i:02};"));
    }
    pg(&create);
    let p = Project::new();
    for (i, rev) in ["s0", "s1", "s2"].iter().enumerate() {
        let parents: Vec<&str> = if i == 0 {
            vec![]
        } else {
            vec![["s0", "s1"][i - 1]]
        };
        p.write(
            &format!("migrations/{rev}.sql"),
            &migration(
                rev,
                &parents,
                "",
                &format!("CREATE TABLE t_{rev} (id integer);\nSELECT pg_sleep({sleep});"),
                Some(&format!("DROP TABLE t_{rev};")),
            ),
        );
    }
    p.write(
        "braid.toml",
        &format!(
            "[database]\nurl = \"{PG}\"\n[fleet]\nschemas_like = \"{}%\"\n",
            prefix.replace('_', "\\\\_")
        ),
    );
    p
}

fn drop_fleet(prefix: &str, n: usize) {
    let mut drop = String::new();
    for i in 0..n {
        drop.push_str(&format!("DROP SCHEMA {prefix}{i:02} CASCADE;"));
    }
    pg(&drop);
}

/// Each member's applied revisions, from its history table.
fn applied(prefix: &str, n: usize) -> Vec<i64> {
    (0..n)
        .map(|i| {
            let exists = pg_count(&format!(
                "SELECT count(*) FROM pg_tables WHERE schemaname = '{prefix}{i:02}' AND tablename = 'braid_version_history'"
            ));
            if exists == 0 {
                return 0;
            }
            pg_count(&format!(
                "SELECT count(*) FROM {prefix}{i:02}.braid_version_history WHERE direction = 'up' AND status = 'done'"
            ))
        })
        .collect()
}

fn statuses(stdout: &str) -> Vec<(String, String, u64)> {
    let v: serde_json::Value = serde_json::from_str(stdout).unwrap();
    v["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["member"].as_str().unwrap().to_owned(),
                m["status"].as_str().unwrap().to_owned(),
                m["attempts"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn canaries_run_first_and_a_failed_canary_starts_nothing_more() {
    let prefix = format!("fleetcan{}_", std::process::id());
    let n = 6;
    let p = slow_fleet(&prefix, n, 0.0);
    // The second member (a canary) is broken beforehand.
    pg(&format!("CREATE TABLE {prefix}01.t_s1 (x text)"));
    let r = p.run(&[
        "fleet",
        "upgrade",
        "heads",
        "--canary",
        "2",
        "--continue-on-error",
        "--jobs",
        "4",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let got = statuses(&r.stdout);
    assert_eq!(got[0].1, "ok", "{got:?}");
    assert_eq!(got[1].1, "failed", "{got:?}");
    assert_eq!(got[1].2, 1, "a failed statement is not tried again");
    assert!(got[2..].iter().all(|m| m.1 == "skipped"), "{got:?}");
    assert_eq!(applied(&prefix, n), [3, 1, 0, 0, 0, 0]);
    // Repaired: the canaries pass and the rest follow in parallel.
    pg(&format!("DROP TABLE {prefix}01.t_s1"));
    let r = p.run(&["fleet", "upgrade", "heads", "--canary", "2", "--jobs", "4"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(&format!("ok at s2: {n} member(s)")),
        "{}",
        r.stdout
    );
    assert_eq!(applied(&prefix, n), [3; 6]);
    drop_fleet(&prefix, n);
}

#[test]
fn a_member_whose_lock_is_held_is_tried_again_after_a_pause() {
    let prefix = format!("fleetlock{}_", std::process::id());
    let n = 2;
    let p = slow_fleet(&prefix, n, 0.8);
    // A single `braid upgrade` holds the first member's lock for ~2.4 s.
    let mut single = p.command(&["upgrade", "heads"]);
    single.env("DATABASE_SCHEMA", format!("{prefix}00"));
    let mut single = single.stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let r = p.run(&[
        "fleet",
        "upgrade",
        "heads",
        "--lock-timeout",
        "1",
        "--jobs",
        "1",
        "--format",
        "json",
    ]);
    assert!(single.wait().unwrap().success());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got = statuses(&r.stdout);
    assert_eq!(got[0].1, "ok", "{got:?}");
    assert!(got[0].2 >= 2, "the lock timeout was tried again: {got:?}");
    assert_eq!(got[1].2, 1, "{got:?}");
    // Each revision once per member: the single run applied the first
    // member's, the fleet found nothing left there.
    assert_eq!(applied(&prefix, n), [3, 3]);
    drop_fleet(&prefix, n);
}

#[test]
fn a_fleet_killed_mid_run_leaves_no_lock_and_a_rerun_completes() {
    let prefix = format!("fleetkill{}_", std::process::id());
    let n = 10;
    let p = slow_fleet(&prefix, n, 0.2);
    let mut child = p
        .command(&["fleet", "upgrade", "heads", "--jobs", "3", "--quiet"])
        .spawn()
        .unwrap();
    // Under way: some member part of the way through.
    let started = std::time::Instant::now();
    while applied(&prefix, n).iter().sum::<i64>() < 4 {
        assert!(started.elapsed().as_secs() < 30, "the fleet never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL: no handler runs.
    child.wait().unwrap();
    let before = applied(&prefix, n);
    assert!(
        before.iter().sum::<i64>() < 3 * n as i64,
        "killed too late: {before:?}"
    );
    // The server releases a dead session's locks: the rerun does not wait
    // (a held lock would fail it after 5 s) and completes every member,
    // each revision exactly once.
    let r = p.run(&[
        "fleet",
        "upgrade",
        "heads",
        "--lock-timeout",
        "5",
        "--jobs",
        "4",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(&format!("ok at s2: {n} member(s)")),
        "{}",
        r.stdout
    );
    assert_eq!(applied(&prefix, n), vec![3; n]);
    // Nothing half done: every history row of every member is complete.
    for i in 0..n {
        let open = pg_count(&format!(
            "SELECT count(*) FROM {prefix}{i:02}.braid_version_history WHERE status <> 'done'"
        ));
        assert_eq!(open, 0, "member {i}");
    }
    drop_fleet(&prefix, n);
}
