//! `/cop`, the findings on detail pages and the counts on `/`, over one Cop run on the sample.

use crate::harness::TestApp;

#[tokio::test]
async fn the_findings_table_filters_sorts_and_answers_json_and_csv() {
    let app = TestApp::sample_with_findings().await;
    let all = app.json("/cop?format=json&per_page=500").await;
    let total = all["total"].as_u64().unwrap();
    assert!(total >= 10, "{total}");
    let first = &all["items"][0];
    for key in [
        "id",
        "rule",
        "severity",
        "resource_kind",
        "resource_id",
        "account",
        "region",
        "message",
        "first_seen",
        "last_seen",
        "last_notified",
        "resolved_at",
    ] {
        assert!(first.get(key).is_some(), "{key}: {first}");
    }
    assert_eq!(first["severity"], "critical", "worst first");
    let orphans = app.json("/cop?format=json&rule=orphan-instance").await;
    assert_eq!(orphans["total"], 2);
    let open_critical = app.json("/cop?format=json&state=open&severity=critical").await;
    assert!(open_critical["items"].as_array().unwrap().iter().all(|f| f["severity"] == "critical"));
    let by_rule = app.json("/cop?format=json&sort=rule").await;
    let rules: Vec<&str> =
        by_rule["items"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert!(rules.windows(2).all(|w| w[0] <= w[1]));
    let csv = app.get("/cop?format=csv").await;
    assert!(csv.body.starts_with("id,rule,severity,resource_kind,resource_id,account,region,message,first_seen,last_seen,last_notified,resolved_at,monthly_cost_impact\n"), "{}", csv.body);
    // Drift findings are priced a month; the others leave the column empty.
    let drift = app.json("/cop?format=json&rule=fleet-over-provisioned").await;
    assert!(
        drift["items"][0]["monthly_cost_impact"].as_str().is_some_and(|m| m.parse::<f64>().unwrap() > 0.0),
        "{drift}"
    );
    assert!(orphans["items"][0]["monthly_cost_impact"].is_null());
    assert_eq!(csv.body.lines().count() as u64, total + 1);
    assert_eq!(
        app.get("/cop?rule=orphan-instance&status=x").await.status,
        400,
        "status is not a filter here"
    );
    let partial = app.client_get_htmx("/cop?severity=info").await;
    assert!(partial.starts_with("<div id=\"table-region\">"));
}

#[tokio::test]
async fn findings_show_on_their_resources_and_are_counted_on_the_overview() {
    let app = TestApp::sample_with_findings().await;
    let orphans = app.json("/cop?format=json&rule=orphan-instance").await;
    let id = orphans["items"][0]["resource_id"].as_str().unwrap().to_owned();
    let page = app.get(&format!("/instances/{id}")).await;
    assert!(page.body.contains("orphan-instance"), "the instance page lists its finding");
    let overview = app.get("/").await.body;
    assert!(overview.contains("id=\"open-findings\""));
    assert!(overview.contains("href=\"/cop?state=open&amp;severity=critical\""));
}

#[tokio::test]
async fn finding_selects_count_the_view_under_the_other_filters() {
    let app = TestApp::sample_with_findings().await;
    let all = app.json("/cop?format=json&per_page=500").await;
    let items = all["items"].as_array().unwrap();
    let critical = items.iter().filter(|f| f["severity"] == "critical").count();
    assert!(critical > 0 && critical < items.len(), "the sample has critical findings and others");
    let html = app.get("/cop?severity=critical").await.body;
    let rules = crate::harness::select_counts(&html, "rule");
    assert_eq!(
        rules.iter().map(|(_, n)| n).sum::<usize>(),
        critical,
        "rule counts are the critical ones: {rules:?}"
    );
    let severities = crate::harness::select_counts(&html, "severity");
    assert_eq!(
        severities.iter().map(|(_, n)| n).sum::<usize>(),
        items.len(),
        "the severity list ignores its own filter: {severities:?}"
    );
    for field in ["rule", "severity", "account", "state"] {
        assert!(!crate::harness::select_counts(&html, field).is_empty(), "{field} is a select with counts");
    }
    let orphan = crate::harness::select_counts(&app.get("/cop?rule=orphan-instance").await.body, "account");
    assert_eq!(orphan.iter().map(|(_, n)| n).sum::<usize>(), 2, "{orphan:?}");
}
