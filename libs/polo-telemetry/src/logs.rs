//! JSON log lines for CloudWatch Logs, one object per line, flat: `timestamp`, `level`,
//! `message`, the event's fields, and from the spans around it `service`,
//! `function_request_id` and `xray_trace_id` — the keys the old tool's Powertools logger
//! wrote, so saved Logs Insights queries and the X-Ray console's log links keep working.

use std::fmt::Write as _;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::trace_header::TraceHeader;

/// Installs the process's logging: JSON lines on stdout at `RUST_LOG` (default info), and,
/// where [`crate::xray::XrayLayer::from_lookup`] finds a daemon, X-Ray subsegments. `get`
/// reads the environment (a function's `main` passes `std::env::var`).
pub fn init(get: impl Fn(&str) -> Option<String>) {
    let filter = get("RUST_LOG")
        .and_then(|directives| EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let lines = tracing_subscriber::fmt::layer()
        .fmt_fields(JsonFields::new())
        .event_format(LambdaJson)
        .with_writer(std::io::stdout)
        .with_filter(filter);
    let xray = crate::xray::XrayLayer::from_lookup(get)
        .map(|layer| layer.with_filter(tracing_subscriber::filter::filter_fn(crate::xray::XrayLayer::wants)));
    let _ = tracing_subscriber::registry().with(lines).with(xray).try_init();
}

/// The event format of [`init`].
#[derive(Clone, Copy, Debug, Default)]
pub struct LambdaJson;

impl<S, N> FormatEvent<S, N> for LambdaJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'w> FormatFields<'w> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let mut line = Map::new();
        let now = time::OffsetDateTime::now_utc();
        let timestamp = now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        line.insert("timestamp".into(), Value::String(timestamp));
        line.insert("level".into(), Value::String(event.metadata().level().as_str().to_owned()));
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                let Some(fields) = extensions.get::<FormattedFields<N>>() else { continue };
                if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(fields) {
                    for (key, value) in fields {
                        let (key, value) = span_field(key, value);
                        line.insert(key, value);
                    }
                }
            }
        }
        event.record(&mut JsonVisitor(&mut line));
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// A span field as a line carries it: the runtime's camel-case ids under Powertools' keys,
/// the trace header reduced to its trace id.
fn span_field(key: String, value: Value) -> (String, Value) {
    match key.as_str() {
        "requestId" => ("function_request_id".into(), value),
        "xrayTraceId" => {
            let root = value.as_str().and_then(TraceHeader::parse).map(|h| h.root);
            ("xray_trace_id".into(), root.map_or(value, Value::String))
        }
        "tenantId" => ("tenant_id".into(), value),
        _ => (key, value),
    }
}

/// Event fields into the line's object.
struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl Visit for JsonVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), Value::String(value.to_owned()));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), Value::Bool(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().into(), Value::String(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.0.insert(field.name().into(), Value::String(text));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn lines(run: impl FnOnce()) -> Vec<Value> {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .fmt_fields(JsonFields::new())
                .event_format(LambdaJson)
                .with_writer(move || writer.clone()),
        );
        tracing::subscriber::with_default(subscriber, run);
        let bytes = captured.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    #[test]
    fn a_line_carries_service_request_id_and_trace_id_flat() {
        let got = lines(|| {
            let _service = tracing::info_span!("service", service = "polo-inventory").entered();
            let _invoke = tracing::info_span!(
                "Lambda runtime invoke",
                requestId = "req-1",
                xrayTraceId = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
            )
            .entered();
            tracing::info!(path = "/instances", status = 200_u16, micros = 12_u64, "request");
        });
        assert_eq!(got.len(), 1);
        let line = &got[0];
        assert_eq!(line["message"], "request");
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["service"], "polo-inventory");
        assert_eq!(line["function_request_id"], "req-1");
        assert_eq!(line["xray_trace_id"], "1-5759e988-bd862e3fe1be46a994272793");
        assert_eq!(line["status"], 200);
        assert_eq!(line["path"], "/instances");
        assert!(line["timestamp"].as_str().unwrap().starts_with("20"));
    }

    #[test]
    fn a_line_outside_an_invocation_has_no_ids() {
        let got = lines(|| tracing::warn!(error = %"boom", "init"));
        assert_eq!(got[0]["level"], "WARN");
        assert_eq!(got[0]["error"], "boom");
        assert!(got[0].get("xray_trace_id").is_none() && got[0].get("function_request_id").is_none());
    }
}
