//! The pictures and team checks on histories from graph-fixtures/: each
//! fixture's graph is written out as migration files, then drawn
//! (`graph --output FILE.svg`, `history --graph`), gated (`check
//! --single-head`) and rebased through the built binary.

mod common;

use common::Project;

/// Writes a fixture's graph as migration files; returns the ids.
fn materialize(p: &Project, fixture: &str) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("graph-fixtures")
        .join(fixture);
    let v: toml::Value = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut ids = Vec::new();
    for g in common::graph_lines(v["graph"].as_str().unwrap()) {
        let quoted = |items: &[String]| {
            items
                .iter()
                .map(|x| format!("\"{x}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let id = &g.id;
        p.write(
            &format!("migrations/{id}.sql"),
            &format!(
                "-- revision = \"{id}\"\n-- down_revisions = [{}]\n-- branch_labels = [{}]\n-- depends_on = [{}]\n-- message = \"change {id}\"\n\n-- braid:up\nCREATE TABLE t_{id} (id integer);\n\n-- braid:down\nDROP TABLE t_{id};\n",
                quoted(&g.parents),
                quoted(&g.labels),
                quoted(&g.depends_on)
            ),
        );
        ids.push(g.id);
    }
    ids
}

#[test]
fn fixtures_render_to_svg_with_every_revision() {
    for fixture in ["03_merge.toml", "07_depends_on.toml", "11_mixed.toml"] {
        let p = Project::new();
        let ids = materialize(&p, fixture);
        let r = p.run(&["upgrade", "heads"]);
        assert_eq!(r.code, 0, "{fixture}: {}", r.stderr);
        let r = p.run(&["graph", "--output", "g.svg"]);
        assert_eq!(r.code, 0, "{fixture}: {}", r.stderr);
        let svg = std::fs::read_to_string(p.path().join("g.svg")).unwrap();
        for id in &ids {
            assert!(
                svg.contains(&format!(">{id}")),
                "{fixture}: {id} missing from the SVG"
            );
        }
        let dot = p.run(&["graph"]).stdout;
        assert!(dot.contains(" -> "));
        assert_eq!(
            dot.matches("class=\"").count(),
            ids.len(),
            "{fixture}: one node per revision"
        );
    }
}

#[test]
fn fixtures_in_the_terminal_gate_and_rebase() {
    let mut t = String::new();
    let p = Project::new();
    materialize(&p, "11_mixed.toml");
    p.step(&mut t, &["upgrade", "m1"]);
    p.step(&mut t, &["history", "--graph", "--indicate-current"]);
    let colored = p.run(&["history", "--graph", "--color", "always"]);
    assert!(colored.stdout.contains("\x1b[3"), "colours on request");
    let plain = p.run(&["history", "--graph"]);
    assert!(!plain.stdout.contains('\x1b'), "no colours when piped");
    let r = p.step(&mut t, &["check", "--single-head"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("braid merge -m \"merge heads\" m2 x2"),
        "{}",
        r.stderr
    );

    // 02_fork: a late branch rebased onto the other head leaves one head.
    let q = Project::new();
    materialize(&q, "02_fork.toml");
    q.step(&mut t, &["check", "--single-head"]);
    q.step(&mut t, &["rebase", "b1", "--onto", "a2"]);
    let r = q.step(&mut t, &["check", "--single-head"]);
    assert_eq!(r.code, 0);
    q.step(&mut t, &["history", "--graph"]);
    snapshot!(t);
}
