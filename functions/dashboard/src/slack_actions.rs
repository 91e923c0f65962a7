//! `POST /slack/interactions`: Slack's buttons on a digest's findings. The request is
//! verified as Slack signs it (refused 401 otherwise, nothing changed); a `block_actions`
//! payload by a Slack user listed in `[slack] operators` acknowledges, snoozes (`1d`, `7d`,
//! `30d`) or reopens the finding its button names, which lands in the audit log as done via
//! Slack; the outcome is told to the person through the payload's `response_url`. `except`
//! and `assign` need a reason or a name: Slack is told to use the finding's dashboard page.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use polo_core::cop::{ActOnError, Action, ActionError, Actor, Via, act_on};
use polo_web::{AppError, AppState};
use serde_json::Value;

/// What one button press asks.
struct Press {
    user: String,
    user_name: String,
    action_id: String,
    finding: String,
    option: Option<String>,
    response_url: Option<String>,
}

fn press(payload: &Value) -> Option<Press> {
    if payload["type"] != "block_actions" {
        return None;
    }
    let action = payload["actions"].get(0)?;
    let text = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    Some(Press {
        user: text(&payload["user"]["id"])?,
        user_name: text(&payload["user"]["username"]).unwrap_or_default(),
        action_id: text(&action["action_id"])?,
        // A button carries the finding as its value; a select, in its block id.
        finding: text(&action["value"]).or_else(|| text(&action["block_id"]))?,
        option: text(&action["selected_option"]["value"]),
        response_url: text(&payload["response_url"]),
    })
}

/// `POST /slack/interactions`.
pub async fn interactions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let secret = state.settings.slack_signing_secret.clone().ok_or_else(|| {
        AppError::Unavailable("Slack interactivity is not configured (SLACK_SIGNING_SECRET)".into())
    })?;
    let now = state.clock.now();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let signature = header("x-slack-signature");
    polo_web::slack::verify(&secret, header("x-slack-request-timestamp"), signature, &body, now)
        .and_then(|()| state.slack_seen.first_time(signature.unwrap_or_default(), now))
        .map_err(|e| {
            tracing::warn!(refusal = %e, "a Slack interaction refused");
            AppError::Unauthorized
        })?;
    let payload: Value = polo_web::slack::payload(&body).ok_or_else(|| {
        AppError::bad_param("payload", "expected Slack's form field payload, a JSON object")
    })?;
    // Anything but a button press is acknowledged and left alone.
    let Some(press) = press(&payload) else { return Ok(StatusCode::OK.into_response()) };
    let (done, told) = match decide(&state, &press, now).await {
        Ok(text) => (true, text),
        Err(text) => (false, text),
    };
    // Both within Slack's 3 seconds: side by side.
    let updated = async {
        if done {
            update(&state, &payload, &press, &told).await;
        }
    };
    let answered = async {
        if let Some(url) = &press.response_url {
            polo_web::slack::tell(url, &told, state.settings.dev).await;
        }
    };
    tokio::join!(updated, answered);
    Ok(StatusCode::OK.into_response())
}

/// Does what `press` asks when its user may; the text to tell them either way.
async fn decide(state: &AppState, press: &Press, now: time::OffsetDateTime) -> Result<String, String> {
    if !state.config.slack.operators.contains(&press.user) {
        return Err(format!(
            "Only operators may act on findings from Slack; {} is not in [slack] operators.",
            press.user
        ));
    }
    let action = match press.action_id.as_str() {
        "ack" => Action::Ack,
        "reopen" => Action::Reopen,
        "snooze" => {
            Action::snooze_for(press.option.as_deref().unwrap_or("1d"), now).map_err(|e| e.to_string())?
        }
        "except" | "assign" => {
            return Err(format!(
                "{} needs a reason or a name: open the finding in Polo to do it.",
                press.action_id
            ));
        }
        other => return Err(format!("Unknown action {other:?}.")),
    };
    let store = state.finding_store.clone().ok_or("Findings are read-only here.")?;
    let by = if press.user_name.is_empty() {
        press.user.clone()
    } else {
        format!("{} ({})", press.user_name, press.user)
    };
    let actor = Actor { name: by, via: Via::Slack };
    let (_, entry) = act_on(store.as_ref(), state.audit.as_ref(), &press.finding, &action, &actor, now)
        .await
        .map_err(|e| match e {
            ActOnError::Action(ActionError::Invalid(m) | ActionError::Refused(m)) => m,
            ActOnError::NotFound(_) | ActOnError::Busy => e.to_string(),
            // The store's own words stay in the log.
            ActOnError::Data(d) => {
                tracing::error!(error = %d, "findings not saved");
                "The finding could not be saved; try again in a minute.".to_owned()
            }
        })?;
    tracing::info!(finding = %entry.finding_id, action = %entry.action, by = %entry.by, "finding acted on from Slack");
    Ok(format!(
        "{} {}: {} → {}.",
        entry.action,
        entry.finding_id,
        entry.before.as_str(),
        entry.after.as_str()
    ))
}

/// With a bot token, the message whose button was pressed says what was done instead of
/// offering the buttons again (`chat.update`); a failure is logged, the action stands.
async fn update(state: &AppState, payload: &Value, press: &Press, done: &str) {
    let settings = &state.settings;
    let Some(token) = settings.slack_bot_token.as_deref() else { return };
    let (Some(channel), Some(ts)) =
        (payload["container"]["channel_id"].as_str(), payload["container"]["message_ts"].as_str())
    else {
        return;
    };
    let blocks = polo_web::slack::marked(&payload["message"]["blocks"], &press.finding, done);
    let text = payload["message"]["text"].as_str().unwrap_or(done);
    let api = settings.slack_api_url.as_deref().unwrap_or(polo_web::slack::DEFAULT_API_URL);
    if let Err(e) = polo_web::slack::update_message(api, token, channel, ts, blocks, text).await {
        tracing::warn!(error = %e, "the Slack message was not updated");
    }
}
