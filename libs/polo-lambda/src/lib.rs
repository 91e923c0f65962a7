//! What every Polo function's `main` needs from Lambda, and nothing of HTTP (route
//! functions add `lambda_http` through polo-web; the scheduled jobs need only this): a
//! fatal start error printed as one line, the service span every log line carries, a
//! scheduled job run with its EMF lines, and the time an invocation has left.

use std::time::Instant;

use polo_telemetry::emf::Emitter;
use tracing::Instrument as _;

/// Runs `future` inside the `service` span, so every log line names the service.
pub async fn in_service<F: std::future::Future>(service: &str, future: F) -> F::Output {
    future.instrument(tracing::info_span!("service", service = %service)).await
}

/// Runs one scheduled job and prints its EMF lines: the run itself (a failure when it
/// errs, its duration, the cold start) and what `sets` finds in its answer.
pub async fn measured<T, E>(
    metrics: &Emitter,
    job: impl std::future::Future<Output = Result<T, E>>,
    sets: impl FnOnce(&T) -> Vec<polo_telemetry::emf::MetricSet>,
) -> Result<T, E> {
    let started = Instant::now();
    let result = job.await;
    metrics.print(&metrics.job_sets(result.as_ref().map(sets), started.elapsed()));
    result
}

/// The error a function's `main` returns: printed by Rust as `Error: {message}`, one line,
/// rather than a Debug dump.
pub struct Fatal(String);

impl std::fmt::Debug for Fatal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.replace('\n', " "))
    }
}

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(e: E) -> Self {
        Fatal(e.to_string())
    }
}

/// What a job keeps of its invocation's time to record what it did before the deadline.
pub const FINISHING_MARGIN: std::time::Duration = std::time::Duration::from_secs(20);

/// The time left before the invocation's `deadline` (epoch milliseconds, as the runtime API
/// gives it), less `margin`.
pub fn time_left(deadline_ms: u64, margin: std::time::Duration) -> std::time::Duration {
    let deadline = std::time::UNIX_EPOCH + std::time::Duration::from_millis(deadline_ms);
    deadline.duration_since(std::time::SystemTime::now()).unwrap_or_default().saturating_sub(margin)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use super::{Fatal, time_left};

    fn epoch_ms(t: SystemTime) -> u64 {
        u64::try_from(t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis()).unwrap_or(u64::MAX)
    }

    #[test]
    fn time_left_is_the_deadline_less_the_margin_and_never_below_zero() {
        let in_a_minute = epoch_ms(SystemTime::now() + Duration::from_mins(1));
        let left = time_left(in_a_minute, Duration::from_secs(20));
        assert!(left > Duration::from_secs(35) && left <= Duration::from_secs(40), "{left:?}");
        assert_eq!(time_left(epoch_ms(SystemTime::now()), Duration::from_secs(20)), Duration::ZERO);
        assert_eq!(time_left(0, Duration::ZERO), Duration::ZERO, "a deadline long past");
    }

    #[test]
    fn a_fatal_start_error_prints_as_one_line() {
        let fatal = Fatal::from("DATA_BUCKET_NAME: required\nand more");
        assert_eq!(format!("{fatal:?}"), "DATA_BUCKET_NAME: required and more");
    }
}
