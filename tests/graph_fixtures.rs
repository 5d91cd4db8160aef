//! Runs every scenario in `graph-fixtures/`: a graph, questions about it,
//! and the expected answers (see graph-fixtures/README.md).

mod common;

use std::path::Path;

use braid::graph::{Graph, Node, Record};
use braid::plan;
use braid::revision::{BranchLabel, RevisionId};
use braid::target;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    description: String,
    graph: String,
    #[serde(default)]
    graph_errors: Vec<String>,
    #[serde(default)]
    question: Vec<Question>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Question {
    /// heads, real_heads, bases, branch_points, merge_points, resolve,
    /// upgrade, downgrade, stamp
    ask: String,
    #[serde(default)]
    current: Vec<String>,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    purge: bool,
    expect: Option<Vec<String>>,
    steps: Option<Vec<String>>,
    heads_after: Option<Vec<String>>,
    error: Option<String>,
    /// Why Alembic answers differently, checked by scripts/alembic_check.py.
    #[allow(dead_code)]
    alembic: Option<String>,
}

/// Records from the fixture's graph lines.
fn records(spec: &str) -> Vec<Record> {
    common::graph_lines(spec)
        .into_iter()
        .map(|g| Record {
            id: RevisionId::new(g.id).unwrap(),
            parents: g
                .parents
                .into_iter()
                .map(|p| RevisionId::new(p).unwrap())
                .collect(),
            depends_on: g.depends_on,
            labels: g
                .labels
                .into_iter()
                .map(|l| BranchLabel::new(l).unwrap())
                .collect(),
        })
        .collect()
}

fn ids(g: &Graph, nodes: &[Node]) -> Vec<String> {
    g.ids(nodes).map(str::to_owned).collect()
}

fn nodes(g: &Graph, ids: &[String]) -> Vec<Node> {
    ids.iter()
        .map(|i| {
            g.node(i)
                .unwrap_or_else(|| panic!("no revision {i} in the fixture"))
        })
        .collect()
}

fn answer(g: &Graph, q: &Question) -> Result<(Vec<String>, Option<Vec<String>>), String> {
    let current = nodes(g, &q.current);
    let parse = |t: &str| target::parse(t).map_err(|e| e.to_string());
    let plan_answer = |p: plan::Plan| {
        let steps: Vec<Node> = p.steps.iter().map(|s| s.node).collect();
        (ids(g, &steps), Some(ids(g, &p.after)))
    };
    Ok(match q.ask.as_str() {
        "heads" => (ids(g, &g.heads()), None),
        "real_heads" => (ids(g, &g.real_heads()), None),
        "bases" => (ids(g, &g.bases()), None),
        "branch_points" => {
            let v: Vec<Node> = g
                .sorted_nodes()
                .iter()
                .copied()
                .filter(|n| g.is_branch_point(*n))
                .collect();
            (ids(g, &v), None)
        }
        "merge_points" => {
            let v: Vec<Node> = g
                .sorted_nodes()
                .iter()
                .copied()
                .filter(|n| g.is_merge_point(*n))
                .collect();
            (ids(g, &v), None)
        }
        "resolve" => {
            let t = parse(q.target.as_deref().expect("target"))?;
            let n = target::resolve_revision(g, &t).map_err(|e| e.to_string())?;
            (
                n.map(|n| vec![g.id(n).to_string()]).unwrap_or_default(),
                None,
            )
        }
        "upgrade" => {
            let t = parse(q.target.as_deref().expect("target"))?;
            plan_answer(plan::upgrade(g, &current, &t).map_err(|e| e.to_string())?)
        }
        "downgrade" => {
            let t = parse(q.target.as_deref().expect("target"))?;
            plan_answer(plan::downgrade(g, &current, &t).map_err(|e| e.to_string())?)
        }
        "stamp" => {
            let ts = q
                .targets
                .iter()
                .map(|t| parse(t))
                .collect::<Result<Vec<_>, _>>()?;
            let heads = plan::stamp(g, &current, &ts, q.purge).map_err(|e| e.to_string())?;
            (ids(g, &heads), None)
        }
        other => panic!("unknown question `{other}`"),
    })
}

fn run_fixture(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let f: Fixture = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let mut failures = Vec::new();
    let g = match Graph::build(&records(&f.graph)) {
        Ok(g) => {
            if !f.graph_errors.is_empty() {
                failures.push(format!(
                    "{name}: expected graph errors {:?}, the graph is valid",
                    f.graph_errors
                ));
            }
            g
        }
        Err(e) => {
            let got: Vec<String> = e.problems.iter().map(|p| p.to_string()).collect();
            if got.len() != f.graph_errors.len()
                || !f
                    .graph_errors
                    .iter()
                    .zip(&got)
                    .all(|(want, got)| got.contains(want.as_str()))
            {
                failures.push(format!(
                    "{name}: graph errors\n  expected {:?}\n  got      {got:?}",
                    f.graph_errors
                ));
            }
            return failures;
        }
    };
    for (i, q) in f.question.iter().enumerate() {
        let label = format!(
            "{name} ({}) question {} `{}` {:?}",
            f.description,
            i + 1,
            q.ask,
            q.target.as_deref().unwrap_or("")
        );
        match (answer(&g, q), &q.error) {
            (Ok(_), Some(want)) => failures.push(format!(
                "{label}: expected error containing {want:?}, it succeeded"
            )),
            (Err(got), Some(want)) => {
                if !got.contains(want.as_str()) {
                    failures.push(format!(
                        "{label}: expected error containing {want:?}, got {got:?}"
                    ));
                }
            }
            (Err(got), None) => failures.push(format!("{label}: unexpected error {got:?}")),
            (Ok((main, after)), None) => {
                let want_main = q.expect.as_ref().or(q.steps.as_ref());
                match want_main {
                    Some(want) if *want != main => {
                        failures.push(format!("{label}: expected {want:?}, got {main:?}"))
                    }
                    None => failures.push(format!("{label}: says neither expect, steps nor error")),
                    _ => {}
                }
                if let (Some(want), Some(got)) = (&q.heads_after, &after)
                    && want != got
                {
                    failures.push(format!(
                        "{label}: heads after: expected {want:?}, got {got:?}"
                    ));
                }
            }
        }
    }
    failures
}

#[test]
fn graph_fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("graph-fixtures");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "expected the fixture scenarios in {}",
        dir.display()
    );
    let failures: Vec<String> = files.iter().flat_map(|f| run_fixture(f)).collect();
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
