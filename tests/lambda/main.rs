//! Each function's binary under a local Lambda runtime API (a small server here), fed real
//! API Gateway v2 and v1 events and an EventBridge event. `scripts/test` builds the binaries
//! (`cargo build --bins`) before this runs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::unnecessary_wraps)]

mod runtime_api;

mod functions;
