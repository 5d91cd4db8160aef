//! `braid log [-n N]`: the history of the database at the URL, newest
//! first: every step (and every statement of a step outside a
//! transaction) with when it started, how long it took, its status and
//! who ran it (SPEC §14).

use serde_json::json;

use crate::cli::{CommandError, Ctx, Format, only_formats, out, out_json};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show at most this many entries.
    #[arg(short = 'n', long = "max-count", value_name = "N")]
    max_count: Option<usize>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// A duration for people: `412ms`, `3.20s`, `2m 05s`.
fn duration(ms: i64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.2}s", ms as f64 / 1000.0)
    } else {
        format!("{}m {:02}s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CommandError> {
    only_formats(args.format, &[Format::Text, Format::Json])?;
    let entries = ctx.log(args.max_count).await?;
    if args.format == Format::Json {
        out_json(&json!({ "entries": entries }));
        return Ok(());
    }
    if entries.is_empty() {
        ctx.note("no history: braid has not run on this database");
        return Ok(());
    }
    let mut s = String::new();
    for e in &entries {
        let what = match (e.statement, e.rows) {
            (Some(i), Some(r)) => {
                format!(" statement {i}, {r} row{}", if r == 1 { "" } else { "s" })
            }
            (Some(i), None) => format!(" statement {i}"),
            _ => String::new(),
        };
        s.push_str(&format!(
            "{}  {:>9}  {:<11}  {:<6} {}{what}  {}{}\n",
            e.started_at,
            e.duration_ms.map(duration).unwrap_or_else(|| "-".into()),
            e.status,
            e.direction,
            e.revision,
            e.run_by.as_deref().unwrap_or_default(),
            e.message
                .as_deref()
                .map(|m| format!("  ({m})"))
                .unwrap_or_default()
        ));
    }
    out(&s);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(412), "412ms");
        assert_eq!(duration(3200), "3.20s");
        assert_eq!(duration(125_000), "2m 05s");
    }
}
