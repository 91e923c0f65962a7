//! A local stand-in for Slack on 127.0.0.1, shaped like Slack's documented answers:
//!
//! - an incoming webhook (`/hook`) that records every message and answers from a script,
//!   200 once the script runs out;
//! - the Web API methods Polo calls (`/api/{method}`), checking the bot token:
//!   `chat.postMessage` (keeps the message, answers its `ts`), `chat.update` (replaces it),
//!   `conversations.history` (gives it back), `users.info` (from a directory of people) and
//!   `views.open`; a wrong token answers `invalid_auth`, an unknown channel
//!   `channel_not_found`, as Slack does (HTTP 200, `ok: false`);
//! - `response_url`s (`/actions/…`) that record what they are told;
//! - and it signs interaction payloads as Slack does ([`FakeSlack::interaction`]), with its
//!   own HMAC-SHA256, apart from the code under test.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: a panic is a failed test

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use aws_lc_rs::hmac;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The bot token the fake Web API takes.
pub const BOT_TOKEN: &str = "xoxb-fake-slack-token";
/// The signing secret it signs interactions with (Slack's documented example).
pub const SIGNING_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
/// The one channel the bot is in.
pub const CHANNEL: &str = "C0FINDINGS";

/// One Slack on 127.0.0.1.
#[derive(Default)]
pub struct FakeSlack {
    /// Where it listens (`http://127.0.0.1:port`).
    pub base: String,
    received: Mutex<Vec<Value>>,
    /// Answers to give the webhook, in order: (status, `Retry-After`).
    script: Mutex<VecDeque<(u16, Option<&'static str>)>>,
    /// Every Web API call: (method, arguments).
    calls: Mutex<Vec<(String, Value)>>,
    /// The channel's messages by `ts`.
    messages: Mutex<BTreeMap<String, Value>>,
    /// What `response_url`s were told.
    told: Mutex<Vec<Value>>,
    /// People `users.info` knows: id → e-mail.
    people: Mutex<BTreeMap<String, String>>,
}

impl FakeSlack {
    /// Serves Slack on a free port, its webhook answering `script` first; returns it and the
    /// webhook's URL.
    pub async fn start(script: &[(u16, Option<&'static str>)]) -> (Arc<FakeSlack>, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let slack = Arc::new(FakeSlack {
            base: base.clone(),
            script: Mutex::new(script.iter().copied().collect()),
            ..FakeSlack::default()
        });
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(webhook))
            .route("/api/{method}", axum::routing::post(web_api))
            .route("/actions/{*rest}", axum::routing::post(response_url))
            .with_state(Arc::clone(&slack));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (slack, format!("{base}/hook"))
    }

    /// The Web API's address (`SLACK_API_URL`).
    pub fn api_url(&self) -> String {
        format!("{}/api", self.base)
    }

    /// A `response_url` of this Slack.
    pub fn response_url(&self) -> String {
        format!("{}/actions/T0TEAM/1/x", self.base)
    }

    /// Adds an answer to the webhook's script: `status`, with `Retry-After` when given.
    pub fn answer(&self, status: u16, retry_after: Option<&'static str>) {
        self.script.lock().unwrap().push_back((status, retry_after));
    }

    /// Makes `users.info` know `user` by `email` (empty: shown without an address, as to an
    /// app without the `users:read.email` scope).
    pub fn person(&self, user: &str, email: &str) {
        self.people.lock().unwrap().insert(user.to_owned(), email.to_owned());
    }

    /// Every message posted to the webhook so far, in order.
    pub fn received(&self) -> Vec<Value> {
        self.received.lock().unwrap().clone()
    }

    /// The arguments of every call of `method` so far, in order.
    pub fn calls(&self, method: &str) -> Vec<Value> {
        self.calls.lock().unwrap().iter().filter(|(m, _)| m == method).map(|(_, a)| a.clone()).collect()
    }

    /// The channel's messages now, oldest first.
    pub fn messages(&self) -> Vec<Value> {
        self.messages.lock().unwrap().values().cloned().collect()
    }

    /// What `response_url`s were told, in order.
    pub fn told(&self) -> Vec<Value> {
        self.told.lock().unwrap().clone()
    }

    /// A `block_actions` payload as Slack sends it when `user` presses the button
    /// `action_id` of `finding` in the message `ts`, or picks `option` in its Snooze select.
    pub fn press(&self, user: &str, action_id: &str, finding: &str, option: Option<&str>, ts: &str) -> Value {
        let message = self.messages.lock().unwrap().get(ts).cloned().unwrap_or(Value::Null);
        // Snooze is a select: no value, its block names the finding, and a cleared choice
        // sends `selected_option: null`; the rest are buttons carrying the finding as value.
        let action = if action_id == "snooze" {
            let chosen = option.map_or(Value::Null, |value| json!({ "value": value }));
            json!({ "action_id": action_id, "block_id": finding, "type": "static_select", "selected_option": chosen })
        } else {
            json!({ "action_id": action_id, "block_id": finding, "value": finding, "type": "button" })
        };
        json!({
            "type": "block_actions",
            "team": { "id": "T0TEAM" },
            "user": { "id": user, "username": "ada" },
            "trigger_id": "1.2.trigger",
            "response_url": self.response_url(),
            "container": { "type": "message", "channel_id": CHANNEL, "message_ts": ts },
            "channel": { "id": CHANNEL },
            "message": message,
            "actions": [action],
        })
    }

    /// A `view_submission` payload of the last modal opened, with `values` (block id → the
    /// input's value as Slack nests it).
    pub fn submit(&self, user: &str, values: &Value) -> Value {
        let view = self.calls("views.open").last().cloned().unwrap()["view"].clone();
        json!({
            "type": "view_submission",
            "team": { "id": "T0TEAM" },
            "user": { "id": user, "username": "ada" },
            "view": {
                "callback_id": view["callback_id"],
                "private_metadata": view["private_metadata"],
                "state": { "values": values },
            },
        })
    }

    /// `payload` as Slack posts it at unix time `at`: the form body and its two headers.
    pub fn interaction(payload: &Value, at: i64) -> (String, [(&'static str, String); 2]) {
        let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
        let key = hmac::Key::new(hmac::HMAC_SHA256, SIGNING_SECRET.as_bytes());
        let tag = hmac::sign(&key, format!("v0:{at}:{body}").as_bytes());
        let hex = tag.as_ref().iter().fold(String::new(), |mut out, b| {
            use std::fmt::Write as _;
            let _ = write!(out, "{b:02x}");
            out
        });
        (body, [("x-slack-request-timestamp", at.to_string()), ("x-slack-signature", format!("v0={hex}"))])
    }
}

async fn webhook(State(slack): State<Arc<FakeSlack>>, body: axum::body::Bytes) -> Response {
    slack.received.lock().unwrap().push(serde_json::from_slice(&body).unwrap());
    let (status, retry) = slack.script.lock().unwrap().pop_front().unwrap_or((200, None));
    let mut response = (StatusCode::from_u16(status).unwrap(), "ok").into_response();
    if let Some(seconds) = retry {
        response.headers_mut().insert("retry-after", seconds.parse().unwrap());
    }
    response
}

async fn response_url(State(slack): State<Arc<FakeSlack>>, body: axum::body::Bytes) -> &'static str {
    slack.told.lock().unwrap().push(serde_json::from_slice(&body).unwrap_or(Value::Null));
    "ok"
}

async fn web_api(
    State(slack): State<Arc<FakeSlack>>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> axum::Json<Value> {
    let json_body =
        headers.get("content-type").is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let arguments: Value = if json_body {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    } else {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
        Value::Object(pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
    };
    slack.calls.lock().unwrap().push((method.clone(), arguments.clone()));
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok());
    if bearer != Some(&format!("Bearer {BOT_TOKEN}")) {
        return axum::Json(json!({ "ok": false, "error": "invalid_auth" }));
    }
    let channel_ok = |a: &Value| a["channel"] == CHANNEL;
    let answer = match method.as_str() {
        "chat.postMessage" if channel_ok(&arguments) => {
            let mut messages = slack.messages.lock().unwrap();
            let ts = format!("1764000000.{:06}", messages.len() + 1);
            let message = json!({ "ts": ts, "text": arguments["text"], "blocks": arguments["blocks"] });
            messages.insert(ts.clone(), message.clone());
            json!({ "ok": true, "channel": CHANNEL, "ts": ts, "message": message })
        }
        "chat.update" if channel_ok(&arguments) => {
            let ts = arguments["ts"].as_str().unwrap_or_default().to_owned();
            let mut messages = slack.messages.lock().unwrap();
            match messages.get_mut(&ts) {
                Some(message) => {
                    message["text"] = arguments["text"].clone();
                    message["blocks"] = arguments["blocks"].clone();
                    json!({ "ok": true, "channel": CHANNEL, "ts": ts })
                }
                None => json!({ "ok": false, "error": "message_not_found" }),
            }
        }
        "conversations.history" if channel_ok(&arguments) => {
            // Between `oldest` and `latest`, those two themselves only when `inclusive`.
            let bound = |name: &str| arguments[name].as_str().unwrap_or_default().to_owned();
            let (oldest, latest) = (bound("oldest"), bound("latest"));
            let inclusive = arguments["inclusive"] == "true" || arguments["inclusive"] == "1";
            let found: Vec<Value> = slack
                .messages
                .lock()
                .unwrap()
                .iter()
                .filter(|(ts, _)| {
                    let (ts, oldest, latest) = (ts.as_str(), oldest.as_str(), latest.as_str());
                    if inclusive { oldest <= ts && ts <= latest } else { oldest < ts && ts < latest }
                })
                .map(|(_, m)| m.clone())
                .collect();
            json!({ "ok": true, "messages": found, "has_more": false })
        }
        "chat.postMessage" | "chat.update" | "conversations.history" => {
            json!({ "ok": false, "error": "channel_not_found" })
        }
        "users.info" => {
            let user = arguments["user"].as_str().unwrap_or_default();
            // Without the users:read.email scope Slack leaves the address out: an empty one here.
            match slack.people.lock().unwrap().get(user) {
                Some(email) => {
                    let mut profile = json!({ "real_name": "Ada Lovelace" });
                    if !email.is_empty() {
                        profile["email"] = json!(email);
                    }
                    json!({ "ok": true, "user": { "id": user, "name": "ada", "real_name": "Ada Lovelace",
                                                  "profile": profile } })
                }
                None => json!({ "ok": false, "error": "user_not_found" }),
            }
        }
        "views.open" if arguments["trigger_id"].is_string() && arguments["view"].is_object() => {
            json!({ "ok": true, "view": arguments["view"] })
        }
        "views.open" => json!({ "ok": false, "error": "invalid_arguments" }),
        _ => json!({ "ok": false, "error": "unknown_method" }),
    };
    axum::Json(answer)
}
