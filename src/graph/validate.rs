//! Builds the graph from records and reports every problem at once:
//! duplicate ids, missing parents and dependencies, cycles (with their
//! path), a branch label used twice, a label equal to a revision id.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use petgraph::graph::DiGraph;

use super::{EdgeKind, Graph, Node, Record};
use crate::revision::{BranchLabel, RevisionId};

/// One problem with the graph. `records` are indexes into the slice given
/// to [`Graph::build`], so the caller can name the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphProblem {
    DuplicateRevision {
        id: RevisionId,
        records: Vec<usize>,
    },
    MissingParent {
        revision: RevisionId,
        record: usize,
        parent: RevisionId,
    },
    MissingDependency {
        revision: RevisionId,
        record: usize,
        dependency: String,
    },
    Cycle {
        /// Each revision names the next one as a parent or dependency; the
        /// last names the first.
        path: Vec<RevisionId>,
        records: Vec<usize>,
    },
    LabelTwice {
        label: BranchLabel,
        revisions: [RevisionId; 2],
        records: [usize; 2],
    },
    LabelIsRevision {
        label: BranchLabel,
        revision: RevisionId,
        records: [usize; 2],
    },
}

impl GraphProblem {
    /// The records (files) the problem is about, first the one to fix.
    pub fn records(&self) -> Vec<usize> {
        match self {
            GraphProblem::DuplicateRevision { records, .. } => records.clone(),
            GraphProblem::MissingParent { record, .. }
            | GraphProblem::MissingDependency { record, .. } => vec![*record],
            GraphProblem::Cycle { records, .. } => records.clone(),
            GraphProblem::LabelTwice { records, .. }
            | GraphProblem::LabelIsRevision { records, .. } => records.to_vec(),
        }
    }
}

impl fmt::Display for GraphProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GraphProblem::DuplicateRevision { id, records } => write!(
                f,
                "revision `{id}` is declared {} times: revision ids must be unique",
                records.len()
            ),
            GraphProblem::MissingParent {
                revision, parent, ..
            } => write!(
                f,
                "revision `{revision}` names `{parent}` in down_revisions, but no revision `{parent}` exists"
            ),
            GraphProblem::MissingDependency {
                revision,
                dependency,
                ..
            } => write!(
                f,
                "revision `{revision}` depends on `{dependency}`, but no revision or branch label `{dependency}` exists"
            ),
            GraphProblem::Cycle { path, .. } => {
                let mut p: Vec<&str> = path.iter().map(RevisionId::as_str).collect();
                p.push(path[0].as_str());
                write!(
                    f,
                    "cycle in the revision graph: {} (each revision names the next in down_revisions or depends_on)",
                    p.join(" -> ")
                )
            }
            GraphProblem::LabelTwice {
                label, revisions, ..
            } => write!(
                f,
                "branch label `{label}` is declared by both `{}` and `{}`: a label names one branch",
                revisions[0], revisions[1]
            ),
            GraphProblem::LabelIsRevision {
                label, revision, ..
            } => write!(
                f,
                "branch label `{label}` of revision `{revision}` is also a revision id: targets could not tell them apart"
            ),
        }
    }
}

/// Every problem found in the graph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct GraphError {
    pub problems: Vec<GraphProblem>,
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "the revision graph is invalid ({n} problem{})",
            if n == 1 { "" } else { "s" }
        )
    }
}

pub(super) fn build(records: &[Record]) -> Result<Graph, GraphError> {
    let mut problems = Vec::new();
    let mut dag: DiGraph<RevisionId, EdgeKind> =
        DiGraph::with_capacity(records.len(), records.len() + records.len() / 8);
    let mut by_id: HashMap<RevisionId, Node> = HashMap::with_capacity(records.len());
    let mut record_of = Vec::with_capacity(records.len());
    let mut node_of_record: Vec<Option<Node>> = Vec::with_capacity(records.len());
    let mut duplicates: BTreeMap<&RevisionId, Vec<usize>> = BTreeMap::new();

    for (i, r) in records.iter().enumerate() {
        if let Some(first) = by_id.get(&r.id) {
            duplicates
                .entry(&r.id)
                .or_insert_with(|| vec![record_of[first.index()]])
                .push(i);
            node_of_record.push(None);
            continue;
        }
        let n = dag.add_node(r.id.clone());
        by_id.insert(r.id.clone(), n);
        record_of.push(i);
        node_of_record.push(Some(n));
    }
    for (id, recs) in duplicates {
        problems.push(GraphProblem::DuplicateRevision {
            id: id.clone(),
            records: recs,
        });
    }

    let count = dag.node_count();
    let mut labels: BTreeMap<BranchLabel, Node> = BTreeMap::new();
    let mut own_labels = vec![Vec::new(); count];
    for (i, r) in records.iter().enumerate() {
        let Some(n) = node_of_record[i] else { continue };
        for label in &r.labels {
            if let Some(other) = by_id.get(label.as_str()) {
                problems.push(GraphProblem::LabelIsRevision {
                    label: label.clone(),
                    revision: r.id.clone(),
                    records: [i, record_of[other.index()]],
                });
            } else if let Some(first) = labels.get(label) {
                problems.push(GraphProblem::LabelTwice {
                    label: label.clone(),
                    revisions: [dag[*first].clone(), r.id.clone()],
                    records: [record_of[first.index()], i],
                });
            } else {
                labels.insert(label.clone(), n);
            }
            own_labels[n.index()].push(label.clone());
        }
    }

    let mut parents = vec![Vec::new(); count];
    let mut deps = vec![Vec::new(); count];
    for (i, r) in records.iter().enumerate() {
        let Some(n) = node_of_record[i] else { continue };
        for p in &r.parents {
            match by_id.get(p) {
                Some(&pn) => {
                    parents[n.index()].push(pn);
                    dag.add_edge(pn, n, EdgeKind::Parent);
                }
                None => problems.push(GraphProblem::MissingParent {
                    revision: r.id.clone(),
                    record: i,
                    parent: p.clone(),
                }),
            }
        }
        for d in &r.depends_on {
            match by_id.get(d.as_str()).or_else(|| labels.get(d.as_str())) {
                Some(&dn) => {
                    if !parents[n.index()].contains(&dn) && !deps[n.index()].contains(&dn) {
                        deps[n.index()].push(dn);
                        dag.add_edge(dn, n, EdgeKind::Dependency);
                    }
                }
                None => problems.push(GraphProblem::MissingDependency {
                    revision: r.id.clone(),
                    record: i,
                    dependency: d.clone(),
                }),
            }
        }
    }

    for scc in petgraph::algo::tarjan_scc(&dag) {
        let cyclic = scc.len() > 1 || dag.find_edge(scc[0], scc[0]).is_some();
        if cyclic {
            let path = cycle_path(&dag, &parents, &deps, &scc);
            problems.push(GraphProblem::Cycle {
                records: path.iter().map(|n| record_of[n.index()]).collect(),
                path: path.iter().map(|n| dag[*n].clone()).collect(),
            });
        }
    }

    if !problems.is_empty() {
        problems.sort_by_key(|p| p.records().first().copied().unwrap_or(0));
        return Err(GraphError { problems });
    }

    let by_name = |a: &Node, b: &Node| dag[*a].cmp(&dag[*b]);
    let mut children = vec![Vec::new(); count];
    let mut dependents = vec![Vec::new(); count];
    for n in dag.node_indices() {
        for p in &parents[n.index()] {
            children[p.index()].push(n);
        }
        for d in &deps[n.index()] {
            dependents[d.index()].push(n);
        }
    }
    for list in children.iter_mut().chain(dependents.iter_mut()) {
        if list.len() > 1 {
            list.sort_by(by_name);
        }
    }
    let mut sorted: Vec<Node> = dag.node_indices().collect();
    sorted.sort_by(by_name);

    Ok(Graph {
        dag,
        by_id,
        sorted,
        parents,
        deps,
        children,
        dependents,
        labels,
        own_labels,
        record: record_of,
    })
}

/// A cycle inside one strongly connected component: from its smallest id,
/// follow parents and dependencies inside the component (smallest id
/// first) until a revision repeats.
fn cycle_path(
    dag: &DiGraph<RevisionId, EdgeKind>,
    parents: &[Vec<Node>],
    deps: &[Vec<Node>],
    scc: &[Node],
) -> Vec<Node> {
    let in_scc: std::collections::HashSet<Node> = scc.iter().copied().collect();
    let start = *scc.iter().min_by(|a, b| dag[**a].cmp(&dag[**b])).expect("scc");
    let mut path = vec![start];
    let mut position: HashMap<Node, usize> = HashMap::from([(start, 0)]);
    let mut current = start;
    loop {
        let next = parents[current.index()]
            .iter()
            .chain(&deps[current.index()])
            .copied()
            .filter(|n| in_scc.contains(n))
            .min_by(|a, b| dag[*a].cmp(&dag[*b]))
            .expect("every node of a cycle has an edge inside it");
        if let Some(&at) = position.get(&next) {
            return path.split_off(at);
        }
        position.insert(next, path.len());
        path.push(next);
        current = next;
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    fn problems(spec: &str) -> Vec<String> {
        try_graph(spec)
            .unwrap_err()
            .problems
            .iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn reports_every_problem_at_once() {
        // a1 twice, a parent and a dependency missing, a label twice.
        let p = problems(
            "a1:
             a1:
             b1: zz
             c1: a1 | nope
             d1: a1 @x
             e1: a1 @x",
        );
        assert_eq!(p.len(), 4, "{p:#?}");
        assert!(p[0].contains("`a1` is declared 2 times"));
        assert!(p[1].contains("names `zz` in down_revisions"));
        assert!(p[2].contains("depends on `nope`"));
        assert!(p[3].contains("`x` is declared by both `d1` and `e1`"));
    }

    #[test]
    fn cycles_come_with_their_path() {
        // a1 <- b1 <- c1 <- a1 (a cycle), and a self-loop.
        let p = problems("a1: c1\nb1: a1\nc1: b1\nd1: d1");
        assert_eq!(p.len(), 2, "{p:#?}");
        assert!(p.iter().any(|m| m.contains("a1 -> c1 -> b1 -> a1")), "{p:#?}");
        assert!(p.iter().any(|m| m.contains("d1 -> d1")), "{p:#?}");
    }

    #[test]
    fn cycles_through_dependencies_count() {
        let p = problems("a1: | b1\nb1: a1");
        assert_eq!(p.len(), 1, "{p:#?}");
        assert!(p[0].contains("cycle"));
    }

    #[test]
    fn label_equal_to_a_revision_id() {
        let p = problems("a1:\nb1: a1 @a1");
        assert!(p[0].contains("`a1` of revision `b1` is also a revision id"), "{p:?}");
    }

    #[test]
    fn depends_on_a_label_resolves_to_the_labelled_revision() {
        let g = graph("a1: @auth\nb1: | auth");
        assert_eq!(ids(&g, g.dependencies(n(&g, "b1"))), ["a1"]);
    }
}
