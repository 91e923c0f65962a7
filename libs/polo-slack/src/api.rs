//! Slack's Web API with the app's bot token: the methods Polo calls and nothing else.
//!
//! - `chat.postMessage`: a digest or report to a channel (answers the message's `ts`);
//! - `chat.update`: a message after someone acted on it;
//! - `conversations.history`: one message back, to update it after a modal;
//! - `users.info`: a Slack user's e-mail, for operators listed by address;
//! - `views.open`: the Except… and Assign… modals.
//!
//! Slack answers HTTP 200 with `"ok": false` and an error code when it refuses; 429 with
//! `Retry-After` when a method's rate is passed. Both become a [`Failure`] like the
//! webhook's, so the outbox treats them the same. The token is read through its
//! [`SecretSource`] on each call (a rotated token is used within the secret's cache time)
//! and never logged.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use polo_core::ports::SecretSource;
use serde_json::{Value, json};

use crate::blocks::Message;
use crate::webhook::{Failure, retry_wait};

/// Slack's Web API unless configured otherwise (`SLACK_API_URL`, tests' fake Slack).
pub const DEFAULT_API_URL: &str = "https://slack.com/api";

/// How long a method call may take: Slack's interactivity answers within 3 seconds, so the
/// calls made while answering are short.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// How long posting a message may take (jobs, not interactions).
pub const POST_TIMEOUT: Duration = crate::webhook::TIMEOUT;

/// The error codes that say no call can pass with this token or to this channel (the rest
/// say this one call was wrong).
const UNUSABLE: [&str; 14] = [
    "not_authed",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "no_permission",
    "missing_scope",
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "team_access_not_granted",
    "org_login_required",
    "ekm_access_denied",
    "restricted_action",
];

/// The Web API as the app's bot.
pub struct SlackApi {
    base: String,
    token: Arc<dyn SecretSource>,
    /// Built on first use: a function that never calls Slack never builds it.
    client: OnceLock<reqwest::Client>,
}

impl std::fmt::Debug for SlackApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackApi")
            .field("base", &self.base)
            .field("token", &self.token.name())
            .finish_non_exhaustive()
    }
}

/// How a method takes its arguments: JSON (methods that write) or a form (methods that read,
/// which every Web API method accepts).
enum Arguments<'a> {
    Json(&'a Value),
    Form(&'a [(&'a str, &'a str)]),
}

impl SlackApi {
    /// The Web API at `base` (`None`: Slack's own) with the bot token `token` holds.
    pub fn new(base: Option<&str>, token: Arc<dyn SecretSource>) -> SlackApi {
        let base = base.filter(|b| !b.is_empty()).unwrap_or(DEFAULT_API_URL).trim_end_matches('/').to_owned();
        SlackApi { base, token, client: OnceLock::new() }
    }

    /// The bot of `app`, when it has a bot token.
    pub fn of(app: &polo_core::ports::SlackApp) -> Option<Arc<SlackApi>> {
        app.bot_token.clone().map(|token| Arc::new(SlackApi::new(app.api_url.as_deref(), token)))
    }

    /// Whether a bot token is set now (a secret created empty, or holding its placeholder, is
    /// not).
    pub async fn has_token(&self) -> bool {
        matches!(self.token.value().await, Ok(Some(_)))
    }

    fn client(&self) -> Result<&reqwest::Client, Failure> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        // Never follows a redirect: the token goes to Slack's API and nowhere else.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Failure::Unreachable(e.to_string()))?;
        Ok(self.client.get_or_init(|| client))
    }

    /// Calls `method` and gives Slack's answer when `ok`.
    async fn call(
        &self,
        method: &str,
        arguments: Arguments<'_>,
        timeout: Duration,
    ) -> Result<Value, Failure> {
        let token = match self.token.value().await {
            Ok(Some(token)) => token,
            Ok(None) => {
                return Err(Failure::Unusable {
                    status: 0,
                    body: format!("no bot token is set in {}", self.token.name()),
                });
            }
            Err(e) => return Err(Failure::Unreachable(e.to_string())),
        };
        let request =
            self.client()?.post(format!("{}/{method}", self.base)).bearer_auth(token).timeout(timeout);
        let request = match arguments {
            Arguments::Json(body) => request.json(body),
            Arguments::Form(fields) => request.form(fields),
        };
        let response = request.send().await.map_err(|e| Failure::Unreachable(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        if status == 429 {
            let wait = response.headers().get("retry-after").and_then(|v| v.to_str().ok());
            return Err(Failure::RateLimited(retry_wait(wait)));
        }
        if (500..=599).contains(&status) {
            return Err(Failure::Server(status));
        }
        let said: Value = response.json().await.unwrap_or(Value::Null);
        if said["ok"] == true {
            return Ok(said);
        }
        Err(refusal(method, status, &said))
    }

    /// Posts `message` to `channel`; the new message's `ts`.
    pub async fn post_message(&self, channel: &str, message: &Message) -> Result<String, Failure> {
        let body = json!({ "channel": channel, "text": message.text, "blocks": message.blocks, "unfurl_links": false });
        let said = self.call("chat.postMessage", Arguments::Json(&body), POST_TIMEOUT).await?;
        Ok(said["ts"].as_str().unwrap_or_default().to_owned())
    }

    /// Replaces the message `ts` of `channel` with `text` and `blocks`.
    pub async fn update(&self, channel: &str, ts: &str, text: &str, blocks: &Value) -> Result<(), Failure> {
        let body = json!({ "channel": channel, "ts": ts, "text": text, "blocks": blocks });
        self.call("chat.update", Arguments::Json(&body), CALL_TIMEOUT).await.map(drop)
    }

    /// The message `ts` of `channel` (`text`, `blocks`), `None` when it is gone.
    pub async fn message(&self, channel: &str, ts: &str) -> Result<Option<Value>, Failure> {
        let fields =
            [("channel", channel), ("latest", ts), ("oldest", ts), ("inclusive", "true"), ("limit", "1")];
        let said = self.call("conversations.history", Arguments::Form(&fields), CALL_TIMEOUT).await?;
        Ok(said["messages"].as_array().and_then(|m| m.iter().find(|m| m["ts"] == ts)).cloned())
    }

    /// The e-mail address of the Slack user `user` (needs the `users:read.email` scope);
    /// `None` when Slack shows none.
    pub async fn email_of(&self, user: &str) -> Result<Option<String>, Failure> {
        let said = self.call("users.info", Arguments::Form(&[("user", user)]), CALL_TIMEOUT).await?;
        Ok(said["user"]["profile"]["email"].as_str().filter(|e| !e.is_empty()).map(str::to_owned))
    }

    /// A name for the Slack user `user`: their e-mail when Slack shows it, else their real
    /// name, else the id.
    pub async fn name_of(&self, user: &str) -> Result<String, Failure> {
        let said = self.call("users.info", Arguments::Form(&[("user", user)]), CALL_TIMEOUT).await?;
        let profile = &said["user"]["profile"];
        Ok([&profile["email"], &profile["real_name"], &said["user"]["name"]]
            .into_iter()
            .find_map(|v| v.as_str().filter(|s| !s.is_empty()))
            .unwrap_or(user)
            .to_owned())
    }

    /// Opens `view` (a modal) for the person whose press gave `trigger_id` (valid 3 seconds).
    pub async fn open_view(&self, trigger_id: &str, view: &Value) -> Result<(), Failure> {
        let body = json!({ "trigger_id": trigger_id, "view": view });
        self.call("views.open", Arguments::Json(&body), CALL_TIMEOUT).await.map(drop)
    }
}

/// What an answer without `ok` means: the token or channel unusable, or this call refused.
fn refusal(method: &str, status: u16, said: &Value) -> Failure {
    let code = said["error"].as_str().unwrap_or("no error code given");
    let body = format!("{method}: {}", crate::blocks::clip(code, 100));
    if UNUSABLE.contains(&code) || (400..=499).contains(&status) && status != 400 {
        Failure::Unusable { status, body }
    } else {
        Failure::Refused { status, body }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Failure, refusal};

    #[test]
    fn a_bad_token_or_channel_stops_every_call_and_a_bad_message_only_itself() {
        for code in ["invalid_auth", "not_in_channel", "channel_not_found", "missing_scope"] {
            let failure = refusal("chat.postMessage", 200, &json!({ "ok": false, "error": code }));
            assert!(matches!(failure, Failure::Unusable { .. }), "{code}: {failure:?}");
        }
        let failure = refusal("chat.postMessage", 200, &json!({ "ok": false, "error": "invalid_blocks" }));
        assert_eq!(
            failure,
            Failure::Refused { status: 200, body: "chat.postMessage: invalid_blocks".into() }
        );
        let failure = refusal("chat.update", 200, &json!(null));
        assert_eq!(
            failure,
            Failure::Refused { status: 200, body: "chat.update: no error code given".into() }
        );
    }
}
