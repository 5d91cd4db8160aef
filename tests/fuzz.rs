//! Fuzzing with proptest (cargo-fuzz needs a nightly toolchain this project
//! does not assume): the migration-file parser, the target grammar and
//! graph building from arbitrary headers never panic, and every rejection
//! is an error that says where. `PROPTEST_CASES` raises the count (`make
//! fuzz`).

use std::path::Path;

use braid::graph::Graph;
use braid::migration::parse;
use proptest::prelude::*;

/// Text that looks like a migration file: header-ish lines, markers, SQL,
/// and noise, so the fuzzer reaches deep into the parser.
fn migration_like() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("-- revision = \"r1\"".to_owned()),
        Just("-- down_revisions = []".to_owned()),
        Just("-- down_revisions = [\"r0\"]".to_owned()),
        Just("-- branch_labels = [\"a\"]".to_owned()),
        Just("-- depends_on = [\"x\"]".to_owned()),
        Just("-- transactional = false".to_owned()),
        Just("-- created = \"2025-01-01T00:00:00Z\"".to_owned()),
        Just("-- braid:up".to_owned()),
        Just("-- braid:down".to_owned()),
        Just("".to_owned()),
        "-- [a-z_]{1,8} = .{0,12}",
        "-- .{0,20}",
        ".{0,30}",
        "CREATE TABLE t(x int);",
    ];
    prop::collection::vec(line, 0..12).prop_map(|l| l.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(512)
    ))]

    #[test]
    fn the_file_parser_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Err(e) = parse(Path::new("f.sql"), &bytes) {
            prop_assert!(!e.message.is_empty());
            prop_assert!(e.to_string().starts_with("f.sql"));
        }
    }

    #[test]
    fn the_file_parser_never_panics_on_migration_like_text(text in migration_like()) {
        match parse(Path::new("f.sql"), text.as_bytes()) {
            Ok(m) => {
                // What parsed holds together: sections inside the text.
                prop_assert!(m.up.range.end <= m.source.len());
                prop_assert!(m.up_sql().len() <= m.source.len());
            }
            Err(e) => {
                // Lines as braid counts them: `\r\n` and a lone `\r` end a
                // line too (found by this property).
                let lines = text.replace("\r\n", "\n").replace('\r', "\n").lines().count().max(1);
                if let Some(line) = e.line {
                    prop_assert!(line >= 1 && line <= lines + 1, "line {} of {}: {}", line, lines, e);
                }
            }
        }
    }

    #[test]
    fn the_target_grammar_never_panics(s in ".{0,24}", t in "[a-z0-9@+:-]{0,12}") {
        for input in [s, t] {
            if let Err(e) = braid::target::parse(&input) {
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    #[test]
    fn graphs_from_arbitrary_headers_never_panic(
        files in prop::collection::vec(
            ("[a-c][0-9]", prop::collection::vec("[a-c][0-9]", 0..3), prop::collection::vec("[a-c][0-9]", 0..2), prop::collection::vec("[a-c][0-9]|lab", 0..2)),
            0..12,
        ),
        target in "[a-c0-9@+-]{1,6}|heads|head|base",
    ) {
        let mut migrations = Vec::new();
        for (i, (id, parents, deps, labels)) in files.iter().enumerate() {
            let q = |v: &Vec<String>| v.iter().map(|x| format!("\"{x}\"")).collect::<Vec<_>>().join(", ");
            let text = format!(
                "-- revision = \"{id}\"\n-- down_revisions = [{}]\n-- depends_on = [{}]\n-- branch_labels = [{}]\n-- braid:up\n",
                q(parents), q(deps), q(labels)
            );
            if let Ok(m) = parse(Path::new(&format!("{i}.sql")), text.as_bytes()) {
                migrations.push(m);
            }
        }
        match braid::history::History::from_migrations(migrations) {
            Ok(h) => {
                if let Ok(t) = braid::target::parse(&target) {
                    let heads = h.graph.heads();
                    let _ = braid::plan::upgrade(&h.graph, &[], &t);
                    let _ = braid::plan::downgrade(&h.graph, &heads, &t);
                    let _ = braid::target::resolve_revision(&h.graph, &t);
                }
                let _ = Graph::newest_first(&h.graph);
            }
            Err(braid::history::HistoryError::Graph(problems)) => {
                prop_assert!(!problems.is_empty());
                for p in problems {
                    prop_assert!(!p.paths.is_empty(), "every problem names a file: {}", p);
                }
            }
            Err(e) => prop_assert!(false, "unexpected error {}", e),
        }
    }
}
