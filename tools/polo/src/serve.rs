//! `polo serve`: every route of every function on one local server.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use axum::response::IntoResponse as _;
use polo_core::Clock;
use polo_core::config::Config;
use polo_core::cop::{CopSources, run_cop};
use polo_core::ports::{LocalPaths, Stores};
use polo_core::reports::{ReportSources, ReportType, period_for, run_report};
use polo_web::AppState;
use polo_web::app::{DEFAULT_LOGOUT_URL, WebSettings};
use polo_web::auth::{Oidc, OidcSettings};
use time::OffsetDateTime;
use tokio::net::TcpListener;

/// The snapshot the bundled sample lives in, relative to the repository root.
pub const SAMPLE: &str = "data/sample_data.json";

/// Which snapshot to serve: `--data`, else `POLO_DATA`, else `./local_data.json` when it
/// exists, else the bundled sample (found from the working directory or the source tree).
pub fn snapshot_path(explicit: Option<&Path>) -> PathBuf {
    if let Some(path) = explicit {
        return path.to_path_buf();
    }
    let local = PathBuf::from("local_data.json");
    if local.exists() {
        return local;
    }
    let here = PathBuf::from(SAMPLE);
    if here.exists() {
        return here;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sample_data.json"))
}

/// Whether `path` is the bundled sample (not data someone synced).
pub fn is_bundled_sample(path: &Path) -> bool {
    let bundled = [
        PathBuf::from(SAMPLE),
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sample_data.json")),
    ];
    let canonical = |p: &Path| std::fs::canonicalize(p).ok();
    canonical(path).is_some_and(|c| bundled.iter().any(|b| canonical(b).as_ref() == Some(&c)))
}

/// The state of the dev server over the local `stores` of the snapshot at `data`, with the
/// development identity. The bundled sample is served as of the instant it was built (ages,
/// month to date and freshness consistent, with a note on every page saying so) unless
/// `--now` fixes another; real data keeps `clock`. A snapshot that cannot be read stops it.
pub async fn dev_state(
    config: Config,
    stores: Stores,
    data: &Path,
    clock: Arc<dyn Clock>,
    now_given: bool,
) -> anyhow::Result<AppState> {
    let built = stores.fleet.fleet().await?.generated_at();
    let mut settings = WebSettings { dev: true, logout_url: Some("/".into()), ..WebSettings::default() };
    let mut clock = clock;
    if is_bundled_sample(data) && !now_given {
        clock = Arc::new(polo_core::FixedClock(built));
        settings.data_note = Some(format!(
            "Sample data, shown as of {} when it was built. `polo sync` pulls your own fleet.",
            polo_core::text::rfc3339(built)
        ));
    }
    Ok(AppState::new(stores, config, clock, settings)?)
}

/// The local stores of `polo serve`, `report` and `cop`: the snapshot at `data`, state in
/// [`state_dir`], sync documents in `data/sync`.
pub fn local_paths(explicit_state: Option<&Path>, data: &Path) -> LocalPaths {
    LocalPaths {
        data: data.to_path_buf(),
        state: state_dir(explicit_state, data),
        documents: PathBuf::from("data/sync"),
    }
}

/// Where `polo serve`, `report` and `cop` keep reports and Cop state: `--state`/`POLO_STATE`
/// when given; else `data/state`, and `data/state/sample` for the bundled sample, so what
/// the Cop found in the sample never shows beside a fleet you synced (and back).
pub fn state_dir(explicit: Option<&Path>, data: &Path) -> PathBuf {
    match explicit {
        Some(dir) => dir.to_path_buf(),
        None if is_bundled_sample(data) => PathBuf::from(DEFAULT_STATE).join("sample"),
        None => PathBuf::from(DEFAULT_STATE),
    }
}

/// The state directory when neither `--state` nor `POLO_STATE` names one.
pub const DEFAULT_STATE: &str = "data/state";

/// What [`prepare`] did before the server started.
#[derive(Debug, Default)]
pub struct Prepared {
    /// Open findings after a Cop run, when the Cop ran.
    pub cop_open: Option<usize>,
    /// The reports built (`type period`), each the latest complete period of its type.
    pub reports: Vec<String>,
    pub took: std::time::Duration,
}

/// Gives a snapshot what the scheduled jobs give a deployment, so every page has content
/// from the first request: the Cop judges it when it has not since the snapshot was written
/// (no findings yet, or a newer snapshot), and each report type's latest complete period
/// at `now` is built when it is not stored yet. Slack hears nothing: the outboxes keep
/// what is due for `polo cop` and `polo report` with a webhook.
pub async fn prepare(
    config: &Config,
    stores: &Stores,
    paths: &LocalPaths,
    now: OffsetDateTime,
) -> anyhow::Result<Prepared> {
    let started = std::time::Instant::now();
    let mut prepared = Prepared::default();
    let (fleet, costs, findings) = (stores.fleet.as_ref(), stores.costs.as_ref(), stores.findings.as_ref());
    let snapshot_written = std::fs::metadata(&paths.data).and_then(|m| m.modified()).ok();
    let judged = paths.findings_saved_at();
    if judged.is_none() || snapshot_written > judged {
        let (usage, metrics) = (Some(stores.usage.as_ref()), Some(stores.metrics.as_ref()));
        let run = run_cop(&CopSources { fleet, costs, store: findings, config, usage, metrics }, now, false)
            .await
            .context("the Cop over the snapshot")?;
        prepared.cop_open = Some(run.findings.iter().filter(|f| f.resolved_at.is_none()).count());
    }
    let reports = stores.reports.as_ref();
    for kind in ReportType::ALL {
        let period = period_for(kind, None, now, config)?.to_string();
        if reports.get(kind, &period, now).await?.is_some() {
            continue;
        }
        let changes = stores.history.as_ref();
        let (usage, metrics) = (Some(stores.usage.as_ref()), Some(stores.metrics.as_ref()));
        let sources =
            ReportSources { fleet, costs, changes, findings, store: reports, config, usage, metrics };
        run_report(kind, Some(&period), &sources, now, false)
            .await
            .with_context(|| format!("the {} report of {period}", kind.as_str()))?;
        prepared.reports.push(format!("{} {period}", kind.as_str()));
    }
    prepared.took = started.elapsed();
    Ok(prepared)
}

/// `state` signing people in at `issuer` (no dev identity), as a deployment does, with the
/// callback on `http://{addr}`.
pub fn with_sign_in(
    state: AppState,
    issuer: &str,
    client_id: &str,
    addr: SocketAddr,
) -> anyhow::Result<AppState> {
    let settings = OidcSettings {
        issuer: issuer.to_owned(),
        client_id: client_id.to_owned(),
        client_secret: None,
        logout_endpoint: None,
        public_url: format!("http://{addr}"),
    };
    let mut state = state.with_sign_in(Oidc::new(settings)?);
    state.settings = Arc::new(WebSettings {
        dev: false,
        logout_url: Some(DEFAULT_LOGOUT_URL.to_owned()),
        ..WebSettings::default()
    });
    Ok(state)
}

/// Serves `state` on `addr` until Ctrl-C or SIGTERM.
pub async fn run(state: AppState, addr: SocketAddr, allowed_hosts: Vec<String>) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!("Polo on http://{}", listener.local_addr()?);
    let app = only_known_hosts(crate::app(state), allowed_hosts);
    axum::serve(listener, app).with_graceful_shutdown(shutdown()).await?;
    Ok(())
}

/// `app` answering only requests whose `Host` is loopback, an IP address, or one of
/// `allowed` (`--allowed-host`): a web page on another site that points a name of its own at
/// 127.0.0.1 (DNS rebinding) would otherwise read the developer's synced fleet through the
/// browser. Any other `Host` gets 421 Misdirected Request, naming the flag.
pub fn only_known_hosts(app: axum::Router, allowed: Vec<String>) -> axum::Router {
    let allowed = std::sync::Arc::new(allowed);
    app.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let allowed = std::sync::Arc::clone(&allowed);
            async move {
                let host = request
                    .headers()
                    .get(axum::http::header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("");
                if host_allowed(host, &allowed) {
                    return next.run(request).await;
                }
                tracing::warn!(host, "refused a request for an unknown host");
                let message = "polo serve answers only loopback, IP addresses and --allowed-host names";
                (axum::http::StatusCode::MISDIRECTED_REQUEST, message).into_response()
            }
        },
    ))
}

/// Whether `polo serve` answers a request whose `Host` header is `host` (with or without a
/// port): a loopback name (`localhost`, `*.localhost`), an IP address (no name to rebind),
/// or a name in `allowed` (case-insensitive).
pub fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => return v6.split(']').next().is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok()),
        None => host
            .rsplit_once(':')
            .map_or(host, |(name, port)| if port.parse::<u16>().is_ok() { name } else { host }),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    !name.is_empty()
        && (name == "localhost"
            || name.ends_with(".localhost")
            || name.parse::<std::net::Ipv4Addr>().is_ok()
            || allowed.iter().any(|a| a.eq_ignore_ascii_case(&name)))
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::path::{Path, PathBuf};

    use super::{DEFAULT_STATE, prepare, state_dir};
    use polo_core::config::Config;
    use polo_core::ports::{LocalPaths, Stores, cost_store_path};

    fn sample() -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sample_data.json"))
    }

    #[test]
    fn serve_answers_loopback_ip_addresses_and_allowed_names_only() {
        use super::host_allowed;
        let allowed = vec!["polo.internal".to_owned()];
        for ok in [
            "localhost:2200",
            "127.0.0.1:2200",
            "[::1]:2200",
            "10.1.2.3",
            "app.localhost",
            "POLO.internal:80",
            "localhost.",
        ] {
            assert!(host_allowed(ok, &allowed), "{ok}");
        }
        for refused in [
            "evil.example.com",
            "evil.example.com:2200",
            "",
            "localhost.evil.com",
            "[not-an-ip]",
            "127.0.0.1.nip.io",
        ] {
            assert!(!host_allowed(refused, &allowed), "{refused}");
        }
    }

    #[tokio::test]
    async fn serve_refuses_a_request_for_an_unknown_host() {
        use tower::ServiceExt as _;
        let app = super::only_known_hosts(
            axum::Router::new().route("/", axum::routing::get(|| async { "ok" })),
            vec![],
        );
        let request = |host: &str| {
            axum::http::Request::builder()
                .uri("/")
                .header("host", host)
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let refused = app.clone().oneshot(request("rebound.example.com:2200")).await.unwrap();
        assert_eq!(refused.status(), axum::http::StatusCode::MISDIRECTED_REQUEST);
        let served = app.oneshot(request("127.0.0.1:2200")).await.unwrap();
        assert_eq!(served.status(), axum::http::StatusCode::OK);
    }

    #[test]
    fn the_bundled_sample_keeps_its_state_apart_unless_one_is_named() {
        let named = Path::new("/tmp/mine");
        assert_eq!(state_dir(Some(named), &sample()), named);
        assert_eq!(state_dir(None, &sample()), Path::new(DEFAULT_STATE).join("sample"));
        assert_eq!(state_dir(None, Path::new("local_data.json")), Path::new(DEFAULT_STATE));
    }

    #[tokio::test]
    async fn the_cop_judges_a_snapshot_once_and_again_when_a_newer_one_arrives() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("local_data.json");
        std::fs::copy(sample(), &data).unwrap();
        std::fs::copy(cost_store_path(&sample()), cost_store_path(&data)).unwrap();
        let paths = LocalPaths {
            data: data.clone(),
            state: dir.path().join("state"),
            documents: dir.path().join("sync"),
        };
        let config = Config::bundled().unwrap();
        let stores = Stores::local(&paths);
        let now = stores.fleet.fleet().await.unwrap().generated_at();

        let first = prepare(&config, &stores, &paths, now).await.unwrap();
        assert!(first.cop_open.is_some_and(|n| n > 0), "{first:?}");
        assert_eq!(first.reports.len(), 5, "every type: {first:?}");

        let second = prepare(&config, &stores, &paths, now).await.unwrap();
        assert_eq!(second.cop_open, None, "judged already");
        assert!(second.reports.is_empty(), "stored already");

        // A sync writes a newer snapshot: the Cop judges it; the reports of the same
        // periods stay as they are.
        let later = std::time::SystemTime::now() + std::time::Duration::from_mins(1);
        std::fs::File::options().append(true).open(&data).unwrap().set_modified(later).unwrap();
        let third = prepare(&config, &stores, &paths, now).await.unwrap();
        assert_eq!(third.cop_open, first.cop_open);
        assert!(third.reports.is_empty());
    }
}
