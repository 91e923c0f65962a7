//! `POST /slack/interactions`: the Slack app's buttons and modals on a digest's findings.
//!
//! - Every request is verified as Slack signs it, and answered once (a replay, a stale or
//!   forged signature: 401, nothing changed).
//! - A button press (`block_actions`) by an operator acknowledges, snoozes (`1d`, `7d`,
//!   `30d`) or reopens the finding it names; Except… and Assign… open a modal
//!   (`views.open`), whose submission (`view_submission`) excepts or assigns it.
//! - Operators are `[slack] operators`: Slack user ids, or e-mail addresses matched through
//!   `users.info`.
//! - What was done lands in the audit log as via Slack; the message pressed is updated
//!   (`chat.update`) so that finding's buttons become a line saying what was done; the
//!   presser is told through `response_url`.
//! - Slack wants an answer within 3 seconds: the Slack calls made while answering share a
//!   2.5-second budget from the request's arrival, each capped at 2 seconds; what misses it is
//!   logged, and the action stands.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use polo_core::cop::{ActOnError, Action, ActionError, Actor, AuditEntry, Via, act_on};
use polo_core::model::FindingState;
use polo_core::ports::Which;
use polo_slack::interactive::{self, Interaction, Origin, Press, Submission};
use polo_web::{AppError, AppState};
use serde_json::Value;
use time::OffsetDateTime;

/// The time the Slack calls made while answering may take, from the request's arrival.
const BUDGET: Duration = Duration::from_millis(2_500);

/// `POST /slack/interactions`.
pub async fn interactions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let arrived = Instant::now();
    let slack = &state.slack;
    let unconfigured =
        || AppError::Unavailable("Slack interactivity is not configured (SLACK_SIGNING_SECRET)".into());
    let source = slack.signing_secret.as_ref().ok_or_else(unconfigured)?;
    let secret = source
        .value()
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "the Slack signing secret could not be read");
            AppError::Unavailable("the Slack signing secret could not be read".into())
        })?
        .ok_or_else(unconfigured)?;
    let now = state.clock.now();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let signature = header("x-slack-signature");
    interactive::verify(&secret, header("x-slack-request-timestamp"), signature, &body, now).map_err(
        |e| {
            tracing::warn!(refusal = %e, "a Slack interaction refused");
            AppError::Unauthorized
        },
    )?;
    // A signature is unique to its timestamp and body: seen again within the window, it is
    // the same request sent twice.
    let first = slack
        .nonces
        .first_time(signature.unwrap_or_default(), now, interactive::WINDOW * 2)
        .await
        .map_err(AppError::from)?;
    if !first {
        tracing::warn!(refusal = %interactive::Refusal::Replayed, "a Slack interaction refused");
        return Err(AppError::Unauthorized);
    }
    let payload: Value = interactive::payload(&body).ok_or_else(|| {
        AppError::bad_param("payload", "expected Slack's form field payload, a JSON object")
    })?;
    let deadline = arrived + BUDGET;
    match interactive::interaction(&payload) {
        // Anything else is acknowledged and left alone.
        None => Ok(StatusCode::OK.into_response()),
        Some(Interaction::Press(press)) => {
            pressed(&state, &payload, &press, now, deadline).await;
            Ok(StatusCode::OK.into_response())
        }
        Some(Interaction::Submit(submission)) => Ok(submitted(&state, &submission, now, deadline).await),
    }
}

/// Runs `call` within what is left of the budget; `None` (logged as `what`) when it is up.
async fn within<T>(deadline: Instant, what: &str, call: impl Future<Output = T>) -> Option<T> {
    let left = deadline.saturating_duration_since(Instant::now());
    let answer = tokio::time::timeout(left, call).await.ok();
    if answer.is_none() {
        tracing::warn!(what, "Slack's 3 seconds ran out: not done");
    }
    answer
}

/// A button pressed or an option chosen.
async fn pressed(state: &AppState, payload: &Value, press: &Press, now: OffsetDateTime, deadline: Instant) {
    let told = match may_act(state, &press.user, deadline).await {
        Err(refusal) => Err(refusal),
        Ok(()) => match press.action_id.as_str() {
            "except" | "assign" => open_modal(state, press, deadline).await,
            _ => match pressed_action(press, now) {
                Ok(action) => {
                    act(state, &press.origin.finding, &action, actor(&press.user, &press.user_name), now)
                        .await
                        .map(|entry| Some(done(&entry)))
                }
                Err(refusal) => Err(refusal),
            },
        },
    };
    // What was done shows in the message; the presser hears either way; side by side.
    let updated = async {
        if let Ok(Some(text)) = &told {
            let message = &payload["message"];
            let blocks = settle(state, &message["blocks"], &press.origin.finding, text, now, deadline).await;
            let fallback = message["text"].as_str().unwrap_or(text);
            update(state, &press.origin, &blocks, fallback, deadline).await;
        }
    };
    let answered = async {
        let text = match &told {
            Ok(Some(text)) | Err(text) => text.as_str(),
            // A modal opened: it speaks for itself.
            Ok(None) => return,
        };
        if let Some(url) = &press.response_url {
            let extra = state.slack.api_url.as_deref();
            within(deadline, "response_url", interactive::tell(url, text, extra)).await;
        }
    };
    tokio::join!(updated, answered);
}

/// What a button or select asks, when it needs no more input.
fn pressed_action(press: &Press, now: OffsetDateTime) -> Result<Action, String> {
    match press.action_id.as_str() {
        "ack" => Ok(Action::Ack),
        "reopen" => Ok(Action::Reopen),
        // Clearing the select sends no option: nothing to do.
        "snooze" => match press.option.as_deref() {
            Some(option) => Action::snooze_for(option, now).map_err(|e| e.to_string()),
            None => Err("Pick 1 day, 7 days or 30 days to snooze.".into()),
        },
        other => Err(format!("Unknown action {other:?}.")),
    }
}

/// Opens the Except… or Assign… modal for the finding pressed; `Ok(None)` once open.
async fn open_modal(state: &AppState, press: &Press, deadline: Instant) -> Result<Option<String>, String> {
    let (Some(api), Some(trigger)) = (&state.slack.api, &press.trigger_id) else {
        return Err(format!(
            "{} needs a reason or a name: open the finding in Polo to do it.",
            press.action_id
        ));
    };
    // From the message pressed, not the store: views.open must come within the trigger's
    // 3 seconds.
    let summary =
        press.message_line.clone().unwrap_or_else(|| polo_slack::blocks::escape(&press.origin.finding));
    let view = if press.action_id == "except" {
        interactive::except_view(&press.origin, &summary)
    } else {
        interactive::assign_view(&press.origin, &summary)
    };
    match within(deadline, "views.open", api.open_view(trigger, &view)).await {
        Some(Ok(())) => Ok(None),
        Some(Err(e)) => {
            tracing::warn!(error = %e, "the Slack modal did not open");
            Err(format!("Slack did not open the {} form ({e}); open the finding in Polo.", press.action_id))
        }
        None => Err("Slack took too long; try again, or open the finding in Polo.".into()),
    }
}

/// A modal submitted: the answer keeps it open with the problem under its field, or closes
/// it once done.
async fn submitted(
    state: &AppState,
    submission: &Submission,
    now: OffsetDateTime,
    deadline: Instant,
) -> Response {
    let field = if submission.action_id == "assign" { "to" } else { "reason" };
    let refuse = |problem: &str| Json(interactive::modal_error(field, problem)).into_response();
    if let Err(refusal) = may_act(state, &submission.user, deadline).await {
        return refuse(&refusal);
    }
    let action = match submission.action_id.as_str() {
        "except" => {
            let Ok(until) = submission.until.as_deref().map(polo_core::text::parse_date).transpose() else {
                return Json(interactive::modal_error("until", "expected a date")).into_response();
            };
            Action::Except { reason: submission.reason.clone().unwrap_or_default(), until }
        }
        "assign" => {
            let Some(user) = &submission.assignee else { return refuse("pick someone") };
            let name = match &state.slack.api {
                Some(api) => match within(deadline, "users.info", api.name_of(user)).await {
                    Some(Ok(name)) => name,
                    _ => user.clone(),
                },
                None => user.clone(),
            };
            Action::Assign { to: name }
        }
        other => return refuse(&format!("Unknown form {other:?}.")),
    };
    match act(state, &submission.origin.finding, &action, actor(&submission.user, &submission.user_name), now)
        .await
    {
        Ok(entry) => {
            update_origin(state, &submission.origin, &done(&entry), now, deadline).await;
            StatusCode::OK.into_response()
        }
        Err(problem) if problem.starts_with("until") => {
            Json(interactive::modal_error("until", &problem)).into_response()
        }
        Err(problem) => refuse(&problem),
    }
}

/// Whether the Slack user `user` may act: listed in `[slack] operators` by id, or by the
/// e-mail address Slack shows for them (`users.info`, which needs the bot token).
async fn may_act(state: &AppState, user: &str, deadline: Instant) -> Result<(), String> {
    let operators = &state.config.slack.operators;
    if operators.iter().any(|o| o == user) {
        return Ok(());
    }
    let not_listed =
        || format!("Only operators may act on findings from Slack; {user} is not in [slack] operators.");
    let by_email: Vec<&String> = operators.iter().filter(|o| o.contains('@')).collect();
    let Some(api) = state.slack.api.as_ref().filter(|_| !by_email.is_empty()) else {
        return Err(not_listed());
    };
    match within(deadline, "users.info", api.email_of(user)).await {
        Some(Ok(Some(email))) if by_email.iter().any(|o| o.eq_ignore_ascii_case(&email)) => Ok(()),
        Some(Ok(Some(_))) => Err(not_listed()),
        Some(Ok(None)) => {
            // Slack leaves the address out unless the app has the users:read.email scope.
            tracing::warn!(
                user,
                "Slack showed no e-mail address: operators listed by e-mail need the users:read.email scope"
            );
            Err(not_listed())
        }
        Some(Err(e)) => {
            tracing::warn!(error = %e, "users.info failed: operators by e-mail cannot be matched");
            Err(format!(
                "Slack did not say who you are ({e}), so operators listed by e-mail cannot be matched."
            ))
        }
        None => Err("Slack took too long to say who you are; try again.".into()),
    }
}

/// Who acted, as the audit log names them: `name (U…)`.
fn actor(user: &str, name: &str) -> Actor {
    let name = if name.is_empty() { user.to_owned() } else { format!("{name} ({user})") };
    Actor { name, via: Via::Slack }
}

/// Does `action` to the stored finding `id`; the person's words when refused.
async fn act(
    state: &AppState,
    id: &str,
    action: &Action,
    actor: Actor,
    now: OffsetDateTime,
) -> Result<AuditEntry, String> {
    let store = state.finding_store.clone().ok_or("Findings are read-only here.")?;
    let (_, entry) =
        act_on(store.as_ref(), state.audit.as_ref(), id, action, &actor, now).await.map_err(|e| match e {
            ActOnError::Action(ActionError::Invalid(m) | ActionError::Refused(m)) => m,
            ActOnError::NotFound(_) | ActOnError::Busy => e.to_string(),
            // The store's own words stay in the log.
            ActOnError::Data(d) => {
                tracing::error!(error = %d, "findings not saved");
                "The finding could not be saved; try again in a minute.".to_owned()
            }
        })?;
    tracing::info!(finding = %entry.finding_id, action = %entry.action, by = %entry.by, "finding acted on from Slack");
    Ok(entry)
}

/// The line that replaces a finding's buttons once acted on.
fn done(entry: &AuditEntry) -> String {
    let detail = if entry.detail.is_empty() { String::new() } else { format!(" ({})", entry.detail) };
    format!(
        "{} {} by {}: {} → {}{detail}.",
        entry.action,
        entry.finding_id,
        entry.by,
        entry.before.as_str(),
        entry.after.as_str()
    )
}

/// The message's `blocks` as the findings stand now: the actions of each finding no longer
/// open become a line saying its state, and the one just acted on says `done`. Built from
/// the store rather than from this request's copy of the message, so two people acting on
/// one message at once do not put back each other's buttons.
async fn settle(
    state: &AppState,
    blocks: &Value,
    acted: &str,
    done: &str,
    now: OffsetDateTime,
    deadline: Instant,
) -> Value {
    let named = interactive::findings_of(blocks);
    let mut lines: HashMap<String, String> = HashMap::new();
    if let Some(store) = &state.finding_store
        && let Some(Ok(open)) = within(deadline, "findings", store.matching(Which::Open)).await
    {
        for id in named.iter().filter(|id| id.as_str() != acted) {
            match open.iter().find(|f| &f.id == id) {
                Some(f) => {
                    if let Some(line) = standing(f, now) {
                        lines.insert(id.clone(), line);
                    }
                }
                None => {
                    lines.insert(id.clone(), format!("{id}: resolved."));
                }
            }
        }
    }
    lines.insert(acted.to_owned(), done.to_owned());
    interactive::settled(blocks, &lines)
}

/// How a finding that is no longer plainly open stands; `None` while it is.
fn standing(f: &polo_core::model::Finding, now: OffsetDateTime) -> Option<String> {
    let h = &f.handling;
    match f.state(now) {
        FindingState::Open => None,
        FindingState::Acknowledged => {
            Some(format!("{}: acknowledged by {}.", f.id, h.acknowledged_by.as_deref().unwrap_or("someone")))
        }
        FindingState::Snoozed => Some(format!(
            "{}: snoozed until {}.",
            f.id,
            h.snoozed_until.map(polo_core::text::rfc3339).unwrap_or_default()
        )),
        FindingState::Excepted => {
            let e = h.exception.as_ref();
            Some(format!(
                "{}: excepted by {}: {}.",
                f.id,
                e.map_or("someone", |e| e.by.as_str()),
                e.map_or("", |e| e.reason.as_str())
            ))
        }
        FindingState::Resolved => Some(format!("{}: resolved.", f.id)),
    }
}

/// Replaces the message `origin` names with `blocks` (`chat.update`), with the bot token.
async fn update(state: &AppState, origin: &Origin, blocks: &Value, text: &str, deadline: Instant) {
    let (Some(api), Some(channel), Some(ts)) = (&state.slack.api, &origin.channel, &origin.ts) else {
        return;
    };
    if let Some(Err(e)) = within(deadline, "chat.update", api.update(channel, ts, text, blocks)).await {
        tracing::warn!(error = %e, "the Slack message was not updated");
    }
}

/// The least time left for reading a message back after a modal: less, and the modal is
/// answered without updating the message (Slack would show the person an error, and they
/// might submit again).
const READ_BACK_NEEDS: Duration = Duration::from_secs(1);

/// After a modal, which does not carry the message: reads it back, then updates it.
async fn update_origin(
    state: &AppState,
    origin: &Origin,
    text: &str,
    now: OffsetDateTime,
    deadline: Instant,
) {
    let (Some(api), Some(channel), Some(ts)) = (&state.slack.api, &origin.channel, &origin.ts) else {
        return;
    };
    if deadline.saturating_duration_since(Instant::now()) < READ_BACK_NEEDS {
        tracing::warn!("Slack's 3 seconds are nearly up: the message is not updated");
        return;
    }
    let message = match within(deadline, "conversations.history", api.message(channel, ts)).await {
        Some(Ok(Some(message))) => message,
        Some(Err(e)) => {
            tracing::warn!(error = %e, "the Slack message could not be read back");
            return;
        }
        Some(Ok(None)) | None => return,
    };
    let blocks = settle(state, &message["blocks"], &origin.finding, text, now, deadline).await;
    let fallback = message["text"].as_str().unwrap_or(text);
    update(state, origin, &blocks, fallback, deadline).await;
}
