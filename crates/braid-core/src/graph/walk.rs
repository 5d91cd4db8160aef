//! Walks over the graph: ancestors, descendants and deterministic
//! topological orders. Every walk is iterative (100,000-revision histories
//! would overflow a recursive one) and linear in the part of the graph it
//! visits.

use super::{Graph, Node};

/// Which way a walk follows edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toward {
    /// Parents, then dependencies.
    Ancestors,
    /// Children, then dependents.
    Descendants,
}

impl Graph {
    fn next(&self, n: Node, toward: Toward, deps: bool) -> (&[Node], &[Node]) {
        match toward {
            Toward::Ancestors => (
                self.parents(n),
                if deps { self.dependencies(n) } else { &[] },
            ),
            Toward::Descendants => (
                self.children(n),
                if deps { self.dependents(n) } else { &[] },
            ),
        }
    }

    /// The nodes reachable from `starts` (included), as a membership vector.
    pub fn reach(
        &self,
        starts: impl IntoIterator<Item = Node>,
        toward: Toward,
        deps: bool,
    ) -> Vec<bool> {
        let mut seen = vec![false; self.len()];
        let mut stack: Vec<Node> = Vec::new();
        for s in starts {
            if !seen[s.index()] {
                seen[s.index()] = true;
                stack.push(s);
            }
        }
        while let Some(n) = stack.pop() {
            let (a, b) = self.next(n, toward, deps);
            for &m in a.iter().chain(b) {
                if !seen[m.index()] {
                    seen[m.index()] = true;
                    stack.push(m);
                }
            }
        }
        seen
    }

    /// `starts` and all their ancestors.
    pub fn ancestors(&self, starts: impl IntoIterator<Item = Node>, deps: bool) -> Vec<bool> {
        self.reach(starts, Toward::Ancestors, deps)
    }

    /// `starts` and all their descendants.
    pub fn descendants(&self, starts: impl IntoIterator<Item = Node>, deps: bool) -> Vec<bool> {
        self.reach(starts, Toward::Descendants, deps)
    }

    /// Whether `a` is a strict ancestor of `b`.
    pub fn is_ancestor(&self, a: Node, b: Node, deps: bool) -> bool {
        if a == b {
            return false;
        }
        let mut seen = vec![false; self.len()];
        let mut stack = vec![b];
        while let Some(n) = stack.pop() {
            let (x, y) = self.next(n, Toward::Ancestors, deps);
            for &m in x.iter().chain(y) {
                if m == a {
                    return true;
                }
                if !seen[m.index()] {
                    seen[m.index()] = true;
                    stack.push(m);
                }
            }
        }
        false
    }

    /// A depth-first post-order over the nodes of `set` reachable from
    /// `starts` (in that order) toward `toward`, following dependencies
    /// too. Walking toward ancestors, every revision comes after all of its
    /// ancestors in the set: an upgrade order. Walking toward descendants,
    /// every revision comes after all of its descendants: a downgrade order.
    /// A branch is finished before the next one starts, and the order only
    /// depends on the graph and `starts`.
    pub fn postorder(&self, starts: &[Node], toward: Toward, set: &[bool]) -> Vec<Node> {
        let mut done = vec![false; self.len()];
        let mut out = Vec::new();
        let mut stack: Vec<(Node, usize)> = Vec::new();
        for &s in starts {
            if done[s.index()] || !set[s.index()] {
                continue;
            }
            done[s.index()] = true;
            stack.push((s, 0));
            while let Some(top) = stack.last_mut() {
                let (n, i) = *top;
                let (a, b) = self.next(n, toward, true);
                if i < a.len() + b.len() {
                    top.1 += 1;
                    let m = if i < a.len() { a[i] } else { b[i - a.len()] };
                    if set[m.index()] && !done[m.index()] {
                        done[m.index()] = true;
                        stack.push((m, 0));
                    }
                } else {
                    out.push(n);
                    stack.pop();
                }
            }
        }
        out
    }

    /// The revisions of `set` in upgrade order: each after its parents and
    /// dependencies, branches kept together.
    pub fn upgrade_order(&self, set: &[bool]) -> Vec<Node> {
        // Start from the set's tops, so a branch is walked whole.
        let tops = self.ends(set, Toward::Descendants);
        self.postorder(&tops, Toward::Ancestors, set)
    }

    /// The revisions of `set` in downgrade order: each before its parents
    /// and dependencies, branches kept together.
    pub fn downgrade_order(&self, set: &[bool]) -> Vec<Node> {
        let roots = self.ends(set, Toward::Ancestors);
        self.postorder(&roots, Toward::Descendants, set)
    }

    /// The revisions of `set` with no neighbour in `set` toward `toward`,
    /// sorted by id.
    fn ends(&self, set: &[bool], toward: Toward) -> Vec<Node> {
        self.sorted_nodes()
            .iter()
            .copied()
            .filter(|n| {
                let (a, b) = self.next(*n, toward, true);
                set[n.index()] && !a.iter().chain(b).any(|m| set[m.index()])
            })
            .collect()
    }

    /// Every revision, newest first (the order of `history`).
    pub fn newest_first(&self) -> Vec<Node> {
        let all = vec![true; self.len()];
        let mut order = self.upgrade_order(&all);
        order.reverse();
        order
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    //   r0
    //  /  \
    // a1   b1
    // |    |
    // a2   b2
    //  \  /
    //   m
    const DIAMOND: &str = "r0:\na1: r0\na2: a1\nb1: r0\nb2: b1\nm: a2 b2";

    #[test]
    fn upgrade_order_keeps_branches_together() {
        let g = graph(DIAMOND);
        let all = vec![true; g.len()];
        assert_eq!(
            ids(&g, &g.upgrade_order(&all)),
            ["r0", "a1", "a2", "b1", "b2", "m"]
        );
        assert_eq!(
            ids(&g, &g.downgrade_order(&all)),
            ["m", "a2", "a1", "b2", "b1", "r0"]
        );
        assert_eq!(
            ids(&g, &g.newest_first()),
            ["m", "b2", "b1", "a2", "a1", "r0"]
        );
    }

    #[test]
    fn dependencies_come_first() {
        // b2 depends on a1 on another base.
        let g = graph("a1:\nb1:\nb2: b1 | a1");
        let all = vec![true; g.len()];
        let order = ids(&g, &g.upgrade_order(&all));
        let pos = |id: &str| order.iter().position(|x| x == id).unwrap();
        assert!(pos("a1") < pos("b2"));
        assert!(pos("b1") < pos("b2"));
    }

    #[test]
    fn ancestry() {
        let g = graph(DIAMOND);
        assert!(g.is_ancestor(n(&g, "r0"), n(&g, "m"), false));
        assert!(!g.is_ancestor(n(&g, "a1"), n(&g, "b2"), false));
        assert!(g.shares_lineage(n(&g, "a2"), n(&g, "a1")));
        assert!(!g.shares_lineage(n(&g, "a2"), n(&g, "b1")));
        let anc = g.ancestors([n(&g, "a2")], false);
        assert_eq!(anc.iter().filter(|x| **x).count(), 3);
    }
}
