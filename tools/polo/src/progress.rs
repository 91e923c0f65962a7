//! Progress of long commands on stderr: a bar (or spinner) redrawn in place when stderr is a
//! terminal, plain lines otherwise so that CI logs and pipes hold no control characters, and
//! a final summary line either way.

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// One command's progress.
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
}

impl Progress {
    /// A bar of `total` steps, drawn only on a terminal.
    pub fn bar(total: usize, label: &str) -> Progress {
        Progress::new(|| {
            let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {wide_msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr())
                .with_style(style)
                .with_prefix(label.to_owned())
        })
    }

    /// A spinner saying what is under way, drawn only on a terminal.
    pub fn spinner(label: &str) -> Progress {
        Progress::new(|| {
            let style = ProgressStyle::with_template("{spinner} {prefix} {wide_msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
                .with_style(style)
                .with_prefix(label.to_owned());
            spinner.enable_steady_tick(Duration::from_millis(120));
            spinner
        })
    }

    fn new(make: impl FnOnce() -> ProgressBar) -> Progress {
        let terminal =
            std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
        Progress { bar: terminal.then(make), started: Instant::now() }
    }

    /// Whether a bar is drawn (stderr is a terminal).
    pub fn drawn(&self) -> bool {
        self.bar.is_some()
    }

    /// A line for the record: above the bar on a terminal, plain on stderr elsewhere.
    pub fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    /// One step done; `message` says what (shown beside the bar only).
    pub fn step(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_owned());
            bar.inc(1);
        }
    }

    /// What is under way now (shown beside the bar or spinner only).
    pub fn stage(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_owned());
        }
    }

    /// Takes the bar off the screen for good; later lines are plain.
    pub fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    /// Clears the bar and prints the summary line: `summary`, then ` in` the time taken.
    pub fn finish(self, summary: &str) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        eprintln!("{summary} in {}", seconds(self.started.elapsed()));
    }
}

/// `1,234`: a count as people read it.
pub fn thousands(n: usize) -> String {
    polo_core::text::group_digits(&n.to_string())
}

/// `2.4 s` or `350 ms`.
pub fn seconds(elapsed: Duration) -> String {
    if elapsed < Duration::from_secs(1) {
        format!("{} ms", elapsed.as_millis())
    } else {
        format!("{:.1} s", elapsed.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_with_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn durations_read_in_ms_under_a_second() {
        assert_eq!(seconds(Duration::from_millis(350)), "350 ms");
        assert_eq!(seconds(Duration::from_millis(2_440)), "2.4 s");
    }
}
