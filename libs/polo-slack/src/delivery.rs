//! How a job tells Slack: the webhook (given, or read from its secret; without one,
//! everything waits in its outbox), the dashboard's address for links, and the pause
//! between two messages. The reporter, the Cop and their commands drain their outboxes
//! through it.

use std::sync::Arc;
use std::time::Duration;

use polo_core::ports::{DataError, SecretSource};
use time::OffsetDateTime;

use crate::outbox::{Drained, Outbox, PACE, Pacing, drain};
use crate::webhook::{Failure, SlackWebhook};

/// Where and how messages go.
#[derive(Clone)]
pub struct Delivery {
    /// A webhook given at start (`polo report --slack-webhook-url`, tests).
    pub webhook: Option<SlackWebhook>,
    /// Where a deployed job reads its webhook's URL (Secrets Manager), when no webhook is given.
    pub secret: Option<Arc<dyn SecretSource>>,
    /// `PUBLIC_URL`: the dashboard's address, for links.
    pub public_url: String,
    /// The pause between two messages.
    pub pace: Duration,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("webhook", &self.webhook.is_some())
            .field("secret", &self.secret.as_ref().map(|s| s.name().to_owned()))
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    /// To the webhook at `url` when given, linking under `public_url`, one message a second.
    pub fn new(url: Option<&str>, public_url: impl Into<String>) -> Result<Delivery, Failure> {
        let webhook = url.filter(|u| !u.is_empty()).map(SlackWebhook::new).transpose()?;
        Ok(Delivery { webhook, secret: None, public_url: public_url.into(), pace: PACE })
    }

    /// A deployed job's: the webhook whose URL `secret` holds (read again after its cache
    /// time, so a rotated URL is used without a deploy), linking under `PUBLIC_URL` (read
    /// through `get`, `std::env::var` in `main`).
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
        secret: Option<Arc<dyn SecretSource>>,
    ) -> Delivery {
        Delivery { webhook: None, secret, public_url: get("PUBLIC_URL").unwrap_or_default(), pace: PACE }
    }

    /// Nowhere: everything waits in its outbox (tests, and jobs without a webhook).
    pub fn none(public_url: impl Into<String>) -> Delivery {
        Delivery { webhook: None, secret: None, public_url: public_url.into(), pace: Duration::ZERO }
    }

    /// The webhook to post to now: the one given, else the one the secret holds; `None`
    /// (said in the log, naming the secret, never its value) while the secret holds none.
    pub async fn webhook(&self) -> Result<Option<SlackWebhook>, DataError> {
        if let Some(webhook) = &self.webhook {
            return Ok(Some(webhook.clone()));
        }
        let Some(secret) = &self.secret else {
            tracing::warn!("no Slack webhook is configured: messages wait in the outbox");
            return Ok(None);
        };
        if let Some(url) = secret.value().await? {
            return SlackWebhook::new(url).map(Some).map_err(|e| DataError::Store(e.to_string()));
        }
        tracing::error!(
            secret = secret.name(),
            "the Slack webhook secret holds no webhook URL yet: messages wait in the outbox (docs/deploy.md says how to set it)"
        );
        Ok(None)
    }

    /// Drains `outbox` within `budget`; `None` when there is no webhook.
    pub async fn send<O: Outbox>(
        &self,
        outbox: &O,
        now: OffsetDateTime,
        budget: Duration,
    ) -> Result<Option<Drained>, DataError> {
        let Some(webhook) = self.webhook().await? else { return Ok(None) };
        drain(outbox, &webhook, now, Pacing { pace: self.pace, budget }).await.map(Some)
    }
}
