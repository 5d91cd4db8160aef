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
