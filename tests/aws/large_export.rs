//! A CSV too large for one Lambda answer: the inventory function (its debug binary under a
//! local Lambda runtime API, serving the large sample) parks it in the data bucket and
//! answers with a redirect to a presigned URL that the emulator then serves.

use serde_json::{Value, json};

use crate::fleet::create_bucket;
use crate::harness::{base_config, emulator, fresh_name};
use crate::runtime_api::{Function, Outcome};

fn csv_event(query: &str) -> String {
    json!({
        "version": "2.0", "routeKey": "GET /instances", "rawPath": "/instances", "rawQueryString": query,
        "headers": { "accept": "text/csv", "host": "abc123.execute-api.us-east-1.amazonaws.com" },
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123", "requestId": "apigw-1", "routeKey": "GET /instances", "stage": "$default",
            "time": "24/Nov/2026:12:00:00 +0000", "timeEpoch": 1_795_521_600_000_u64,
            "http": { "method": "GET", "path": "/instances", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "polo-test" },
            "authorizer": { "jwt": { "claims": { "email": "ada@example.com" }, "scopes": null } }
        },
        "isBase64Encoded": false
    })
    .to_string()
}

#[tokio::test]
// It runs the inventory binary as a child process, which coverage neither builds nor counts.
#[cfg_attr(tarpaulin, ignore = "runs a function binary (not built under coverage)")]
async fn a_csv_too_large_to_answer_is_a_redirect_to_a_presigned_export() {
    let endpoint = emulator();
    let base = base_config(&endpoint).await;
    let bucket = fresh_name("polo-exports");
    create_bucket(&base, &bucket).await;
    let large = polo_core::sample::generate(
        42,
        polo_core::sample::Scale::Large,
        time::macros::datetime!(2026-11-24 12:00 UTC),
    );
    let instances = large.instances.len();
    // The deployed layout: the snapshot in the bucket the exports go to.
    let store = polo_aws::S3Store::new(polo_aws::s3_client(&base), &bucket);
    polo_core::ports::SyncStore::write_snapshot(&store, serde_json::to_vec(&large).unwrap()).await.unwrap();
    drop(large);

    let mut f = Function::start(
        "inventory",
        &[
            ("DATA_BUCKET_NAME", &bucket),
            ("DYNAMODB_TABLE_NAME", "polo-resources"),
            ("DYNAMODB_REPORT_TABLE_NAME", "polo-reports"),
            ("CSV_INLINE_MAX_BYTES", "1000000"),
            ("AWS_ENDPOINT_URL", &endpoint),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
        ],
    )
    .await;
    let answer = match f.invoke(&csv_event("format=csv")).await.1 {
        Outcome::Response(v) => v,
        Outcome::Error(e) => panic!("an error instead of an answer: {e}"),
    };
    assert_eq!(answer["statusCode"], 303, "{answer}");
    let location = answer["headers"]["location"].as_str().unwrap();
    assert!(location.contains(&bucket) && location.contains("X-Amz-Signature="), "{location}");
    let download = reqwest::get(location).await.unwrap();
    assert_eq!(download.status(), 200);
    assert!(download.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let body = download.text().await.unwrap();
    assert!(body.len() > 1_000_000);
    assert_eq!(body.lines().count(), instances + 1, "a header and every instance");

    // A small one is still answered inline.
    let small = match f.invoke(&csv_event("format=csv&state=stopped")).await.1 {
        Outcome::Response(v) => v,
        Outcome::Error(e) => panic!("{e}"),
    };
    assert_eq!(small["statusCode"], 200);
    assert!(small["body"].as_str().unwrap().starts_with("id,account"));
    let _: Value = answer;
}
