//! `polo report TYPE [--period P] [--dry-run]`: one report over the local snapshot, its cost
//! store and history, stored under `POLO_STATE/reports`.

use polo_core::config::Config;
use polo_core::ports::Stores;
use polo_core::reports::{ReportSources, ReportType, RunOutcome, plain_text, run_report};
use time::OffsetDateTime;

use crate::progress::Progress;

/// What `polo report` was asked.
pub struct ReportOptions<'a> {
    pub kind: ReportType,
    pub period: Option<&'a str>,
    pub dry_run: bool,
    /// The local stores (`Stores::local`): snapshot, costs, history, the Cop's findings, reports.
    pub stores: &'a Stores,
    /// Where the outbox is sent after storing, and the links' address.
    pub delivery: &'a polo_slack::Delivery,
}

/// Runs one report and says what it did.
pub async fn run(config: &Config, options: &ReportOptions<'_>, now: OffsetDateTime) -> anyhow::Result<()> {
    let mut progress = Progress::spinner("report");
    progress.stage("reading the snapshot");
    let stores = options.stores;
    // The findings the Cop keeps beside the reports (`polo cop`), as the pages show them.
    let sources = ReportSources {
        fleet: stores.fleet.as_ref(),
        costs: stores.costs.as_ref(),
        changes: stores.history.as_ref(),
        findings: stores.findings.as_ref(),
        store: stores.reports.as_ref(),
        config,
        usage: Some(stores.usage.as_ref()),
        metrics: Some(stores.metrics.as_ref()),
    };
    progress.stage(&format!("building {}", options.kind.as_str()));
    let outcome = run_report(options.kind, options.period, &sources, now, options.dry_run).await?;
    progress.clear();
    let report = outcome.report();
    let what = format!("{} {}", report.kind.as_str(), report.period);
    match &outcome {
        RunOutcome::DryRun(report) => {
            print!("{}", plain_text(report));
            let message = polo_slack::report_message::report_message(report, &options.delivery.public_url);
            println!("\nSlack message:\n{}", serde_json::to_string_pretty(&message)?);
            progress.finish(&format!("report: {what} built, not stored (dry run)"));
            return Ok(());
        }
        RunOutcome::Stored(report) => {
            println!("stored {what} ({}): {}", report.path(), report.body.headline);
        }
        RunOutcome::Unchanged(_) => println!("unchanged {what}: the stored report says the same"),
    }
    let outbox = polo_slack::report_message::ReportOutbox {
        store: stores.reports.as_ref(),
        public_url: &options.delivery.public_url,
    };
    let mut slack = "Slack not configured".to_owned();
    if let Some(drained) = options.delivery.send(&outbox, now, std::time::Duration::MAX).await? {
        println!("slack: {} sent, {} left", drained.sent, drained.left);
        for problem in &drained.problems {
            println!("slack: {problem}");
        }
        slack = format!("Slack {} sent, {} left", drained.sent, drained.left);
    }
    let verb = if matches!(outcome, RunOutcome::Unchanged(_)) { "unchanged" } else { "stored" };
    progress.finish(&format!("report: {what} {verb}; {slack}"));
    Ok(())
}
