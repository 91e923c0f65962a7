use serde_json::{Value, json};

use crate::runtime_api::{Function, Outcome, trace_root};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/sample_data.json");
pub const LOGOUT: &str = "https://auth.example.com/logout";

/// An API Gateway HTTP API (payload 2.0) event.
pub fn v2_event(path: &str, query: &str, accept: &str, claims: Option<Value>) -> String {
    v2(path, query, accept, claims)
}

fn v2(path: &str, query: &str, accept: &str, claims: Option<Value>) -> String {
    let mut event = json!({
        "version": "2.0",
        "routeKey": format!("GET {path}"),
        "rawPath": path,
        "rawQueryString": query,
        "headers": { "accept": accept, "host": "abc123.execute-api.us-east-1.amazonaws.com" },
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123", "requestId": "apigw-1", "routeKey": format!("GET {path}"), "stage": "$default",
            "time": "24/Nov/2026:12:00:00 +0000", "timeEpoch": 1_795_521_600_000_u64,
            "http": { "method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "polo-test" }
        },
        "isBase64Encoded": false
    });
    if let Some(claims) = claims {
        event["requestContext"]["authorizer"] = json!({ "jwt": { "claims": claims, "scopes": null } });
    }
    if !query.is_empty() {
        let params: serde_json::Map<String, Value> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), json!(v)))
            .collect();
        event["queryStringParameters"] = Value::Object(params);
    }
    event.to_string()
}

fn v1(path: &str, query: &[(&str, &str)], accept: &str) -> String {
    let params: serde_json::Map<String, Value> =
        query.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
    let multi: serde_json::Map<String, Value> =
        query.iter().map(|(k, v)| ((*k).to_owned(), json!([v]))).collect();
    json!({
        "resource": path, "path": path, "httpMethod": "GET",
        "headers": { "Accept": accept, "Host": "abc123.execute-api.us-east-1.amazonaws.com" },
        "multiValueHeaders": { "Accept": [accept], "Host": ["abc123.execute-api.us-east-1.amazonaws.com"] },
        "queryStringParameters": if params.is_empty() { Value::Null } else { Value::Object(params) },
        "multiValueQueryStringParameters": if multi.is_empty() { Value::Null } else { Value::Object(multi) },
        "pathParameters": null, "stageVariables": null, "body": null, "isBase64Encoded": false,
        "requestContext": {
            "accountId": "123456789012", "resourceId": "r1", "stage": "prod", "requestId": "apigw-2", "apiId": "abc123",
            "resourcePath": path, "httpMethod": "GET", "path": format!("/prod{path}"),
            "identity": { "sourceIp": "192.0.2.1" },
            "authorizer": { "claims": { "email": "grace@example.com", "sub": "u-2" } }
        }
    })
    .to_string()
}

fn response(outcome: Outcome) -> Value {
    match outcome {
        Outcome::Response(v) => v,
        Outcome::Error(e) => panic!("expected a response, got the error {e}"),
    }
}

fn header<'a>(r: &'a Value, name: &str) -> &'a str {
    r["headers"][name].as_str().unwrap_or_else(|| panic!("no {name} header in {r}"))
}

/// The claims of a signed-in user.
pub fn ada_claims() -> Option<Value> {
    ada()
}

fn ada() -> Option<Value> {
    Some(json!({ "email": "ada@example.com", "sub": "u-1" }))
}

#[tokio::test]
async fn inventory_answers_api_gateway_v2_and_v1_events() {
    let mut f = Function::start(
        "inventory",
        &[("POLO_DATA", SAMPLE), ("LOGOUT_URL", LOGOUT), ("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH", "true")],
    )
    .await;

    let (page_id, page) = f.invoke(&v2("/instances", "", "text/html", ada())).await;
    let page = response(page);
    assert_eq!(page["statusCode"], 200);
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    assert!(header(&page, "content-security-policy").contains("frame-ancestors 'none'"));
    let body = page["body"].as_str().unwrap();
    assert!(body.contains("ada@example.com"), "the user from the JWT claims");
    assert!(body.contains(LOGOUT), "the logout link");

    let (_, json_answer) = f.invoke(&v2("/instances", "format=json&per_page=2", "*/*", ada())).await;
    let json_answer = response(json_answer);
    assert_eq!(json_answer["statusCode"], 200);
    let list: Value = serde_json::from_str(json_answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_eq!(list["per_page"], 2);

    let (_, csv) = f.invoke(&v2("/indexes", "format=csv", "*/*", ada())).await;
    let csv = response(csv);
    assert_eq!(header(&csv, "content-type"), "text/csv; charset=utf-8");
    assert!(csv["body"].as_str().unwrap().starts_with("index_id,name,account"));

    let (_, bad) = f.invoke(&v2("/instances", "page=abc", "application/json", ada())).await;
    let bad = response(bad);
    assert_eq!(bad["statusCode"], 400);
    let error: Value = serde_json::from_str(bad["body"].as_str().unwrap()).unwrap();
    assert_eq!(error["error"]["param"], "page");

    let (_, anonymous) = f.invoke(&v2("/instances", "format=json", "application/json", None)).await;
    let anonymous = response(anonymous);
    assert_eq!(anonymous["statusCode"], 401);
    assert!(!anonymous["body"].as_str().unwrap().contains("i-0"), "no data before identity");

    let (_, rest) = f.invoke(&v1("/instances", &[("per_page", "1")], "application/json")).await;
    let rest = response(rest);
    assert_eq!(rest["statusCode"], 200);
    let list: Value = serde_json::from_str(rest["body"].as_str().unwrap()).unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (_, rest_csv) = f.invoke(&v1("/instances", &[("format", "csv")], "*/*")).await;
    assert!(response(rest_csv)["body"].as_str().unwrap().starts_with("id,account,account_id"));

    // A malformed event is a 400 answer naming it (logged and counted); the runtime keeps serving.
    let (_, broken) = f.invoke(r#"{"surprise": true}"#).await;
    let broken = response(broken);
    assert_eq!(broken["statusCode"], 400, "{broken}");
    let (_, after) = f.invoke(&v2("/instances/i-0nosuch", "", "application/json", ada())).await;
    assert_eq!(response(after)["statusCode"], 404);

    // One access log line per request, with the Lambda request id; one EMF line per request.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let lines = f.json_lines();
    let access: Vec<&Value> = lines.iter().filter(|l| l["message"] == "request").collect();
    assert_eq!(access.len(), 9, "{lines:#?}");
    let first = access.iter().find(|l| l["path"] == "/instances").unwrap();
    assert_eq!(first["service"], "polo-inventory", "{first}");
    assert_eq!(first["function_request_id"], page_id.as_str(), "{first}");
    let emf: Vec<&Value> = lines.iter().filter(|l| l.get("_aws").is_some()).collect();
    assert_eq!(emf.len(), 9);
    assert_eq!(emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"], "PoloTest");
    assert_eq!(emf[0]["service"], "polo-inventory");
}

#[tokio::test]
async fn every_line_of_an_invocation_carries_its_trace_id_from_the_runtime_api() {
    let mut f = Function::start(
        "inventory",
        &[("POLO_DATA", SAMPLE), ("LOGOUT_URL", LOGOUT), ("POWERTOOLS_METRICS_NAMESPACE", "Polo/test")],
    )
    .await;
    let (first, _) = f.invoke(&v2("/instances", "", "text/html", ada())).await;
    let (second, _) = f.invoke(&v2("/instances", "page=abc", "application/json", ada())).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let lines = f.json_lines();
    for id in [&first, &second] {
        let of_invocation: Vec<&Value> =
            lines.iter().filter(|l| l["function_request_id"] == id.as_str()).collect();
        assert!(!of_invocation.is_empty(), "{lines:#?}");
        for line in &of_invocation {
            assert_eq!(line["xray_trace_id"], trace_root(id).as_str(), "{line}");
            assert_eq!(line["service"], "polo-inventory", "{line}");
        }
    }
    assert_ne!(trace_root(&first), trace_root(&second), "each invocation its own trace");
    // The EMF lines: one per request, the first one the cold start.
    let emf: Vec<&Value> = lines.iter().filter(|l| l.get("_aws").is_some()).collect();
    assert_eq!(emf.len(), 2);
    assert_eq!(emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Polo/test");
    assert_eq!((emf[0]["cold_starts"].as_f64(), emf[1]["cold_starts"].as_f64()), (Some(1.0), Some(0.0)));
    assert_eq!(emf[1]["requests"].as_f64(), Some(1.0));
}

#[tokio::test]
async fn dashboard_serves_the_overview() {
    let mut f = Function::start(
        "dashboard",
        &[("POLO_DATA", SAMPLE), ("LOGOUT_URL", LOGOUT), ("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH", "true")],
    )
    .await;
    let (_, page) = f.invoke(&v2("/", "", "text/html", ada())).await;
    let page = response(page);
    assert_eq!(page["statusCode"], 200);
    assert!(page["body"].as_str().unwrap().contains("Everything"));
    let (_, json_answer) = f.invoke(&v1("/", &[("format", "json")], "*/*")).await;
    let s: Value = serde_json::from_str(response(json_answer)["body"].as_str().unwrap()).unwrap();
    assert_eq!(s["instances"], 303);
}

#[tokio::test]
async fn static_serves_assets_and_nothing_else() {
    let mut f = Function::start("static", &[]).await;
    let hashed = polo_assets_url("favicon.svg");
    let (_, asset) = f.invoke(&v2(&hashed, "", "*/*", None)).await;
    let asset = response(asset);
    assert_eq!(asset["statusCode"], 200);
    assert_eq!(header(&asset, "content-type"), "image/svg+xml");
    assert_eq!(header(&asset, "cache-control"), "public, max-age=31536000, immutable");
    for path in ["/static/../Cargo.toml", "/static/%2e%2e/Cargo.toml", "/static/src/main.css"] {
        let (_, answer) = f.invoke(&v2(path, "", "*/*", None)).await;
        assert_eq!(response(answer)["statusCode"], 404, "{path}");
    }
}

/// The hashed URL of an asset, as the static function's build embedded it.
fn polo_assets_url(logical: &str) -> String {
    polo_assets::url(logical)
}

#[tokio::test]
async fn scheduled_functions_take_eventbridge_events() {
    // Without their stores the scheduled functions stop at init, naming what is missing.
    for name in ["cop", "reporter"] {
        let mut f = Function::start(name, &[]).await;
        let failure = f.init_failure().await;
        assert!(failure.lines().any(|l| l == "Error: DATA_BUCKET_NAME: required"), "{name}: {failure}");
    }
    // The reporter reads its request before touching any store: a malformed one, or an
    // unknown type, is an invocation error naming it, and the function keeps running.
    let env = [
        ("DATA_BUCKET_NAME", "b"),
        ("DYNAMODB_TABLE_NAME", "t"),
        ("DYNAMODB_REPORT_TABLE_NAME", "r"),
        ("AWS_REGION", "us-east-1"),
    ];
    let mut reporter = Function::start("reporter", &env).await;
    let (_, malformed) = reporter.invoke(r#"{"type": 5}"#).await;
    match malformed {
        Outcome::Error(e) => assert!(e.to_string().contains("reporter request"), "{e}"),
        Outcome::Response(r) => panic!("answered {r}"),
    }
    let (unknown_id, unknown) = reporter.invoke(r#"{"type": "weekly"}"#).await;
    match unknown {
        Outcome::Error(e) => assert!(e.to_string().contains("unknown report type"), "{e}"),
        Outcome::Response(r) => panic!("answered {r}"),
    }
    // Each run prints its EMF line, a failed one too (the alarms count them), the first
    // one the cold start; and its log lines carry the invocation's ids.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let lines = reporter.json_lines();
    let runs: Vec<&Value> = lines.iter().filter(|l| l.get("runs").is_some()).collect();
    assert_eq!(runs.len(), 2, "{lines:#?}");
    for run in &runs {
        assert_eq!(run["service"], "polo-reporter");
        assert_eq!(run["run_failures"].as_f64(), Some(1.0), "{run}");
        assert!(run["run_duration"].as_f64().is_some(), "{run}");
        let directive = &run["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Dimensions"], json!([["service"]]));
    }
    assert_eq!((runs[0]["cold_starts"].as_f64(), runs[1]["cold_starts"].as_f64()), (Some(1.0), Some(0.0)));
    let failure = lines
        .iter()
        .find(|l| l["function_request_id"] == unknown_id.as_str() && l["level"] == "ERROR")
        .unwrap_or_else(|| panic!("the failed run's error line: {lines:#?}"));
    assert!(failure["message"].as_str().unwrap().contains("unknown report type"), "{failure}");
    assert_eq!(failure["xray_trace_id"], trace_root(&unknown_id).as_str(), "{failure}");
}

#[tokio::test]
async fn hostile_events_are_answered_never_invocation_errors() {
    let mut f = Function::start("inventory", &[("POLO_DATA", SAMPLE), ("LOGOUT_URL", LOGOUT)]).await;
    let mut events = 0;
    let mut send = async |event: String| {
        events += 1;
        response(f.invoke(&event).await.1)
    };
    // Characters a URI may not hold, as `curl '…?q="x"'` sends them: read as a browser would.
    for query in [r#"q="x"&format=json"#, "q=<b>&format=json", "q=a b&format=json", "q=\u{1}&format=json"] {
        let answer = send(v2("/instances", query, "*/*", ada())).await;
        assert_eq!(answer["statusCode"], 200, "{query:?}: {answer}");
    }
    let page = send(v2("/instances", "q=<script>", "text/html", ada())).await;
    assert_eq!(page["statusCode"], 200);
    assert!(!page["body"].as_str().unwrap().contains("<script>"), "escaped");
    // A Host that is not a host, and a body marked base64 that is not: 400 naming them.
    let mut bad_host: Value = serde_json::from_str(&v2("/instances", "", "*/*", ada())).unwrap();
    bad_host["headers"]["host"] = json!("evil host/..");
    let answer = send(bad_host.to_string()).await;
    assert_eq!(answer["statusCode"], 400);
    assert_eq!(
        serde_json::from_str::<Value>(answer["body"].as_str().unwrap()).unwrap()["error"]["param"],
        "host"
    );
    let mut bad_body: Value = serde_json::from_str(&v2("/instances", "", "*/*", ada())).unwrap();
    bad_body["isBase64Encoded"] = json!(true);
    bad_body["body"] = json!("%%% not base64");
    let answer = send(bad_body.to_string()).await;
    assert_eq!(answer["statusCode"], 400);
    assert!(answer["body"].as_str().unwrap().contains("base64"));
    // Claims that are not strings: the user is whatever string names them, else no one (a
    // page is sent to sign in).
    for (claims, status, user) in [
        (json!({ "email": 42, "sub": "u-42" }), 200, Some("u-42")),
        (
            json!({ "email": "ada@example.com", "email_verified": true, "groups": ["a"] }),
            200,
            Some("ada@example.com"),
        ),
        (json!({ "email": null, "sub": ["x"] }), 303, None),
        (json!({ "email": { "nested": 1 } }), 303, None),
    ] {
        let answer = send(v2("/instances", "", "text/html", Some(claims.clone()))).await;
        assert_eq!(answer["statusCode"], status, "{claims}: {answer}");
        if let Some(user) = user {
            assert!(answer["body"].as_str().unwrap().contains(user), "{claims}");
        }
    }
    for event in ["[1, 2, 3]", "null", r#"{"version": "2.0", "rawPath": 5}"#] {
        let answer = send(event.to_owned()).await;
        assert_eq!(answer["statusCode"], 400, "{event}");
    }
    // Every event, answered or refused, has its access line and its EMF line.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let lines = f.json_lines();
    assert_eq!(lines.iter().filter(|l| l["message"] == "request").count(), events, "{lines:#?}");
    assert_eq!(lines.iter().filter(|l| l.get("_aws").is_some()).count(), events);
}

#[tokio::test]
async fn a_browser_without_identity_is_sent_to_sign_in_and_scripts_get_401() {
    let mut f = Function::start(
        "dashboard",
        &[("POLO_DATA", SAMPLE), ("OIDC_ISSUER", "https://id.example.com"), ("OIDC_CLIENT_ID", "polo")],
    )
    .await;
    let (_, page) = f.invoke(&v2("/search", "q=acme", "text/html", None)).await;
    let page = response(page);
    assert_eq!(page["statusCode"], 303, "{page}");
    assert_eq!(header(&page, "location"), "/auth/login?return_to=%2Fsearch%3Fq%3Dacme");
    let (_, script) = f.invoke(&v2("/", "format=json", "*/*", None)).await;
    assert_eq!(response(script)["statusCode"], 401);
    let (_, signed_out) = f.invoke(&v2("/auth/logout", "", "text/html", None)).await;
    let signed_out = response(signed_out);
    assert_eq!(signed_out["statusCode"], 200);
    assert!(signed_out["body"].as_str().unwrap().contains("You are signed out"));
    let (_, off_site) =
        f.invoke(&v2("/auth/login", "return_to=https%3A%2F%2Fevil.example", "text/html", None)).await;
    assert_eq!(response(off_site)["statusCode"], 400);
}

#[tokio::test]
async fn a_missing_variable_fails_the_init_with_one_line_naming_it() {
    // No route function opens without sign-in, whatever ENV says.
    for (variable, _) in &crate::runtime_api::ROUTE_SIGN_IN[..3] {
        let mut f =
            Function::start("inventory", &[("POLO_DATA", SAMPLE), ("ENV", "dev"), (variable, "")]).await;
        let failure = f.init_failure().await;
        assert!(failure.lines().any(|l| l == format!("Error: {variable}: required")), "{failure}");
    }
    let mut sync = Function::start("sync", &[]).await;
    let failure = sync.init_failure().await;
    assert!(failure.lines().any(|l| l == "Error: DATA_BUCKET_NAME: required"), "{failure}");
}
