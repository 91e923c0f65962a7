//! Slack's buttons through `polo serve`'s app: a `block_actions` payload signed as Slack
//! signs it acknowledges a finding and the presser hears so through `response_url`; a bad
//! signature, an old timestamp, a replay or someone who is not an operator change nothing.

use std::sync::{Arc, Mutex};

use polo_core::config::Config;
use polo_web::app::WebSettings;
use serde_json::{Value, json};

use crate::harness::{NOW, TestApp};

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const OPERATOR: &str = "U0OPERATOR";

/// A `response_url` that records what it is told.
async fn recorder() -> (String, Arc<Mutex<Vec<Value>>>) {
    let told: Arc<Mutex<Vec<Value>>> = Arc::default();
    let keep = told.clone();
    let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
        let keep = keep.clone();
        async move {
            keep.lock().unwrap().push(serde_json::from_slice(&body).unwrap_or(Value::Null));
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/actions/T1/1/xyz", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, told)
}

fn body(user: &str, action_id: &str, finding: &str, response_url: &str) -> String {
    let payload = json!({
        "type": "block_actions",
        "user": { "id": user, "username": "ada" },
        "response_url": response_url,
        "actions": [{ "action_id": action_id, "value": finding, "type": "button" }],
    });
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("payload", &payload.to_string());
    form.finish()
}

async fn post(app: &TestApp, body: &str, at: i64, signature: Option<String>) -> u16 {
    let signature = signature.unwrap_or_else(|| polo_web::slack::sign(SECRET, at, body.as_bytes()));
    let headers = [("x-slack-request-timestamp", at.to_string()), ("x-slack-signature", signature)];
    let client = reqwest::Client::new();
    let mut request = client
        .post(format!("{}/slack/interactions", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    for (k, v) in &headers {
        request = request.header(*k, v);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_signed_button_press_by_an_operator_acknowledges_the_finding_and_anything_else_changes_nothing() {
    let settings =
        WebSettings { dev: true, slack_signing_secret: Some(SECRET.into()), ..WebSettings::default() };
    let mut config = Config::bundled().unwrap();
    config.slack.operators = vec![OPERATOR.into()];
    let app = TestApp::with_findings(settings, config).await;
    let (url, told) = recorder().await;
    let all = app.json("/cop?format=json&rule=instance-idle").await;
    let id = all["items"][0]["id"].as_str().unwrap().to_owned();
    let now = NOW.unix_timestamp();
    let acked = || async { app.json("/cop?format=json&state=acknowledged").await["total"].clone() };

    // Refused, 401, nothing changed: a forged signature, a timestamp 6 minutes old, none.
    let press = body(OPERATOR, "ack", &id, &url);
    assert_eq!(post(&app, &press, now, Some("v0=00".into())).await, 401);
    let old = now - 6 * 60;
    assert_eq!(post(&app, &press, old, None).await, 401);
    assert_eq!(acked().await, 0);
    // Someone who is not an operator: told so, nothing changed.
    assert_eq!(post(&app, &body("U0VIEWER", "ack", &id, &url), now, None).await, 200);
    assert_eq!(acked().await, 0);
    assert!(told.lock().unwrap()[0]["text"].as_str().unwrap().contains("Only operators"));

    // The operator's press: acknowledged, in the audit log via Slack, and told.
    assert_eq!(post(&app, &press, now, None).await, 200);
    let state = app.json("/cop?format=json&state=acknowledged").await;
    assert_eq!(state["total"], 1);
    assert_eq!(state["items"][0]["acknowledged_by"], "ada (U0OPERATOR)");
    let audit = app.json("/audit?format=json&via=slack").await;
    assert_eq!(audit["total"], 1);
    assert_eq!(audit["items"][0]["action"], "ack");
    let last = told.lock().unwrap().last().unwrap().clone();
    assert_eq!(last["response_type"], "ephemeral");
    assert!(last["text"].as_str().unwrap().contains("open → acknowledged"), "{last}");
    // The same request again is a replay.
    assert_eq!(post(&app, &press, now, None).await, 401);
    assert_eq!(app.json("/audit?format=json").await["total"], 1);
}

#[tokio::test]
async fn without_a_signing_secret_interactions_are_unavailable() {
    let app = TestApp::sample_with_findings().await;
    let press = body(OPERATOR, "ack", "x", "http://127.0.0.1:9/");
    assert_eq!(post(&app, &press, NOW.unix_timestamp(), None).await, 503);
}

/// Slack's Web API as documented for `chat.update`: `{"ok": true}`; it records each call's
/// method, bearer token and JSON body.
async fn web_api() -> (String, Arc<Mutex<Vec<(String, String, Value)>>>) {
    let calls: Arc<Mutex<Vec<(String, String, Value)>>> = Arc::default();
    let keep = calls.clone();
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let keep = keep.clone();
        async move {
            let method = request.uri().path().rsplit('/').next().unwrap_or_default().to_owned();
            let auth = request
                .headers()
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            let body = axum::body::to_bytes(request.into_body(), usize::MAX).await.unwrap();
            keep.lock().unwrap().push((method, auth, serde_json::from_slice(&body).unwrap_or(Value::Null)));
            axum::Json(json!({ "ok": true }))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls)
}

#[tokio::test]
async fn with_a_bot_token_the_pressed_buttons_message_says_what_was_done() {
    let (api, calls) = web_api().await;
    let settings = WebSettings {
        dev: true,
        slack_signing_secret: Some(SECRET.into()),
        slack_bot_token: Some("xoxb-test".into()),
        slack_api_url: Some(api),
        ..WebSettings::default()
    };
    let mut config = Config::bundled().unwrap();
    config.slack.operators = vec![OPERATOR.into()];
    let app = TestApp::with_findings(settings, config).await;
    let (url, _told) = recorder().await;
    let all = app.json("/cop?format=json&rule=instance-idle").await;
    let id = all["items"][0]["id"].as_str().unwrap().to_owned();
    let other = all["items"][1]["id"].as_str().unwrap().to_owned();
    let buttons = |finding: &str| {
        json!({ "type": "actions", "elements": [
            { "type": "button", "action_id": "ack", "value": finding, "text": { "type": "plain_text", "text": "Ack" } },
        ]})
    };
    let payload = json!({
        "type": "block_actions",
        "user": { "id": OPERATOR, "username": "ada" },
        "response_url": url,
        "container": { "type": "message", "channel_id": "C0COP", "message_ts": "1732449600.000100" },
        "message": { "text": "Cloud Cop: 2 new", "blocks": [
            { "type": "section", "text": { "type": "mrkdwn", "text": "first" } }, buttons(&id),
            { "type": "section", "text": { "type": "mrkdwn", "text": "second" } }, buttons(&other),
        ]},
        "actions": [{ "action_id": "ack", "value": id, "type": "button" }],
    });
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("payload", &payload.to_string());
    let body = form.finish();
    assert_eq!(post(&app, &body, NOW.unix_timestamp(), None).await, 200);
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let (method, auth, sent) = &calls[0];
    assert_eq!((method.as_str(), auth.as_str()), ("chat.update", "Bearer xoxb-test"));
    assert_eq!((sent["channel"].as_str(), sent["ts"].as_str()), (Some("C0COP"), Some("1732449600.000100")));
    let blocks = sent["blocks"].as_array().unwrap();
    assert_eq!(blocks[1]["type"], "context", "the pressed finding's buttons are gone");
    assert!(blocks[1]["elements"][0]["text"].as_str().unwrap().contains("open → acknowledged"));
    assert_eq!(blocks[1]["elements"][0]["type"], "plain_text", "no markup built from data");
    assert_eq!(blocks[3]["type"], "actions", "the other finding keeps its buttons");
}
