//! Running on live databases (SPEC §13), against the machine's real
//! servers with real concurrent sessions: a second connection holds a
//! lock, a third times its reads or writes while braid runs.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::migration;
use common::scratch::{ENGINES, Engine, Scratch, Session, rt};

fn spawn(s: &Scratch, args: &[&str]) -> Child {
    let mut c: Command = s.project.command(args);
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    c.spawn().unwrap()
}

/// A finished child, to read its output.
fn child_output(child: &mut Child) -> Child {
    std::mem::replace(child, Command::new("true").spawn().unwrap())
}

fn finish(child: Child) -> common::Run {
    let out = child.wait_with_output().unwrap();
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Polls `cond` every 50 ms for up to 60 s.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The table every scenario starts from, applied as revision `base`.
fn with_table(s: &Scratch, rows: u32) {
    let fill = match s.engine {
        Engine::Postgres => {
            format!("INSERT INTO t (id, v) SELECT g, g FROM generate_series(1, {rows}) g;")
        }
        Engine::Mysql => format!("INSERT INTO t (id, v) SELECT seq, seq FROM seq_1_to_{rows};"),
        Engine::Sqlite => format!(
            "INSERT INTO t (id, v) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows}) SELECT x, x FROM c;"
        ),
    };
    s.write(
        "migrations/start.sql",
        &migration(
            "start",
            &[],
            "",
            &format!(
                "CREATE TABLE t (id integer PRIMARY KEY, v integer, x integer DEFAULT 0, w integer, touched integer NOT NULL DEFAULT 0);\n{fill}"
            ),
            None,
        ),
    );
    s.ok(&["upgrade", "start"]);
}

/// What the lock queue does to a reader of `t` while braid's ALTER waits
/// behind a transaction that read `t` and stays open for `hold`: braid's
/// run, and the longest the reader waited for one SELECT.
fn alter_behind_a_holder(
    s: &Scratch,
    rev: &str,
    header: &str,
    hold: Duration,
) -> (common::Run, Duration, i64) {
    s.write(
        &format!("migrations/{rev}.sql"),
        &migration(
            rev,
            &["start"],
            header,
            &format!("ALTER TABLE t ADD COLUMN {rev} integer;"),
            Some(&format!("ALTER TABLE t DROP COLUMN {rev};")),
        ),
    );
    // A previous scenario's revision is not this one's parent.
    for other in ["queued", "bounded"] {
        if other != rev {
            let _ = std::fs::remove_file(s.project.path().join(format!("migrations/{other}.sql")));
        }
    }
    rt().block_on(async {
        let mut holder = Session::open(s).await;
        let holder_id = holder.id().await;
        let mut reader = Session::open(s).await;
        holder
            .exec(if s.engine == Engine::Mysql {
                "START TRANSACTION"
            } else {
                "BEGIN"
            })
            .await;
        holder.exec("SELECT COUNT(*) FROM t").await;
        let child = spawn(s, &["upgrade", rev]);
        let started = Instant::now();
        // Give braid time to connect and queue its ALTER behind the holder.
        tokio::time::sleep(Duration::from_millis(700)).await;
        let mut longest = Duration::ZERO;
        while started.elapsed() < hold {
            let left = hold - started.elapsed();
            // A read that would outlast the holder ends when it commits.
            let read = reader.timed("SELECT COUNT(*) FROM t");
            tokio::select! {
                waited = read => longest = longest.max(waited),
                () = tokio::time::sleep(left) => {
                    holder.exec("COMMIT").await;
                    // The read in flight is dropped; it was waiting at least `left`.
                    longest = longest.max(left);
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        holder.exec("COMMIT").await;
        let run = tokio::task::spawn_blocking(move || finish(child))
            .await
            .unwrap();
        (run, longest, holder_id)
    })
}

/// How braid names the session `holder` that holds a lock on `t`.
fn holder_named(engine: Engine, holder: i64) -> String {
    match engine {
        Engine::Postgres => format!("PostgreSQL backend {holder} (AccessShareLock on t"),
        _ => format!("connection {holder} (a transaction open for"),
    }
}

fn assert_names_holder(engine: Engine, stderr: &str, named: &str) {
    assert!(
        stderr.contains(named),
        "{engine:?}: {named} not in {stderr}"
    );
}

#[test]
fn a_lock_timeout_keeps_readers_moving_and_retries_until_the_holder_is_gone() {
    for engine in [Engine::Postgres, Engine::Mysql] {
        let s = Scratch::new(engine);
        with_table(&s, 1000);
        // MySQL and MariaDB count lock waits in whole seconds.
        let (timeout, bound, hold) = match engine {
            Engine::Mysql => ("1s", Duration::from_millis(2500), Duration::from_secs(7)),
            _ => ("200ms", Duration::from_millis(1200), Duration::from_secs(4)),
        };
        // Without a lock timeout the ALTER queues, and the reader behind it
        // waits for the holder.
        let (run, queued, _) = alter_behind_a_holder(&s, "queued", "", hold);
        assert_eq!(run.code, 0, "{engine:?}: {}", run.stderr);
        assert!(
            queued >= hold - Duration::from_millis(1500),
            "{engine:?}: without lock_timeout the reader should wait behind the ALTER for the holder, waited only {queued:?}"
        );
        s.ok(&["downgrade", "start"]);
        // With one, the ALTER gives up, lets the reader through, and
        // tries again until the holder has committed.
        let header = format!("-- lock_timeout = \"{timeout}\"\n-- lock_retries = 10");
        let (run, bounded, holder) = alter_behind_a_holder(&s, "bounded", &header, hold);
        eprintln!(
            "{engine:?}: a reader's longest wait behind the ALTER: {queued:?} without lock_timeout, {bounded:?} with {timeout} (the holder kept its lock {hold:?})"
        );
        assert_eq!(run.code, 0, "{engine:?}: {}", run.stderr);
        assert!(
            bounded < bound,
            "{engine:?}: with lock_timeout = {timeout} a reader waited {bounded:?}"
        );
        assert!(
            run.stderr
                .contains("gave up waiting for a lock (lock_timeout); retry 1 of 10"),
            "{engine:?}: {}",
            run.stderr
        );
        assert_names_holder(
            engine,
            &run.stderr,
            &format!("held by {}", holder_named(engine, holder)),
        );
        assert_eq!(s.current(), ["bounded"]);
    }
}

#[test]
fn exhausted_retries_fail_naming_the_holder_with_nothing_half_applied() {
    for engine in [Engine::Postgres, Engine::Mysql] {
        let s = Scratch::new(engine);
        with_table(&s, 10);
        let timeout = if engine == Engine::Mysql {
            "1s"
        } else {
            "100ms"
        };
        // On PostgreSQL, a first statement the rollback must take back.
        let first = if engine == Engine::Postgres {
            "CREATE TABLE side (id integer);\n"
        } else {
            ""
        };
        s.write(
            "migrations/late.sql",
            &migration(
                "late",
                &["start"],
                &format!("-- lock_timeout = \"{timeout}\"\n-- lock_retries = 1"),
                &format!("{first}ALTER TABLE t ADD COLUMN late integer;"),
                None,
            ),
        );
        let (run, holder) = rt().block_on(async {
            let mut holder = Session::open(&s).await;
            let id = holder.id().await;
            holder
                .exec(if engine == Engine::Mysql {
                    "START TRANSACTION"
                } else {
                    "BEGIN"
                })
                .await;
            holder.exec("SELECT COUNT(*) FROM t").await;
            let child = spawn(&s, &["upgrade", "heads"]);
            let run = tokio::task::spawn_blocking(move || finish(child))
                .await
                .unwrap();
            holder.exec("COMMIT").await;
            (run, id)
        });
        assert_eq!(run.code, 1, "{engine:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("gave up after 1 retry"),
            "{engine:?}: {}",
            run.stderr
        );
        assert_names_holder(engine, &run.stderr, &holder_named(engine, holder));
        assert_eq!(s.current(), ["start"]);
        assert!(!s.has_table("side"));
        // Nothing of the ALTER either.
        let columns = match engine {
            Engine::Postgres => format!(
                "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = '{}' AND table_name = 't' AND column_name = 'late'",
                s.name
            ),
            _ => "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 't' AND column_name = 'late'".to_owned(),
        };
        assert_eq!(s.scalar(&columns), 0);
    }
}

#[test]
fn a_failed_concurrent_index_is_named_then_dropped_and_rebuilt_valid() {
    let s = Scratch::new(Engine::Postgres);
    with_table(&s, 100);
    s.exec("UPDATE t SET v = 1 WHERE id IN (1, 2)");
    s.write(
        "migrations/ix.sql",
        &migration(
            "ix",
            &["start"],
            "-- transactional = false",
            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_v ON t (v);",
            Some("DROP INDEX CONCURRENTLY IF EXISTS t_v;"),
        ),
    );
    let valid = |s: &Scratch| {
        s.scalar(&format!(
            "SELECT CAST(COALESCE(MAX(CASE WHEN indisvalid THEN 1 ELSE 0 END), -1) AS BIGINT) FROM pg_index WHERE indexrelid = to_regclass('\"{}\".t_v')",
            s.name
        ))
    };
    let r = s.braid(&["upgrade", "heads"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("the build left index {}.t_v INVALID", s.name))
            || r.stderr.contains("the build left index t_v INVALID"),
        "{}",
        r.stderr
    );
    assert_eq!(
        valid(&s),
        0,
        "PostgreSQL leaves the failed build's index behind, invalid"
    );
    // A rerun of the unchanged file while the duplicate is still there
    // drops the invalid index, fails again, and records nothing.
    s.exec("UPDATE t SET v = 2 WHERE id = 2");
    let r = s.ok(&["upgrade", "heads"]);
    assert!(
        r.stderr.contains("dropping the INVALID index"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("continuing where an earlier run stopped: statement 1 of 1"),
        "{}",
        r.stderr
    );
    assert_eq!(valid(&s), 1);
    assert_eq!(s.current(), ["ix"]);
}

/// A three-statement revision outside a transaction whose second
/// statement runs for a long time while the table `slow` has a row.
fn three_statements(s: &Scratch) {
    let second = match s.engine {
        Engine::Postgres => {
            "INSERT INTO log (s) SELECT 'two' FROM (SELECT pg_sleep(CASE WHEN EXISTS (SELECT 1 FROM slow) THEN 60 ELSE 0 END)) z;"
        }
        Engine::Mysql => {
            "INSERT INTO log (s) SELECT 'two' FROM (SELECT SLEEP(IF(EXISTS (SELECT 1 FROM slow), 60, 0)) AS z) z;"
        }
        Engine::Sqlite => {
            "INSERT INTO log (s) SELECT 'two' FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c \
             WHERE x < (SELECT CASE WHEN EXISTS (SELECT 1 FROM slow) THEN 2000000000 ELSE 1 END)) SELECT COUNT(*) FROM c) z;"
        }
    };
    s.write(
        "migrations/setup.sql",
        &migration(
            "setup",
            &[],
            "",
            "CREATE TABLE log (s varchar(10));\nCREATE TABLE slow (id integer);\nINSERT INTO slow VALUES (1);",
            None,
        ),
    );
    s.write(
        "migrations/three.sql",
        &migration(
            "three",
            &["setup"],
            "-- transactional = false",
            &format!("INSERT INTO log (s) VALUES ('one');\n{second}\nINSERT INTO log (s) VALUES ('three');"),
            None,
        ),
    );
}

#[test]
fn a_killed_non_transactional_revision_continues_at_the_statement_it_did_not_finish() {
    for engine in ENGINES {
        let s = Scratch::new(engine);
        three_statements(&s);
        s.ok(&["upgrade", "setup"]);
        let mut child = spawn(&s, &["upgrade", "heads"]);
        wait_for(
            &format!("{engine:?}: the first statement to be recorded"),
            || {
                if let Some(status) = child.try_wait().unwrap() {
                    let out = finish(child_output(&mut child));
                    panic!("{engine:?}: braid ended early ({status}): {}", out.stderr);
                }
                s.scalar("SELECT COUNT(*) FROM braid_version_history WHERE status = 'statement' AND revision = 'three'") == 1
            },
        );
        std::thread::sleep(Duration::from_millis(300));
        child.kill().unwrap();
        let _ = child.wait();
        // The server's session goes on with the statement the process
        // left: an operator ends it, as after any kill -9.
        match engine {
            Engine::Postgres => s.exec(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'INSERT INTO log (s) SELECT ''two''%'",
            ),
            Engine::Mysql => {
                let id = s.scalar(
                    "SELECT COALESCE(MAX(ID), 0) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'INSERT INTO log (s) SELECT ''two''%'",
                );
                assert!(id > 0, "braid's statement should still run on the server");
                s.exec(&format!("KILL {id}"));
            }
            Engine::Sqlite => {}
        }
        s.exec("DELETE FROM slow");
        assert_eq!(s.scalar("SELECT COUNT(*) FROM log"), 1, "{engine:?}");
        let r = s.ok(&["upgrade", "heads"]);
        assert!(
            r.stderr
                .contains("continuing where an earlier run stopped: statement 2 of 3"),
            "{engine:?}: {}",
            r.stderr
        );
        for word in ["one", "two", "three"] {
            assert_eq!(
                s.scalar(&format!("SELECT COUNT(*) FROM log WHERE s = '{word}'")),
                1,
                "{engine:?}: `{word}` should have run exactly once"
            );
        }
        assert_eq!(s.current(), ["three"]);
    }
}

#[test]
fn a_changed_file_is_not_continued() {
    let s = Scratch::new(Engine::Sqlite);
    three_statements(&s);
    s.ok(&["upgrade", "setup"]);
    s.exec("DELETE FROM slow");
    // The second statement fails.
    let path = s.project.path().join("migrations/three.sql");
    let text = std::fs::read_to_string(&path).unwrap();
    let broken = text.replace(
        "INSERT INTO log (s) SELECT 'two'",
        "INSERT INTO missing (s) SELECT 'two'",
    );
    std::fs::write(&path, &broken).unwrap();
    let r = s.braid(&["upgrade", "heads"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(s.scalar("SELECT COUNT(*) FROM log"), 1);
    // Unchanged, a rerun goes on at the failed statement (and fails again).
    let r = s.braid(&["upgrade", "heads"]);
    assert!(r.stderr.contains("statement 2 of 3"), "{}", r.stderr);
    assert_eq!(s.scalar("SELECT COUNT(*) FROM log"), 1);
    // Fixed, the file is another one: braid stops and says to resolve.
    std::fs::write(&path, &text).unwrap();
    let r = s.braid(&["upgrade", "heads"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("stopped halfway"), "{}", r.stderr);
    assert_eq!(s.scalar("SELECT COUNT(*) FROM log"), 1);
}

/// Sends SIGINT, as Ctrl-C does.
fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_batch_block_backfills_every_row_once_while_writers_go_on_and_continues_after_a_stop() {
    const ROWS: u32 = 200_000;
    for engine in [Engine::Postgres, Engine::Mysql] {
        let s = Scratch::new(engine);
        with_table(&s, ROWS);
        let update = match engine {
            Engine::Mysql => {
                "UPDATE t SET w = v * 2, touched = touched + 1 WHERE w IS NULL ORDER BY id LIMIT :batch_size;"
            }
            _ => {
                "UPDATE t SET w = v * 2, touched = touched + 1\nWHERE id IN (SELECT id FROM t WHERE w IS NULL ORDER BY id LIMIT :batch_size);"
            }
        };
        s.write(
            "migrations/fill.sql",
            &migration(
                "fill",
                &["start"],
                "-- transactional = false",
                &format!("-- braid:batch size=10000 pause=100ms\n{update}"),
                None,
            ),
        );
        let done = |s: &Scratch| s.scalar("SELECT COUNT(*) FROM t WHERE w IS NOT NULL");
        // Ctrl-C stops between two batches; what is done stays done.
        let child = spawn(&s, &["upgrade", "heads"]);
        wait_for("a few batches", || done(&s) >= 30_000);
        interrupt(&child);
        let run = finish(child);
        assert_eq!(run.code, 130, "{engine:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("revision fill stopped between two batches of its batch block"),
            "{engine:?}: {}",
            run.stderr
        );
        let after_stop = done(&s);
        assert!(
            after_stop > 0 && after_stop < i64::from(ROWS),
            "{engine:?}: {after_stop}"
        );
        assert_eq!(
            after_stop % 10_000,
            0,
            "{engine:?}: only whole batches commit"
        );
        // kill -9 in the middle of a batch: the rerun goes on all the same.
        let mut child = spawn(&s, &["upgrade", "heads"]);
        wait_for("more batches", || done(&s) >= after_stop + 30_000);
        child.kill().unwrap();
        let _ = child.wait();
        // The last run, with a writer updating rows all along, timing each write.
        let (run, longest, writes) = rt().block_on(async {
            let mut writer = Session::open(&s).await;
            let child = spawn(&s, &["upgrade", "heads"]);
            let run = tokio::task::spawn_blocking(move || finish(child));
            tokio::pin!(run);
            let (mut longest, mut writes, mut k) = (Duration::ZERO, 0u32, 0u64);
            loop {
                let write = format!(
                    "UPDATE t SET x = x + 1 WHERE id = {}",
                    k % u64::from(ROWS) + 1
                );
                tokio::select! {
                    r = &mut run => break (r.unwrap(), longest, writes),
                    waited = writer.timed(&write) => {
                        longest = longest.max(waited);
                        writes += 1;
                        k += 7919;
                    }
                }
            }
        });
        assert_eq!(run.code, 0, "{engine:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("continuing where an earlier run stopped"),
            "{engine:?}: {}",
            run.stderr
        );
        assert_eq!(
            s.scalar("SELECT COUNT(*) FROM t WHERE touched = 1 AND w = v * 2"),
            i64::from(ROWS),
            "{engine:?}: every row done, and once"
        );
        // The block's summary: rows, batches and rate; one batch's time
        // bounds what a writer waits.
        let summary = run
            .stderr
            .lines()
            .find(|l| l.contains("batch block at line"))
            .unwrap_or_else(|| panic!("{engine:?}: no summary in {}", run.stderr));
        let counts = summary.rsplit(": ").next().unwrap();
        let number = |after: &str| -> f64 {
            let rest = &counts[counts.find(after).unwrap() + after.len()..];
            rest.split_whitespace().next().unwrap().parse().unwrap()
        };
        let rows = number("");
        let batches = number("rows in ");
        let rate = number("batches (").max(1.0);
        assert!(rows > 0.0 && batches >= 2.0, "{engine:?}: {summary}");
        let batch = Duration::from_secs_f64(rows / rate / batches);
        eprintln!(
            "{engine:?}: {summary}; a writer's longest wait {longest:?} over {writes} writes"
        );
        assert!(
            writes > 10,
            "{engine:?}: the writer should have kept writing ({writes} writes)"
        );
        assert!(
            longest < (batch * 4).max(Duration::from_millis(750)),
            "{engine:?}: a writer waited {longest:?}, a batch takes about {batch:?} ({summary})"
        );
        // The history has the rows the last run changed.
        let recorded = s.scalar(
            "SELECT CAST(COALESCE(MAX(affected_rows), 0) AS SIGNED) FROM braid_version_history WHERE revision = 'fill' AND status = 'statement'"
                .replace(" AS SIGNED)", if engine == Engine::Mysql { " AS SIGNED)" } else { " AS BIGINT)" })
                .as_str(),
        );
        assert_eq!(recorded as f64, rows, "{engine:?}");
    }
}

/// The session's own lock and statement timeouts are what they were
/// after a run that set them, in a transaction and outside one: an
/// application that hands braid its connection gets it back unchanged.
#[test]
fn session_timeouts_are_put_back_after_a_run() {
    for engine in [Engine::Postgres, Engine::Mysql] {
        let s = Scratch::new(engine);
        let header = "-- lock_timeout = \"1s\"\n-- statement_timeout = \"1m\"";
        s.write(
            "migrations/a.sql",
            &migration("a", &[], header, "CREATE TABLE a (id integer);", None),
        );
        s.write(
            "migrations/b.sql",
            &migration(
                "b",
                &["a"],
                &format!("{header}\n-- transactional = false"),
                "CREATE TABLE b (id integer);\nCREATE TABLE c (id integer);",
                None,
            ),
        );
        let settings = common::settings(
            &s.url,
            (engine == Engine::Postgres).then_some(s.name.as_str()),
        );
        let history =
            braid::history::History::load(&[s.project.path().join("migrations")]).unwrap();
        rt().block_on(async {
            let mut db = braid::db::Db::connect(&settings).await.unwrap();
            // Values of the session's own, unlike braid's.
            let (mine, check) = match engine {
                Engine::Postgres => (
                    "SET lock_timeout = '7s'; SET statement_timeout = '9s'",
                    "DO $$ BEGIN IF current_setting('lock_timeout') <> '7s' OR current_setting('statement_timeout') <> '9s' \
                     THEN RAISE EXCEPTION 'left at % and %', current_setting('lock_timeout'), current_setting('statement_timeout'); END IF; END $$",
                ),
                _ => (
                    "SET SESSION lock_wait_timeout = 7, SESSION innodb_lock_wait_timeout = 8, SESSION max_statement_time = 9",
                    "BEGIN NOT ATOMIC IF @@SESSION.lock_wait_timeout <> 7 OR @@SESSION.innodb_lock_wait_timeout <> 8 \
                     OR @@SESSION.max_statement_time <> 9 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'timeouts left changed'; END IF; END",
                ),
            };
            db.exec(mine).await.unwrap();
            let heads = braid::target::Target::heads();
            let out = braid::execute::run(
                &mut db,
                &history,
                braid::execute::Request::Upgrade(&heads),
                &braid::execute::Options::default(),
                &mut braid::execute::Silent,
            )
            .await
            .unwrap();
            assert_eq!(out.steps.len(), 2);
            db.exec(check)
                .await
                .unwrap_or_else(|e| panic!("{engine:?}: {}", e.message));
            db.close().await;
        });
    }
}

/// SPEC §14: the history records when each step started and finished;
/// `braid log` shows it newest first, with durations.
#[test]
fn the_log_shows_each_step_newest_first_with_its_real_duration() {
    for engine in ENGINES {
        let s = Scratch::new(engine);
        s.write(
            "migrations/slow.sql",
            // SQLite counts instead of sleeping: enough counting that even
            // a fast machine takes well over 400 ms.
            &migration(
                "slow",
                &[],
                "",
                &s.sleep_sql(if engine == Engine::Sqlite { 1500 } else { 400 }),
                None,
            ),
        );
        s.write(
            "migrations/quick.sql",
            &migration("quick", &["slow"], "", "CREATE TABLE q (id integer);", None),
        );
        // `status` before, part way and at the head.
        let status = |s: &Scratch| -> serde_json::Value {
            serde_json::from_str(&s.ok(&["status", "--format", "json"]).stdout).unwrap()
        };
        let states = common::status_states;
        let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(
            states(&status(&s)),
            [pair("slow", "pending"), pair("quick", "pending")]
        );
        s.ok(&["upgrade", "slow"]);
        let v = status(&s);
        assert_eq!(
            states(&v),
            [pair("slow", "applied"), pair("quick", "pending")],
            "{engine:?}"
        );
        assert!(
            v["revisions"][0]["duration_ms"].as_i64().unwrap() >= 350,
            "{engine:?}: {v}"
        );
        assert!(
            v["revisions"][0]["applied_at"]
                .as_str()
                .unwrap()
                .parse::<jiff::Timestamp>()
                .is_ok()
        );
        assert!(v["revisions"][1]["applied_at"].is_null());
        let text = s.ok(&["status"]).stdout;
        assert!(
            text.ends_with("1 applied, 1 pending revision\n"),
            "{engine:?}: {text}"
        );
        // `show` and `history -i` say it too.
        let show = s.ok(&["show", "slow"]).stdout;
        assert!(show.contains("Ran: up done "), "{engine:?}: {show}");
        let v: serde_json::Value =
            serde_json::from_str(&s.ok(&["show", "slow", "--format", "json"]).stdout).unwrap();
        assert!(
            v["ran"][0]["duration_ms"].as_i64().unwrap() >= 350,
            "{engine:?}: {v}"
        );
        let v: serde_json::Value =
            serde_json::from_str(&s.ok(&["history", "-i", "--format", "json"]).stdout).unwrap();
        let by_id = |id: &str| {
            v["revisions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["revision"] == id)
                .unwrap()
                .clone()
        };
        assert!(
            by_id("slow")["duration_ms"].as_i64().unwrap() >= 350,
            "{engine:?}: {v}"
        );
        assert!(by_id("quick")["applied_at"].is_null(), "{engine:?}: {v}");
        s.ok(&["upgrade", "heads"]);
        let log = s.ok(&["log", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&log.stdout).unwrap();
        let entries = v["entries"].as_array().unwrap();
        // Steps (not statements), newest first.
        let steps: Vec<&serde_json::Value> = entries
            .iter()
            .filter(|e| e["statement"].is_null())
            .collect();
        let order: Vec<&str> = steps
            .iter()
            .map(|e| e["revision"].as_str().unwrap())
            .collect();
        assert_eq!(order, ["quick", "slow"], "{engine:?}: {}", log.stdout);
        let ms = steps[1]["duration_ms"].as_i64().unwrap();
        assert!(
            ms >= 350,
            "{engine:?}: the sleeping step took {ms} ms by the history"
        );
        assert!(steps[0]["duration_ms"].as_i64().unwrap() < ms, "{engine:?}");
        for e in &steps {
            assert_eq!(e["status"], "done");
            assert!(
                e["started_at"]
                    .as_str()
                    .unwrap()
                    .parse::<jiff::Timestamp>()
                    .is_ok()
            );
            assert!(e["run_by"].as_str().unwrap().contains('@'));
        }
        let one = s.ok(&["log", "-n", "1", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&one.stdout).unwrap();
        assert_eq!(v["entries"].as_array().unwrap().len(), 1, "{engine:?}");
        let text = s.ok(&["log"]);
        assert!(
            text.stdout.lines().count() >= 2,
            "{engine:?}: {}",
            text.stdout
        );
        assert!(
            text.stdout.contains(" done ") && text.stdout.contains("slow"),
            "{engine:?}: {}",
            text.stdout
        );
    }
}

/// A history table an older braid made (without the statement columns)
/// is read by `log` as it is, and gains the columns when a step outside a
/// transaction first records a statement.
#[test]
fn an_older_history_table_is_read_as_it_is_and_upgraded_when_written() {
    let s = Scratch::new(Engine::Sqlite);
    s.exec(
        "CREATE TABLE braid_version (version_num VARCHAR(255) NOT NULL PRIMARY KEY);
         CREATE TABLE braid_version_history (id INTEGER PRIMARY KEY AUTOINCREMENT, revision VARCHAR(255) NOT NULL,
           direction VARCHAR(8) NOT NULL, checksum VARCHAR(80), status VARCHAR(16) NOT NULL,
           started_at VARCHAR(40) NOT NULL, finished_at VARCHAR(40), run_by VARCHAR(255), message TEXT);",
    );
    s.write(
        "migrations/a.sql",
        &migration("a", &[], "", "CREATE TABLE a (id integer);", None),
    );
    s.ok(&["upgrade", "a"]);
    let columns = "SELECT COUNT(*) FROM pragma_table_info('braid_version_history') WHERE name = 'statement_index'";
    assert_eq!(
        s.scalar(columns),
        0,
        "a transactional step writes no statement row"
    );
    let log: serde_json::Value =
        serde_json::from_str(&s.ok(&["log", "--format", "json"]).stdout).unwrap();
    assert_eq!(log["entries"][0]["revision"], "a");
    assert!(log["entries"][0]["statement"].is_null());
    s.write(
        "migrations/b.sql",
        &migration(
            "b",
            &["a"],
            "-- transactional = false",
            "CREATE TABLE b (id integer);",
            None,
        ),
    );
    s.ok(&["upgrade", "heads"]);
    assert_eq!(s.scalar(columns), 1);
    let log: serde_json::Value =
        serde_json::from_str(&s.ok(&["log", "--format", "json"]).stdout).unwrap();
    assert_eq!(log["entries"][0]["statement"], 1, "{log}");
}
