//! Slack's interactivity: requests verified as Slack documents (`X-Slack-Signature` is `v0=`
//! and the hex HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{raw body}` with the app's
//! signing secret; a timestamp more than 5 minutes from now is refused, and the caller
//! refuses a signature already answered), the payloads Polo answers (a button press, a
//! modal submitted), the buttons a digest carries on each finding, and the Except… and
//! Assign… modals.

use aws_lc_rs::hmac;
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::blocks::{clip, escape};

/// How far a request's timestamp may be from now.
pub const WINDOW: Duration = Duration::minutes(5);

/// Why a request is not Slack's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no X-Slack-Signature or X-Slack-Request-Timestamp")]
    Missing,
    #[error("the request timestamp is more than 5 minutes from now")]
    Stale,
    #[error("the signature does not match")]
    Forged,
    #[error("this request was already answered")]
    Replayed,
}

/// Checks `signature` (`v0=…`) over `timestamp` and `body` with `secret` at `now`.
pub fn verify(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<(), Refusal> {
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else { return Err(Refusal::Missing) };
    let at = timestamp.parse::<i64>().map_err(|_| Refusal::Missing)?;
    if now.unix_timestamp().abs_diff(at) > WINDOW.whole_seconds().unsigned_abs() {
        return Err(Refusal::Stale);
    }
    let given = signature.strip_prefix("v0=").and_then(decode_hex).ok_or(Refusal::Forged)?;
    hmac::verify(&key(secret), &basestring(timestamp, body), &given).map_err(|_| Refusal::Forged)
}

/// The signing key of `secret`.
fn key(secret: &str) -> hmac::Key {
    hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes())
}

/// What Slack signs: `v0:{timestamp}:{body}`.
fn basestring(timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut message = format!("v0:{timestamp}:").into_bytes();
    message.extend_from_slice(body);
    message
}

/// The signature Slack would send for `body` at `timestamp` (tests and the fake Slack).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = hmac::sign(&key(secret), &basestring(&timestamp.to_string(), body));
    let hex = tag.as_ref().iter().fold(String::new(), |mut out, b| {
        use std::fmt::Write as _;
        let _ = write!(out, "{b:02x}");
        out
    });
    format!("v0={hex}")
}

/// The JSON of an interaction's `payload` form field.
pub fn payload(body: &[u8]) -> Option<serde_json::Value> {
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    let (_, text) = fields.into_iter().find(|(k, _)| k == "payload")?;
    serde_json::from_str(&text).ok()
}

/// Tells the person who pressed a button, through the interaction's `response_url`, in a
/// message only they see. Only Slack's hooks are called, or URLs under `also` (the Web API
/// configured in its place: a stand-in Slack); the URL is a credential for posting to the
/// person, so only its host is logged.
pub async fn tell(url: &str, text: &str, also: Option<&str>) {
    let parsed = url::Url::parse(url).ok();
    let host = parsed.as_ref().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
    let origin = |u: &url::Url| u.origin().ascii_serialization();
    let beside_api = also
        .and_then(|a| url::Url::parse(a).ok())
        .zip(parsed.as_ref())
        .is_some_and(|(api, url)| origin(&api) == origin(url));
    if !(url.starts_with("https://hooks.slack.com/") || beside_api) {
        tracing::warn!(%host, "a response_url that is not Slack's: not called");
        return;
    }
    let body = json!({ "response_type": "ephemeral", "replace_original": false, "text": escape(text) });
    let sent = match reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build() {
        Ok(client) => client.post(url).json(&body).timeout(std::time::Duration::from_secs(2)).send().await,
        Err(e) => Err(e),
    };
    if let Err(e) = sent.and_then(reqwest::Response::error_for_status) {
        tracing::warn!(%host, error = %e.without_url(), "Slack's response_url refused the answer");
    }
}

/// The actions a digest offers on a finding: Ack (Reopen once acknowledged), Snooze for
/// 1, 7 or 30 days, Except… and Assign…. Every button carries the finding's id as its value,
/// and the block is named by it, so the select (which has no value) names it too.
pub fn actions(finding: &str, acknowledged: bool) -> serde_json::Value {
    let button = |action: &str, label: &str| {
        json!({ "type": "button", "action_id": action, "value": finding,
                "text": { "type": "plain_text", "text": label } })
    };
    let option =
        |value: &str, label: &str| json!({ "value": value, "text": { "type": "plain_text", "text": label } });
    let first = if acknowledged { button("reopen", "Reopen") } else { button("ack", "Ack") };
    json!({
        "type": "actions",
        "block_id": finding,
        "elements": [
            first,
            { "type": "static_select", "action_id": "snooze",
              "placeholder": { "type": "plain_text", "text": "Snooze…" },
              "options": [option("1d", "1 day"), option("7d", "7 days"), option("30d", "30 days")] },
            button("except", "Except…"),
            button("assign", "Assign…"),
        ],
    })
}

/// The longest block id Slack takes: a finding whose id is longer gets no buttons.
pub const MAX_BLOCK_ID: usize = 255;

/// The findings whose actions `blocks` carry (each actions block is named by its finding).
pub fn findings_of(blocks: &serde_json::Value) -> Vec<String> {
    blocks
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["type"] == "actions")
        .filter_map(|b| b["block_id"].as_str().map(str::to_owned))
        .collect()
}

/// The text of the section that tells of `finding` (the one just before its actions), as
/// the message has it (mrkdwn Polo wrote).
pub fn line_of(blocks: &serde_json::Value, finding: &str) -> Option<String> {
    let all = blocks.as_array()?;
    let at = all.iter().position(|b| b["type"] == "actions" && b["block_id"] == finding)?;
    all.get(at.checked_sub(1)?)?["text"]["text"].as_str().map(str::to_owned)
}

/// `blocks` with the actions block of each finding in `lines` replaced by a plain-text line
/// saying its state: what the message shows once someone acted.
pub fn settled<S: std::hash::BuildHasher>(
    blocks: &serde_json::Value,
    lines: &std::collections::HashMap<String, String, S>,
) -> serde_json::Value {
    let line = |text: &str| json!({ "type": "context", "elements": [{ "type": "plain_text", "text": clip(text, 2_000) }] });
    match blocks.as_array() {
        Some(all) => all
            .iter()
            .map(|b| {
                let named = b["block_id"].as_str().and_then(|id| lines.get(id));
                match named {
                    Some(text) if b["type"] == "actions" => line(text),
                    _ => b.clone(),
                }
            })
            .collect(),
        None => blocks.clone(),
    }
}

/// Where an action came from: the message (channel and `ts`) whose button was pressed.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Origin {
    pub finding: String,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub ts: Option<String>,
}

/// What Slack asks of Polo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Interaction {
    /// A button pressed or an option chosen in a message.
    Press(Press),
    /// A modal submitted.
    Submit(Submission),
}

/// One press of a button or choice in a select (`block_actions`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Press {
    /// The Slack user id of who pressed it.
    pub user: String,
    pub user_name: String,
    /// `ack`, `snooze`, `except`, `assign` or `reopen`.
    pub action_id: String,
    /// The option chosen in a select (`1d`, `7d`, `30d`).
    pub option: Option<String>,
    /// For a modal (valid 3 seconds).
    pub trigger_id: Option<String>,
    /// Where to tell the presser what happened.
    pub response_url: Option<String>,
    pub origin: Origin,
    /// The finding's line in the message pressed (mrkdwn Polo wrote).
    pub message_line: Option<String>,
}

/// A modal submitted (`view_submission`): Except… or Assign….
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
    pub user: String,
    pub user_name: String,
    /// The modal's `callback_id`: `except` or `assign`.
    pub action_id: String,
    pub origin: Origin,
    /// Except: the reason given.
    pub reason: Option<String>,
    /// Except: the last day, `YYYY-MM-DD`, when one was picked.
    pub until: Option<String>,
    /// Assign: the Slack user picked.
    pub assignee: Option<String>,
}

/// What `payload` asks; `None` for anything Polo does not answer (it is acknowledged and
/// left alone).
pub fn interaction(payload: &serde_json::Value) -> Option<Interaction> {
    let text = |v: &serde_json::Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    let user = text(&payload["user"]["id"])?;
    let user_name = text(&payload["user"]["username"]).unwrap_or_default();
    match payload["type"].as_str()? {
        "block_actions" => {
            let action = payload["actions"].get(0)?;
            // A button carries the finding as its value; a select, in its block id.
            let finding = text(&action["value"]).or_else(|| text(&action["block_id"]))?;
            Some(Interaction::Press(Press {
                message_line: line_of(&payload["message"]["blocks"], &finding),
                user,
                user_name,
                action_id: text(&action["action_id"])?,
                option: text(&action["selected_option"]["value"]),
                trigger_id: text(&payload["trigger_id"]),
                response_url: text(&payload["response_url"]),
                origin: Origin {
                    finding,
                    channel: text(&payload["container"]["channel_id"])
                        .or_else(|| text(&payload["channel"]["id"])),
                    ts: text(&payload["container"]["message_ts"]),
                },
            }))
        }
        "view_submission" => {
            let view = &payload["view"];
            let origin: Origin = serde_json::from_str(view["private_metadata"].as_str()?).ok()?;
            let values = &view["state"]["values"];
            Some(Interaction::Submit(Submission {
                user,
                user_name,
                action_id: text(&view["callback_id"])?,
                origin,
                reason: text(&values["reason"]["reason"]["value"]),
                until: text(&values["until"]["until"]["selected_date"]),
                assignee: text(&values["to"]["to"]["selected_user"]),
            }))
        }
        _ => None,
    }
}

/// The modal asking why, and until when, a finding is excepted; `summary` is mrkdwn (the
/// finding's line from Polo's own message, or its id escaped).
pub fn except_view(origin: &Origin, summary: &str) -> serde_json::Value {
    modal(
        "except",
        "Except finding",
        "Except",
        origin,
        summary,
        &[
            json!({ "type": "input", "block_id": "reason",
                    "label": { "type": "plain_text", "text": "Why it is accepted" },
                    "element": { "type": "plain_text_input", "action_id": "reason",
                                 "max_length": polo_core::cop::MAX_TEXT } }),
            json!({ "type": "input", "block_id": "until", "optional": true,
                    "label": { "type": "plain_text", "text": "Until (the last day; empty: for good)" },
                    "element": { "type": "datepicker", "action_id": "until" } }),
        ],
    )
}

/// The modal asking whom a finding is assigned to.
pub fn assign_view(origin: &Origin, summary: &str) -> serde_json::Value {
    modal(
        "assign",
        "Assign finding",
        "Assign",
        origin,
        summary,
        &[json!({ "type": "input", "block_id": "to",
                  "label": { "type": "plain_text", "text": "Assign to" },
                  "element": { "type": "users_select", "action_id": "to" } })],
    )
}

fn modal(
    callback: &str,
    title: &str,
    submit: &str,
    origin: &Origin,
    summary: &str,
    inputs: &[serde_json::Value],
) -> serde_json::Value {
    let mut blocks =
        vec![json!({ "type": "section", "text": { "type": "plain_text", "text": clip(summary, 2_000) } })];
    blocks.extend(inputs.iter().cloned());
    json!({
        "type": "modal",
        "callback_id": callback,
        "title": { "type": "plain_text", "text": title },
        "submit": { "type": "plain_text", "text": submit },
        "close": { "type": "plain_text", "text": "Cancel" },
        "private_metadata": serde_json::to_string(origin).unwrap_or_default(),
        "blocks": blocks,
    })
}

/// The answer to a submitted modal that keeps it open with `problem` under `block` (Slack's
/// `response_action: errors`).
pub fn modal_error(block: &str, problem: &str) -> serde_json::Value {
    json!({ "response_action": "errors", "errors": { block: clip(problem, 150) } })
}

/// The 32 bytes of a signature: exactly 64 lowercase hex digits, as Slack writes it (so one
/// signature has one spelling, and the replay check cannot be passed by changing its case).
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

    #[test]
    fn slacks_documented_example_verifies() {
        // api.slack.com/authentication/verifying-requests-from-slack, the worked example.
        let secret = "8f742231b10e8888abcd99yyyzzz85a5";
        let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let at = OffsetDateTime::from_unix_timestamp(1_531_420_618).unwrap();
        let signature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
        assert_eq!(verify(secret, Some("1531420618"), Some(signature), body, at), Ok(()));
        assert_eq!(sign(secret, 1_531_420_618, body), signature);
    }

    #[test]
    fn a_forged_stale_missing_or_replayed_request_is_refused() {
        let body = b"payload=%7B%7D";
        let at = NOW.unix_timestamp();
        let good = sign("secret", at, body);
        assert_eq!(verify("secret", Some(&at.to_string()), Some(&good), body, NOW), Ok(()));
        assert_eq!(verify("other", Some(&at.to_string()), Some(&good), body, NOW), Err(Refusal::Forged));
        assert_eq!(
            verify("secret", Some(&at.to_string()), Some(&good), b"payload=x", NOW),
            Err(Refusal::Forged)
        );
        let old = NOW - Duration::minutes(6);
        let stale = sign("secret", old.unix_timestamp(), body);
        assert_eq!(
            verify("secret", Some(&old.unix_timestamp().to_string()), Some(&stale), body, NOW),
            Err(Refusal::Stale)
        );
        assert_eq!(verify("secret", None, Some(&good), body, NOW), Err(Refusal::Missing));
        assert_eq!(verify("secret", Some(&at.to_string()), Some("v0=zz"), body, NOW), Err(Refusal::Forged));
        // One spelling only: the same signature in capitals is refused, not a new request.
        let upper = format!("v0={}", good.trim_start_matches("v0=").to_uppercase());
        assert_eq!(verify("secret", Some(&at.to_string()), Some(&upper), body, NOW), Err(Refusal::Forged));
        assert_eq!(
            verify("secret", Some(&i64::MIN.to_string()), Some(&good), body, NOW),
            Err(Refusal::Stale)
        );
    }
}
