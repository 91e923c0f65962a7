//! Faults of the local data: a snapshot file that becomes corrupt or truncated (a crash
//! mid-write, a bad hand edit) never replaces what is served, and `/` says so.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use polo_core::FixedClock;
use polo_core::config::Config;
use polo_core::ports::LocalDataService;
use polo_web::AppState;
use polo_web::app::WebSettings;

use crate::harness::{NOW, TestApp, sample};

/// Writes `bytes` to `path` and moves its modification time on, as a new write does.
fn rewrite(path: &std::path::Path, bytes: &[u8], seconds_later: u64) {
    std::fs::write(path, bytes).unwrap();
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() + Duration::from_secs(seconds_later)).unwrap();
}

#[tokio::test]
async fn a_corrupt_or_truncated_snapshot_keeps_the_last_good_data_served_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local_data.json");
    let good = serde_json::to_vec(&sample()).unwrap();
    std::fs::write(&path, &good).unwrap();
    let data = Arc::new(LocalDataService::from_file(&path).unwrap());
    let settings = WebSettings { dev: true, ..WebSettings::default() };
    let state =
        AppState::over(data, Config::bundled().unwrap(), Arc::new(FixedClock(NOW)), settings).unwrap();
    let app = TestApp::spawn_state(state).await;
    let total = |v: serde_json::Value| v["total"].as_u64().unwrap();
    let before = total(app.json("/instances?format=json").await);
    assert!(!app.get("/").await.body.contains("snapshot-problem"));
    assert_eq!(app.json("/?format=json").await["instances"], before);

    for (n, broken) in
        [good[..good.len() / 2].to_vec(), b"{\"instances\": [".to_vec(), b"\0\0garbage".to_vec()]
            .into_iter()
            .enumerate()
    {
        rewrite(&path, &broken, 10 * (n as u64 + 1));
        let home = app.get("/").await;
        assert_eq!(home.status, 200);
        assert!(home.body.contains("id=\"snapshot-problem\""), "case {n}: / says nothing");
        assert!(home.body.contains("cannot be read"), "case {n}");
        assert!(home.body.contains("local_data.json"), "case {n}: the problem names the file");
        assert_eq!(
            total(app.json("/instances?format=json").await),
            before,
            "case {n}: the last good data is served"
        );
    }

    // A good file again: served, and the notice goes.
    let mut fewer = sample();
    fewer.instances.truncate(10);
    rewrite(&path, &serde_json::to_vec(&fewer).unwrap(), 60);
    assert_eq!(total(app.json("/instances?format=json").await), 10);
    assert!(!app.get("/").await.body.contains("snapshot-problem"));
    // `/` counts each snapshot once: the new one's counts, not those kept of the old one.
    assert_eq!(app.json("/?format=json").await["instances"], 10);
}
