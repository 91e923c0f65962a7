use std::collections::BTreeMap;
use std::sync::Arc;

use polo::cli::SyncResource;
use polo::sync::{SyncOptions, run_sync};
use polo_core::model::{AccountKind, Everything, IndexStatus, InstanceState, Lifecycle, SyncStatus};
use polo_core::ports::{LocalStore, parse_snapshot};
use polo_sync_engine::{Previous, Reach, SyncPlan, combine, sync};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::fleet::{create_registry, create_registry_with, ec2, launch, put_items, registry_item};
use crate::harness::{account, base_config, config_with, emulator, fresh_account_id, in_account};

const NOW: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

fn read_snapshot(path: &std::path::Path) -> Everything {
    parse_snapshot(&std::fs::read_to_string(path).unwrap(), "snapshot").unwrap()
}

#[tokio::test]
async fn two_accounts_two_regions_every_page_field_by_field() {
    let base = base_config(&emulator()).await;
    let (a_id, b_id) = (fresh_account_id(210), fresh_account_id(220));
    let a = account("alpha", &a_id, AccountKind::Prod, &["us-east-1", "us-west-2"]);
    let b = account("beta", &b_id, AccountKind::Staging, &["us-east-1", "eu-west-1"]);
    let (in_a, in_b) = (in_account(&base, &a_id).await, in_account(&base, &b_id).await);

    // More instances than one DescribeInstances page (100 reservations) in one region.
    let mut created = launch(
        &in_a,
        "us-east-1",
        105,
        "m6i.large",
        &[("owner", "alice"), ("marqo-index", "idx-a1"), ("customer", "acme")],
        false,
    )
    .await;
    let named =
        launch(&in_a, "us-west-2", 2, "c6i.xlarge", &[("Name", "web-1"), ("owner", "bob")], true).await;
    created.extend(named.iter().cloned());
    let stopped = launch(&in_a, "us-west-2", 1, "r6i.large", &[("Name", "old-box")], false).await;
    ec2(&in_a, "us-west-2")
        .stop_instances()
        .instance_ids(stopped[0].instance_id().unwrap())
        .send()
        .await
        .unwrap();
    created.extend(stopped.iter().cloned());
    created.extend(launch(&in_b, "us-east-1", 3, "t3.medium", &[("owner", "carol")], false).await);
    created.extend(
        launch(
            &in_b,
            "eu-west-1",
            2,
            "g5.xlarge",
            &[("marqo-index", "idx-orphan"), ("customer", "globex")],
            false,
        )
        .await,
    );

    // A registry larger than one Scan page, in every region the accounts have.
    for (cfg, region) in
        [(&in_a, "us-east-1"), (&in_a, "us-west-2"), (&in_b, "us-east-1"), (&in_b, "eu-west-1")]
    {
        create_registry(cfg, region, "marqo-indexes").await;
    }
    let many: Vec<_> = (0..1_203)
        .map(|n| registry_item(&format!("idx-{n:05}"), &format!("index-{n}"), "acme", "READY"))
        .collect();
    put_items(&in_a, "us-east-1", "marqo-indexes", many).await;
    put_items(
        &in_b,
        "eu-west-1",
        "marqo-indexes",
        vec![registry_item("idx-b1", "products", "globex", "CREATING")],
    )
    .await;

    let config = config_with(vec![a.clone(), b.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let snapshot_path = dir.path().join("local_data.json");
    let store = Arc::new(LocalStore::new(dir.path().join("sync"), &snapshot_path));
    let plan = SyncPlan::all(&config, 8, Reach::Roles);
    let outcomes = sync(&plan, &base, store.clone(), NOW).await;
    assert_eq!(outcomes.len(), 8);
    assert!(outcomes.iter().all(|o| o.status == SyncStatus::Ok), "{outcomes:?}");
    let combined = combine(&config, store.as_ref(), Previous::default(), NOW).await;
    let e = &combined.everything;

    assert_eq!(e.instances.len(), created.len());
    let by_id: BTreeMap<&str, &polo_core::model::Instance> =
        e.instances.iter().map(|i| (i.id.as_str(), i)).collect();
    for raw in &created {
        let id = raw.instance_id().unwrap();
        let got = by_id.get(id).unwrap_or_else(|| panic!("{id} missing"));
        let tags: polo_core::model::Tags =
            raw.tags().iter().map(|t| (t.key().unwrap(), t.value().unwrap())).collect();
        assert_eq!(got.tags, tags, "{id}");
        assert_eq!(got.name.as_deref(), tags.get("Name").map(polo_core::model::Text::as_str), "{id}");
        assert_eq!(got.owner.as_deref(), tags.get("owner").map(polo_core::model::Text::as_str), "{id}");
        assert_eq!(got.index.as_deref(), tags.get("marqo-index").map(polo_core::model::Text::as_str), "{id}");
        assert_eq!(got.customer.as_deref(), tags.get("customer").map(polo_core::model::Text::as_str), "{id}");
        assert_eq!(got.instance_type, raw.instance_type().unwrap().as_str(), "{id}");
        assert_eq!(got.az, raw.placement().unwrap().availability_zone().unwrap(), "{id}");
        assert_eq!(got.private_ip.as_deref(), raw.private_ip_address(), "{id}");
        assert_eq!(got.launch_time.unix_timestamp(), raw.launch_time().unwrap().secs(), "{id}");
        let (account, account_id) =
            if got.account == "alpha" { ("alpha", a_id.as_str()) } else { ("beta", b_id.as_str()) };
        assert_eq!((got.account.as_str(), got.account_id.as_str()), (account, account_id), "{id}");
        assert!(got.region == "us-east-1" || got.region == "us-west-2" || got.region == "eu-west-1");
    }
    assert!(named.iter().all(|n| by_id[n.instance_id().unwrap()].lifecycle == Lifecycle::Spot));
    let old = by_id[stopped[0].instance_id().unwrap()];
    assert_eq!(old.state, InstanceState::Stopped);
    assert!(old.state_since.is_some(), "the stop time comes from the transition reason");
    assert_eq!(e.instances.iter().filter(|i| i.region == "us-east-1" && i.account == "alpha").count(), 105);

    assert_eq!(e.indexes.len(), 1_204);
    let b1 = e.indexes.iter().find(|x| x.index_id == "idx-b1").unwrap();
    assert_eq!(
        (b1.account.as_str(), b1.region.as_str(), b1.name.as_str(), b1.customer.as_str()),
        ("beta", "eu-west-1", "products", "globex")
    );
    assert_eq!(b1.status, IndexStatus::Creating);
    assert_eq!(
        (b1.inference_type.as_str(), b1.inference_count, b1.shards, b1.replicas),
        ("marqo.CPU.large", 2, 3, 1)
    );
    assert_eq!(b1.storage_class, "marqo.balanced.storage");
    assert_eq!(b1.marqo_version, "2.12.0");
    assert_eq!(b1.created_at, datetime!(2026-01-02 03:04:05 UTC));
    assert_eq!(b1.status_since, Some(datetime!(2026-02-03 04:05:06 UTC)));
    assert!(
        e.accounts
            .iter()
            .all(|a| a.documents.len() == 4 && a.documents.iter().all(|d| d.synced_at == Some(NOW)))
    );
    assert_eq!(combined.changes.len(), e.instances.len() + e.indexes.len(), "everything appeared");

    // The same through the command line, with -p and -r: only beta's indexes.
    let only = tempfile::tempdir().unwrap();
    let options = SyncOptions {
        resource: Some(SyncResource::Indexes),
        accounts: vec!["beta".into()],
        out: only.path().join("sync"),
        data: only.path().join("local_data.json"),
        concurrency: 4,
    };
    run_sync(&config, &options, NOW).await.unwrap();
    let written: Vec<String> = walk(&only.path().join("sync"));
    assert_eq!(written, vec!["beta/eu-west-1/indexes.json", "beta/us-east-1/indexes.json"]);
    let snapshot = read_snapshot(&only.path().join("local_data.json"));
    assert_eq!(snapshot.indexes.len(), 1);
    assert!(snapshot.instances.is_empty());
    let err = run_sync(&config, &SyncOptions { accounts: vec!["gamma".into()], ..options.clone() }, NOW)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "-p: no account named \"gamma\"; configured: alpha, beta");
}

fn walk(root: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            } else {
                out.push(entry.path().strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// The debug `polo` binary beside this test's.
fn polo_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().and_then(|deps| deps.parent()).unwrap().join("polo");
    assert!(path.exists(), "{} is not built: run `cargo build --bins` first", path.display());
    path
}

#[tokio::test]
async fn polo_sync_off_a_terminal_prints_plain_lines_and_a_summary() {
    let endpoint = emulator();
    let base = base_config(&endpoint).await;
    let id = fresh_account_id(230);
    let in_a = in_account(&base, &id).await;
    launch(&in_a, "us-east-1", 2, "m6i.large", &[("owner", "ada")], false).await;
    create_registry_with(
        &in_a,
        "us-east-1",
        "marqo-indexes",
        vec![registry_item("idx-1", "docs", "acme", "READY")],
    )
    .await;
    // us-west-2 has no index registry: that pull fails, and says so as it happens.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("polo.toml");
    std::fs::write(
        &config,
        format!(
            "[[accounts]]\nname = \"alpha\"\nid = \"{id}\"\nkind = \"prod\"\n\
             regions = [\"us-east-1\", \"us-west-2\"]\nrole_arn = \"arn:aws:iam::{id}:role/polo-read\"\n"
        ),
    )
    .unwrap();
    let output = std::process::Command::new(polo_binary())
        .args(["sync", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(dir.path().join("sync"))
        .arg("--data")
        .arg(dir.path().join("local_data.json"))
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("TERM", "xterm-256color")
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success(), "a failed pull fails the command: {stderr}");
    assert!(
        !stderr.chars().any(|c| c == '\u{1b}' || c == '\r' || (c.is_control() && c != '\n')),
        "no progress bar control characters off a terminal: {stderr:?}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("ok     alpha") && l.contains("us-east-1") && l.ends_with("2 items")),
        "{stderr}"
    );
    assert!(lines.iter().any(|l| l.starts_with("FAILED alpha") && l.contains("us-west-2")), "{stderr}");
    assert!(
        lines.iter().any(|l| l.trim_start().starts_with("alpha") && l.contains("4 pulls, 1 failed, 3 items")),
        "{stderr}"
    );
    let summary = lines.iter().rev().find(|l| l.starts_with("sync: ")).unwrap_or_else(|| panic!("{stderr}"));
    assert!(summary.starts_with("sync: 4 pulls, 3 ok, 1 failed, 3 items in "), "{summary}");
    assert!(
        lines.last().unwrap().starts_with("polo: error: 1 of 4 pulls failed"),
        "the error comes last: {stderr}"
    );
}
