//! Plans: from the heads a database records to a target, the ordered steps
//! and how the recorded heads change at each one. Pure and synchronous;
//! `--dry-run` and `--sql` are "plan, then render".
//!
//! The recorded heads are always the newest applied revisions: those that
//! no other applied revision names as a parent or dependency. This is what
//! Alembic's version table ends up holding after each of its steps.

use crate::graph::{Graph, Node};
use crate::revision::Direction;
use crate::target::{self, DowngradeTarget, Target, TargetError};

/// One revision to run, and how the recorded heads change after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The revision.
    pub node: Node,
    /// Applied or reverted.
    pub direction: Direction,
    /// Heads no longer recorded after this step.
    pub removed: Vec<Node>,
    /// Heads newly recorded after this step.
    pub added: Vec<Node>,
}

/// An ordered list of steps from `before` to `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Up or down.
    pub direction: Direction,
    /// The heads before the first step.
    pub before: Vec<Node>,
    /// The steps, in running order.
    pub steps: Vec<Step>,
    /// The heads after the last step.
    pub after: Vec<Node>,
}

impl Plan {
    /// The heads recorded after each step, in order.
    pub fn heads_after_each(&self, g: &Graph) -> Vec<Vec<Node>> {
        let mut heads = self.before.clone();
        self.steps
            .iter()
            .map(|s| {
                heads.retain(|h| !s.removed.contains(h));
                heads.extend(&s.added);
                let mut out = heads.clone();
                g.sort_by_id(&mut out);
                out
            })
            .collect()
    }

    /// Whether there is nothing to run.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// Every revision the recorded heads imply: the heads and all their
/// ancestors and dependencies.
pub fn applied_set(g: &Graph, heads: &[Node]) -> Vec<bool> {
    g.ancestors(heads.iter().copied(), true)
}

/// The newest revisions of an applied set, sorted by id.
fn tops(g: &Graph, applied: &[bool]) -> Vec<Node> {
    g.sorted_nodes()
        .iter()
        .copied()
        .filter(|n| {
            applied[n.index()]
                && !g
                    .children(*n)
                    .iter()
                    .chain(g.dependents(*n))
                    .any(|c| applied[c.index()])
        })
        .collect()
}

/// Recorded heads reduced to the newest ones (a version table may hold a
/// head that another implies, after a manual edit or an old tool).
pub fn normalize_heads(g: &Graph, heads: &[Node]) -> Vec<Node> {
    tops(g, &applied_set(g, heads))
}

/// The marked revisions, sorted by id.
fn marked(g: &Graph, set: &[bool]) -> Vec<Node> {
    g.sorted_nodes()
        .iter()
        .copied()
        .filter(|n| set[n.index()])
        .collect()
}

/// The steps that apply every revision of `need` (none of them applied),
/// in upgrade order.
fn upgrade_steps(g: &Graph, before: &[Node], need: &[bool]) -> Plan {
    let mut heads = vec![false; g.len()];
    for h in before {
        heads[h.index()] = true;
    }
    let steps = g
        .upgrade_order(need)
        .into_iter()
        .map(|n| {
            let removed: Vec<Node> = g
                .parents(n)
                .iter()
                .chain(g.dependencies(n))
                .copied()
                .filter(|p| std::mem::take(&mut heads[p.index()]))
                .collect();
            heads[n.index()] = true;
            Step {
                node: n,
                direction: Direction::Up,
                removed,
                added: vec![n],
            }
        })
        .collect();
    let after = marked(g, &heads);
    Plan {
        direction: Direction::Up,
        before: before.to_vec(),
        steps,
        after,
    }
}

/// The steps that revert every revision of `remove` (all applied, and
/// closed upward within the applied set), in downgrade order.
fn downgrade_steps(g: &Graph, before: &[Node], applied: &[bool], remove: &[bool]) -> Plan {
    let mut applied = applied.to_vec();
    let mut heads = vec![false; g.len()];
    for h in before {
        heads[h.index()] = true;
    }
    let steps = g
        .downgrade_order(remove)
        .into_iter()
        .map(|n| {
            applied[n.index()] = false;
            heads[n.index()] = false;
            let mut added = Vec::new();
            for &p in g.parents(n).iter().chain(g.dependencies(n)) {
                let still_implied = g
                    .children(p)
                    .iter()
                    .chain(g.dependents(p))
                    .any(|c| applied[c.index()]);
                if applied[p.index()] && !still_implied && !heads[p.index()] {
                    heads[p.index()] = true;
                    added.push(p);
                }
            }
            Step {
                node: n,
                direction: Direction::Down,
                removed: vec![n],
                added,
            }
        })
        .collect();
    let after = marked(g, &heads);
    Plan {
        direction: Direction::Down,
        before: before.to_vec(),
        steps,
        after,
    }
}

/// Plans `upgrade TARGET` from the recorded heads `current`: every
/// ancestor and dependency of the target that is not applied yet. Other
/// branches stay where they are.
pub fn upgrade(g: &Graph, current: &[Node], t: &Target) -> Result<Plan, TargetError> {
    let current = normalize_heads(g, current);
    let targets = target::resolve_upgrade(g, &current, t)?;
    Ok(upgrade_to(g, &current, &targets))
}

/// Plans an upgrade to resolved targets.
pub fn upgrade_to(g: &Graph, current: &[Node], targets: &[Node]) -> Plan {
    let current = normalize_heads(g, current);
    let applied = applied_set(g, &current);
    let mut need = g.ancestors(targets.iter().copied(), true);
    for (i, a) in applied.iter().enumerate() {
        if *a {
            need[i] = false;
        }
    }
    upgrade_steps(g, &current, &need)
}

/// Plans `downgrade TARGET` from the recorded heads `current`: every
/// applied descendant (and dependent) of the target's children, the target
/// itself staying applied. With a branch label, only the children on that
/// branch are taken down (Alembic's `_collect_downgrade_revisions`).
pub fn downgrade(g: &Graph, current: &[Node], t: &Target) -> Result<Plan, TargetError> {
    let current = normalize_heads(g, current);
    let dest = target::resolve_downgrade(g, &current, t)?;
    downgrade_to(g, &current, dest, &t.text)
}

/// Plans a downgrade to a resolved destination; `text` names it in errors.
pub fn downgrade_to(
    g: &Graph,
    current: &[Node],
    dest: DowngradeTarget,
    text: &str,
) -> Result<Plan, TargetError> {
    let current = normalize_heads(g, current);
    let applied = applied_set(g, &current);
    let invalid = |why| TargetError::NotDowngradeTarget {
        target: text.to_owned(),
        heads: g.ids(&current).map(str::to_owned).collect(),
        why,
    };
    if let Some(target) = dest.target
        && !applied[target.index()]
    {
        return Err(invalid("it is not applied"));
    }
    let mut roots: Vec<Node> = match dest.target {
        None => g.bases(),
        Some(target) => g.children(target).to_vec(),
    };
    if let Some(label) = dest.label
        && roots.len() > 1
    {
        // Keep the roots on the label's line of descent. Alembic keeps only
        // the label's ancestors and fails when that leaves none (a label
        // below the target); its descendants are on the branch as well.
        roots.retain(|r| g.shares_lineage(*r, label));
        if roots.is_empty() {
            return Err(TargetError::WrongDirection {
                target: text.to_owned(),
                message: "is not below the branch it names: nothing on that branch is above it"
                    .into(),
            });
        }
    }
    let mut remove = g.descendants(roots, true);
    for (i, r) in remove.iter_mut().enumerate() {
        *r &= applied[i];
    }
    // A target applied only as another revision's dependency is neither a
    // current head nor below one: nothing above it can be taken down, and
    // "nothing to do" would tell a deploy script that the database is
    // there. Alembic refuses it too ("not a valid downgrade target").
    if let Some(target) = dest.target
        && !current.contains(&target)
        && !remove.iter().any(|r| *r)
    {
        return Err(invalid(
            "it is applied only as a dependency of another revision, not below a current head",
        ));
    }
    Ok(downgrade_steps(g, &current, &applied, &remove))
}

/// Plans reverting `n` alone, which must be a current head (`text` names
/// it in errors): the down step of a stairway test.
pub fn revert_head(g: &Graph, current: &[Node], n: Node, text: &str) -> Result<Plan, TargetError> {
    let current = normalize_heads(g, current);
    if !current.contains(&n) {
        return Err(TargetError::NotDowngradeTarget {
            target: text.to_owned(),
            heads: g.ids(&current).map(str::to_owned).collect(),
            why: "only a current head can be reverted alone",
        });
    }
    let applied = applied_set(g, &current);
    let mut remove = vec![false; g.len()];
    remove[n.index()] = true;
    Ok(downgrade_steps(g, &current, &applied, &remove))
}

/// The heads recorded after running one revision in `direction` from
/// `heads` (used to settle a step that stopped halfway).
pub fn heads_after_step(g: &Graph, heads: &[Node], n: Node, direction: Direction) -> Vec<Node> {
    let mut applied = applied_set(g, heads);
    match direction {
        Direction::Up => {
            for a in g.ancestors([n], true).iter().enumerate().filter(|x| *x.1) {
                applied[a.0] = true;
            }
        }
        Direction::Down => {
            for d in g.descendants([n], true).iter().enumerate().filter(|x| *x.1) {
                applied[d.0] = false;
            }
        }
    }
    tops(g, &applied)
}

/// Plans a run from the heads `from` to `to` without a database (`--sql
/// FROM:TO`), in the given direction.
pub fn between(
    g: &Graph,
    direction: Direction,
    from: &[Node],
    to: &Target,
) -> Result<Plan, TargetError> {
    match direction {
        Direction::Up => upgrade(g, from, to),
        Direction::Down => downgrade(g, from, to),
    }
}

/// The heads `stamp` records: each target replaces the current heads on
/// its line of descent (`base` removes them), other heads stay. With
/// `purge`, the current heads are forgotten first.
pub fn stamp(
    g: &Graph,
    current: &[Node],
    targets: &[Target],
    purge: bool,
) -> Result<Vec<Node>, TargetError> {
    let mut heads: Vec<Node> = if purge {
        Vec::new()
    } else {
        normalize_heads(g, current)
    };
    let mut add = Vec::new();
    for t in targets {
        let dests = target::resolve_stamp(g, &heads, t)?;
        if dests.is_empty() {
            match target::resolve_label(g, t)? {
                None => heads.clear(),
                Some(l) => heads.retain(|h| !shares_lineage_with_deps(g, *h, l)),
            }
        }
        for d in dests {
            heads.retain(|h| !shares_lineage_with_deps(g, *h, d));
            add.push(d);
        }
    }
    heads.extend(add);
    Ok(normalize_heads(g, &heads))
}

fn shares_lineage_with_deps(g: &Graph, a: Node, b: Node) -> bool {
    a == b || g.is_ancestor(a, b, true) || g.is_ancestor(b, a, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::test_support::*;
    use crate::target::parse;

    fn nodes(g: &Graph, ids: &[&str]) -> Vec<Node> {
        ids.iter().map(|i| n(g, i)).collect()
    }

    fn up(g: &Graph, cur: &[&str], t: &str) -> (Vec<String>, Vec<String>) {
        let p = upgrade(g, &nodes(g, cur), &parse(t).unwrap()).unwrap();
        let steps: Vec<Node> = p.steps.iter().map(|s| s.node).collect();
        (ids(g, &steps), ids(g, &p.after))
    }

    fn down(g: &Graph, cur: &[&str], t: &str) -> (Vec<String>, Vec<String>) {
        let p = downgrade(g, &nodes(g, cur), &parse(t).unwrap()).unwrap();
        let steps: Vec<Node> = p.steps.iter().map(|s| s.node).collect();
        (ids(g, &steps), ids(g, &p.after))
    }

    //        r0
    //       /  \
    // a1(@auth) b1(@billing)
    //      |      |
    //     a2     b2
    //       \   /
    //         m
    const DIAMOND: &str = "r0:\na1: r0 @auth\na2: a1\nb1: r0 @billing\nb2: b1\nm: a2 b2";

    #[test]
    fn upgrading_one_branch_leaves_the_other() {
        let g = graph(DIAMOND);
        assert_eq!(
            up(&g, &[], "auth@a2"),
            (
                vec!["r0".into(), "a1".into(), "a2".into()],
                vec!["a2".into()]
            )
        );
        assert_eq!(
            up(&g, &["a2"], "b1"),
            (vec!["b1".into()], vec!["a2".into(), "b1".into()])
        );
        assert_eq!(
            up(&g, &["a2", "b1"], "heads"),
            (vec!["b2".into(), "m".into()], vec!["m".into()])
        );
    }

    #[test]
    fn downgrading_across_a_merge_point() {
        let g = graph(DIAMOND);
        // Below the merge point on one branch: m and b2 go, a2 stays.
        assert_eq!(
            down(&g, &["m"], "b1"),
            (
                vec!["m".into(), "b2".into()],
                vec!["a2".into(), "b1".into()]
            )
        );
        // `-1` from a merge point is ambiguous, as in Alembic; naming
        // either parent undoes just the merge.
        let e = downgrade(&g, &nodes(&g, &["m"]), &parse("-1").unwrap()).unwrap_err();
        assert!(matches!(e, TargetError::AmbiguousWalk { .. }), "{e}");
        assert_eq!(
            down(&g, &["m"], "a2"),
            (vec!["m".into()], vec!["a2".into(), "b2".into()])
        );
        let (steps, after) = down(&g, &["m"], "base");
        assert_eq!(steps, ["m", "a2", "a1", "b2", "b1", "r0"]);
        assert!(after.is_empty());
        // A branch label picks which child of r0 goes.
        assert_eq!(
            down(&g, &["a2", "b2"], "auth@r0"),
            (vec!["a2".into(), "a1".into()], vec!["b2".into()])
        );
    }

    #[test]
    fn heads_after_each_step() {
        let g = graph(DIAMOND);
        let p = upgrade(&g, &[], &parse("heads").unwrap()).unwrap();
        let each: Vec<Vec<String>> = p.heads_after_each(&g).iter().map(|h| ids(&g, h)).collect();
        assert_eq!(
            each,
            [
                vec!["r0"],
                vec!["a1"],
                vec!["a2"],
                vec!["a2", "b1"],
                vec!["a2", "b2"],
                vec!["m"]
            ]
        );
    }

    #[test]
    fn depends_on_pulls_in_and_pushes_out() {
        // Two bases; b2 depends on a1.
        //  a1 - a2      b1 - b2 (depends on a1)
        let g = graph("a1: @aa\na2: a1\nb1: @bb\nb2: b1 | a1");
        // Upgrading bb pulls a1 in; a1 is implied by b2 so not recorded.
        assert_eq!(
            up(&g, &[], "bb@head"),
            (
                vec!["b1".into(), "a1".into(), "b2".into()],
                vec!["b2".into()]
            )
        );
        // Taking a1 out takes its dependent b2 out too.
        assert_eq!(
            down(&g, &["a2", "b2"], "aa@base"),
            (
                vec!["a2".into(), "b2".into(), "a1".into()],
                vec!["b1".into()]
            )
        );
        // Downgrading b2 alone re-records a1 as a head.
        assert_eq!(
            down(&g, &["b2"], "b1"),
            (vec!["b2".into()], vec!["a1".into(), "b1".into()])
        );
    }

    #[test]
    fn downgrade_to_an_unapplied_revision_is_an_error() {
        let g = graph(DIAMOND);
        let e = downgrade(&g, &nodes(&g, &["a2"]), &parse("b1").unwrap()).unwrap_err();
        assert!(
            matches!(e, TargetError::NotDowngradeTarget { ref heads, .. } if heads == &["a2"]),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("`b1` is not a valid downgrade target from the current heads (a2)"),
            "{e}"
        );
    }

    #[test]
    fn stamping() {
        let g = graph(DIAMOND);
        let st = |cur: &[&str], ts: &[&str], purge| {
            let ts: Vec<Target> = ts.iter().map(|t| parse(t).unwrap()).collect();
            ids(&g, &stamp(&g, &nodes(&g, cur), &ts, purge).unwrap())
        };
        assert_eq!(st(&["a2", "b2"], &["a1"], false), ["a1", "b2"]);
        assert_eq!(st(&["a2", "b2"], &["base"], false), Vec::<String>::new());
        assert_eq!(st(&["a2"], &["b1"], false), ["a2", "b1"]);
        assert_eq!(st(&["a2"], &["b1"], true), ["b1"]);
        assert_eq!(st(&[], &["heads"], false), ["m"]);
        assert_eq!(st(&["a2", "b2"], &["billing@base"], false), ["a2"]);
    }
}
