//! The safety lint (SPEC §12) by the files alone: for each rule and engine
//! a statement that must be flagged and its safe recipe that must not be,
//! versions on both sides of each gate, ignores, tables created in the
//! same revision, statements sqlparser cannot parse, and the command's
//! output formats and bad input. Table sizes and the MariaDB verdicts are
//! checked on the real servers in `tests/db.rs`.

mod common;

use braid::config::{Engine, Lint};
use braid::lint::Severity;
use braid::lint::safety::{Facts, Report, Sections, lint};
use braid::revision::Direction;
use common::{Project, migration};

/// A project whose base revision `r0` creates `users` and `orgs`, and
/// whose `r1` runs `up` (with `extra` header lines).
fn project(extra: &str, up: &str) -> Project {
    let p = Project::new();
    p.write(
        "migrations/0.sql",
        &migration(
            "r0",
            &[],
            "",
            "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(100), org bigint);\nCREATE TABLE orgs (id bigint PRIMARY KEY);",
            None,
        ),
    );
    p.write(
        "migrations/1.sql",
        &migration("r1", &["r0"], extra, up, None),
    );
    p
}

/// Lints `r1` of [`project`] on `engine` with `settings`.
fn lint_r1(engine: Engine, settings: &Lint, extra: &str, up: &str) -> Report {
    let p = project(extra, up);
    let h = braid::history::History::load(&[p.path().join("migrations")]).unwrap();
    let n = h.graph.node("r1").unwrap();
    let sections = Sections::read(&h, &[(n, Direction::Up)], engine);
    lint(&h, &sections, settings, &Facts::default())
}

/// Lints `r1` on `engine`, judged as `version` when given.
fn run_with(engine: Engine, version: Option<&str>, extra: &str, up: &str) -> Report {
    let settings = Lint {
        server_version: version.map(str::to_owned),
        ..Lint::default()
    };
    lint_r1(engine, &settings, extra, up)
}

fn run(engine: Engine, up: &str) -> Report {
    run_with(engine, None, "", up)
}

fn rules(r: &Report) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.rule).collect()
}

/// `bad` is flagged with `rule` (and an error or warning as given);
/// `good`, the safe recipe, is not flagged with it.
fn pair(engine: Engine, rule: &str, severity: Severity, bad: &str, good: &str) {
    let r = run(engine, bad);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == rule)
        .unwrap_or_else(|| panic!("{engine:?}: `{bad}` not flagged {rule}: {:?}", rules(&r)));
    assert_eq!(f.severity, severity, "{engine:?} {rule}: {f:?}");
    assert!(!f.fix.is_empty() && !f.message.is_empty());
    assert_eq!(f.revision, "r1");
    let r = run(engine, good);
    assert!(
        !rules(&r).contains(&rule),
        "{engine:?}: the recipe `{good}` is flagged {rule}: {:?}",
        r.findings
    );
}

const PG: Engine = Engine::Postgres;
const MY: Engine = Engine::Mysql;
const LITE: Engine = Engine::Sqlite;

#[test]
fn postgres_rules_flag_the_hazard_and_pass_the_recipe() {
    use Severity::{Error, Warning};
    pair(
        PG,
        "index-not-concurrent",
        Error,
        "CREATE INDEX ix ON users (email);",
        "CREATE INDEX CONCURRENTLY ix ON users (email);",
    );
    pair(
        PG,
        "drop-index-not-concurrent",
        Warning,
        "DROP INDEX ix;",
        "DROP INDEX CONCURRENTLY ix;",
    );
    pair(
        PG,
        "constraint-not-valid",
        Error,
        "ALTER TABLE users ADD CONSTRAINT fk FOREIGN KEY (org) REFERENCES orgs (id);",
        "ALTER TABLE users ADD CONSTRAINT fk FOREIGN KEY (org) REFERENCES orgs (id) NOT VALID;",
    );
    pair(
        PG,
        "constraint-not-valid",
        Error,
        "ALTER TABLE users ADD CHECK (id > 0);",
        "ALTER TABLE users ADD CONSTRAINT pos CHECK (id > 0) NOT VALID;",
    );
    pair(
        PG,
        "validate-in-same-transaction",
        Error,
        "ALTER TABLE users ADD CONSTRAINT fk FOREIGN KEY (org) REFERENCES orgs (id) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT fk;",
        "ALTER TABLE users VALIDATE CONSTRAINT fk;",
    );
    pair(
        PG,
        "unique-without-index",
        Error,
        "ALTER TABLE users ADD CONSTRAINT u UNIQUE (email);",
        "ALTER TABLE users ADD CONSTRAINT u UNIQUE USING INDEX users_email;",
    );
    pair(
        PG,
        "set-not-null",
        Warning,
        "ALTER TABLE users ALTER COLUMN org SET NOT NULL;",
        "ALTER TABLE users ADD CONSTRAINT org_nn CHECK (org IS NOT NULL) NOT VALID;",
    );
    pair(
        PG,
        "volatile-default",
        Error,
        "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
        "ALTER TABLE users ADD COLUMN token uuid;\nALTER TABLE users ALTER COLUMN token SET DEFAULT gen_random_uuid();",
    );
    pair(
        PG,
        "column-type-change",
        Error,
        "ALTER TABLE users ALTER COLUMN org TYPE integer;",
        "ALTER TABLE users ADD COLUMN org2 integer;",
    );
    pair(
        PG,
        "blocking-maintenance",
        Error,
        "VACUUM FULL users;",
        "VACUUM users;",
    );
    pair(
        PG,
        "blocking-maintenance",
        Error,
        "REINDEX TABLE users;",
        "REINDEX TABLE CONCURRENTLY users;",
    );
    // A CONCURRENTLY statement needs a non-transactional revision.
    let r = run_with(
        PG,
        None,
        "",
        "CREATE INDEX CONCURRENTLY ix ON users (email);",
    );
    assert!(rules(&r).contains(&"concurrently-in-transaction"));
    let r = run_with(
        PG,
        None,
        "-- transactional = false",
        "CREATE INDEX CONCURRENTLY ix ON users (email);",
    );
    assert!(rules(&r).is_empty(), "{:?}", r.findings);
}

#[test]
fn rules_of_every_engine() {
    use Severity::{Error, Warning};
    for engine in [PG, MY, LITE] {
        pair(
            engine,
            "add-required-column",
            Error,
            "ALTER TABLE users ADD COLUMN n integer NOT NULL;",
            "ALTER TABLE users ADD COLUMN n integer NOT NULL DEFAULT 0;",
        );
        pair(
            engine,
            "rename",
            Warning,
            "ALTER TABLE users RENAME COLUMN email TO mail;",
            "ALTER TABLE users ADD COLUMN mail varchar(100);",
        );
        pair(
            engine,
            "drop",
            Warning,
            "DROP TABLE orgs;",
            "CREATE TABLE tmp (id int);\nDROP TABLE tmp;",
        );
        pair(
            engine,
            "unbatched-backfill",
            Warning,
            "UPDATE users SET org = 1;",
            "UPDATE users SET org = 1 WHERE id BETWEEN 1 AND 1000;",
        );
    }
    // Outside a transaction, several statements can stop half applied.
    for engine in [PG, MY, LITE] {
        let r = run_with(
            engine,
            None,
            "-- transactional = false",
            "UPDATE users SET org = 1 WHERE id = 1;\nUPDATE users SET org = 2 WHERE id = 2;",
        );
        assert_eq!(
            rules(&r),
            ["non-transactional-multi-statement"],
            "{engine:?}"
        );
        let r = run_with(
            engine,
            None,
            "-- transactional = false",
            "UPDATE users SET org = 1 WHERE id = 1;",
        );
        assert!(rules(&r).is_empty(), "{engine:?}");
    }
    // A backfill in the transaction that altered its table holds the lock.
    let r = run(
        PG,
        "ALTER TABLE users ADD COLUMN n integer;\nUPDATE users SET n = 0 WHERE n IS NULL;",
    );
    assert_eq!(rules(&r), ["unbatched-backfill"]);
}

#[test]
fn mysql_and_sqlite_rules() {
    use Severity::{Error, Warning};
    pair(
        MY,
        "mysql-copy-algorithm",
        Error,
        "ALTER TABLE users ADD FULLTEXT INDEX ft (email);",
        "ALTER TABLE users ADD INDEX ix (email), ALGORITHM=INPLACE, LOCK=NONE;",
    );
    pair(
        MY,
        "mysql-copy-algorithm",
        Error,
        "ALTER TABLE users ADD COLUMN total bigint AS (id * 2) STORED;",
        "ALTER TABLE users ADD COLUMN total bigint AS (id * 2) VIRTUAL;",
    );
    pair(
        MY,
        "mysql-copy-algorithm",
        Error,
        "ALTER TABLE users ALGORITHM=COPY, ADD COLUMN n int;",
        "ALTER TABLE users ADD COLUMN n int, ALGORITHM=INSTANT;",
    );
    pair(
        MY,
        "mysql-lock-clause",
        Error,
        "ALTER TABLE users ADD INDEX ix (email), LOCK=SHARED;",
        "ALTER TABLE users ADD INDEX ix (email), LOCK=NONE;",
    );
    pair(
        MY,
        "column-type-change",
        Error,
        "ALTER TABLE users MODIFY COLUMN org int NOT NULL;",
        "ALTER TABLE users ADD COLUMN org2 int;",
    );
    pair(
        MY,
        "mysql-inline-references",
        Error,
        "CREATE TABLE a (id int PRIMARY KEY, u bigint REFERENCES users (id));",
        "CREATE TABLE a (id int PRIMARY KEY, u bigint, FOREIGN KEY (u) REFERENCES users (id));",
    );
    pair(
        LITE,
        "sqlite-table-rebuild",
        Warning,
        "CREATE TABLE users_new (id bigint PRIMARY KEY, email text);\nINSERT INTO users_new SELECT id, email FROM users;",
        "CREATE TABLE users_new (id bigint PRIMARY KEY, email text);",
    );
    pair(
        LITE,
        "sqlite-table-rebuild",
        Error,
        "ALTER TABLE users ALTER COLUMN org SET NOT NULL;",
        "ALTER TABLE users ADD COLUMN n integer;",
    );
    // The whole rebuild recipe: one copy warned of; dropping the table
    // it copied loses nothing, and the new table's rename is its own.
    let r = run(
        LITE,
        "CREATE TABLE users_new (id bigint PRIMARY KEY, email text);\nINSERT INTO users_new SELECT id, email FROM users;\nDROP TABLE users;\nALTER TABLE users_new RENAME TO users;",
    );
    assert_eq!(rules(&r), ["sqlite-table-rebuild"], "{:?}", r.findings);
    // PostgreSQL's rules say nothing on the other engines.
    assert!(rules(&run(MY, "CREATE INDEX ix ON users (email);")).is_empty());
    assert!(rules(&run(LITE, "CREATE INDEX ix ON users (email);")).is_empty());
}

#[test]
fn version_gates() {
    let add = "ALTER TABLE users ADD COLUMN flag boolean DEFAULT false;";
    // A constant default is written into every row only before 11.
    assert!(rules(&run_with(PG, Some("10.23"), "", add)).contains(&"volatile-default"));
    assert!(rules(&run_with(PG, Some("11.0"), "", add)).is_empty());
    assert!(rules(&run_with(PG, None, "", add)).is_empty());
    // SET NOT NULL: the recipe changes at 12.
    let nn = "ALTER TABLE users ALTER COLUMN org SET NOT NULL;";
    let fix = |v| run_with(PG, Some(v), "", nn).findings[0].fix.clone();
    assert!(fix("11.9").contains("before PostgreSQL 12"));
    assert!(fix("12.0").contains("PostgreSQL 12+"));
    // A column's REFERENCES: ignored by MySQL before 9.0, honoured by
    // MariaDB from 10.5.
    let inline = "CREATE TABLE a (id int, u bigint REFERENCES users (id));";
    let flagged =
        |v| rules(&run_with(MY, Some(v), "", inline)).contains(&"mysql-inline-references");
    assert!(flagged("8.0.36"));
    assert!(!flagged("9.0.1"));
    assert!(flagged("10.4.30-MariaDB"));
    assert!(!flagged("mariadb 10.11"));
}

#[test]
fn tables_created_in_the_same_revision_are_exempt() {
    let r = run(
        PG,
        "CREATE TABLE events (id bigint, at timestamptz);\nCREATE INDEX events_at ON events (at);\nALTER TABLE events ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES users (id);\nALTER TABLE events ADD COLUMN n int NOT NULL;",
    );
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    // …but not a table created after the statement.
    let r = run(
        PG,
        "CREATE INDEX events_at ON events (at);\nCREATE TABLE events (id bigint, at timestamptz);",
    );
    assert_eq!(rules(&r), ["index-not-concurrent"]);
}

#[test]
fn ignores_silence_what_they_name_and_are_checked_themselves() {
    let r = run(
        PG,
        "-- braid:lint-ignore index-not-concurrent the table has 40 rows\nCREATE INDEX ix ON users (email);\nCREATE INDEX iy ON users (org);",
    );
    assert_eq!(rules(&r), ["index-not-concurrent"]);
    assert_eq!(r.findings[0].line, 8, "the second index is on line 8");
    // A list, a reason, an unknown rule and an ignore that silences nothing.
    let r = run(
        PG,
        "-- braid:lint-ignore drop, rename, no-such-rule the old columns are unused\nALTER TABLE users DROP COLUMN email;",
    );
    let mut got = rules(&r);
    got.sort();
    assert_eq!(got, ["unknown-rule", "unused-ignore"], "{:?}", r.findings);
    assert!(
        r.findings
            .iter()
            .any(|f| f.message.contains("`no-such-rule`"))
    );
    assert!(r.findings.iter().any(|f| f.message.contains("rename")));
    // The whole file.
    let r = run(
        PG,
        "-- braid:lint-ignore-file index-not-concurrent\nCREATE INDEX ix ON users (email);\nCREATE INDEX iy ON users (org);",
    );
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    let r = run(
        PG,
        "-- braid:lint-ignore-file drop\nCREATE INDEX CONCURRENTLY ix ON users (email);",
    );
    assert!(rules(&r).contains(&"unused-ignore"));
}

#[test]
fn config_changes_severities() {
    let settings = Lint {
        deny: vec!["rename".into()],
        warn: vec!["index-not-concurrent".into()],
        allow: vec!["drop".into()],
        ..Lint::default()
    };
    let r = lint_r1(
        PG,
        &settings,
        "",
        "ALTER TABLE users RENAME COLUMN email TO mail;\nDROP TABLE users;\nCREATE INDEX ix ON users (id);",
    );
    let got: Vec<_> = r.findings.iter().map(|f| (f.rule, f.severity)).collect();
    assert_eq!(
        got,
        [
            ("rename", Severity::Error),
            ("index-not-concurrent", Severity::Warning)
        ]
    );
}

#[test]
fn a_statement_sqlparser_cannot_parse_is_still_read() {
    // sqlparser does not know this storage parameter syntax; the keyword
    // reader still sees a plain CREATE INDEX on an existing table.
    let r = run(
        PG,
        "CREATE INDEX ix ON users USING brin (id) WITH (pages_per_range = 32, autosummarize = on) WHERE id > 0 NULLS NOT DISTINCT garbage garbage;",
    );
    assert_eq!(rules(&r), ["index-not-concurrent"]);
    assert_eq!(r.unparsed.len(), 1, "{:?}", r.unparsed);
    // Text that is not SQL at all: no finding, no crash, said.
    let r = run(PG, "this is not sql; neither ))) is this");
    assert!(r.findings.is_empty());
    assert_eq!(r.unparsed.len(), 2);
}

#[test]
fn the_command_reports_in_four_formats_and_fails_on_errors() {
    let p = project("", "CREATE INDEX ix ON users (email);");
    p.write(
        "braid.toml",
        "[database]\nurl = \"postgres://nobody@127.0.0.1:1/none\"\n[lint]\nserver_version = \"16\"\n",
    );
    // An unreachable database: lint runs on the files and says so.
    let r = p.run(&["lint"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("error[index-not-concurrent]"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("1.sql:6"), "{}", r.stdout);
    assert!(
        r.stdout.contains("= fix: CREATE INDEX CONCURRENTLY"),
        "{}",
        r.stdout
    );
    assert!(r.stderr.contains("could not be reached"), "{}", r.stderr);
    assert!(r.stderr.contains("server_version = \"16\""), "{}", r.stderr);
    let r = p.run(&["lint", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "index-not-concurrent");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["revision"], "r1");
    assert_eq!(f["line"], 6);
    assert_eq!(f["table"], "users");
    assert_eq!(f["statement"], "CREATE INDEX ix ON users (email)");
    let r = p.run(&["lint", "--format", "gcc"]);
    assert!(
        r.stdout.trim_end().ends_with("1.sql:6:1: error: CREATE INDEX blocks writes to `users` until the index is built [index-not-concurrent]"),
        "{}",
        r.stdout
    );
    let r = p.run(&["lint", "--format", "github", "-r", "r1:"]);
    assert!(r.stdout.starts_with("::error file="), "{}", r.stdout);
    assert!(
        r.stdout
            .contains(",line=6,title=braid lint%3A index-not-concurrent::"),
        "{}",
        r.stdout
    );
    // A range without the revision: nothing to report.
    let r = p.run(&["lint", "-r", ":r0"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Every rule is listed.
    let r = p.run(&["lint", "--rules"]);
    assert_eq!(r.stdout.lines().count(), braid::lint::rules::RULES.len());
}

#[test]
fn an_unknown_rule_in_the_config_is_an_error_naming_it() {
    let p = Project::new();
    p.write("braid.toml", "[lint]\ndeny = [\"index-not-concurent\"]\n");
    p.write(
        "migrations/0.sql",
        &migration("r0", &[], "", "SELECT 1;", None),
    );
    let r = p.run(&["lint"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("[lint] deny"), "{}", r.stderr);
    assert!(r.stderr.contains("`index-not-concurent`"), "{}", r.stderr);
}

/// PostgreSQL migrations as teams write them: the hazards and their safe
/// recipes (`true`: the revision runs in a transaction).
const CORPUS: &[(&str, bool)] = &[
    ("CREATE INDEX ix_users_email ON users (email);", true),
    (
        "CREATE UNIQUE INDEX ix_users_u ON users (email, org);",
        true,
    ),
    (
        "CREATE INDEX CONCURRENTLY ix_users_org ON users (org);",
        false,
    ),
    ("DROP INDEX ix_users_email;", true),
    ("DROP INDEX CONCURRENTLY ix_users_org;", false),
    (
        "ALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org) REFERENCES orgs (id);",
        true,
    ),
    (
        "ALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org) REFERENCES orgs (id) NOT VALID;",
        true,
    ),
    (
        "ALTER TABLE users ADD CONSTRAINT users_id_pos CHECK (id > 0);",
        true,
    ),
    (
        "ALTER TABLE users ADD CONSTRAINT users_id_pos CHECK (id > 0) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT users_id_pos;",
        true,
    ),
    ("ALTER TABLE users VALIDATE CONSTRAINT users_id_pos;", true),
    ("ALTER TABLE users ALTER COLUMN org SET NOT NULL;", true),
    (
        "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
        true,
    ),
    (
        "ALTER TABLE users ADD COLUMN flag boolean DEFAULT false;",
        true,
    ),
    (
        "ALTER TABLE users ADD COLUMN seen timestamptz DEFAULT now();",
        true,
    ),
    ("ALTER TABLE users ADD COLUMN n integer NOT NULL;", true),
    (
        "ALTER TABLE users ADD COLUMN m integer NOT NULL DEFAULT 0;",
        true,
    ),
    ("ALTER TABLE users ALTER COLUMN org TYPE integer;", true),
    ("ALTER TABLE users ALTER COLUMN email TYPE text;", true),
    ("ALTER TABLE users RENAME COLUMN email TO mail;", true),
    ("ALTER TABLE users RENAME TO people;", true),
    ("ALTER TABLE users DROP COLUMN email;", true),
    ("DROP TABLE orgs;", true),
    (
        "ALTER TABLE users ADD CONSTRAINT users_email_u UNIQUE (email);",
        true,
    ),
    ("ALTER TABLE users ADD PRIMARY KEY (id);", true),
    (
        "ALTER TABLE users ADD CONSTRAINT users_email_u UNIQUE USING INDEX ix_users_u;",
        true,
    ),
    (
        "CREATE TABLE events (id bigint, at timestamptz);\nCREATE INDEX ix_events_at ON events (at);\nALTER TABLE events ADD CONSTRAINT ev_fk FOREIGN KEY (id) REFERENCES users (id);",
        true,
    ),
    ("REINDEX TABLE users;", true),
    (
        "ALTER TABLE users ADD COLUMN total bigint GENERATED ALWAYS AS (id * 2) STORED;",
        true,
    ),
    (
        "-- a note before the statement\nALTER TABLE users ADD COLUMN k integer NOT NULL;",
        true,
    ),
];

/// squawk's rules that braid shares, and the braid rules that say the same.
const SHARED: &[(&str, &[&str])] = &[
    (
        "require-concurrent-index-creation",
        &["index-not-concurrent"],
    ),
    (
        "require-concurrent-index-deletion",
        &["drop-index-not-concurrent"],
    ),
    (
        "ban-concurrent-index-creation-in-transaction",
        &["concurrently-in-transaction"],
    ),
    // squawk also says this of UNIQUE and of NOT VALID + VALIDATE in one
    // transaction, which braid names by what happens.
    (
        "constraint-missing-not-valid",
        &[
            "constraint-not-valid",
            "validate-in-same-transaction",
            "unique-without-index",
        ],
    ),
    ("adding-foreign-key-constraint", &["constraint-not-valid"]),
    ("adding-not-nullable-field", &["set-not-null"]),
    ("adding-field-with-default", &["volatile-default"]),
    ("adding-required-field", &["add-required-column"]),
    ("changing-column-type", &["column-type-change"]),
    ("renaming-column", &["rename"]),
    ("renaming-table", &["rename"]),
    ("ban-drop-column", &["drop"]),
    ("ban-drop-table", &["drop"]),
    ("disallowed-unique-constraint", &["unique-without-index"]),
    ("adding-serial-primary-key-field", &["unique-without-index"]),
    ("require-concurrent-reindex", &["blocking-maintenance"]),
];

/// squawk (installed from PyPI into a throwaway virtualenv) and braid on
/// the same files: every statement squawk flags under a rule braid shares
/// is flagged by braid too, on the same line.
#[test]
fn braid_flags_every_statement_squawk_flags_under_a_shared_rule() {
    let venv = tempfile::tempdir().unwrap();
    let made = std::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(venv.path())
        .status()
        .unwrap();
    assert!(made.success());
    let pip = std::process::Command::new(venv.path().join("bin/pip"))
        .args(["install", "-q", "squawk-cli"])
        .output()
        .unwrap();
    assert!(
        pip.status.success(),
        "{}",
        String::from_utf8_lossy(&pip.stderr)
    );
    let p = project("", "SELECT 1;");
    p.write(
        "braid.toml",
        "[database]\nurl = \"postgres://nobody@127.0.0.1:1/none\"\n[lint]\nserver_version = \"16\"\n",
    );
    let mut files = Vec::new();
    for (i, (up, transactional)) in CORPUS.iter().enumerate() {
        let extra = if *transactional {
            ""
        } else {
            "-- transactional = false"
        };
        let parent = if i == 0 {
            "r1".to_owned()
        } else {
            format!("c{:02}", i - 1)
        };
        files.push(p.write(
            &format!("migrations/c{i:02}.sql"),
            &migration(&format!("c{i:02}"), &[&parent], extra, up, None),
        ));
    }
    // squawk judges each file as braid runs it: in a transaction unless
    // the header says otherwise (a lone CONCURRENTLY file is allowed).
    let squawk = std::process::Command::new(venv.path().join("bin/squawk"))
        .args([
            "--pg-version=16",
            "--assume-in-transaction",
            "--reporter",
            "json",
        ])
        .args(&files)
        .output()
        .unwrap();
    let flagged: Vec<serde_json::Value> = serde_json::from_slice(&squawk.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&squawk.stderr)));
    let braid = p.run(&["lint", "-r", "c00:", "--format", "json"]);
    let ours: serde_json::Value = serde_json::from_str(&braid.stdout).unwrap();
    let ours = ours["findings"].as_array().unwrap();
    let mut compared = 0;
    for f in &flagged {
        let rule = f["rule_name"].as_str().unwrap();
        let Some((_, same)) = SHARED.iter().find(|(r, _)| *r == rule) else {
            continue;
        };
        compared += 1;
        let file = f["file"].as_str().unwrap();
        // squawk counts lines from 0.
        let line = f["line"].as_u64().unwrap() + 1;
        assert!(
            ours.iter().any(|o| file.ends_with(
                std::path::Path::new(o["file"].as_str().unwrap())
                    .file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
            ) && o["line"] == line
                && same.contains(&o["rule"].as_str().unwrap())),
            "squawk flags {file}:{line} ({rule}); braid does not say {same:?}: {ours:#?}"
        );
    }
    assert!(
        compared >= 20,
        "squawk flagged {compared} statements under shared rules"
    );
}

#[test]
fn batch_blocks_are_checked_by_lint_and_before_a_run() {
    let good = "-- braid:batch size=100\nUPDATE users SET email = lower(email) WHERE id IN (SELECT id FROM users WHERE email <> lower(email) LIMIT :batch_size);";
    let outside = "-- transactional = false";
    for engine in [PG, MY, LITE] {
        let r = run_with(engine, None, outside, good);
        assert!(r.findings.is_empty(), "{engine:?}: {:?}", r.findings);
        assert!(
            r.unparsed.is_empty(),
            "{engine:?}: the placeholder stands for a number: {:?}",
            r.unparsed
        );
    }
    let flagged = |extra: &str, up: &str, words: &str| {
        let r = run_with(PG, None, extra, up);
        let f = r
            .findings
            .iter()
            .find(|f| f.rule == "unbatched-backfill" && f.message.contains(words))
            .unwrap_or_else(|| panic!("`{up}` not flagged with `{words}`: {:?}", r.findings));
        assert_eq!(f.severity, Severity::Error);
        // The run refuses it before anything runs, and `check` says so.
        let p = project(extra, up);
        let r = p.run(&["upgrade", "heads"]);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(
            r.stderr.contains("cannot run as written; nothing was run"),
            "{}",
            r.stderr
        );
        assert_eq!(p.run(&["current"]).stdout.trim(), "");
    };
    flagged("", good, "runs in one transaction");
    flagged(
        outside,
        &good.replace(":batch_size", "100"),
        "without `:batch_size`",
    );
    flagged(
        outside,
        "-- braid:batch\nCREATE INDEX ix ON users (email);",
        "before one UPDATE or DELETE",
    );
    // A placeholder without a mark is refused by the run.
    let p = project(
        outside,
        "DELETE FROM users WHERE id IN (SELECT id FROM users LIMIT :batch_size);",
    );
    let r = p.run(&["upgrade", "heads"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("`:batch_size` outside a batch block"),
        "{}",
        r.stderr
    );
    // A whole-table UPDATE points to batch blocks.
    let r = run(PG, "UPDATE users SET email = lower(email);");
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "unbatched-backfill")
        .unwrap();
    assert!(f.fix.contains("-- braid:batch"), "{}", f.fix);
}
