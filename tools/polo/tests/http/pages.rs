use crate::harness::{TestApp, sample};

#[tokio::test]
async fn every_page_answers_html_json_and_csv() {
    let app = TestApp::sample().await;
    let everything = sample();
    let instance = &everything.instances[0].id;
    let index = &everything.indexes[0].index_id;
    for path in [
        "/".to_owned(),
        "/instances".into(),
        "/indexes".into(),
        format!("/instances/{instance}"),
        format!("/indexes/{index}"),
    ] {
        let html = app.get(&path).await;
        assert_eq!(html.status, 200, "{path}");
        assert_eq!(html.content_type, "text/html; charset=utf-8", "{path}");
        assert!(html.body.starts_with("<!doctype html>"), "{path}");
        assert!(html.body.contains("dev@localhost"), "{path}: the user shows in the header");
        assert!(html.body.contains("https://auth.example.com/logout"), "{path}: the logout link shows");
        let sep = if path.contains('?') { '&' } else { '?' };
        let json = app.get(&format!("{path}{sep}format=json")).await;
        assert_eq!((json.status, json.content_type.as_str()), (200, "application/json"), "{path}");
        json.json();
        let by_accept = app.get_with(&path, Some("application/json")).await;
        assert_eq!(by_accept.body, json.body, "{path}: Accept gives the same JSON");
        let csv = app.get(&format!("{path}{sep}format=csv")).await;
        assert_eq!((csv.status, csv.content_type.as_str()), (200, "text/csv; charset=utf-8"), "{path}");
        assert!(csv.body.lines().count() >= 2, "{path}: a header and rows");
        let by_accept = app.get_with(&path, Some("text/csv")).await;
        assert_eq!(by_accept.body, csv.body, "{path}: Accept gives the same CSV");
    }
}

#[tokio::test]
async fn overview_counts_match_the_snapshot() {
    let app = TestApp::sample().await;
    let everything = sample();
    let s = app.json("/?format=json").await;
    assert_eq!(s["instances"], everything.instances.len());
    assert_eq!(s["indexes"], everything.indexes.len());
    let by_account: u64 =
        s["by_account"].as_array().unwrap().iter().map(|g| g["instances"].as_u64().unwrap()).sum();
    assert_eq!(by_account, everything.instances.len() as u64);
    assert_eq!(s["freshness"].as_array().unwrap().len(), 3);
    assert_eq!(s["freshness"][0]["stale"], false);
    let html = app.get("/").await.body;
    assert!(html.contains(&format!("id=\"count-instances\">{}<", everything.instances.len())));
    assert!(html.contains("id=\"hourly\">$"));
    assert!(html.contains("Cost Explorer through 2026-11-23"));
}

#[tokio::test]
async fn index_and_instances_link_both_ways() {
    let app = TestApp::sample().await;
    let everything = sample();
    let served = everything
        .indexes
        .iter()
        .find(|x| {
            everything.instances.iter().filter(|i| i.index.as_deref() == Some(&x.index_id)).count() >= 2
        })
        .unwrap();
    let page = app.get(&format!("/indexes/{}", served.index_id)).await.body;
    let members: Vec<_> =
        everything.instances.iter().filter(|i| i.index.as_deref() == Some(&served.index_id)).collect();
    for m in &members {
        assert!(page.contains(&format!("href=\"/instances/{}\"", m.id)), "index page links {}", m.id);
    }
    let json = app.json(&format!("/indexes/{}?format=json", served.index_id)).await;
    assert_eq!(json["instances"].as_array().unwrap().len(), members.len());
    let instance_page = app.get(&format!("/instances/{}", members[0].id)).await.body;
    let own_index = format!(
        "href=\"/indexes/{}?account={}&amp;region={}\"",
        served.index_id, served.account, served.region
    );
    assert!(instance_page.contains(&own_index), "the instance links its own index");
    assert!(instance_page.contains(&format!("href=\"/instances/{}\"", members[1].id)), "siblings are linked");
    assert!(instance_page.contains("Tags"));
    for k in members[0].tags.keys() {
        assert!(instance_page.contains(k.as_str()), "tag {k} shows");
    }
}

#[tokio::test]
async fn orphans_and_empty_indexes_are_called_out() {
    let app = TestApp::sample().await;
    let everything = sample();
    let orphan = everything.instances.iter().find(|i| i.index.as_deref() == Some("idx-0rphan01")).unwrap();
    let page = app.get(&format!("/instances/{}", orphan.id)).await.body;
    assert!(page.contains("orphan: no registry lists this index"));
    let empty = &everything.indexes[1];
    let page = app.get(&format!("/indexes/{}", empty.index_id)).await.body;
    assert!(page.contains("No instance carries this index"));
}

#[tokio::test]
async fn pages_send_security_headers() {
    let app = TestApp::sample().await;
    for path in ["/", "/instances", "/nosuch", "/instances?page=0"] {
        let answer = app.get(path).await;
        let csp = answer.headers.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}");
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(answer.headers.get("x-content-type-options").unwrap(), "nosniff");
        assert_eq!(answer.headers.get("referrer-policy").unwrap(), "same-origin");
    }
}

#[tokio::test]
async fn committed_sample_is_what_the_generator_makes() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sample_data.json")).unwrap();
    let committed: polo_core::model::Everything = serde_json::from_str(&committed).unwrap();
    assert!(committed == sample(), "data/sample_data.json is stale: run `just sample`");
    let costs = polo_core::ports::read_cost_store(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/sample_data.costs.json"
    )))
    .unwrap();
    assert!(
        costs == crate::harness::sample_costs(),
        "data/sample_data.costs.json is stale: run `just sample`"
    );
    let usage = polo_core::ports::read_document::<polo_core::model::UsageLedger>(std::path::Path::new(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sample_data.usage.json"),
    ))
    .unwrap();
    assert!(
        usage
            == *polo_core::ports::UsageReader::usage(crate::harness::sample_usage().as_ref()).await.unwrap(),
        "data/sample_data.usage.json is stale: run `just sample`"
    );
    let metrics = polo_core::ports::read_document::<polo_core::model::MetricsDocument>(std::path::Path::new(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sample_data.metrics.json"),
    ))
    .unwrap();
    assert!(
        metrics == *crate::harness::sample_metrics().0,
        "data/sample_data.metrics.json is stale: run `just sample`"
    );
}

#[test]
fn the_cdk_manifest_is_what_the_functions_declare() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../cdk/manifest.json")).unwrap();
    let committed: serde_json::Value = serde_json::from_str(&committed).unwrap();
    let current = serde_json::to_value(polo::manifest::manifest().unwrap()).unwrap();
    assert_eq!(
        committed, current,
        "cdk/manifest.json is stale: run `just manifest --json > cdk/manifest.json`"
    );
}

#[tokio::test]
async fn search_answers_a_partial_a_page_and_json() {
    let app = TestApp::sample().await;
    let json = app.json("/search?q=acme&format=json").await;
    assert_eq!(json["customers"]["hits"][0]["id"], "acme");
    assert_eq!(json["customers"]["hits"][0]["rank"], "exact");
    let client = reqwest::Client::new();
    let partial =
        client.get(format!("{}/search?q=acme", app.base)).header("hx-request", "true").send().await.unwrap();
    let partial = partial.text().await.unwrap();
    assert!(partial.starts_with("<div id=\"search-results-inner\""), "a fragment, not a page");
    assert!(partial.contains("data-kind=\"customers\""));
    let empty =
        client.get(format!("{}/search?q=", app.base)).header("hx-request", "true").send().await.unwrap();
    assert!(empty.text().await.unwrap().is_empty(), "an emptied box closes");
    let page = app.get("/search?q=acme").await.body;
    assert!(page.starts_with("<!doctype html>") && page.contains("data-kind=\"customers\""));
    let restore = client
        .get(format!("{}/instances?page=2", app.base))
        .header("hx-request", "true")
        .header("hx-history-restore-request", "true")
        .send()
        .await
        .unwrap();
    assert!(
        restore.text().await.unwrap().starts_with("<!doctype html>"),
        "history restores get the whole page"
    );
    let region = client
        .get(format!("{}/instances?page=2", app.base))
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    let region = region.text().await.unwrap();
    assert!(region.starts_with("<div id=\"table-region\">") && region.contains("Showing 51–100"));
    for bad in ["/search?q=a&colour=red", "/search?format=csv&q=a", "/search?q=a&q=b"] {
        assert_eq!(app.get(bad).await.status, 400, "{bad}");
    }
}

#[tokio::test]
async fn detail_pages_show_findings_or_their_empty_state() {
    let mut e = sample();
    let target = e.instances[2].clone();
    e.findings.push(polo_core::model::Finding {
        id: "f-1".into(),
        rule: "owner-missing".into(),
        severity: polo_core::model::Severity::Warning,
        resource_kind: polo_core::model::ResourceKind::Instances,
        resource_id: target.id.clone(),
        account: target.account.to_string(),
        region: target.region.to_string(),
        message: "tag it with an owner <now>".into(),
        first_seen: crate::harness::NOW - time::Duration::days(2),
        last_seen: crate::harness::NOW,
        last_notified: None,
        resolved_at: None,
        monthly_cost_impact: None,
        handling: polo_core::model::Handling::default(),
    });
    let app = TestApp::spawn(e.clone()).await;
    let page = app.get(&format!("/instances/{}", target.id)).await.body;
    assert!(page.contains("owner-missing") && page.contains("tag it with an owner &#60;now&#62;"));
    assert!(page.contains("first seen 2 days ago"));
    let other = app.get(&format!("/instances/{}", e.instances[3].id)).await.body;
    assert!(other.contains("data-testid=\"no-findings\""));
    let index = app.get(&format!("/indexes/{}", e.indexes[0].index_id)).await.body;
    assert!(index.contains("data-testid=\"no-findings\""));
}

/// `/` of `polo serve` over `data` at `clock`, `now_given` as `--now` would say.
async fn serve_overview(data: &std::path::Path, now: time::OffsetDateTime, now_given: bool) -> String {
    let clock = std::sync::Arc::new(polo_core::FixedClock(now));
    let stores = polo_core::ports::Stores::local(&polo::serve::local_paths(None, data));
    let config = polo_core::config::Config::bundled().unwrap();
    let state = polo::serve::dev_state(config, stores, data, clock, now_given).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, polo::app(state)).await.unwrap() });
    reqwest::get(&url).await.unwrap().text().await.unwrap()
}

#[tokio::test]
async fn the_bundled_sample_looks_as_it_was_built_on_any_later_day() {
    let sample = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sample_data.json"));
    assert!(polo::serve::is_bundled_sample(sample));
    let built = serve_overview(sample, crate::harness::NOW, true).await;
    let months_later = serve_overview(sample, time::macros::datetime!(2027-03-01 09:00 UTC), false).await;
    assert!(months_later.contains("Sample data, shown as of 2026-11-24T12:00:00Z"), "labelled as sample");
    assert_eq!(
        months_later.matches(">stale<").count(),
        built.matches(">stale<").count(),
        "as fresh as when built"
    );
    assert!(months_later.contains("Snapshot built just now"));
    // `--now` given, or a snapshot that is not the bundled sample: the clock is the clock.
    let explicit = serve_overview(sample, time::macros::datetime!(2027-03-01 09:00 UTC), true).await;
    assert!(!explicit.contains("Sample data, shown as of"));
    assert!(explicit.matches(">stale<").count() > built.matches(">stale<").count());
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("local_data.json");
    std::fs::copy(sample, &copy).unwrap();
    assert!(!polo::serve::is_bundled_sample(&copy));
    let synced = serve_overview(&copy, time::macros::datetime!(2027-03-01 09:00 UTC), false).await;
    assert!(!synced.contains("Sample data, shown as of"));
}
