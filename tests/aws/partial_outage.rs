//! A store that cannot be read degrades its part of a page, not the page: `/`, an instance's
//! and an index's page over a good snapshot, with the report and finding tables unreachable
//! (a table that is not there answers as a denied or deleted one would), still answer 200
//! and say which parts are missing, without the AWS error text.

use std::sync::Arc;

use polo_aws::{FindingTable, ReportTable};
use polo_core::ports::LocalDataService;
use polo_core::sample::{Scale, generate};
use time::macros::datetime;

use crate::harness::{base_config, emulator, fresh_name};
use crate::snapshot_s3::state_over;

#[tokio::test]
async fn the_overview_answers_when_the_report_and_finding_tables_cannot_be_read() {
    let base = base_config(&emulator()).await;
    let now = datetime!(2026-11-24 12:00 UTC);
    let reader = Arc::new(LocalDataService::from_snapshot(generate(1, Scale::Small, now)));
    let dynamo = aws_sdk_dynamodb::Client::new(&base);
    let missing = fresh_name("polo-no-such-table");
    let state = state_over(reader, now)
        .with_reports(Arc::new(ReportTable::new(dynamo.clone(), &missing)))
        .with_findings(Arc::new(FindingTable::new(dynamo, &missing)));
    let (instance, index) = {
        let sample = generate(1, Scale::Small, now);
        (sample.instances[0].id.clone(), sample.indexes[0].clone())
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site = format!("http://{}", listener.local_addr().unwrap());
    let url = format!("{site}/");
    tokio::spawn(async move { axum::serve(listener, polo::app(state)).await.unwrap() });
    // The detail pages show the resource and say the findings are missing.
    for page in [
        format!("{site}/instances/{instance}"),
        format!("{site}/indexes/{}?account={}&region={}", index.index_id, index.account, index.region),
    ] {
        let answer = reqwest::get(&page).await.unwrap();
        assert_eq!(answer.status(), 200, "{page}");
        let body = answer.text().await.unwrap();
        assert!(body.contains("id=\"findings-unavailable\""), "{page}: {body}");
        assert!(!body.contains(&missing), "no table name on {page}");
    }
    let answer = reqwest::get(&url).await.unwrap();
    assert_eq!(answer.status(), 200, "the snapshot is fine: the page answers");
    let body = answer.text().await.unwrap();
    assert!(body.contains("id=\"reports-unavailable\""), "{body}");
    assert!(body.contains("id=\"findings-unavailable\""));
    assert!(body.contains("Reports are unavailable: the store did not answer"));
    assert!(!body.contains(&missing), "no table name or AWS error text on the page");
    assert!(body.contains("id=\"freshness-h\""), "the rest of the page is there");
}
