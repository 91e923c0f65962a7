//! Fuzzing every route through the whole router: arbitrary query strings and table
//! parameters, path parameters and static paths, `Accept` and `HX-Request`. Each answer is
//! a page or a 3xx/4xx naming the problem, never a 5xx or a panic.

use std::sync::{Arc, LazyLock};

use axum::body::Body;
use axum::http::Request;
use polo_web::app::WebSettings;
use polo_web::lambda::{UriPart, encode_uri_part};
use proptest::prelude::*;
use tower::ServiceExt;

use crate::harness::{sample, state_with};

static RUNTIME: LazyLock<tokio::runtime::Runtime> =
    LazyLock::new(|| tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap());

static APP: LazyLock<axum::Router> = LazyLock::new(|| {
    let store = Arc::new(polo_core::ports::MemoryReports::default());
    let findings = Arc::new(polo_core::ports::MemoryFindings::default());
    polo::app(
        state_with(sample(), WebSettings { dev: true, ..WebSettings::default() })
            .with_reports(store)
            .with_findings(findings),
    )
});

const PARAMS: &[&str] = &[
    "q",
    "sort",
    "page",
    "per_page",
    "format",
    "account",
    "region",
    "state",
    "type",
    "owner",
    "index",
    "customer",
    "status",
    "period",
    "rule",
    "severity",
    "return_to",
    "code",
];

const VALUES: &[&str] = &[
    "",
    "running",
    "prod",
    "-hourly_cost",
    "name",
    "0",
    "1",
    "500",
    "501",
    "-1",
    "99999999999999999999",
    "csv",
    "json",
    "html",
    "(none)",
    "a\\,b",
    "acme,globex",
    "%",
    "%zz",
    "%00",
    "2026-W47",
    "2026-11",
    "critical",
    "<script>alert(1)</script>",
    "\u{202e}",
    "é",
    "+",
    "..",
];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![prop::sample::select(VALUES).prop_map(str::to_owned), any::<String>()]
}

fn query() -> impl Strategy<Value = String> {
    let pair = (prop_oneof![prop::sample::select(PARAMS).prop_map(str::to_owned), any::<String>()], value());
    prop_oneof![
        prop::collection::vec(pair, 0..6).prop_map(|pairs| pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")),
        any::<String>(),
    ]
}

fn path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        prop::sample::select(vec![
            "i-0abc",
            "idx-00f5aef7",
            "index",
            "account",
            "service",
            "daily-cost",
            "2026-11-23",
            ".."
        ])
        .prop_map(str::to_owned),
        any::<String>(),
    ];
    (
        prop::sample::select(vec![
            "/",
            "/search",
            "/cop",
            "/instances",
            "/indexes",
            "/costs",
            "/reports",
            "/auth/login",
            "/auth/logout",
            "/instances/",
            "/indexes/",
            "/costs/",
            "/reports/",
            "/static/",
            "/static/dist/",
        ]),
        prop::collection::vec(segment, 0..3),
    )
        .prop_map(|(base, segments)| {
            if segments.is_empty() || !base.ends_with('/') {
                base.to_owned()
            } else {
                format!("{base}{}", segments.join("/"))
            }
        })
}

fn accept() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        prop::sample::select(vec![
            "text/html",
            "application/json",
            "text/csv",
            "*/*;q=0",
            "image/png",
            "text/*;q=0.5, */*;q=0.1"
        ])
        .prop_map(str::to_owned),
        "[ -~]{0,40}",
    ])
}

fn answer(path: &str, query: &str, accept: Option<&str>, htmx: bool) -> u16 {
    let uri =
        format!("{}?{}", encode_uri_part(path, UriPart::DecodedPath), encode_uri_part(query, UriPart::Query));
    let mut request = Request::get(uri.as_str());
    if let Some(accept) = accept.filter(|a| axum::http::HeaderValue::from_str(a).is_ok()) {
        request = request.header("accept", accept);
    }
    if htmx {
        request = request.header("hx-request", "true");
    }
    let request = request.body(Body::empty()).unwrap();
    RUNTIME.block_on(async {
        let response = APP.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        assert!(status < 500, "{uri}: {status} {}", String::from_utf8_lossy(&body));
        status
    })
}

proptest! {
    #![proptest_config(polo_fuzz::config(384))]

    #[test]
    fn fuzz_every_route_with_any_query(path in path(), query in query(), accept in accept(), htmx in any::<bool>()) {
        answer(&path, &query, accept.as_deref(), htmx);
    }

    #[test]
    fn fuzz_static_paths_reach_only_the_asset_set(segments in prop::collection::vec(prop_oneof![
        prop::sample::select(vec!["..", ".", "dist", "main.css", "%2e%2e", "%2F", "etc", "passwd", "favicon.svg", ""])
            .prop_map(str::to_owned),
        any::<String>(),
    ], 1..5)) {
        let path = format!("/static/{}", segments.join("/"));
        let status = answer(&path, "", None, false);
        if status == 200 {
            let served = path.trim_start_matches("/static/");
            prop_assert!(polo_assets::find(served).is_some(), "{path} served but is no asset");
        }
    }
}
