//! A catalog of bad inputs, one case per class: each exits 1 with a
//! message naming the file, line, revision or setting, and leaves the
//! database unchanged.

mod common;

use common::{Project, migration};

struct Case {
    name: &'static str,
    setup: fn(&Project),
    args: &'static [&'static str],
    /// Substrings the error must contain.
    says: &'static [&'static str],
}

fn base(p: &Project) {
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
}

const CASES: &[Case] = &[
    Case {
        name: "TOML error in braid.toml",
        setup: |p| {
            base(p);
            p.write(
                "braid.toml",
                "[database]\nurl = \"sqlite://x.db\"\nschema = \n",
            );
        },
        args: &["current"],
        says: &["braid.toml:3:", "invalid configuration"],
    },
    Case {
        name: "unknown setting",
        setup: |p| {
            base(p);
            p.write("braid.toml", "[database]\nusername = \"x\"\n");
        },
        args: &["current"],
        says: &["braid.toml:2:1", "unknown field `username`"],
    },
    Case {
        name: "missing --config file",
        setup: base,
        args: &["--config", "nope.toml", "heads"],
        says: &["cannot read", "nope.toml"],
    },
    Case {
        name: "bad URL scheme",
        setup: base,
        args: &["--url", "oracle://db/x", "current"],
        says: &["--url", "expected a URL starting with"],
    },
    Case {
        name: "malformed URL",
        setup: base,
        args: &["--url", "postgres://u:secret@[bad/x", "current"],
        says: &["--url"],
    },
    Case {
        name: "unreachable PostgreSQL",
        setup: base,
        args: &[
            "--url",
            "postgres://u:secret@127.0.0.1:1/x",
            "upgrade",
            "heads",
        ],
        says: &["cannot connect to postgres://u:***@127.0.0.1:1/x"],
    },
    Case {
        name: "unreachable MySQL",
        setup: base,
        args: &[
            "--url",
            "mysql://root:secret@127.0.0.1:1/x",
            "upgrade",
            "heads",
        ],
        says: &["cannot connect to mysql://root:***@127.0.0.1:1/x"],
    },
    Case {
        name: "wrong MySQL credentials",
        setup: base,
        args: &[
            "--url",
            "mysql://braid_no_such_user:secret@127.0.0.1:3306/test",
            "upgrade",
            "heads",
        ],
        says: &[
            "cannot connect to mysql://braid_no_such_user:***@127.0.0.1:3306/test",
            "Access denied",
        ],
    },
    Case {
        name: "unknown PostgreSQL database",
        setup: base,
        args: &[
            "--url",
            "postgres://postgres@127.0.0.1:5432/braid_no_such_db",
            "upgrade",
            "heads",
        ],
        says: &["cannot connect", "braid_no_such_db"],
    },
    Case {
        name: "bad DATABASE_PORT",
        setup: |p| {
            base(p);
            p.write(".env", "DATABASE_HOST=127.0.0.1\nDATABASE_PORT=eighty\n");
        },
        args: &["current"],
        says: &["DATABASE_PORT", "expected a port number, found `eighty`"],
    },
    Case {
        name: "missing migrations directory",
        setup: |p| {
            p.write("braid.toml", "[migrations]\ndirectories = [\"gone\"]\n")
                .to_owned()
                .parent()
                .map(|_| ())
                .unwrap_or(())
        },
        args: &["heads"],
        says: &["gone", "migrations directory not found"],
    },
    Case {
        name: "bad header",
        setup: |p| {
            p.write(
                "migrations/1.sql",
                "-- revision = \"r1\"\n-- down_revisions = r0\n-- braid:up\n",
            );
        },
        args: &["upgrade", "heads"],
        says: &["1.sql:2:21", "invalid header"],
    },
    Case {
        name: "graph error",
        setup: |p| {
            base(p);
            p.write(
                "migrations/2.sql",
                &migration("r2", &["gone"], "", "", None),
            );
        },
        args: &["upgrade", "heads"],
        says: &["2.sql", "names `gone` in down_revisions"],
    },
    Case {
        name: "bad target",
        setup: base,
        args: &["upgrade", "r9"],
        says: &["no revision `r9`"],
    },
    Case {
        name: "irreversible downgrade",
        setup: |p| {
            base(p);
            p.write(
                "migrations/2.sql",
                &migration("r2", &["r1"], "", "CREATE TABLE b (id integer);", None),
            );
            let r = p.run(&["upgrade", "heads"]);
            assert_eq!(r.code, 0, "{}", r.stderr);
        },
        args: &["downgrade", "base"],
        says: &["revision `r2` cannot be downgraded", "2.sql"],
    },
    Case {
        name: "unknown recorded revision",
        setup: |p| {
            base(p);
            let r = p.run(&["upgrade", "heads"]);
            assert_eq!(r.code, 0, "{}", r.stderr);
            std::fs::remove_file(p.path().join("migrations/1.sql")).unwrap();
            p.write("migrations/9.sql", &migration("r9", &[], "", "", None));
        },
        args: &["upgrade", "heads"],
        says: &["no migration file declares: r1", "stamp"],
    },
];

fn snapshot_of_db(p: &Project) -> String {
    let db = p.path().join("braid.db");
    if !db.exists() {
        return "no database".into();
    }
    let out = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("SELECT name FROM sqlite_master ORDER BY name; SELECT * FROM braid_version;")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_bad_input_exits_1_names_the_culprit_and_changes_nothing() {
    let mut failures = Vec::new();
    for case in CASES {
        let p = Project::new();
        (case.setup)(&p);
        let before = snapshot_of_db(&p);
        let r = p.run(case.args);
        let after = snapshot_of_db(&p);
        let mut problems = Vec::new();
        if r.code != 1 {
            problems.push(format!("exit {} (expected 1)", r.code));
        }
        for s in case.says {
            if !r.stderr.contains(s) {
                problems.push(format!("stderr lacks {s:?}"));
            }
        }
        if r.stderr.contains("secret") || r.stdout.contains("secret") {
            problems.push("a password was printed".into());
        }
        if before != after {
            problems.push(format!("the database changed:\n{before}\n->\n{after}"));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {}\n{}",
                case.name,
                problems.join("; "),
                r.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
