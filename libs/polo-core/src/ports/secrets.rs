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
