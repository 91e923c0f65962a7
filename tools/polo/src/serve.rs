//! `polo serve`: every route of every function on one local server.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use polo_core::Clock;
use polo_core::config::Config;
use polo_core::data::LocalDataService;
use polo_web::AppState;
use polo_web::auth::{Oidc, OidcSettings};
use polo_web::settings::{DEFAULT_LOGOUT_URL, WebSettings};
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

/// The state of the dev server: local snapshot, development identity. The bundled sample
/// is served as of the instant it was built (ages, month to date and freshness consistent,
/// with a note on every page saying so) unless `--now` fixes another; real data keeps `clock`.
pub fn dev_state(
    config: Config,
    data: &Path,
    clock: Arc<dyn Clock>,
    now_given: bool,
) -> anyhow::Result<AppState> {
    let service = Arc::new(LocalDataService::from_file(data)?);
    let mut settings = WebSettings { dev: true, logout_url: Some("/".into()), ..WebSettings::default() };
    let mut clock = clock;
    if is_bundled_sample(data) && !now_given {
        let built = service.loaded()?.everything().generated_at;
        clock = Arc::new(polo_core::FixedClock(built));
        settings.data_note = Some(format!(
            "Sample data, shown as of {} when it was built. `polo sync` pulls your own fleet.",
            polo_core::text::rfc3339(built)
        ));
    }
    let costs = Arc::new(polo_core::data::LocalCostReader::new(polo_core::data::cost_store_path(data)));
    Ok(AppState::over(service, config, clock, settings)?.with_costs(costs))
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
        public_url: Some(format!("http://{addr}")),
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
pub async fn run(state: AppState, addr: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!("Polo on http://{}", listener.local_addr()?);
    axum::serve(listener, crate::app(state)).with_graceful_shutdown(shutdown()).await?;
    Ok(())
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
