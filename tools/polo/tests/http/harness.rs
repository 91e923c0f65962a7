use std::sync::Arc;

use polo_core::FixedClock;
use polo_core::config::Config;
use polo_core::data::LocalDataService;
use polo_core::model::Everything;
use polo_core::sample::{Scale, generate};
use polo_web::AppState;
use polo_web::settings::WebSettings;
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::datetime;

/// The instant every test runs at: the committed sample's `now`.
pub const NOW: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

/// The committed sample, generated again.
pub fn sample() -> Everything {
    generate(42, Scale::Small, NOW)
}

/// The committed sample's cost store, generated again.
pub fn sample_costs() -> polo_core::model::CostStore {
    polo_core::sample::generate_with_costs(42, Scale::Small, NOW).1
}

/// A running app and a client for it.
pub struct TestApp {
    pub base: String,
    client: reqwest::Client,
}

/// One answer, read whole.
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl TestApp {
    /// Serves `everything` in development mode (identity `dev@localhost`).
    pub async fn spawn(everything: Everything) -> TestApp {
        TestApp::spawn_with(
            everything,
            WebSettings {
                dev: true,
                logout_url: Some("https://auth.example.com/logout".into()),
                ..WebSettings::default()
            },
        )
        .await
    }

    /// Serves the sample.
    pub async fn sample() -> TestApp {
        TestApp::spawn(sample()).await
    }

    pub async fn spawn_with(everything: Everything, settings: WebSettings) -> TestApp {
        let data = Arc::new(LocalDataService::from_snapshot(everything));
        // The sample's cost store, whatever the snapshot (cost keys of other snapshots are
        // simply unattributed).
        let costs = Arc::new(polo_core::data::InMemoryCosts(Arc::new(sample_costs())));
        let state = AppState::over(data, Config::bundled().unwrap(), Arc::new(FixedClock(NOW)), settings)
            .unwrap()
            .with_costs(costs);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, polo::app(state)).await.unwrap();
        });
        TestApp { base, client: reqwest::Client::new() }
    }

    pub async fn get_with(&self, path: &str, accept: Option<&str>) -> Answer {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let content_type =
            headers.get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let body = response.text().await.unwrap();
        Answer { status, content_type, headers, body }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.get_with(path, None).await
    }

    /// GET expecting 200 JSON.
    pub async fn json(&self, path: &str) -> Value {
        let answer = self.get(path).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        assert_eq!(answer.content_type, "application/json", "{path}");
        answer.json()
    }
}
