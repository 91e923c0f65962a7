//! The alarm forwarder: each CloudWatch alarm notification SNS delivers becomes one Slack
//! message (state, alarm, why, when, a link to the alarm). A notification that is not an
//! alarm's is forwarded as its subject and text, never dropped. While Slack is failing (429,
//! 5xx, no answer) the invocation fails, so Lambda's retries of SNS's asynchronous delivery
//! try again; a message Slack refuses for good (a revoked webhook, a 400) is logged at error
//! level and not retried: failing on it would raise the forwarder's own error alarm, whose
//! notification would fail the same way, round and round.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use polo_slack::blocks::{self, Message};
use polo_slack::webhook::Failure;
use polo_slack::{Delivery, SlackWebhook};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where the alarms go: the webhook whose URL the ops secret holds, read again after its
/// cache time.
pub struct State {
    pub slack: Delivery,
}

/// A CloudWatch alarm's SNS notification (the fields Polo shows).
#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmNotification {
    pub alarm_name: String,
    #[serde(default)]
    pub alarm_description: Option<String>,
    pub new_state_value: String,
    #[serde(default)]
    pub old_state_value: Option<String>,
    #[serde(default)]
    pub new_state_reason: String,
    #[serde(default)]
    pub state_change_time: String,
    /// The region's name as CloudWatch writes it ("US East (N. Virginia)").
    #[serde(default)]
    pub region: String,
    /// The alarm's ARN (`arn:aws:cloudwatch:{region}:{account}:alarm:{name}`).
    #[serde(default, rename = "AlarmArn")]
    pub alarm_arn: Option<String>,
}

impl AlarmNotification {
    /// The region code from the alarm's ARN.
    pub fn region_code(&self) -> Option<&str> {
        self.alarm_arn.as_deref()?.split(':').nth(3).filter(|r| !r.is_empty())
    }
}

/// What a delivery did.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Forwarded {
    pub sent: usize,
    /// Messages Slack refused for good, with why (logged at error level).
    pub refused: Vec<String>,
}

/// The Slack message of one alarm notification.
pub fn alarm_message(alarm: &AlarmNotification) -> Message {
    let (icon, verb) = match alarm.new_state_value.as_str() {
        "ALARM" => (":rotating_light:", "ALARM"),
        "OK" => (":white_check_mark:", "OK"),
        _ => (":grey_question:", "INSUFFICIENT DATA"),
    };
    let title = blocks::clip(&format!("{verb}: {}", alarm.alarm_name), blocks::MAX_HEADER);
    let mut out = vec![blocks::header(&format!("{icon} {title}"))];
    if let Some(description) = alarm.alarm_description.as_deref().filter(|d| !d.is_empty()) {
        out.push(blocks::text_section(description));
    }
    if !alarm.new_state_reason.is_empty() {
        out.push(blocks::text_section(&alarm.new_state_reason));
    }
    let mut facts = vec![
        (
            "State".to_owned(),
            format!("{} → {}", alarm.old_state_value.as_deref().unwrap_or("?"), alarm.new_state_value),
        ),
        ("Since".to_owned(), alarm.state_change_time.clone()),
    ];
    if !alarm.region.is_empty() {
        facts.push(("Region".to_owned(), alarm.region.clone()));
    }
    out.push(blocks::fields(&facts));
    if let Some(region) = alarm.region_code() {
        let url = format!(
            "https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#alarmsV2:alarm/{}",
            encode_component(&alarm.alarm_name)
        );
        out.push(blocks::context(&blocks::link(&url, "Open the alarm in CloudWatch")));
    }
    Message { text: title, blocks: out }
}

/// A notification that is not an alarm's: its subject and text, as they came.
pub fn plain_message(subject: &str, text: &str) -> Message {
    let title = if subject.is_empty() { "Polo notification" } else { subject };
    Message {
        text: blocks::clip(title, blocks::MAX_HEADER),
        blocks: vec![
            blocks::header(&blocks::clip(title, blocks::MAX_HEADER)),
            blocks::text_section(&blocks::clip(text, blocks::MAX_SECTION)),
        ],
    }
}

/// `text` percent-encoded for a URL fragment's path segment.
fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The messages of an SNS event: one per record. An event that is not SNS's is an error.
pub fn messages(event: &Value) -> Result<Vec<Message>, String> {
    let records = event
        .get("Records")
        .and_then(Value::as_array)
        .ok_or("the event is not an SNS delivery (no Records)")?;
    records
        .iter()
        .enumerate()
        .map(|(i, record)| {
            let sns = record.get("Sns").ok_or_else(|| format!("Records[{i}]: no Sns"))?;
            let text = sns.get("Message").and_then(Value::as_str).unwrap_or_default();
            let subject = sns.get("Subject").and_then(Value::as_str).unwrap_or_default();
            Ok(match serde_json::from_str::<AlarmNotification>(text) {
                Ok(alarm) => alarm_message(&alarm),
                Err(_) => plain_message(subject, text),
            })
        })
        .collect()
}

/// Retries of one message when Slack is busy or failing, within the budget.
const ATTEMPTS: u32 = 3;

/// Sends each message of the event; a 429, 5xx or unanswered post is tried again (after
/// `Retry-After`, or a growing pause) while `budget` lasts, then fails the invocation. A
/// message refused for good is logged and counted, and the rest are still sent.
pub async fn handle(state: &State, event: &Value, budget: Duration) -> Result<Forwarded, String> {
    let started = Instant::now();
    let messages = messages(event)?;
    // Without a webhook (the secret not set yet, said at error level by `webhook`) the alarms
    // still reach the topic's other subscribers; failing would only retry into the same gap.
    let Some(slack) = state.slack.webhook().await.map_err(|e| e.to_string())? else {
        let refused = messages.iter().map(|m| format!("{}: no Slack webhook is set", m.text)).collect();
        return Ok(Forwarded { sent: 0, refused });
    };
    let (mut sent, mut refused) = (0, Vec::new());
    for message in &messages {
        match deliver(&slack, message, started, budget).await {
            Ok(None) => sent += 1,
            Ok(Some(failure)) => {
                tracing::error!(error = %failure, alarm = %message.text, "Slack refused the alarm for good; not retried");
                refused.push(format!("{}: {failure}", message.text));
            }
            Err(failure) => return Err(format!("{failure} ({sent} of {} sent)", messages.len())),
        }
    }
    tracing::info!(sent, refused = refused.len(), "alarms forwarded");
    Ok(Forwarded { sent, refused })
}

/// Posts one message: `Ok(None)` when Slack took it, `Ok(Some(why))` when Slack refuses it
/// for good, `Err` when Slack kept failing until the attempts or the budget ran out.
async fn deliver(
    slack: &SlackWebhook,
    message: &Message,
    started: Instant,
    budget: Duration,
) -> Result<Option<Failure>, String> {
    let mut attempt = 1;
    loop {
        let failure = match slack.post(message).await {
            Ok(()) => return Ok(None),
            Err(failure @ (Failure::Refused { .. } | Failure::Unusable { .. })) => return Ok(Some(failure)),
            Err(failure) => failure,
        };
        if attempt >= ATTEMPTS {
            return Err(failure.to_string());
        }
        let wait = match failure {
            Failure::RateLimited(wait) => wait,
            _ => Duration::from_millis(200 * 2_u64.pow(attempt)),
        };
        if started.elapsed() + wait > budget {
            return Err(format!("{failure}; no time left to try again"));
        }
        tracing::warn!(error = %failure, attempt, "Slack did not take the alarm; trying again");
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

#[cfg(test)]
mod tests;
