//! Shared helpers for tests that run the built `braid` binary.
#![allow(dead_code)]

pub mod scratch;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment variables braid reads its settings from: tests clear
/// them so the machine's own settings never leak in.
pub const SETTINGS_VARS: [&str; 8] = [
    "DATABASE_URL",
    "DATABASE_HOST",
    "DATABASE_PORT",
    "DATABASE_NAME",
    "DATABASE_USER",
    "DATABASE_PASSWORD",
    "DATABASE_SCHEMA",
    "BRAID_CONFIG",
];

/// A scratch project directory and a way to run braid in it.
pub struct Project {
    pub dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

/// What one run printed.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Project {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            env: vec![("BRAID_NOW".into(), "2025-09-19T14:00:00Z".into())],
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn env(&mut self, k: &str, v: &str) -> &mut Self {
        self.env.push((k.into(), v.into()));
        self
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_braid"));
        c.args(args).current_dir(self.path());
        for var in SETTINGS_VARS.iter().chain(&["NO_COLOR"]) {
            c.env_remove(var);
        }
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let out = self.command(args).output().unwrap();
        let scrub = |b: &[u8]| {
            let s = String::from_utf8_lossy(b).to_string();
            let real = std::fs::canonicalize(self.path()).unwrap();
            s.replace(&real.display().to_string(), "[TMP]")
                .replace(&self.path().display().to_string(), "[TMP]")
        };
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: scrub(&out.stdout),
            stderr: scrub(&out.stderr),
        }
    }

    /// Runs braid and appends a transcript entry to `t`.
    pub fn step(&self, t: &mut String, args: &[&str]) -> Run {
        let r = self.run(args);
        t.push_str(&format!("$ braid {}\n", args.join(" ")));
        if !r.stdout.is_empty() {
            t.push_str(&r.stdout);
            if !r.stdout.ends_with('\n') {
                t.push('\n');
            }
        }
        if !r.stderr.is_empty() {
            for line in r.stderr.lines() {
                t.push_str("! ");
                t.push_str(line);
                t.push('\n');
            }
        }
        t.push_str(&format!("[exit {}]\n\n", r.code));
        r
    }
}

/// A migration file with the given header and SQL.
pub fn migration(rev: &str, down: &[&str], extra: &str, up: &str, downsql: Option<&str>) -> String {
    let downs: Vec<String> = down.iter().map(|d| format!("\"{d}\"")).collect();
    let mut s = format!(
        "-- revision = \"{rev}\"\n-- down_revisions = [{}]\n-- message = \"{rev}\"\n{extra}\n-- braid:up\n{up}\n",
        downs.join(", ")
    );
    if let Some(d) = downsql {
        s.push_str(&format!("\n-- braid:down\n{d}\n"));
    }
    s
}

/// Asserts a transcript snapshot with timings scrubbed.
#[macro_export]
macro_rules! snapshot {
    ($t:expr) => {
        insta::with_settings!({filters => vec![
            (r"\(\d+(\.\d+)?m?s\)", "([TIME])"),
            (r"in \d+\.\d+s", "in [TIME]"),
        ]}, {
            insta::assert_snapshot!($t);
        });
    };
}

/// One line of the graph-fixtures format:
/// `id: parent parent | dependency dependency @label`.
pub struct GraphLine {
    pub id: String,
    pub parents: Vec<String>,
    pub depends_on: Vec<String>,
    pub labels: Vec<String>,
}

/// Parses a graph-fixtures graph (blank lines and `#` comments skipped).
pub fn graph_lines(spec: &str) -> Vec<GraphLine> {
    spec.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (id, rest) = line.split_once(':').expect("`id: …`");
            let mut g = GraphLine {
                id: id.trim().to_owned(),
                parents: Vec::new(),
                depends_on: Vec::new(),
                labels: Vec::new(),
            };
            let mut in_deps = false;
            for word in rest.split_whitespace() {
                if word == "|" {
                    in_deps = true;
                } else if let Some(l) = word.strip_prefix('@') {
                    g.labels.push(l.to_owned());
                } else if in_deps {
                    g.depends_on.push(word.to_owned());
                } else {
                    g.parents.push(word.to_owned());
                }
            }
            g
        })
        .collect()
}

/// A chain of `n` revisions: the first creates `applied_log`, each other
/// one logs itself there (then runs `sleep`, SQL that takes a while, if
/// any), so a test can count how often each revision's effect happened.
pub fn logged_chain(p: &Project, n: usize, sleep: &str) {
    p.write(
        "migrations/000.sql",
        &migration(
            "r000",
            &[],
            "",
            "CREATE TABLE applied_log (rev varchar(20) NOT NULL);",
            Some("DROP TABLE applied_log;"),
        ),
    );
    for i in 1..n {
        let rev = format!("r{i:03}");
        let prev = format!("r{:03}", i - 1);
        let up = format!("INSERT INTO applied_log VALUES ('{rev}');\n{sleep}");
        p.write(
            &format!("migrations/{i:03}.sql"),
            &migration(
                &rev,
                &[&prev],
                "",
                &up,
                Some(&format!("DELETE FROM applied_log WHERE rev = '{rev}';")),
            ),
        );
    }
}

/// Waits until a run started in the background has recorded its first
/// revision (machines under load start slowly), then a little more.
pub fn wait_until_under_way(p: &Project) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while p.run(&["current"]).stdout.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
}

/// Library settings for a URL and, for PostgreSQL, a schema, resolved in
/// a directory without braid.toml so nothing else counts.
pub fn settings(url: &str, schema: Option<&str>) -> braid::config::Settings {
    let dir = tempfile::tempdir().unwrap();
    let schema = schema.map(str::to_owned);
    braid::config::Settings::resolve(
        &braid::config::Overrides {
            config: None,
            url: Some(url.to_owned()),
        },
        &|name| {
            (name == "DATABASE_SCHEMA")
                .then(|| schema.clone())
                .flatten()
        },
        dir.path(),
    )
    .unwrap()
}

/// A program of `.venv-bench/`, the throwaway virtualenv `make test`
/// makes (Alembic, SQLAlchemy, psycopg2).
pub fn venv(bin: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".venv-bench/bin")
        .join(bin);
    assert!(
        p.exists(),
        "{} is missing: `make test` installs Alembic and SQLAlchemy into .venv-bench first",
        p.display()
    );
    p
}

/// Runs a program that must succeed (its stderr shown if not); its output.
pub fn succeed(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        cmd.get_program(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `status --format json`'s revisions as (revision, state), in its order.
pub fn status_states(v: &serde_json::Value) -> Vec<(String, String)> {
    v["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["revision"].as_str().unwrap().to_owned(),
                r["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}
