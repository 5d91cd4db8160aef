//! Builds the graph from records and reports every problem at once:
//! duplicate ids, missing parents and dependencies, cycles (with their
//! path), a branch label used twice, a label equal to a revision id.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use petgraph::graph::DiGraph;

use super::{Adjacency, Declares, EdgeKind, Graph, Node};
use crate::revision::{BranchLabel, RevisionId};

/// One problem with the graph. `records` are indexes into the slice given
/// to [`Graph::build`], so the caller can name the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphProblem {
    /// Two files declare one revision id.
    DuplicateRevision {
        /// The id.
        id: RevisionId,
        /// The records (files) declaring it.
        records: Vec<usize>,
    },
    /// A `down_revisions` entry names no revision.
    MissingParent {
        /// The revision naming the parent.
        revision: RevisionId,
        /// Its record.
        record: usize,
        /// The parent that does not exist.
        parent: RevisionId,
    },
    /// A `depends_on` entry names no revision or label.
    MissingDependency {
        /// The revision naming the dependency.
        revision: RevisionId,
        /// Its record.
        record: usize,
        /// The dependency that does not exist.
        dependency: String,
    },
    /// Revisions that name each other round in a circle.
    Cycle {
        /// Each revision names the next one as a parent or dependency; the
        /// last names the first.
        path: Vec<RevisionId>,
        /// The records of the revisions on the cycle.
        records: Vec<usize>,
    },
    /// Two revisions declare one label.
    LabelTwice {
        /// The label.
        label: BranchLabel,
        /// The two revisions declaring it.
        revisions: [RevisionId; 2],
        /// Their records.
        records: [usize; 2],
    },
    /// A label spelled like a revision id.
    LabelIsRevision {
        /// The label.
        label: BranchLabel,
        /// The revision whose id it is.
        revision: RevisionId,
        /// The records of the label's revision and of that revision.
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

impl GraphProblem {
    /// The header key to fix in each of [`GraphProblem::records`]' files.
    pub fn header_key(&self) -> &'static str {
        match self {
            GraphProblem::DuplicateRevision { .. } => "revision",
            GraphProblem::MissingParent { .. } | GraphProblem::Cycle { .. } => "down_revisions",
            GraphProblem::MissingDependency { .. } => "depends_on",
            GraphProblem::LabelTwice { .. } | GraphProblem::LabelIsRevision { .. } => {
                "branch_labels"
            }
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
    /// Every problem found, in file order.
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

pub(super) fn build<R: Declares>(records: &[R]) -> Result<Graph, GraphError> {
    let mut problems = Vec::new();

    // The first record of each id is kept; later ones are duplicates.
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(records.len());
    let mut duplicates: BTreeMap<&RevisionId, Vec<usize>> = BTreeMap::new();
    let mut kept: Vec<usize> = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        match first.get(r.id().as_str()) {
            Some(&f) => duplicates.entry(r.id()).or_insert_with(|| vec![f]).push(i),
            None => {
                first.insert(r.id().as_str(), i);
                kept.push(i);
            }
        }
    }
    for (id, recs) in duplicates {
        problems.push(GraphProblem::DuplicateRevision {
            id: id.clone(),
            records: recs,
        });
    }

    let mut label_of: BTreeMap<&str, usize> = BTreeMap::new();
    for &i in &kept {
        for label in records[i].labels() {
            if let Some(&other) = first.get(label.as_str()) {
                problems.push(GraphProblem::LabelIsRevision {
                    label: label.clone(),
                    revision: records[i].id().clone(),
                    records: [i, other],
                });
            } else if let Some(&f) = label_of.get(label.as_str()) {
                problems.push(GraphProblem::LabelTwice {
                    label: label.clone(),
                    revisions: [records[f].id().clone(), records[i].id().clone()],
                    records: [f, i],
                });
            } else {
                label_of.insert(label.as_str(), i);
            }
        }
    }

    // Edges between kept records, by position in `kept`.
    let mut pos_of = vec![u32::MAX; records.len()];
    for (k, &i) in kept.iter().enumerate() {
        pos_of[i] = k as u32;
    }
    let mut up_parents: Vec<Vec<u32>> = Vec::with_capacity(kept.len());
    let mut up_deps: Vec<Vec<u32>> = Vec::with_capacity(kept.len());
    for &i in &kept {
        let r = &records[i];
        let mut ps: Vec<u32> = Vec::with_capacity(r.parents().len());
        for p in r.parents() {
            match first.get(p.as_str()) {
                Some(&pi) => ps.push(pos_of[pi]),
                None => problems.push(GraphProblem::MissingParent {
                    revision: r.id().clone(),
                    record: i,
                    parent: p.clone(),
                }),
            }
        }
        let mut ds: Vec<u32> = Vec::new();
        for d in r.depends_on() {
            let target = first
                .get(d.as_str())
                .or_else(|| label_of.get(d.as_str()))
                .copied();
            match target {
                Some(di) => {
                    let dk = pos_of[di];
                    if !ps.contains(&dk) && !ds.contains(&dk) {
                        ds.push(dk);
                    }
                }
                None => problems.push(GraphProblem::MissingDependency {
                    revision: r.id().clone(),
                    record: i,
                    dependency: d.clone(),
                }),
            }
        }
        up_parents.push(ps);
        up_deps.push(ds);
    }

    // Number the nodes in a topological order (a depth-first post-order
    // from each record, parents first), so that walks read memory in order.
    let order = postorder_positions(&up_parents, &up_deps);
    let mut node_of_pos = vec![Node::new(0); kept.len()];
    let mut dag: DiGraph<RevisionId, EdgeKind> =
        DiGraph::with_capacity(kept.len(), kept.len() + kept.len() / 8);
    for &k in &order {
        node_of_pos[k as usize] = dag.add_node(records[kept[k as usize]].id().clone());
    }
    let record_of: Vec<usize> = order.iter().map(|&k| kept[k as usize]).collect();
    let mut parent_lists: Vec<Vec<Node>> = Vec::with_capacity(order.len());
    let mut dep_lists: Vec<Vec<Node>> = Vec::with_capacity(order.len());
    for &k in &order {
        let k = k as usize;
        let n = node_of_pos[k];
        let ps: Vec<Node> = up_parents[k]
            .iter()
            .map(|&p| node_of_pos[p as usize])
            .collect();
        let ds: Vec<Node> = up_deps[k]
            .iter()
            .map(|&d| node_of_pos[d as usize])
            .collect();
        for &p in &ps {
            dag.add_edge(p, n, EdgeKind::Parent);
        }
        for &d in &ds {
            dag.add_edge(d, n, EdgeKind::Dependency);
        }
        parent_lists.push(ps);
        dep_lists.push(ds);
    }
    drop((up_parents, up_deps));

    // Kosaraju: petgraph's Tarjan recurses, and a 200,000-revision line would
    // overflow the stack.
    for scc in petgraph::algo::kosaraju_scc(&dag) {
        let cyclic = scc.len() > 1 || dag.find_edge(scc[0], scc[0]).is_some();
        if cyclic {
            let path = cycle_path(&dag, &parent_lists, &dep_lists, &scc);
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

    let count = dag.node_count();
    let by_name = |a: &Node, b: &Node| dag[*a].cmp(&dag[*b]);
    let mut children: Vec<Vec<Node>> = vec![Vec::new(); count];
    let mut dependents: Vec<Vec<Node>> = vec![Vec::new(); count];
    for n in dag.node_indices() {
        for p in &parent_lists[n.index()] {
            children[p.index()].push(n);
        }
        for d in &dep_lists[n.index()] {
            dependents[d.index()].push(n);
        }
    }
    for list in children.iter_mut().chain(dependents.iter_mut()) {
        if list.len() > 1 {
            list.sort_by(by_name);
        }
    }
    // Sorting by id compares strings that live all over the heap; an
    // 8-byte prefix held in one array settles nearly every comparison.
    let prefix: Vec<u64> = dag
        .node_indices()
        .map(|n| {
            let mut b = [0u8; 8];
            let id = dag[n].as_str().as_bytes();
            let len = id.len().min(8);
            b[..len].copy_from_slice(&id[..len]);
            u64::from_be_bytes(b)
        })
        .collect();
    let mut sorted: Vec<Node> = dag.node_indices().collect();
    sorted.sort_unstable_by(|a, b| {
        prefix[a.index()]
            .cmp(&prefix[b.index()])
            .then_with(|| by_name(a, b))
    });
    let labels: BTreeMap<BranchLabel, Node> = label_of
        .into_iter()
        .map(|(l, i)| {
            (
                BranchLabel::new(l).expect("validated"),
                node_of_pos[pos_of[i] as usize],
            )
        })
        .collect();
    let own_labels: Vec<Vec<BranchLabel>> = record_of
        .iter()
        .map(|&i| records[i].labels().to_vec())
        .collect();
    let adjacency = |lists: &[Vec<Node>]| Adjacency::from_lists(lists.iter().map(Vec::as_slice));

    Ok(Graph {
        sorted,
        parents: adjacency(&parent_lists),
        deps: adjacency(&dep_lists),
        children: adjacency(&children),
        dependents: adjacency(&dependents),
        labels,
        own_labels,
        record: record_of,
        dag,
    })
}

/// A depth-first post-order of positions `0..n` over parents then
/// dependencies, started from each position in turn. Without cycles every
/// position comes after its parents and dependencies.
fn postorder_positions(parents: &[Vec<u32>], deps: &[Vec<u32>]) -> Vec<u32> {
    let n = parents.len();
    let mut done = vec![false; n];
    let mut out = Vec::with_capacity(n);
    let mut stack: Vec<(u32, usize)> = Vec::new();
    for start in 0..n as u32 {
        if done[start as usize] {
            continue;
        }
        done[start as usize] = true;
        stack.push((start, 0));
        while let Some(top) = stack.last_mut() {
            let (k, i) = *top;
            let (a, b) = (&parents[k as usize], &deps[k as usize]);
            if i < a.len() + b.len() {
                top.1 += 1;
                let m = if i < a.len() { a[i] } else { b[i - a.len()] };
                if !done[m as usize] {
                    done[m as usize] = true;
                    stack.push((m, 0));
                }
            } else {
                out.push(k);
                stack.pop();
            }
        }
    }
    out
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
    let start = *scc
        .iter()
        .min_by(|a, b| dag[**a].cmp(&dag[**b]))
        .expect("scc");
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
    use super::*;
    use crate::graph::Record;

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
        assert!(
            p.iter().any(|m| m.contains("a1 -> c1 -> b1 -> a1")),
            "{p:#?}"
        );
        assert!(p.iter().any(|m| m.contains("d1 -> d1")), "{p:#?}");
    }

    #[test]
    fn cycles_through_dependencies_count() {
        let p = problems("a1: | b1\nb1: a1");
        assert_eq!(p.len(), 1, "{p:#?}");
        assert!(p[0].contains("cycle"));
    }

    #[test]
    fn a_very_long_line_does_not_overflow_the_stack() {
        // Recursive walks (petgraph's Tarjan among them) overflow here.
        let n = 200_000;
        let records: Vec<Record> = (0..n)
            .map(|i| Record {
                id: RevisionId::new(format!("r{i}")).unwrap(),
                parents: if i == 0 {
                    vec![]
                } else {
                    vec![RevisionId::new(format!("r{}", i - 1)).unwrap()]
                },
                depends_on: vec![],
                labels: vec![],
            })
            .collect();
        let g = Graph::build(&records).unwrap();
        assert_eq!(ids(&g, &g.heads()), [format!("r{}", n - 1)]);
        let all = vec![true; g.len()];
        assert_eq!(g.upgrade_order(&all).len(), n);
        assert_eq!(g.downgrade_order(&all).len(), n);
    }

    #[test]
    fn label_equal_to_a_revision_id() {
        let p = problems("a1:\nb1: a1 @a1");
        assert!(
            p[0].contains("`a1` of revision `b1` is also a revision id"),
            "{p:?}"
        );
    }

    #[test]
    fn depends_on_a_label_resolves_to_the_labelled_revision() {
        let g = graph("a1: @auth\nb1: | auth");
        assert_eq!(ids(&g, g.dependencies(n(&g, "b1"))), ["a1"]);
    }
}
