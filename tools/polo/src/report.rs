//! `polo report TYPE [--period P] [--dry-run]`: one report over the local snapshot, its cost
//! store and history, stored under `POLO_STATE/reports`.

use std::path::Path;

use polo_core::config::Config;
use polo_core::cop::LocalFindings;
use polo_core::data::{LocalCostReader, LocalDataService, cost_store_path};
use polo_core::reports::{LocalReports, ReportSources, ReportType, RunOutcome, plain_text, run_report};
use time::OffsetDateTime;

use crate::progress::Progress;

/// What `polo report` was asked.
pub struct ReportOptions<'a> {
    pub kind: ReportType,
    pub period: Option<&'a str>,
    pub dry_run: bool,
    pub data: &'a Path,
    pub state: &'a Path,
    /// Where the outbox is sent after storing, and the links' address.
    pub delivery: &'a polo_slack::Delivery,
}

/// Runs one report and says what it did.
pub async fn run(config: &Config, options: &ReportOptions<'_>, now: OffsetDateTime) -> anyhow::Result<()> {
    let mut progress = Progress::spinner("report");
    progress.stage("reading the snapshot");
    let data = LocalDataService::from_file(options.data)?;
    let costs = LocalCostReader::new(cost_store_path(options.data));
    let store = LocalReports::new(options.state);
    // The findings the Cop keeps beside the reports (`polo cop`), as the pages show them.
    let findings = LocalFindings::new(options.state);
    let sources = ReportSources {
        fleet: &data,
        costs: &costs,
        changes: &data,
        findings: &findings,
        store: &store,
        config,
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
    let outbox =
        polo_slack::report_message::ReportOutbox { store: &store, public_url: &options.delivery.public_url };
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
