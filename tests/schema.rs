//! Schema snapshots, the stairway (`braid verify`) and drift (`check
//! --drift`) through the built binary, on SQLite and on the machine's real
//! PostgreSQL and MariaDB (nothing skipped: an unreachable server fails).
//!
//! The tests here share one lock: each one checks that no scratch
//! database is left on the servers, which another test's run in flight
//! would make false.

mod common;

use std::sync::Mutex;

use common::{Project, migration};
use sqlx::Connection;

static SERIAL: Mutex<()> = Mutex::new(());

#[derive(Debug, Clone, Copy, PartialEq)]
enum Engine {
    Sqlite,
    Postgres,
    Mysql,
}

const PG: &str = "postgres://postgres@127.0.0.1:5432/test";
const MY: &str = "mysql://root@127.0.0.1:3306";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn unique(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    )
}

/// A project on one engine, with its own PostgreSQL schema or MySQL
/// database, removed at the end.
struct Db {
    engine: Engine,
    name: String,
    project: Project,
}

impl Db {
    fn new(engine: Engine) -> Db {
        let project = Project::new();
        let name = unique("braid_s");
        let toml = match engine {
            Engine::Sqlite => "[database]\nurl = \"sqlite://braid.db\"\n".to_owned(),
            Engine::Postgres => format!("[database]\nurl = \"{PG}\"\nschema = \"{name}\"\n"),
            Engine::Mysql => {
                rt().block_on(async {
                    let mut c = sqlx::MySqlConnection::connect(&format!("{MY}/test"))
                        .await
                        .expect("MariaDB on 127.0.0.1:3306 (make test starts it)");
                    sqlx::raw_sql(&format!("CREATE DATABASE `{name}`"))
                        .execute(&mut c)
                        .await
                        .unwrap();
                });
                format!("[database]\nurl = \"{MY}/{name}\"\n")
            }
        };
        project.write("braid.toml", &toml);
        std::fs::create_dir_all(project.path().join("migrations")).unwrap();
        Db {
            engine,
            name,
            project,
        }
    }

    fn run(&self, args: &[&str]) -> common::Run {
        self.project.run(args)
    }

    fn ok(&self, args: &[&str]) -> common::Run {
        let r = self.run(args);
        assert_eq!(
            r.code, 0,
            "{args:?} on {:?}:\n{}{}",
            self.engine, r.stdout, r.stderr
        );
        r
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let name = self.name.clone();
        match self.engine {
            Engine::Sqlite => {}
            Engine::Postgres => rt().block_on(async {
                if let Ok(mut c) = sqlx::PgConnection::connect(PG).await {
                    let _ = sqlx::raw_sql(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                        .execute(&mut c)
                        .await;
                }
            }),
            Engine::Mysql => rt().block_on(async {
                if let Ok(mut c) = sqlx::MySqlConnection::connect(&format!("{MY}/test")).await {
                    let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS `{name}`"))
                        .execute(&mut c)
                        .await;
                }
            }),
        }
    }
}

/// The scratch databases on both servers.
fn scratch_left() -> Vec<String> {
    rt().block_on(async {
        let mut pg = sqlx::PgConnection::connect(PG).await.unwrap();
        let mut names: Vec<String> = sqlx::query_scalar(
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'braid\\_scratch\\_%'",
        )
        .fetch_all(&mut pg)
        .await
        .unwrap();
        let mut my = sqlx::MySqlConnection::connect(&format!("{MY}/test"))
            .await
            .unwrap();
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

const SQLITE_CORPUS: &str = "
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL COLLATE NOCASE,
    name TEXT DEFAULT 'anon',
    age INTEGER CHECK (age >= 0),
    CONSTRAINT uq_users_email UNIQUE (email)
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    total REAL NOT NULL DEFAULT 0,
    doubled REAL GENERATED ALWAYS AS (total * 2) VIRTUAL,
    note TEXT,
    CONSTRAINT ck_total CHECK (total >= 0)
);
CREATE UNIQUE INDEX ix_orders_note ON orders (note) WHERE note IS NOT NULL;
CREATE INDEX ix_orders_lower ON orders (lower(note));
CREATE TABLE pairs (a INTEGER, b INTEGER, PRIMARY KEY (a, b), UNIQUE (b, a));
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
";

const PG_CORPUS: &str = "
CREATE TYPE mood AS ENUM ('happy', 'sad', 'it''s complicated');
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE SEQUENCE invoice_numbers START WITH 1000 INCREMENT BY 5;
CREATE TABLE users (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    email varchar(255) NOT NULL UNIQUE,
    name text COLLATE \"C\",
    mood mood NOT NULL DEFAULT 'happy',
    age positive_int,
    created_at timestamptz NOT NULL DEFAULT now(),
    tags text[] DEFAULT '{}',
    CONSTRAINT users_age_check CHECK (age < 200)
);
CREATE TABLE orders (
    id serial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    total numeric(10,2) NOT NULL DEFAULT 0,
    doubled numeric GENERATED ALWAYS AS (total * 2) STORED,
    note text,
    invoice integer DEFAULT nextval('invoice_numbers'),
    CONSTRAINT ck_total CHECK (total >= 0)
);
CREATE UNIQUE INDEX ix_orders_note ON orders (note) WHERE note IS NOT NULL;
CREATE INDEX ix_orders_lower ON orders (lower(note), id DESC);
CREATE INDEX ix_users_tags ON users USING gin (tags);
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
COMMENT ON TABLE users IS 'people';
COMMENT ON COLUMN users.email IS 'login';
COMMENT ON VIEW big_orders IS 'over 100';
";

const MYSQL_CORPUS: &str = "
CREATE TABLE users (
    id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email varchar(255) NOT NULL,
    name varchar(100) COLLATE utf8mb4_bin DEFAULT 'anon' COMMENT 'shown name',
    age int CHECK (age >= 0),
    created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    UNIQUE KEY uq_users_email (email)
) COMMENT 'people';
CREATE TABLE orders (
    id int NOT NULL PRIMARY KEY,
    user_id int NOT NULL,
    total decimal(10,2) NOT NULL DEFAULT 0,
    doubled decimal(12,2) AS (total * 2) STORED,
    note varchar(200),
    CONSTRAINT fk_orders_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT ck_total CHECK (total >= 0),
    KEY ix_orders_note (note(50))
);
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
";

/// Applies `corpus`, reads the schema, applies its SQL form to an empty
/// database of the same engine and reads it again: equal.
fn round_trip(engine: Engine, corpus: &str, expect: &[&str]) {
    let a = Db::new(engine);
    a.project
        .write("migrations/r1.sql", &migration("r1", &[], "", corpus, None));
    a.ok(&["upgrade", "heads"]);
    let json = a.ok(&["schema", "--format", "json"]).stdout;
    for e in expect {
        assert!(json.contains(e), "{engine:?}: {e} missing from\n{json}");
    }
    let sql = a.ok(&["schema"]).stdout;
    let b = Db::new(engine);
    b.project
        .write("migrations/r1.sql", &migration("r1", &[], "", &sql, None));
    b.ok(&["upgrade", "heads"]);
    let again = b.ok(&["schema", "--format", "json"]).stdout;
    assert_eq!(
        json, again,
        "{engine:?}: the SQL form did not give the snapshot back:\n{sql}"
    );
    assert_eq!(sql, b.ok(&["schema"]).stdout);
}

#[test]
fn snapshots_round_trip_through_their_sql_on_every_engine() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    round_trip(
        Engine::Sqlite,
        SQLITE_CORPUS,
        &[
            "\"identity\": \"autoincrement\"",
            "\"collation\": \"NOCASE\"",
            "\"generated\": \"total * 2 VIRTUAL\"",
            "CHECK (total >= 0)",
            "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE",
            "\"predicate\": \"note IS NOT NULL\"",
            "lower(note)",
            "\"name\": \"uq_users_email\"",
            "big_orders",
        ],
    );
    round_trip(
        Engine::Postgres,
        PG_CORPUS,
        &[
            "\"it's complicated\"",
            "positive_int",
            "invoice_numbers",
            "\"identity\": \"by default\"",
            "\"collation\": \"C\"",
            "\"generated\": \"total * 2::numeric\"",
            "ON DELETE CASCADE",
            "\"method\": \"gin\"",
            "\"predicate\": \"note IS NOT NULL\"",
            "lower(note), id DESC",
            "\"comment\": \"people\"",
            "\"comment\": \"over 100\"",
            "\"owned_by\": \"orders.id\"",
        ],
    );
    round_trip(
        Engine::Mysql,
        MYSQL_CORPUS,
        &[
            "\"identity\": \"autoincrement\"",
            "\"collation\": \"utf8mb4_bin\"",
            "\"comment\": \"shown name\"",
            "\"comment\": \"people\"",
            "ON UPDATE CURRENT_TIMESTAMP",
            "\"name\": \"fk_orders_user\"",
            "\"name\": \"ck_total\"",
            "note(50)",
            "big_orders",
        ],
    );
    assert_eq!(scratch_left(), Vec::<String>::new());
}

/// Writes the planted-defect history: a clean table, a down that leaves
/// an index, a view never dropped, a revision without a down section, and
/// (engine-specific) a default put back wrongly or an enum value left.
fn planted(db: &Db) {
    let w = |rev: &str, parents: &[&str], up: &str, down: Option<&str>| {
        db.project.write(
            &format!("migrations/{rev}.sql"),
            &migration(rev, parents, "", up, down),
        )
    };
    w(
        "r1",
        &[],
        "CREATE TABLE t (id integer PRIMARY KEY, status varchar(20) DEFAULT 'new');",
        Some("DROP TABLE t;"),
    );
    w(
        "r2",
        &["r1"],
        "CREATE INDEX ix_t_status ON t (status);",
        Some("SELECT 1;"),
    );
    w(
        "r3",
        &["r2"],
        "CREATE VIEW v_t AS SELECT id FROM t;",
        Some("SELECT 1;"),
    );
    w("r4", &["r3"], "CREATE TABLE u (id integer);", None);
    match db.engine {
        Engine::Postgres => {
            w(
                "r5",
                &["r4"],
                "CREATE TYPE mood AS ENUM ('happy', 'sad');",
                Some("DROP TYPE mood;"),
            );
            w(
                "r6",
                &["r5"],
                "ALTER TYPE mood ADD VALUE 'archived';\nALTER TABLE t ALTER COLUMN status SET DEFAULT 'open';",
                Some("ALTER TABLE t ALTER COLUMN status SET DEFAULT 'closed';"),
            );
        }
        _ => {
            w(
                "r5",
                &["r4"],
                "CREATE TABLE w (id integer);",
                Some("DROP TABLE w;"),
            );
        }
    }
}

#[test]
fn verify_reports_planted_defects_exactly() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let db = Db::new(engine);
        planted(&db);
        let r = db.run(&["verify"]);
        assert_eq!(r.code, 1, "{engine:?}: {}", r.stderr);
        let e = &r.stderr;
        assert!(e.contains("r1 ok\n"), "{engine:?}: {e}");
        assert!(e.contains("r2 NOT RESTORED"), "{e}");
        assert!(
            e.contains("after down: index ix_t_status on t left behind"),
            "{e}"
        );
        assert!(e.contains("r3 NOT RESTORED"), "{e}");
        assert!(e.contains("after down: view v_t left behind"), "{e}");
        assert!(e.contains("r4 irreversible"), "{e}");
        if engine == Engine::Postgres {
            assert!(e.contains("r5 ok\n"), "{e}");
            assert!(e.contains("r6 NOT RESTORED"), "{e}");
            assert!(
                e.contains("after down: enum mood: value 'archived' not removed"),
                "{e}"
            );
            assert!(
                e.contains("after down: column t.status changed: default 'new'::character varying → 'closed'::character varying"),
                "{e}"
            );
            assert!(e.contains("verify failed: 3 revisions (r2, r3, r6)"), "{e}");
        } else {
            assert!(e.contains("r5 ok\n"), "{e}");
            assert!(e.contains("verify failed: 2 revisions (r2, r3)"), "{e}");
        }
        // Exactly these: no other revision, no other object.
        assert_eq!(
            e.matches("after down:").count(),
            if engine == Engine::Postgres { 4 } else { 2 },
            "{e}"
        );
        // JSON as SPEC §8 says.
        let j = db.run(&["verify", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&j.stdout).unwrap();
        let statuses: Vec<(&str, &str)> = v["revisions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["revision"].as_str().unwrap(),
                    r["status"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(statuses[1], ("r2", "not_restored"));
        assert_eq!(statuses[3], ("r4", "irreversible"));
        assert_eq!(
            v["revisions"][1]["differences"][0]["object"],
            "index ix_t_status on t"
        );
        // The real database was never touched.
        assert!(!db.project.path().join("braid.db").exists());
        assert_eq!(db.ok(&["current"]).stdout, "");
    }
    assert_eq!(scratch_left(), Vec::<String>::new());
}

/// SPEC §8: what braid reads it compares. A MariaDB sequence a downgrade
/// leaves behind is named (snapshots once skipped sequences silently).
#[test]
fn verify_names_a_mariadb_sequence_left_behind() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let db = Db::new(Engine::Mysql);
    let w = |rev: &str, parents: &[&str], up: &str, down: &str| {
        db.project.write(
            &format!("migrations/{rev}.sql"),
            &migration(rev, parents, "", up, Some(down)),
        )
    };
    w(
        "r1",
        &[],
        "CREATE TABLE t (id integer PRIMARY KEY);",
        "DROP TABLE t;",
    );
    w(
        "r2",
        &["r1"],
        "CREATE SEQUENCE s START WITH 10;",
        "SELECT 1;",
    );
    w("r3", &["r2"], "CREATE SEQUENCE q;", "DROP SEQUENCE q;");
    let r = db.run(&["verify"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let e = &r.stderr;
    assert!(e.contains("r1 ok\n"), "{e}");
    // Named after the down; the second up then fails on it (CREATE
    // SEQUENCE s again), and verify stops there.
    assert!(e.contains("r2 FAILED"), "{e}");
    assert!(e.contains("after down: sequence s left behind"), "{e}");
    assert_eq!(e.matches("after down:").count(), 1, "{e}");
    assert!(e.contains("2 revisions checked"), "{e}");
    assert_eq!(scratch_left(), Vec::<String>::new());
}

#[test]
fn the_example_history_verifies_clean_on_sqlite_and_postgres() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let db = Db::new(engine);
        let mut toml = std::fs::read_to_string(db.project.path().join("braid.toml")).unwrap();
        toml.push_str(&format!(
            "[migrations]\ndirectories = [\"{}\"]\n[migrations.engine_directories]\npostgres = [\"{}\"]\n",
            root.join("migrations").display(),
            root.join("migrations-postgres").display()
        ));
        db.project.write("braid.toml", &toml);
        let r = db.ok(&["verify"]);
        let checked = if engine == Engine::Postgres { 11 } else { 7 };
        assert!(
            r.stderr.contains(&format!(
                "{checked} revisions checked: 0 not restored, 0 failed, 0 irreversible"
            )),
            "{engine:?}: {}",
            r.stderr
        );
        assert!(!r.stderr.contains("note:"), "{}", r.stderr);
    }
}

#[test]
fn drift_names_hand_made_changes_and_nothing_else() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for engine in [Engine::Sqlite, Engine::Postgres, Engine::Mysql] {
        let db = Db::new(engine);
        db.project.write(
            "migrations/r1.sql",
            &migration(
                "r1",
                &[],
                "",
                "CREATE TABLE users (id integer PRIMARY KEY, email varchar(100));\nCREATE INDEX ix_users_email ON users (email);",
                Some("DROP TABLE users;"),
            ),
        );
        db.ok(&["upgrade", "heads"]);
        let clean = db.ok(&["check", "--drift"]);
        assert!(
            !clean.stderr.contains("drift"),
            "{engine:?}: {}",
            clean.stderr
        );
        // Changed by hand, outside the migrations.
        let by_hand = match engine {
            Engine::Mysql => {
                "ALTER TABLE users ADD COLUMN nickname varchar(20);\nDROP INDEX ix_users_email ON users;\nCREATE TABLE audit_log (id integer);"
            }
            _ => {
                "ALTER TABLE users ADD COLUMN nickname varchar(20);\nDROP INDEX ix_users_email;\nCREATE TABLE audit_log (id integer);"
            }
        };
        // Apply the hand change with the engine's own SQL through a second
        // project that shares the database but not the version table.
        let mut toml = std::fs::read_to_string(db.project.path().join("braid.toml")).unwrap();
        toml = toml.replace("[database]\n", "[database]\nversion_table = \"by_hand\"\n");
        let other = Project::new();
        other.write(
            "braid.toml",
            &toml.replace(
                "sqlite://braid.db",
                &format!("sqlite://{}/braid.db", db.project.path().display()),
            ),
        );
        other.write(
            "migrations/hand.sql",
            &migration("hand", &[], "", by_hand, None),
        );
        let r = other.run(&["upgrade", "heads"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let mut toml = std::fs::read_to_string(db.project.path().join("braid.toml")).unwrap();
        toml.push_str("[schema]\nignore = [\"by_hand*\"]\n");
        db.project.write("braid.toml", &toml);
        let r = db.run(&["check", "--drift"]);
        assert_eq!(r.code, 1, "{engine:?}: {}", r.stderr);
        assert!(
            r.stderr.contains(
                "drift: column users.nickname is in the database but not in the migrations"
            ),
            "{engine:?}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains(
                "drift: index ix_users_email on users is in the migrations but not in the database"
            ),
            "{engine:?}: {}",
            r.stderr
        );
        assert!(
            r.stderr
                .contains("drift: table audit_log is in the database"),
            "{}",
            r.stderr
        );
        assert!(
            r.stderr.contains("check failed (3 problems)"),
            "{engine:?}: {}",
            r.stderr
        );
        // Objects other tools own are left out.
        db.project.write(
            "braid.toml",
            &toml.replace(
                "ignore = [\"by_hand*\"]",
                "ignore = [\"by_hand*\", \"audit_*\"]",
            ),
        );
        let r = db.run(&["check", "--drift"]);
        assert!(
            r.stderr.contains("check failed (2 problems)"),
            "{engine:?}: {}",
            r.stderr
        );
    }
    assert_eq!(scratch_left(), Vec::<String>::new());
}

#[test]
fn scratch_failures_are_named_and_leave_nothing() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let db = Db::new(Engine::Postgres);
    db.project.write(
        "migrations/r1.sql",
        &migration(
            "r1",
            &[],
            "",
            "CREATE TABLE t (id integer);",
            Some("DROP TABLE t;"),
        ),
    );
    // An unreachable dev URL.
    let r = db.run(&[
        "verify",
        "--dev-url",
        "postgres://postgres@127.0.0.1:1/test",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("cannot connect to the scratch server postgres://postgres@127.0.0.1:1/test"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--dev-url"), "{}", r.stderr);
    // A role that may not create databases.
    rt().block_on(async {
        let mut c = sqlx::PgConnection::connect(PG).await.unwrap();
        let _ = sqlx::raw_sql("CREATE ROLE braid_no_createdb LOGIN")
            .execute(&mut c)
            .await;
    });
    let r = db.run(&[
        "verify",
        "--dev-url",
        "postgres://braid_no_createdb@127.0.0.1:5432/test",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("cannot create a scratch database"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("CREATEDB"), "{}", r.stderr);
    // A revision that fails on the scratch database.
    db.project.write(
        "migrations/r2.sql",
        &migration(
            "r2",
            &["r1"],
            "",
            "ALTER TABLE no_such_table ADD COLUMN x integer;",
            Some("SELECT 1;"),
        ),
    );
    let r = db.run(&["verify"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("r2 FAILED"), "{}", r.stderr);
    assert!(r.stderr.contains("no_such_table"), "{}", r.stderr);
    assert!(
        r.stderr.contains("verify failed: 1 revision (r2)"),
        "{}",
        r.stderr
    );
    // The real database was never touched: the schema was not even made.
    let made: i64 = rt().block_on(async {
        let mut c = sqlx::PgConnection::connect(PG).await.unwrap();
        sqlx::query_scalar("SELECT count(*) FROM pg_namespace WHERE nspname = $1")
            .bind(&db.name)
            .fetch_one(&mut c)
            .await
            .unwrap()
    });
    assert_eq!(made, 0);
    assert_eq!(scratch_left(), Vec::<String>::new());
}

#[test]
fn the_schema_dump_follows_runs_and_verify_takes_a_range() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let db = Db::new(Engine::Sqlite);
    let mut toml = std::fs::read_to_string(db.project.path().join("braid.toml")).unwrap();
    toml.push_str("[schema]\ndump = \"schema.sql\"\n");
    db.project.write("braid.toml", &toml);
    planted(&db);
    db.ok(&["upgrade", "r2"]);
    let dump = std::fs::read_to_string(db.project.path().join("schema.sql")).unwrap();
    assert!(
        dump.contains("CREATE INDEX ix_t_status ON t (status);"),
        "{dump}"
    );
    assert!(!dump.contains("braid_version"), "{dump}");
    assert_eq!(dump, db.ok(&["schema"]).stdout);
    // r2's down leaves its index (a planted defect); dropping the table
    // takes it.
    db.ok(&["downgrade", "base"]);
    let dump = std::fs::read_to_string(db.project.path().join("schema.sql")).unwrap();
    assert_eq!(dump, "", "an empty schema");
    // Only r3 is tested; r1 and r2 are applied untested on the way.
    let r = db.run(&["verify", "-r", "r3:r3"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.starts_with("r3 NOT RESTORED"), "{}", r.stderr);
    assert!(r.stderr.contains("1 revision checked"), "{}", r.stderr);
    let r = db.run(&["verify", "-r", "r4:"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("r4 irreversible") && r.stderr.contains("r5 ok"),
        "{}",
        r.stderr
    );
    let r = db.run(&["verify", "-r", "nope"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("invalid range `nope`"), "{}", r.stderr);
    // A trigger braid does not read is named, and the self-check says so.
    db.project.write(
        "migrations/r9.sql",
        &migration(
            "r9",
            &["r5"],
            "",
            "CREATE TRIGGER trg AFTER INSERT ON t BEGIN SELECT 1; END;",
            Some("DROP TRIGGER trg;"),
        ),
    );
    db.ok(&["upgrade", "heads"]);
    let sql = db.ok(&["schema"]).stdout;
    assert!(sql.starts_with("-- trigger trg on t (not read)\n"), "{sql}");
    let r = db.run(&["schema", "--self-check"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("caused by: trigger trg on t (not read)"),
        "{}",
        r.stderr
    );
}

fn sql_files(db: &Db) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(db.project.path().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The file a `revision` run printed (its path scrubbed to `[TMP]`).
fn written(db: &Db, r: &common::Run) -> std::path::PathBuf {
    let real = std::fs::canonicalize(db.project.path()).unwrap();
    std::path::PathBuf::from(
        r.stdout
            .trim()
            .replace("[TMP]", &real.display().to_string()),
    )
}

fn desired(db: &Db, sql: &str) {
    db.project.write("schema/app.sql", sql);
}

#[test]
fn autogenerate_writes_proven_revisions_and_refuses_data_loss() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for engine in [Engine::Sqlite, Engine::Postgres, Engine::Mysql] {
        let db = Db::new(engine);
        let mut toml = std::fs::read_to_string(db.project.path().join("braid.toml")).unwrap();
        toml.push_str("[schema]\ndesired = [\"schema\"]\n");
        db.project.write("braid.toml", &toml);
        desired(
            &db,
            "CREATE TABLE users (\n    id integer PRIMARY KEY,\n    email varchar(100) NOT NULL\n);\nCREATE TABLE posts (\n    id integer PRIMARY KEY,\n    user_id integer NOT NULL,\n    body varchar(200),\n    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE\n);\n",
        );
        let r = db.ok(&["revision", "--autogenerate", "-m", "users and posts"]);
        let first = std::fs::read_to_string(written(&db, &r)).unwrap();
        assert!(first.contains("CREATE TABLE"), "{engine:?}: {first}");
        assert!(first.contains("DROP TABLE"), "{engine:?}: {first}");
        // The file is braid's own: it parses, lints clean and applies.
        let check = db.ok(&["check", "--no-db"]);
        assert!(
            !check.stderr.contains("warning"),
            "{engine:?}: {}",
            check.stderr
        );
        db.ok(&["upgrade", "heads"]);
        db.ok(&["diff", "migrations", "schema", "--exit-code"]);
        db.ok(&["diff", "database", "schema", "--exit-code"]);
        let again = db.ok(&["revision", "--autogenerate", "-m", "nothing"]);
        assert!(
            again.stderr.contains("no revision written"),
            "{}",
            again.stderr
        );
        assert_eq!(sql_files(&db).len(), 1);
        // A declared rename loses nothing.
        desired(
            &db,
            "CREATE TABLE users (\n    id integer PRIMARY KEY,\n    mail varchar(100) NOT NULL -- braid:renamed-from email\n);\nCREATE TABLE posts (\n    id integer PRIMARY KEY,\n    user_id integer NOT NULL,\n    body varchar(200),\n    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE\n);\n",
        );
        let d = db.run(&["diff", "migrations", "schema", "--exit-code"]);
        assert_eq!(d.code, 1, "{engine:?}: {}", d.stderr);
        assert!(
            d.stdout.contains("RENAME COLUMN"),
            "{engine:?}: {}",
            d.stdout
        );
        assert!(!d.stderr.contains("data loss"), "{engine:?}: {}", d.stderr);
        // Without the annotation: a drop and an add, refused, with a hint.
        desired(
            &db,
            "CREATE TABLE users (\n    id integer PRIMARY KEY,\n    mail varchar(100) NOT NULL\n);\nCREATE TABLE posts (\n    id integer PRIMARY KEY,\n    user_id integer NOT NULL,\n    body varchar(200),\n    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE\n);\n",
        );
        let r = db.run(&["revision", "--autogenerate", "-m", "rename by accident"]);
        assert_eq!(r.code, 1, "{engine:?}: {}", r.stderr);
        assert!(r.stderr.contains("the change loses data"), "{}", r.stderr);
        assert!(
            r.stderr.contains("drops column users.email"),
            "{}",
            r.stderr
        );
        assert!(
            r.stderr.contains("-- braid:renamed-from email"),
            "{}",
            r.stderr
        );
        assert_eq!(sql_files(&db).len(), 1, "nothing written");
        let r = db.ok(&[
            "revision",
            "--autogenerate",
            "-m",
            "replace email",
            "--allow-data-loss",
        ]);
        let text = std::fs::read_to_string(written(&db, &r)).unwrap();
        assert!(
            text.contains("-- DATA LOSS: drops column users.email"),
            "{engine:?}: {text}"
        );
        // What it wrote is linted against the table as it is.
        let expected: &[&str] = match engine {
            Engine::Sqlite => &["warning[sqlite-table-rebuild]"],
            _ => &["warning[drop]", "[add-required-column]"],
        };
        for e in expected {
            assert!(r.stderr.contains(e), "{engine:?}: {}", r.stderr);
        }
        // The rebuild's own DROP of the table it copied loses nothing.
        assert!(!r.stderr.contains("DROP TABLE `users`"), "{}", r.stderr);
        db.ok(&["upgrade", "heads"]);
        db.ok(&["diff", "database", "schema", "--exit-code"]);
        let v = db.ok(&["verify"]);
        assert!(
            v.stderr.contains("2 revisions checked: 0 not restored"),
            "{engine:?}: {}",
            v.stderr
        );
        // JSON.
        desired(
            &db,
            &format!(
                "{}\nCREATE TABLE tags (id integer PRIMARY KEY);\n",
                std::fs::read_to_string(db.project.path().join("schema/app.sql")).unwrap()
            ),
        );
        let j = db.ok(&["diff", "migrations", "schema", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&j.stdout).unwrap();
        assert_eq!(v["equal"], false);
        assert!(
            v["statements"][0]["sql"].as_str().unwrap().contains("tags"),
            "{}",
            j.stdout
        );
    }
    assert_eq!(scratch_left(), Vec::<String>::new());
}

/// The SQLite rebuild trap: dropping the old table deletes its rows, and
/// with foreign keys on that cascades into the children, while `PRAGMA
/// foreign_keys = OFF` does nothing inside a transaction.
#[test]
fn a_sqlite_rebuild_keeps_every_child_row() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let db = Db::new(Engine::Sqlite);
    let mut toml = std::fs::read_to_string(db.project.path().join("braid.toml")).unwrap();
    toml.push_str("[schema]\ndesired = [\"schema\"]\n");
    db.project.write("braid.toml", &toml);
    let parent_child = |check: &str| {
        format!(
            "CREATE TABLE users (id integer PRIMARY KEY, email varchar(100) NOT NULL{check});\nCREATE TABLE posts (id integer PRIMARY KEY, user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE);\n"
        )
    };
    desired(&db, &parent_child(""));
    db.ok(&[
        "revision",
        "--autogenerate",
        "-m",
        "start",
        "--rev-id",
        "r1",
    ]);
    db.ok(&["upgrade", "heads"]);
    let count = |table: &str| -> i64 {
        rt().block_on(async {
            let url = format!("sqlite://{}/braid.db", db.project.path().display());
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
                .fetch_one(&mut c)
                .await
                .unwrap()
        })
    };
    rt().block_on(async {
        let url = format!("sqlite://{}/braid.db", db.project.path().display());
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::raw_sql("INSERT INTO users VALUES (1, 'a'), (2, 'b'); INSERT INTO posts VALUES (1, 1), (2, 1), (3, 2);")
            .execute(&mut c)
            .await
            .unwrap();
    });
    // A check on the parent: SQLite cannot add one in place, so the
    // generated revision rebuilds users.
    desired(&db, &parent_child(" CHECK (length(email) > 0)"));
    let r = db.ok(&[
        "revision",
        "--autogenerate",
        "-m",
        "check emails",
        "--rev-id",
        "r2",
    ]);
    let text = std::fs::read_to_string(written(&db, &r)).unwrap();
    assert!(
        text.contains("PRAGMA foreign_keys = OFF;\nCREATE TABLE \"_braid_new_users\""),
        "{text}"
    );
    db.ok(&["upgrade", "heads"]);
    assert_eq!(
        (count("users"), count("posts")),
        (2, 3),
        "every child row kept"
    );
    db.ok(&["downgrade", "r1"]);
    assert_eq!(
        (count("users"), count("posts")),
        (2, 3),
        "and on the way down"
    );
    // The control: the same rebuild without braid's handling (no PRAGMA
    // line, so the executor keeps foreign keys on) loses the children.
    let naive = text
        .replace("PRAGMA foreign_keys = OFF;\n", "")
        .replace("PRAGMA foreign_keys = ON;\n", "");
    std::fs::write(written(&db, &r), naive).unwrap();
    db.ok(&["accept"]);
    db.ok(&["upgrade", "heads"]);
    assert_eq!(
        count("posts"),
        0,
        "the trap is real: the cascade emptied posts"
    );
    // A rebuild that breaks a foreign key is rolled back, naming the table.
    db.ok(&["downgrade", "base"]);
    db.ok(&["upgrade", "r1"]);
    rt().block_on(async {
        let url = format!("sqlite://{}/braid.db", db.project.path().display());
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::raw_sql("INSERT INTO users VALUES (1, 'a'); INSERT INTO posts VALUES (1, 1);")
            .execute(&mut c)
            .await
            .unwrap();
    });
    db.project.write(
        "migrations/r3.sql",
        &migration(
            "r3",
            &["r1"],
            "",
            "PRAGMA foreign_keys = OFF;\nDELETE FROM users;",
            Some("SELECT 1;"),
        ),
    );
    std::fs::remove_file(written(&db, &r)).unwrap();
    let bad = db.run(&["upgrade", "heads"]);
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    assert!(
        bad.stderr.contains(
            "foreign keys broken: 1 row(s) of table posts reference missing rows of users"
        ),
        "{}",
        bad.stderr
    );
    assert_eq!((count("users"), count("posts")), (1, 1), "rolled back");
}

#[test]
fn bad_desired_schemas_and_sources_are_named_and_write_nothing() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let db = Db::new(engine);
        let mut toml = std::fs::read_to_string(db.project.path().join("braid.toml")).unwrap();
        toml.push_str("[schema]\ndesired = [\"schema\"]\n");
        db.project.write("braid.toml", &toml);
        // Not SQL.
        desired(
            &db,
            "CREATE TABLE users (id integer PRIMARY KEY);\n\nCREATE TABLEX oops;\n",
        );
        let r = db.run(&["revision", "--autogenerate", "-m", "x"]);
        assert_eq!(r.code, 1);
        assert!(
            r.stderr.contains("the desired schema does not build"),
            "{engine:?}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("schema/app.sql:3"),
            "{engine:?}: {}",
            r.stderr
        );
        // A table that is not there.
        desired(
            &db,
            "CREATE TABLE users (id integer PRIMARY KEY);\nCREATE INDEX ix_missing ON nowhere (a);\n",
        );
        let r = db.run(&["diff", "migrations", "schema"]);
        assert_eq!(r.code, 1);
        assert!(r.stderr.contains("nowhere"), "{engine:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("schema/app.sql:2"),
            "{engine:?}: {}",
            r.stderr
        );
        // Several heads and no @TARGET.
        for (rev, parents) in [("r0", vec![]), ("a1", vec!["r0"]), ("b1", vec!["r0"])] {
            db.project.write(
                &format!("migrations/{rev}.sql"),
                &migration(rev, &parents, "", "SELECT 1;", Some("SELECT 1;")),
            );
        }
        let r = db.run(&["diff", "migrations", "schema"]);
        assert_eq!(r.code, 1);
        assert!(
            r.stderr.contains("2 heads (a1, b1)"),
            "{engine:?}: {}",
            r.stderr
        );
        let r = db.run(&["diff", "nonsense", "schema"]);
        assert_eq!(r.code, 1);
        assert!(
            r.stderr.contains("unknown schema source `nonsense`"),
            "{}",
            r.stderr
        );
        assert_eq!(sql_files(&db).len(), 3, "nothing written");
        assert!(
            !db.project.path().join("braid.db").exists(),
            "the real database untouched"
        );
    }
    assert_eq!(scratch_left(), Vec::<String>::new());
}

/// `braid diff URL URL`: two live PostgreSQL databases compared as migra
/// does, the script proven on a copy of the first (its rows emptied), or
/// on its SQL form while someone else is connected to it.
#[test]
fn two_databases_are_diffed_and_the_script_proven() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (a, b) = (unique("braid_dfa"), unique("braid_dfb"));
    let server = PG.trim_end_matches("/test");
    let admin = |sql: String| {
        rt().block_on(async {
            let mut c = sqlx::PgConnection::connect(PG).await.unwrap();
            sqlx::raw_sql(&sql).execute(&mut c).await.unwrap();
        })
    };
    let on = |db: &str, sql: &str| {
        let url = format!("{server}/{db}");
        let sql = sql.to_owned();
        rt().block_on(async move {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(&sql).execute(&mut c).await.unwrap();
        })
    };
    admin(format!("CREATE DATABASE {a}"));
    admin(format!("CREATE DATABASE {b}"));
    on(
        &a,
        "CREATE SCHEMA app; CREATE TABLE app.users (id integer PRIMARY KEY, email text);
         INSERT INTO app.users VALUES (1, 'a@example.com');",
    );
    on(
        &b,
        "CREATE SCHEMA app; CREATE TABLE app.users (id integer PRIMARY KEY, email text, name text NOT NULL);
         CREATE INDEX ix_users_email ON app.users (email);",
    );
    let p = Project::new();
    p.write(
        "braid.toml",
        &format!("[database]\nurl = \"{PG}\"\nschema = \"app\"\n"),
    );
    let (url_a, url_b) = (format!("{server}/{a}"), format!("{server}/{b}"));
    // A NOT NULL column without a default: proven on empty tables (the
    // copy's row would make it fail), the risk named.
    let r = p.run(&["diff", &url_a, &url_b]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("ADD COLUMN \"name\" text NOT NULL;"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("CREATE INDEX ix_users_email"),
        "{}",
        r.stdout
    );
    assert!(r.stderr.contains("may fail"), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "proving the script on a copy of database {a}, its rows emptied"
        )),
        "{}",
        r.stderr
    );
    // Someone connected to the first database: no copy, the same answer.
    let held = rt();
    let busy = held.block_on(sqlx::PgConnection::connect(&url_a)).unwrap();
    let again = p.run(&["diff", &url_a, &url_b]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stderr.contains(&format!(
            "proving the script on database {a}'s schema rebuilt from SQL: it could not be copied"
        )) && again.stderr.contains("other sessions are connected"),
        "{}",
        again.stderr
    );
    assert_eq!(again.stdout, r.stdout);
    held.block_on(busy.close()).unwrap();
    // Applied to the first (its row given a name), nothing is left to do.
    on(
        &a,
        &format!(
            "SET search_path TO app; {}",
            r.stdout
                .replace("text NOT NULL;", "text NOT NULL DEFAULT 'x';")
        ),
    );
    let same = p.run(&["diff", &url_a, &url_b, "--exit-code"]);
    assert_eq!(same.code, 1, "the default differs: {}", same.stdout);
    on(&a, "ALTER TABLE app.users ALTER COLUMN name DROP DEFAULT");
    let same = p.run(&["diff", &url_a, &url_b, "--exit-code"]);
    assert_eq!(same.code, 0, "{}{}", same.stdout, same.stderr);
    assert_eq!(same.stdout, "");
    // Another engine's URL, and a server that is not there: named, exit 1.
    let r = p.run(&["diff", &format!("{MY}/test"), &url_b]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("is not a PostgreSQL database"),
        "{}",
        r.stderr
    );
    let r = p.run(&["diff", "postgres://postgres@127.0.0.1:1/x", &url_b]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("cannot connect to"), "{}", r.stderr);
    assert_eq!(scratch_left(), Vec::<String>::new());
    admin(format!("DROP DATABASE {a} WITH (FORCE)"));
    admin(format!("DROP DATABASE {b} WITH (FORCE)"));
}

/// `braid diff URL URL` where the change touches a few objects of many:
/// only those, what depends on them and what they need are built for the
/// proof (said with the count), and the script still reaches the second
/// database when applied to the first.
#[test]
fn a_small_change_between_large_databases_is_proven_on_its_part() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (a, b) = (unique("braid_dpa"), unique("braid_dpb"));
    let server = PG.trim_end_matches("/test");
    let run = |db: &str, sql: String| {
        let url = format!("{server}/{db}");
        rt().block_on(async move {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(&sql).execute(&mut c).await.unwrap();
        })
    };
    let tables = |extra: &str| {
        let mut sql = "CREATE SCHEMA app; SET search_path TO app;".to_owned();
        for i in 1..=6 {
            let key = if i == 6 {
                ", t5_id integer REFERENCES t5 (id)"
            } else {
                ""
            };
            let more = if i == 2 { extra } else { "" };
            sql.push_str(&format!(
                "CREATE TABLE t{i} (id integer PRIMARY KEY{key}{more});"
            ));
        }
        sql
    };
    run("test", format!("CREATE DATABASE {a}"));
    run("test", format!("CREATE DATABASE {b}"));
    run(&a, tables("") + "CREATE VIEW v1 AS SELECT id FROM t1;");
    run(
        &b,
        tables(", extra text") + "CREATE VIEW v1 AS SELECT id, 1 AS one FROM t1;",
    );
    let p = Project::new();
    p.write(
        "braid.toml",
        &format!("[database]\nurl = \"{PG}\"\nschema = \"app\"\n"),
    );
    let (url_a, url_b) = (format!("{server}/{a}"), format!("{server}/{b}"));
    let r = p.run(&["diff", &url_a, &url_b]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // t2 and v1 change, v1 needs t1: three of the seven objects.
    assert!(
        r.stderr.contains(
            "proving the script on the part of the first schema it touches, rebuilt from SQL: 3 of its 7 objects"
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains("ADD COLUMN \"extra\" text;"),
        "{}",
        r.stdout
    );
    run(&a, format!("SET search_path TO app; {}", r.stdout));
    let same = p.run(&["diff", &url_a, &url_b, "--exit-code"]);
    assert_eq!(same.code, 0, "{}{}", same.stdout, same.stderr);
    assert_eq!(scratch_left(), Vec::<String>::new());
    run("test", format!("DROP DATABASE {a} WITH (FORCE)"));
    run("test", format!("DROP DATABASE {b} WITH (FORCE)"));
}
