//! `braid heads` and `braid branches`.

use serde_json::json;

use crate::cli::{CommandError, Ctx, Format, only_formats, out, out_json};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Leave out heads that another revision depends on.
    #[arg(long = "resolve-dependencies")]
    resolve_dependencies: bool,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(clap::Args, Debug)]
pub struct FormatArgs {
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<(), CommandError> {
    only_formats(args.format, &[Format::Text, Format::Json])?;
    let h = ctx.history()?;
    let g = &h.graph;
    let heads = if args.resolve_dependencies {
        g.real_heads()
    } else {
        g.heads()
    };
    let labels: Vec<_> = heads.iter().map(|n| g.labels_of(*n)).collect();
    if args.format == Format::Json {
        out_json(&json!({
            "heads": g.ids(&heads).collect::<Vec<_>>(),
            "revisions": heads.iter().zip(&labels).map(|(n, l)| braid::render::revision_json(&h, *n, l)).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    let mut s = String::new();
    for (n, l) in heads.iter().zip(&labels) {
        s.push_str(&format!(
            "{}{}\n",
            g.id(*n),
            braid::render::marks(g, *n, l, false)
        ));
    }
    out(&s);
    Ok(())
}

pub fn branches(ctx: &Ctx, args: FormatArgs) -> Result<(), CommandError> {
    only_formats(args.format, &[Format::Text, Format::Json])?;
    let h = ctx.history()?;
    let g = &h.graph;
    let labels = g.all_labels();
    let points: Vec<_> = g
        .sorted_nodes()
        .iter()
        .copied()
        .filter(|n| g.is_branch_point(*n))
        .collect();
    if args.format == Format::Json {
        out_json(&json!({
            "branch_points": points.iter().map(|n| json!({
                "revision": g.id(*n),
                "message": h.migration(*n).message,
                "branches": g.children(*n).iter().map(|c| json!({
                    "revision": g.id(*c),
                    "branch_labels": labels[c.index()].iter().map(|l| l.as_str()).collect::<Vec<_>>(),
                    "message": h.migration(*c).message,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    let mut s = String::new();
    for n in points {
        let id = g.id(n).as_str();
        s.push_str(&format!(
            "{id}{}, {}\n",
            braid::render::marks(g, n, &labels[n.index()], false),
            h.migration(n).message.as_deref().unwrap_or("")
        ));
        for c in g.children(n) {
            s.push_str(&format!(
                "{} -> {}{}, {}\n",
                " ".repeat(id.len()),
                g.id(*c),
                braid::render::marks(g, *c, &labels[c.index()], false),
                h.migration(*c).message.as_deref().unwrap_or("")
            ));
        }
    }
    out(&s);
    Ok(())
}
