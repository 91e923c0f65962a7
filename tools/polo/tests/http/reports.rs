//! `/reports` and `/reports/{type}/{period}` over reports built from the sample.

use crate::harness::TestApp;

#[tokio::test]
async fn the_reports_list_answers_json_csv_and_filters() {
    let app = TestApp::sample_with_reports().await;
    let all = app.json("/reports?format=json").await;
    assert_eq!(all["total"], 6, "five types, and a second daily cost");
    let first = &all["items"][0];
    for key in ["type", "period", "start", "end", "generated_at", "expires_at", "url"] {
        assert!(first.get(key).is_some(), "{key}: {first}");
    }
    assert_eq!(first["type"], "daily-cost");
    assert_eq!(first["period"], "2026-11-23", "newest period first");
    assert_eq!(first["url"], "/reports/daily-cost/2026-11-23");
    assert_eq!(first["start"], "2026-11-23T00:00:00Z");
    assert_eq!(first["final"], false, "Cost Explorer still estimates the sample's newest day");
    let daily = app.json("/reports?format=json&type=daily-cost").await;
    assert_eq!(daily["total"], 2);
    let one = app.json("/reports?format=json&period=2026-W47").await;
    assert_eq!(one["items"][0]["type"], "weekly-summary");
    let csv = app.get("/reports?format=csv").await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.body.starts_with("type,period,start,end,generated_at,expires_at,final,url\n"),
        "{}",
        csv.body
    );
    assert!(
        csv.body.contains(",false,/reports/daily-cost/2026-11-23"),
        "the newest day is estimated: {}",
        csv.body
    );
    assert_eq!(csv.body.lines().count(), 7);
    assert_eq!(app.get("/reports?sort=nosuch").await.status, 400);
    let sorted = app.json("/reports?format=json&sort=-period").await;
    assert_eq!(sorted["items"][0]["period"], "2026-W47", "W sorts after digits");
}

#[tokio::test]
async fn the_reports_page_shows_the_latest_of_each_type_and_swaps_its_table() {
    let app = TestApp::sample_with_reports().await;
    let page = app.get("/reports").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"latest\""));
    assert_eq!(page.body.matches("/reports/daily-cost/2026-11-23").count(), 2, "latest and the table");
    assert!(
        !page.body.contains("/reports/daily-cost/2026-11-20\" class=\"font-medium"),
        "only the newest is latest"
    );
    let partial = app.client_get_htmx("/reports?type=monthly-close").await;
    assert!(partial.starts_with("<div id=\"table-region\">"), "{partial}");
    assert!(partial.contains("data-type=\"monthly-close\""));
    assert!(!partial.contains("data-type=\"daily-cost\""));
    let overview = app.get("/").await.body;
    assert!(overview.contains("id=\"latest-reports\""));
    assert!(overview.contains("href=\"/reports/monthly-close/2026-10\""));
}

#[tokio::test]
async fn a_report_page_renders_its_tables_and_chart() {
    let app = TestApp::sample_with_reports().await;
    let page = app.get("/reports/daily-cost/2026-11-20").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"headline\""));
    assert!(page.body.contains("<svg viewBox"));
    assert!(page.body.contains("id=\"report-chart\""));
    assert_eq!(
        page.body.matches("<table").count(),
        5,
        "by account, by service, top indexes, why it changed, by charge"
    );
    assert!(page.body.contains("Why it changed"));
    let json = app.json("/reports/monthly-close/2026-10?format=json").await;
    assert_eq!(json["type"], "monthly-close");
    assert_eq!(json["start"], "2026-10-01T00:00:00Z");
    assert_eq!(json["end"], "2026-11-01T00:00:00Z");
    assert_eq!(
        json["body"]["sections"].as_array().unwrap().len(),
        5,
        "index, customer, account, service, charge"
    );
    insta::assert_json_snapshot!("report_monthly_close", json);
    let changes = app.get("/reports/inventory-changes/2026-11-23").await;
    assert_eq!(changes.status, 200);
    assert!(!changes.body.contains("report-chart"), "no trend, no chart");
}

#[tokio::test]
async fn unknown_reports_are_404_and_bad_formats_400() {
    let app = TestApp::sample_with_reports().await;
    for path in [
        "/reports/nosuch/2026-11-20",
        "/reports/daily-cost/2026-11-19",
        "/reports/daily-cost/..%2F..%2Fetc",
        "/reports/daily-cost/2026-W47",
    ] {
        assert_eq!(app.get(path).await.status, 404, "{path}");
    }
    assert_eq!(app.get("/reports/daily-cost/2026-11-20?format=csv").await.status, 400);
    assert_eq!(app.get("/reports/daily-cost/2026-11-20?x=1").await.status, 400);
}

#[tokio::test]
async fn report_selects_count_the_view_under_the_other_filter() {
    let app = TestApp::sample_with_reports().await;
    let html = app.get("/reports?type=daily-cost").await.body;
    let periods = crate::harness::select_counts(&html, "period");
    assert_eq!(
        periods,
        vec![("2026-11-20".to_owned(), 1), ("2026-11-23".to_owned(), 1)],
        "the periods of daily costs only"
    );
    let types = crate::harness::select_counts(&html, "type");
    assert_eq!(types.len(), 5, "every type, its own filter ignored: {types:?}");
    assert_eq!(types.iter().find(|(t, _)| t == "daily-cost").map(|(_, n)| *n), Some(2));
    let week = crate::harness::select_counts(&app.get("/reports?period=2026-W47").await.body, "type");
    assert_eq!(week, vec![("weekly-summary".to_owned(), 1)]);
}
