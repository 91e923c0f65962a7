use polo_web::app::WebSettings;

use crate::harness::{TestApp, sample};

const MALFORMED: &[(&str, &str)] = &[
    ("/instances?page=abc", "page"),
    ("/instances?page=0", "page"),
    ("/instances?per_page=0", "per_page"),
    ("/instances?per_page=501", "per_page"),
    ("/instances?per_page=ten", "per_page"),
    ("/instances?sort=nosuch", "sort"),
    ("/instances?sort=-", "sort"),
    ("/instances?format=xml", "format"),
    ("/instances?colour=red", "colour"),
    ("/instances?status=READY", "status"),
    ("/instances?page=1&page=2", "page"),
    ("/indexes?sort=launch_time", "sort"),
    ("/indexes?owner=alice", "owner"),
    ("/indexes?state=running", "state"),
    ("/indexes?page=-3", "page"),
    ("/?page=2", "page"),
    ("/?format=pdf", "format"),
];

#[tokio::test]
async fn each_malformed_parameter_is_a_400_naming_it() {
    let app = TestApp::sample().await;
    let id = &sample().instances[0].id;
    let mut cases: Vec<(String, &str)> = MALFORMED.iter().map(|(p, n)| ((*p).to_owned(), *n)).collect();
    cases.push((format!("/instances/{id}?sort=id"), "sort"));
    cases.push((format!("/instances/{id}?format=yaml"), "format"));
    for (path, param) in cases {
        let sep = if path.contains('?') { '&' } else { '?' };
        let as_json = app.get_with(&format!("{path}{sep}"), Some("application/json")).await;
        assert_eq!(as_json.status, 400, "{path}");
        assert_eq!(as_json.content_type, "application/json", "{path}");
        let body = as_json.json();
        assert_eq!(body["error"]["status"], 400, "{path}");
        assert_eq!(body["error"]["param"], param, "{path}");
        assert!(body["error"]["message"].as_str().unwrap().contains(param), "{path}: {body}");
        let as_html = app.get(&path).await;
        assert_eq!(as_html.status, 400, "{path}");
        assert_eq!(as_html.content_type, "text/html; charset=utf-8", "{path}");
        assert!(as_html.body.contains("Bad request"), "{path}");
        assert!(as_html.body.contains(&format!("<code>{param}</code>")), "{path}");
    }
}

#[tokio::test]
async fn format_json_names_errors_in_json_even_when_another_param_is_bad() {
    let app = TestApp::sample().await;
    let answer = app.get("/instances?page=x&format=json").await;
    assert_eq!((answer.status, answer.content_type.as_str()), (400, "application/json"));
    assert_eq!(answer.json()["error"]["param"], "page");
}

#[tokio::test]
async fn unknown_ids_and_paths_are_404_in_each_format() {
    let app = TestApp::sample().await;
    for path in ["/instances/i-0nosuch", "/indexes/idx-nosuch", "/nosuch", "/instances/%3Cscript%3E"] {
        let html = app.get(path).await;
        assert_eq!(html.status, 404, "{path}");
        assert!(html.body.contains("Not found"), "{path}");
        assert!(!html.body.contains("<script>"), "{path}");
        let json = app.get_with(path, Some("application/json")).await;
        assert_eq!(json.status, 404, "{path}");
        assert_eq!(json.json()["error"]["status"], 404, "{path}");
    }
    let json = app.get("/instances/i-0nosuch?format=json").await;
    assert_eq!(json.status, 404);
    assert!(json.json()["error"]["message"].as_str().unwrap().contains("i-0nosuch"));
}

#[tokio::test]
async fn without_identity_nothing_is_served() {
    let app = TestApp::spawn_with(
        sample(),
        WebSettings {
            dev: false,
            logout_url: Some("https://x.example/logout".into()),
            ..WebSettings::default()
        },
    )
    .await;
    for path in ["/", "/instances", "/indexes/idx-x", "/instances?format=json"] {
        let answer = app.get(path).await;
        assert_eq!(answer.status, 401, "{path}");
        assert!(!answer.body.contains("i-0"), "{path}: no data leaks");
    }
    let json = app.get_with("/instances", Some("application/json")).await;
    assert_eq!(json.json()["error"]["status"], 401);
    let asset = app.get("/static/favicon.svg").await;
    assert_eq!(asset.status, 200, "assets need no identity");
}

/// The sample app whose fleet store is `fleet`, served on a loopback port; its base URL.
async fn serve_with_fleet(fleet: impl polo_core::ports::FleetReader + 'static) -> String {
    let data = std::sync::Arc::new(polo_core::ports::LocalDataService::from_snapshot(sample()));
    let mut state = polo_web::AppState::over(
        data,
        polo_core::config::Config::bundled().unwrap(),
        std::sync::Arc::new(polo_core::FixedClock(crate::harness::NOW)),
        WebSettings { dev: true, ..WebSettings::default() },
    )
    .unwrap();
    state.fleet = std::sync::Arc::new(fleet);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, polo::app(state)).await.unwrap() });
    base
}

/// The fleet of a deployment whose first sync has not written a snapshot yet.
struct FirstSyncPending;

#[async_trait::async_trait]
impl polo_core::ports::FleetReader for FirstSyncPending {
    async fn fleet(&self) -> Result<std::sync::Arc<polo_core::model::Fleet>, polo_core::ports::DataError> {
        Err(polo_core::ports::DataError::NoDataYet("the first sync runs every 15 minutes".into()))
    }
}

#[tokio::test]
async fn before_the_first_sync_pages_say_no_data_yet() {
    let base = serve_with_fleet(FirstSyncPending).await;
    let page = reqwest::get(format!("{base}/")).await.unwrap();
    assert_eq!(page.status(), 503);
    let body = page.text().await.unwrap();
    assert!(body.contains("<title>No data yet"), "{body}");
    assert!(body.contains("No data yet: the first sync runs every 15 minutes. This page fills in after it."));
    let json: serde_json::Value =
        reqwest::get(format!("{base}/instances?format=json")).await.unwrap().json().await.unwrap();
    assert!(json["error"]["message"].as_str().unwrap().starts_with("No data yet"));
}

/// A fleet store that fails the way DynamoDB or S3 does, naming its table and AWS's words.
struct ThrottledStore;

#[async_trait::async_trait]
impl polo_core::ports::FleetReader for ThrottledStore {
    async fn fleet(&self) -> Result<std::sync::Arc<polo_core::model::Fleet>, polo_core::ports::DataError> {
        Err(polo_core::ports::DataError::Store(
            "GetObject prod-polo-data-111111111111/snapshot.json: ThrottlingException: Rate exceeded".into(),
        ))
    }
}

#[tokio::test]
async fn a_failing_store_is_a_503_with_a_request_id_and_none_of_aws_words() {
    let base = serve_with_fleet(ThrottledStore).await;
    let page = reqwest::get(format!("{base}/instances")).await.unwrap();
    assert_eq!(page.status(), 503);
    let body = page.text().await.unwrap();
    for secret in ["prod-polo-data", "ThrottlingException", "GetObject", "snapshot.json"] {
        assert!(!body.contains(secret), "{secret} shown: {body}");
    }
    let id = body.split("id=\"request-id\">").nth(1).and_then(|r| r.split('<').next()).unwrap();
    assert!(id.len() >= 8, "a request id to quote: {body}");
    let json: serde_json::Value =
        reqwest::get(format!("{base}/instances?format=json")).await.unwrap().json().await.unwrap();
    assert_eq!(json["error"]["message"], "the data store did not answer; try again in a minute");
    assert!(json["error"]["request_id"].as_str().is_some_and(|i| !i.is_empty()), "{json}");
}
