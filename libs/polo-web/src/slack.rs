//! Slack's interactivity requests, verified as Slack documents: `X-Slack-Signature` is `v0=`
//! and the hex HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{raw body}` with the app's
//! signing secret; a timestamp more than 5 minutes from now, or a signature already seen, is
//! refused (a replay).

use std::collections::HashMap;
use std::sync::Mutex;

use aws_lc_rs::hmac;
use time::{Duration, OffsetDateTime};

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
/// message only they see. Slack's hooks only, unless `any_url` (the local server, whose
/// tests' fake Slack listens on loopback).
pub async fn tell(url: &str, text: &str, any_url: bool) {
    // The URL is a credential for posting to the person: only its host is logged.
    let host = url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
    if !(url.starts_with("https://hooks.slack.com/") || any_url) {
        tracing::warn!(%host, "a response_url that is not Slack's: not called");
        return;
    }
    let body =
        serde_json::json!({ "response_type": "ephemeral", "replace_original": false, "text": escape(text) });
    let sent = match reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build() {
        Ok(client) => client.post(url).json(&body).timeout(std::time::Duration::from_secs(2)).send().await,
        Err(e) => Err(e),
    };
    if let Err(e) = sent.and_then(reqwest::Response::error_for_status) {
        tracing::warn!(%host, error = %e.without_url(), "Slack's response_url refused the answer");
    }
}

/// `text` with Slack's control characters escaped (`&`, `<`, `>`), so nothing in it is
/// markup.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Slack's Web API unless configured otherwise.
pub const DEFAULT_API_URL: &str = "https://slack.com/api";

/// `blocks` with every actions block that names `finding` (a button's value or a select's
/// block id) replaced by a plain-text line saying `done`: what the message shows once a
/// button was pressed.
pub fn marked(blocks: &serde_json::Value, finding: &str, done: &str) -> serde_json::Value {
    let names = |b: &serde_json::Value| {
        b["block_id"] == finding
            || b["elements"].as_array().is_some_and(|els| els.iter().any(|e| e["value"] == finding))
    };
    let line = serde_json::json!({ "type": "context", "elements": [{ "type": "plain_text", "text": done }] });
    match blocks.as_array() {
        Some(all) => all
            .iter()
            .map(|b| if b["type"] == "actions" && names(b) { line.clone() } else { b.clone() })
            .collect(),
        None => blocks.clone(),
    }
}

/// Replaces the message `ts` of `channel` with `blocks` through the Web API (`chat.update`).
pub async fn update_message(
    api_url: &str,
    token: &str,
    channel: &str,
    ts: &str,
    blocks: serde_json::Value,
    text: &str,
) -> Result<(), String> {
    let body = serde_json::json!({ "channel": channel, "ts": ts, "blocks": blocks, "text": text });
    let answer = reqwest::Client::new()
        .post(format!("{}/chat.update", api_url.trim_end_matches('/')))
        .bearer_auth(token)
        .json(&body)
        .timeout(std::time::Duration::from_secs(2))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let said: serde_json::Value = answer.json().await.map_err(|e| e.to_string())?;
    // The Web API answers 200 with `ok: false` and an error code.
    if said["ok"] == true {
        Ok(())
    } else {
        Err(format!("chat.update: {}", said["error"].as_str().unwrap_or("no reason given")))
    }
}

/// The 32 bytes of a signature: exactly 64 lowercase hex digits, as Slack writes it (so one
/// signature has one spelling, and the replay check cannot be passed by changing its case).
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// The signatures answered within the window: one seen again is a replay.
#[derive(Debug, Default)]
pub struct Seen(Mutex<HashMap<String, OffsetDateTime>>);

impl Seen {
    /// Records `signature` at `now`; `Err` when it was already answered.
    pub fn first_time(&self, signature: &str, now: OffsetDateTime) -> Result<(), Refusal> {
        let mut seen = self.0.lock().map_err(|_| Refusal::Replayed)?;
        seen.retain(|_, at| now - *at <= WINDOW * 2);
        if seen.contains_key(signature) {
            return Err(Refusal::Replayed);
        }
        seen.insert(signature.to_owned(), now);
        Ok(())
    }
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
        let seen = Seen::default();
        assert_eq!(seen.first_time(&good, NOW), Ok(()));
        assert_eq!(seen.first_time(&good, NOW + Duration::minutes(1)), Err(Refusal::Replayed));
    }
}
