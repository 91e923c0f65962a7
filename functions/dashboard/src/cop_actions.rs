//! `POST /cop/{id}/{action}`: an operator acts on a finding (`ack`, `snooze` with
//! `for=1d|7d|30d` or `until=YYYY-MM-DD`, `except` with `reason` and an optional `until`,
//! `assign` with `to`, `reopen`), through a form carrying the CSRF token. The finding is
//! saved and the action lands in the audit log; a refused action changes nothing. Without
//! JavaScript the answer is a redirect back to `/cop`; htmx reloads the page; JSON gets the
//! finding as it now stands.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use polo_core::cop::{ActOnError, Action, ActionError, Actor, Via, act_on};
use polo_web::request::Format;
use polo_web::{AppError, AppState, CurrentUser};
use serde::Deserialize;

/// What an action's form may carry.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionForm {
    csrf: Option<String>,
    #[serde(rename = "for")]
    for_: Option<String>,
    until: Option<String>,
    reason: Option<String>,
    to: Option<String>,
}

fn day(text: &str) -> Result<time::Date, AppError> {
    polo_core::text::parse_date(text).map_err(|_| AppError::bad_param("until", "expected a date, YYYY-MM-DD"))
}

/// The action `name` with `form`'s parameters at `now`.
fn action(name: &str, form: &ActionForm, now: time::OffsetDateTime) -> Result<Action, AppError> {
    let invalid = |e: ActionError| AppError::bad_param("for", e.to_string());
    Ok(match name {
        "ack" => Action::Ack,
        "reopen" => Action::Reopen,
        "snooze" => match (&form.for_, &form.until) {
            (Some(span), None) => Action::snooze_for(span, now).map_err(invalid)?,
            (None, Some(until)) => Action::Snooze { until: day(until)?.midnight().assume_utc() },
            _ => return Err(AppError::bad_param("for", "expected for=1d|7d|30d or until=YYYY-MM-DD")),
        },
        "except" => Action::Except {
            reason: form.reason.clone().unwrap_or_default(),
            until: form.until.as_deref().filter(|u| !u.is_empty()).map(day).transpose()?,
        },
        "assign" => Action::Assign { to: form.to.clone().unwrap_or_default() },
        other => {
            return Err(AppError::NotFound(format!(
                "no action {other:?}: ack, snooze, except, assign or reopen"
            )));
        }
    })
}

/// `POST /cop/{id}/{action}`.
pub async fn act(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, name)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<ActionForm>,
) -> Result<Response, AppError> {
    user.may_act(&state, form.csrf.as_deref())?;
    let store = state
        .finding_store
        .clone()
        .ok_or_else(|| AppError::Unavailable("findings are read-only here".into()))?;
    let now = state.clock.now();
    let action = action(&name, &form, now)?;
    let actor = Actor { name: user.name.clone(), via: Via::Web };
    let (changed, entry) = act_on(store.as_ref(), state.audit.as_ref(), &id, &action, &actor, now)
        .await
        .map_err(|e| match e {
            ActOnError::Action(ActionError::Invalid(m)) => AppError::bad_param(action_param(&action), m),
            ActOnError::Action(ActionError::Refused(m)) => AppError::Conflict(m),
            ActOnError::NotFound(_) => AppError::NotFound(e.to_string()),
            ActOnError::Busy => AppError::Conflict(e.to_string()),
            ActOnError::Data(d) => AppError::Data(d),
        })?;
    tracing::info!(finding = %id, action = %entry.action, by = %entry.by, "finding acted on");
    if Format::from_accept(&headers) == Some(Format::Json) {
        let body = serde_json::json!({ "finding": changed, "state": changed.state(now), "audit": entry });
        return Ok((StatusCode::OK, axum::Json(body)).into_response());
    }
    if headers.get("hx-request").is_some_and(|v| v.as_bytes() == b"true") {
        let mut response = StatusCode::NO_CONTENT.into_response();
        response.headers_mut().insert("hx-refresh", HeaderValue::from_static("true"));
        return Ok(response);
    }
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(header::LOCATION, HeaderValue::from_static("/cop"));
    Ok(response)
}

/// The parameter a refused value of `action` came in.
fn action_param(action: &Action) -> &'static str {
    match action {
        Action::Snooze { .. } => "until",
        Action::Except { .. } => "reason",
        Action::Assign { .. } => "to",
        Action::Ack | Action::Reopen => "action",
    }
}
