//! Progress on stderr: an indicatif bar on a terminal, one plain line per
//! revision otherwise, nothing with `--quiet`.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use braid::execute::{Event, Observer};
use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    quiet: bool,
    bar: Option<ProgressBar>,
    waited: bool,
    /// The revision running now and whether it runs in one transaction,
    /// shared with the signal handler.
    pub in_flight: std::rc::Rc<std::cell::RefCell<Option<(String, bool)>>>,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        Self {
            quiet,
            bar: None,
            waited: false,
            in_flight: Default::default(),
        }
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn line(&self, text: &str) {
        if self.quiet {
            return;
        }
        match &self.bar {
            Some(bar) => bar.println(text),
            None => {
                let _ = writeln!(std::io::stderr(), "{text}");
            }
        }
    }
}

fn ms(d: Duration) -> String {
    if d.as_secs() >= 1 {
        format!("{:.2}s", d.as_secs_f64())
    } else {
        format!("{}ms", d.as_millis())
    }
}

impl Observer for Progress {
    fn event(&mut self, event: Event<'_>) {
        match &event {
            Event::StepStarted {
                revision,
                in_transaction,
                ..
            } => *self.in_flight.borrow_mut() = Some((revision.to_string(), *in_transaction)),
            Event::StepFinished { .. } => *self.in_flight.borrow_mut() = None,
            _ => {}
        }
        if self.quiet {
            return;
        }
        match event {
            Event::Finding(f) => self.line(crate::cli::error::finding_text(f).trim_end()),
            Event::Warning(lint) => {
                let mut text = Vec::new();
                crate::cli::error::print_warning(lint, &mut text);
                self.line(String::from_utf8_lossy(&text).trim_end());
            }
            Event::Waiting { holder } => {
                if !self.waited {
                    self.waited = true;
                    self.line(&format!(
                        "waiting for the migration lock{}…",
                        holder.map(|h| format!(" held by {h}")).unwrap_or_default()
                    ));
                }
            }
            Event::Planned { steps } | Event::Replanned { steps } => {
                if matches!(event, Event::Replanned { .. }) {
                    self.line(&format!(
                        "another process changed the database; {steps} revision(s) left to run"
                    ));
                }
                if std::io::stderr().is_terminal() && steps > 0 {
                    let bar = self.bar.take().unwrap_or_else(|| {
                        let bar = ProgressBar::new(steps as u64);
                        bar.set_style(
                            ProgressStyle::with_template(
                                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
                            )
                            .unwrap_or_else(|_| ProgressStyle::default_bar()),
                        );
                        bar.enable_steady_tick(Duration::from_millis(120));
                        bar
                    });
                    bar.set_length(bar.position() + steps as u64);
                    self.bar = Some(bar);
                }
            }
            Event::StepStarted {
                revision,
                direction,
                message,
                ..
            } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!(
                        "{direction} {revision} {}",
                        message.unwrap_or_default()
                    ));
                }
            }
            Event::Notice { revision, message } => self.line(&format!("{revision}: {message}")),
            Event::LockRetry {
                revision,
                attempt,
                retries,
                pause,
                holders,
            } => self.line(&format!(
                "{revision}: gave up waiting for a lock (lock_timeout); retry {attempt} of {retries} in {}{}",
                ms(pause),
                if holders.is_empty() {
                    String::new()
                } else {
                    format!("; held by {}", holders.join("; "))
                }
            )),
            Event::Batch {
                revision,
                line,
                batches,
                rows,
                elapsed,
                done,
            } => {
                let rate = rows as f64 / elapsed.as_secs_f64().max(0.001);
                let text = format!(
                    "{revision}: batch block at line {line}: {rows} rows in {batches} batch{} ({rate:.0} rows/s)",
                    if batches == 1 { "" } else { "es" }
                );
                match &self.bar {
                    Some(bar) => bar.set_message(text),
                    None if done => self.line(&text),
                    None => {}
                }
            }
            // Rehearse collects these and prints its own table.
            Event::Statement { .. } => {}
            Event::StepFinished {
                revision,
                direction,
                elapsed,
                index,
                total,
            } => match &self.bar {
                Some(bar) => bar.inc(1),
                None => self.line(&format!(
                    "[{}/{}] {direction:<4} {revision} ({})",
                    index + 1,
                    total,
                    ms(elapsed)
                )),
            },
        }
    }
}

/// A fleet's progress on stderr. On a terminal: an overall bar (members
/// done, failed, ETA) and one line per member in flight with the revision
/// it runs; failures printed above the bars. Piped: one plain line per
/// member as it finishes. Nothing with `--quiet`.
pub struct FleetProgress {
    quiet: bool,
    total: usize,
    done: usize,
    failed: usize,
    bars: Option<(indicatif::MultiProgress, ProgressBar)>,
    in_flight: std::collections::HashMap<String, ProgressBar>,
    line: fn(&braid::fleet::MemberResult) -> String,
}

impl FleetProgress {
    pub fn new(total: usize, quiet: bool, line: fn(&braid::fleet::MemberResult) -> String) -> Self {
        let bars = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let multi = indicatif::MultiProgress::new();
            let overall = multi.add(ProgressBar::new(total as u64));
            overall.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} members{msg}, ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            overall.enable_steady_tick(Duration::from_millis(120));
            (multi, overall)
        });
        Self {
            quiet,
            total,
            done: 0,
            failed: 0,
            bars,
            in_flight: Default::default(),
            line,
        }
    }

    /// Clears the bars before the summary is printed.
    pub fn finish(&mut self) {
        for (_, bar) in self.in_flight.drain() {
            bar.finish_and_clear();
        }
        if let Some((_, overall)) = self.bars.take() {
            overall.finish_and_clear();
        }
    }

    fn print(&self, text: &str) {
        match &self.bars {
            Some((multi, _)) => {
                let _ = multi.println(text);
            }
            None => {
                let _ = writeln!(std::io::stderr(), "{text}");
            }
        }
    }
}

impl braid::fleet::FleetObserver for FleetProgress {
    fn started(&mut self, member: &str, attempt: u32) {
        if self.quiet {
            return;
        }
        if attempt > 1 {
            self.print(&format!("{member}: attempt {attempt}"));
        }
        if let Some((multi, overall)) = &self.bars {
            let bar = self.in_flight.entry(member.to_owned()).or_insert_with(|| {
                let bar = multi.insert_before(overall, ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("  {spinner} {prefix}: {msg} [{elapsed}]")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(member.to_owned());
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            });
            bar.set_message("connecting");
        }
    }

    fn event(&mut self, member: &str, event: &Event<'_>) {
        let Some(bar) = self.in_flight.get(member) else {
            return;
        };
        match event {
            Event::Waiting { .. } => bar.set_message("waiting for its migration lock"),
            Event::StepStarted {
                index,
                total,
                revision,
                direction,
                ..
            } => bar.set_message(format!("{direction} {revision} ({}/{total})", index + 1)),
            _ => {}
        }
    }

    fn finished(&mut self, result: &braid::fleet::MemberResult) {
        self.done += 1;
        if result.status == braid::fleet::Status::Failed {
            self.failed += 1;
        }
        if let Some(bar) = self.in_flight.remove(&result.member) {
            bar.finish_and_clear();
        }
        if self.quiet {
            return;
        }
        match &self.bars {
            Some((_, overall)) => {
                overall.inc(1);
                if self.failed > 0 {
                    overall.set_message(format!(", {} failed", self.failed));
                }
                if result.status == braid::fleet::Status::Failed {
                    self.print(&(self.line)(result));
                }
            }
            None => self.print(&format!(
                "[{}/{}] {}",
                self.done,
                self.total,
                (self.line)(result)
            )),
        }
    }
}
