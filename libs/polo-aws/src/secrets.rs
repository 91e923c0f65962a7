//! Secrets in AWS Secrets Manager (`GetSecretValue`): a function gets only the secret's ARN
//! in its environment and reads the value at cold start, then again once its cache time has
//! passed, so a value put with `aws secretsmanager put-secret-value` is used within minutes.
//! A secret whose value is not what the caller expects (the placeholder CloudFormation
//! generated, or nothing) reads as unset.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use polo_core::config::env_value;
use polo_core::ports::{DataError, SecretSource};
use tokio::sync::Mutex;

/// How long a value read is used before it is read again.
pub const SECRET_CACHE: Duration = Duration::from_mins(5);

/// One secret in Secrets Manager.
pub struct ManagedSecret {
    client: aws_sdk_secretsmanager::Client,
    arn: String,
    cache_for: Duration,
    /// Whether a value is one the caller can use (a webhook URL, say); any other reads as unset.
    usable: fn(&str) -> bool,
    cached: Mutex<Option<(Instant, Option<String>)>>,
}

impl ManagedSecret {
    /// The secret `arn`, whose values count only when `usable`, read again after `cache_for`.
    pub fn new(
        client: aws_sdk_secretsmanager::Client,
        arn: impl Into<String>,
        cache_for: Duration,
        usable: fn(&str) -> bool,
    ) -> ManagedSecret {
        ManagedSecret { client, arn: arn.into(), cache_for, usable, cached: Mutex::new(None) }
    }

    async fn fetch(&self) -> Result<Option<String>, DataError> {
        let answer = self.client.get_secret_value().secret_id(&self.arn).send().await.map_err(|e| {
            DataError::Store(format!("GetSecretValue {}: {}", self.arn, DisplayErrorContext(e)))
        })?;
        let value = answer.secret_string.map(|v| v.trim().to_owned());
        Ok(value.filter(|v| (self.usable)(v)))
    }
}

#[async_trait]
impl SecretSource for ManagedSecret {
    async fn value(&self) -> Result<Option<String>, DataError> {
        let mut cached = self.cached.lock().await;
        if let Some((at, value)) = cached.as_ref()
            && at.elapsed() < self.cache_for
        {
            return Ok(value.clone());
        }
        let value = self.fetch().await?;
        *cached = Some((Instant::now(), value.clone()));
        Ok(value)
    }

    fn name(&self) -> &str {
        &self.arn
    }
}

/// Whether `value` is a webhook URL: `https://…`, or `http://` to this machine only (a local
/// server standing in for Slack); never plain http across a network.
pub fn is_webhook_url(value: &str) -> bool {
    value.starts_with("https://")
        || [
            "http://127.0.0.1:",
            "http://127.0.0.1/",
            "http://localhost:",
            "http://localhost/",
            "http://[::1]:",
        ]
        .iter()
        .any(|local| value.starts_with(local))
}

/// The Slack webhook of a deployed job: the secret `SLACK_WEBHOOK_SECRET_ARN` names (the
/// one place that variable is read); `None` without it.
pub fn slack_webhook_secret(
    get: impl Fn(&str) -> Option<String>,
    sdk: &aws_config::SdkConfig,
) -> Option<std::sync::Arc<dyn SecretSource>> {
    let arn = env_value(&get, "SLACK_WEBHOOK_SECRET_ARN")?;
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    Some(std::sync::Arc::new(ManagedSecret::new(client, arn, SECRET_CACHE, is_webhook_url)))
}

/// Whether `value` is a Slack bot token (`xoxb-…`); the placeholder a secret is created
/// with is not.
pub fn is_bot_token(value: &str) -> bool {
    value.starts_with("xoxb-") && value.len() > 10 && !value.contains(char::is_whitespace)
}

/// Whether `value` may be a Slack signing secret: Slack issues 32 letters and digits; the
/// placeholder a secret is created with always has punctuation among its 32 characters
/// (Secrets Manager's generator includes every kind of character it may use).
pub fn is_signing_secret(value: &str) -> bool {
    value.len() >= 32 && value.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The Slack app of a deployed function: the secrets `SLACK_SIGNING_SECRET_ARN` and
/// `SLACK_BOT_TOKEN_SECRET_ARN` name (each read at first use and again after its cache
/// time), and `SLACK_API_URL`.
pub fn slack_app(env: &crate::AwsEnv, sdk: &aws_config::SdkConfig) -> polo_core::ports::SlackApp {
    let secret = |arn: &Option<String>, usable: fn(&str) -> bool| {
        arn.as_ref().map(|arn| {
            let client = aws_sdk_secretsmanager::Client::new(sdk);
            std::sync::Arc::new(ManagedSecret::new(client, arn, SECRET_CACHE, usable))
                as std::sync::Arc<dyn SecretSource>
        })
    };
    polo_core::ports::SlackApp {
        signing_secret: secret(&env.slack_signing_secret_arn, is_signing_secret),
        bot_token: secret(&env.slack_bot_token_secret_arn, is_bot_token),
        api_url: env.slack_api_url.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::{is_bot_token, is_signing_secret, is_webhook_url};

    #[test]
    fn a_placeholder_is_neither_a_bot_token_nor_a_signing_secret() {
        assert!(is_bot_token("xoxb-1234-5678-abcdef"));
        assert!(is_signing_secret("8f742231b10e8888abcd99aaaeee85a5"));
        for placeholder in ["x7#Qgenerated-placeholder-value", "", "xoxp-user-token-1234", "xoxb-"] {
            assert!(!is_bot_token(placeholder), "{placeholder}");
            assert!(!is_signing_secret(placeholder), "{placeholder}");
        }
        assert!(is_signing_secret("8f742231b10e8888abcd99yyyzzz85a5"), "Slack's documented example");
        assert!(!is_signing_secret("x7#Qgenerated-placeholder-value!"), "CloudFormation's placeholder");
    }

    #[test]
    fn only_https_or_this_machine_is_a_webhook() {
        for ok in [
            "https://hooks.slack.com/services/T/B/x",
            "http://127.0.0.1:9000/hook",
            "http://localhost:8080/h",
        ] {
            assert!(is_webhook_url(ok), "{ok}");
        }
        for bad in [
            "x7#Qgenerated",
            "",
            "http://hooks.slack.com/services/T/B/x",
            "http://127.0.0.1.evil.example/",
            "ftp://x",
        ] {
            assert!(!is_webhook_url(bad), "{bad}");
        }
    }
}
