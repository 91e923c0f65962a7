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
        if (200..=299).contains(&status) {
            return Ok(());
        }
        let retry_after =
            response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = if status == 429 || (500..=599).contains(&status) {
            String::new()
        } else {
            response.text().await.unwrap_or_default()
        };
        classify(status, retry_after.as_deref(), &body)
    }
}

/// The longest `Retry-After` believed: a larger one (or a date) waits this long.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);

/// What Slack's answer means: 2xx delivered; 429 wait (`Retry-After` seconds, 1 when absent
/// or unreadable, at most [`MAX_RETRY_AFTER`]); 5xx Slack's trouble; 400 a message Slack
/// refuses; anything else a webhook that no longer works. Bodies are kept to 200 characters.
pub fn classify(status: u16, retry_after: Option<&str>, body: &str) -> Result<(), Failure> {
    match status {
        200..=299 => Ok(()),
        429 => {
            let seconds = retry_after.and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(1);
            Err(Failure::RateLimited(Duration::from_secs(seconds).min(MAX_RETRY_AFTER)))
        }
        500..=599 => Err(Failure::Server(status)),
        _ => {
            let body: String = body.chars().take(200).collect();
            if status == 400 {
                Err(Failure::Refused { status, body })
            } else {
                Err(Failure::Webhook { status, body })
            }
        }
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    use super::{Failure, MAX_RETRY_AFTER, classify};

    proptest! {
        #![proptest_config(polo_fuzz::config(1024))]

        #[test]
        fn fuzz_slack_reply(status in 100u16..=599, retry_after in prop::option::of(prop_oneof![
            any::<String>(), "[0-9]{1,25}", Just("Wed, 21 Oct 2026 07:28:00 GMT".to_owned()),
        ]), body in any::<String>()) {
            match classify(status, retry_after.as_deref(), &body) {
                Ok(()) => prop_assert!((200..=299).contains(&status)),
                Err(Failure::RateLimited(wait)) => {
                    prop_assert_eq!(status, 429);
                    prop_assert!(wait <= MAX_RETRY_AFTER && !wait.is_zero());
                }
                Err(Failure::Server(s)) => prop_assert!((500..=599).contains(&s)),
                Err(Failure::Refused { status: s, body: b } | Failure::Webhook { status: s, body: b }) => {
                    prop_assert_eq!(s, status);
                    prop_assert!(b.chars().count() <= 200);
                    prop_assert!(!(200..=299).contains(&s) && s != 429 && !(500..=599).contains(&s));
                }
                Err(Failure::Unreachable(_)) => prop_assert!(false, "no answer is not a reply"),
            }
        }
    }
}
