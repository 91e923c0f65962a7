//! A local Lambda runtime API: hands events to a function process and records its answers.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::io::AsyncBufReadExt as _;
use tokio::sync::Notify;

/// How the function answered one event.
#[derive(Clone, Debug)]
pub enum Outcome {
    Response(serde_json::Value),
    Error(serde_json::Value),
}

#[derive(Default)]
struct Inner {
    queue: Mutex<VecDeque<(String, Bytes)>>,
    outcomes: Mutex<Vec<(String, Outcome)>>,
    init_error: Mutex<Option<String>>,
    first_next: Mutex<Option<std::time::Instant>>,
    arrived: Notify,
    answered: Notify,
}

/// A running function under the local runtime API.
pub struct Function {
    inner: Arc<Inner>,
    child: tokio::process::Child,
    pub stdout: Arc<Mutex<Vec<String>>>,
    next_id: u32,
    started: std::time::Instant,
}

/// The debug binary `name` of the workspace.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = dir.join(name);
    assert!(path.exists(), "{} is not built: run `cargo build --bins` first", path.display());
    path
}

async fn next(State(inner): State<Arc<Inner>>) -> Response {
    inner.first_next.lock().unwrap().get_or_insert_with(std::time::Instant::now);
    loop {
        let notified = inner.arrived.notified();
        if let Some((id, body)) = inner.queue.lock().unwrap().pop_front() {
            let trace = trace_header(&id);
            let deadline = (std::time::SystemTime::now() + Duration::from_secs(30))
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                .to_string();
            return (
                [
                    ("lambda-runtime-aws-request-id", id),
                    ("lambda-runtime-deadline-ms", deadline),
                    (
                        "lambda-runtime-invoked-function-arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:polo".to_owned(),
                    ),
                    ("lambda-runtime-trace-id", trace),
                    ("content-type", "application/json".to_owned()),
                ],
                body,
            )
                .into_response();
        }
        notified.await;
    }
}

/// The X-Ray trace id this runtime API gives the invocation `id` (distinct per invocation).
pub fn trace_root(id: &str) -> String {
    // FNV-1a, widened to the 96 bits of a trace id's random part.
    let mut hash: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for byte in id.bytes() {
        hash ^= u128::from(byte);
        hash = hash.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    format!("1-5759e988-{:024x}", hash & ((1 << 96) - 1))
}

/// The whole `Lambda-Runtime-Trace-Id` header of invocation `id`: sampled, under Lambda's
/// segment `53995c3f42cd8ad8`.
pub fn trace_header(id: &str) -> String {
    format!("Root={};Parent=53995c3f42cd8ad8;Sampled=1", trace_root(id))
}

async fn response(State(inner): State<Arc<Inner>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let value = serde_json::from_slice(&body)
        .unwrap_or(serde_json::Value::String(String::from_utf8_lossy(&body).into()));
    inner.outcomes.lock().unwrap().push((id, Outcome::Response(value)));
    inner.answered.notify_waiters();
    StatusCode::ACCEPTED
}

async fn error(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    _h: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let value = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    inner.outcomes.lock().unwrap().push((id, Outcome::Error(value)));
    inner.answered.notify_waiters();
    StatusCode::ACCEPTED
}

async fn init_error(State(inner): State<Arc<Inner>>, body: Bytes) -> StatusCode {
    *inner.init_error.lock().unwrap() = Some(String::from_utf8_lossy(&body).into_owned());
    inner.answered.notify_waiters();
    StatusCode::ACCEPTED
}

/// The sign-in every deployed route function has (a function without it does not start):
/// an issuer nothing here calls unless a test sends a bearer token, and a session table.
pub const ROUTE_SIGN_IN: [(&str, &str); 4] = [
    ("OIDC_ISSUER", "https://id.example.com"),
    ("OIDC_CLIENT_ID", "polo"),
    ("PUBLIC_URL", "https://polo.example.com"),
    ("DYNAMODB_SESSION_TABLE_NAME", "polo-sessions"),
];

impl Function {
    /// Starts the binary `name` with `env`, talking to a fresh runtime API.
    pub async fn start(name: &str, env: &[(&str, &str)]) -> Function {
        Function::start_binary(&binary(name), name, env).await
    }

    /// Starts the executable at `path` as function `name`, with [`ROUTE_SIGN_IN`] under `env`.
    pub async fn start_binary(path: &std::path::Path, name: &str, env: &[(&str, &str)]) -> Function {
        let inner = Arc::new(Inner::default());
        let app = axum::Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(Arc::clone(&inner));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let mut command = tokio::process::Command::new(path);
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", &address)
            .env("AWS_LAMBDA_FUNCTION_NAME", format!("polo-{name}"))
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_REGION", "us-east-1")
            .env("POWERTOOLS_SERVICE_NAME", format!("polo-{name}"))
            .env("POWERTOOLS_METRICS_NAMESPACE", "PoloTest")
            // What the CDK gives every route function (jobs ignore it); a test names its own
            // values, or "" for none.
            .envs(ROUTE_SIGN_IN)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            child.stdout.take().map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
            child.stderr.take().map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let lines = Arc::clone(&stdout);
            tokio::spawn(async move {
                let mut reader = tokio::io::BufReader::new(stream).lines();
                while let Ok(Some(line)) = reader.next_line().await {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        Function { inner, child, stdout, next_id: 0, started: std::time::Instant::now() }
    }

    /// From process start to its first `/next` request: ready for the first event.
    pub async fn time_to_ready(&self) -> Duration {
        loop {
            if let Some(at) = *self.inner.first_next.lock().unwrap() {
                return at - self.started;
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }

    /// Since the process started.
    pub fn since_start(&self) -> Duration {
        self.started.elapsed()
    }

    /// The peak resident memory of the process so far, in MB (Linux).
    pub fn peak_rss_mb(&self) -> Option<f64> {
        let pid = self.child.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kb: f64 =
            status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
        Some((kb / 1024.0 * 10.0).round() / 10.0)
    }

    /// Sends one event and waits for the answer (at most 20 s).
    pub async fn invoke(&mut self, event: &str) -> (String, Outcome) {
        self.invoke_within(event, Duration::from_secs(20)).await
    }

    /// Sends one event and waits for the answer, at most `limit`.
    pub async fn invoke_within(&mut self, event: &str, limit: Duration) -> (String, Outcome) {
        self.next_id += 1;
        let id = format!("req-{:04}-{}", self.next_id, std::process::id());
        let waiting = self.inner.answered.notified();
        self.inner.queue.lock().unwrap().push_back((id.clone(), Bytes::from(event.to_owned())));
        self.inner.arrived.notify_waiters();
        tokio::time::timeout(limit, async {
            let mut waiting = Box::pin(waiting);
            loop {
                if let Some((_, outcome)) = self.inner.outcomes.lock().unwrap().iter().find(|(i, _)| *i == id)
                {
                    return (id.clone(), outcome.clone());
                }
                waiting.as_mut().await;
                waiting.set(self.inner.answered.notified());
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no answer to {id}; output: {:#?}", self.stdout.lock().unwrap()))
    }

    /// Waits for the function to report an init error, or to exit.
    pub async fn init_failure(&mut self) -> String {
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await;
        let reported = self.inner.init_error.lock().unwrap().clone();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let output = self.stdout.lock().unwrap().join("\n");
        format!("{status:?}\n{}\n{output}", reported.unwrap_or_default())
    }

    /// The JSON lines printed so far.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout.lock().unwrap().iter().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }
}
