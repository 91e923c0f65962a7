use std::sync::Arc;

use polo_core::FixedClock;
use polo_core::config::Config;
use polo_core::model::Everything;
use polo_core::ports::LocalDataService;
use polo_core::sample::{Generated, Scale, generate_all};
use polo_web::AppState;
use polo_web::app::WebSettings;
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::datetime;

/// The instant every test runs at: the committed sample's `now`.
pub const NOW: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

/// The committed sample, its cost store and its usage ledger, generated again once.
fn generated() -> &'static Generated {
    static SAMPLE: std::sync::OnceLock<Generated> = std::sync::OnceLock::new();
    SAMPLE.get_or_init(|| generate_all(42, Scale::Small, NOW))
}

/// The committed sample, generated again.
pub fn sample() -> Everything {
    generated().everything.clone()
}

/// The committed sample's cost store, generated again.
pub fn sample_costs() -> polo_core::model::CostStore {
    generated().costs.clone()
}

/// The committed sample's usage ledger, generated again.
pub fn sample_usage() -> Arc<polo_core::ports::InMemoryUsage> {
    Arc::new(polo_core::ports::InMemoryUsage(Arc::new(generated().usage.clone())))
}

/// The committed sample's metrics, generated again.
pub fn sample_metrics() -> Arc<polo_core::ports::InMemoryDocument<polo_core::model::MetricsDocument>> {
    Arc::new(polo_core::ports::InMemoryDocument(Arc::new(generated().metrics.clone())))
}

/// The app state over `everything` and the sample's cost store and usage ledger (cost keys
/// of other snapshots are simply unattributed), at [`NOW`].
pub fn state_with(everything: Everything, settings: WebSettings) -> AppState {
    let data = Arc::new(LocalDataService::from_snapshot(everything));
    let costs = Arc::new(polo_core::ports::InMemoryCosts(Arc::new(sample_costs())));
    AppState::over(data, Config::bundled().unwrap(), Arc::new(FixedClock(NOW)), settings)
        .unwrap()
        .with_costs(costs)
        .with_usage(sample_usage())
        .with_metrics(sample_metrics())
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
    /// `response`, read whole.
    pub async fn of(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let content_type =
            headers.get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let body = response.text().await.unwrap();
        Answer { status, content_type, headers, body }
    }

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
        TestApp::spawn_state(state_with(everything, settings)).await
    }

    /// The sample with a report of each type for its last complete period, and the
    /// daily cost of 2026-11-20, stored in memory.
    pub async fn sample_with_reports() -> TestApp {
        let data = LocalDataService::from_snapshot(sample());
        let costs = polo_core::ports::InMemoryCosts(Arc::new(sample_costs()));
        let store = Arc::new(polo_core::ports::MemoryReports::default());
        let (usage, metrics) = (sample_usage(), sample_metrics());
        let config = Config::bundled().unwrap();
        let sources = polo_core::reports::ReportSources {
            fleet: &data,
            costs: &costs,
            changes: &data,
            findings: &data,
            store: store.as_ref(),
            config: &config,
            usage: Some(usage.as_ref()),
            metrics: Some(metrics.as_ref()),
        };
        for kind in polo_core::reports::ReportType::ALL {
            polo_core::reports::run_report(kind, None, &sources, NOW, false).await.unwrap();
        }
        let daily = polo_core::reports::ReportType::DailyCost;
        polo_core::reports::run_report(daily, Some("2026-11-20"), &sources, NOW, false).await.unwrap();
        let settings = WebSettings { dev: true, ..WebSettings::default() };
        TestApp::spawn_state(state_with(sample(), settings).with_reports(store)).await
    }

    /// The sample with the Cop's findings of one run at [`NOW`], in memory.
    pub async fn sample_with_findings() -> TestApp {
        let settings = WebSettings { dev: true, ..WebSettings::default() };
        TestApp::with_findings(settings, Config::bundled().unwrap()).await
    }

    /// The sample with the Cop's findings of one run at [`NOW`], in memory, under
    /// `settings` and `config`, operators' actions kept in memory.
    pub async fn with_findings(settings: WebSettings, config: Config) -> TestApp {
        TestApp::with_findings_and_slack(settings, config, polo_core::ports::SlackApp::default()).await.0
    }

    /// [`TestApp::with_findings`] answering the Slack app `slack`; also the findings' store.
    pub async fn with_findings_and_slack(
        settings: WebSettings,
        config: Config,
        slack: polo_core::ports::SlackApp,
    ) -> (TestApp, Arc<polo_core::ports::MemoryFindings>) {
        let data = LocalDataService::from_snapshot(sample());
        let costs = polo_core::ports::InMemoryCosts(Arc::new(sample_costs()));
        let store = Arc::new(polo_core::ports::MemoryFindings::default());
        let (usage, metrics) = (sample_usage(), sample_metrics());
        let sources = polo_core::cop::CopSources {
            fleet: &data,
            costs: &costs,
            store: store.as_ref(),
            config: &config,
            usage: Some(usage.as_ref()),
            metrics: Some(metrics.as_ref()),
        };
        polo_core::cop::run_cop(&sources, NOW, false).await.unwrap();
        let audit = Arc::new(polo_core::ports::MemoryAudit::default());
        let mut state = state_with(sample(), settings)
            .with_findings(store.clone())
            .with_actions(store.clone(), audit)
            .with_slack(slack);
        state.config = Arc::new(config);
        (TestApp::spawn_state(state).await, store)
    }

    /// POSTs `form` (urlencoded) without following a redirect; `extra` headers too.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)], extra: &[(&str, &str)]) -> Answer {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut request = client.post(format!("{}{path}", self.base)).form(form);
        for (k, v) in extra {
            request = request.header(*k, *v);
        }
        Answer::of(request.send().await.unwrap()).await
    }

    /// Serves `state` on a free port.
    pub async fn spawn_state(state: AppState) -> TestApp {
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
        Answer::of(request.send().await.unwrap()).await
    }

    /// The body of an htmx GET (`HX-Request: true`).
    pub async fn client_get_htmx(&self, path: &str) -> String {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("hx-request", "true")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        response.text().await.unwrap()
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

/// The counts in the `name` select of a table page: `(value, count)` per option.
pub fn select_counts(html: &str, name: &str) -> Vec<(String, usize)> {
    let start = html.find(&format!("<select name=\"{name}\"")).unwrap();
    let end = start + html[start..].find("</select>").unwrap();
    html[start..end]
        .split("<option value=\"")
        .skip(2)
        .filter_map(|o| {
            let text = o.split('>').nth(1)?.split('<').next()?;
            let (value, count) = text.rsplit_once(" (")?;
            Some((value.to_owned(), count.trim_end_matches(')').parse().ok()?))
        })
        .collect()
}
