//! The library: migrations compiled in with `braid::embed!()` and run by
//! `braid::Migrator`, on SQLite and the machine's real PostgreSQL and
//! MariaDB. The example program (`examples/embedded.rs`, built by `cargo
//! test`) is run as a real application would be.

mod common;

use std::path::PathBuf;
use std::process::Command;

use braid::migrator::{Error, OnUnknown};
use braid::revision::Direction;
use braid::target::Target;
use common::Project;
use sqlx::Connection;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// target/debug/examples/embedded, beside this test's own binary.
fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let p = dir.join("examples").join("embedded");
    assert!(
        p.exists(),
        "{} is missing (cargo test builds examples)",
        p.display()
    );
    p
}

/// Runs an application binary on `url`; it must succeed. Its stdout.
fn start(app: &std::path::Path, url: &str) -> String {
    let out = Command::new(app).arg(url).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The CLI, in `p` (whose braid.toml names the same files), on the
/// database an application migrated: nothing pending, no checksum
/// complaint, the example history's head current.
fn cli_agrees(p: &Project, url: &str) {
    let check = p.run(&["--url", url, "check"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert!(
        check.stdout.contains("1 current head, 0 pending revisions")
            && !check.stdout.contains("changed"),
        "{}",
        check.stdout
    );
    assert_eq!(
        p.run(&["--url", url, "current"]).stdout,
        "5ac0e6d2f918 (auth, catalog, core) (head)\n"
    );
}

#[test]
fn the_embedded_application_and_the_cli_agree() {
    let p = Project::new();
    let url = format!("sqlite://{}/app.db?mode=rwc", p.path().display());
    assert_eq!(
        start(&example(), &url),
        "applied 7 revisions; at 5ac0e6d2f918\n"
    );
    // The CLI on the same database, with the same files: nothing pending,
    // no checksum complaint.
    p.write(
        "braid.toml",
        &format!(
            "[migrations]\ndirectories = [\"{}\"]\n",
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .display()
        ),
    );
    cli_agrees(&p, &url);
    // Started again: already at head.
    assert_eq!(
        start(&example(), &url),
        "applied 0 revisions; at 5ac0e6d2f918\n"
    );
}

#[test]
fn eight_replicas_starting_at_once_apply_each_revision_once() {
    let pid = std::process::id();
    let db = format!("braid_embed_{pid}");
    for (server, admin) in [
        ("postgres://postgres@127.0.0.1:5432", "postgres"),
        ("mysql://root@127.0.0.1:3306", "test"),
    ] {
        let create = |sql: String| {
            rt().block_on(async {
                if server.starts_with("postgres") {
                    let mut c = sqlx::PgConnection::connect(&format!("{server}/{admin}"))
                        .await
                        .unwrap();
                    sqlx::raw_sql(&sql).execute(&mut c).await.unwrap();
                } else {
                    let mut c = sqlx::MySqlConnection::connect(&format!("{server}/{admin}"))
                        .await
                        .unwrap();
                    sqlx::raw_sql(&sql).execute(&mut c).await.unwrap();
                }
            })
        };
        create(format!("DROP DATABASE IF EXISTS {db}"));
        create(format!("CREATE DATABASE {db}"));
        let url = format!("{server}/{db}");
        // All eight started first, then waited for.
        let procs: Vec<std::process::Child> = (0..8)
            .map(|_| {
                Command::new(example())
                    .arg(&url)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut applied = 0;
        for child in procs {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{server}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            applied += text
                .split_whitespace()
                .nth(1)
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap();
        }
        let done: i64 = rt().block_on(async {
            let sql = "SELECT count(*) FROM braid_version_history WHERE direction = 'up' AND status = 'done'";
            if server.starts_with("postgres") {
                let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
            } else {
                let mut c = sqlx::MySqlConnection::connect(&url).await.unwrap();
                sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
            }
        });
        // The first-run revisions of the example history, once each.
        assert_eq!((done, applied), (7, 7), "{server}");
        create(format!("DROP DATABASE IF EXISTS {db}"));
    }
}

#[test]
fn a_failing_revision_names_file_and_statement_and_frees_the_lock() {
    let pid = std::process::id();
    let schema = format!("braid_embed_fail_{pid}");
    let url = "postgres://postgres@127.0.0.1:5432/test";
    let m = braid::Migrator::new(braid::embed!("tests/embed-fixtures/failing"))
        .schema(schema.clone())
        .lock_timeout(std::time::Duration::from_secs(5));
    rt().block_on(async {
        let e = m.upgrade(url, "heads").await.unwrap_err();
        match &e {
            Error::Failed {
                revision,
                path,
                line,
                statement,
                source,
                rolled_back,
                ..
            } => {
                assert_eq!(revision, "f2");
                assert!(path.ends_with("tests/embed-fixtures/failing/f2.sql"), "{e}");
                assert_eq!(*line, 6);
                assert!(statement.contains("no_such_table"), "{e}");
                assert!(source.message.contains("no_such_table"), "{e}");
                assert_eq!(source.code.as_deref(), Some("42P01"));
                assert!(*rolled_back);
            }
            other => panic!("{other}"),
        }
        // A sentence a person can act on: the revision, the direction,
        // file:line, the statement, the database's message and code.
        let shown = e.to_string();
        assert!(
            shown.starts_with("revision `f2` failed (up) at ")
                && shown.contains("tests/embed-fixtures/failing/f2.sql:6 running `INSERT INTO no_such_table VALUES (1)`: ")
                && shown.ends_with("relation \"no_such_table\" does not exist (code 42P01)"),
            "{shown}"
        );
        assert!(e.hint().unwrap().contains("nothing of the revision stayed"));
        // source(): braid's database error, then sqlx's own.
        use std::error::Error as _;
        let db = e.source().expect("the database error");
        assert!(db.to_string().contains("no_such_table"));
        let driver = db.source().expect("sqlx's error");
        let sqlx_error = driver
            .downcast_ref::<sqlx::Error>()
            .expect("a sqlx::Error");
        assert!(sqlx_error.as_database_error().is_some());
        // The lock is free: the next run starts at once and fails the
        // same way, after f1 (applied before the failure) stays applied.
        let started = std::time::Instant::now();
        let again = m.upgrade(url, "heads").await.unwrap_err();
        assert!(matches!(again, Error::Failed { .. }), "{again}");
        assert!(started.elapsed() < std::time::Duration::from_secs(4));
        assert_eq!(m.current(url).await.unwrap(), ["f1"]);
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::raw_sql(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .execute(&mut c)
            .await
            .unwrap();
    });
}

#[test]
fn a_library_and_an_application_compose_into_one_graph() {
    let p = Project::new();
    let url = format!("sqlite://{}/app.db?mode=rwc", p.path().display());
    let library = braid::embed!("tests/embed-fixtures/lib");
    // The application's set names the library's label: `partial`.
    let app = braid::embed!("tests/embed-fixtures/app", partial);
    let m = braid::Migrator::new(app.clone().merge(library));
    rt().block_on(async {
        // Alone, the application's migrations depend on a missing label.
        assert!(matches!(
            braid::Migrator::new(app).upgrade(&url, "heads").await,
            Err(Error::Invalid(_))
        ));
        let plan = m.plan(&url, Direction::Up, "app@head").await.unwrap();
        assert_eq!(
            plan,
            [
                ("lib1".to_owned(), Direction::Up),
                ("app1".to_owned(), Direction::Up)
            ]
        );
        let r = m.upgrade(&url, "heads").await.unwrap();
        assert_eq!(r.heads, ["app1"]);
        let check = m.check(&url).await.unwrap();
        assert!(check.pending.is_empty() && check.changed.is_empty());
        // A newer release recorded a revision this binary does not know.
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::raw_sql("UPDATE braid_version SET version_num = 'from_the_future'")
            .execute(&mut c)
            .await
            .unwrap();
        assert!(matches!(
            m.upgrade(&url, "heads").await,
            Err(Error::UnknownRevisions { .. })
        ));
        let skipping = m.clone().on_unknown(OnUnknown::Skip);
        let r = skipping.upgrade(&url, "heads").await.unwrap();
        assert!(r.steps.is_empty());
        assert_eq!(r.unknown, ["from_the_future"]);
        assert_eq!(m.current(&url).await.unwrap(), ["from_the_future"]);
    });
}

#[test]
fn init_writes_the_build_script_an_embedding_crate_needs() {
    let p = Project::new();
    let r = p.run(&["init", "--build-script"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let build = std::fs::read_to_string(p.path().join("build.rs")).unwrap();
    assert!(
        build.contains("println!(\"cargo:rerun-if-changed=migrations\");"),
        "{build}"
    );
    // In a project that already has braid.toml: build.rs alone, for the
    // directories it lists; an existing build.rs is never overwritten.
    let existing = Project::new();
    existing.write(
        "braid.toml",
        "[migrations]\ndirectories = [\"db/migrations\", \"db/seeds/\"]\n",
    );
    let r = existing.run(&["init", "--build-script"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let build = std::fs::read_to_string(existing.path().join("build.rs")).unwrap();
    assert!(
        build.contains("rerun-if-changed=db/migrations\");")
            && build.contains("rerun-if-changed=db/seeds\");"),
        "{build}"
    );
    let toml = std::fs::read_to_string(existing.path().join("braid.toml")).unwrap();
    assert!(
        toml.starts_with("[migrations]"),
        "braid.toml untouched: {toml}"
    );
    existing.write("build.rs", "fn main() {}\n");
    let r = existing.run(&["init", "--build-script"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("build.rs already exists"), "{}", r.stderr);
    assert!(
        r.stderr.contains("rerun-if-changed=db/migrations"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(existing.path().join("build.rs")).unwrap(),
        "fn main() {}\n"
    );
}

#[test]
fn a_pool_a_connection_and_typed_targets_migrate_too() {
    let p = Project::new();
    let url = format!("sqlite://{}/pool.db?mode=rwc", p.path().display());
    rt().block_on(async {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let m = braid::Migrator::new(braid::embed!("tests/embed-fixtures/lib"));
        // A bad target is refused before anything runs.
        let e = m.upgrade(&pool, "lib@@head").await.unwrap_err();
        assert!(matches!(e, Error::BadTarget(_)), "{e}");
        assert!(m.current(&pool).await.unwrap().is_empty());
        // The application's pool: one connection is taken for the run.
        let r = m.upgrade(&pool, Target::heads()).await.unwrap();
        assert_eq!(r.heads, ["lib1"]);
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(rows, 0);
        assert_eq!(m.current(&url).await.unwrap(), ["lib1"]);
        // A connection the application opened, and a parsed target.
        let conn = pool.acquire().await.unwrap().detach();
        let r = m
            .downgrade(conn, Target::parse("base").unwrap())
            .await
            .unwrap();
        assert_eq!(r.steps, [("lib1".to_owned(), Direction::Down)]);
        let left: i64 =
            sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE name = 'audit_log'")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(left, 0);
    });
}

/// Makes `app` an application crate outside the workspace: braid by path
/// with `features` (and `dev_features` for its tests only), tokio, and a
/// braid.toml naming `migrations/`.
fn application(app: &Project, name: &str, features: &str, dev_features: Option<&str>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let braid = |features: &str| {
        format!(
            "braid = {{ path = \"{}\", default-features = false, features = [{features}] }}\n",
            root.display()
        )
    };
    let dev = dev_features
        .map(|f| format!("\n[dev-dependencies]\n{}", braid(f)))
        .unwrap_or_default();
    app.write(
        "Cargo.toml",
        &format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [dependencies]\n{}tokio = {{ version = \"1\", features = [\"rt\", \"macros\"] }}\n{dev}\n\
             # Not a member of braid's workspace.\n[workspace]\n",
            braid(features)
        ),
    );
    app.write(
        "braid.toml",
        "[migrations]\ndirectories = [\"migrations\"]\n",
    );
}

/// The target directory the application crates share, kept between runs
/// (their engines' features differ from the workspace's, so nothing could
/// be shared with it).
fn app_target() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("embed-app")
}

/// Cargo in an application crate, building into [`app_target`].
fn cargo(app: &Project, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO"));
    c.args(args)
        .current_dir(app.path())
        .env("CARGO_TARGET_DIR", app_target());
    c
}

#[test]
fn an_application_outside_the_workspace_with_one_engine_agrees_with_the_cli() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let app = Project::new();
    // The example history, one file with CRLF line endings: the checksum
    // the application compiles in must be the one the CLI computes.
    std::fs::create_dir(app.path().join("migrations")).unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for (i, path) in files.iter().enumerate() {
        let text = std::fs::read_to_string(path).unwrap();
        let text = if i == 1 {
            text.replace('\n', "\r\n")
        } else {
            text
        };
        std::fs::write(
            app.path()
                .join("migrations")
                .join(path.file_name().unwrap()),
            text,
        )
        .unwrap();
    }
    application(&app, "braid_app", r#""embed", "sqlite""#, None);
    app.write(
        "src/main.rs",
        r#"#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = std::env::args().nth(1).expect("a database URL");
    let m = braid::Migrator::new(braid::embed!());
    match m.upgrade(url.as_str(), braid::target::Target::heads()).await {
        Ok(r) => println!("applied {}; at {}", r.steps.len(), r.heads.join(", ")),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
"#,
    );
    std::fs::copy(root.join("Cargo.lock"), app.path().join("Cargo.lock")).unwrap();
    let build = cargo(&app, &["build", "--quiet"]).output().unwrap();
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    // Only the one engine was compiled: no PostgreSQL or MySQL driver, no
    // command-line crates, none of what lint, schema work and parallel
    // file reading need.
    let lock = std::fs::read_to_string(app.path().join("Cargo.lock")).unwrap();
    for absent in [
        "sqlx-postgres",
        "sqlx-mysql",
        "clap",
        "indicatif",
        "sqlparser",
        "rayon",
        "walkdir",
        "tempfile",
        "futures",
    ] {
        assert!(
            !lock.contains(&format!("name = \"{absent}\"")),
            "{absent} was compiled in"
        );
    }
    assert!(lock.contains("name = \"sqlx-sqlite\""));

    let bin = app_target().join("debug").join("braid_app");
    let url = format!("sqlite://{}/app.db?mode=rwc", app.path().display());
    assert_eq!(start(&bin, &url), "applied 7; at 5ac0e6d2f918\n");
    cli_agrees(&app, &url);
    // The CLI takes one revision back; the application, started again,
    // re-applies exactly that one.
    let down = app.run(&["--url", &url, "downgrade", "-1"]);
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_eq!(start(&bin, &url), "applied 1; at 5ac0e6d2f918\n");
    // A URL for an engine it was built without: a clear error, exit 1.
    let pg = Command::new(&bin)
        .arg("postgres://postgres@127.0.0.1:5432/postgres")
        .output()
        .unwrap();
    assert_eq!(pg.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&pg.stderr)
            .contains("without PostgreSQL support: enable its `postgres` feature"),
        "{}",
        String::from_utf8_lossy(&pg.stderr)
    );
}

/// A tracing subscriber that keeps every event as `LEVEL message field=value…`.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl tracing::Subscriber for Captured {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Line(String);
        impl tracing::field::Visit for Line {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0.push_str(&format!(" {value:?}"));
                } else {
                    self.0.push_str(&format!(" {}={value:?}", field.name()));
                }
            }
        }
        let meta = event.metadata();
        if meta.target() != "braid" {
            return;
        }
        let mut line = Line(meta.level().to_string());
        event.record(&mut line);
        self.0.lock().unwrap().push(line.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// The library reports through `tracing` (target `braid`): a warning for
/// an empty up section, and each step, with no observer written.
#[test]
fn warnings_and_steps_are_tracing_events() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/traced.db?mode=rwc", dir.path().display());
    let captured = Captured::default();
    let m = braid::Migrator::new(braid::embed!("tests/embed-fixtures/warned"));
    tracing::subscriber::with_default(captured.clone(), || {
        rt().block_on(async { m.upgrade(url.as_str(), "heads").await.unwrap() });
    });
    let lines = captured.0.lock().unwrap().clone();
    assert!(
        lines.iter().any(|l| l.starts_with("WARN")
            && l.contains("has an empty up section")
            && l.contains("revision=w1")),
        "{lines:#?}"
    );
    let done: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("INFO") && l.contains(" done"))
        .collect();
    assert_eq!(done.len(), 2, "{lines:#?}");
    assert!(
        done[1].contains("revision=w2") && done[1].contains("elapsed_ms="),
        "{lines:#?}"
    );
}

/// SPEC's library II: an application crate outside the workspace tests its
/// own migrations with `braid::testing` on SQLite and on the PostgreSQL
/// server: a fresh migrated database per test, `verify` and `diff` in one
/// call each. `DATABASE_URL` pointing at another engine changes nothing:
/// the helpers take their server explicitly.
#[test]
fn an_application_tests_its_migrations_with_the_testing_helpers() {
    let app = Project::new();
    app.write(
        "migrations/m1.sql",
        "-- revision = \"m1\"\n-- down_revisions = []\n-- braid:up\nCREATE TABLE users (id integer PRIMARY KEY, email varchar(200) NOT NULL);\n-- braid:down\nDROP TABLE users;\n",
    );
    app.write(
        "migrations/m2.sql",
        "-- revision = \"m2\"\n-- down_revisions = [\"m1\"]\n-- braid:up\nCREATE INDEX ix_users_email ON users (email);\n-- braid:down\nDROP INDEX ix_users_email;\n",
    );
    app.write(
        "schema/schema.sql",
        "CREATE TABLE users (id integer PRIMARY KEY, email varchar(200) NOT NULL);\nCREATE INDEX ix_users_email ON users (email);\n",
    );
    app.write(
        "schema-next/schema.sql",
        "CREATE TABLE users (id integer PRIMARY KEY, email varchar(200) NOT NULL, name text);\n",
    );
    // The helpers only in the tests' build: the application itself stays
    // lean.
    application(
        &app,
        "braid_app_tested",
        r#""embed", "sqlite", "postgres""#,
        Some(r#""testing""#),
    );
    app.write(
        "src/lib.rs",
        "pub fn migrator() -> braid::Migrator {\n    braid::Migrator::new(braid::embed!())\n}\n",
    );
    app.write(
        "tests/migrations.rs",
        r#"use braid::testing;

async fn each_way(server: &str) {
    let m = braid_app_tested::migrator();
    testing::with_migrated(&m, server, async |url| {
        assert!(url != server, "a database of its own");
    })
    .await
    .unwrap();
    testing::verify(&m, server).await.unwrap().assert_ok();
    testing::diff(&m, server, &["schema".into()]).await.unwrap().assert_ok();
    // The next model of the schema: the migrations do not reach it yet.
    let next = testing::diff(&m, server, &["schema-next".into()]).await.unwrap();
    assert!(next.up.to_sql().contains("name"), "{}", next.up.to_sql());
    let missed = std::panic::catch_unwind(|| next.assert_ok());
    assert!(missed.is_err(), "assert_ok must fail when the migrations fall short");
}

#[tokio::test(flavor = "current_thread")]
async fn on_sqlite() {
    each_way("sqlite::memory:").await;
}

#[tokio::test(flavor = "current_thread")]
async fn on_postgres() {
    each_way("postgres://postgres@127.0.0.1:5432/postgres").await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_test_database_holds_the_migrated_schema() {
    let m = braid_app_tested::migrator();
    testing::with_migrated(&m, "sqlite::memory:", async |url| {
        let pool = braid::sqlx::SqlitePool::connect(url).await.unwrap();
        braid::sqlx::query("INSERT INTO users (id, email) VALUES (1, 'a@example.com')")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    })
    .await
    .unwrap();
}
"#,
    );
    let run = cargo(&app, &["test", "--quiet"])
        // Another engine in the environment: the helpers ignore it.
        .env("DATABASE_URL", "mysql://root@127.0.0.1:3306/test")
        .output()
        .unwrap();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.status.success(), "{out}");
    assert!(out.contains("3 passed"), "{out}");
}

/// `embed!()` parses at compile time with the CLI's own parser; the
/// application builds its migrations from those constants. They must be
/// exactly what the CLI parses from the same files (header, sections,
/// checksum), or the two would disagree on one database.
#[test]
fn compile_time_parsing_gives_what_the_cli_parses() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let sets = [
        (
            braid::embed!("migrations", "migrations-postgres"),
            vec!["migrations", "migrations-postgres"],
        ),
        (
            braid::embed!("tests/embed-fixtures/warned"),
            vec!["tests/embed-fixtures/warned"],
        ),
    ];
    for (embedded, dirs) in sets {
        // Every file is built from its constants, none parsed again.
        for f in embedded.files() {
            let parsed = f.parsed.expect("parsed at compile time");
            let m = braid::migration::Migration::from_parsed(
                std::path::Path::new(f.path),
                f.source,
                &parsed,
            );
            assert!(m.is_some(), "{} fell back to parsing", f.path);
        }
        let compiled = embedded.history().unwrap();
        let dirs: Vec<PathBuf> = dirs.iter().map(|d| root.join(d)).collect();
        let parsed = braid::history::History::load(&dirs).unwrap();
        assert_eq!(compiled.graph.len(), parsed.graph.len());
        for n in compiled.graph.sorted_nodes() {
            let mut a = compiled.migration(*n).clone();
            let b = parsed.migration(parsed.graph.node(a.id.as_str()).unwrap());
            a.path = b.path.clone();
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{}", a.id);
        }
    }
}
