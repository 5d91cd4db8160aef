//! Generates histories like the ones teams keep: a main line that forks
//! every 20 revisions into two branches of five revisions each, merged
//! back, with a branch label on some branches and a cross-branch
//! `depends_on` now and then. Written as braid SQL files and, for
//! comparison, as Alembic Python scripts.

// Shared by the benchmarks and the generator example; each uses a part.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;

/// One generated revision.
pub struct Rev {
    pub id: String,
    pub parents: Vec<String>,
    pub labels: Vec<String>,
    pub depends_on: Vec<String>,
    pub message: String,
}

fn id(i: usize) -> String {
    let h = blake3::hash(&(i as u64).to_le_bytes());
    format!("r{}", &h.to_hex()[..11])
}

/// The history of `n` revisions, oldest first.
pub fn history(n: usize) -> Vec<Rev> {
    let mut revs: Vec<Rev> = Vec::with_capacity(n);
    let mut tip: Option<String> = None;
    let (mut a, mut b): (Option<String>, Option<String>) = (None, None);
    let mut forks = 0usize;
    for i in 0..n {
        let k = i % 20;
        let me = id(i);
        let mut labels = Vec::new();
        let mut depends_on = Vec::new();
        let parents: Vec<String> = match k {
            1..=10 if tip.is_some() => {
                if k % 2 == 1 {
                    let p = a.clone().or_else(|| tip.clone()).unwrap();
                    a = Some(me.clone());
                    vec![p]
                } else {
                    let first = b.is_none();
                    let p = b.clone().or_else(|| tip.clone()).unwrap();
                    b = Some(me.clone());
                    if first && forks % 5 == 0 {
                        labels.push(format!("team_{forks}"));
                    }
                    if k == 6 && forks % 2 == 0 {
                        // A cross-branch dependency on the other branch.
                        depends_on.push(a.clone().unwrap());
                    }
                    vec![p]
                }
            }
            11 if a.is_some() && b.is_some() => {
                let ps = vec![a.take().unwrap(), b.take().unwrap()];
                forks += 1;
                ps
            }
            _ => tip.iter().cloned().collect(),
        };
        if !(1..=10).contains(&k) || a.is_none() && b.is_none() {
            tip = Some(me.clone());
        }
        if k == 11 {
            tip = Some(me.clone());
        }
        revs.push(Rev {
            id: me,
            parents,
            labels,
            depends_on,
            message: format!("change {i}"),
        });
    }
    // A history that ends inside a fork gets its branches merged.
    if let (Some(x), Some(y)) = (a, b) {
        revs.push(Rev {
            id: id(n),
            parents: vec![x, y],
            labels: Vec::new(),
            depends_on: Vec::new(),
            message: "final merge".into(),
        });
    }
    revs
}

fn toml_list(items: &[String]) -> String {
    let q: Vec<String> = items.iter().map(|s| format!("\"{s}\"")).collect();
    format!("[{}]", q.join(", "))
}

/// Writes braid SQL files, one per revision, into `dir`.
pub fn write_braid(dir: &Path, revs: &[Rev]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (i, r) in revs.iter().enumerate() {
        let mut s = String::new();
        let _ = writeln!(s, "-- revision = \"{}\"", r.id);
        let _ = writeln!(s, "-- down_revisions = {}", toml_list(&r.parents));
        if !r.labels.is_empty() {
            let _ = writeln!(s, "-- branch_labels = {}", toml_list(&r.labels));
        }
        if !r.depends_on.is_empty() {
            let _ = writeln!(s, "-- depends_on = {}", toml_list(&r.depends_on));
        }
        let _ = writeln!(s, "-- message = \"{}\"", r.message);
        let _ = writeln!(s, "-- created = \"2025-01-01T00:00:00Z\"\n");
        let _ = writeln!(
            s,
            "-- braid:up\nCREATE TABLE t_{} (id integer PRIMARY KEY);\n",
            r.id
        );
        let _ = writeln!(s, "-- braid:down\nDROP TABLE t_{};", r.id);
        let name = format!("2025_01_01_0000_{}_{i:06}.sql", r.id);
        std::fs::write(dir.join(name), s)?;
    }
    Ok(())
}

fn py_tuple(items: &[String]) -> String {
    match items {
        [] => "None".into(),
        [one] => format!("'{one}'"),
        many => format!(
            "({})",
            many.iter()
                .map(|s| format!("'{s}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Writes the same history as Alembic scripts into `dir`.
pub fn write_alembic(dir: &Path, revs: &[Rev]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (i, r) in revs.iter().enumerate() {
        let labels = if r.labels.is_empty() {
            "None".to_owned()
        } else {
            format!(
                "({},)",
                r.labels
                    .iter()
                    .map(|s| format!("'{s}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let s = format!(
            "\"\"\"{msg}\n\nRevision ID: {id}\n\"\"\"\nfrom alembic import op\n\nrevision = '{id}'\ndown_revision = {down}\nbranch_labels = {labels}\ndepends_on = {deps}\n\n\ndef upgrade():\n    op.execute(\"CREATE TABLE t_{id} (id integer PRIMARY KEY)\")\n\n\ndef downgrade():\n    op.execute(\"DROP TABLE t_{id}\")\n",
            msg = r.message,
            id = r.id,
            down = py_tuple(&r.parents),
            deps = py_tuple(&r.depends_on),
        );
        std::fs::write(dir.join(format!("{}_{i:06}.py", r.id)), s)?;
    }
    Ok(())
}
