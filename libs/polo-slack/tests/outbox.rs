//! The report outbox against a local HTTP server standing in for Slack's incoming webhook:
//! it records every request and answers from a script (200 unless told otherwise).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use polo_core::ports::{MemoryReports, ReportFilter, ReportStore};
use polo_core::reports::{Fact, Report, ReportBody, ReportType};
use polo_slack::report_message::ReportOutbox;
use polo_slack::{Destination, Pacing, SlackWebhook, drain};
use polo_tests::fake_slack::FakeSlack;
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-24 06:15 UTC);
const PUBLIC: &str = "https://polo.example.com";

async fn fake_slack() -> (Arc<FakeSlack>, Destination) {
    let (slack, url) = FakeSlack::start(&[]).await;
    (slack, Destination::Webhook(SlackWebhook::new(url).unwrap()))
}

fn report(kind: ReportType, period: &str) -> Report {
    Report {
        kind,
        period: period.to_owned(),
        start: NOW,
        end: NOW,
        generated_at: NOW,
        expires_at: NOW + time::Duration::days(35),
        body: ReportBody {
            headline: format!("{period}: $1,234.56 spent <b>&</b>"),
            facts: vec![Fact { label: "Spent".into(), value: "$1,234.56".into() }],
            sections: Vec::new(),
            trend: Vec::new(),
        },
        is_final: true,
        sent_at: None,
        total: None,
        heard_total: None,
        revised_from: None,
    }
}

async fn store_with(reports: &[Report]) -> MemoryReports {
    let store = MemoryReports::default();
    for r in reports {
        store.put(r).await.unwrap();
    }
    store
}

async fn unsent(store: &MemoryReports) -> usize {
    store.list(&ReportFilter::default(), NOW).await.unwrap().iter().filter(|r| r.sent_at.is_none()).count()
}

#[tokio::test]
async fn each_new_report_is_posted_once_with_a_link_to_its_page() {
    let (slack, hook) = fake_slack().await;
    let store = store_with(&[
        report(ReportType::DailyCost, "2026-11-23"),
        report(ReportType::IdleResources, "2026-11-23"),
    ])
    .await;
    let outbox = ReportOutbox { store: &store, public_url: PUBLIC };
    let drained = drain(&outbox, &hook, NOW, Pacing::IMMEDIATE).await.unwrap();
    assert_eq!((drained.sent, drained.left), (2, 0));
    let received = slack.received();
    assert_eq!(received.len(), 2);
    let text = received[0].to_string();
    assert!(
        text.contains("<https://polo.example.com/reports/daily-cost/2026-11-23|Open the report in Polo>"),
        "{text}"
    );
    assert!(text.contains("&lt;b&gt;&amp;&lt;/b&gt;"), "data is escaped for mrkdwn: {text}");
    assert!(received[0]["blocks"].as_array().unwrap().len() <= 50);
    // The next run has nothing to send.
    let again = drain(&outbox, &hook, NOW, Pacing::IMMEDIATE).await.unwrap();
    assert_eq!((again.sent, again.left), (0, 0));
    assert_eq!(slack.received().len(), 2, "nothing posted twice");
}

#[tokio::test]
async fn a_429_waits_retry_after_then_sends() {
    let (slack, hook) = fake_slack().await;
    slack.answer(429, Some("2"));
    let store = store_with(&[report(ReportType::DailyCost, "2026-11-23")]).await;
    let outbox = ReportOutbox { store: &store, public_url: PUBLIC };
    let started = Instant::now();
    let drained = drain(&outbox, &hook, NOW, Pacing::IMMEDIATE).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(2), "waited Retry-After");
    assert_eq!((drained.sent, drained.left), (1, 0));
    assert_eq!(slack.received().len(), 2, "the refused try and the accepted one");
    assert_eq!(unsent(&store).await, 0);
}

#[tokio::test]
async fn a_5xx_leaves_everything_unsent_for_the_next_run() {
    let (slack, hook) = fake_slack().await;
    slack.answer(500, None);
    let store = store_with(&[
        report(ReportType::DailyCost, "2026-11-23"),
        report(ReportType::MonthlyClose, "2026-10"),
    ])
    .await;
    let outbox = ReportOutbox { store: &store, public_url: PUBLIC };
    let first = drain(&outbox, &hook, NOW, Pacing::IMMEDIATE).await.unwrap();
    assert_eq!((first.sent, first.left), (0, 2));
    assert!(first.problems[0].contains("Slack answered 500"), "{:?}", first.problems);
    assert_eq!(slack.received().len(), 1, "the run stopped at the failure");
    assert_eq!(unsent(&store).await, 2);
    // The next run (any report type's) sends both, once.
    let second = drain(&outbox, &hook, NOW, Pacing::IMMEDIATE).await.unwrap();
    assert_eq!((second.sent, second.left), (2, 0));
    let received = slack.received();
    assert_eq!(received.len(), 3);
    let texts: Vec<String> = received.iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect();
    assert_eq!(texts[0], texts[1], "the failed message was sent again");
    assert_ne!(texts[1], texts[2]);
}

#[tokio::test]
async fn an_unreachable_slack_loses_nothing() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    drop(listener);
    let hook = Destination::Webhook(SlackWebhook::new(url).unwrap());
    let store = store_with(&[report(ReportType::DailyCost, "2026-11-23")]).await;
    let outbox = ReportOutbox { store: &store, public_url: PUBLIC };
    let drained = drain(&outbox, &hook, NOW, Pacing::IMMEDIATE).await.unwrap();
    assert_eq!((drained.sent, drained.left), (0, 1));
    assert!(drained.problems[0].contains("could not be reached"), "{:?}", drained.problems);
    assert_eq!(unsent(&store).await, 1);
}

/// A webhook at a loopback port nothing listens on: Slack down.
fn slack_down() -> Destination {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    drop(listener);
    Destination::Webhook(SlackWebhook::new(url).unwrap())
}

#[tokio::test]
async fn slack_down_for_a_whole_report_run_hears_every_report_once_on_the_next() {
    let store = store_with(&[
        report(ReportType::DailyCost, "2026-11-23"),
        report(ReportType::IdleResources, "2026-11-23"),
        report(ReportType::InventoryChanges, "2026-11-23"),
        report(ReportType::WeeklySummary, "2026-W47"),
        report(ReportType::MonthlyClose, "2026-10"),
    ])
    .await;
    let outbox = ReportOutbox { store: &store, public_url: PUBLIC };
    let down = drain(&outbox, &slack_down(), NOW, Pacing::IMMEDIATE).await.unwrap();
    assert_eq!((down.sent, down.left), (0, 5));
    assert_eq!(unsent(&store).await, 5, "nothing is marked sent while Slack is down");
    let (slack, hook) = fake_slack().await;
    let next = drain(&outbox, &hook, NOW, Pacing::IMMEDIATE).await.unwrap();
    assert_eq!((next.sent, next.left), (5, 0));
    let texts: std::collections::HashSet<String> =
        slack.received().iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect();
    assert_eq!(texts.len(), 5, "each report once");
    assert_eq!(drain(&outbox, &hook, NOW, Pacing::IMMEDIATE).await.unwrap().sent, 0, "and never again");
}

#[tokio::test]
async fn a_refused_message_stays_unsent_and_the_others_go_on() {
    let (slack, hook) = fake_slack().await;
    slack.answer(400, None);
    let store = store_with(&[
        report(ReportType::DailyCost, "2026-11-23"),
        report(ReportType::MonthlyClose, "2026-10"),
    ])
    .await;
    let outbox = ReportOutbox { store: &store, public_url: PUBLIC };
    let drained = drain(&outbox, &hook, NOW, Pacing::IMMEDIATE).await.unwrap();
    assert_eq!((drained.sent, drained.left), (1, 1));
    assert!(drained.problems[0].contains("refused the message (400)"), "{:?}", drained.problems);
    assert_eq!(slack.received().len(), 2);
}

#[tokio::test]
async fn a_gone_webhook_stops_the_run_and_a_spent_budget_leaves_the_rest() {
    let (slack, hook) = fake_slack().await;
    slack.answer(404, None);
    let store = store_with(&[
        report(ReportType::DailyCost, "2026-11-23"),
        report(ReportType::MonthlyClose, "2026-10"),
    ])
    .await;
    let outbox = ReportOutbox { store: &store, public_url: PUBLIC };
    let drained = drain(&outbox, &hook, NOW, Pacing::IMMEDIATE).await.unwrap();
    assert_eq!((drained.sent, drained.left), (0, 2));
    assert!(drained.problems[0].contains("Slack takes no message here (404)"), "{:?}", drained.problems);
    assert_eq!(slack.received().len(), 1, "no message tried after a 404");
    let no_time = Pacing { pace: Duration::ZERO, budget: Duration::from_secs(1) };
    let drained = drain(&outbox, &hook, NOW, no_time).await.unwrap();
    assert_eq!((drained.sent, drained.left), (0, 2));
    assert!(drained.problems[0].starts_with("time is up"), "{:?}", drained.problems);
    assert_eq!(slack.received().len(), 1);
}

mod findings {
    use polo_core::cop::Notice;
    use polo_core::model::{Finding, ResourceKind, Severity};
    use polo_core::ports::{FindingStore, MemoryFindings};
    use polo_slack::digest::FindingOutbox;
    use polo_slack::{Pacing, drain};

    use super::{NOW, PUBLIC, fake_slack};

    fn findings(n: usize) -> Vec<Finding> {
        (0..n)
            .map(|k| Finding {
                id: format!("owner-missing:instances:i-{k:05}"),
                rule: "owner-missing".into(),
                severity: [Severity::Info, Severity::Warning, Severity::Critical][k % 3],
                resource_kind: ResourceKind::Instances,
                resource_id: format!("i-{k:05}"),
                account: ["prod", "staging"][k % 2].into(),
                region: "us-east-1".into(),
                message: format!("Instance i-{k:05} runs in us-east-1 with no `owner` tag: tag it with the person or team who owns it, or stop it."),
                first_seen: NOW,
                last_seen: NOW,
                last_notified: None,
                resolved_at: None,
                monthly_cost_impact: None,
                handling: polo_core::model::Handling::default(),
            })
            .collect()
    }

    #[tokio::test]
    async fn three_hundred_findings_arrive_in_valid_messages_once() {
        let (slack, hook) = fake_slack().await;
        let store = MemoryFindings::default();
        store.save(&findings(300)).await.unwrap();
        let outbox = FindingOutbox {
            store: &store,
            renotify: polo_core::cop::Renotify::of(&polo_core::config::CopSettings::default()),
            public_url: PUBLIC,
        };
        let drained = drain(&outbox, &hook, NOW, Pacing::IMMEDIATE).await.unwrap();
        assert_eq!(drained.left, 0);
        let received = slack.received();
        assert!(received.len() > 1, "split: {}", received.len());
        assert_eq!(drained.sent, received.len());
        let mut told = 0;
        for message in &received {
            let blocks = message["blocks"].as_array().unwrap();
            assert!(blocks.len() <= 50);
            for block in blocks {
                if let Some(text) = block["text"]["text"].as_str() {
                    assert!(text.chars().count() <= 3000);
                    told += text.matches("<https://polo.example.com/instances/").count();
                }
            }
        }
        assert_eq!(told, 300, "every finding once");
        assert!(store.all().await.unwrap().iter().all(|f| f.last_notified == Some(NOW)));
        assert_eq!(drain(&outbox, &hook, NOW, Pacing::IMMEDIATE).await.unwrap().sent, 0, "nothing twice");
        let _ = Notice::New;
    }

    #[tokio::test]
    async fn a_429_then_a_failing_run_then_success_delivers_exactly_once() {
        let (slack, hook) = fake_slack().await;
        let store = MemoryFindings::default();
        store.save(&findings(3)).await.unwrap();
        let outbox = FindingOutbox {
            store: &store,
            renotify: polo_core::cop::Renotify::of(&polo_core::config::CopSettings::default()),
            public_url: PUBLIC,
        };
        slack.answer(429, Some("2"));
        slack.answer(500, None);
        let failed = drain(&outbox, &hook, NOW, Pacing::IMMEDIATE).await.unwrap();
        assert_eq!((failed.sent, failed.left), (0, 1), "429 waited, then 500 left it for the next run");
        assert!(store.all().await.unwrap().iter().all(|f| f.last_notified.is_none()));
        let next = drain(&outbox, &hook, NOW, Pacing::IMMEDIATE).await.unwrap();
        assert_eq!((next.sent, next.left), (1, 0));
        let received = slack.received();
        assert_eq!(received.len(), 3, "429, 500, then the one accepted");
        assert!(store.all().await.unwrap().iter().all(|f| f.last_notified == Some(NOW)));
    }
}

mod cop_runs {
    use std::sync::Arc;

    use polo_core::config::Config;
    use polo_core::cop::{CopSources, run_cop};
    use polo_core::ports::{InMemoryCosts, LocalDataService, MemoryFindings};
    use polo_core::sample::{Scale, generate_with_costs};
    use polo_slack::digest::FindingOutbox;
    use polo_slack::{Pacing, drain};
    use time::Duration;

    use super::{NOW, PUBLIC, fake_slack};

    /// Slack down for a whole Cop run: nothing is marked told; the next run tells every
    /// open finding exactly once.
    #[tokio::test]
    async fn slack_down_for_a_whole_cop_run_hears_every_finding_once_on_the_next() {
        let (everything, costs) = generate_with_costs(42, Scale::Small, NOW);
        let (config, costs, store) =
            (Config::bundled().unwrap(), InMemoryCosts(Arc::new(costs)), MemoryFindings::default());
        let data = LocalDataService::from_snapshot(everything);
        let sources = CopSources::new(&data, &costs, &store, &config);
        let outbox = FindingOutbox {
            store: &store,
            renotify: polo_core::cop::Renotify::of(&polo_core::config::CopSettings::default()),
            public_url: PUBLIC,
        };
        run_cop(&sources, NOW, false).await.unwrap();
        let down = drain(&outbox, &super::slack_down(), NOW, Pacing::IMMEDIATE).await.unwrap();
        assert_eq!(down.sent, 0);
        assert!(down.left >= 1);
        let open = polo_core::ports::FindingStore::all(&store).await.unwrap();
        assert!(open.len() > 5 && open.iter().all(|f| f.last_notified.is_none()), "nothing marked told");

        let later = NOW + Duration::minutes(15);
        run_cop(&sources, later, false).await.unwrap();
        let (slack, hook) = fake_slack().await;
        let next = drain(&outbox, &hook, later, Pacing::IMMEDIATE).await.unwrap();
        assert_eq!(next.left, 0);
        let told: String = slack.received().iter().map(ToString::to_string).collect();
        // Every open finding is told once: its resource's link appears once per finding of it.
        let mut per_link = std::collections::HashMap::<String, usize>::new();
        for finding in &open {
            *per_link
                .entry(format!("{PUBLIC}/{}/{}|", finding.resource_kind.as_str(), finding.resource_id))
                .or_default() += 1;
        }
        for (link, findings) in &per_link {
            assert_eq!(told.matches(link.as_str()).count(), *findings, "{link}");
        }
        assert_eq!(drain(&outbox, &hook, later, Pacing::IMMEDIATE).await.unwrap().sent, 0, "nothing twice");
    }

    /// Slack hears of a finding when new, not again within `renotify_hours`, again after,
    /// and once when it is resolved: each run of the Cop followed by a drain of its outbox.
    #[tokio::test]
    async fn new_silent_reminded_resolved_as_slack_receives_it() {
        let (slack, hook) = fake_slack().await;
        let (everything, costs) = generate_with_costs(42, Scale::Small, NOW);
        let config = Config::bundled().unwrap();
        let costs = InMemoryCosts(Arc::new(costs));
        let store = MemoryFindings::default();
        let outbox = FindingOutbox {
            store: &store,
            renotify: polo_core::cop::Renotify::of(&polo_core::config::CopSettings::default()),
            public_url: PUBLIC,
        };
        let orphan = everything
            .instances
            .iter()
            .find(|i| i.name.as_deref().is_some_and(|n| n.starts_with("orphan-storage")))
            .unwrap()
            .id
            .clone();
        let told = |at: usize| -> String {
            let received = slack.received();
            received[at..]
                .iter()
                .flat_map(|m| m["blocks"].as_array().unwrap().clone())
                .map(|b| b.to_string())
                .collect()
        };
        let run = |everything: polo_core::model::Everything, at: time::OffsetDateTime| {
            let (store, costs, config, outbox, hook) = (&store, &costs, &config, &outbox, &hook);
            async move {
                let data = LocalDataService::from_snapshot(everything);
                let sources = CopSources::new(&data, costs, store, config);
                run_cop(&sources, at, false).await.unwrap();
                drain(outbox, hook, at, Pacing::IMMEDIATE).await.unwrap()
            }
        };
        let first = run(everything.clone(), NOW).await;
        assert!(first.sent >= 1 && first.left == 0);
        assert!(told(0).contains(&format!("|{orphan}>")) && told(0).contains("_new_"));
        let seen = slack.received().len();
        let quiet = run(everything.clone(), NOW + Duration::hours(1)).await;
        assert_eq!(quiet.sent, 0, "silent within renotify_hours");
        let reminder = run(everything.clone(), NOW + Duration::hours(24)).await;
        assert!(reminder.sent >= 1);
        assert!(told(seen).contains(&format!("|{orphan}>")) && told(seen).contains("_still open_"));
        let seen = slack.received().len();
        let mut fixed = everything.clone();
        fixed.instances.retain(|i| i.id != orphan);
        let resolved = run(fixed.clone(), NOW + Duration::hours(25)).await;
        assert_eq!(resolved.sent, 1);
        let text = told(seen);
        assert!(text.contains(&format!("|{orphan}>")) && text.contains("_resolved_"), "{text}");
        let seen = slack.received().len();
        assert_eq!(run(fixed, NOW + Duration::hours(26)).await.sent, 0, "resolved is told once");
        assert_eq!(slack.received().len(), seen);
    }
}
