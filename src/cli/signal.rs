//! Ctrl-C and SIGTERM, for the commands that run migrations (`upgrade`,
//! `downgrade`, `fleet`).

/// Waits for Ctrl-C or SIGTERM and returns the exit code they call for
/// (130, 143). The handlers are installed on the first poll, when a run
/// starts.
pub async fn interrupted() -> i32 {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => 130,
                _ = term.recv() => 143,
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                130
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        130
    }
}

/// The signal an exit code of [`interrupted`] stands for.
pub fn name(code: i32) -> &'static str {
    if code == 130 { "Ctrl-C" } else { "SIGTERM" }
}
