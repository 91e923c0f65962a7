//! Test-only crate: see aws/ and lambda/. What their benchmarks share lives here, and the
//! local stand-ins other crates' tests use too (a Slack webhook, the X-Ray daemon).

pub mod fake_slack;
pub mod xray_daemon;

/// Writes `value` to `bench/{name}.json` (pretty, with a final newline), where
/// `scripts/bench-results` gathers it.
///
/// # Panics
/// When the file cannot be written (a benchmark without its output is a failed run).
#[allow(clippy::expect_used)]
pub fn write_bench(name: &str, value: &serde_json::Value) {
    // The checkout running the bench (cargo sets the variable when it runs a test), not the
    // one that compiled it: CI clones share the target directory.
    let manifest =
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
    let dir = format!("{manifest}/../bench");
    std::fs::create_dir_all(&dir).expect("bench/");
    let text = serde_json::to_string_pretty(value).expect("JSON") + "\n";
    std::fs::write(format!("{dir}/{name}.json"), text).expect("bench file");
}
