//! What Polo's functions tell their operators, and nothing of HTTP or Lambda events:
//!
//! - [`logs`]: one JSON object per log line, in the keys the old Powertools logger wrote
//!   (`service`, `function_request_id`, `xray_trace_id`), so existing Logs Insights queries
//!   keep working;
//! - [`xray`]: X-Ray subsegments for each AWS SDK call and each span that names one, sent to
//!   the X-Ray daemon Lambda runs beside a traced function, marked with how each call ended
//!   by the clients' interceptor (`polo_aws::SdkOutcome`, events on [`sdk_outcome::OUTCOME_TARGET`]);
//! - [`emf`]: CloudWatch embedded-metric-format lines, and [`names`], every metric name the
//!   functions emit (the CDK app's alarms and dashboard read the same names).

pub mod emf;
pub mod logs;
pub mod names;
pub mod sdk_outcome;
pub mod trace_header;
pub mod xray;

pub use logs::init;
