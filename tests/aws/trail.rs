//! Who made a change, from CloudTrail: `LookupEvents` through an assumed fleet role. Moto
//! has no `LookupEvents`, so a small server answers as CloudTrail documents it (JSON 1.1,
//! epoch-second times, `CloudTrailEvent` as JSON text, `NextToken` pages,
//! `ThrottlingException` and `AccessDeniedException` as 400s); STS is the emulator's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::{Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use polo_sync_engine::usage::{PACE, Wanted, look_up};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::harness::{base_config, emulator, fresh_account_id, in_account};

const NOW: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

/// What the fake saw: per instance, the access key of each request.
#[derive(Default)]
struct Seen {
    requests: HashMap<String, Vec<String>>,
}

type Shared = Arc<Mutex<Seen>>;

fn record(user: &str, kind: &str, name: &str) -> String {
    let parameters = match name {
        // A resize sets the type; other attribute changes (security groups, user data) do not.
        "ModifyInstanceAttribute" if user == "carol" => {
            json!({"instanceId": "i-paged", "instanceType": {"value": "r6i.xlarge"}})
        }
        "ModifyInstanceAttribute" => {
            json!({"instanceId": "i-paged", "groupSet": {"items": [{"groupId": "sg-1"}]}})
        }
        _ => json!({}),
    };
    json!({
        "eventName": name,
        "requestParameters": parameters,
        "userIdentity": match kind {
            "role" => json!({"type": "AssumedRole", "arn": format!("arn:aws:sts::1:assumed-role/{user}/{user}"),
                "sessionContext": {"sessionIssuer": {"type": "Role", "userName": user}}}),
            _ => json!({"type": "IAMUser", "userName": user}),
        }
    })
    .to_string()
}

fn event(id: &str, name: &str, at: OffsetDateTime, cloudtrail_event: &str) -> Value {
    json!({
        "EventId": format!("{id}-{name}"),
        "EventName": name,
        "ReadOnly": "false",
        "EventTime": at.unix_timestamp(),
        "EventSource": "ec2.amazonaws.com",
        "Username": "fallback-name",
        "Resources": [{ "ResourceType": "AWS::EC2::Instance", "ResourceName": id }],
        "CloudTrailEvent": cloudtrail_event,
    })
}

fn error(kind: &str, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [("content-type", "application/x-amz-json-1.1")],
        json!({ "__type": kind, "message": message }).to_string(),
    )
        .into_response()
}

async fn answer(State(seen): State<Shared>, request: Request) -> Response {
    let target =
        request.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let key = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').next())
        .unwrap_or_default()
        .to_owned();
    let body: Bytes = to_bytes(request.into_body(), 1 << 20).await.unwrap_or_default();
    if !target.ends_with("CloudTrail_20131101.LookupEvents") {
        return error("UnknownOperationException", &target);
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let id = body["LookupAttributes"][0]["AttributeValue"].as_str().unwrap_or_default().to_owned();
    assert_eq!(body["LookupAttributes"][0]["AttributeKey"], "ResourceName");
    assert!(body["StartTime"].as_f64().is_some() && body["EndTime"].as_f64().is_some(), "{body}");
    let n = {
        let mut seen = seen.lock().unwrap();
        let list = seen.requests.entry(id.clone()).or_default();
        list.push(key);
        list.len()
    };
    let launched = datetime!(2026-11-17 14:01 UTC);
    let ok = |v: Value| ([("content-type", "application/x-amz-json-1.1")], v.to_string()).into_response();
    match id.as_str() {
        "i-launched" => ok(json!({ "Events": [
            event(&id, "CreateTags", launched, &record("tagger", "role", "CreateTags")),
            event(&id, "RunInstances", launched, &record("deploy-bot", "role", "RunInstances")),
        ]})),
        // Throttled twice, then answered: the SDK's retries with back-off get through.
        "i-throttled" if n <= 2 => error("ThrottlingException", "Rate exceeded"),
        "i-throttled" => ok(
            json!({ "Events": [event(&id, "StopInstances", launched, &record("alice", "user", "StopInstances"))] }),
        ),
        "i-always-throttled" => error("ThrottlingException", "Rate exceeded"),
        // Two pages.
        "i-paged" if body.get("NextToken").is_none() => ok(json!({
            "Events": [event(&id, "StartInstances", launched, &record("bob", "user", "StartInstances"))],
            "NextToken": "page-2",
        })),
        "i-paged" => ok(json!({ "Events": [
            event(&id, "ModifyInstanceAttribute", launched, &record("carol", "user", "ModifyInstanceAttribute")),
            event(&id, "ModifyInstanceAttribute", launched, &record("dave", "user", "ModifyInstanceAttribute")),
        ]})),
        "i-denied" => {
            error("AccessDeniedException", "User is not authorized to perform: cloudtrail:LookupEvents")
        }
        _ => ok(json!({ "Events": [] })),
    }
}

async fn fake_cloudtrail() -> (String, Shared) {
    let seen: Shared = Arc::default();
    let app = axum::Router::new().fallback(answer).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

fn wanted(ids: &[&str]) -> Vec<Wanted> {
    ids.iter()
        .map(|id| Wanted { instance_id: (*id).to_owned(), since: NOW - time::Duration::days(14) })
        .collect()
}

#[tokio::test]
async fn cloudtrail_names_who_made_each_change_through_the_fleet_role_paced_paged_and_retried() {
    let (url, seen) = fake_cloudtrail().await;
    let base = base_config(&emulator()).await;
    let role = in_account(&base, &fresh_account_id(812)).await;
    let trail = role.to_builder().endpoint_url(&url).build();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_mins(2);
    let started = std::time::Instant::now();
    let (found, run) =
        look_up(&trail, &wanted(&["i-launched", "i-throttled", "i-paged"]), NOW, deadline).await;
    let by_id: HashMap<&str, &polo_core::model::Trail> =
        found.iter().map(|(id, t)| (id.as_str(), t)).collect();
    let actors =
        |id: &str| by_id[id].events.iter().map(|e| (e.name.as_str(), e.actor.as_str())).collect::<Vec<_>>();
    assert_eq!(actors("i-launched"), [("RunInstances", "role deploy-bot")], "CreateTags moves no cost");
    assert_eq!(actors("i-throttled"), [("StopInstances", "user alice")]);
    assert_eq!(
        actors("i-paged"),
        [("StartInstances", "user bob"), ("ModifyInstanceAttribute", "user carol")],
        "a security-group change is no resize"
    );
    let delivered = NOW - time::Duration::minutes(15);
    assert!(
        found.iter().all(|(_, t)| t.checked_at == delivered && t.unavailable.is_none()),
        "covers what CloudTrail has delivered"
    );
    assert_eq!((run.asked, run.left), (3, 0));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.requests["i-throttled"].len(), 3, "throttled twice, answered the third time");
    assert_eq!(seen.requests["i-paged"].len(), 2, "both pages");
    // The assumed role's credentials, not the base ones.
    assert!(seen.requests.values().flatten().all(|k| !k.is_empty() && k != "testing"), "{:?}", seen.requests);
    assert!(
        started.elapsed() >= PACE * 4,
        "every request paced, pages too: at most 2 a second per account and region"
    );
}

#[tokio::test]
async fn a_role_without_the_permission_says_so_for_each_instance_and_throttling_waits_for_the_next_run() {
    let (url, _) = fake_cloudtrail().await;
    let base = base_config(&emulator()).await;
    let role = in_account(&base, &fresh_account_id(813)).await;
    let trail = role.to_builder().endpoint_url(&url).build();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_mins(2);
    let (found, run) = look_up(&trail, &wanted(&["i-denied", "i-other"]), NOW, deadline).await;
    assert_eq!(found.len(), 2, "both instances say why nobody is named");
    for (_, t) in &found {
        let why = t.unavailable.as_deref().unwrap();
        assert!(why.contains("cloudtrail:LookupEvents") && why.contains("AccessDenied"), "{why}");
    }
    assert_eq!(run.denied.len(), 1);
    assert_eq!(run.requests, 1, "no request after the denial");
    let (found, run) = look_up(&trail, &wanted(&["i-always-throttled", "i-launched"]), NOW, deadline).await;
    assert!(found.is_empty(), "nothing recorded: asked again next run");
    assert_eq!(run.left, 2);
    // Out of time: nobody asked.
    let (found, run) = look_up(&trail, &wanted(&["i-launched"]), NOW, tokio::time::Instant::now()).await;
    assert!(found.is_empty());
    assert_eq!((run.asked, run.left), (0, 1));
}
