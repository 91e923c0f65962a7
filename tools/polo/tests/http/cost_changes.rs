//! `/costs/changes` and the waterfall of each cost detail page over the sample: every change
//! split into causes that add up to it to the cent, events behind the top movers, someone
//! named, and bad parameters refused with a 400 naming them.

use serde_json::Value;

use crate::harness::TestApp;

/// Whole cents of a money string (`"-12.30"`).
fn cents(v: &Value) -> i64 {
    let text = v.as_str().unwrap_or_else(|| panic!("money as a string: {v}"));
    let (negative, digits) = text.strip_prefix('-').map_or((false, text), |t| (true, t));
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    let frac = format!("{frac:0<2}");
    assert_eq!(frac.len(), 2, "cents: {text}");
    let n = whole.parse::<i64>().unwrap() * 100 + frac.parse::<i64>().unwrap();
    if negative { -n } else { n }
}

fn adds_up(item: &Value) {
    let causes = item["causes"].as_array().unwrap();
    let kinds: Vec<&str> = causes.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["fleet_size", "instance_mix", "price", "other"]);
    let sum: i64 = causes.iter().map(|c| cents(&c["amount"])).sum();
    assert_eq!(sum, cents(&item["change"]), "{item}");
    assert_eq!(cents(&item["after"]) - cents(&item["before"]), cents(&item["change"]));
}

#[tokio::test]
async fn every_change_adds_up_to_the_cent_and_the_top_movers_have_events_and_actors() {
    let app = TestApp::sample().await;
    for dimension in ["index", "customer", "account"] {
        let a = app.get(&format!("/costs/changes?dimension={dimension}&format=json&per_page=200")).await;
        assert_eq!(a.status, 200, "{}", a.body);
        let body = a.json();
        assert_eq!(body["dimension"], dimension);
        assert_eq!(body["comparison"]["from"], "2026-11-15", "the last 7 complete days");
        assert_eq!(body["comparison"]["to"], "2026-11-21");
        assert_eq!(body["comparison"]["before_from"], "2026-11-08");
        let items = body["items"].as_array().unwrap();
        assert!(!items.is_empty());
        items.iter().for_each(adds_up);
        for top in items.iter().take(5) {
            let events = top["causes"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|c| c["events"].as_array().unwrap())
                .count();
            assert!(events >= 1, "{dimension}: a top mover without events: {top}");
        }
        let named = items
            .iter()
            .flat_map(|i| i["causes"].as_array().unwrap())
            .flat_map(|c| c["events"].as_array().unwrap())
            .filter(|e| e["actor"] != "unknown")
            .count();
        assert!(named >= 1, "{dimension}: someone named");
    }
    // An event has the contract's fields.
    let body = app.get("/costs/changes?format=json").await.json();
    let event = body["items"][0]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["events"].as_array().unwrap())
        .next()
        .unwrap()
        .clone();
    for field in ["resource_id", "at", "what", "actor", "amount", "hours"] {
        assert!(event.get(field).is_some(), "{field}: {event}");
    }
}

#[tokio::test]
async fn any_from_to_pair_compares_against_as_many_days_before_and_csv_has_a_column_per_cause() {
    let app = TestApp::sample().await;
    let body =
        app.get("/costs/changes?dimension=index&from=2026-11-18&to=2026-11-21&format=json").await.json();
    assert_eq!(body["comparison"]["before_from"], "2026-11-14");
    assert_eq!(body["comparison"]["before_to"], "2026-11-17");
    body["items"].as_array().unwrap().iter().for_each(adds_up);
    let csv = app.get("/costs/changes?dimension=account&format=csv").await;
    assert_eq!(csv.status, 200);
    let mut lines = csv.body.lines();
    assert_eq!(lines.next().unwrap(), "key,name,before,after,change,fleet_size,instance_mix,price,other");
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let c = |n: usize| cents(&Value::String(cells[n].to_owned()));
        assert_eq!(c(5) + c(6) + c(7) + c(8), c(4), "{line}");
    }
}

#[tokio::test]
async fn the_page_lists_changes_with_their_top_cause_and_htmx_gets_the_region() {
    let app = TestApp::sample().await;
    let page = app.get("/costs/changes").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"changes-table\""));
    assert!(page.body.contains("data-top-cause"));
    assert!(page.body.contains("2026-11-15 – 2026-11-21 against 2026-11-08 – 2026-11-14"));
    let region = app.client_get_htmx("/costs/changes?q=images").await;
    assert!(region.trim_start().starts_with("<div id=\"table-region\">"), "{region}");
    assert!(!region.contains("<html"));
    let sorted = app.get("/costs/changes?sort=-fleet_size&format=json").await.json();
    let sizes: Vec<i64> =
        sorted["items"].as_array().unwrap().iter().map(|i| cents(&i["causes"][0]["amount"])).collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "sorted by fleet size: {sizes:?}");
}

#[tokio::test]
async fn a_detail_page_shows_its_change_as_a_waterfall_with_each_causes_events() {
    let app = TestApp::sample().await;
    let list = app.get("/costs/changes?format=json").await.json();
    let key = list["items"][0]["key"].as_str().unwrap().to_owned();
    let detail = app.get(&format!("/costs/index/{key}?format=json")).await.json();
    adds_up(&detail["change"]);
    assert_eq!(detail["change"], list["items"][0], "the same change as the list");
    let html = app.get(&format!("/costs/index/{key}")).await.body;
    assert!(html.contains("id=\"cost-waterfall\""));
    assert_eq!(html.matches("data-step=").count(), 6, "before, four causes, after");
    assert!(html.contains("data-cause=\"fleet_size\"") || html.contains("data-cause=\"instance_mix\""));
    let other =
        app.get(&format!("/costs/index/{key}?from=2026-11-01&to=2026-11-07&format=json")).await.json();
    assert_eq!(other["comparison"]["before_from"], "2026-10-25");
    adds_up(&other["change"]);
    // Services have no fleet behind them: no change to explain.
    let service = app.get("/costs/service?format=json").await.json();
    let name = service["items"][0]["key"].as_str().unwrap().replace(' ', "%20");
    assert!(app.get(&format!("/costs/service/{name}?format=json")).await.json()["change"].is_null());
}

#[tokio::test]
async fn bad_periods_and_dimensions_are_a_400_naming_the_parameter() {
    let app = TestApp::sample().await;
    for (query, names) in [
        ("dimension=service", "dimension"),
        ("from=2026-11-15", "to"),
        ("to=2026-11-15", "from"),
        ("from=2026-13-01&to=2026-11-15", "from"),
        ("from=2026-11-20&to=2026-11-15", "from"),
        ("from=2026-01-01&to=2026-11-15", "from"),
        ("dimension=index&dimension=account", "dimension"),
        ("nonsense=1", "nonsense"),
    ] {
        let a = app.get(&format!("/costs/changes?{query}&format=json")).await;
        assert_eq!(a.status, 400, "{query}: {}", a.body);
        assert!(a.body.contains(names), "{query}: {}", a.body);
    }
    let a = app.get("/costs/index/idx-5705b877?from=2026-11-15").await;
    assert_eq!(a.status, 400);
}
