use std::sync::Arc;

use polo_tests::fake_slack::FakeSlack;
use serde_json::json;

use super::*;

fn alarm_json(state: &str) -> String {
    json!({
        "AlarmName": "prod-polo-sync-failures",
        "AlarmDescription": "A sync run failed: the snapshot was not written.",
        "AWSAccountId": "111111111111",
        "AlarmConfigurationUpdatedTimestamp": "2026-11-20T10:00:00.000+0000",
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed: 1 datapoint [1.0 (26/11/26 03:00:00)] was greater than or equal to the threshold (1.0).",
        "StateChangeTime": "2026-11-26T03:15:00.000+0000",
        "Region": "US East (N. Virginia)",
        "AlarmArn": "arn:aws:cloudwatch:us-east-1:111111111111:alarm:prod-polo-sync-failures",
        "OldStateValue": "OK",
        "Trigger": { "MetricName": "run_failures", "Namespace": "Polo/prod", "Statistic": "SUM" }
    })
    .to_string()
}

fn sns_event(messages: &[(&str, String)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(subject, message)| {
            json!({
                "EventSource": "aws:sns", "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:us-east-1:111111111111:prod-polo-alarms:1",
                "Sns": {
                    "Type": "Notification", "MessageId": "m-1",
                    "TopicArn": "arn:aws:sns:us-east-1:111111111111:prod-polo-alarms",
                    "Subject": subject, "Message": message, "Timestamp": "2026-11-26T03:15:01.000Z"
                }
            })
        })
        .collect();
    json!({ "Records": records })
}

#[test]
fn an_alarm_says_its_state_name_reason_and_links_to_itself() {
    let alarm: AlarmNotification = serde_json::from_str(&alarm_json("ALARM")).unwrap();
    let message = alarm_message(&alarm);
    assert_eq!(message.text, "ALARM: prod-polo-sync-failures");
    let text = serde_json::to_string(&message.blocks).unwrap();
    assert!(text.contains(":rotating_light: ALARM: prod-polo-sync-failures"), "{text}");
    assert!(text.contains("the snapshot was not written"), "{text}");
    assert!(text.contains("Threshold Crossed"), "{text}");
    assert!(text.contains("OK → ALARM"), "{text}");
    assert!(
        text.contains("https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/prod-polo-sync-failures"),
        "{text}"
    );
    let ok: AlarmNotification = serde_json::from_str(&alarm_json("OK")).unwrap();
    assert!(alarm_message(&ok).text.starts_with("OK: "));
}

#[test]
fn a_notification_that_is_not_an_alarm_is_forwarded_as_it_came() {
    let messages = messages(&sns_event(&[("Hello", "<b>plain</b> text".to_owned())])).unwrap();
    assert_eq!(messages[0].text, "Hello");
    assert!(serde_json::to_string(&messages[0].blocks).unwrap().contains("&lt;b&gt;plain"));
}

#[test]
fn an_event_that_is_not_sns_is_an_error() {
    assert!(
        messages(&json!({"detail-type": "Scheduled Event"})).unwrap_err().contains("not an SNS delivery")
    );
    assert!(messages(&json!({"Records": [{}]})).unwrap_err().contains("Records[0]: no Sns"));
}

async fn fake_slack(script: &[(u16, Option<&'static str>)]) -> (Arc<FakeSlack>, State) {
    let (slack, url) = FakeSlack::start(script).await;
    (slack, State { slack: polo_slack::Delivery::new(Some(&url), "").unwrap() })
}

#[tokio::test]
async fn every_alarm_of_a_delivery_reaches_slack_after_a_429() {
    let (slack, state) = fake_slack(&[(429, Some("1"))]).await;
    let event = sns_event(&[("ALARM", alarm_json("ALARM")), ("OK", alarm_json("OK"))]);
    let done = handle(&state, &event, Duration::from_secs(30)).await.unwrap();
    assert_eq!(done, Forwarded { sent: 2, refused: Vec::new() });
    let received = slack.received();
    assert_eq!(received.len(), 3, "the first one twice");
    assert_eq!(received[0]["text"], "ALARM: prod-polo-sync-failures");
    assert_eq!(received[1]["text"], "ALARM: prod-polo-sync-failures");
    assert_eq!(received[2]["text"], "OK: prod-polo-sync-failures");
}

#[tokio::test]
async fn a_message_refused_for_good_is_reported_not_retried_and_the_rest_still_go() {
    // A retried invocation would fail the same way, and its own error alarm with it.
    let (slack, state) = fake_slack(&[(400, None)]).await;
    let event = sns_event(&[("ALARM", alarm_json("ALARM")), ("OK", alarm_json("OK"))]);
    let done = handle(&state, &event, Duration::from_secs(30)).await.unwrap();
    assert_eq!(done.sent, 1);
    assert_eq!(done.refused.len(), 1);
    assert!(
        done.refused[0].starts_with("ALARM: prod-polo-sync-failures: Slack refused the message (400)"),
        "{:?}",
        done.refused
    );
    assert_eq!(slack.received().len(), 2, "each message once");
}

#[tokio::test]
async fn slack_failing_beyond_the_budget_fails_the_invocation() {
    let (slack, state) = fake_slack(&[(503, None), (503, None), (503, None)]).await;
    let err = handle(&state, &sns_event(&[("ALARM", alarm_json("ALARM"))]), Duration::from_secs(30))
        .await
        .unwrap_err();
    assert!(err.contains("Slack answered 503") && err.contains("0 of 1 sent"), "{err}");
    assert_eq!(slack.received().len(), 3, "three attempts");
}
