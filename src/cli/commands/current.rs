//! `braid current`: the revisions recorded as current heads.

use serde_json::json;

use crate::cli::{CommandError, Ctx, Format, only_formats, out, out_json};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CommandError> {
    only_formats(args.format, &[Format::Text, Format::Json])?;
    let heads = ctx.recorded_heads().await?;
    if args.format == Format::Json {
        out_json(&json!({ "heads": heads }));
        return Ok(());
    }
    // Marks come from the files when they load; `current` works without them.
    let h = ctx.history().ok();
    let mut s = String::new();
    for id in &heads {
        let marks = h
            .as_ref()
            .and_then(|h| h.graph.node(id).map(|n| (h, n)))
            .map(|(h, n)| braid::render::marks(&h.graph, n, &h.graph.labels_of(n), false))
            .unwrap_or_default();
        s.push_str(&format!("{id}{marks}\n"));
    }
    out(&s);
    Ok(())
}
