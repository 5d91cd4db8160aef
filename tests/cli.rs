//! The commands that need no database, and SQLite runs, through the built
//! binary, as transcripts compared with snapshots (fixed clock, fixed ids,
//! temporary paths scrubbed).

mod common;

use common::{Project, migration};

#[test]
fn team_workflow_without_a_database() {
    let p = Project::new();
    let mut t = String::new();
    p.step(&mut t, &["init"]);
    p.step(
        &mut t,
        &["revision", "-m", "initial schema", "--rev-id", "r0"],
    );
    p.step(
        &mut t,
        &[
            "revision",
            "-m",
            "add users",
            "--rev-id",
            "a1",
            "--branch-label",
            "auth",
        ],
    );
    p.step(
        &mut t,
        &[
            "revision", "-m", "billing", "--rev-id", "b1", "--head", "r0",
        ],
    );
    p.step(
        &mut t,
        &[
            "revision",
            "-m",
            "billing",
            "--rev-id",
            "b1",
            "--head",
            "r0",
            "--splice",
            "--branch-label",
            "billing",
        ],
    );
    p.step(
        &mut t,
        &[
            "revision",
            "-m",
            "invoices",
            "--rev-id",
            "b2",
            "--head",
            "billing@head",
            "--depends-on",
            "a1",
        ],
    );
    p.step(&mut t, &["revision", "-m", "one more"]);
    p.step(&mut t, &["heads"]);
    p.step(&mut t, &["heads", "--resolve-dependencies"]);
    p.step(&mut t, &["branches"]);
    p.step(&mut t, &["history"]);
    p.step(&mut t, &["history", "-r", "b1:"]);
    p.step(&mut t, &["show", "b2"]);
    p.step(&mut t, &["check", "--no-db"]);
    p.step(&mut t, &["check", "--no-db", "--single-head"]);
    p.step(
        &mut t,
        &[
            "merge",
            "-m",
            "join auth and billing",
            "--rev-id",
            "m1",
            "heads",
        ],
    );
    p.step(&mut t, &["merge", "-m", "again", "heads"]);
    p.step(&mut t, &["heads", "--format", "json"]);
    p.step(&mut t, &["graph"]);
    p.step(&mut t, &["upgrade", "heads", "--sql"]);
    p.step(&mut t, &["downgrade", "m1:b1", "--sql"]);
    p.step(&mut t, &["downgrade", "base", "--sql"]);
    snapshot!(t);
}

#[test]
fn bad_files_are_all_reported_with_file_and_line() {
    let p = Project::new();
    p.write(
        "braid.toml",
        "[migrations]\ndirectories = [\"migrations\", \"more\"]\n",
    );
    p.write(
        "migrations/1.sql",
        &migration("r1", &[], "", "SELECT 1;", None),
    );
    p.write(
        "migrations/2.sql",
        "-- revision = \"r2\"\n-- down_revisions = [\"r1\"]\n-- colour = \"red\"\n-- braid:up\n",
    );
    p.write("migrations/3.sql", "");
    p.write(
        "more/deep/4.sql",
        "-- revision = \"r4\"\n-- down_revisions = [\"r1\"\n-- braid:up\n",
    );
    p.write(
        "more/5.sql",
        "-- revision = \"r5\"\n-- down_revisions = []\nSELECT 1;\n",
    );
    std::fs::write(
        p.path().join("more/6.sql"),
        b"-- revision = \"r6\"\n-- down_revisions = []\n-- braid:up\nSELECT '\xff';\n",
    )
    .unwrap();
    p.write(
        "more/7.sql",
        "-- revision = \"r7\"\n-- down_revisions = []\n-- braid:up\n-- braid:down\n-- braid:down\n",
    );
    p.write("more/8.sql", "-- down_revisions = []\n-- braid:up\n");
    p.write(
        "more/9.sql",
        "-- revision = \"r9\"\n-- down_revisions = []\n-- braid:down\n",
    );
    p.write(
        "more/10.sql",
        "-- revision = \"r10\"\n-- down_revisions = \"r1\"\n-- braid:up\n",
    );
    let mut t = String::new();
    let r = p.step(&mut t, &["heads"]);
    assert_eq!(r.code, 1);
    p.step(&mut t, &["check", "--format", "json"]);
    snapshot!(t);
}

#[test]
fn graph_problems_are_all_reported_with_their_files() {
    let p = Project::new();
    p.write(
        "migrations/1.sql",
        &migration("r1", &[], "-- branch_labels = [\"core\"]", "", None),
    );
    p.write("migrations/2.sql", &migration("r1", &[], "", "", None));
    p.write(
        "migrations/3.sql",
        &migration("r3", &["gone"], "-- depends_on = [\"nowhere\"]", "", None),
    );
    p.write(
        "migrations/4.sql",
        &migration("r4", &["r5"], "-- branch_labels = [\"core\"]", "", None),
    );
    p.write("migrations/5.sql", &migration("r5", &["r4"], "", "", None));
    p.write(
        "migrations/6.sql",
        &migration("r6", &["r1"], "-- branch_labels = [\"r3\"]", "", None),
    );
    let mut t = String::new();
    let r = p.step(&mut t, &["check"]);
    assert_eq!(r.code, 1);
    snapshot!(t);
}

#[test]
fn target_errors() {
    let p = Project::new();
    p.write(
        "migrations/1.sql",
        &migration("ab01", &[], "", "", Some("")),
    );
    p.write(
        "migrations/2.sql",
        &migration(
            "ab02",
            &["ab01"],
            "-- branch_labels = [\"left\"]",
            "",
            Some(""),
        ),
    );
    p.write(
        "migrations/3.sql",
        &migration(
            "cd03",
            &["ab01"],
            "-- branch_labels = [\"right\"]",
            "",
            None,
        ),
    );
    let mut t = String::new();
    for args in [
        &["upgrade", "head", "--sql"][..],
        &["show", "ab"],
        &["show", "zz"],
        &["show", "nolabel@head"],
        &["show", "right@ab02"],
        &["upgrade", "ab01+5", "--sql"],
        &["upgrade", "ab01+1", "--sql"],
        &["upgrade", "ab+", "--sql"],
        &["downgrade", "heads:base", "--sql"],
        &["downgrade", "-1", "--sql"],
        &["revision", "-m", "x"],
        &["merge", "ab01", "ab02"],
        &["frobnicate"],
        &["upgrade"],
    ] {
        let r = p.step(&mut t, args);
        assert_ne!(r.code, 0, "{args:?}");
    }
    snapshot!(t);
}

#[test]
fn sqlite_default_database_round_trip() {
    let p = Project::new();
    p.write(
        "migrations/1.sql",
        &migration(
            "r0",
            &[],
            "",
            "CREATE TABLE users (id integer PRIMARY KEY);",
            Some("DROP TABLE users;"),
        ),
    );
    p.write(
        "migrations/2.sql",
        &migration(
            "a1",
            &["r0"],
            "-- branch_labels = [\"auth\"]",
            "CREATE TABLE sessions (id integer);",
            Some("DROP TABLE sessions;"),
        ),
    );
    p.write(
        "migrations/3.sql",
        &migration(
            "b1",
            &["r0"],
            "-- branch_labels = [\"billing\"]",
            "CREATE TABLE invoices (id integer);",
            Some("DROP TABLE invoices;"),
        ),
    );
    p.write(
        "migrations/4.sql",
        &migration("m1", &["a1", "b1"], "", "", Some("")),
    );
    let mut t = String::new();
    p.step(&mut t, &["current"]);
    assert!(
        !p.path().join("braid.db").exists(),
        "reading commands create no database"
    );
    p.step(&mut t, &["upgrade", "a1", "--dry-run"]);
    p.step(&mut t, &["upgrade", "a1"]);
    p.step(&mut t, &["current"]);
    p.step(&mut t, &["upgrade", "billing@+1"]);
    p.step(&mut t, &["current"]);
    p.step(
        &mut t,
        &["upgrade", "heads", "--dry-run", "--format", "json"],
    );
    p.step(&mut t, &["upgrade", "heads"]);
    p.step(&mut t, &["current", "--format", "json"]);
    p.step(&mut t, &["history", "--indicate-current"]);
    p.step(&mut t, &["downgrade", "b1"]);
    p.step(&mut t, &["current"]);
    p.step(&mut t, &["downgrade", "-1"]);
    p.step(&mut t, &["downgrade", "auth@-1"]);
    p.step(&mut t, &["current"]);
    p.step(&mut t, &["stamp", "m1"]);
    p.step(&mut t, &["current"]);
    p.step(&mut t, &["stamp", "base"]);
    p.step(&mut t, &["current"]);
    // The tables are still there: the first revision fails and rolls back.
    p.step(&mut t, &["upgrade", "+1"]);
    p.step(&mut t, &["current"]);
    p.step(&mut t, &["check"]);
    snapshot!(t);
    assert!(p.path().join("braid.db").exists());
}

#[test]
fn lints_stop_a_run_before_anything_runs_and_warn_in_check() {
    let p = Project::new();
    p.write(
        "migrations/1.sql",
        &migration(
            "r1",
            &[],
            "",
            "CREATE TABLE users (id integer, email text);",
            Some("DROP TABLE users;"),
        ),
    );
    p.write(
        "migrations/2.sql",
        &migration(
            "r2",
            &["r1"],
            "",
            "DELETE FROM users;\nALTER TABLE users DROP COLUMN email;",
            None,
        ),
    );
    p.write(
        "migrations/3.sql",
        &migration(
            "r3",
            &["r2"],
            "",
            "CREATE INDEX ix ON users (id); -- not CONCURRENTLY\nVACUUM;",
            Some(""),
        ),
    );
    let mut t = String::new();
    let r = p.step(&mut t, &["check"]);
    assert_eq!(r.code, 1);
    p.step(&mut t, &["check", "--format", "json"]);
    let r = p.step(&mut t, &["upgrade", "heads"]);
    assert_eq!(r.code, 1);
    assert!(!p.path().join("braid.db").exists() || p.run(&["current"]).stdout.is_empty());
    p.step(&mut t, &["upgrade", "heads", "--sql"]);
    // Below the offending revision, the run goes ahead.
    let r = p.step(&mut t, &["upgrade", "r2"]);
    assert_eq!(r.code, 0);
    snapshot!(t);
}

#[test]
fn rebase_turns_a_late_branch_into_a_line() {
    let p = Project::new();
    p.write(
        "migrations/1.sql",
        &migration(
            "r1",
            &[],
            "",
            "CREATE TABLE a (id integer);",
            Some("DROP TABLE a;"),
        ),
    );
    p.write(
        "migrations/2.sql",
        &migration(
            "r2",
            &["r1"],
            "",
            "CREATE TABLE b (id integer);",
            Some("DROP TABLE b;"),
        ),
    );
    p.write(
        "migrations/3.sql",
        &migration(
            "x1",
            &["r1"],
            "-- # a late branch",
            "CREATE TABLE c (id integer);",
            Some("DROP TABLE c;"),
        ),
    );
    p.write(
        "migrations/4.sql",
        &migration("x2", &["x1"], "", "SELECT 1;", Some("")),
    );
    let mut t = String::new();
    p.step(&mut t, &["heads"]);
    p.step(&mut t, &["rebase", "x1", "--onto", "x2"]);
    p.step(&mut t, &["upgrade", "r2"]);
    // r2 is applied: it cannot move.
    p.step(&mut t, &["rebase", "r2", "--onto", "x2"]);
    p.step(&mut t, &["rebase", "x1", "--onto", "r2"]);
    p.step(&mut t, &["heads"]);
    p.step(&mut t, &["history"]);
    let text = std::fs::read_to_string(p.path().join("migrations/3.sql")).unwrap();
    assert!(
        text.contains("-- down_revisions = [\"r2\"]\n-- message = \"x1\"\n-- # a late branch\n"),
        "{text}"
    );
    p.step(&mut t, &["upgrade", "heads"]);
    snapshot!(t);
}

#[test]
fn history_graph_draws_branches_and_merges() {
    let p = Project::new();
    // r0 - a1 - a2 ------ m - r9
    //    \ b1 - b2 (on a1) /
    //    \ c1 (a second head)
    p.write("migrations/r0.sql", &migration("r0", &[], "", "", Some("")));
    p.write(
        "migrations/a1.sql",
        &migration("a1", &["r0"], "-- branch_labels = [\"auth\"]", "", Some("")),
    );
    p.write(
        "migrations/a2.sql",
        &migration("a2", &["a1"], "", "", Some("")),
    );
    p.write(
        "migrations/b1.sql",
        &migration("b1", &["r0"], "", "", Some("")),
    );
    p.write(
        "migrations/b2.sql",
        &migration("b2", &["b1"], "-- depends_on = [\"a1\"]", "", Some("")),
    );
    p.write(
        "migrations/m.sql",
        &migration("m", &["a2", "b2"], "", "", Some("")),
    );
    p.write(
        "migrations/r9.sql",
        &migration("r9", &["m"], "", "", Some("")),
    );
    p.write(
        "migrations/c1.sql",
        &migration("c1", &["r0"], "", "", Some("")),
    );
    let mut t = String::new();
    p.step(&mut t, &["upgrade", "m"]);
    p.step(&mut t, &["history", "--graph"]);
    p.step(&mut t, &["history", "--graph", "--indicate-current"]);
    snapshot!(t);
}

#[test]
fn graph_renders_svg_through_graphviz() {
    // `make test` installs Graphviz (scripts/services.sh).
    let p = Project::new();
    p.write(
        "migrations/1.sql",
        &migration(
            "base0001",
            &[],
            "-- branch_labels = [\"core\"]",
            "",
            Some(""),
        ),
    );
    p.write(
        "migrations/2.sql",
        &migration("left0002", &["base0001"], "", "", Some("")),
    );
    p.write(
        "migrations/3.sql",
        &migration(
            "right0003",
            &["base0001"],
            "-- depends_on = [\"left0002\"]",
            "",
            Some(""),
        ),
    );
    let r = p.run(&["upgrade", "left0002"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = p.run(&["graph", "--output", "history.svg"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let svg = std::fs::read_to_string(p.path().join("history.svg")).unwrap();
    assert!(svg.contains("<svg"), "{svg}");
    for id in ["base0001", "left0002", "right0003"] {
        assert!(svg.contains(id), "{id} missing from the SVG");
    }
    // Applied revisions are filled green, pending ones grey.
    assert!(svg.contains("#c8e6c9") && svg.contains("#eeeeee"), "{svg}");
    let json = p.run(&["graph", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["heads"], serde_json::json!(["left0002", "right0003"]));
    assert!(
        v["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "depends_on")
    );
    assert_eq!(v["nodes"][0]["applied"], true);
}

#[test]
fn check_reports_objects_changed_on_two_branches() {
    let p = Project::new();
    //   r0 -- a1 (auth: users.email, ix_users_email) -- m
    //     \-- b1 (billing: users.email, invoices) ----/
    //     \-- c1 (a head: users)
    p.write(
        "migrations/r0.sql",
        &migration(
            "r0",
            &[],
            "",
            "CREATE TABLE users (id integer PRIMARY KEY);",
            Some("DROP TABLE users;"),
        ),
    );
    p.write(
        "migrations/a1.sql",
        &migration("a1", &["r0"], "-- branch_labels = [\"auth\"]", "ALTER TABLE users ADD COLUMN email varchar(255);\nCREATE INDEX ix_users_email ON users (email);", Some("")),
    );
    p.write(
        "migrations/b1.sql",
        &migration("b1", &["r0"], "-- branch_labels = [\"billing\"]", "ALTER TABLE \"users\" ALTER COLUMN email TYPE text;\nCREATE TABLE invoices (id integer);", Some("")),
    );
    p.write(
        "migrations/m.sql",
        &migration("m", &["a1", "b1"], "", "", Some("")),
    );
    p.write(
        "migrations/c1.sql",
        &migration("c1", &["r0"], "", "DROP INDEX ix_users_email;", Some("")),
    );
    let mut t = String::new();
    let r = p.step(
        &mut t,
        &[
            "--url",
            "postgres://nobody@127.0.0.1:1/x",
            "check",
            "--no-db",
        ],
    );
    assert_eq!(r.code, 0);
    let r = p.step(
        &mut t,
        &[
            "--url",
            "postgres://nobody@127.0.0.1:1/x",
            "check",
            "--no-db",
            "--strict",
        ],
    );
    assert_eq!(r.code, 1);
    snapshot!(t);
}

#[test]
fn a_terminal_gets_a_progress_bar() {
    // `script` gives braid a terminal; piped, it prints plain lines.
    let p = Project::new();
    for i in 1..=3 {
        let prev = format!("r{}", i - 1);
        let down: Vec<&str> = if i == 1 { vec![] } else { vec![prev.as_str()] };
        p.write(
            &format!("migrations/{i}.sql"),
            &migration(&format!("r{i}"), &down, "", "SELECT 1;", Some("")),
        );
    }
    let cmd = format!("{} upgrade heads", env!("CARGO_BIN_EXE_braid"));
    let tty = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(p.path())
        .env("BRAID_NOW", "2025-09-19T14:00:00Z")
        .env_remove("DATABASE_URL")
        .env_remove("DATABASE_HOST")
        .env_remove("BRAID_CONFIG")
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&tty.stdout);
    assert!(tty.status.success(), "{screen}");
    assert!(
        screen.contains("up r2 r2") && screen.contains("2/3"),
        "{screen}"
    );
    assert!(
        screen.contains("\x1b[2K"),
        "the bar redraws its line: {screen}"
    );
    assert!(
        !screen.contains("[1/3]"),
        "no plain lines on a terminal: {screen}"
    );
    assert!(screen.contains("applied 3 revisions"), "{screen}");
}

#[test]
fn data_changes_on_two_branches_are_conflicts_too() {
    let p = Project::new();
    p.write(
        "migrations/r0.sql",
        &migration(
            "r0",
            &[],
            "",
            "CREATE TABLE users (id integer, email text);",
            Some(""),
        ),
    );
    p.write(
        "migrations/a1.sql",
        &migration(
            "a1",
            &["r0"],
            "",
            "UPDATE users SET email = lower(email);",
            Some(""),
        ),
    );
    p.write(
        "migrations/b1.sql",
        &migration(
            "b1",
            &["r0"],
            "",
            "DELETE FROM users WHERE email IS NULL;\nINSERT INTO audit VALUES (1);",
            Some(""),
        ),
    );
    p.write(
        "migrations/m.sql",
        &migration("m", &["a1", "b1"], "", "", Some("")),
    );
    let r = p.run(&["check", "--no-db", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let conflicts = v["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0]["object"], "table `users`");
    assert_eq!(conflicts[0]["revisions"], serde_json::json!(["a1", "b1"]));
    assert_eq!(conflicts[0]["merge"], "m");
}

/// Alembic's answers: a downgrade to a revision that is neither a current
/// head nor below one fails and changes nothing; a label after the `@`
/// names its revision; an up section that runs nothing is a warning.
#[test]
fn downgrade_targets_labels_and_empty_sections_as_alembic_answers() {
    let p = Project::new();
    let table = |rev: &str| {
        (
            format!("CREATE TABLE t_{rev} (id integer);"),
            format!("DROP TABLE t_{rev};"),
        )
    };
    //        r0
    //       /  \
    // a1(@auth) b1(@billing) <- - c1 (a base that depends on b1)
    //      |      |
    //     a2     b2
    for (rev, parents, extra) in [
        ("r0", vec![], ""),
        ("a1", vec!["r0"], "-- branch_labels = [\"auth\"]"),
        ("a2", vec!["a1"], ""),
        ("b1", vec!["r0"], "-- branch_labels = [\"billing\"]"),
        ("b2", vec!["b1"], ""),
        ("c1", vec![], "-- depends_on = [\"b1\"]"),
    ] {
        let (up, down) = table(rev);
        p.write(
            &format!("migrations/{rev}.sql"),
            &migration(rev, &parents, extra, &up, Some(&down)),
        );
    }
    let mut t = String::new();
    p.step(&mut t, &["upgrade", "auth@auth"]);
    p.step(&mut t, &["upgrade", "auth@auth+1"]);
    // b1 was never applied: an error, not "nothing to do".
    let r = p.step(&mut t, &["downgrade", "b1"]);
    assert_eq!(r.code, 1);
    p.step(&mut t, &["downgrade", "billing@billing"]);
    p.step(&mut t, &["current"]);
    // b1 applied only as c1's dependency: nothing above it to take down.
    p.step(&mut t, &["upgrade", "c1"]);
    let r = p.step(&mut t, &["downgrade", "b1"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("`b1` is not a valid downgrade target from the current heads (a2, c1)"),
        "{}",
        r.stderr
    );
    p.step(&mut t, &["current"]);
    p.step(&mut t, &["downgrade", "auth@auth"]);
    p.step(&mut t, &["current"]);
    // An up section with only a comment warns in check and in upgrade; a
    // merge point with nothing to run does not.
    p.write(
        "migrations/e1.sql",
        &migration(
            "e1",
            &["b2"],
            "",
            "-- TODO: fill in\n\n",
            Some("DROP TABLE t_b2;"),
        ),
    );
    p.write(
        "migrations/m1.sql",
        &migration("m1", &["a2", "e1"], "", "", Some("")),
    );
    p.step(&mut t, &["check"]);
    let r = p.step(&mut t, &["upgrade", "heads"]);
    assert!(
        r.stderr
            .contains("warning: revision `e1` has an empty up section"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("`m1` has an empty up section"),
        "{}",
        r.stderr
    );
    snapshot!(t);
}
