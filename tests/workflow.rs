//! The team's daily workflow: the README's quick start, `make run`, and
//! every `migrate-*` Makefile target, on SQLite and on PostgreSQL in the
//! `boneca` schema, driven as a user would drive them.

mod common;

use std::path::Path;
use std::process::Command;

use common::Project;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A copy of the repository's example project (Makefile, braid.toml, the
/// example migrations and the scripts) in a scratch directory.
fn example_project() -> Project {
    let p = Project::new();
    for file in ["Makefile", "braid.toml"] {
        std::fs::copy(Path::new(ROOT).join(file), p.path().join(file)).unwrap();
    }
    for dir in ["migrations", "migrations-postgres", "scripts"] {
        copy_dir(&Path::new(ROOT).join(dir), &p.path().join(dir));
    }
    p
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

struct Out {
    code: i32,
    text: String,
}

/// `make ARGS` in the project, with the test's braid binary.
fn make(p: &Project, env: &[(&str, &str)], args: &[&str]) -> Out {
    let mut c = Command::new("make");
    c.arg("--no-print-directory")
        .arg(format!("BRAID={}", env!("CARGO_BIN_EXE_braid")))
        .args(args)
        .current_dir(p.path());
    for var in common::SETTINGS_VARS
        .iter()
        .chain(&["MAKEFLAGS", "MAKELEVEL"])
    {
        c.env_remove(var);
    }
    c.env("BRAID_NOW", "2025-11-01T12:00:00Z");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        text: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn ok(p: &Project, env: &[(&str, &str)], args: &[&str]) -> String {
    let o = make(p, env, args);
    assert_eq!(o.code, 0, "make {args:?} failed:\n{}", o.text);
    o.text
}

/// Every migrate-* target, on whatever database `env` names. `head` is
/// the history's single head on that engine.
fn every_migrate_target(p: &Project, env: &[(&str, &str)], head: &str) {
    let status = ok(p, env, &["migrate-status"]);
    assert!(status.contains("pending revision"), "{status}");
    let up = ok(p, env, &["migrate-up"]);
    assert!(up.contains(&format!("current: {head}")), "{up}");
    // The round trip that tests every migration in both directions.
    ok(p, env, &["migrate-down", "REVISION=base"]);
    let trip = ok(p, env, &["migrate-up", "migrate-down", "migrate-up"]);
    assert!(trip.ends_with(&format!("current: {head}\n")), "{trip}");
    assert_eq!(trip.matches("reverted 1 revision").count(), 1, "{trip}");
    let down = ok(p, env, &["migrate-down"]);
    assert!(down.contains("reverted 1 revision"), "{down}");
    ok(p, env, &["migrate-up", "REVISION=heads"]);
    let history = ok(p, env, &["migrate-history"]);
    assert!(
        history.contains(&format!("{head} (auth, catalog, core) (head) (current)")),
        "{history}"
    );
    let show = ok(p, env, &["migrate-show", "REVISION=c60a"]);
    assert!(show.contains("Also depends on: 7d52e0a9c318"), "{show}");
    // A second team's branch, then the merge that joins it.
    let created = ok(p, env, &["migrate-create", "MSG=add wishlists"]);
    assert!(created.contains("_add_wishlists.sql"), "{created}");
    let branch = p.command(&[
        "revision",
        "-m",
        "audit log",
        "--head",
        "e2f7b3c90d41",
        "--splice",
        "--branch-label",
        "audit",
    ]);
    let mut branch = branch;
    for (k, v) in env {
        branch.env(k, v);
    }
    assert!(branch.output().unwrap().status.success());
    let merged = ok(p, env, &["migrate-merge", "MSG=merge audit"]);
    assert!(merged.contains("created revision"), "{merged}");
    ok(p, env, &["migrate-up"]);
    let stamp = ok(p, env, &["migrate-stamp", "REVISION=e2f7b3c90d41"]);
    assert!(stamp.contains("current: e2f7b3c90d41"), "{stamp}");
    ok(p, env, &["migrate-stamp", "REVISION=heads"]);
    let graph = ok(p, env, &["migrate-graph"]);
    let dot = std::fs::read_to_string(p.path().join("migrations.dot")).unwrap();
    assert!(dot.starts_with("digraph braid"), "{graph}");
    assert!(
        dot.contains("\"c60a8d15e7f2\" [label=\"c60a8d15e7f2\\nadd orders\""),
        "{dot}"
    );
    // Graphviz is installed by `make test` (scripts/services.sh): the SVG too.
    let svg = std::fs::read_to_string(p.path().join("migrations.svg")).unwrap();
    assert!(
        svg.contains("c60a8d15e7f2") && svg.contains("<svg"),
        "{graph}"
    );
    let reset = ok(p, env, &["migrate-reset", "FORCE=1"]);
    assert!(reset.contains("current: base"), "{reset}");
    // Asking first: without a "yes" nothing is reverted.
    ok(p, env, &["migrate-up"]);
    let mut c = Command::new("make");
    c.args([
        "--no-print-directory",
        &format!("BRAID={}", env!("CARGO_BIN_EXE_braid")),
        "migrate-reset",
    ])
    .current_dir(p.path())
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"no\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("not reset"));
    let status = ok(p, env, &["migrate-status"]);
    assert!(status.contains("0 pending revisions"), "{status}");
    // Missing arguments say what to pass.
    for (target, hint) in [
        ("migrate-create", "make migrate-create MSG="),
        ("migrate-show", "make migrate-show REVISION="),
        ("migrate-stamp", "make migrate-stamp REVISION="),
        ("migrate-merge", "make migrate-merge MSG="),
    ] {
        let o = make(p, env, &[target]);
        assert_eq!(o.code, 2, "{target}: {}", o.text);
        assert!(o.text.contains(hint), "{target}: {}", o.text);
    }
}

#[test]
fn make_run_and_every_migrate_target_on_sqlite() {
    let p = example_project();
    let run = ok(&p, &[], &["run"]);
    assert!(run.contains("applied 7 revisions"), "{run}");
    assert!(
        run.contains("5ac0e6d2f918 (auth, catalog, core) (head) (current)"),
        "{run}"
    );
    ok(&p, &[], &["migrate-reset", "FORCE=1"]);
    every_migrate_target(&p, &[], "5ac0e6d2f918");
}

#[test]
fn every_migrate_target_on_postgresql_in_the_boneca_schema() {
    let p = example_project();
    let user = std::env::var("BRAID_TEST_PG_USER").unwrap_or_else(|_| "postgres".into());
    let env = [
        ("DATABASE_HOST", "127.0.0.1"),
        ("DATABASE_PORT", "5432"),
        ("DATABASE_NAME", "braid_workflow"),
        ("DATABASE_USER", user.as_str()),
        ("DATABASE_PASSWORD", "unused-with-trust-auth"),
        ("DATABASE_SCHEMA", "boneca"),
    ];
    let reset = "DROP SCHEMA IF EXISTS boneca CASCADE";
    let up = ok(&p, &env, &["db-up"]);
    assert!(up.contains("schema boneca"), "{up}");
    Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "braid_workflow",
            "-qc",
            reset,
        ])
        .output()
        .unwrap();
    ok(&p, &env, &["db-up", "db-test"]);
    // The PostgreSQL-only revision (CREATE INDEX CONCURRENTLY) is the head here.
    every_migrate_target(&p, &env, "9b07d4e1c2a5");
    let tables = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "braid_workflow", "-tAc",
               "SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'boneca'"])
        .output()
        .unwrap();
    let tables = String::from_utf8_lossy(&tables.stdout);
    assert!(
        tables.contains("braid_version") && tables.contains("orders") && tables.contains("users"),
        "{tables}"
    );
}

#[test]
fn the_readme_quick_start() {
    let p = Project::new();
    let mut t = String::new();
    p.step(&mut t, &["init"]);
    let created = p.step(&mut t, &["revision", "-m", "create users"]);
    let path = created
        .stdout
        .trim()
        .replace("[TMP]", &p.path().display().to_string());
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "-- braid:up\n\n\n-- braid:down\n",
        "-- braid:up\nCREATE TABLE users (id integer PRIMARY KEY, email varchar(255) NOT NULL UNIQUE);\n\n-- braid:down\nDROP TABLE users;",
    );
    std::fs::write(&path, text).unwrap();
    assert_eq!(p.step(&mut t, &["upgrade", "heads"]).code, 0, "{t}");
    let cur = p.step(&mut t, &["current"]);
    assert!(cur.stdout.contains("(head)"), "{t}");
    let hist = p.step(&mut t, &["history", "--indicate-current"]);
    assert!(hist.stdout.contains("(current), create users"), "{t}");
    assert_eq!(p.step(&mut t, &["downgrade", "-1"]).code, 0, "{t}");
    assert_eq!(p.step(&mut t, &["current"]).stdout, "", "{t}");
}

/// `make install` puts the binary, the completions and the manual page
/// under PREFIX; the bash script completes subcommands and options, and
/// `man ./braid.1` renders every command.
#[test]
fn install_gives_completions_and_a_manual_page() {
    let p = example_project();
    let stage = p.path().join("stage");
    ok(
        &p,
        &[],
        &[
            "install",
            "PREFIX=/usr",
            &format!("DESTDIR={}", stage.display()),
        ],
    );
    let usr = stage.join("usr");
    let bin = usr.join("bin/braid");
    let version = Command::new(&bin).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("braid "));
    let bash = usr.join("share/bash-completion/completions/braid");
    for (file, marker) in [
        ("share/zsh/site-functions/_braid", "#compdef braid"),
        (
            "share/fish/vendor_completions.d/braid.fish",
            "complete -c braid",
        ),
        ("share/man/man1/braid.1", ".TH braid 1"),
    ] {
        let text = std::fs::read_to_string(usr.join(file)).unwrap();
        assert!(text.contains(marker), "{file}: {text}");
    }
    let powershell = p.command(&["completions", "powershell"]).output().unwrap();
    assert!(String::from_utf8_lossy(&powershell.stdout).contains("Register-ArgumentCompleter"));

    // What bash offers after `braid up` and after `braid downgrade --d`.
    let complete = |words: &str| {
        let script = format!(
            "source {}; complete -p braid; COMP_WORDS=({words}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 )); \
             _braid braid \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            bash.display()
        );
        let out = Command::new("bash").arg("-c").arg(script).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let up = complete("braid up");
    assert!(
        up.starts_with("complete ") && up.lines().next().unwrap().ends_with("-F _braid braid"),
        "{up}"
    );
    let offered: Vec<&str> = up.lines().skip(1).collect();
    assert_eq!(offered, ["upgrade"], "{up}");
    let sub = complete("braid ''");
    for name in ["upgrade", "downgrade", "history", "completions", "check"] {
        assert!(sub.lines().any(|l| l == name), "{name} missing: {sub}");
    }
    let opts = complete("braid downgrade --d");
    assert!(opts.lines().any(|l| l == "--dry-run"), "{opts}");

    // `man ./braid.1` as a user types it, in the project where `make
    // install` wrote it.
    let man = Command::new("man")
        .arg("./braid.1")
        .current_dir(p.path())
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .unwrap();
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(
        man.status.success(),
        "{}",
        String::from_utf8_lossy(&man.stderr)
    );
    assert!(
        man.stderr.is_empty(),
        "man warned: {}",
        String::from_utf8_lossy(&man.stderr)
    );
    for heading in [
        "NAME",
        "SYNOPSIS",
        "SUBCOMMANDS",
        "BRAID UPGRADE",
        "BRAID DOWNGRADE",
    ] {
        assert!(page.contains(heading), "{heading} missing:\n{page}");
    }
    assert!(page.contains("--dry-run"), "{page}");
    assert!(!page.contains("braid-upgrade(1)"), "{page}");
}

/// `make migrate-verify` tests the example history in both directions on
/// a scratch database (SQLite in memory here).
#[test]
fn migrate_verify_checks_the_example_history() {
    let p = example_project();
    let out = ok(&p, &[], &["migrate-verify"]);
    assert!(
        out.contains("7 revisions checked: 0 not restored, 0 failed, 0 irreversible"),
        "{out}"
    );
    assert!(
        !p.path().join("braid.db").exists(),
        "verify touches no real database"
    );
}
