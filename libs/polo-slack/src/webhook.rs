//! A Slack incoming webhook: POST of a message's JSON; 2xx is accepted, 429 says how long
//! to wait (`Retry-After`), anything else is a failure the outbox keeps the message for.

use std::time::Duration;

use crate::blocks::Message;

/// Why Slack did not take a message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Failure {
    /// 429: try again after this long.
    #[error("Slack asked to wait {0:?} (429)")]
    RateLimited(Duration),
    /// 5xx: Slack failed; try again on a later run.
    #[error("Slack answered {0}")]
    Server(u16),
    /// 400: this message is wrong (`invalid_payload`, `invalid_blocks`); others may pass.
    #[error("Slack refused the message ({status}): {body}")]
    Refused { status: u16, body: String },
    /// 403, 404, 410 and other 4xx: the webhook itself is gone or barred (`no_service`,
    /// `channel_not_found`, `channel_is_archived`, `action_prohibited`): no message can pass.
    #[error("the Slack webhook is unusable ({status}): {body}")]
    Webhook { status: u16, body: String },
    /// No answer: refused connection, timeout, TLS.
    #[error("Slack could not be reached: {0}")]
    Unreachable(String),
}

/// An incoming webhook.
#[derive(Clone, Debug)]
pub struct SlackWebhook {
    client: reqwest::Client,
    url: String,
}

/// How long one POST may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

impl SlackWebhook {
    /// The webhook at `url` (`SLACK_WEBHOOK_URL`).
    pub fn new(url: impl Into<String>) -> Result<SlackWebhook, Failure> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| Failure::Unreachable(e.to_string()))?;
        Ok(SlackWebhook { client, url: url.into() })
    }

    /// Posts `message` once.
    pub async fn post(&self, message: &Message) -> Result<(), Failure> {
        let response = self
            .client
            .post(&self.url)
            .json(message)
            .send()
            .await
            .map_err(|e| Failure::Unreachable(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        match status {
            200..=299 => Ok(()),
            429 => {
                let seconds = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(1);
                Err(Failure::RateLimited(Duration::from_secs(seconds)))
            }
            500..=599 => Err(Failure::Server(status)),
            _ => {
                let body: String = response.text().await.unwrap_or_default().chars().take(200).collect();
                if status == 400 {
                    Err(Failure::Refused { status, body })
                } else {
                    Err(Failure::Webhook { status, body })
                }
            }
        }
    }
}
