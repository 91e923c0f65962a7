use crate::harness::TestApp;

#[tokio::test]
async fn assets_have_types_cache_policy_and_etags() {
    let app = TestApp::sample().await;
    let hashed = polo_assets::url("favicon.svg");
    assert_ne!(hashed, "/static/favicon.svg", "pages link the hashed name");
    let answer = app.get(&hashed).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, "image/svg+xml");
    assert_eq!(answer.headers["cache-control"], "public, max-age=31536000, immutable");
    let etag = answer.headers["etag"].to_str().unwrap().to_owned();
    let plain = app.get("/static/favicon.svg").await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.headers["cache-control"], "public, max-age=0, must-revalidate");
    let client = reqwest::Client::new();
    let again =
        client.get(format!("{}{hashed}", app.base)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 304);
    assert!(again.text().await.unwrap().is_empty());
    let page = app.get("/").await.body;
    assert!(page.contains(&hashed), "the page links {hashed}");
}

#[tokio::test]
async fn nothing_outside_the_asset_set_is_served() {
    let app = TestApp::sample().await;
    for path in [
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/%2E%2E%2FCargo.toml",
        "/static/..%2f..%2fetc%2fpasswd",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/favicon.svg%00.css",
        "/static/src/main.css",
        "/static/",
        "/static/nosuch.css",
    ] {
        let answer = app.get(path).await;
        assert_eq!(answer.status, 404, "{path}");
        assert!(!answer.body.contains("[workspace]") && !answer.body.contains("root:"), "{path}");
    }
}

#[tokio::test]
async fn every_page_links_the_embedded_stylesheet_and_it_is_served_as_css() {
    let app = TestApp::sample().await;
    let stylesheet = polo_assets::url("dist/main.css");
    let page = app.get("/").await.body;
    assert!(page.contains(&format!("<link rel=\"stylesheet\" href=\"{stylesheet}\"")), "{stylesheet}");
    let answer = app.get(&stylesheet).await;
    assert_eq!(answer.status, 200);
    assert!(answer.content_type.starts_with("text/css"), "{}", answer.content_type);
    assert!(answer.body.len() > 1000, "the built stylesheet, not an empty one");
}
