//! The binary snapshot answers every page exactly as the JSON one does (issue 32): the large
//! sample written in both layouts, each read from disk by the local reader, every GET route
//! (and detail, filtered, sorted, partial and search pages) asked of both in HTML, JSON and CSV.

use std::sync::Arc;

use polo_core::FixedClock;
use polo_core::config::Config;
use polo_core::ports::{InMemoryCosts, InMemoryDocument, InMemoryUsage, LocalDataService};
use polo_core::sample::{Scale, generate_all};
use polo_web::AppState;
use polo_web::app::WebSettings;

use crate::harness::{NOW, TestApp};

#[tokio::test]
async fn the_binary_and_json_snapshots_answer_every_page_identically() {
    let generated = generate_all(42, Scale::Large, NOW);
    let dir = tempfile::tempdir().unwrap();
    let (json, binary) = (dir.path().join("large.json"), dir.path().join("large.bin"));
    std::fs::write(&json, serde_json::to_vec(&generated.everything).unwrap()).unwrap();
    // As the sync writes it, with `/`'s counts: `/` from them must equal `/` counted.
    let prices = polo_core::pricing::PriceTable::configured(&Config::bundled().unwrap()).unwrap();
    std::fs::write(&binary, polo_core::model::binary::encode_for_pages(&generated.everything, &prices))
        .unwrap();
    let (costs, usage, metrics) =
        (Arc::new(generated.costs), Arc::new(generated.usage), Arc::new(generated.metrics));
    let app = |path: &std::path::Path| {
        let data = Arc::new(LocalDataService::from_file(path).unwrap());
        let settings = WebSettings { dev: true, logout_url: None, ..WebSettings::default() };
        let mut state = AppState::over(
            Arc::clone(&data),
            Config::bundled().unwrap(),
            Arc::new(FixedClock(NOW)),
            settings,
        )
        .unwrap()
        .with_costs(Arc::new(InMemoryCosts(Arc::clone(&costs))))
        .with_usage(Arc::new(InMemoryUsage(Arc::clone(&usage))))
        .with_metrics(Arc::new(InMemoryDocument(Arc::clone(&metrics))));
        // The local user's form token is random per app: the same one for both.
        state.dev_csrf = Some(Arc::from("the-same-token"));
        async move { (TestApp::spawn_state(state).await, data) }
    };
    let ((from_json, _), (from_binary, binary_data)) = (app(&json).await, app(&binary).await);

    // Asked first, while the binary snapshot's instances are unbuilt: the default view's pages
    // are built alone ([`polo_core::listing::PendingPage`]) and must equal the cut of every row.
    for asked in [
        "/instances",
        "/instances?format=json",
        "/instances?page=3&per_page=7",
        "/instances?sort=id&page=2000",
        "/instances?page=2&format=json",
    ] {
        let (a, b) = (from_json.get(asked).await, from_binary.get(asked).await);
        assert_eq!((a.status, &a.body), (b.status, &b.body), "{asked}: the two layouts answer differently");
    }
    let partial =
        (from_json.client_get_htmx("/instances").await, from_binary.client_get_htmx("/instances").await);
    assert_eq!(partial.0, partial.1, "/instances as an htmx partial");
    {
        use polo_core::ports::FleetReader;
        assert!(!binary_data.fleet().await.unwrap().instances_built(), "a default page built every instance");
    }

    let everything = &generated.everything;
    let mut paths: Vec<String> = polo::manifest::manifest()
        .unwrap()
        .functions
        .iter()
        .flat_map(|f| &f.routes)
        .filter(|r| r.method == "GET" && !r.path.contains('{'))
        .map(|r| r.path.to_owned())
        .collect();
    let (first, last) = (&everything.instances[0], &everything.instances[everything.instances.len() - 1]);
    let index = &everything.indexes[everything.indexes.len() / 2];
    paths.extend([
        format!("/instances/{}", first.id),
        format!("/instances/{}", last.id),
        format!("/indexes/{}", index.index_id),
        "/instances?state=running&account=prod&sort=-hourly_cost&per_page=50".into(),
        "/instances?q=acme+inference&sort=name".into(),
        "/instances?sort=launch_time&page=3".into(),
        "/indexes?sort=-instances&page=2".into(),
        "/indexes?status=READY&sort=-drift".into(),
        "/search?q=acme".into(),
        "/search?q=a".into(),
        "/costs/changes?dimension=customer".into(),
    ]);
    let mut compared = 0;
    for path in &paths {
        let sep = if path.contains('?') { '&' } else { '?' };
        for asked in [path.clone(), format!("{path}{sep}format=json"), format!("{path}{sep}format=csv")] {
            let (a, b) = (from_json.get(&asked).await, from_binary.get(&asked).await);
            assert_eq!(a.status, b.status, "{asked}");
            // Error pages carry a request id of their own; every page with data is compared.
            if a.status == 200 {
                assert_eq!(a.body, b.body, "{asked}: the two layouts answer differently");
                compared += 1;
            }
        }
        let lists = ["/instances", "/indexes", "/search", "/cop", "/audit", "/reports"];
        if lists.iter().any(|l| path.starts_with(l)) && !path[1..].contains('/') {
            let partial = (from_json.client_get_htmx(path).await, from_binary.client_get_htmx(path).await);
            assert_eq!(partial.0, partial.1, "{path} as an htmx partial");
        }
    }
    assert!(compared > 60, "only {compared} pages answered 200");
}

/// A binary snapshot's instances are built when a page first reads one: `/` (from the sync's
/// counts), the cost pages (which name indexes and accounts only) and the inventory's default
/// view (its page's rows built alone) answer a cold start without building them.
#[tokio::test]
async fn the_dashboard_the_costs_and_a_default_inventory_page_answer_without_building_every_instance() {
    use polo_core::ports::FleetReader;
    let generated = generate_all(42, Scale::Small, NOW);
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("small.bin");
    let prices = polo_core::pricing::PriceTable::configured(&Config::bundled().unwrap()).unwrap();
    std::fs::write(&binary, polo_core::model::binary::encode_for_pages(&generated.everything, &prices))
        .unwrap();
    let data = Arc::new(LocalDataService::from_file(&binary).unwrap());
    let settings = WebSettings { dev: true, logout_url: None, ..WebSettings::default() };
    let state =
        AppState::over(Arc::clone(&data), Config::bundled().unwrap(), Arc::new(FixedClock(NOW)), settings)
            .unwrap()
            .with_costs(Arc::new(InMemoryCosts(Arc::new(generated.costs))));
    let app = TestApp::spawn_state(state).await;
    let index = &generated.everything.indexes[0].index_id;
    for path in
        ["/costs".to_owned(), "/costs/index".into(), "/costs/account".into(), format!("/costs/index/{index}")]
    {
        let answer = app.get(&path).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    }
    assert!(!data.fleet().await.unwrap().instances_built(), "/ or a cost page built the instances");
    // The inventory's default view builds the rows of its page alone; another view, all.
    assert_eq!(app.get("/instances").await.status, 200);
    assert_eq!(app.get("/instances?page=2&format=json").await.status, 200);
    assert!(!data.fleet().await.unwrap().instances_built(), "a default page built every instance");
    assert_eq!(app.get("/instances?sort=name").await.status, 200);
    assert!(data.fleet().await.unwrap().instances_built());

    // Written without the sync's facets: the whole page's filter menus count every instance,
    // so it builds them at once; its JSON and partial still read their page alone.
    let plain = dir.path().join("plain.bin");
    std::fs::write(&plain, polo_core::model::binary::encode(&generated.everything)).unwrap();
    let data = Arc::new(LocalDataService::from_file(&plain).unwrap());
    let settings = WebSettings { dev: true, logout_url: None, ..WebSettings::default() };
    let state =
        AppState::over(Arc::clone(&data), Config::bundled().unwrap(), Arc::new(FixedClock(NOW)), settings)
            .unwrap();
    let app = TestApp::spawn_state(state).await;
    assert_eq!(app.get("/instances?format=json").await.status, 200);
    assert!(!app.client_get_htmx("/instances").await.is_empty());
    assert!(!data.fleet().await.unwrap().instances_built(), "JSON or the partial built every instance");
    assert_eq!(app.get("/instances").await.status, 200);
    assert!(data.fleet().await.unwrap().instances_built());
}
