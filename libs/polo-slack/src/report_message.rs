//! Reports in Slack: a short summary of each new report with a link to its page, sent
//! through the outbox of the report store (a report with no `sent_at`).

use async_trait::async_trait;
use polo_core::ports::{DataError, ReportStore};
use polo_core::reports::Report;
use time::OffsetDateTime;

use crate::blocks::{self, Message};
use crate::outbox::Outbox;

/// The message of `report`, linking to its page under `public_url`.
pub fn report_message(report: &Report, public_url: &str) -> Message {
    let revised = report.revised_from.map(|from| {
        let to = report.total.unwrap_or(from);
        format!(
            "Revised: Cost Explorer revised these numbers since Polo sent them; the total is now ${} (was ${}).",
            to.to_grouped_cents(),
            from.to_grouped_cents()
        )
    });
    let title = format!(
        "{}{} · {}",
        if revised.is_some() { "Revised: " } else { "" },
        report.kind.title(),
        report.period
    );
    let url = format!("{}{}", public_url.trim_end_matches('/'), report.path());
    let facts: Vec<(String, String)> =
        report.body.facts.iter().map(|f| (f.label.clone(), f.value.clone())).collect();
    let mut message_blocks = vec![blocks::header(&title)];
    if let Some(revised) = &revised {
        message_blocks.push(blocks::context(&blocks::escape(revised)));
    }
    message_blocks.push(blocks::section(&blocks::escape(&report.body.headline)));
    if !facts.is_empty() {
        message_blocks.push(blocks::fields(&facts));
    }
    message_blocks.push(blocks::context(&blocks::link(&url, "Open the report in Polo")));
    Message { text: blocks::escape(&format!("{title}: {}", report.body.headline)), blocks: message_blocks }
}

/// The reports Slack has not heard of, in a report store.
pub struct ReportOutbox<'a> {
    pub store: &'a dyn ReportStore,
    /// The dashboard's address (`PUBLIC_URL`), for links.
    pub public_url: &'a str,
}

#[async_trait]
impl Outbox for ReportOutbox<'_> {
    type Item = Report;

    /// The reports Slack has not had, oldest first: chosen from the heads (no bodies), then
    /// each one read whole.
    async fn pending(&self, now: OffsetDateTime, _buttons: bool) -> Result<Vec<Report>, DataError> {
        let mut unsent: Vec<polo_core::reports::ReportHead> = self
            .store
            .heads(&polo_core::ports::ReportFilter::default(), now)
            .await?
            .into_iter()
            .filter(|r| r.sent_at.is_none())
            .collect();
        unsent.sort_by(|a, b| a.generated_at.cmp(&b.generated_at).then_with(|| a.kind.cmp(&b.kind)));
        let mut reports = Vec::with_capacity(unsent.len());
        for head in unsent {
            // Gone or sent since the heads were read: nothing to send.
            if let Some(report) =
                self.store.get(head.kind, &head.period, now).await?.filter(|r| r.sent_at.is_none())
            {
                reports.push(report);
            }
        }
        Ok(reports)
    }

    fn message(&self, report: &Report) -> Message {
        report_message(report, self.public_url)
    }

    fn describe(&self, report: &Report) -> String {
        format!("{} {}", report.kind.as_str(), report.period)
    }

    async fn mark_sent(&self, report: &Report, at: OffsetDateTime) -> Result<(), DataError> {
        self.store.mark_sent(report, at).await
    }
}

#[cfg(test)]
mod tests {
    use polo_core::Money;

    #[test]
    fn a_revision_says_so_and_from_what_to_what() {
        let (everything, costs) = polo_core::sample::generate_with_costs(
            42,
            polo_core::sample::Scale::Small,
            time::macros::datetime!(2026-11-24 12:00 UTC),
        );
        let fleet = polo_core::model::Fleet::new(everything);
        let config = polo_core::config::Config::bundled().unwrap();
        let inputs = polo_core::reports::ReportInputs {
            fleet: &fleet,
            costs: &costs,
            changes: &[],
            findings: &[],
            config: &config,
            usage: None,
            metrics: None,
        };
        let period =
            polo_core::reports::Period::parse("2026-11-21", polo_core::reports::Granularity::Day).unwrap();
        let mut report = polo_core::reports::generate(
            polo_core::reports::ReportType::DailyCost,
            period,
            &inputs,
            time::macros::datetime!(2026-11-24 12:00 UTC),
        );
        let plain = serde_json::to_string(&super::report_message(&report, "https://polo.example")).unwrap();
        assert!(!plain.contains("Revised"));
        report.revised_from = Some(Money::from_scaled(100_000, 2));
        let message = serde_json::to_string(&super::report_message(&report, "https://polo.example")).unwrap();
        assert!(message.contains("Revised: Daily cost"), "{message}");
        assert!(message.contains("(was $1,000.00)"), "{message}");
    }
}
