//! Shared helpers for tests that run the built `braid` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

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
        for var in [
            "DATABASE_URL",
            "DATABASE_HOST",
            "DATABASE_PORT",
            "DATABASE_NAME",
            "DATABASE_USER",
            "DATABASE_PASSWORD",
            "DATABASE_SCHEMA",
            "BRAID_CONFIG",
            "NO_COLOR",
        ] {
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
