//! How a job tells Slack: the app's bot posting to a channel (`[slack] channel` and a bot
//! token: messages carry buttons), else the webhook (given, or read from its secret; without
//! either, everything waits in its outbox), the dashboard's address for links, and the
//! pause between two messages. The reporter, the Cop and their commands drain their
//! outboxes through it.

use std::sync::Arc;
use std::time::Duration;

use polo_core::ports::{DataError, SecretSource};
use time::OffsetDateTime;

use crate::api::SlackApi;
use crate::blocks::Message;
use crate::outbox::{Drained, Outbox, PACE, Pacing, drain};
use crate::webhook::{Failure, SlackWebhook};

/// Where one drain's messages go.
#[derive(Clone, Debug)]
pub enum Destination {
    /// An incoming webhook: its channel is fixed, its messages carry no buttons.
    Webhook(SlackWebhook),
    /// A channel the app's bot posts to (`chat.postMessage`): messages carry buttons.
    Channel { api: Arc<SlackApi>, channel: String },
}

impl Destination {
    /// Posts `message` once.
    pub async fn post(&self, message: &Message) -> Result<(), Failure> {
        match self {
            Destination::Webhook(webhook) => webhook.post(message).await,
            Destination::Channel { api, channel } => api.post_message(channel, message).await.map(drop),
        }
    }

    /// Whether its messages may carry buttons.
    pub fn buttons(&self) -> bool {
        matches!(self, Destination::Channel { .. })
    }
}

/// Where and how messages go.
#[derive(Clone)]
pub struct Delivery {
    /// A webhook given at start (`polo report --slack-webhook-url`, tests).
    pub webhook: Option<SlackWebhook>,
    /// Where a deployed job reads its webhook's URL (Secrets Manager), when no webhook is given.
    pub secret: Option<Arc<dyn SecretSource>>,
    /// The app's bot and the channel it posts to; preferred to the webhook while its token
    /// is set.
    pub bot: Option<(Arc<SlackApi>, String)>,
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
            .field("bot", &self.bot.as_ref().map(|(_, channel)| channel))
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    /// To the webhook at `url` when given, linking under `public_url`, one message a second.
    pub fn new(url: Option<&str>, public_url: impl Into<String>) -> Result<Delivery, Failure> {
        let webhook = url.filter(|u| !u.is_empty()).map(SlackWebhook::new).transpose()?;
        Ok(Delivery { webhook, secret: None, bot: None, public_url: public_url.into(), pace: PACE })
    }

    /// A deployed job's: the webhook whose URL `secret` holds (read again after its cache
    /// time, so a rotated URL is used without a deploy), linking under `PUBLIC_URL` (read
    /// through `get`, `std::env::var` in `main`).
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
        secret: Option<Arc<dyn SecretSource>>,
    ) -> Delivery {
        Delivery {
            webhook: None,
            secret,
            bot: None,
            public_url: get("PUBLIC_URL").unwrap_or_default(),
            pace: PACE,
        }
    }

    /// Nowhere: everything waits in its outbox (tests, and jobs without a webhook).
    pub fn none(public_url: impl Into<String>) -> Delivery {
        Delivery {
            webhook: None,
            secret: None,
            bot: None,
            public_url: public_url.into(),
            pace: Duration::ZERO,
        }
    }

    /// Posting through the bot of `app` to `settings`' channel when both are set: messages
    /// carry buttons. Without a channel the bot only answers interactions.
    #[must_use]
    pub fn with_app(
        self,
        app: &polo_core::ports::SlackApp,
        settings: &polo_core::config::SlackSettings,
    ) -> Delivery {
        let channel = settings.channel.clone().filter(|c| !c.is_empty());
        Delivery { bot: SlackApi::of(app).zip(channel), ..self }
    }

    /// Where to post now: the bot's channel while its token is set, else the webhook.
    pub async fn destination(&self) -> Result<Option<Destination>, DataError> {
        if let Some((api, channel)) = &self.bot {
            if api.has_token().await {
                return Ok(Some(Destination::Channel { api: Arc::clone(api), channel: channel.clone() }));
            }
            tracing::warn!(
                ?api,
                "the Slack bot token is not set: posting through the webhook, without buttons"
            );
        }
        Ok(self.webhook().await?.map(Destination::Webhook))
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

    /// Drains `outbox` within `budget`; `None` when there is nowhere to post.
    pub async fn send<O: Outbox>(
        &self,
        outbox: &O,
        now: OffsetDateTime,
        budget: Duration,
    ) -> Result<Option<Drained>, DataError> {
        let Some(to) = self.destination().await? else { return Ok(None) };
        drain(outbox, &to, now, Pacing { pace: self.pace, budget }).await.map(Some)
    }
}
