//! `polo report TYPE [--period P] [--dry-run]`: one report over the local snapshot, its cost
//! store and history, stored under `POLO_STATE/reports`.

use std::path::Path;

use polo_core::config::Config;
use polo_core::data::{LocalCostReader, LocalDataService, cost_store_path};
use polo_core::reports::{LocalReports, ReportSources, ReportType, RunOutcome, plain_text, run_report};
use time::OffsetDateTime;

/// What `polo report` was asked.
pub struct ReportOptions<'a> {
    pub kind: ReportType,
    pub period: Option<&'a str>,
    pub dry_run: bool,
    pub data: &'a Path,
    pub state: &'a Path,
    /// `SLACK_WEBHOOK_URL`: where the outbox is sent after storing.
    pub slack: Option<&'a str>,
    /// `PUBLIC_URL`: the dashboard's address, for links.
    pub public_url: &'a str,
}

/// Runs one report and says what it did.
pub async fn run(config: &Config, options: &ReportOptions<'_>, now: OffsetDateTime) -> anyhow::Result<()> {
    let data = LocalDataService::from_file(options.data)?;
    let costs = LocalCostReader::new(cost_store_path(options.data));
    let store = LocalReports::new(options.state);
    let sources =
        ReportSources { fleet: &data, costs: &costs, changes: &data, findings: &data, store: &store, config };
    let outcome = run_report(options.kind, options.period, &sources, now, options.dry_run).await?;
    let report = outcome.report();
    let what = format!("{} {}", report.kind.as_str(), report.period);
    match &outcome {
        RunOutcome::DryRun(report) => {
            print!("{}", plain_text(report));
            let message = polo_slack::report_message::report_message(report, options.public_url);
            println!("\nSlack message:\n{}", serde_json::to_string_pretty(&message)?);
            return Ok(());
        }
        RunOutcome::Stored(report) => {
            println!("stored {what} ({}): {}", report.path(), report.body.headline);
        }
        RunOutcome::Unchanged(_) => println!("unchanged {what}: the stored report says the same"),
    }
    if let Some(url) = options.slack {
        let webhook = polo_slack::SlackWebhook::new(url)?;
        let outbox =
            polo_slack::report_message::ReportOutbox { store: &store, public_url: options.public_url };
        let pacing = polo_slack::Pacing { pace: polo_slack::outbox::PACE, budget: std::time::Duration::MAX };
        let drained = polo_slack::drain(&outbox, &webhook, now, pacing).await?;
        println!("slack: {} sent, {} left", drained.sent, drained.left);
        for problem in &drained.problems {
            println!("slack: {problem}");
        }
    }
    Ok(())
}
