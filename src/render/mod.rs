//! Renders histories for people and tools: Alembic-style text lines,
//! Graphviz DOT, and JSON values. Output is deterministic: the same
//! history always renders to the same bytes.

pub mod sql;

use serde_json::{Value, json};

use crate::graph::{Graph, Node};
use crate::history::History;

/// Marks shown after a revision id, as Alembic shows them.
pub fn marks(
    g: &Graph,
    n: Node,
    labels: &[&crate::revision::BranchLabel],
    current: bool,
) -> String {
    let mut s = String::new();
    if !labels.is_empty() {
        let l: Vec<&str> = labels.iter().map(|l| l.as_str()).collect();
        s.push_str(&format!(" ({})", l.join(", ")));
    }
    if g.is_head(n) {
        s.push_str(" (head)");
    }
    if g.is_branch_point(n) {
        s.push_str(" (branchpoint)");
    }
    if g.is_merge_point(n) {
        s.push_str(" (mergepoint)");
    }
    if current {
        s.push_str(" (current)");
    }
    s
}

/// `a1, b1 -> m (head) (mergepoint), merge branches`
pub fn history_line(
    h: &History,
    n: Node,
    labels: &[&crate::revision::BranchLabel],
    current: bool,
) -> String {
    let g = &h.graph;
    let parents = if g.parents(n).is_empty() {
        "<base>".to_owned()
    } else {
        g.ids(g.parents(n)).collect::<Vec<_>>().join(", ")
    };
    let message = h.migration(n).message.as_deref().unwrap_or("");
    format!(
        "{parents} -> {}{}, {message}",
        g.id(n),
        marks(g, n, labels, current)
    )
}

/// One revision as a JSON object.
pub fn revision_json(h: &History, n: Node, labels: &[&crate::revision::BranchLabel]) -> Value {
    let g = &h.graph;
    let m = h.migration(n);
    json!({
        "revision": g.id(n),
        "down_revisions": g.ids(g.parents(n)).collect::<Vec<_>>(),
        "depends_on": g.ids(g.dependencies(n)).collect::<Vec<_>>(),
        "branch_labels": labels.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
        "message": m.message,
        "created": m.created,
        "path": m.path.display().to_string(),
        "transactional": m.transactional,
        "reversible": m.down.is_some(),
        "is_head": g.is_head(n),
        "is_base": g.is_base(n),
        "is_branch_point": g.is_branch_point(n),
        "is_merge_point": g.is_merge_point(n),
        "checksum": m.checksum.to_string(),
    })
}

fn dot_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The graph in Graphviz DOT. Heads have a double border, bases a bold
/// one, branch points and merge points their own shapes, labels are shown
/// in the node, `depends_on` edges are dashed. Given the applied set,
/// applied revisions are filled green and pending ones grey, and the
/// recorded heads are marked current.
pub fn dot(h: &History, applied: Option<(&[bool], &[Node])>) -> String {
    let g = &h.graph;
    let mut out = String::from(
        "digraph braid {\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"white\", fontname=\"Helvetica\"];\n",
    );
    for &n in g.sorted_nodes() {
        let m = h.migration(n);
        let mut label = g.id(n).to_string();
        let own: Vec<&str> = g.own_labels(n).iter().map(|l| l.as_str()).collect();
        if !own.is_empty() {
            label.push_str(&format!(" [{}]", own.join(", ")));
        }
        if let Some(msg) = &m.message {
            label.push('\n');
            label.push_str(msg);
        }
        let mut attrs = vec![format!("label=\"{}\"", dot_escape(&label))];
        let mut kinds = Vec::new();
        if g.is_head(n) {
            attrs.push("peripheries=2".into());
            kinds.push("head");
        }
        if g.is_base(n) {
            attrs.push("penwidth=2".into());
            kinds.push("base");
        }
        if g.is_merge_point(n) {
            attrs.push("shape=hexagon".into());
            kinds.push("mergepoint");
        } else if g.is_branch_point(n) {
            attrs.push("shape=diamond".into());
            kinds.push("branchpoint");
        }
        if let Some((set, current)) = applied {
            if set[n.index()] {
                attrs.push("fillcolor=\"#c8e6c9\"".into());
                kinds.push("applied");
            } else {
                attrs.push("fillcolor=\"#eeeeee\"".into());
                attrs.push("fontcolor=\"#616161\"".into());
                kinds.push("pending");
            }
            if current.contains(&n) {
                attrs.push("color=\"#2e7d32\"".into());
                kinds.push("current");
            }
        }
        if !kinds.is_empty() {
            attrs.push(format!("class=\"{}\"", kinds.join(" ")));
        }
        out.push_str(&format!(
            "  \"{}\" [{}];\n",
            dot_escape(g.id(n).as_str()),
            attrs.join(", ")
        ));
    }
    for &n in g.sorted_nodes() {
        for &p in g.parents(n) {
            out.push_str(&format!(
                "  \"{}\" -> \"{}\";\n",
                dot_escape(g.id(p).as_str()),
                dot_escape(g.id(n).as_str())
            ));
        }
        for &d in g.dependencies(n) {
            out.push_str(&format!(
                "  \"{}\" -> \"{}\" [style=dashed, color=\"#1565c0\", label=\"depends on\", fontsize=9];\n",
                dot_escape(g.id(d).as_str()),
                dot_escape(g.id(n).as_str())
            ));
        }
    }
    out.push_str("}\n");
    out
}

/// The graph as JSON: nodes and edges, for other tools.
pub fn graph_json(h: &History, applied: Option<(&[bool], &[Node])>) -> Value {
    let g = &h.graph;
    let labels = g.all_labels();
    let nodes: Vec<Value> = g
        .sorted_nodes()
        .iter()
        .map(|&n| {
            let mut v = revision_json(h, n, &labels[n.index()]);
            if let Some((set, current)) = applied {
                v["applied"] = json!(set[n.index()]);
                v["current"] = json!(current.contains(&n));
            }
            v
        })
        .collect();
    let mut edges = Vec::new();
    for &n in g.sorted_nodes() {
        for &p in g.parents(n) {
            edges.push(json!({"from": g.id(p), "to": g.id(n), "kind": "parent"}));
        }
        for &d in g.dependencies(n) {
            edges.push(json!({"from": g.id(d), "to": g.id(n), "kind": "depends_on"}));
        }
    }
    json!({
        "heads": g.ids(&g.heads()).collect::<Vec<_>>(),
        "bases": g.ids(&g.bases()).collect::<Vec<_>>(),
        "nodes": nodes,
        "edges": edges,
    })
}

/// The history drawn in the terminal, newest first, as `git log --graph`
/// draws it: one lane per open line of descent, `*` for a revision (`@`
/// for one the database records as current), `/` where a branch joins its
/// branch point, `\` where a merge opens a lane for its second parent.
/// With `color`, each lane has its colour and current revisions are green.
pub fn ascii_graph(
    h: &History,
    order: &[Node],
    labels: &[Vec<&crate::revision::BranchLabel>],
    current: &[Node],
    color: bool,
) -> String {
    let g = &h.graph;
    const COLORS: [&str; 6] = ["31", "32", "33", "34", "35", "36"];
    let paint = |lane: usize, s: &str| {
        if color {
            format!("\x1b[{}m{s}\x1b[0m", COLORS[lane % COLORS.len()])
        } else {
            s.to_owned()
        }
    };
    let mut lanes: Vec<Option<Node>> = Vec::new();
    let mut out = String::new();
    let row = |lanes: &[Option<Node>], mark: &dyn Fn(usize) -> Option<String>| {
        let mut s = String::new();
        for (i, l) in lanes.iter().enumerate() {
            match mark(i) {
                Some(m) => s.push_str(&m),
                None if l.is_some() => s.push_str(&paint(i, "|")),
                None => s.push(' '),
            }
            s.push(' ');
        }
        s
    };
    for &n in order {
        let hits: Vec<usize> = lanes
            .iter()
            .enumerate()
            .filter(|(_, l)| **l == Some(n))
            .map(|(i, _)| i)
            .collect();
        let col = match hits.first() {
            Some(c) => *c,
            None => match lanes.iter().position(Option::is_none) {
                Some(free) => free,
                None => {
                    lanes.push(None);
                    lanes.len() - 1
                }
            },
        };
        if hits.len() > 1 {
            let joins = &hits[1..];
            let line = row(&lanes, &|i| joins.contains(&i).then(|| paint(i, "/")));
            out.push_str(line.trim_end());
            out.push('\n');
            for j in joins {
                lanes[*j] = None;
            }
            while lanes.len() > col + 1 && lanes.last() == Some(&None) {
                lanes.pop();
            }
        }
        lanes[col] = Some(n);
        let is_current = current.contains(&n);
        let star = if is_current { "@" } else { "*" };
        let node_mark = if color && is_current {
            format!("\x1b[1;32m{star}\x1b[0m")
        } else {
            paint(col, star)
        };
        let mut line = row(&lanes, &|i| (i == col).then(|| node_mark.clone()));
        let m = h.migration(n);
        line.push_str(&format!(
            "{}{}",
            g.id(n),
            marks(g, n, &labels[n.index()], is_current)
        ));
        if let Some(msg) = &m.message {
            line.push_str(&format!(", {msg}"));
        }
        if !g.dependencies(n).is_empty() {
            let deps: Vec<&str> = g.ids(g.dependencies(n)).collect();
            line.push_str(&format!(" (depends on {})", deps.join(", ")));
        }
        out.push_str(line.trim_end());
        out.push('\n');
        let parents = g.parents(n);
        lanes[col] = parents.first().copied();
        let mut opened = Vec::new();
        for &p in parents.iter().skip(1) {
            if lanes.contains(&Some(p)) {
                continue;
            }
            let slot = match lanes.iter().skip(col + 1).position(Option::is_none) {
                Some(k) => col + 1 + k,
                None => {
                    lanes.push(None);
                    lanes.len() - 1
                }
            };
            lanes[slot] = Some(p);
            opened.push(slot);
        }
        if !opened.is_empty() {
            let line = row(&lanes, &|i| opened.contains(&i).then(|| paint(i, "\\")));
            out.push_str(line.trim_end());
            out.push('\n');
        }
        while lanes.last() == Some(&None) {
            lanes.pop();
        }
    }
    out
}
