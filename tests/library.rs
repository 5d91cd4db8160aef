//! The library without the CLI: an application diffs two `.sql` sources
//! and verifies its history in its own tests, with scratch databases the
//! library makes and drops (SQLite in memory; PostgreSQL on the machine's
//! server).

mod common;

use common::{Project, migration};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

const OLD: &str = "CREATE TABLE users (id integer PRIMARY KEY, email varchar(100));\n";
const NEW: &str = "CREATE TABLE users (id integer PRIMARY KEY, email varchar(100), name varchar(50));\n\
                   CREATE INDEX users_email ON users (email);\n";

#[test]
fn two_sql_sources_are_diffed_and_proven_without_the_cli() {
    for url in [
        "sqlite::memory:".to_owned(),
        std::env::var("BRAID_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into()),
    ] {
        let p = Project::new();
        p.write("old.sql", OLD);
        p.write("new.sql", NEW);
        let settings = common::settings(&url, None);
        let (old, new) = (
            vec![p.path().join("old.sql")],
            vec![p.path().join("new.sql")],
        );
        let proven = rt()
            .block_on(braid::schema::source::diff_files(&settings, &old, &new))
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        let up = proven.up.to_sql();
        assert!(
            up.contains("ADD COLUMN") && up.contains("name"),
            "{url}: {up}"
        );
        assert!(
            up.contains("CREATE INDEX") && up.contains("users_email"),
            "{url}: {up}"
        );
        let down = proven.down.to_sql();
        assert!(
            down.contains("DROP COLUMN") && down.contains("DROP INDEX"),
            "{url}: {down}"
        );
        // The same schema both sides: nothing to do.
        let same = rt()
            .block_on(braid::schema::source::diff_files(&settings, &old, &old))
            .unwrap();
        assert!(same.up.is_empty() && same.down.is_empty(), "{url}");
        // A file that does not build is named with its line.
        p.write(
            "bad.sql",
            "CREATE TABLE t (id integer);\nCREATE TABLE broken (;\n",
        );
        let e = rt()
            .block_on(braid::schema::source::diff_files(
                &settings,
                &old,
                &[p.path().join("bad.sql")],
            ))
            .unwrap_err();
        assert!(e.to_string().contains("bad.sql:2"), "{url}: {e}");
    }
}

#[test]
fn a_history_is_verified_without_the_cli() {
    let p = Project::new();
    p.write(
        "migrations/1.sql",
        &migration("r1", &[], "", OLD, Some("DROP TABLE users;")),
    );
    // Its down leaves the index behind.
    p.write(
        "migrations/2.sql",
        &migration(
            "r2",
            &["r1"],
            "",
            "CREATE INDEX users_email ON users (email);",
            Some("SELECT 1;"),
        ),
    );
    let settings = common::settings("sqlite::memory:", None);
    let history = braid::history::History::load(&[p.path().join("migrations")]).unwrap();
    let reports = rt().block_on(async {
        let mut scratch = braid::schema::scratch::Scratch::create(&settings)
            .await
            .unwrap();
        let filter = braid::schema::Filter::for_settings(&settings);
        let all = vec![true; history.graph.len()];
        let reports =
            braid::verify::stairway(&mut scratch.db, &history, &all, &filter, &mut |_| {})
                .await
                .unwrap();
        scratch.drop().await.unwrap();
        reports
    });
    let statuses: Vec<(&str, braid::verify::Status)> = reports
        .iter()
        .map(|r| (r.revision.as_str(), r.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("r1", braid::verify::Status::Ok),
            ("r2", braid::verify::Status::NotRestored)
        ]
    );
    assert_eq!(
        reports[1].differences[0].text,
        "index users_email on users left behind"
    );
}

/// An application verifies its embedded migrations in its own test.
#[test]
fn an_application_verifies_its_embedded_migrations() {
    use braid::embed::{Embedded, File};
    use braid::verify::Status;
    let files = [
        File {
            path: "migrations/1.sql",
            source: "-- revision = \"r1\"\n-- down_revisions = []\n-- braid:up\nCREATE TABLE users (id integer PRIMARY KEY);\n-- braid:down\nDROP TABLE users;\n",
            // Written by hand: parsed when the migrator starts.
            parsed: None,
        },
        File {
            path: "migrations/2.sql",
            source: "-- revision = \"r2\"\n-- down_revisions = [\"r1\"]\n-- braid:up\nCREATE INDEX users_id ON users (id);\n-- braid:down\nSELECT 1;\n",
            parsed: None,
        },
    ];
    for url in [
        "sqlite::memory:".to_owned(),
        std::env::var("BRAID_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into()),
    ] {
        let reports = rt()
            .block_on(braid::Migrator::new(Embedded::new(&files)).verify(&url))
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        let statuses: Vec<Status> = reports.iter().map(|r| r.status).collect();
        assert_eq!(statuses, [Status::Ok, Status::NotRestored], "{url}");
        assert_eq!(
            reports[1].differences[0].text, "index users_id on users left behind",
            "{url}"
        );
    }
}
