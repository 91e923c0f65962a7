//! The Slack app through `polo serve`'s app and the fake Slack of `polo-tests`: the digest
//! goes to the channel with buttons; a `block_actions` payload signed as Slack signs it
//! acknowledges or snoozes a finding, and the message then says what was done
//! (`chat.update`); Except… and Assign… open modals whose submission does it; operators are
//! listed by Slack id or by e-mail (`users.info`). A bad signature, an old timestamp, a
//! replay or someone who is not an operator change nothing.

use std::sync::Arc;

use polo_core::config::Config;
use polo_core::ports::{FindingStore, FixedSecret, SecretSource, SlackApp};
use polo_tests::fake_slack::{self, FakeSlack};
use polo_web::app::WebSettings;
use serde_json::{Value, json};

use crate::harness::{NOW, TestApp};

const OPERATOR: &str = "U0OPERATOR";

fn secret(name: &str, value: &str) -> Arc<dyn SecretSource> {
    Arc::new(FixedSecret::new(name, Some(value.to_owned())))
}

/// The Slack app of `slack`: its signing secret, and its bot when `bot`.
fn app_of(slack: &FakeSlack, bot: bool) -> SlackApp {
    SlackApp {
        signing_secret: Some(secret("SLACK_SIGNING_SECRET", fake_slack::SIGNING_SECRET)),
        bot_token: bot.then(|| secret("SLACK_BOT_TOKEN", fake_slack::BOT_TOKEN)),
        api_url: Some(slack.api_url()),
    }
}

/// The sample's findings served with `operators`, a fake Slack, and the app's bot when `bot`.
async fn served(
    operators: &[&str],
    bot: bool,
) -> (TestApp, Arc<FakeSlack>, Arc<polo_core::ports::MemoryFindings>, Config) {
    let (slack, _hook) = FakeSlack::start(&[]).await;
    let mut config = Config::bundled().unwrap();
    config.slack.operators = operators.iter().map(|o| (*o).to_owned()).collect();
    config.slack.channel = Some(fake_slack::CHANNEL.into());
    let settings = WebSettings { dev: true, ..WebSettings::default() };
    let (app, store) = TestApp::with_findings_and_slack(settings, config.clone(), app_of(&slack, bot)).await;
    (app, slack, store, config)
}

/// POSTs `payload` as Slack would at `at`, or with `signature` instead of Slack's.
async fn post(app: &TestApp, payload: &Value, at: i64, signature: Option<&str>) -> (u16, Value) {
    let (body, headers) = FakeSlack::interaction(payload, at);
    let mut request = reqwest::Client::new()
        .post(format!("{}/slack/interactions", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    for (name, value) in headers {
        let value = if name == "x-slack-signature" { signature.map_or(value, str::to_owned) } else { value };
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The Cop's digest of `store`, sent as the bot of `slack` at [`NOW`].
async fn digest(
    slack: &FakeSlack,
    store: &polo_core::ports::MemoryFindings,
    config: &Config,
) -> polo_slack::Drained {
    let delivery =
        polo_slack::Delivery::none("https://polo.example.com").with_app(&app_of(slack, true), &config.slack);
    let outbox = polo_slack::digest::FindingOutbox {
        store,
        renotify: polo_core::cop::Renotify::of(&config.cop),
        public_url: "https://polo.example.com",
    };
    delivery.send(&outbox, NOW, std::time::Duration::MAX).await.unwrap().unwrap()
}

async fn first_idle(app: &TestApp, n: usize) -> String {
    app.json("/cop?format=json&rule=instance-idle").await["items"][n]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_signed_button_press_by_an_operator_acknowledges_the_finding_and_anything_else_changes_nothing() {
    let (app, slack, _, _) = served(&[OPERATOR], false).await;
    let id = first_idle(&app, 0).await;
    let now = NOW.unix_timestamp();
    let acked = || async { app.json("/cop?format=json&state=acknowledged").await["total"].clone() };

    // Refused, 401, nothing changed: a forged signature, a timestamp 6 minutes old.
    let press = slack.press(OPERATOR, "ack", &id, None, "1764000000.000001");
    assert_eq!(post(&app, &press, now, Some("v0=00")).await.0, 401);
    assert_eq!(post(&app, &press, now - 6 * 60, None).await.0, 401);
    assert_eq!(acked().await, 0);
    // Someone who is not an operator: told so, nothing changed.
    assert_eq!(post(&app, &slack.press("U0VIEWER", "ack", &id, None, "1"), now, None).await.0, 200);
    assert_eq!(acked().await, 0);
    assert!(slack.told()[0]["text"].as_str().unwrap().contains("Only operators"));

    // The operator's press: acknowledged, in the audit log via Slack, and told.
    assert_eq!(post(&app, &press, now, None).await.0, 200);
    let state = app.json("/cop?format=json&state=acknowledged").await;
    assert_eq!(state["total"], 1);
    assert_eq!(state["items"][0]["acknowledged_by"], "ada (U0OPERATOR)");
    let audit = app.json("/audit?format=json&via=slack").await;
    assert_eq!(audit["total"], 1);
    assert_eq!(audit["items"][0]["action"], "ack");
    let last = slack.told().last().unwrap().clone();
    assert_eq!(last["response_type"], "ephemeral");
    assert!(last["text"].as_str().unwrap().contains("open → acknowledged"), "{last}");
    // The same request again is a replay.
    assert_eq!(post(&app, &press, now, None).await.0, 401);
    assert_eq!(app.json("/audit?format=json").await["total"], 1);
    assert!(slack.calls("chat.update").is_empty(), "no bot token: no update");
}

#[tokio::test]
async fn without_a_signing_secret_interactions_are_unavailable() {
    let app = TestApp::sample_with_findings().await;
    let (slack, _) = FakeSlack::start(&[]).await;
    let press = slack.press(OPERATOR, "ack", "x", None, "1");
    assert_eq!(post(&app, &press, NOW.unix_timestamp(), None).await.0, 503);
}

#[tokio::test]
async fn the_digest_goes_to_the_channel_with_buttons_and_a_press_updates_its_message() {
    let (app, slack, store, config) = served(&[OPERATOR], true).await;
    // The Cop's digest through the app's bot.
    let drained = digest(&slack, &store, &config).await;
    assert!(drained.sent >= 1 && drained.left == 0, "{drained:?}");
    assert!(slack.received().is_empty(), "the bot posts; the webhook has nothing");
    let messages = slack.messages();
    assert_eq!(messages.len(), drained.sent);
    for message in &messages {
        assert!(message["blocks"].as_array().unwrap().len() <= 50);
    }
    let first = &messages[0];
    let ts = first["ts"].as_str().unwrap().to_owned();
    let actions: Vec<&Value> =
        first["blocks"].as_array().unwrap().iter().filter(|b| b["type"] == "actions").collect();
    assert!(actions.len() >= 2, "buttons on each open finding: {first}");
    let (acked, snoozed) =
        (actions[0]["block_id"].as_str().unwrap(), actions[1]["block_id"].as_str().unwrap());

    // Ack by button, snooze a week by the select: both pressed on the same copy of the
    // message, as two people at once would; the second update must keep the first.
    let now = NOW.unix_timestamp();
    let (ack, snooze) = (
        slack.press(OPERATOR, "ack", acked, None, &ts),
        slack.press(OPERATOR, "snooze", snoozed, Some("7d"), &ts),
    );
    // Clearing the select sends no option: nothing happens.
    let cleared = slack.press(OPERATOR, "snooze", snoozed, None, &ts);
    assert_eq!(post(&app, &cleared, now, None).await.0, 200);
    let told = slack.told();
    assert!(told.last().unwrap()["text"].as_str().unwrap().contains("Pick 1 day"), "{told:?}");
    assert_eq!(post(&app, &ack, now, None).await.0, 200);
    assert_eq!(post(&app, &snooze, now, None).await.0, 200);
    let updates = slack.calls("chat.update");
    assert_eq!(updates.len(), 2, "the message is updated after each press");
    let message = &slack.messages()[0];
    let lines: Vec<&str> = message["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "context" && b["elements"][0]["type"] == "plain_text")
        .map(|b| b["elements"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{message}");
    assert!(lines[0].contains("acknowledged by ada (U0OPERATOR)"), "{lines:?}");
    assert!(lines[1].contains("open → snoozed"), "{lines:?}");
    let left = message["blocks"].as_array().unwrap().iter().filter(|b| b["type"] == "actions").count();
    assert_eq!(left, actions.len() - 2, "the other findings keep their buttons");

    // The snoozed finding is silent until its week is up; the acknowledged one is told less often.
    let later = NOW + time::Duration::days(2);
    let due: Vec<String> = store
        .all()
        .await
        .unwrap()
        .iter()
        .filter(|f| polo_core::cop::due(f, later, &polo_core::cop::Renotify::of(&config.cop)).is_some())
        .map(|f| f.id.clone())
        .collect();
    assert!(!due.iter().any(|id| id == snoozed || id == acked), "{due:?}");
    let audit = app.json("/audit?format=json&via=slack").await;
    assert_eq!(audit["total"], 2);
}

#[tokio::test]
async fn except_and_assign_open_modals_whose_submission_does_it_and_a_bad_one_stays_open() {
    let (app, slack, store, config) = served(&[OPERATOR], true).await;
    digest(&slack, &store, &config).await;
    let first = slack.messages()[0].clone();
    let ts = first["ts"].as_str().unwrap().to_owned();
    let ids: Vec<String> = first["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "actions")
        .map(|b| b["block_id"].as_str().unwrap().to_owned())
        .collect();
    let now = NOW.unix_timestamp();

    // Except…: a modal; submitted without a reason it stays open saying so; with one, done.
    assert_eq!(post(&app, &slack.press(OPERATOR, "except", &ids[0], None, &ts), now, None).await.0, 200);
    let opened = slack.calls("views.open");
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0]["view"]["callback_id"], "except");
    assert!(slack.told().is_empty(), "a modal speaks for itself");
    let reason = |text: &str| {
        json!({ "reason": { "reason": { "type": "plain_text_input", "value": text } },
                                       "until": { "until": { "type": "datepicker", "selected_date": "2027-03-31" } } })
    };
    let (status, answer) = post(&app, &slack.submit(OPERATOR, &reason(" ")), now, None).await;
    assert_eq!(status, 200);
    assert_eq!(answer["response_action"], "errors");
    assert!(answer["errors"]["reason"].as_str().unwrap().contains("expected some text"), "{answer}");
    assert_eq!(app.json("/cop?format=json&state=excepted").await["total"], 0);
    let (status, answer) =
        post(&app, &slack.submit(OPERATOR, &reason("standby fleet for the spring launch")), now, None).await;
    assert_eq!((status, answer), (200, Value::Null), "an empty answer closes the modal");
    let excepted = app.json("/cop?format=json&state=excepted").await;
    assert_eq!(excepted["total"], 1);
    assert_eq!(excepted["items"][0]["exception"]["reason"], "standby fleet for the spring launch");
    assert_eq!(excepted["items"][0]["exception"]["until"], "2027-03-31");
    // The message was read back and updated.
    assert_eq!(slack.calls("conversations.history").len(), 1);
    let blocks = slack.messages()[0]["blocks"].clone();
    assert!(blocks.to_string().contains("open → excepted"), "{blocks}");

    // Assign…: a users_select; the assignee is named by the e-mail Slack shows.
    slack.person("U0GRACE", "grace@example.com");
    assert_eq!(post(&app, &slack.press(OPERATOR, "assign", &ids[1], None, &ts), now, None).await.0, 200);
    assert_eq!(slack.calls("views.open")[1]["view"]["callback_id"], "assign");
    let to = json!({ "to": { "to": { "type": "users_select", "selected_user": "U0GRACE" } } });
    assert_eq!(post(&app, &slack.submit(OPERATOR, &to), now, None).await.0, 200);
    let assigned = app.json("/cop?format=json&q=grace%40example.com").await;
    assert_eq!(assigned["items"][0]["assignee"], "grace@example.com", "{assigned}");
    assert_eq!(app.json("/audit?format=json&via=slack").await["total"], 2);
}

#[tokio::test]
async fn operators_listed_by_e_mail_are_matched_through_users_info() {
    let (app, slack, _, _) = served(&["ada@example.com"], true).await;
    slack.person("U0ADA", "Ada@Example.com");
    slack.person("U0EVE", "eve@example.com");
    slack.person("U0HIDDEN", "");
    let id = first_idle(&app, 0).await;
    let now = NOW.unix_timestamp();
    assert_eq!(post(&app, &slack.press("U0EVE", "ack", &id, None, "1"), now, None).await.0, 200);
    assert_eq!(post(&app, &slack.press("U0NOBODY", "ack", &id, None, "2"), now, None).await.0, 200);
    assert_eq!(app.json("/cop?format=json&state=acknowledged").await["total"], 0);
    let told = slack.told();
    assert!(told[0]["text"].as_str().unwrap().contains("Only operators"), "{told:?}");
    assert!(told[1]["text"].as_str().unwrap().contains("did not say who you are"), "{told:?}");
    // An address Slack does not show (no users:read.email scope) matches no one.
    assert_eq!(post(&app, &slack.press("U0HIDDEN", "ack", &id, None, "4"), now, None).await.0, 200);
    assert!(slack.told()[2]["text"].as_str().unwrap().contains("Only operators"));
    assert_eq!(app.json("/cop?format=json&state=acknowledged").await["total"], 0);
    assert_eq!(post(&app, &slack.press("U0ADA", "ack", &id, None, "3"), now, None).await.0, 200);
    assert_eq!(app.json("/cop?format=json&state=acknowledged").await["total"], 1);
    assert_eq!(slack.calls("users.info").len(), 4);
}
