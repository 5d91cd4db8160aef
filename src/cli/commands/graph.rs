//! `braid graph`: the revision graph as Graphviz DOT or JSON, or rendered
//! to SVG/PNG by Graphviz's `dot`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::cli::{CommandError, Ctx, Format, only_formats, out, out_json};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long, value_enum, default_value = "dot")]
    format: Format,
    /// Write to FILE instead of stdout; `.svg` and `.png` are rendered by
    /// Graphviz `dot`.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Leave out which revisions the database has applied.
    #[arg(long = "no-db")]
    no_db: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CommandError> {
    only_formats(args.format, &[Format::Dot, Format::Json])?;
    let h = ctx.history()?;
    let mut current = None;
    if !args.no_db && ctx.has_database() {
        let ids = ctx.recorded_heads().await?;
        let nodes: Vec<_> = ids.iter().filter_map(|i| h.graph.node(i)).collect();
        current = Some(nodes);
    }
    let applied = current
        .as_ref()
        .map(|c| braid::plan::applied_set(&h.graph, c));
    let state = applied.as_deref().zip(current.as_deref());
    if args.format == Format::Json {
        let v = braid::render::graph_json(&h, state);
        match &args.output {
            None => out_json(&v),
            Some(path) => write_file(path, &serde_json::to_string_pretty(&v).unwrap_or_default())?,
        }
        return Ok(());
    }
    let dot = braid::render::dot(&h, state);
    let Some(path) = &args.output else {
        out(&dot);
        return Ok(());
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "svg" | "png" | "pdf" => render(&dot, &ext, path),
        _ => write_file(path, &dot),
    }?;
    ctx.note(&format!("wrote {}", path.display()));
    Ok(())
}

fn write_file(path: &PathBuf, text: &str) -> Result<(), CommandError> {
    std::fs::write(path, text)
        .map_err(|e| CommandError::new(format!("cannot write {}: {e}", path.display())))
}

/// Runs Graphviz `dot -T<ext> -o PATH`.
fn render(dot: &str, ext: &str, path: &PathBuf) -> Result<(), CommandError> {
    let mut child = Command::new("dot")
        .arg(format!("-T{ext}"))
        .arg("-o")
        .arg(path)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            CommandError::new(format!("cannot render {}: Graphviz `dot` is not available ({e})", path.display()))
                .hint("install Graphviz (`apt-get install graphviz`, `brew install graphviz`), or write DOT with `--output FILE.dot`")
        })?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(dot.as_bytes())
        .map_err(|e| CommandError::new(format!("cannot run dot: {e}")))?;
    let output = child
        .wait_with_output()
        .map_err(|e| CommandError::new(format!("cannot run dot: {e}")))?;
    if !output.status.success() {
        return Err(CommandError::new(format!(
            "Graphviz `dot` failed to render {}",
            path.display()
        ))
        .cause(String::from_utf8_lossy(&output.stderr).trim().to_owned()));
    }
    Ok(())
}
