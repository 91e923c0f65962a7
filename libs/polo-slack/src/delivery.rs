//! How a job tells Slack: the webhook (without one, everything waits in its outbox), the
//! dashboard's address for links, and the pause between two messages. The reporter, the
//! Cop and their commands drain their outboxes through it.

use std::time::Duration;

use polo_core::ports::DataError;
use time::OffsetDateTime;

use crate::outbox::{Drained, Outbox, PACE, Pacing, drain};
use crate::webhook::{Failure, SlackWebhook};

/// Where and how messages go.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub webhook: Option<SlackWebhook>,
    /// `PUBLIC_URL`: the dashboard's address, for links.
    pub public_url: String,
    /// The pause between two messages.
    pub pace: Duration,
}

impl Delivery {
    /// To the webhook at `url` when given, linking under `public_url`, one message a second.
    pub fn new(url: Option<&str>, public_url: impl Into<String>) -> Result<Delivery, Failure> {
        let webhook = url.filter(|u| !u.is_empty()).map(SlackWebhook::new).transpose()?;
        Ok(Delivery { webhook, public_url: public_url.into(), pace: PACE })
    }

    /// From `SLACK_WEBHOOK_URL` and `PUBLIC_URL`, read through `get` (`std::env::var` in
    /// `main`).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Delivery, Failure> {
        Delivery::new(get("SLACK_WEBHOOK_URL").as_deref(), get("PUBLIC_URL").unwrap_or_default())
    }

    /// Nowhere: everything waits in its outbox (tests, and jobs without a webhook).
    pub fn none(public_url: impl Into<String>) -> Delivery {
        Delivery { webhook: None, public_url: public_url.into(), pace: Duration::ZERO }
    }

    /// Drains `outbox` within `budget`; `None` when there is no webhook.
    pub async fn send<O: Outbox>(
        &self,
        outbox: &O,
        now: OffsetDateTime,
        budget: Duration,
    ) -> Result<Option<Drained>, DataError> {
        let Some(webhook) = &self.webhook else {
            tracing::warn!("SLACK_WEBHOOK_URL is not set: messages wait in the outbox");
            return Ok(None);
        };
        drain(outbox, webhook, now, Pacing { pace: self.pace, budget }).await.map(Some)
    }
}
