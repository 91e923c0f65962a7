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
    /// `channel_not_found`, `channel_is_archived`, `action_prohibited`), or the bot's token
    /// or channel is (`invalid_auth`, `not_in_channel`, `missing_scope`): no message can pass.
    #[error("Slack takes no message here ({status}): {body}")]
    Unusable { status: u16, body: String },
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
pub const MAX_RETRY_AFTER: Duration = Duration::from_mins(15);

/// The 400 answers that say the webhook itself is unusable, not the message.
const WEBHOOK_GONE: [&str; 4] = ["no_service_id", "no_team", "team_disabled", "invalid_token"];

/// What Slack's answer means: 2xx delivered; 429 wait; 5xx Slack's trouble; 400 a message
/// Slack refuses (unless its error names the webhook itself); anything else a webhook that no
/// longer works. Bodies are kept to 200 characters.
pub fn classify(status: u16, retry_after: Option<&str>, body: &str) -> Result<(), Failure> {
    match status {
        200..=299 => Ok(()),
        429 => Err(Failure::RateLimited(retry_wait(retry_after))),
        500..=599 => Err(Failure::Server(status)),
        _ => {
            let webhook_gone = status != 400 || WEBHOOK_GONE.iter().any(|e| body.contains(e));
            let body: String = body.chars().take(200).collect();
            if webhook_gone {
                Err(Failure::Unusable { status, body })
            } else {
                Err(Failure::Refused { status, body })
            }
        }
    }
}

/// How long a 429 asks to wait (RFC 9110 `Retry-After`): its seconds, at least 1 and at most
/// [`MAX_RETRY_AFTER`]; 1 s when absent; the longest when it is a date or too large to read.
pub(crate) fn retry_wait(retry_after: Option<&str>) -> Duration {
    let Some(value) = retry_after.map(str::trim).filter(|v| !v.is_empty()) else {
        return Duration::from_secs(1);
    };
    match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds.max(1)).min(MAX_RETRY_AFTER),
        Err(_) => MAX_RETRY_AFTER,
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
            any::<String>(), "[0-9]{1,25}", Just("0".to_owned()), Just("Wed, 21 Oct 2026 07:28:00 GMT".to_owned()),
        ]), body in prop_oneof![any::<String>(), Just("no_team".to_owned()), Just("invalid_blocks".to_owned())]) {
            match classify(status, retry_after.as_deref(), &body) {
                Ok(()) => prop_assert!((200..=299).contains(&status)),
                Err(Failure::RateLimited(wait)) => {
                    prop_assert_eq!(status, 429);
                    prop_assert!(wait <= MAX_RETRY_AFTER && wait >= std::time::Duration::from_secs(1));
                }
                Err(Failure::Server(s)) => prop_assert!((500..=599).contains(&s)),
                Err(Failure::Refused { status: s, body: b } | Failure::Unusable { status: s, body: b }) => {
                    prop_assert_eq!(s, status);
                    prop_assert!(b.chars().count() <= 200);
                    prop_assert!(!(200..=299).contains(&s) && s != 429 && !(500..=599).contains(&s));
                }
                Err(Failure::Unreachable(_)) => prop_assert!(false, "no answer is not a reply"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Failure, MAX_RETRY_AFTER, classify};

    #[test]
    fn retry_after_is_at_least_a_second_and_a_date_or_a_huge_number_waits_the_longest() {
        let wait = |v: Option<&str>| match classify(429, v, "") {
            Err(Failure::RateLimited(d)) => d,
            other => panic!("{other:?}"),
        };
        assert_eq!(wait(None), Duration::from_secs(1));
        assert_eq!(wait(Some("0")), Duration::from_secs(1));
        assert_eq!(wait(Some(" 30 ")), Duration::from_secs(30));
        assert_eq!(wait(Some("99999999999999999999999")), MAX_RETRY_AFTER);
        assert_eq!(wait(Some("Wed, 21 Oct 2026 07:28:00 GMT")), MAX_RETRY_AFTER);
    }

    #[test]
    fn a_400_naming_the_webhook_is_a_gone_webhook_not_a_refused_message() {
        assert!(matches!(classify(400, None, "invalid_blocks"), Err(Failure::Refused { .. })));
        for gone in ["no_service_id", "no_team", "team_disabled", "invalid_token"] {
            assert!(matches!(classify(400, None, gone), Err(Failure::Unusable { .. })), "{gone}");
        }
        assert!(matches!(classify(404, None, "channel_not_found"), Err(Failure::Unusable { .. })));
    }
}
