//! Peak memory stays flat in the number of revisions applied: applying ten
//! times as many revisions costs only their files' size more. (The long
//! soak, 10,000 revisions up, down and up on SQLite and PostgreSQL, is
//! `make soak`.)

mod common;

use std::process::Command;

use common::{Project, migration};

/// Peak resident memory (KB) of `braid upgrade heads` then `downgrade base`
/// over a chain of `n` revisions on SQLite.
fn peak_kb(n: usize) -> (u64, u64) {
    let p = Project::new();
    for i in 0..n {
        let down: Vec<String> = if i == 0 {
            vec![]
        } else {
            vec![format!("r{:05}", i - 1)]
        };
        let down: Vec<&str> = down.iter().map(String::as_str).collect();
        p.write(
            &format!("migrations/{i:05}.sql"),
            &migration(
                &format!("r{i:05}"),
                &down,
                "",
                &format!("CREATE TABLE t{i} (id integer);"),
                Some(&format!("DROP TABLE t{i};")),
            ),
        );
    }
    let measure = |args: &[&str]| {
        let out = Command::new("/usr/bin/time")
            .arg("-f")
            .arg("peak=%M")
            .arg(env!("CARGO_BIN_EXE_braid"))
            .arg("--quiet")
            .args(args)
            .current_dir(p.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        err.lines()
            .find_map(|l| l.strip_prefix("peak="))
            .unwrap()
            .trim()
            .parse::<u64>()
            .unwrap()
    };
    (
        measure(&["upgrade", "heads"]),
        measure(&["downgrade", "base"]),
    )
}

#[test]
fn peak_memory_is_flat_in_the_number_of_revisions_applied() {
    let (up_small, down_small) = peak_kb(150);
    let (up_large, down_large) = peak_kb(1500);
    // 1,350 more files of ~250 bytes are ~0.35 MB; allow 6 MB for the
    // allocator's slack. Memory that grew with each step applied would
    // show as tens of megabytes here.
    for (small, large, what) in [
        (up_small, up_large, "upgrade"),
        (down_small, down_large, "downgrade"),
    ] {
        assert!(
            large < small + 6 * 1024,
            "{what}: {small} KB for 150 revisions, {large} KB for 1,500"
        );
    }
}
