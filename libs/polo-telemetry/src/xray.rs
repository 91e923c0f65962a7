//! X-Ray subsegments from `tracing` spans, sent as UDP documents to the X-Ray daemon that
//! Lambda runs beside a function with active tracing (`AWS_XRAY_DAEMON_ADDRESS`).
//!
//! Lambda opens the invocation's segment itself and names it in the trace header
//! (`Parent=`); this layer hangs subsegments under it:
//! - every AWS SDK operation (the SDK's own `Service.Operation` span, with `rpc.service` and
//!   `rpc.method`), named for the service in the `aws` namespace, with its operation, region,
//!   how many attempts it took, and, where the client has the `polo_aws::SdkOutcome`
//!   interceptor, its final HTTP status and X-Ray's error, throttle and fault marks;
//! - every span with a `subsegment` field (a sync's pull of one account and region), named by
//!   that field; its `account` field is an annotation (indexed, for filtering traces; X-Ray
//!   keeps at most 50 annotations a trace, so there is one a subsegment), its other fields
//!   metadata;
//! - every span with a `pages` field (a paginated loop: every page of a Query, the batches of
//!   a write): one subsegment for all the SDK calls made in it, named by that field, with
//!   the operation, how many calls (`aws.pages`) and retries, and the worst status; the calls
//!   are not subsegments of their own.
//!
//! Spans nest as they ran. Nothing is sent for an unsampled invocation, and nothing is
//! done at all without a daemon address or with `POLO_TRACING=off`: no layer is installed,
//! so the SDK's debug spans stay disabled.

use std::net::{SocketAddr, ToSocketAddrs as _, UdpSocket};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::sdk_outcome::{OUTCOME_TARGET, marks};
use crate::trace_header::TraceHeader;

/// The span `lambda_runtime` opens around each invocation, with `xrayTraceId`.
pub const INVOCATION_SPAN: &str = "Lambda runtime invoke";
/// The field that makes one of Polo's spans a subsegment, naming it.
pub const SUBSEGMENT_FIELD: &str = "subsegment";
/// The field that makes one of Polo's spans a group of SDK calls (a paginated loop), naming it.
pub const PAGES_FIELD: &str = "pages";
/// The one field of a subsegment span that becomes an annotation.
pub const ANNOTATED_FIELD: &str = "account";

/// The daemon protocol's header line, before each document.
const DAEMON_HEADER: &str = "{\"format\":\"json\",\"version\":1}\n";

/// Sends subsegments of sampled invocations to the X-Ray daemon.
pub struct XrayLayer {
    socket: UdpSocket,
    daemon: SocketAddr,
    region: String,
    /// The invocation in progress, for spans that run outside its span (a spawned task
    /// that was not instrumented). A function serves one invocation at a time.
    current: Mutex<Option<Place>>,
    /// Subsegments opened in the invocation in progress, and how many it may send
    /// ([`MAX_SUBSEGMENTS`]).
    opened: std::sync::atomic::AtomicUsize,
    cap: usize,
}

/// Subsegments one invocation sends at most: a sync makes thousands of SDK calls, and X-Ray
/// truncates a trace past its document limit. Past the cap, spans are not traced (their
/// time stays in the enclosing subsegment).
pub const MAX_SUBSEGMENTS: usize = 500;

/// Where a span's subsegment hangs: its trace and its parent's id.
#[derive(Clone, Debug)]
struct Place {
    trace_id: String,
    parent_id: String,
}

/// The invocation's place, kept on its span.
struct Invocation(Place);

/// A subsegment in progress, kept on its span.
struct Open {
    id: String,
    place: Place,
    name: String,
    start: f64,
    /// `Some(operation)` for an AWS SDK call, and for a group once a call ran in it.
    operation: Option<String>,
    attempts: u32,
    /// `Some(calls)` for a group of SDK calls: how many ran in it.
    calls: Option<u32>,
    /// The final HTTP status of an SDK call (0: no answer), when its client reports it.
    status: Option<u16>,
    annotations: Map<String, Value>,
    metadata: Map<String, Value>,
}

impl XrayLayer {
    /// The layer for the daemon at `AWS_XRAY_DAEMON_ADDRESS` (`host:port`, or the SDKs'
    /// `udp:host:port tcp:host:port` form), unless `POLO_TRACING` is `off`. `None` when
    /// there is no daemon to talk to, or no socket to talk with.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Option<XrayLayer> {
        if get("POLO_TRACING").is_some_and(|v| v.eq_ignore_ascii_case("off")) {
            return None;
        }
        let address = get("AWS_XRAY_DAEMON_ADDRESS")?;
        let udp = address
            .split_whitespace()
            .find_map(|part| part.strip_prefix("udp:"))
            .unwrap_or_else(|| address.split_whitespace().next().unwrap_or(""));
        let daemon = udp.to_socket_addrs().ok()?.next()?;
        let bind: SocketAddr =
            if daemon.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0_u16; 8], 0).into() };
        let socket = UdpSocket::bind(bind).ok()?;
        socket.set_nonblocking(true).ok()?;
        Some(XrayLayer {
            socket,
            daemon,
            region: get("AWS_REGION").unwrap_or_default(),
            current: Mutex::new(None),
            opened: std::sync::atomic::AtomicUsize::new(0),
            cap: MAX_SUBSEGMENTS,
        })
    }

    /// What this layer must see (its per-layer filter): invocations, SDK operations and
    /// their attempts, Polo's subsegment spans, and the SDK outcome events.
    pub fn wants(meta: &Metadata<'_>) -> bool {
        if meta.is_event() {
            return meta.target() == OUTCOME_TARGET;
        }
        meta.is_span()
            && (meta.name() == INVOCATION_SPAN
                || meta.fields().field("rpc.service").is_some()
                || meta.fields().field(SUBSEGMENT_FIELD).is_some()
                || meta.fields().field(PAGES_FIELD).is_some()
                || (meta.name() == "try_attempt" && meta.target().starts_with("aws_smithy_runtime")))
    }

    /// The same layer, sending at most `cap` subsegments an invocation.
    #[must_use]
    pub fn with_cap(mut self, cap: usize) -> XrayLayer {
        self.cap = cap;
        self
    }

    fn send(&self, document: &Value) {
        let packet = format!("{DAEMON_HEADER}{document}");
        // Best effort, as the X-Ray SDKs do: a full buffer or absent daemon loses a subsegment,
        // never the invocation.
        let _ = self.socket.send_to(packet.as_bytes(), self.daemon);
    }

    fn remember(&self, place: Option<Place>) {
        if let Ok(mut current) = self.current.lock() {
            *current = place;
        }
    }
}

/// Seconds since the epoch, as X-Ray wants times.
fn now_seconds() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// A new 64-bit subsegment id in hex.
fn new_id() -> String {
    format!("{:016x}", fastrand::u64(1..))
}

impl<S> tracing_subscriber::Layer<S> for XrayLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let meta = attrs.metadata();
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if meta.name() == INVOCATION_SPAN {
            let place = fields
                .trace
                .as_deref()
                .and_then(TraceHeader::parse)
                .filter(TraceHeader::records)
                .and_then(|header| Some(Place { trace_id: header.root, parent_id: header.parent? }));
            self.remember(place.clone());
            self.opened.store(0, std::sync::atomic::Ordering::Relaxed);
            if let Some(place) = place {
                span.extensions_mut().insert(Invocation(place));
            }
            return;
        }
        if meta.name() == "try_attempt" {
            // The SDK call's subsegment, or the group it ran in.
            for ancestor in span.scope().skip(1) {
                if let Some(open) = ancestor.extensions_mut().get_mut::<Open>() {
                    open.attempts += 1;
                    return;
                }
            }
            return;
        }
        // The nearest enclosing subsegment or invocation, else the invocation in progress. An
        // SDK call in a group is counted there, not sent; a group in a group is the outer one.
        let mut place = None;
        for ancestor in span.scope().skip(1) {
            if (fields.service.is_some() || fields.pages.is_some())
                && let Some(group) = ancestor.extensions_mut().get_mut::<Open>().filter(|o| o.calls.is_some())
            {
                // A group in a group adds to the outer one.
                if fields.service.is_none() {
                    return;
                }
                group.calls = group.calls.map(|n| n + 1);
                let (service, method) =
                    (fields.service.unwrap_or_default(), fields.method.unwrap_or_default());
                if group.operation.is_none() {
                    // Named for the service it calls, as X-Ray's service map wants; the
                    // loop's own name goes to the metadata.
                    let label = std::mem::replace(&mut group.name, service.clone());
                    group.metadata.insert("loop".to_owned(), Value::String(label));
                    group.operation = Some(method.clone());
                }
                let operations =
                    group.metadata.entry("operations").or_insert_with(|| Value::Array(Vec::new()));
                let this = Value::String(format!("{service}.{method}"));
                if let Value::Array(seen) = operations
                    && !seen.contains(&this)
                {
                    seen.push(this);
                }
                return;
            }
            let extensions = ancestor.extensions();
            if let Some(open) = extensions.get::<Open>() {
                place = Some(Place { trace_id: open.place.trace_id.clone(), parent_id: open.id.clone() });
                break;
            }
            if let Some(Invocation(invocation)) = extensions.get::<Invocation>() {
                place = Some(invocation.clone());
                break;
            }
        }
        let place = place.or_else(|| self.current.lock().ok().and_then(|c| c.clone()));
        let Some(place) = place else { return };
        let group = fields.subsegment_is_group();
        let open = match (fields.service, fields.subsegment, fields.pages) {
            (Some(service), _, _) => Open {
                id: new_id(),
                place,
                name: service,
                start: now_seconds(),
                operation: Some(fields.method.unwrap_or_default()),
                attempts: 0,
                calls: None,
                status: None,
                annotations: Map::new(),
                metadata: Map::new(),
            },
            (None, Some(name), _) | (None, None, Some(name)) => Open {
                id: new_id(),
                place,
                name,
                start: now_seconds(),
                operation: None,
                attempts: 0,
                calls: group,
                status: None,
                annotations: fields.annotations,
                metadata: fields.metadata,
            },
            (None, None, None) => return,
        };
        if self.opened.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= self.cap {
            return;
        }
        span.extensions_mut().insert(open);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut status = Status(None);
        event.record(&mut status);
        let (Some(status), Some(span)) = (status.0, ctx.event_span(event)) else { return };
        // The innermost SDK call around the event.
        for span in span.scope() {
            if let Some(open) = span.extensions_mut().get_mut::<Open>()
                && (open.operation.is_some() || open.calls.is_some())
            {
                // A group keeps its worst answer.
                open.status = Some(
                    open.status.map_or(status, |s| if badness(s) >= badness(status) { s } else { status }),
                );
                return;
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let mut extensions = span.extensions_mut();
        if extensions.remove::<Invocation>().is_some() {
            self.remember(None);
            return;
        }
        let Some(open) = extensions.remove::<Open>() else { return };
        let mut document = json!({
            "type": "subsegment",
            "id": open.id,
            "trace_id": open.place.trace_id,
            "parent_id": open.place.parent_id,
            "name": open.name,
            "start_time": open.start,
            "end_time": now_seconds(),
        });
        if let Some(operation) = open.operation {
            document["namespace"] = json!("aws");
            let calls = open.calls.unwrap_or(1);
            document["aws"] = json!({
                "operation": operation,
                "region": self.region,
                "retries": open.attempts.saturating_sub(calls),
            });
            if open.calls.is_some() {
                let mut metadata = open.metadata;
                metadata.insert("pages".to_owned(), json!(calls));
                document["metadata"] = json!({ "polo": metadata });
            }
            if let Some(status) = open.status {
                let (error, throttle, fault) = marks(status);
                if status != 0 {
                    document["http"] = json!({ "response": { "status": status } });
                }
                for (flag, set) in [("error", error), ("throttle", throttle), ("fault", fault)] {
                    if set {
                        document[flag] = Value::Bool(true);
                    }
                }
            }
        } else {
            if !open.annotations.is_empty() {
                document["annotations"] = Value::Object(open.annotations);
            }
            if !open.metadata.is_empty() {
                document["metadata"] = json!({ "polo": open.metadata });
            }
        }
        self.send(&document);
    }
}

/// How bad an answer is, as X-Ray marks it: a fault (no answer, 5xx) over a throttle over
/// an error over a success.
fn badness(status: u16) -> u8 {
    match marks(status) {
        (_, _, true) => 3,
        (_, true, _) => 2,
        (true, _, _) => 1,
        _ => 0,
    }
}

/// The `status` field of an outcome event.
struct Status(Option<u16>);

impl Visit for Status {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "status" {
            self.0 = u16::try_from(value).ok();
        }
    }
    fn record_debug(&mut self, _field: &Field, _value: &dyn std::fmt::Debug) {}
}

/// What a new span says: the trace header, SDK names, a subsegment name and annotations.
#[derive(Default)]
struct Fields {
    trace: Option<String>,
    service: Option<String>,
    method: Option<String>,
    subsegment: Option<String>,
    pages: Option<String>,
    annotations: Map<String, Value>,
    metadata: Map<String, Value>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        match (field.name(), value) {
            ("xrayTraceId", Value::String(v)) => self.trace = Some(v),
            ("rpc.service", Value::String(v)) => self.service = Some(v),
            ("rpc.method", Value::String(v)) => self.method = Some(v),
            (SUBSEGMENT_FIELD, Value::String(v)) => self.subsegment = Some(v),
            (PAGES_FIELD, Value::String(v)) => self.pages = Some(v),
            (ANNOTATED_FIELD, value) => {
                self.annotations.insert(ANNOTATED_FIELD.to_owned(), value);
            }
            (name, value) => {
                self.metadata.insert(name.to_owned(), value);
            }
        }
    }
}

impl Fields {
    /// `Some(0)` when the span is a group of SDK calls.
    fn subsegment_is_group(&self) -> Option<u32> {
        self.pages.as_ref().map(|_| 0)
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    const HEADER: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

    fn daemon() -> (UdpSocket, String) {
        polo_tests::xray_daemon::start(Duration::from_millis(500))
    }

    fn layer(address: &str) -> XrayLayer {
        let env = [("AWS_XRAY_DAEMON_ADDRESS", address.to_owned()), ("AWS_REGION", "eu-west-1".to_owned())];
        XrayLayer::from_lookup(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())).unwrap()
    }

    fn traced(address: &str, header: &str) {
        let subscriber = tracing_subscriber::registry()
            .with(layer(address).with_filter(tracing_subscriber::filter::filter_fn(XrayLayer::wants)));
        tracing::subscriber::with_default(subscriber, || {
            let _invoke =
                tracing::info_span!("Lambda runtime invoke", requestId = "r-1", xrayTraceId = header)
                    .entered();
            let pull =
                tracing::info_span!("pull", subsegment = "pull", account = "alpha", region = "us-east-1");
            let _pull = pull.enter();
            let call = tracing::debug_span!(
                "EC2.DescribeInstances",
                "rpc.service" = "EC2",
                "rpc.method" = "DescribeInstances"
            );
            let _call = call.enter();
            for attempt in 1..=2 {
                let _a = tracing::debug_span!(target: "aws_smithy_runtime::client::orchestrator", "try_attempt", attempt).entered();
            }
            tracing::debug!(target: OUTCOME_TARGET, status = 503_u16, "aws call answered");
        });
    }

    #[test]
    fn an_sdk_call_is_a_subsegment_of_the_span_it_ran_in_under_the_invocation() {
        let (socket, address) = daemon();
        traced(&address, HEADER);
        let docs = polo_tests::xray_daemon::documents(&socket);
        assert_eq!(docs.len(), 2, "{docs:#?}");
        let (call, pull) = (&docs[0], &docs[1]);
        assert_eq!(call["name"], "EC2");
        assert_eq!(call["namespace"], "aws");
        assert_eq!(call["aws"]["operation"], "DescribeInstances");
        assert_eq!(call["aws"]["region"], "eu-west-1");
        assert_eq!(call["aws"]["retries"], 1);
        assert_eq!(call["http"]["response"]["status"], 503);
        assert_eq!(call["fault"], true);
        assert!(call.get("error").is_none() && pull.get("fault").is_none());
        assert_eq!(call["parent_id"], pull["id"]);
        assert_eq!(pull["name"], "pull");
        assert_eq!(pull["parent_id"], "53995c3f42cd8ad8");
        assert_eq!(pull["annotations"], json!({ "account": "alpha" }), "one annotation a subsegment");
        assert_eq!(pull["metadata"]["polo"]["region"], "us-east-1");
        for doc in &docs {
            assert_eq!(doc["type"], "subsegment");
            assert_eq!(doc["trace_id"], "1-5759e988-bd862e3fe1be46a994272793");
            assert!(doc["end_time"].as_f64() >= doc["start_time"].as_f64());
            assert_eq!(doc["id"].as_str().unwrap().len(), 16);
        }
    }

    #[test]
    fn the_calls_of_a_paginated_loop_are_one_subsegment_with_their_count() {
        let (socket, address) = daemon();
        let subscriber = tracing_subscriber::registry()
            .with(layer(&address).with_filter(tracing_subscriber::filter::filter_fn(XrayLayer::wants)));
        tracing::subscriber::with_default(subscriber, || {
            let _invoke =
                tracing::info_span!("Lambda runtime invoke", requestId = "r-1", xrayTraceId = HEADER)
                    .entered();
            let _loop = tracing::info_span!("pages", pages = "by-kind").entered();
            for page in 0..30 {
                let _call = tracing::debug_span!(
                    "DynamoDB.Query",
                    "rpc.service" = "DynamoDB",
                    "rpc.method" = "Query"
                )
                .entered();
                let attempts = if page == 3 { 2 } else { 1 };
                for attempt in 1..=attempts {
                    let _a = tracing::debug_span!(target: "aws_smithy_runtime::client::orchestrator", "try_attempt", attempt).entered();
                }
                let status: u16 = if page == 3 { 429 } else { 200 };
                tracing::debug!(target: OUTCOME_TARGET, status, "aws call answered");
            }
        });
        let docs = polo_tests::xray_daemon::documents(&socket);
        assert_eq!(docs.len(), 1, "30 pages, one subsegment: {docs:#?}");
        let group = &docs[0];
        assert_eq!(group["name"], "DynamoDB", "named for the service, as the service map wants");
        assert_eq!(group["namespace"], "aws");
        assert_eq!(group["aws"]["operation"], "Query");
        assert_eq!(group["metadata"]["polo"]["loop"], "by-kind");
        assert_eq!(group["metadata"]["polo"]["pages"], 30);
        assert_eq!(group["metadata"]["polo"]["operations"], json!(["DynamoDB.Query"]));
        assert_eq!(group["aws"]["retries"], 1);
        assert_eq!(group["http"]["response"]["status"], 429, "the worst answer");
        assert_eq!(group["throttle"], true);
        assert_eq!(group["parent_id"], "53995c3f42cd8ad8");
    }

    #[test]
    fn an_invocation_sends_at_most_the_cap_of_subsegments() {
        let (socket, address) = daemon();
        let subscriber = tracing_subscriber::registry().with(
            layer(&address).with_cap(5).with_filter(tracing_subscriber::filter::filter_fn(XrayLayer::wants)),
        );
        tracing::subscriber::with_default(subscriber, || {
            for _ in 0..2 {
                let _invoke =
                    tracing::info_span!("Lambda runtime invoke", requestId = "r-1", xrayTraceId = HEADER)
                        .entered();
                for _ in 0..12 {
                    let _call = tracing::debug_span!(
                        "DynamoDB.Query",
                        "rpc.service" = "DynamoDB",
                        "rpc.method" = "Query"
                    )
                    .entered();
                }
            }
        });
        let docs = polo_tests::xray_daemon::documents(&socket);
        assert_eq!(docs.len(), 2 * 5, "the cap is per invocation");
        assert_eq!(layer(&address).cap, MAX_SUBSEGMENTS);
    }

    #[test]
    fn an_unsampled_invocation_sends_nothing() {
        let (socket, address) = daemon();
        traced(&address, "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0");
        assert!(polo_tests::xray_daemon::documents(&socket).is_empty());
    }

    #[test]
    fn tracing_is_off_without_a_daemon_or_when_asked() {
        assert!(XrayLayer::from_lookup(|_| None).is_none());
        let off = |k: &str| match k {
            "AWS_XRAY_DAEMON_ADDRESS" => Some("127.0.0.1:2000".to_owned()),
            "POLO_TRACING" => Some("off".to_owned()),
            _ => None,
        };
        assert!(XrayLayer::from_lookup(off).is_none());
        let sdk_form = |k: &str| {
            (k == "AWS_XRAY_DAEMON_ADDRESS").then(|| "tcp:127.0.0.1:2000 udp:127.0.0.1:2001".to_owned())
        };
        assert_eq!(XrayLayer::from_lookup(sdk_form).unwrap().daemon.port(), 2001);
    }
}
