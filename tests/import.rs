//! `braid import alembic` on a real Alembic project (Alembic from
//! `.venv-bench/`, which `make test` installs first): the graph read
//! without running Python, each revision's SQL from Alembic's offline
//! mode, and the result proven against Alembic itself on SQLite and
//! PostgreSQL: same heads, branches and edges, equal schemas, and a
//! database Alembic left on one branch head continued by braid.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Project, succeed, venv};
use sqlx::Connection;

const PG: &str = "postgres://postgres@127.0.0.1:5432";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Writes the Alembic project under `root` with `url` in its alembic.ini.
fn alembic_project(root: &Path, url: &str) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/alembic_project.py");
    succeed(
        Command::new(venv("python"))
            .arg(script)
            .arg(root)
            .arg(url)
            .arg(venv("alembic")),
    );
}

fn alembic(root: &Path, args: &[&str]) -> String {
    let out = succeed(Command::new(venv("alembic")).args(args).current_dir(root));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Imports the project into `p`, for the engine of `url`.
fn import(p: &Project, root: &Path, url: &str) -> common::Run {
    let r = p.run(&[
        "--url",
        url,
        "import",
        "alembic",
        root.join("alembic/versions").to_str().unwrap(),
        "--alembic-ini",
        root.join("alembic.ini").to_str().unwrap(),
        "--python",
        venv("python").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r
}

/// The untranslated revision, translated by hand: its SQL written and the
/// mark removed.
fn translate(p: &Project) {
    let dir = p.path().join("migrations");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|f| f.to_string_lossy().contains("x1read"))
        .unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let header_end = text.find("-- braid:untranslated").unwrap();
    std::fs::write(
        &file,
        format!(
            "{}-- braid:up\nUPDATE users SET credits = 1;\n\n-- braid:down\n",
            &text[..header_end]
        ),
    )
    .unwrap();
}

fn edges(json: &str) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let mut e: Vec<(String, String)> = v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "parent")
        .map(|e| {
            (
                e["from"].as_str().unwrap().to_owned(),
                e["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    e.sort();
    e
}

#[test]
fn an_alembic_project_moves_to_braid_on_sqlite() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("alembic_project");
    let alembic_db = work.path().join("alembic.db");
    alembic_project(&root, &format!("sqlite:///{}", alembic_db.display()));
    alembic(&root, &["upgrade", "heads"]);

    let p = Project::new();
    let braid_url = format!("sqlite://{}/braid.db", p.path().display());
    let r = import(&p, &root, &braid_url);
    assert!(r.stdout.contains("| 7 | 6 | 1 |"), "{}", r.stdout);
    assert!(r.stderr.contains("untranslated: x1read"), "{}", r.stderr);
    let toml = std::fs::read_to_string(p.path().join("braid.toml")).unwrap();
    assert!(
        toml.contains("version_table = \"alembic_version\""),
        "{toml}"
    );

    // The same graph as Alembic's.
    let heads = p.run(&["heads"]).stdout;
    assert!(heads.starts_with("x1read"), "{heads}");
    assert!(alembic(&root, &["heads"]).starts_with("x1read"));
    let branches = p.run(&["branches"]).stdout;
    assert!(branches.contains("r0base"), "{branches}");
    assert!(alembic(&root, &["branches"]).contains("r0base"));
    let history = alembic(&root, &["history"]);
    let mut alembic_edges: Vec<(String, String)> = history
        .lines()
        .filter_map(|l| {
            let (parents, rest) = l.split_once(" -> ")?;
            let child = rest.split([' ', ',']).next()?;
            // `b1bill (a1auth) -> b2inv`: the part in parentheses is a
            // dependency, not a parent.
            let parents = match parents.split_once(" (") {
                Some((p, _)) => p,
                None => parents,
            };
            Some(
                parents
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .trim_start_matches("base")
                    .split(", ")
                    .filter(|x| !x.is_empty())
                    .map(|x| {
                        (
                            x.trim_start_matches('(').trim_end_matches(')').to_owned(),
                            child.to_owned(),
                        )
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .flatten()
        .collect();
    alembic_edges.sort();
    let braid_edges = edges(&p.run(&["graph", "--format", "json"]).stdout);
    assert_eq!(braid_edges, alembic_edges, "history:\n{history}");

    // Untranslated: nothing runs until someone writes its SQL.
    let r = p.run(&["--url", &braid_url, "upgrade", "heads"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("revision `x1read` is untranslated"),
        "{}",
        r.stderr
    );
    assert!(!p.path().join("braid.db").exists(), "nothing ran");
    let r = p.run(&["check", "--no-db"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("x1read"), "{}", r.stderr);
    translate(&p);

    // The same schema as Alembic's.
    p.run(&["--url", &braid_url, "upgrade", "heads"]);
    let braid_schema = p
        .run(&["--url", &braid_url, "schema", "--format", "json"])
        .stdout;
    let alembic_schema = p
        .run(&[
            "--url",
            &format!("sqlite://{}", alembic_db.display()),
            "schema",
            "--format",
            "json",
        ])
        .stdout;
    assert!(braid_schema.contains("invoices"), "{braid_schema}");
    assert_eq!(braid_schema, alembic_schema);
    // braid takes over the database Alembic upgraded: nothing to do.
    let alembic_url = format!("sqlite://{}", alembic_db.display());
    assert_eq!(
        p.run(&["--url", &alembic_url, "current"]).stdout,
        "x1read (auth, billing, core) (head)\n"
    );
    let r = p.run(&["--url", &alembic_url, "upgrade", "heads"]);
    assert!(r.stderr.contains("nothing to do"), "{}", r.stderr);
}

#[test]
fn an_alembic_project_moves_to_braid_on_postgres() {
    let pid = std::process::id();
    let dbs = [
        format!("braid_imp_alembic_{pid}"),
        format!("braid_imp_braid_{pid}"),
        format!("braid_imp_branch_{pid}"),
    ];
    rt().block_on(async {
        let mut c = sqlx::PgConnection::connect(&format!("{PG}/postgres"))
            .await
            .unwrap();
        for d in &dbs {
            for sql in [
                format!("DROP DATABASE IF EXISTS {d}"),
                format!("CREATE DATABASE {d}"),
            ] {
                sqlx::raw_sql(&sql).execute(&mut c).await.unwrap();
            }
        }
    });
    let url = |d: &str| format!("{PG}/{d}");
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("alembic_project");
    alembic_project(
        &root,
        &format!("postgresql+psycopg2://postgres@127.0.0.1:5432/{}", dbs[0]),
    );
    alembic(&root, &["upgrade", "heads"]);

    let p = Project::new();
    let r = import(&p, &root, &url(&dbs[1]));
    assert!(r.stdout.contains("| 7 | 6 | 1 |"), "{}", r.stdout);
    let first = std::fs::read_dir(p.path().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|f| f.to_string_lossy().contains("r0base"))
        .unwrap();
    let text = std::fs::read_to_string(first).unwrap();
    assert!(
        text.contains("CREATE TYPE user_status AS ENUM ('active', 'closed')"),
        "{text}"
    );
    translate(&p);
    let r = p.run(&["--url", &url(&dbs[1]), "upgrade", "heads"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let schema_of = |d: &str| {
        p.run(&["--url", &url(d), "schema", "--format", "json"])
            .stdout
    };
    assert!(schema_of(&dbs[1]).contains("user_status"));
    assert_eq!(schema_of(&dbs[1]), schema_of(&dbs[0]));

    // Alembic took a third database to one branch head; braid goes on.
    let mut ini = std::fs::read_to_string(root.join("alembic.ini")).unwrap();
    ini = ini.replace(&dbs[0], &dbs[2]);
    std::fs::write(root.join("alembic.ini"), ini).unwrap();
    alembic(&root, &["upgrade", "a1auth"]);
    assert_eq!(
        p.run(&["--url", &url(&dbs[2]), "current"]).stdout,
        "a1auth (auth, core)\n"
    );
    let r = p.run(&["--url", &url(&dbs[2]), "upgrade", "heads"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(schema_of(&dbs[2]), schema_of(&dbs[0]));
    let r = p.run(&["--url", &url(&dbs[2]), "downgrade", "base"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let left = schema_of(&dbs[2]);
    let v: serde_json::Value = serde_json::from_str(&left).unwrap();
    assert_eq!(v["tables"], serde_json::json!({}), "{left}");
    assert!(v.get("enums").is_none(), "{left}");

    rt().block_on(async {
        let mut c = sqlx::PgConnection::connect(&format!("{PG}/postgres"))
            .await
            .unwrap();
        for d in &dbs {
            let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {d} WITH (FORCE)"))
                .execute(&mut c)
                .await;
        }
    });
}

#[test]
fn bad_alembic_projects_are_named_and_nothing_is_written() {
    let work = tempfile::tempdir().unwrap();
    let versions = work.path().join("versions");
    std::fs::create_dir_all(&versions).unwrap();
    let rev = |name: &str, text: &str| std::fs::write(versions.join(name), text).unwrap();
    rev("a.py", "revision = 'a1'\ndown_revision = None\n");
    rev("b.py", "revision = 'b1'\ndown_revision = 'a1'\n");
    let p = Project::new();
    let run = |extra: &[&str]| {
        let mut args = vec!["import", "alembic", versions.to_str().unwrap()];
        args.extend(extra);
        p.run(&args)
    };
    let nothing_written = || {
        assert!(!p.path().join("migrations").exists());
        assert!(!p.path().join("braid.toml").exists());
    };
    // A syntax error.
    rev("c.py", "revision = 'c1'\ndown_revision = ('b1'\n");
    let r = run(&[]);
    assert_eq!(r.code, 1);
    // Named where the bracket opens (line 2), as Python names it.
    assert!(
        r.stderr.contains("error: a bracket is not closed\n") && r.stderr.contains("c.py:2\n"),
        "{}",
        r.stderr
    );
    nothing_written();
    // A duplicate id; a missing parent.
    rev("c.py", "revision = 'a1'\ndown_revision = None\n");
    let r = run(&[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("revision `a1` is declared 2 times"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("a.py") && r.stderr.contains("c.py"),
        "{}",
        r.stderr
    );
    nothing_written();
    rev("c.py", "revision = 'c1'\ndown_revision = 'nope'\n");
    let r = run(&[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("nope") && r.stderr.contains("c.py"),
        "{}",
        r.stderr
    );
    nothing_written();
    // A label from the project's code without --define, then with it.
    rev(
        "c.py",
        "revision = 'c1'\ndown_revision = 'b1'\nbranch_labels = (cli.EXPAND,)\n",
    );
    let r = run(&[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("c.py:3") && r.stderr.contains("--define cli.EXPAND=VALUE"),
        "{}",
        r.stderr
    );
    nothing_written();
    // An alembic.ini that does not load.
    let ini = work.path().join("alembic.ini");
    std::fs::write(&ini, "[alembic]\nscript_location = nowhere\n").unwrap();
    let r = run(&[
        "--define",
        "cli.EXPAND=expand",
        "--alembic-ini",
        ini.to_str().unwrap(),
        "--python",
        venv("python").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("Alembic could not run the project"),
        "{}",
        r.stderr
    );
    nothing_written();
    // Headers only, then never over an existing directory without --force.
    let r = run(&["--define", "cli.EXPAND=expand"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("| 3 | 0 | 3 |"), "{}", r.stdout);
    assert_eq!(p.run(&["heads"]).stdout, "c1 (expand) (head)\n");
    let r = run(&["--define", "cli.EXPAND=expand"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("already exists: pass --force"),
        "{}",
        r.stderr
    );
    assert_eq!(run(&["--define", "cli.EXPAND=expand", "--force"]).code, 0);
}

/// The models Alembic's autogenerate compares against (`target_metadata`
/// in env.py) become braid's desired schema; `target_metadata = None`
/// (Alembic's template) leaves none.
#[test]
fn the_models_env_py_names_become_the_desired_schema() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("alembic_project");
    alembic_project(
        &root,
        &format!("sqlite:///{}", work.path().join("a.db").display()),
    );
    let p = Project::new();
    let braid_url = format!("sqlite://{}/braid.db", p.path().display());
    import(&p, &root, &braid_url);
    let toml = std::fs::read_to_string(p.path().join("braid.toml")).unwrap();
    assert!(!toml.contains("[schema]"), "{toml}");
    let env_py = root.join("alembic/env.py");
    let text = std::fs::read_to_string(&env_py).unwrap();
    assert!(text.contains("target_metadata = None"), "{text}");
    std::fs::write(
        &env_py,
        text.replace(
            "target_metadata = None",
            "from boneca.models import Base  # noqa\ntarget_metadata = Base.metadata",
        ),
    )
    .unwrap();
    let again = Project::new();
    let url = format!("sqlite://{}/braid.db", again.path().display());
    import(&again, &root, &url);
    let toml = std::fs::read_to_string(again.path().join("braid.toml")).unwrap();
    assert!(
        toml.contains("[schema]\ndesired = [\"sqlalchemy:boneca.models:Base\"]"),
        "{toml}"
    );
}
