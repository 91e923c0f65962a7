//! Utilization on the pages: `/indexes`' CPU and rightsizing columns, an index page's
//! chart and proposal per role, the Cop's three utilization rules, and the idle-resources
//! report, all over the sample's fortnight of metrics.

use rust_decimal::Decimal;

use crate::harness::TestApp;

fn money(v: &serde_json::Value) -> Decimal {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn oversized_indexes_lead_the_savings_column_and_their_pages_show_why() {
    let app = TestApp::sample().await;
    let list = app.json("/indexes?format=json&sort=-monthly_savings&per_page=500").await;
    let items = list["items"].as_array().unwrap();
    let saving: Vec<&serde_json::Value> = items
        .iter()
        .filter(|i| i["monthly_savings"].is_string() && money(&i["monthly_savings"]) > Decimal::ZERO)
        .collect();
    assert!(saving.len() >= 3, "{}", saving.len());
    assert_eq!(saving[0]["index_id"], items[0]["index_id"], "sorted by the saving, largest first");
    let top = saving[0];
    assert!(top["cpu_p95"].as_f64().unwrap() < 60.0);
    let path = format!(
        "/indexes/{}?account={}&region={}",
        top["index_id"].as_str().unwrap(),
        top["account"].as_str().unwrap(),
        top["region"].as_str().unwrap()
    );
    let page = app.get(&path).await;
    assert!(page.body.contains("id=\"utilization\"") && page.body.contains("data-recommendation=\"yes\""));
    assert!(page.body.contains("<svg viewBox=\"0 0 420 120\""), "a chart per role");
    assert!(page.body.contains("data-target=\"true\""), "the target line");
    let one = app.json(&format!("{path}&format=json")).await;
    let roles = one["utilization"]["roles"].as_array().unwrap();
    let sum: Decimal = roles
        .iter()
        .filter(|r| !r["recommendation"].is_null())
        .map(|r| {
            let p = &r["recommendation"];
            assert!(
                p["nodes"].as_u64() >= r["desired"].as_u64(),
                "never fewer nodes than the registry asks for"
            );
            assert!(p["projected_cpu_p95"].as_f64().unwrap() <= 60.0);
            assert_eq!(r["daily_cpu_max"].as_array().unwrap().len(), 14);
            money(&p["monthly_savings"])
        })
        .sum();
    assert_eq!(sum, money(&top["monthly_savings"]), "the column is the roles' sum to the cent");
    // Unmeasured rows carry null, not zero, and the CSV has both columns.
    let csv = app.get("/indexes?format=csv").await;
    assert!(csv.body.lines().next().unwrap().ends_with(",cpu_p95,monthly_savings"));
}

#[tokio::test]
async fn the_cop_lists_the_three_utilization_rules_with_their_monthly_amounts() {
    let app = TestApp::sample_with_findings().await;
    for rule in ["index-oversized", "index-dormant", "instance-idle"] {
        let found = app.json(&format!("/cop?format=json&rule={rule}&per_page=200")).await;
        let items = found["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{rule}");
        assert!(
            items.iter().all(|f| f["monthly_cost_impact"].as_str().is_some()),
            "{rule} prices each finding"
        );
    }
}

#[tokio::test]
async fn the_idle_resources_report_lists_the_proposals_and_their_total() {
    let app = TestApp::sample_with_reports().await;
    let reports = app.json("/reports?format=json&type=idle-resources").await;
    let period = reports["items"][0]["period"].as_str().unwrap().to_owned();
    let report = app.get(&format!("/reports/idle-resources/{period}")).await;
    for title in ["Rightsizing", "Idle instances", "Dormant indexes"] {
        assert!(report.body.contains(title), "{title}");
    }
    assert!(report.body.contains("Rightsizing / month"));
}
