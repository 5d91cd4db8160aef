//! Resolves parsed targets against a graph and the database's current
//! heads, with Alembic's semantics (`RevisionMap._parse_upgrade_target`,
//! `_parse_downgrade_target`, `_walk`). Where Alembic crashes or picks
//! arbitrarily (a relative step from several current heads), this says
//! why and stops.

use super::{Target, TargetError, What};
use crate::graph::{Graph, Node};

/// A place reached by a relative walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pos {
    Base,
    At(Node),
}

/// Where a downgrade goes: down to `target` (`None` for base), within the
/// branch of `label` when one is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DowngradeTarget {
    /// The node carrying the branch label, when the target names one.
    pub label: Option<Node>,
    /// The revision to stop at; `None` for base.
    pub target: Option<Node>,
}

fn ids(g: &Graph, nodes: &[Node]) -> Vec<String> {
    g.ids(nodes).map(str::to_owned).collect()
}

/// The revision a label names: a declared branch label, or (as Alembic
/// allows) a revision id or unique prefix.
fn label_node(g: &Graph, label: &str) -> Result<Node, TargetError> {
    if let Some(n) = g.label(label) {
        return Ok(n);
    }
    if let Some(n) = g.node(label) {
        return Ok(n);
    }
    match g.with_prefix(label) {
        [n] => Ok(*n),
        _ => Err(TargetError::UnknownLabel {
            label: label.to_owned(),
            known: g.labels().keys().map(|l| l.to_string()).collect(),
        }),
    }
}

/// Revisions on one line of descent with `n`: its ancestors and
/// descendants by `down_revisions`, and itself.
fn lineage(g: &Graph, n: Node) -> Vec<bool> {
    let mut set = g.ancestors([n], false);
    for (i, d) in g.descendants([n], false).into_iter().enumerate() {
        set[i] |= d;
    }
    set
}

/// The applied revisions on a branch (`on`) that no applied child follows:
/// a child on the branch only (`within_branch`, Alembic's upgrade walk), or
/// any child (its `_get_all_current`, for downgrades).
fn applied_tips(g: &Graph, current: &[Node], on: &[bool], within_branch: bool) -> Vec<Node> {
    let applied = g.ancestors(current.iter().copied(), true);
    g.nodes()
        .filter(|n| {
            applied[n.index()]
                && on[n.index()]
                && !g
                    .children(*n)
                    .iter()
                    .any(|c| applied[c.index()] && (!within_branch || on[c.index()]))
        })
        .collect()
}

/// The graph's heads on the branch of `label` (all heads without one).
fn heads_on(g: &Graph, label: Option<Node>) -> Vec<Node> {
    let heads = g.heads();
    match label {
        None => heads,
        Some(l) => {
            let below = g.descendants([l], false);
            heads.into_iter().filter(|h| below[h.index()]).collect()
        }
    }
}

/// `head` or `LABEL@head`: the one head.
fn single_head(g: &Graph, t: &Target, label: Option<Node>) -> Result<Node, TargetError> {
    let heads = heads_on(g, label);
    match heads.as_slice() {
        [h] => Ok(*h),
        [] => Err(TargetError::NoHead {
            target: t.text.clone(),
            label: t.label.clone().unwrap_or_default(),
        }),
        _ => Err(TargetError::MultipleHeads {
            target: t.text.clone(),
            heads: ids(g, &heads),
        }),
    }
}

/// An id or unique prefix, on the branch of `label` when one is given.
fn revision_ident(
    g: &Graph,
    ident: &str,
    label: Option<(Node, &str)>,
) -> Result<Node, TargetError> {
    // As in Alembic's revision map, a branch label names the revision that
    // carries it wherever a revision id may stand (`auth@auth`,
    // `billing@auth`), before prefixes are tried.
    let found = match g.node(ident).or_else(|| g.label(ident)) {
        Some(n) => n,
        None => {
            let mut candidates = g.with_prefix(ident).to_vec();
            if let Some((l, _)) = label
                && candidates.len() > 1
            {
                let on = lineage(g, l);
                candidates.retain(|c| on[c.index()]);
            }
            match candidates.as_slice() {
                [] => return Err(TargetError::UnknownRevision(ident.to_owned())),
                [n] => *n,
                _ => {
                    return Err(TargetError::AmbiguousPrefix {
                        prefix: ident.to_owned(),
                        candidates: ids(g, &candidates),
                    });
                }
            }
        }
    };
    if let Some((l, name)) = label
        && !g.shares_lineage(found, l)
    {
        return Err(TargetError::NotOnBranch {
            revision: g.id(found).to_string(),
            label: name.to_owned(),
        });
    }
    Ok(found)
}

/// A single position named by `anchor` (`head`, `base` or a revision).
fn anchor_pos(
    g: &Graph,
    t: &Target,
    anchor: &str,
    label: Option<(Node, &str)>,
) -> Result<Pos, TargetError> {
    match anchor {
        "base" => Ok(Pos::Base),
        "head" => single_head(g, t, label.map(|l| l.0)).map(Pos::At),
        "heads" => match heads_on(g, label.map(|l| l.0)).as_slice() {
            [h] => Ok(Pos::At(*h)),
            heads => Err(TargetError::MultipleHeads {
                target: t.text.clone(),
                heads: ids(g, heads),
            }),
        },
        ident => revision_ident(g, ident, label).map(Pos::At),
    }
}

/// Walks `steps` up (positive) or down (negative) from `start`, by
/// `down_revisions` only, as Alembic's `_walk` does. Walking up on a
/// branch keeps to revisions on that branch.
fn walk(
    g: &Graph,
    t: &Target,
    start: Pos,
    steps: i64,
    branch: Option<Node>,
) -> Result<Pos, TargetError> {
    let on_branch = branch.map(|b| lineage(g, b));
    let start_name = |p: Pos| match p {
        Pos::Base => "base".to_owned(),
        Pos::At(n) => format!("`{}`", g.id(n)),
    };
    let mut pos = start;
    for walked in 0..steps.abs() {
        let past_end = |end| TargetError::PastEnd {
            target: t.text.clone(),
            end,
            from: start_name(start),
            walked,
            wanted: steps.abs(),
        };
        if steps > 0 {
            let mut next: Vec<Node> = match pos {
                Pos::Base => g.bases(),
                Pos::At(n) => g.children(n).to_vec(),
            };
            if let Some(on) = &on_branch {
                next.retain(|c| on[c.index()]);
            }
            pos = match next.as_slice() {
                [] => return Err(past_end("head")),
                [n] => Pos::At(*n),
                many => {
                    return Err(TargetError::AmbiguousWalk {
                        target: t.text.clone(),
                        from: start_name(pos).trim_matches('`').to_owned(),
                        what: if pos == Pos::Base {
                            "bases"
                        } else {
                            "children"
                        },
                        candidates: ids(g, many),
                    });
                }
            };
        } else {
            pos = match pos {
                Pos::Base => return Err(past_end("base")),
                Pos::At(n) => match g.parents(n) {
                    [] => Pos::Base,
                    [p] => Pos::At(*p),
                    many => {
                        return Err(TargetError::AmbiguousWalk {
                            target: t.text.clone(),
                            from: g.id(n).to_string(),
                            what: "parents (it is a merge point)",
                            candidates: ids(g, many),
                        });
                    }
                },
            };
        }
    }
    Ok(pos)
}

fn resolved_label<'a>(g: &Graph, t: &'a Target) -> Result<Option<(Node, &'a str)>, TargetError> {
    t.label
        .as_deref()
        .map(|l| label_node(g, l).map(|n| (n, l)))
        .transpose()
}

/// The revision named by `t`'s `LABEL@`, if it has one.
pub fn resolve_label(g: &Graph, t: &Target) -> Result<Option<Node>, TargetError> {
    Ok(resolved_label(g, t)?.map(|l| l.0))
}

/// The revisions an `upgrade` to `t` must reach, given the current heads.
/// An empty result means base.
pub fn resolve_upgrade(g: &Graph, current: &[Node], t: &Target) -> Result<Vec<Node>, TargetError> {
    let label = resolved_label(g, t)?;
    let label_n = label.map(|l| l.0);
    match &t.what {
        What::Base => Ok(Vec::new()),
        What::Heads => Ok(match label_n {
            None => g.real_heads(),
            Some(l) => heads_on(g, Some(l)),
        }),
        What::Head => single_head(g, t, label_n).map(|n| vec![n]),
        What::Rev(r) => revision_ident(g, r, label).map(|n| vec![n]),
        What::Relative {
            anchor: None,
            steps,
        } if *steps <= 0 => Err(TargetError::WrongDirection {
            target: t.text.clone(),
            message: format!(
                "goes down from the current revision: did you mean `braid downgrade {}`?",
                t.text
            ),
        }),
        What::Relative {
            anchor: None,
            steps,
        } => {
            let start = match label_n {
                None => current.to_vec(),
                Some(l) => {
                    let on = lineage(g, l);
                    let mut start: Vec<Node> =
                        current.iter().copied().filter(|c| on[c.index()]).collect();
                    if start.is_empty() {
                        // The branch is not at a current head (it hangs off an
                        // applied ancestor): start from its applied tip.
                        start = applied_tips(g, current, &on, true);
                    }
                    start
                }
            };
            let start = match start.as_slice() {
                [] => Pos::Base,
                [n] => Pos::At(*n),
                many => {
                    return Err(TargetError::AmbiguousCurrent {
                        target: t.text.clone(),
                        heads: ids(g, many),
                    });
                }
            };
            match walk(g, t, start, *steps, label_n)? {
                Pos::At(n) => Ok(vec![n]),
                Pos::Base => Ok(Vec::new()),
            }
        }
        What::Relative {
            anchor: Some(a),
            steps,
        } => {
            // `LABEL@REV+N`: the anchor is checked against the branch, and
            // an upward walk keeps to it.
            let start = anchor_pos(g, t, a, label)?;
            let branch = if *steps > 0 { label_n } else { None };
            match walk(g, t, start, *steps, branch)? {
                Pos::At(n) => Ok(vec![n]),
                Pos::Base => Ok(Vec::new()),
            }
        }
    }
}

/// Where a `downgrade` to `t` goes, given the current heads.
pub fn resolve_downgrade(
    g: &Graph,
    current: &[Node],
    t: &Target,
) -> Result<DowngradeTarget, TargetError> {
    let label = resolved_label(g, t)?;
    let label_n = label.map(|l| l.0);
    let at = |pos: Pos, label: Option<Node>| DowngradeTarget {
        label,
        target: match pos {
            Pos::Base => None,
            Pos::At(n) => Some(n),
        },
    };
    match &t.what {
        What::Base => Ok(at(Pos::Base, label_n)),
        What::Head => single_head(g, t, label_n).map(|n| at(Pos::At(n), label_n)),
        What::Heads => anchor_pos(g, t, "heads", label).map(|p| at(p, label_n)),
        What::Rev(r) => revision_ident(g, r, label).map(|n| at(Pos::At(n), label_n)),
        What::Relative {
            anchor: None,
            steps,
        } if *steps >= 0 => Err(TargetError::WrongDirection {
            target: t.text.clone(),
            message: format!(
                "goes up from the current revision: did you mean `braid upgrade {}`?",
                t.text
            ),
        }),
        What::Relative {
            anchor: None,
            steps,
        } => {
            let (start, branch) = match label_n {
                Some(l) => {
                    let on = lineage(g, l);
                    let mut on_branch: Vec<Node> =
                        current.iter().copied().filter(|c| on[c.index()]).collect();
                    if on_branch.is_empty() {
                        // Alembic's `_get_all_current`: the branch's applied tip
                        // may be implied by a head on another branch.
                        on_branch = applied_tips(g, current, &on, false);
                    }
                    match on_branch.as_slice() {
                        [] => {
                            return Err(TargetError::NothingApplied {
                                target: t.text.clone(),
                            });
                        }
                        [n] => (*n, l),
                        many => {
                            return Err(TargetError::AmbiguousCurrent {
                                target: t.text.clone(),
                                heads: ids(g, many),
                            });
                        }
                    }
                }
                None => match current {
                    [] => {
                        return Err(TargetError::NothingApplied {
                            target: t.text.clone(),
                        });
                    }
                    // Alembic warns and takes an arbitrary row here; a
                    // downgrade must not depend on row order.
                    [n] => (*n, *n),
                    many => {
                        return Err(TargetError::AmbiguousCurrent {
                            target: t.text.clone(),
                            heads: ids(g, many),
                        });
                    }
                },
            };
            let end = walk(g, t, Pos::At(start), *steps, None)?;
            Ok(at(end, Some(branch)))
        }
        What::Relative {
            anchor: Some(a),
            steps,
        } => {
            let start = anchor_pos(g, t, a, label)?;
            let branch = if *steps > 0 { label_n } else { None };
            let end = walk(g, t, start, *steps, branch)?;
            Ok(at(end, label_n))
        }
    }
}

/// One revision named by `t`, for `show`, `history -r`, `revision --head`.
pub fn resolve_revision(g: &Graph, t: &Target) -> Result<Option<Node>, TargetError> {
    let label = resolved_label(g, t)?;
    match &t.what {
        What::Base => Ok(None),
        What::Head => single_head(g, t, label.map(|l| l.0)).map(Some),
        What::Heads => match anchor_pos(g, t, "heads", label)? {
            Pos::At(n) => Ok(Some(n)),
            Pos::Base => Ok(None),
        },
        What::Rev(r) => revision_ident(g, r, label).map(Some),
        What::Relative { anchor, steps } => {
            let start = match anchor {
                Some(a) => anchor_pos(g, t, a, label)?,
                None => Pos::At(single_head(g, t, label.map(|l| l.0))?),
            };
            match walk(g, t, start, *steps, label.map(|l| l.0))? {
                Pos::At(n) => Ok(Some(n)),
                Pos::Base => Ok(None),
            }
        }
    }
}

/// The revisions `stamp` records for `t`; empty for base.
pub fn resolve_stamp(g: &Graph, current: &[Node], t: &Target) -> Result<Vec<Node>, TargetError> {
    resolve_upgrade(g, current, t)
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;
    use crate::graph::test_support::{graph, n};

    //        r0
    //       /  \
    // a1(@auth) b1(@billing)
    //      |      |
    //     a2     b2
    const TWO: &str = "r0:\na1: r0 @auth\na2: a1\nb1: r0 @billing\nb2: b1";

    fn up(g: &Graph, current: &[&str], t: &str) -> Result<Vec<String>, TargetError> {
        let cur: Vec<Node> = current.iter().map(|c| n(g, c)).collect();
        resolve_upgrade(g, &cur, &parse(t).unwrap()).map(|v| ids(g, &v))
    }

    fn down(g: &Graph, current: &[&str], t: &str) -> Result<Option<String>, TargetError> {
        let cur: Vec<Node> = current.iter().map(|c| n(g, c)).collect();
        resolve_downgrade(g, &cur, &parse(t).unwrap())
            .map(|d| d.target.map(|n| g.id(n).to_string()))
    }

    #[test]
    fn head_with_two_heads_lists_them() {
        let g = graph(TWO);
        match up(&g, &[], "head").unwrap_err() {
            TargetError::MultipleHeads { heads, .. } => assert_eq!(heads, ["a2", "b2"]),
            e => panic!("{e}"),
        }
        assert_eq!(up(&g, &[], "heads").unwrap(), ["a2", "b2"]);
        assert_eq!(up(&g, &[], "auth@head").unwrap(), ["a2"]);
        assert_eq!(up(&g, &[], "billing@b1").unwrap(), ["b1"]);
        assert!(matches!(
            up(&g, &[], "billing@a1"),
            Err(TargetError::NotOnBranch { .. })
        ));
        assert!(matches!(
            up(&g, &[], "nolabel@head"),
            Err(TargetError::UnknownLabel { .. })
        ));
    }

    #[test]
    fn relative_steps() {
        let g = graph(TWO);
        assert_eq!(up(&g, &[], "+1").unwrap(), ["r0"]);
        assert!(matches!(
            up(&g, &["r0"], "+1"),
            Err(TargetError::AmbiguousWalk { .. })
        ));
        assert_eq!(up(&g, &["r0"], "auth@+2").unwrap(), ["a2"]);
        assert_eq!(up(&g, &["a2", "b1"], "billing@+1").unwrap(), ["b2"]);
        assert!(matches!(
            up(&g, &["a2", "b1"], "+1"),
            Err(TargetError::AmbiguousCurrent { .. })
        ));
        assert_eq!(up(&g, &[], "a1+1").unwrap(), ["a2"]);
        assert_eq!(up(&g, &[], "a2-2").unwrap(), ["r0"]);
        assert!(matches!(
            up(&g, &["a1"], "auth@+5"),
            Err(TargetError::PastEnd { walked: 1, .. })
        ));
        assert_eq!(down(&g, &["a2"], "-1").unwrap(), Some("a1".into()));
        assert_eq!(down(&g, &["a2"], "-3").unwrap(), None);
        assert!(matches!(
            down(&g, &["a2"], "-4"),
            Err(TargetError::PastEnd { .. })
        ));
        assert_eq!(
            down(&g, &["a2", "b2"], "billing@-1").unwrap(),
            Some("b1".into())
        );
        assert!(matches!(
            down(&g, &["a2", "b2"], "-1"),
            Err(TargetError::AmbiguousCurrent { .. })
        ));
        assert!(matches!(
            down(&g, &[], "-1"),
            Err(TargetError::NothingApplied { .. })
        ));
        assert!(matches!(
            down(&g, &["a2"], "+1"),
            Err(TargetError::WrongDirection { .. })
        ));
    }

    #[test]
    fn a_label_after_the_at_names_its_revision() {
        let g = graph(TWO);
        assert_eq!(up(&g, &[], "auth@auth").unwrap(), ["a1"]);
        assert_eq!(up(&g, &[], "auth").unwrap(), ["a1"]);
        assert_eq!(up(&g, &["a2"], "billing@billing").unwrap(), ["b1"]);
        assert_eq!(up(&g, &[], "auth@auth+1").unwrap(), ["a2"]);
        assert!(matches!(
            up(&g, &[], "billing@auth"),
            Err(TargetError::NotOnBranch { .. })
        ));
        assert_eq!(
            down(&g, &["a2", "b2"], "billing@billing").unwrap(),
            Some("b1".into())
        );
    }

    #[test]
    fn prefixes() {
        let g = graph("abc1:\nabc2: abc1\nabd3: abc2");
        assert_eq!(up(&g, &[], "abd").unwrap(), ["abd3"]);
        match up(&g, &[], "abc").unwrap_err() {
            TargetError::AmbiguousPrefix { candidates, .. } => {
                assert_eq!(candidates, ["abc1", "abc2"])
            }
            e => panic!("{e}"),
        }
        assert!(matches!(
            up(&g, &[], "zz"),
            Err(TargetError::UnknownRevision(_))
        ));
    }

    #[test]
    fn walking_down_through_a_merge_point_is_ambiguous() {
        let g = graph("r0:\na1: r0\nb1: r0\nm: a1 b1");
        assert!(matches!(
            down(&g, &["m"], "-1"),
            Err(TargetError::AmbiguousWalk { .. })
        ));
    }
}
