//! Where a secret comes from (a Slack webhook URL, later tokens and signing secrets): in AWS
//! Secrets Manager, read at cold start and again after a short cache time, so a rotated
//! value is used within minutes without a deploy; locally an environment variable or a flag.

use async_trait::async_trait;

use super::DataError;

/// One secret value.
#[async_trait]
pub trait SecretSource: Send + Sync {
    /// The current value; `None` while none is set (a secret created empty, or holding its
    /// placeholder), which callers say clearly rather than fail on.
    async fn value(&self) -> Result<Option<String>, DataError>;
    /// What names the secret in messages (its ARN or variable), never its value.
    fn name(&self) -> &str;
}

/// A value given at start (a flag or a local environment variable).
pub struct FixedSecret {
    name: String,
    value: Option<String>,
}

impl FixedSecret {
    /// `value` (an empty one is none), named `name` in messages.
    pub fn new(name: impl Into<String>, value: Option<String>) -> FixedSecret {
        FixedSecret { name: name.into(), value: value.filter(|v| !v.is_empty()) }
    }
}

#[async_trait]
impl SecretSource for FixedSecret {
    async fn value(&self) -> Result<Option<String>, DataError> {
        Ok(self.value.clone())
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// The Slack app (issue 31): the signing secret its interactions are verified with, the bot
/// token its Web API calls carry, and where that API is. Without a signing secret
/// `/slack/interactions` answers 503; without a bot token messages go by webhook, without
/// buttons.
#[derive(Clone, Default)]
pub struct SlackApp {
    pub signing_secret: Option<std::sync::Arc<dyn SecretSource>>,
    pub bot_token: Option<std::sync::Arc<dyn SecretSource>>,
    /// `SLACK_API_URL` (`None`: Slack's own, `https://slack.com/api`).
    pub api_url: Option<String>,
}

impl std::fmt::Debug for SlackApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = |s: &Option<std::sync::Arc<dyn SecretSource>>| s.as_ref().map(|s| s.name().to_owned());
        f.debug_struct("SlackApp")
            .field("signing_secret", &name(&self.signing_secret))
            .field("bot_token", &name(&self.bot_token))
            .field("api_url", &self.api_url)
            .finish()
    }
}
