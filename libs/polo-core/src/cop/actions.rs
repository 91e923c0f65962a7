//! What people do about a finding (issue 31): acknowledge, snooze, except, assign, reopen.
//! Each action is checked, changes the finding's handling, and gives the audit entry that
//! records it (who, through what, what, when, before and after). The stores and the routes
//! that call this come after; the rules of it are here.

use serde::Serialize;
use time::{Date, Duration, OffsetDateTime};

use crate::model::{Exception, Finding, FindingState};

/// The longest a snooze may run.
pub const MAX_SNOOZE: Duration = Duration::days(90);

/// The longest a reason or an assignee may be.
pub const MAX_TEXT: usize = 500;

/// One action on a finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Known: still told, less often.
    Ack,
    /// Silent until `until`; it reopens by itself after.
    Snooze { until: OffsetDateTime },
    /// Accepted for `reason` through `until` (none: for good): silent, listed apart.
    Except { reason: String, until: Option<Date> },
    /// `to` is on it.
    Assign { to: String },
    /// Back to open: acknowledgement, snooze and exception taken away.
    Reopen,
}

impl Action {
    /// Its name in routes, Slack's `action_id` and the audit log.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Ack => "ack",
            Action::Snooze { .. } => "snooze",
            Action::Except { .. } => "except",
            Action::Assign { .. } => "assign",
            Action::Reopen => "reopen",
        }
    }

    /// A snooze for `1d`, `7d` or `30d` from `now`.
    pub fn snooze_for(text: &str, now: OffsetDateTime) -> Result<Action, ActionError> {
        let days = match text {
            "1d" => 1,
            "7d" => 7,
            "30d" => 30,
            other => return Err(ActionError::Invalid(format!("for={other:?}: expected 1d, 7d or 30d"))),
        };
        Ok(Action::Snooze { until: now + Duration::days(days) })
    }
}

/// Through what an action came.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    Web,
    Slack,
}

/// Who acts, and through what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// An e-mail address or a Slack user, as the sign-in or Slack names them.
    pub name: String,
    pub via: Via,
}

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AuditEntry {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub by: String,
    pub via: Via,
    pub action: String,
    pub finding_id: String,
    pub before: FindingState,
    pub after: FindingState,
    /// What changed beyond the state: the snooze's end, the reason, the assignee.
    pub detail: String,
}

/// Why an action was refused: nothing changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// The action does not fit the finding (resolved, already so, from `polo.toml`).
    #[error("{0}")]
    Refused(String),
    /// A parameter is wrong.
    #[error("{0}")]
    Invalid(String),
}

fn text(field: &str, value: &str) -> Result<String, ActionError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ActionError::Invalid(format!("{field}: expected some text")));
    }
    if value.chars().count() > MAX_TEXT || value.chars().any(char::is_control) {
        return Err(ActionError::Invalid(format!(
            "{field}: expected one line of at most {MAX_TEXT} characters"
        )));
    }
    Ok(value.to_owned())
}

/// Does `action` to `finding` for `actor` at `now`, and gives its audit entry; refused, the
/// finding is as it was.
pub fn act(
    finding: &mut Finding,
    action: &Action,
    actor: &Actor,
    now: OffsetDateTime,
) -> Result<AuditEntry, ActionError> {
    let before = finding.state(now);
    if before == FindingState::Resolved {
        return Err(ActionError::Refused(format!("{} is resolved: nothing to act on", finding.id)));
    }
    let by = text("by", &actor.name)?;
    let mut h = finding.handling.clone();
    let detail = match action {
        Action::Ack => {
            if h.acknowledged_by.is_some() {
                return Err(ActionError::Refused(format!("{} is already acknowledged", finding.id)));
            }
            h.acknowledged_by = Some(by.clone());
            h.acknowledged_at = Some(now);
            String::new()
        }
        Action::Snooze { until } => {
            if *until <= now || *until - now > MAX_SNOOZE {
                return Err(ActionError::Invalid(
                    "until: expected an instant after now, at most 90 days ahead".into(),
                ));
            }
            h.snoozed_until = Some(*until);
            format!("until {}", crate::text::rfc3339(*until))
        }
        Action::Except { reason, until } => {
            if until.is_some_and(|d| d < now.date()) {
                return Err(ActionError::Invalid("until: expected today or a later day".into()));
            }
            let reason = text("reason", reason)?;
            // The same exception again (a form sent twice) is no second action.
            if h.exception.as_ref().is_some_and(|e| e.reason == reason && e.until == *until) {
                return Err(ActionError::Refused(format!("{} is already excepted so", finding.id)));
            }
            let detail = match until {
                Some(d) => format!("{reason} (until {d})"),
                None => format!("{reason} (for good)"),
            };
            h.exception = Some(Exception { reason, until: *until, by: by.clone() });
            detail
        }
        Action::Assign { to } => {
            let to = text("to", to)?;
            if h.assignee.as_ref() == Some(&to) {
                return Err(ActionError::Refused(format!("{} is already assigned to {to}", finding.id)));
            }
            h.assignee = Some(to.clone());
            format!("to {to}")
        }
        Action::Reopen => {
            if h.exception.as_ref().is_some_and(|e| e.by == crate::config::CONFIG_EXCEPTION_BY) {
                return Err(ActionError::Refused(format!(
                    "{} is excepted by polo.toml: change [[cop.exceptions]] there",
                    finding.id
                )));
            }
            if before == FindingState::Open {
                return Err(ActionError::Refused(format!("{} is already open", finding.id)));
            }
            h.acknowledged_by = None;
            h.acknowledged_at = None;
            h.snoozed_until = None;
            h.exception = None;
            String::new()
        }
    };
    finding.handling = h;
    Ok(AuditEntry {
        at: now,
        by,
        via: actor.via,
        action: action.name().to_owned(),
        finding_id: finding.id.clone(),
        before,
        after: finding.state(now),
        detail,
    })
}

#[cfg(test)]
mod tests;

/// Why an action on a stored finding did not happen: nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum ActOnError {
    /// A Cop run is saving findings: try again in a moment.
    #[error("a Cop run is saving findings: try again in a minute")]
    Busy,
    #[error("no finding {0:?}")]
    NotFound(String),
    #[error(transparent)]
    Action(#[from] ActionError),
    #[error(transparent)]
    Data(#[from] crate::ports::DataError),
}

/// How long an action may hold the findings' lease.
pub const ACTION_LEASE: std::time::Duration = std::time::Duration::from_secs(30);

/// Does `action` to the stored finding `id` for `actor` at `now`: under the lease a Cop run
/// holds (so neither overwrites the other's change), the action's audit entry written first
/// (an action recorded and then not saved is told as failed; one saved and not recorded
/// cannot happen), then the findings.
pub async fn act_on(
    store: &dyn crate::ports::FindingStore,
    audit: &dyn crate::ports::AuditStore,
    id: &str,
    action: &Action,
    actor: &Actor,
    now: OffsetDateTime,
) -> Result<(Finding, AuditEntry), ActOnError> {
    let holder = format!("action:{}", actor.name);
    if !store.acquire(&holder, now, ACTION_LEASE).await? {
        return Err(ActOnError::Busy);
    }
    let done = async {
        let mut findings = store.all().await?;
        let finding =
            findings.iter_mut().find(|f| f.id == id).ok_or_else(|| ActOnError::NotFound(id.to_owned()))?;
        let entry = act(finding, action, actor, now)?;
        let changed = finding.clone();
        audit.append(&entry).await?;
        store.save(&findings).await?;
        Ok((changed, entry))
    }
    .await;
    if let Err(e) = store.release(&holder, now).await {
        tracing::warn!(error = %e, "the findings' lease was not given back; it expires by itself");
    }
    done
}
