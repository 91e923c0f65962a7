//! Delivery through an outbox: whatever must be told is stored first and marked unsent;
//! each run sends what is still unsent, in order, and marks an item sent only after Slack
//! answered 2xx. A 429 waits `Retry-After` (at most [`MAX_WAIT`]) and tries that item again;
//! a 5xx, a timeout or a refused connection stops the run and leaves the rest for the next
//! one; a refused message (4xx) stays unsent and is reported, and the others go on.
//! Nothing is lost, and nothing is sent twice: a send whose mark fails is the one case that
//! could repeat, and the mark is a single conditional write right after the 2xx.

use std::time::Duration;

use async_trait::async_trait;
use polo_core::ports::DataError;
use time::OffsetDateTime;

use crate::blocks::Message;
use crate::delivery::Destination;
use crate::webhook::Failure;

/// The longest `Retry-After` a run waits for; longer, and the item waits for the next run.
pub const MAX_WAIT: Duration = Duration::from_secs(30);
/// Times one item is tried within a run when Slack keeps answering 429.
pub const ATTEMPTS: usize = 3;
/// The pause between two messages of one run (Slack allows about one a second).
pub const PACE: Duration = Duration::from_secs(1);

/// What waits to be told to Slack.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// One waiting item.
    type Item: Send + Sync;
    /// Every unsent item at `now`, oldest first; with `buttons` when the destination is a
    /// channel the app's bot posts to (a webhook's message can carry none).
    async fn pending(&self, now: OffsetDateTime, buttons: bool) -> Result<Vec<Self::Item>, DataError>;
    /// The message of `item`.
    fn message(&self, item: &Self::Item) -> Message;
    /// A short name of `item` for logs.
    fn describe(&self, item: &Self::Item) -> String;
    /// Marks `item` sent at `at`.
    async fn mark_sent(&self, item: &Self::Item, at: OffsetDateTime) -> Result<(), DataError>;
}

/// What a drain did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Drained {
    pub sent: usize,
    /// Still unsent after this run.
    pub left: usize,
    /// Why items were left, one line each.
    pub problems: Vec<String>,
}

/// How a drain is paced and bounded.
#[derive(Clone, Copy, Debug)]
pub struct Pacing {
    /// The pause between two messages.
    pub pace: Duration,
    /// The time the whole drain may take (a Lambda's remaining time, less a margin); what
    /// is left when it runs out waits for the next run.
    pub budget: Duration,
}

impl Pacing {
    /// No pause, no bound (tests).
    pub const IMMEDIATE: Pacing = Pacing { pace: Duration::ZERO, budget: Duration::MAX };
}

/// Sends every pending item of `outbox` to `to`, paced and bounded by `pacing`.
pub async fn drain<O: Outbox>(
    outbox: &O,
    to: &Destination,
    now: OffsetDateTime,
    pacing: Pacing,
) -> Result<Drained, DataError> {
    let started = std::time::Instant::now();
    let pending = outbox.pending(now, to.buttons()).await?;
    let mut drained = Drained::default();
    let total = pending.len();
    for (n, item) in pending.iter().enumerate() {
        // Room for a pause, a post and its timeout: else the next run sends the rest.
        if started.elapsed() + pacing.pace + crate::webhook::TIMEOUT > pacing.budget {
            drained.problems.push(format!("time is up: {} left for the next run", total - drained.sent));
            break;
        }
        if n > 0 {
            tokio::time::sleep(pacing.pace).await;
        }
        let message = outbox.message(item);
        let mut outcome = to.post(&message).await;
        for _ in 1..ATTEMPTS {
            match outcome {
                Err(Failure::RateLimited(wait))
                    if wait <= MAX_WAIT
                        && started.elapsed() + wait + crate::webhook::TIMEOUT <= pacing.budget =>
                {
                    tokio::time::sleep(wait).await;
                    outcome = to.post(&message).await;
                }
                _ => break,
            }
        }
        match outcome {
            Ok(()) => {
                outbox.mark_sent(item, now).await?;
                drained.sent += 1;
            }
            Err(failure @ Failure::Refused { .. }) => {
                tracing::error!(item = %outbox.describe(item), %failure, "Slack refused a message; it stays unsent");
                drained.problems.push(format!("{}: {failure}", outbox.describe(item)));
            }
            Err(failure) => {
                tracing::warn!(item = %outbox.describe(item), %failure, "Slack unavailable; the rest waits for the next run");
                drained.problems.push(format!("{}: {failure}", outbox.describe(item)));
                drained.left = total - drained.sent;
                return Ok(drained);
            }
        }
    }
    drained.left = total - drained.sent;
    Ok(drained)
}
