//! `polo prices` against a local server answering `GetProducts` as the AWS Price List API
//! documents it (JSON 1.1 protocol, `X-Amz-Target: AWSPriceListService.GetProducts`,
//! `PriceList` of product documents as strings, `NextToken` paging). The emulator has no
//! Price List API.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::harness::base_config;

fn product(sku: &str, region: &str, instance_type: &str, usd: &str) -> String {
    json!({
        "product": {
            "productFamily": "Compute Instance",
            "attributes": {
                "instanceType": instance_type, "regionCode": region, "operatingSystem": "Linux",
                "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used"
            },
            "sku": sku
        },
        "serviceCode": "AmazonEC2",
        "terms": { "OnDemand": { format!("{sku}.JRTCKXETXF"): {
            "priceDimensions": { format!("{sku}.JRTCKXETXF.6YS6EN2CT7"): {
                "unit": "Hrs", "pricePerUnit": { "USD": usd }
            }},
            "sku": sku, "offerTermCode": "JRTCKXETXF"
        }}},
        "version": "20261101000000",
        "publicationDate": "2026-11-01T00:00:00Z"
    })
    .to_string()
}

/// What the fake API was asked, and what it answers: per region, pages of products.
struct PriceList {
    requests: Mutex<Vec<Value>>,
    pages: Vec<(&'static str, Vec<Vec<String>>)>,
}

async fn get_products(
    State(api): State<Arc<PriceList>>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if target != "AWSPriceListService.GetProducts" {
        return (StatusCode::BAD_REQUEST, format!("unexpected target {target:?}")).into_response();
    }
    let request: Value = serde_json::from_slice(&body).unwrap();
    api.requests.lock().unwrap().push(request.clone());
    let region = request["Filters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["Field"] == "regionCode")
        .and_then(|f| f["Value"].as_str())
        .unwrap_or_default()
        .to_owned();
    let page: usize = request["NextToken"].as_str().map_or(0, |t| t.parse().unwrap());
    let pages = api.pages.iter().find(|(r, _)| *r == region).map_or(&[][..], |(_, p)| p.as_slice());
    let mut answer = json!({
        "FormatVersion": "aws_v1",
        "PriceList": pages.get(page).cloned().unwrap_or_default(),
    });
    if page + 1 < pages.len() {
        answer["NextToken"] = json!((page + 1).to_string());
    }
    ([("content-type", "application/x-amz-json-1.1")], answer.to_string()).into_response()
}

async fn serve(api: Arc<PriceList>) -> String {
    let app = axum::Router::new().fallback(axum::routing::post(get_products)).with_state(api);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

#[tokio::test]
async fn every_page_of_every_region_makes_the_price_table() {
    let windows = product("W1", "us-east-1", "m6i.large", "0.188").replace("\"Linux\"", "\"Windows\"");
    let api = Arc::new(PriceList {
        requests: Mutex::new(Vec::new()),
        pages: vec![
            (
                "us-east-1",
                vec![
                    vec![product("A1", "us-east-1", "m6i.large", "0.0960000000"), windows],
                    vec![product("A2", "us-east-1", "t3.medium", "0.0416000000")],
                    vec![product("A3", "us-east-1", "c6i.xlarge", "0.1700000000")],
                ],
            ),
            ("eu-west-1", vec![vec![product("B1", "eu-west-1", "m6i.large", "0.1070000000")]]),
        ],
    });
    let endpoint = serve(api.clone()).await;
    let client = aws_sdk_pricing::Client::new(&base_config(&endpoint).await);
    let regions = vec!["us-east-1".to_owned(), "eu-west-1".to_owned()];
    let (table, duplicates) =
        polo::prices::fetch_prices(&client, &regions, "2026-11-25".into()).await.unwrap();

    assert_eq!(duplicates, 0);
    let price = |r: &str, t: &str| table.regions[r][t].on_demand.to_string();
    assert_eq!(price("us-east-1", "m6i.large"), "0.096");
    assert_eq!(price("us-east-1", "c6i.xlarge"), "0.17", "the third page was read");
    assert_eq!(price("eu-west-1", "m6i.large"), "0.107");
    assert_eq!(table.regions["us-east-1"].len(), 3, "the Windows product is not a Linux price");

    // Asked per region, with the filters that select plain Linux on shared tenancy.
    let requests = api.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 4, "three pages for us-east-1, one for eu-west-1");
    assert_eq!(requests[0]["ServiceCode"], "AmazonEC2");
    let filters: Vec<(String, String, String)> = requests[0]["Filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["Type"].as_str().unwrap().into(),
                f["Field"].as_str().unwrap().into(),
                f["Value"].as_str().unwrap().into(),
            )
        })
        .collect();
    for (field, value) in [
        ("regionCode", "us-east-1"),
        ("operatingSystem", "Linux"),
        ("tenancy", "Shared"),
        ("preInstalledSw", "NA"),
        ("capacitystatus", "Used"),
    ] {
        assert!(filters.contains(&("TERM_MATCH".into(), field.into(), value.into())), "{field}: {filters:?}");
    }

    // The document reads back as the table the binaries bundle.
    let document = polo::prices::to_document(&table).unwrap();
    let again = polo_core::pricing::PriceTable::parse(&document, "written").unwrap();
    assert_eq!(again.regions["eu-west-1"]["m6i.large"].on_demand.to_string(), "0.107");
    assert_eq!(again.version, "2026-11-25");
}

#[tokio::test]
async fn an_unreadable_price_stops_the_refresh_naming_the_product() {
    let api = Arc::new(PriceList {
        requests: Mutex::new(Vec::new()),
        pages: vec![("us-east-1", vec![vec![product("BAD1", "us-east-1", "m6i.large", "n/a")]])],
    });
    let endpoint = serve(api).await;
    let client = aws_sdk_pricing::Client::new(&base_config(&endpoint).await);
    let error = polo::prices::fetch_prices(&client, &["us-east-1".to_owned()], "x".into()).await.unwrap_err();
    assert_eq!(error.to_string(), "price list product BAD1: price \"n/a\" is not a decimal");
    let empty = Arc::new(PriceList { requests: Mutex::new(Vec::new()), pages: Vec::new() });
    let client = aws_sdk_pricing::Client::new(&base_config(&serve(empty).await).await);
    let error =
        polo::prices::fetch_prices(&client, &["xx-nowhere-1".to_owned()], "x".into()).await.unwrap_err();
    assert!(error.to_string().contains("no Linux on-demand prices"), "{error}");
}
