//! X-Ray subsegments of a function's AWS calls: a route function (its debug binary under the
//! local runtime API) reading its snapshot from the emulator's S3 sends each call to the
//! daemon address Lambda gives it, under the invocation's trace and Lambda's segment.

use std::time::Duration;

use polo_tests::xray_daemon;
use serde_json::{Value, json};

use crate::fleet::create_bucket;
use crate::harness::{base_config, emulator, fresh_name};
use crate::runtime_api::{Function, Outcome, trace_root};

fn page_event(path: &str) -> String {
    json!({
        "version": "2.0", "routeKey": format!("GET {path}"), "rawPath": path, "rawQueryString": "",
        "headers": { "accept": "application/json", "host": "abc123.execute-api.us-east-1.amazonaws.com" },
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123", "requestId": "apigw-1", "routeKey": format!("GET {path}"), "stage": "$default",
            "time": "24/Nov/2026:12:00:00 +0000", "timeEpoch": 1_795_521_600_000_u64,
            "http": { "method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "polo-test" },
            "authorizer": { "jwt": { "claims": { "email": "ada@example.com" }, "scopes": null } }
        },
        "isBase64Encoded": false
    })
    .to_string()
}

async fn start(bucket: &str, endpoint: &str, daemon: &str, tracing: &str) -> Function {
    Function::start(
        "inventory",
        &[
            ("DATA_BUCKET_NAME", bucket),
            ("DYNAMODB_TABLE_NAME", "polo-resources"),
            ("DYNAMODB_REPORT_TABLE_NAME", "polo-reports"),
            ("AWS_ENDPOINT_URL", endpoint),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_XRAY_DAEMON_ADDRESS", daemon),
            ("POLO_TRACING", tracing),
        ],
    )
    .await
}

#[tokio::test]
#[cfg_attr(tarpaulin, ignore = "runs a function binary (not built under coverage)")]
async fn a_route_functions_s3_calls_are_subsegments_of_its_invocation() {
    let endpoint = emulator();
    let bucket = fresh_name("polo-traces");
    create_bucket(&base_config(&endpoint).await, &bucket).await;
    let (daemon, address) = xray_daemon::start(Duration::from_millis(300));

    let mut f = start(&bucket, &endpoint, &address, "on").await;
    // No snapshot yet: the function asks S3, and answers that the first sync has not run.
    let (id, answer) = f.invoke(&page_event("/instances")).await;
    assert!(matches!(answer, Outcome::Response(_)), "{answer:?}");
    let docs = xray_daemon::documents(&daemon);
    let s3: Vec<&Value> = docs.iter().filter(|d| d["name"] == "S3").collect();
    assert!(!s3.is_empty(), "{docs:#?}");
    for call in &s3 {
        assert_eq!(call["type"], "subsegment");
        assert_eq!(call["namespace"], "aws");
        assert_eq!(call["trace_id"], trace_root(&id).as_str(), "{call}");
        assert_eq!(call["parent_id"], "53995c3f42cd8ad8", "hung on Lambda's segment: {call}");
        assert_eq!(call["aws"]["region"], "us-east-1");
        assert!(call["end_time"].as_f64() >= call["start_time"].as_f64());
    }
    // The snapshot is not there yet: S3 answers 404, and the subsegment says so.
    let get = s3.iter().find(|c| c["aws"]["operation"] == "GetObject").unwrap_or_else(|| panic!("{docs:#?}"));
    assert_eq!(get["http"]["response"]["status"], 404, "{get}");
    assert_eq!(get["error"], true, "{get}");
    assert!(get.get("fault").is_none(), "{get}");

    // With tracing off, the same request sends nothing.
    let mut off = start(&bucket, &endpoint, &address, "off").await;
    off.invoke(&page_event("/instances")).await;
    assert!(xray_daemon::documents(&daemon).is_empty());
}
