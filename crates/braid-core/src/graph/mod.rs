//! The revision graph: a petgraph DAG of revisions built from plain records
//! (id, parents, depends_on, labels), with heads, bases, branch and merge
//! points, branch labels, ancestry and deterministic walks.
//!
//! It knows nothing of files or SQL: errors name revisions and the index of
//! the record they came from, and the caller maps those to file names.

mod validate;
mod walk;

pub use walk::Toward;

use std::collections::BTreeMap;

use petgraph::graph::{DiGraph, NodeIndex};

pub use validate::{GraphError, GraphProblem};

use crate::revision::{BranchLabel, RevisionId};

/// A revision in the graph.
pub type Node = NodeIndex<u32>;

/// What one revision declares about its place in the graph.
#[derive(Debug, Clone)]
pub struct Record {
    /// The revision id.
    pub id: RevisionId,
    /// Its parents (`down_revisions`).
    pub parents: Vec<RevisionId>,
    /// Revision ids or branch labels.
    pub depends_on: Vec<String>,
    /// The branch labels it declares.
    pub labels: Vec<BranchLabel>,
}

/// What the graph reads of a revision: [`Record`], or any type that
/// already holds the same facts (a parsed migration), so that building the
/// graph copies nothing it does not keep.
pub trait Declares {
    /// The revision id.
    fn id(&self) -> &RevisionId;
    /// The parents (`down_revisions`).
    fn parents(&self) -> &[RevisionId];
    /// Revision ids or branch labels it depends on.
    fn depends_on(&self) -> &[String];
    /// The branch labels it declares.
    fn labels(&self) -> &[BranchLabel];
}

impl Declares for Record {
    fn id(&self) -> &RevisionId {
        &self.id
    }
    fn parents(&self) -> &[RevisionId] {
        &self.parents
    }
    fn depends_on(&self) -> &[String] {
        &self.depends_on
    }
    fn labels(&self) -> &[BranchLabel] {
        &self.labels
    }
}

/// The kind of an edge, which always points from the older revision to the
/// newer one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// `down_revisions`: the newer revision's parent.
    Parent,
    /// `depends_on`: an ordering dependency that is not ancestry in branch
    /// terms (Alembic's semantics).
    Dependency,
}

/// Per-node lists in one flat array (compressed sparse rows): one
/// allocation for all nodes, and neighbouring nodes' lists side by side.
#[derive(Debug, Clone, Default)]
pub(crate) struct Adjacency {
    offsets: Vec<u32>,
    items: Vec<Node>,
}

impl Adjacency {
    /// Builds from per-node lists given in node order.
    pub(crate) fn from_lists<'a>(lists: impl Iterator<Item = &'a [Node]>) -> Self {
        let mut a = Adjacency {
            offsets: vec![0],
            items: Vec::new(),
        };
        for l in lists {
            a.items.extend_from_slice(l);
            a.offsets.push(a.items.len() as u32);
        }
        a
    }

    fn get(&self, n: Node) -> &[Node] {
        let i = n.index();
        &self.items[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }
}

/// A validated revision graph.
///
/// Nodes are numbered in a topological order (every revision after its
/// parents and dependencies), so walks along the history touch memory in
/// order: on 100,000 revisions that, not the algorithm, decides the time.
#[derive(Debug, Clone)]
pub struct Graph {
    dag: DiGraph<RevisionId, EdgeKind>,
    /// Every node, sorted by id, for prefix lookups.
    sorted: Vec<Node>,
    /// Per node, in declared order.
    parents: Adjacency,
    /// Per node, resolved `depends_on` that are not also parents, declared order.
    deps: Adjacency,
    /// Per node, sorted by id.
    children: Adjacency,
    /// Per node, the revisions that depend on it, sorted by id.
    dependents: Adjacency,
    labels: BTreeMap<BranchLabel, Node>,
    own_labels: Vec<Vec<BranchLabel>>,
    /// Per node, the index of the record it was built from.
    record: Vec<usize>,
}

impl Graph {
    /// Builds and validates the graph. Every problem is reported at once.
    pub fn build<R: Declares>(records: &[R]) -> Result<Graph, GraphError> {
        validate::build(records)
    }

    /// The number of revisions.
    pub fn len(&self) -> usize {
        self.dag.node_count()
    }

    /// Whether the graph has no revision.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A node's revision id.
    pub fn id(&self, n: Node) -> &RevisionId {
        &self.dag[n]
    }

    /// The index, in the records given to [`Graph::build`], of `n`'s record.
    pub fn record_index(&self, n: Node) -> usize {
        self.record[n.index()]
    }

    /// The node of a full revision id.
    pub fn node(&self, id: &str) -> Option<Node> {
        self.sorted
            .binary_search_by(|n| self.dag[*n].as_str().cmp(id))
            .ok()
            .map(|i| self.sorted[i])
    }

    /// Every node, in topological order (parents first).
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = Node> + '_ {
        self.dag.node_indices()
    }

    /// Every node sorted by id.
    pub fn sorted_nodes(&self) -> &[Node] {
        &self.sorted
    }

    /// A node's parents.
    pub fn parents(&self, n: Node) -> &[Node] {
        self.parents.get(n)
    }

    /// The revisions a node depends on (`depends_on`).
    pub fn dependencies(&self, n: Node) -> &[Node] {
        self.deps.get(n)
    }

    /// A node's children.
    pub fn children(&self, n: Node) -> &[Node] {
        self.children.get(n)
    }

    /// The revisions that depend on a node.
    pub fn dependents(&self, n: Node) -> &[Node] {
        self.dependents.get(n)
    }

    /// The labels a node declares itself (not those it inherits).
    pub fn own_labels(&self, n: Node) -> &[BranchLabel] {
        &self.own_labels[n.index()]
    }

    /// Every branch label and the revision that declares it, by label.
    pub fn labels(&self) -> &BTreeMap<BranchLabel, Node> {
        &self.labels
    }

    /// The node that declares `label`.
    pub fn label(&self, label: &str) -> Option<Node> {
        self.labels.get(label).copied()
    }

    /// The petgraph graph, for algorithms that want it.
    pub fn dag(&self) -> &DiGraph<RevisionId, EdgeKind> {
        &self.dag
    }

    /// Revisions that no revision names as a parent, sorted by id.
    pub fn heads(&self) -> Vec<Node> {
        self.sorted
            .iter()
            .copied()
            .filter(|n| self.children(*n).is_empty())
            .collect()
    }

    /// Heads that nothing depends on either (`heads --resolve-dependencies`,
    /// and what the `heads` target upgrades to, as Alembic's `_real_heads`).
    pub fn real_heads(&self) -> Vec<Node> {
        self.sorted
            .iter()
            .copied()
            .filter(|n| self.children(*n).is_empty() && self.dependents(*n).is_empty())
            .collect()
    }

    /// Revisions with `down_revisions = []`, sorted by id.
    pub fn bases(&self) -> Vec<Node> {
        self.sorted
            .iter()
            .copied()
            .filter(|n| self.parents(*n).is_empty())
            .collect()
    }

    /// Whether no revision names it as a parent.
    pub fn is_head(&self, n: Node) -> bool {
        self.children(n).is_empty()
    }

    /// Whether it has no parent.
    pub fn is_base(&self, n: Node) -> bool {
        self.parents(n).is_empty()
    }

    /// Whether it has several children.
    pub fn is_branch_point(&self, n: Node) -> bool {
        self.children(n).len() > 1
    }

    /// Whether it has several parents.
    pub fn is_merge_point(&self, n: Node) -> bool {
        self.parents(n).len() > 1
    }

    /// Sorts nodes by id, in place.
    pub fn sort_by_id(&self, nodes: &mut [Node]) {
        nodes.sort_by(|a, b| self.id(*a).cmp(self.id(*b)));
    }

    /// The ids of `nodes`, as strings.
    pub fn ids<'a>(&'a self, nodes: &'a [Node]) -> impl Iterator<Item = &'a str> + 'a {
        nodes.iter().map(|n| self.id(*n).as_str())
    }

    /// Every revision whose id starts with `prefix`, sorted by id.
    pub fn with_prefix(&self, prefix: &str) -> &[Node] {
        let start = self
            .sorted
            .partition_point(|n| self.id(*n).as_str() < prefix);
        let len = self.sorted[start..]
            .iter()
            .take_while(|n| self.id(**n).as_str().starts_with(prefix))
            .count();
        &self.sorted[start..start + len]
    }

    /// The revisions `label` names: the labelled revision, all its
    /// descendants (by `down_revisions`), and its ancestors down to the
    /// nearest branch point or merge point, as Alembic propagates labels.
    pub fn label_members(&self, label_node: Node) -> Vec<bool> {
        let mut members = self.descendants([label_node], false);
        for n in self.label_chain(label_node) {
            members[n.index()] = true;
        }
        members
    }

    /// The labelled revision and its ancestors down to the nearest branch
    /// point or merge point.
    fn label_chain(&self, label_node: Node) -> Vec<Node> {
        let mut chain = vec![label_node];
        let mut n = label_node;
        while let [p] = self.parents(n) {
            let p = *p;
            if self.children(p).len() + self.dependents(p).len() > 1 || self.is_merge_point(p) {
                break;
            }
            chain.push(p);
            n = p;
        }
        chain
    }

    /// The labels of one revision, own and inherited, sorted. Linear in the
    /// graph: for a few revisions, cheaper than [`Graph::all_labels`].
    pub fn labels_of(&self, n: Node) -> Vec<&BranchLabel> {
        if self.labels.is_empty() {
            return Vec::new();
        }
        let below = self.ancestors([n], false);
        self.labels
            .iter()
            .filter(|(_, l)| below[l.index()] || self.label_chain(**l).contains(&n))
            .map(|(label, _)| label)
            .collect()
    }

    /// The labels of every revision, own and inherited, sorted.
    pub fn all_labels(&self) -> Vec<Vec<&BranchLabel>> {
        let mut out: Vec<Vec<&BranchLabel>> = vec![Vec::new(); self.len()];
        for (label, node) in &self.labels {
            for (i, member) in self.label_members(*node).into_iter().enumerate() {
                if member {
                    out[i].push(label);
                }
            }
        }
        out
    }

    /// Whether `a` and `b` are on one line of descent (by `down_revisions`):
    /// one is an ancestor of the other, or they are the same revision.
    pub fn shares_lineage(&self, a: Node, b: Node) -> bool {
        a == b || self.is_ancestor(a, b, false) || self.is_ancestor(b, a, false)
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// Builds a graph from `"id: parent parent | dep dep @label"` lines.
    pub fn graph(spec: &str) -> Graph {
        try_graph(spec).unwrap_or_else(|e| panic!("{e}: {:?}", e.problems))
    }

    pub fn try_graph(spec: &str) -> Result<Graph, GraphError> {
        Graph::build(&records(spec))
    }

    pub fn records(spec: &str) -> Vec<Record> {
        spec.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|line| {
                let (id, rest) = line.split_once(':').expect("id: ...");
                let mut parents = Vec::new();
                let mut deps = Vec::new();
                let mut labels = Vec::new();
                let mut in_deps = false;
                for word in rest.split_whitespace() {
                    if word == "|" {
                        in_deps = true;
                    } else if let Some(l) = word.strip_prefix('@') {
                        labels.push(BranchLabel::new(l).unwrap());
                    } else if in_deps {
                        deps.push(word.to_owned());
                    } else {
                        parents.push(RevisionId::new(word).unwrap());
                    }
                }
                Record {
                    id: RevisionId::new(id.trim()).unwrap(),
                    parents,
                    depends_on: deps,
                    labels,
                }
            })
            .collect()
    }

    pub fn ids(g: &Graph, nodes: &[Node]) -> Vec<String> {
        g.ids(nodes).map(str::to_owned).collect()
    }

    pub fn n(g: &Graph, id: &str) -> Node {
        g.node(id).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;

    //   r0
    //  /  \
    // a1   b1 (@bee)
    // |    |
    // a2   b2
    //  \  /
    //   m
    const DIAMOND: &str = "
        r0:
        a1: r0
        a2: a1
        b1: r0 @bee
        b2: b1
        m: a2 b2
    ";

    #[test]
    fn heads_bases_branch_and_merge_points() {
        let g = graph(DIAMOND);
        assert_eq!(ids(&g, &g.heads()), ["m"]);
        assert_eq!(ids(&g, &g.bases()), ["r0"]);
        assert!(g.is_branch_point(n(&g, "r0")));
        assert!(g.is_merge_point(n(&g, "m")));
        assert!(!g.is_merge_point(n(&g, "a2")));
    }

    #[test]
    fn prefix_lookup() {
        let g = graph("abc1:\nabd2: abc1\nxyz: abd2");
        assert_eq!(ids(&g, g.with_prefix("ab")), ["abc1", "abd2"]);
        assert_eq!(ids(&g, g.with_prefix("abd")), ["abd2"]);
        assert!(g.with_prefix("q").is_empty());
    }

    #[test]
    fn labels_cover_descendants_and_ancestors_down_to_the_branch_point() {
        //  r0 - r1 - a1(@al) - a2
        //          \ b1
        let g = graph("r0:\nr1: r0\nx1: r1 @al\nx2: x1\nb1: r1");
        let m = g.label_members(n(&g, "x1"));
        let members: Vec<_> = g
            .sorted_nodes()
            .iter()
            .filter(|x| m[x.index()])
            .map(|x| g.id(*x).as_str())
            .collect();
        assert_eq!(members, ["x1", "x2"]);

        // r0 - r1(@core) - r2: the label reaches back to the base.
        let g = graph("r0:\nr1: r0 @core\nr2: r1");
        let m = g.label_members(n(&g, "r1"));
        assert!(m.iter().all(|x| *x));
    }

    #[test]
    fn real_heads_exclude_depended_on_heads() {
        // a1 is a head by parents, but b1 depends on it.
        let g = graph("a1:\nb1: | a1");
        assert_eq!(ids(&g, &g.heads()), ["a1", "b1"]);
        assert_eq!(ids(&g, &g.real_heads()), ["b1"]);
    }
}
