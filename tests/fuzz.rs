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
        (texts, corrupted) in graph_files(),
        target in targets(),
    ) {
        let mut migrations = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            let m = parse(Path::new(&format!("{i}.sql")), text.as_bytes());
            prop_assert!(m.is_ok(), "{text}: {:?}", m.err());
            migrations.push(m.unwrap());
        }
        let count = migrations.len();
        match braid::history::History::from_migrations(migrations) {
            Ok(h) => {
                prop_assert!(corrupted.is_none(), "a {:?} graph was accepted", corrupted);
                // From nothing, `heads` applies every revision once.
                let all = braid::plan::upgrade(&h.graph, &[], &braid::target::Target::heads()).unwrap();
                prop_assert_eq!(all.steps.len(), count);
                if let Ok(t) = braid::target::parse(&target) {
                    let heads = h.graph.heads();
                    let _ = braid::plan::upgrade(&h.graph, &[], &t);
                    let _ = braid::plan::downgrade(&h.graph, &heads, &t);
                    let _ = braid::target::resolve_revision(&h.graph, &t);
                }
                let _ = Graph::newest_first(&h.graph);
            }
            Err(braid::history::HistoryError::Graph(problems)) => {
                prop_assert!(corrupted.is_some(), "a valid graph was refused: {:?}", problems.iter().map(|p| p.to_string()).collect::<Vec<_>>());
                prop_assert!(!problems.is_empty());
                for p in problems {
                    prop_assert!(!p.paths.is_empty(), "every problem names a file: {}", p);
                }
            }
            Err(e) => prop_assert!(false, "unexpected error {}", e),
        }
    }
}

/// How a generated graph was broken on purpose.
#[derive(Debug, Clone, Copy)]
enum Corruption {
    /// Two files declare the same revision.
    DuplicateId,
    /// A parent no file declares.
    MissingParent,
    /// The first revision made a child of the last: a cycle.
    Cycle,
    /// Two revisions carry the same branch label.
    DuplicateLabel,
}

/// Files of a graph valid by construction (each revision's parents and
/// dependencies come before it, labels are unique), of which about one
/// in five is then broken in one of [`Corruption`]'s ways.
fn graph_files() -> impl Strategy<Value = (Vec<String>, Option<Corruption>)> {
    let node = (
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        prop::bool::weighted(0.3),
    );
    (
        prop::collection::vec(node, 1..14),
        prop_oneof![
            8 => Just(None),
            1 => Just(Some(Corruption::DuplicateId)),
            1 => Just(Some(Corruption::MissingParent)),
            1 => Just(Some(Corruption::Cycle)),
            1 => Just(Some(Corruption::DuplicateLabel)),
        ],
    )
        .prop_map(|(nodes, corruption)| {
            let n = nodes.len();
            let mut parents: Vec<Vec<String>> = Vec::new();
            let mut deps: Vec<Vec<String>> = Vec::new();
            let mut labels: Vec<Vec<String>> = Vec::new();
            for (i, (a, b, d, labelled)) in nodes.iter().enumerate() {
                let mut p = Vec::new();
                if i > 0 {
                    // One parent mostly, two (a merge) sometimes, none (another base) rarely.
                    let first = usize::from(*a) % i;
                    match b % 8 {
                        0 => {}
                        1 | 2 if i > 1 => {
                            p.push(format!("r{first}"));
                            let second = usize::from(*b) % i;
                            if second != first {
                                p.push(format!("r{second}"));
                            }
                        }
                        _ => p.push(format!("r{first}")),
                    }
                }
                let mut dep = Vec::new();
                if i > 1 && d % 5 == 0 {
                    dep.push(format!("r{}", usize::from(*d) % (i - 1)));
                }
                parents.push(p);
                deps.push(dep);
                labels.push(if *labelled { vec![format!("lab{i}")] } else { Vec::new() });
            }
            let mut ids: Vec<String> = (0..n).map(|i| format!("r{i}")).collect();
            let corruption = match corruption {
                Some(Corruption::DuplicateId) if n > 1 => {
                    ids[n - 1] = ids[0].clone();
                    corruption
                }
                Some(Corruption::MissingParent) => {
                    parents[n - 1].push("gone".into());
                    corruption
                }
                Some(Corruption::Cycle) if n > 1 => {
                    parents[0].push(format!("r{}", n - 1));
                    parents[n - 1] = vec!["r0".into()];
                    corruption
                }
                Some(Corruption::DuplicateLabel) if n > 1 => {
                    labels[0] = vec!["twice".into()];
                    labels[n - 1] = vec!["twice".into()];
                    corruption
                }
                _ => None,
            };
            let q = |v: &Vec<String>| v.iter().map(|x| format!("\"{x}\"")).collect::<Vec<_>>().join(", ");
            let texts = (0..n)
                .map(|i| {
                    format!(
                        "-- revision = \"{}\"\n-- down_revisions = [{}]\n-- depends_on = [{}]\n-- branch_labels = [{}]\n-- braid:up\n",
                        ids[i],
                        q(&parents[i]),
                        q(&deps[i]),
                        q(&labels[i])
                    )
                })
                .collect();
            (texts, corruption)
        })
}

/// Targets as users write them: ids, prefixes, labels, `LABEL@REV`,
/// relative steps, and noise.
fn targets() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("heads".to_owned()),
        Just("head".to_owned()),
        Just("base".to_owned()),
        "r[0-9]{1,2}",
        "r",
        "[+-][1-3]",
        "r[0-9]{1,2}[+-][1-3]",
        "lab[0-9]{1,2}@head",
        "lab[0-9]{1,2}@r[0-9]{1,2}",
        "lab[0-9]{1,2}@[+-][1-3]",
        "lab[0-9]{1,2}",
        "[a-c0-9@+-]{1,6}",
    ]
}
