//! `polo cop [--dry-run]`: the Cloud Cop over the local snapshot and its cost store, findings
//! remembered under `POLO_STATE/cop`, the digest sent when `SLACK_WEBHOOK_URL` is set.

use polo_core::config::Config;
use polo_core::cop::{CopSources, Notice, run_cop};
use polo_core::model::Severity;
use polo_core::ports::Stores;
use time::OffsetDateTime;

use crate::progress::Progress;

/// What `polo cop` was asked.
pub struct CopOptions<'a> {
    pub dry_run: bool,
    /// The local stores (`Stores::local`): snapshot, costs, findings.
    pub stores: &'a Stores,
    /// Where the digest is sent, and the links' address.
    pub delivery: &'a polo_slack::Delivery,
}

/// Runs the Cop once and says what it found.
pub async fn run(config: &Config, options: &CopOptions<'_>, now: OffsetDateTime) -> anyhow::Result<()> {
    let mut progress = Progress::spinner("cop");
    progress.stage("reading the snapshot");
    let stores = options.stores;
    let (fleet, costs, store) = (stores.fleet.as_ref(), stores.costs.as_ref(), stores.findings.as_ref());
    let sources = CopSources {
        fleet,
        costs,
        store,
        config,
        usage: Some(stores.usage.as_ref()),
        metrics: Some(stores.metrics.as_ref()),
    };
    progress.stage("judging the fleet");
    let run = run_cop(&sources, now, options.dry_run).await?;
    progress.clear();
    let open = run.findings.iter().filter(|f| f.resolved_at.is_none()).count();
    let severity = |s: Severity| run.found.iter().filter(|c| c.severity == s).count();
    let notices = |n: Notice| run.due.iter().filter(|(_, x)| *x == n).count();
    println!(
        "cop: {open} open findings ({} critical, {} warning, {} info); due a notice: {} new, {} still open, {} resolved",
        severity(Severity::Critical),
        severity(Severity::Warning),
        severity(Severity::Info),
        notices(Notice::New),
        notices(Notice::Reminder),
        notices(Notice::Resolved)
    );
    if options.dry_run {
        let quiet = polo_slack::digest::Quiet::of(&run.findings, now);
        for part in polo_slack::digest::digest(
            &run.due,
            quiet,
            &options.delivery.public_url,
            options.delivery.bot.is_some(),
        ) {
            println!(
                "\nSlack message ({} findings):\n{}",
                part.finding_ids.len(),
                serde_json::to_string_pretty(&part.message)?
            );
        }
        progress.finish(&format!("cop: {open} open findings, nothing stored (dry run)"));
        return Ok(());
    }
    let outbox = polo_slack::digest::FindingOutbox {
        store,
        renotify: polo_core::cop::Renotify::of(&config.cop),
        public_url: &options.delivery.public_url,
    };
    let mut slack = "Slack not configured".to_owned();
    if let Some(drained) = options.delivery.send(&outbox, now, std::time::Duration::MAX).await? {
        println!("slack: {} messages sent, {} left", drained.sent, drained.left);
        for problem in &drained.problems {
            println!("slack: {problem}");
        }
        slack = format!("Slack {} sent, {} left", drained.sent, drained.left);
    }
    progress.finish(&format!("cop: {open} open findings; {slack}"));
    Ok(())
}
