//! A service that migrates its database at start-up with the migrations
//! compiled into it (`braid::embed!()` reads braid.toml's directories).
//!
//! `cargo run --example embedded -- sqlite://app.db`

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sqlite://app.db".into());
    let report = braid::Migrator::new(braid::embed!())
        .lock_timeout(std::time::Duration::from_secs(60))
        .upgrade(&url, "heads")
        .await?;
    println!(
        "applied {} revision{}; at {}",
        report.steps.len(),
        if report.steps.len() == 1 { "" } else { "s" },
        report.heads.join(", ")
    );
    Ok(())
}
