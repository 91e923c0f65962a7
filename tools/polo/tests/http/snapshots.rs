//! insta snapshots of each page on the sample. Times are fixed by the clock; the snapshot's
//! own timestamps are redacted so regenerating the sample at another instant changes nothing
//! else, and content hashes of assets are filtered.

use insta::{assert_json_snapshot, assert_snapshot, with_settings};

use crate::harness::{TestApp, sample};

fn html_filters() -> Vec<(&'static str, &'static str)> {
    vec![(r"\.[0-9a-f]{12}\.(css|svg|js)", ".[hash].$1")]
}

#[tokio::test]
async fn json_pages() {
    let app = TestApp::sample().await;
    let e = sample();
    let instance = &e.instances[3].id;
    let index = &e.indexes[0].index_id;
    assert_json_snapshot!("overview", app.json("/?format=json").await, { ".generated_at" => "[time]", ".freshness[].synced_at" => "[time]" });
    assert_json_snapshot!(
        "instances_page",
        app.json("/instances?format=json&per_page=3&sort=-hourly_cost").await
    );
    assert_json_snapshot!("indexes_page", app.json("/indexes?format=json&per_page=3&sort=-instances").await);
    assert_json_snapshot!("instance", app.json(&format!("/instances/{instance}?format=json")).await);
    assert_json_snapshot!("index", app.json(&format!("/indexes/{index}?format=json")).await);
    assert_json_snapshot!("costs", app.json("/costs?format=json").await);
    assert_json_snapshot!("costs_index_page", app.json("/costs/index?format=json&per_page=3").await);
    assert_json_snapshot!("costs_service", app.json("/costs/service/Amazon%20DynamoDB?format=json").await, { ".daily" => "[120 days]" });
}

#[tokio::test]
async fn html_pages() {
    let app = TestApp::sample().await;
    let e = sample();
    let instance = &e.instances[3].id;
    let index = &e.indexes[0].index_id;
    let pages = [
        ("overview_html", app.get("/").await.body),
        ("instances_html", app.get("/instances?per_page=5&sort=name&state=running").await.body),
        ("indexes_html", app.get("/indexes?per_page=5&status=READY").await.body),
        ("instance_html", app.get(&format!("/instances/{instance}")).await.body),
        ("index_html", app.get(&format!("/indexes/{index}")).await.body),
        ("bad_request_html", app.get("/instances?page=abc").await.body),
        ("costs_html", app.get("/costs").await.body),
        ("costs_index_html", app.get("/costs/index?per_page=5").await.body),
        ("costs_detail_html", app.get(&format!("/costs/index/{index}")).await.body),
    ];
    with_settings!({ filters => html_filters() }, {
        for (name, body) in pages {
            assert_snapshot!(name, body);
        }
    });
}
