//! `polo report` as people type it: one line and a non-zero exit for what it cannot do, and
//! nothing stored then.

use std::process::Command;

fn polo(state: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sample_data.json");
    let output = Command::new(env!("CARGO_BIN_EXE_polo"))
        .args(["--now", "2026-11-24T12:00:00Z", "report"])
        .args(args)
        .arg("--data")
        .arg(sample)
        .arg("--state")
        .arg(state)
        .env_remove("REPORT_TIMEZONE")
        .env_remove("POLO_CONFIG")
        .env_remove("SLACK_WEBHOOK_URL")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn bad_types_periods_and_zones_are_one_line_and_store_nothing() {
    let state = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (&["weekly"][..], "unknown report type \"weekly\""),
        (
            &["daily-cost", "--period", "2026-13-01"][..],
            "period \"2026-13-01\": expected a date like 2026-03-08",
        ),
        (&["daily-cost", "--period", "2026-11-24"][..], "period 2026-11-24 is not complete until"),
        (&["monthly-close", "--period", "2026-W10"][..], "expected a month like 2026-03"),
        (&["daily-cost", "--timezone", "Mars/Olympus"][..], "unknown time zone \"Mars/Olympus\""),
    ] {
        let (ok, _, stderr) = polo(state.path(), args);
        assert!(!ok, "{args:?}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(stderr.trim_end().lines().count() <= 3, "{args:?}: short: {stderr}");
    }
    assert!(!state.path().join("reports").exists(), "nothing stored");
}

#[test]
fn a_report_is_stored_once_and_dry_run_prints_without_storing() {
    let state = tempfile::tempdir().unwrap();
    let (ok, stdout, stderr) = polo(state.path(), &["daily-cost", "--dry-run"]);
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("Daily cost 2026-11-23"), "{stdout}");
    assert!(stdout.contains("By account"));
    assert!(!state.path().join("reports").exists(), "dry run stores nothing");
    let (ok, stdout, _) = polo(state.path(), &["daily-cost"]);
    assert!(ok);
    assert!(stdout.starts_with("stored daily-cost 2026-11-23 (/reports/daily-cost/2026-11-23)"), "{stdout}");
    let (ok, stdout, _) = polo(state.path(), &["daily-cost", "--period", "2026-11-23"]);
    assert!(ok);
    assert!(stdout.starts_with("unchanged daily-cost 2026-11-23"), "{stdout}");
    let stored: Vec<_> = std::fs::read_dir(state.path().join("reports/daily-cost")).unwrap().collect();
    assert_eq!(stored.len(), 1);
    let (ok, stdout, _) = polo(state.path(), &["weekly-summary", "--timezone", "Australia/Sydney"]);
    assert!(ok);
    assert!(stdout.starts_with("stored weekly-summary 2026-W47"), "{stdout}");
}

#[test]
fn polo_cop_remembers_its_findings_and_a_dry_run_changes_nothing() {
    let state = tempfile::tempdir().unwrap();
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sample_data.json");
    let cop = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_polo"))
            .args(["--now", "2026-11-24T12:00:00Z", "--state"])
            .arg(state.path())
            .arg("cop")
            .args(args)
            .args(["--data", sample])
            .env_remove("SLACK_WEBHOOK_URL")
            .env_remove("POLO_CONFIG")
            .output()
            .unwrap();
        (output.status.success(), String::from_utf8(output.stdout).unwrap())
    };
    let (ok, stdout) = cop(&["--dry-run"]);
    assert!(ok);
    assert!(stdout.starts_with("cop: "), "{stdout}");
    assert!(stdout.contains("Slack message ("), "the digest it would send");
    assert!(!state.path().join("cop").exists(), "a dry run changes no state");
    let (ok, stdout) = cop(&[]);
    assert!(ok);
    assert!(stdout.contains("open findings"), "{stdout}");
    let kept: serde_json::Value =
        serde_json::from_slice(&std::fs::read(state.path().join("cop/findings.json")).unwrap()).unwrap();
    assert!(kept.as_array().unwrap().len() >= 10);
}

/// `polo serve` on `data` with its state in `state`, answering on a free port until dropped.
struct Served {
    child: std::process::Child,
    base: String,
    log: std::path::PathBuf,
}

impl Served {
    async fn start(data: &std::path::Path, state: &std::path::Path, log: std::path::PathBuf) -> Served {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(env!("CARGO_BIN_EXE_polo"))
            .args(["serve", "--port", &port.to_string(), "--data"])
            .arg(data)
            .arg("--state")
            .arg(state)
            .env_remove("POLO_CONFIG")
            .env_remove("OIDC_ISSUER")
            .env("RUST_LOG", "info")
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        // Owned at once, so a failed start below still stops it (Drop).
        let served = Served { child, base: format!("http://127.0.0.1:{port}"), log };
        for _ in 0..200 {
            if reqwest::get(format!("{}/", served.base)).await.is_ok() {
                return served;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("polo serve did not answer: {}", served.log());
    }

    async fn json(&self, path: &str) -> serde_json::Value {
        reqwest::get(format!("{}{path}", self.base)).await.unwrap().json().await.unwrap()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn polo_serve_on_the_bundled_sample_shows_findings_of_every_rule_it_holds_and_every_report() {
    let sample = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sample_data.json"));
    let state = tempfile::tempdir().unwrap();
    let served = Served::start(sample, state.path(), state.path().join("first.log")).await;
    let open = served.json("/cop?format=json&state=open&per_page=500").await;
    let rules: std::collections::BTreeSet<&str> =
        open["items"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert!(rules.len() >= 6, "open findings of at least six rules: {rules:?}");
    let reports = served.json("/reports?format=json").await;
    let types: std::collections::BTreeSet<&str> =
        reports["items"].as_array().unwrap().iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(types.len(), 5, "every report type: {types:?}");
    let overview = reqwest::get(format!("{}/", served.base)).await.unwrap().text().await.unwrap();
    assert!(
        overview.contains("href=\"/cop?state=open&amp;severity=critical\""),
        "the overview counts findings"
    );
    assert!(!overview.contains("No report yet"), "and lists the latest reports");
    let log = served.log();
    assert!(log.contains("prepared the snapshot's findings and reports"), "{log}");
    assert!(log.contains("open findings") && log.contains("daily-cost 2026-11-23"), "{log}");
    drop(served);

    // Started again on the same state: nothing to judge or build, the pages the same.
    let again = Served::start(sample, state.path(), state.path().join("second.log")).await;
    let log = again.log();
    assert!(
        log.contains("judged this snapshot already") && log.contains("latest periods stored already"),
        "{log}"
    );
    assert_eq!(again.json("/cop?format=json&state=open&per_page=500").await["total"], open["total"]);
}

#[tokio::test]
async fn polo_serve_still_serves_the_inventory_when_its_state_cannot_be_written() {
    let sample = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sample_data.json"));
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("state");
    std::fs::write(&not_a_dir, b"a file where the state dir should be").unwrap();
    let served = Served::start(sample, &not_a_dir, dir.path().join("serve.log")).await;
    let instances = served.json("/instances?format=json").await;
    assert!(instances["total"].as_u64().unwrap() > 0, "the inventory is served");
    let log = served.log();
    assert!(log.contains("could not prepare findings and reports"), "{log}");
    assert!(log.contains("state"), "the line names the state dir: {log}");
    assert_eq!(std::fs::read(&not_a_dir).unwrap(), b"a file where the state dir should be", "left as it was");
}
