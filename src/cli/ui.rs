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
