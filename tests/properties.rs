//! Property tests over random DAGs: plans are valid topological orders,
//! `upgrade heads` then `downgrade base` ends empty, and an upgrade undone
//! returns the starting heads; branch labels (`LABEL`, `LABEL@head`) and
//! relative targets (`+N`, `-N`, `REV+N`) give valid plans that do what
//! they say.

use braid::graph::{Graph, Node, Record};
use braid::plan::{self, Plan};
use braid::revision::{BranchLabel, Direction, RevisionId};
use braid::target;
use proptest::prelude::*;

/// A random DAG: revision i picks up to two parents and maybe one
/// dependency among earlier revisions, and about one in four carries a
/// branch label `lab{i}`. `tree` keeps one parent and no dependencies.
fn dag(max: usize, tree: bool) -> impl Strategy<Value = Vec<Record>> {
    prop::collection::vec(
        (
            prop::collection::vec(any::<prop::sample::Index>(), 0..=2),
            prop::option::weighted(0.2, any::<prop::sample::Index>()),
            0u8..10,
            prop::bool::weighted(0.25),
        ),
        1..max,
    )
    .prop_map(move |specs| {
        let mut records: Vec<Record> = Vec::new();
        for (i, (parents, dep, base_roll, labelled)) in specs.into_iter().enumerate() {
            let id = RevisionId::new(format!("r{i:03}")).unwrap();
            let mut ps: Vec<RevisionId> = Vec::new();
            if i > 0 && base_roll > 0 {
                let take = if tree { 1 } else { parents.len().max(1) };
                for p in parents.iter().take(take) {
                    let pid = records[p.index(i)].id.clone();
                    if !ps.contains(&pid) {
                        ps.push(pid);
                    }
                }
                if ps.is_empty() {
                    ps.push(records[i - 1].id.clone());
                }
            }
            let mut deps = Vec::new();
            if let (false, Some(d), true) = (tree, dep, i > 0) {
                let did = records[d.index(i)].id.clone();
                if !ps.contains(&did) {
                    deps.push(did.to_string());
                }
            }
            records.push(Record {
                id,
                parents: ps,
                depends_on: deps,
                labels: if labelled {
                    vec![BranchLabel::new(format!("lab{i}")).unwrap()]
                } else {
                    Vec::new()
                },
            });
        }
        records
    })
}

/// Checks that running `plan` from its `before` heads is valid step by
/// step, and returns the applied set at the end.
fn replay(g: &Graph, p: &Plan) -> Vec<bool> {
    let mut applied = plan::applied_set(g, &p.before);
    let mut heads = p.before.clone();
    for s in &p.steps {
        let n = s.node;
        match s.direction {
            Direction::Up => {
                assert!(!applied[n.index()], "{} applied twice", g.id(n));
                for q in g.parents(n).iter().chain(g.dependencies(n)) {
                    assert!(
                        applied[q.index()],
                        "{} before its ancestor {}",
                        g.id(n),
                        g.id(*q)
                    );
                }
                applied[n.index()] = true;
            }
            Direction::Down => {
                assert!(applied[n.index()], "{} reverted but not applied", g.id(n));
                for c in g.children(n).iter().chain(g.dependents(n)) {
                    assert!(
                        !applied[c.index()],
                        "{} reverted before its descendant {}",
                        g.id(n),
                        g.id(*c)
                    );
                }
                applied[n.index()] = false;
            }
        }
        heads.retain(|h| !s.removed.contains(h));
        heads.extend(&s.added);
        let mut want = plan::normalize_heads(g, &heads);
        g.sort_by_id(&mut want);
        let mut have = heads.clone();
        g.sort_by_id(&mut have);
        assert_eq!(
            have, want,
            "recorded heads must be the newest applied revisions"
        );
        assert_eq!(
            plan::applied_set(g, &heads),
            applied,
            "heads must imply the applied set"
        );
    }
    applied
}

fn random_state(g: &Graph, picks: &[prop::sample::Index]) -> Vec<Node> {
    let all: Vec<Node> = g.sorted_nodes().to_vec();
    let chosen: Vec<Node> = picks.iter().map(|i| all[i.index(all.len())]).collect();
    plan::normalize_heads(g, &chosen)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn upgrade_plans_are_topological_and_reach_the_target(
        records in dag(40, false),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        target_pick in any::<prop::sample::Index>(),
    ) {
        let g = Graph::build(&records).unwrap();
        let current = random_state(&g, &picks);
        let before = plan::applied_set(&g, &current);
        let t = g.sorted_nodes()[target_pick.index(g.len())];
        let p = plan::upgrade(&g, &current, &target::parse(g.id(t).as_str()).unwrap()).unwrap();
        let after = replay(&g, &p);
        let want = g.ancestors([t], true);
        for i in 0..g.len() {
            prop_assert_eq!(after[i], before[i] || want[i]);
        }
    }

    #[test]
    fn upgrade_heads_then_downgrade_base_ends_empty(records in dag(40, false)) {
        let g = Graph::build(&records).unwrap();
        let up = plan::upgrade(&g, &[], &target::parse("heads").unwrap()).unwrap();
        prop_assert_eq!(up.steps.len(), g.len());
        let all = replay(&g, &up);
        prop_assert!(all.iter().all(|a| *a));
        let down = plan::downgrade(&g, &up.after, &target::parse("base").unwrap()).unwrap();
        prop_assert_eq!(down.steps.len(), g.len());
        let none = replay(&g, &down);
        prop_assert!(none.iter().all(|a| !*a));
        prop_assert!(down.after.is_empty());
    }

    #[test]
    fn downgrade_plans_are_topological(
        records in dag(40, false),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 1..4),
        target_pick in any::<prop::sample::Index>(),
    ) {
        let g = Graph::build(&records).unwrap();
        let current = random_state(&g, &picks);
        let applied = plan::applied_set(&g, &current);
        let candidates: Vec<Node> = g.sorted_nodes().iter().copied().filter(|n| applied[n.index()]).collect();
        let t = candidates[target_pick.index(candidates.len())];
        let below = g.descendants(g.children(t).iter().copied(), true);
        let heads = plan::normalize_heads(&g, &current);
        let result = plan::downgrade(&g, &current, &target::parse(g.id(t).as_str()).unwrap());
        // Applied only as a dependency (not a head, nothing applied above
        // it): not a valid downgrade target, as in Alembic.
        if !heads.contains(&t) && !(0..g.len()).any(|i| below[i] && applied[i]) {
            prop_assert!(matches!(result, Err(target::TargetError::NotDowngradeTarget { .. })), "{:?}", result);
            return Ok(());
        }
        let p = result.unwrap();
        let after = replay(&g, &p);
        prop_assert!(after[t.index()], "the target stays applied");
        // Exactly the applied strict descendants of the target go.
        for i in 0..g.len() {
            prop_assert_eq!(after[i], applied[i] && !below[i]);
        }
    }

    #[test]
    fn undoing_an_upgrade_step_by_step_returns_the_starting_heads(
        records in dag(40, false),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
    ) {
        let g = Graph::build(&records).unwrap();
        let current = random_state(&g, &picks);
        let p = plan::upgrade(&g, &current, &target::parse("heads").unwrap()).unwrap();
        let mut heads = p.after.clone();
        for s in p.steps.iter().rev() {
            heads.retain(|h| !s.added.contains(h));
            heads.extend(&s.removed);
        }
        g.sort_by_id(&mut heads);
        let mut start = current.clone();
        g.sort_by_id(&mut start);
        prop_assert_eq!(heads, start);
    }

    #[test]
    fn in_a_tree_up_then_down_returns_the_starting_head(
        records in dag(40, true),
        start_pick in any::<prop::sample::Index>(),
        end_pick in any::<prop::sample::Index>(),
    ) {
        let g = Graph::build(&records).unwrap();
        let h = g.sorted_nodes()[start_pick.index(g.len())];
        let below = g.descendants([h], false);
        let above: Vec<Node> = g.sorted_nodes().iter().copied().filter(|n| below[n.index()]).collect();
        let t = above[end_pick.index(above.len())];
        let up = plan::upgrade(&g, &[h], &target::parse(g.id(t).as_str()).unwrap()).unwrap();
        replay(&g, &up);
        let down = plan::downgrade(&g, &up.after, &target::parse(g.id(h).as_str()).unwrap()).unwrap();
        replay(&g, &down);
        prop_assert_eq!(down.after, vec![h]);
        prop_assert_eq!(down.steps.len(), up.steps.len());
    }

    #[test]
    fn label_targets_give_valid_plans_that_apply_the_labelled_branch(
        records in dag(40, false),
        label_pick in any::<prop::sample::Index>(),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 0..3),
    ) {
        let g = Graph::build(&records).unwrap();
        let labelled: Vec<(usize, &Record)> = records.iter().enumerate().filter(|(_, r)| !r.labels.is_empty()).collect();
        prop_assume!(!labelled.is_empty());
        let (i, r) = labelled[label_pick.index(labelled.len())];
        let label = r.labels[0].to_string();
        let node = g.node(r.id.as_str()).unwrap();
        let current = random_state(&g, &picks);
        for text in [label.clone(), format!("{label}@head")] {
            let t = target::parse(&text).unwrap();
            // Several heads above the label: ambiguous, refused, as in Alembic.
            let Ok(p) = plan::upgrade(&g, &current, &t) else { continue };
            let after = replay(&g, &p);
            prop_assert!(after[node.index()], "{} leaves lab{} (r{:03}) unapplied", text, i, i);
            // Nothing off the label's branch is applied, beyond what was.
            let before = plan::applied_set(&g, &current);
            let branch = g.descendants([node], true);
            let reach = g.ancestors((0..g.len()).filter(|k| after[*k] && branch[*k]).map(|k| g.sorted_nodes().iter().copied().find(|n| n.index() == k).unwrap()), true);
            for k in 0..g.len() {
                prop_assert!(!after[k] || before[k] || reach[k], "{} applied a revision off its branch", text);
            }
        }
    }

    #[test]
    fn relative_targets_move_exactly_n_steps_in_a_tree(
        records in dag(30, true),
        start_pick in any::<prop::sample::Index>(),
        n in 1usize..4,
    ) {
        let g = Graph::build(&records).unwrap();
        let h = g.sorted_nodes()[start_pick.index(g.len())];
        let forms = [format!("+{n}"), format!("{}+{n}", g.id(h))];
        for text in forms {
            let t = target::parse(&text).unwrap();
            // Branching within n steps is ambiguous; running past a head
            // is an error. Otherwise: exactly n steps up.
            let Ok(up) = plan::upgrade(&g, &[h], &t) else { continue };
            replay(&g, &up);
            prop_assert_eq!(up.steps.len(), n, "{} from {}", text, g.id(h));
            // And `-n` comes back.
            let down = plan::downgrade(&g, &up.after, &target::parse(&format!("-{n}")).unwrap()).unwrap();
            replay(&g, &down);
            prop_assert_eq!(down.after.clone(), vec![h], "{} then -{}", text, n);
        }
    }
}
