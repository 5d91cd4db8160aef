//! Progress and warnings as `tracing` events (the `tracing` feature), the
//! way sqlx reports: an application that installs a subscriber sees what
//! braid did at start-up without writing an [`Observer`]. Every event has
//! the target `braid`; warnings (a lint finding, an empty section, a lock
//! retry) are `WARN`, steps `INFO`, batches and lock waits `DEBUG`.

use super::{Event, Observer};

/// Forwards every event to `inner`, and reports it through `tracing`.
pub struct Traced<'a> {
    /// The caller's own observer.
    pub inner: &'a mut dyn Observer,
}

impl Observer for Traced<'_> {
    fn event(&mut self, event: Event<'_>) {
        #[cfg(feature = "tracing")]
        emit(&event);
        self.inner.event(event);
    }
}

#[cfg(feature = "tracing")]
fn emit(event: &Event<'_>) {
    match event {
        Event::Warning(l) => tracing::warn!(
            target: "braid",
            revision = %l.revision,
            file = %l.path.display(),
            line = l.line,
            "{}",
            l.message
        ),
        Event::Finding(f) => tracing::warn!(
            target: "braid",
            revision = %f.revision,
            line = f.line,
            rule = f.rule,
            "{}",
            f.message
        ),
        Event::Waiting { holder } => tracing::debug!(
            target: "braid",
            holder = holder.unwrap_or("unknown"),
            "waiting for the migration lock"
        ),
        Event::Planned { steps } => tracing::info!(target: "braid", steps, "planned"),
        Event::Replanned { steps } => {
            tracing::info!(target: "braid", steps, "planned again: another process moved the database")
        }
        Event::StepStarted {
            revision,
            direction,
            index,
            total,
            ..
        } => tracing::info!(
            target: "braid",
            revision = %revision,
            direction = direction.as_str(),
            step = index + 1,
            of = total,
            "running"
        ),
        Event::Notice { revision, message } => {
            tracing::info!(target: "braid", revision = %revision, "{message}")
        }
        Event::LockRetry {
            revision,
            attempt,
            retries,
            pause,
            holders,
        } => tracing::warn!(
            target: "braid",
            revision = %revision,
            attempt,
            retries,
            pause_ms = pause.as_millis() as u64,
            holders = %holders.join("; "),
            "lock timeout: trying again"
        ),
        Event::Batch {
            revision,
            line,
            batches,
            rows,
            done,
            ..
        } => {
            tracing::debug!(target: "braid", revision = %revision, line, batches, rows, done, "batch")
        }
        Event::Statement {
            revision, measured, ..
        } => tracing::debug!(
            target: "braid",
            revision = %revision,
            line = measured.line,
            duration_ms = measured.duration.as_secs_f64() * 1000.0,
            "statement"
        ),
        Event::StepFinished {
            revision,
            direction,
            elapsed,
            ..
        } => tracing::info!(
            target: "braid",
            revision = %revision,
            direction = direction.as_str(),
            elapsed_ms = elapsed.as_millis() as u64,
            "done"
        ),
    }
}
