//! `braid history [-r RANGE] [--indicate-current]`: revisions, newest first.

use braid::graph::Node;
use serde_json::json;

use crate::cli::{CommandError, Ctx, Format, only_formats, out, out_json};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    range: crate::cli::RangeArg,
    /// Mark the revisions the database records as current.
    #[arg(short = 'i', long = "indicate-current")]
    indicate_current: bool,
    /// Draw the graph in the terminal, as `git log --graph` does (colours
    /// on a terminal, none when piped or with NO_COLOR).
    #[arg(long)]
    graph: bool,
    /// Colours for --graph: `auto` (on a terminal without NO_COLOR),
    /// `always` or `never`.
    #[arg(long, value_enum, default_value = "auto")]
    color: Color,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CommandError> {
    only_formats(args.format, &[Format::Text, Format::Json])?;
    let h = ctx.history()?;
    let g = &h.graph;
    let mut current: Option<Vec<Node>> = None;
    if args.indicate_current {
        current = Some(crate::cli::read_current(ctx, &h).await?);
    }
    let include = match &args.range.range {
        Some(range) => crate::cli::range(ctx, &h, range, &mut current).await?,
        None => vec![true; g.len()],
    };
    let marked = current.unwrap_or_default();
    let labels = g.all_labels();
    let order: Vec<Node> = g
        .newest_first()
        .into_iter()
        .filter(|n| include[n.index()])
        .collect();
    if args.format == Format::Json {
        // With the database asked (`-i`): when each revision was applied,
        // how long it took and by whom (SPEC §14).
        let log = if args.indicate_current {
            ctx.log(None).await?
        } else {
            Vec::new()
        };
        let applied = braid::db::last_applied(&log);
        let applied_now = braid::plan::applied_set(g, &marked);
        let revs: Vec<_> = order
            .iter()
            .map(|n| {
                let mut v = braid::render::revision_json(&h, *n, &labels[n.index()]);
                if args.indicate_current {
                    v["current"] = json!(marked.contains(n));
                    let at = applied
                        .get(g.id(*n).as_str())
                        .filter(|_| applied_now[n.index()]);
                    v["applied_at"] = json!(at.and_then(|e| e.finished_at.clone()));
                    v["duration_ms"] = json!(at.and_then(|e| e.duration_ms));
                    v["run_by"] = json!(at.and_then(|e| e.run_by.clone()));
                }
                v
            })
            .collect();
        out_json(&json!({ "revisions": revs }));
        return Ok(());
    }
    if args.graph {
        use std::io::IsTerminal;
        let color = match args.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        };
        out(&braid::render::ascii_graph(
            &h, &order, &labels, &marked, color,
        ));
        return Ok(());
    }
    let mut s = String::new();
    for n in order {
        s.push_str(&braid::render::history_line(
            &h,
            n,
            &labels[n.index()],
            marked.contains(&n),
        ));
        s.push('\n');
    }
    out(&s);
    Ok(())
}
