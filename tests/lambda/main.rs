//! Each function's binary under a local Lambda runtime API (a small server here), fed real
//! API Gateway v2 and v1 events and an EventBridge event. `scripts/test` builds the binaries
//! (`cargo build --bins`) before this runs. Under coverage (`cfg(tarpaulin)`) it is left out:
//! the binaries run as child processes, whose lines tarpaulin does not count.
#![cfg(not(tarpaulin))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::unnecessary_wraps, clippy::cast_precision_loss)]

mod runtime_api;

mod cold_start;
mod functions;
