//! The offline script of `--sql`: a plan rendered as the SQL the executor
//! would send, in the URL's dialect, with the transactions and the
//! version-table statements, for a DBA to review or run by hand.

use std::fmt::Write;

use crate::db::Dialect;
use crate::history::History;
use crate::plan::Plan;

/// Renders `plan` as one SQL script.
pub fn script(h: &History, plan: &Plan, d: &Dialect, title: &str) -> String {
    let g = &h.graph;
    let mut out = String::new();
    let _ = writeln!(out, "-- braid {title} ({})", d.engine.name());
    if let Some(s) = d.create_schema() {
        let _ = writeln!(out, "{s};");
        let _ = writeln!(
            out,
            "SET search_path TO {}, public;",
            d.quote(d.schema.as_deref().unwrap_or(""))
        );
    }
    let _ = writeln!(out, "{};\n", d.create_version_table());
    let vt = &d.version_table;
    for step in &plan.steps {
        let m = h.migration(step.node);
        let section = m.section(step.direction);
        let transactional = m.transactional && d.transactional_ddl();
        let parents: Vec<&str> = g.ids(g.parents(step.node)).collect();
        let _ = writeln!(
            out,
            "-- Running {} {} ({}){}",
            step.direction,
            m.id,
            m.path.display(),
            if parents.is_empty() {
                String::new()
            } else {
                format!(", down_revisions: {}", parents.join(", "))
            }
        );
        if transactional {
            let _ = writeln!(out, "{};", d.begin().replace(" IMMEDIATE", ""));
        }
        let sql = section.map(|s| &m.source[s.range.clone()]).unwrap_or("");
        let body = sql.trim();
        if !body.is_empty() {
            out.push_str(body);
            out.push('\n');
        }
        let removed: Vec<&str> = g.ids(&step.removed).collect();
        let added: Vec<&str> = g.ids(&step.added).collect();
        if let ([from], [to]) = (removed.as_slice(), added.as_slice()) {
            let _ = writeln!(
                out,
                "UPDATE {vt} SET version_num = {} WHERE version_num = {};",
                d.literal(to),
                d.literal(from)
            );
        } else {
            for r in &removed {
                let _ = writeln!(
                    out,
                    "DELETE FROM {vt} WHERE version_num = {};",
                    d.literal(r)
                );
            }
            for a in &added {
                let _ = writeln!(
                    out,
                    "INSERT INTO {vt} (version_num) VALUES ({});",
                    d.literal(a)
                );
            }
        }
        if transactional {
            let _ = writeln!(out, "COMMIT;");
        }
        out.push('\n');
    }
    out
}
