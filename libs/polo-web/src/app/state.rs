//! The state every handler receives.

use std::sync::Arc;

use polo_core::Clock;
use polo_core::config::Config;
use polo_core::ports::{FindingReader, FleetReader, ResourceReader, Stores};
use polo_core::pricing::PriceTable;
use polo_core::pricing::PriceTableError;

use crate::app::settings::WebSettings;

/// Clients and settings built once at start, shared by every request.
#[derive(Clone)]
pub struct AppState {
    /// The whole fleet, for lists and overviews.
    pub fleet: Arc<dyn FleetReader>,
    /// Keyed reads, for detail pages.
    pub resources: Arc<dyn ResourceReader>,
    /// Cloud Cop findings about a resource.
    pub findings: Arc<dyn FindingReader>,
    pub prices: Arc<PriceTable>,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<WebSettings>,
    /// The OpenID provider people sign in with; `None` where identity comes only from API
    /// Gateway authorizer claims (or `ENV=dev`).
    pub sign_in: Option<Arc<crate::auth::Oidc>>,
    /// The cost store, for the costs pages (read on first use).
    pub costs: Arc<dyn polo_core::ports::CostReader>,
    /// The usage ledger, which explains cost changes (read on first use).
    pub usage: Arc<dyn polo_core::ports::UsageReader>,
    /// The fleet's daily metrics, for utilization (read on first use).
    pub metrics: Arc<polo_core::ports::MetricsReader>,
    /// Where CSV exports too large to answer inline go.
    pub exports: Option<Arc<dyn polo_core::ports::ExportStore>>,
    /// Stored reports, for the reports pages and the overview.
    pub reports: Arc<dyn polo_core::ports::ReportStore>,
    /// Browser sessions, where people sign in.
    pub sessions: Option<Arc<dyn polo_core::ports::SessionStore>>,
    /// Where operators' actions on findings are kept; `None`: findings are read-only here.
    pub finding_store: Option<Arc<dyn polo_core::ports::FindingStore>>,
    /// What people did about findings.
    pub audit: Arc<dyn polo_core::ports::AuditStore>,
    /// The local user's CSRF token (`polo serve`): its forms carry it like a session's.
    /// `None` when no random token could be made: the local user's forms are then refused.
    pub dev_csrf: Option<Arc<str>>,
    /// The Slack app whose buttons `/slack/interactions` answers; without its signing secret
    /// the route answers 503.
    pub slack: SlackState,
    /// Each index's drift of the snapshot last judged, kept a minute (`/`, `/indexes`).
    drift: Arc<std::sync::Mutex<Option<JudgedDrift>>>,
    /// The cost changes last split into causes (`/costs/changes`), with what they were
    /// split from: the same documents, breakdown and periods give them again.
    cost_changes: Arc<std::sync::Mutex<Vec<SplitChanges>>>,
    /// Each index's utilization of the snapshot and metrics last measured.
    utilization: Arc<std::sync::Mutex<Option<MeasuredUsage>>>,
    /// The counts of the snapshot last counted (`/`).
    counts: Arc<std::sync::Mutex<Option<Counted>>>,
    /// The cost breakdowns of the cost store and snapshot last broken down (`/costs`, its
    /// tables and detail pages), one per breakdown and day.
    breakdowns: Arc<std::sync::Mutex<Vec<KeptBreakdown>>>,
}

/// The Slack app as the dashboard answers it.
#[derive(Clone)]
pub struct SlackState {
    /// What interactions are verified with.
    pub signing_secret: Option<Arc<dyn polo_core::ports::SecretSource>>,
    /// The Web API as the app's bot: updates messages, opens modals, looks up operators.
    pub api: Option<Arc<polo_slack::SlackApi>>,
    /// Where the Web API is (`SLACK_API_URL`), when not Slack's: `response_url`s there are
    /// answered too (a stand-in Slack), beside Slack's own hooks.
    pub api_url: Option<String>,
    /// Requests already answered.
    pub nonces: Arc<dyn polo_core::ports::Nonces>,
}

impl SlackState {
    fn of(app: polo_core::ports::SlackApp, nonces: Arc<dyn polo_core::ports::Nonces>) -> SlackState {
        let api = polo_slack::SlackApi::of(&app);
        SlackState { signing_secret: app.signing_secret, api, api_url: app.api_url, nonces }
    }
}

/// Every index measured from one snapshot and one metrics document.
struct MeasuredUsage {
    fleet: Arc<polo_core::model::Fleet>,
    metrics: Arc<polo_core::model::MetricsDocument>,
    by_position: Arc<Vec<polo_core::utilization::IndexUsage>>,
}

/// A fresh CSRF token for the local user (random; a process's forms carry it).
fn dev_csrf() -> Option<Arc<str>> {
    match crate::auth::flow::random_token(24) {
        Ok(token) => Some(Arc::from(token)),
        Err(e) => {
            tracing::error!(error = %e, "no CSRF token for the local user: their forms will be refused");
            None
        }
    }
}

/// The counts of one snapshot at this state's prices. The snapshot is held weakly: a newer
/// one replaces it without waiting for the next `/` to let the old one go.
struct Counted {
    fleet: std::sync::Weak<polo_core::model::Fleet>,
    /// The price table counted at (a state given another one counts again).
    prices: std::sync::Weak<PriceTable>,
    counts: Arc<polo_core::summary::FleetCounts>,
}

/// Whether `kept` is a weak hold on `document` itself. A held allocation is never reused while
/// the `Weak` lives, so the same address is the same document.
fn kept_is<T>(kept: &std::sync::Weak<T>, document: &Arc<T>) -> bool {
    std::ptr::eq(kept.as_ptr(), Arc::as_ptr(document))
}

/// One cost breakdown and what it was made of: held weakly, so newer documents free older.
struct KeptBreakdown {
    store: std::sync::Weak<polo_core::model::CostStore>,
    fleet: std::sync::Weak<polo_core::model::Fleet>,
    dimension: polo_core::costs::Breakdown,
    today: time::Date,
    breakdown: Arc<polo_core::costs::CostBreakdown>,
}

/// One list of cost changes and the very documents it comes from.
struct SplitChanges {
    /// Held weakly, so newer documents free older ones without waiting for the next list.
    store: std::sync::Weak<polo_core::model::CostStore>,
    usage: std::sync::Weak<polo_core::model::UsageLedger>,
    fleet: std::sync::Weak<polo_core::model::Fleet>,
    dimension: polo_core::costs::Breakdown,
    comparison: polo_core::cost_changes::Comparison,
    changes: Arc<Vec<polo_core::cost_changes::CostChange>>,
}

/// Lists of cost changes kept: a breakdown's default periods and a few others.
const SPLIT_CHANGES_KEPT: usize = 6;

/// The drift of one snapshot, judged at one instant.
struct JudgedDrift {
    generated_at: time::OffsetDateTime,
    judged_at: time::OffsetDateTime,
    by_position: Arc<Vec<polo_core::drift::IndexDrift>>,
}

/// How long a judged drift serves: grace periods and stuck transitions are in hours.
const DRIFT_FRESH: time::Duration = time::Duration::minutes(1);

impl AppState {
    /// Each index of `fleet` judged for drift (`polo_core::drift`), by fleet position: once
    /// per snapshot and minute, however many requests ask.
    pub fn fleet_drift(&self, fleet: &polo_core::model::Fleet) -> Arc<Vec<polo_core::drift::IndexDrift>> {
        let now = self.clock.now();
        let generated_at = fleet.generated_at();
        if let Ok(cached) = self.drift.lock()
            && let Some(c) = cached.as_ref()
            && c.generated_at == generated_at
            && (now - c.judged_at).abs() < DRIFT_FRESH
        {
            return Arc::clone(&c.by_position);
        }
        let by_position: Arc<Vec<_>> = Arc::new(
            polo_core::drift::fleet_drift(fleet, &self.config.drift, &self.prices, now)
                .map(|(_, d)| d)
                .collect(),
        );
        if let Ok(mut cached) = self.drift.lock() {
            let by_position = Arc::clone(&by_position);
            *cached = Some(JudgedDrift { generated_at, judged_at: now, by_position });
        }
        by_position
    }

    /// The counts of `fleet` at this state's prices (`polo_core::summary::count`): once per
    /// snapshot, however many requests ask.
    pub fn fleet_counts(&self, fleet: &Arc<polo_core::model::Fleet>) -> Arc<polo_core::summary::FleetCounts> {
        if let Ok(cached) = self.counts.lock()
            && let Some(c) = cached.as_ref()
            && kept_is(&c.fleet, fleet)
            && kept_is(&c.prices, &self.prices)
        {
            return Arc::clone(&c.counts);
        }
        // The sync's counts when it priced alike: a cold start's `/` builds no instance.
        let counts = Arc::new(match fleet.counted(&self.prices) {
            Some(counted) => counted.clone(),
            None => polo_core::summary::count(fleet, &self.prices),
        });
        if let Ok(mut cached) = self.counts.lock() {
            *cached = Some(Counted {
                fleet: Arc::downgrade(fleet),
                prices: Arc::downgrade(&self.prices),
                counts: Arc::clone(&counts),
            });
        }
        counts
    }

    /// `store`'s costs by `dimension` as of `today` (`polo_core::costs::breakdown`): once per
    /// cost store, snapshot, breakdown and day, however many pages ask.
    pub fn cost_breakdown(
        &self,
        store: &Arc<polo_core::model::CostStore>,
        fleet: &Arc<polo_core::model::Fleet>,
        dimension: polo_core::costs::Breakdown,
        today: time::Date,
    ) -> Arc<polo_core::costs::CostBreakdown> {
        let same_documents = |k: &KeptBreakdown| kept_is(&k.store, store) && kept_is(&k.fleet, fleet);
        if let Ok(kept) = self.breakdowns.lock()
            && let Some(k) =
                kept.iter().find(|k| same_documents(k) && k.dimension == dimension && k.today == today)
        {
            return Arc::clone(&k.breakdown);
        }
        let breakdown = Arc::new(polo_core::costs::breakdown(store, fleet, dimension, today));
        if let Ok(mut kept) = self.breakdowns.lock() {
            // Breakdowns of other documents or days are not asked again.
            kept.retain(|k| same_documents(k) && k.today == today && k.dimension != dimension);
            kept.push(KeptBreakdown {
                store: Arc::downgrade(store),
                fleet: Arc::downgrade(fleet),
                dimension,
                today,
                breakdown: Arc::clone(&breakdown),
            });
        }
        breakdown
    }

    /// Each index of `fleet` measured from the metrics document (`polo_core::utilization`),
    /// by fleet position, with the document (`None` when none can be read: then nothing is
    /// measured): once per snapshot and document, however many requests ask.
    pub async fn fleet_usage(
        &self,
        fleet: &Arc<polo_core::model::Fleet>,
    ) -> (Arc<Vec<polo_core::utilization::IndexUsage>>, Option<Arc<polo_core::model::MetricsDocument>>) {
        let Some(metrics) = polo_core::ports::document_if_any(Some(self.metrics.as_ref())).await else {
            return (Arc::default(), None);
        };
        if let Ok(cached) = self.utilization.lock()
            && let Some(c) = cached.as_ref()
            && Arc::ptr_eq(&c.fleet, fleet)
            && Arc::ptr_eq(&c.metrics, &metrics)
        {
            return (Arc::clone(&c.by_position), Some(metrics));
        }
        let drift = self.fleet_drift(fleet);
        let by_position = Arc::new(polo_core::utilization::fleet_usage(
            fleet,
            &drift,
            &metrics,
            &self.prices,
            &self.config.drift,
            &self.config.utilization,
        ));
        if let Ok(mut cached) = self.utilization.lock() {
            *cached = Some(MeasuredUsage {
                fleet: Arc::clone(fleet),
                metrics: Arc::clone(&metrics),
                by_position: Arc::clone(&by_position),
            });
        }
        (by_position, Some(metrics))
    }

    /// Every key's cost change of `dimension` between the periods of `comparison`, split into
    /// causes (`polo_core::cost_changes::changes`): computed once per cost store, usage
    /// ledger, snapshot, breakdown and periods, however many requests (and pages) ask.
    pub fn cost_changes(
        &self,
        store: &Arc<polo_core::model::CostStore>,
        usage: &Arc<polo_core::model::UsageLedger>,
        fleet: &Arc<polo_core::model::Fleet>,
        dimension: polo_core::costs::Breakdown,
        comparison: &polo_core::cost_changes::Comparison,
    ) -> Arc<Vec<polo_core::cost_changes::CostChange>> {
        let same_documents = |c: &SplitChanges| {
            kept_is(&c.store, store) && kept_is(&c.usage, usage) && kept_is(&c.fleet, fleet)
        };
        let same =
            |c: &SplitChanges| same_documents(c) && c.dimension == dimension && c.comparison == *comparison;
        if let Ok(kept) = self.cost_changes.lock()
            && let Some(c) = kept.iter().find(|c| same(c))
        {
            return Arc::clone(&c.changes);
        }
        let changes = Arc::new(polo_core::cost_changes::changes(store, usage, fleet, dimension, comparison));
        if let Ok(mut kept) = self.cost_changes.lock() {
            // Lists of older documents are never asked again.
            kept.retain(same_documents);
            if kept.len() >= SPLIT_CHANGES_KEPT {
                kept.remove(0);
            }
            kept.push(SplitChanges {
                store: Arc::downgrade(store),
                usage: Arc::downgrade(usage),
                fleet: Arc::downgrade(fleet),
                dimension,
                comparison: *comparison,
                changes: Arc::clone(&changes),
            });
        }
        changes
    }

    /// The same state, reading costs from `costs`.
    #[must_use]
    pub fn with_costs(mut self, costs: Arc<dyn polo_core::ports::CostReader>) -> AppState {
        self.costs = costs;
        self
    }

    /// The same state, reading the usage ledger from `usage`.
    #[must_use]
    pub fn with_usage(mut self, usage: Arc<dyn polo_core::ports::UsageReader>) -> AppState {
        self.usage = usage;
        self
    }

    /// The same state, reading the fleet's daily metrics from `metrics`.
    #[must_use]
    pub fn with_metrics(mut self, metrics: Arc<polo_core::ports::MetricsReader>) -> AppState {
        self.metrics = metrics;
        self
    }

    /// The same state, keeping operators' actions on findings in `store` and `audit`.
    #[must_use]
    pub fn with_actions(
        mut self,
        store: Arc<dyn polo_core::ports::FindingStore>,
        audit: Arc<dyn polo_core::ports::AuditStore>,
    ) -> AppState {
        self.finding_store = Some(store);
        self.audit = audit;
        self
    }

    /// The same state, reading findings from `findings`.
    #[must_use]
    pub fn with_findings(mut self, findings: Arc<dyn FindingReader>) -> AppState {
        self.findings = findings;
        self
    }

    /// The same state, reading reports from `reports`.
    #[must_use]
    pub fn with_reports(mut self, reports: Arc<dyn polo_core::ports::ReportStore>) -> AppState {
        self.reports = reports;
        self
    }

    /// Whether every request is `dev@localhost`: `ENV=dev` where no sign-in is configured
    /// (a deployment named dev has an issuer and still signs people in).
    pub fn dev_identity(&self) -> bool {
        self.settings.dev && self.sign_in.is_none()
    }

    /// The same state, signing people in with `oidc`.
    #[must_use]
    pub fn with_sign_in(mut self, oidc: crate::auth::Oidc) -> AppState {
        self.sign_in = Some(Arc::new(oidc));
        self
    }

    /// State over `stores` (`Stores::local` or `polo_aws::stores`), with the bundled price
    /// table; no sign-in until [`AppState::with_sign_in`].
    pub fn new(
        stores: Stores,
        config: Config,
        clock: Arc<dyn Clock>,
        settings: WebSettings,
    ) -> Result<AppState, PriceTableError> {
        // Only `polo serve` (ENV=dev) has a local user: a deployed function makes no token.
        let local_csrf = if settings.dev { dev_csrf() } else { None };
        Ok(AppState {
            fleet: stores.fleet,
            resources: stores.resources,
            findings: stores.findings.clone(),
            prices: Arc::new(PriceTable::configured(&config)?),
            config: Arc::new(config),
            clock,
            settings: Arc::new(settings),
            sign_in: None,
            exports: stores.exports,
            costs: stores.costs,
            usage: stores.usage,
            metrics: stores.metrics,
            reports: stores.reports,
            sessions: stores.sessions,
            finding_store: Some(stores.findings),
            audit: stores.audit,
            dev_csrf: local_csrf,
            slack: SlackState::of(stores.slack, stores.nonces),
            drift: Arc::default(),
            cost_changes: Arc::default(),
            utilization: Arc::default(),
            counts: Arc::default(),
            breakdowns: Arc::default(),
        })
    }

    /// The same state, answering the Slack app `slack` (tests and `polo serve`).
    #[must_use]
    pub fn with_slack(mut self, slack: polo_core::ports::SlackApp) -> AppState {
        self.slack = SlackState::of(slack, Arc::clone(&self.slack.nonces));
        self
    }

    /// State over one in-memory data service that answers both lists and keyed reads (tests
    /// and benchmarks), with the bundled price table, no costs, no reports and sessions in
    /// memory.
    pub fn over<D: FleetReader + ResourceReader + FindingReader + 'static>(
        data: Arc<D>,
        config: Config,
        clock: Arc<dyn Clock>,
        settings: WebSettings,
    ) -> Result<AppState, PriceTableError> {
        Ok(AppState {
            fleet: data.clone(),
            resources: data.clone(),
            findings: data,
            prices: Arc::new(PriceTable::configured(&config)?),
            config: Arc::new(config),
            clock,
            settings: Arc::new(settings),
            sign_in: None,
            exports: None,
            costs: Arc::new(polo_core::ports::InMemoryCosts(Arc::new(polo_core::model::CostStore::empty()))),
            usage: Arc::new(polo_core::ports::InMemoryUsage(
                Arc::new(polo_core::model::UsageLedger::empty()),
            )),
            metrics: Arc::new(polo_core::ports::InMemoryDocument(Arc::new(
                polo_core::model::MetricsDocument::empty(),
            ))),
            reports: Arc::new(polo_core::ports::MemoryReports::default()),
            sessions: Some(Arc::new(polo_core::ports::MemorySessions::default())),
            finding_store: None,
            audit: Arc::new(polo_core::ports::MemoryAudit::default()),
            dev_csrf: Some(Arc::from("dev-csrf-of-tests")),
            slack: SlackState::of(
                polo_core::ports::SlackApp::default(),
                Arc::new(polo_core::ports::MemoryNonces::default()),
            ),
            drift: Arc::default(),
            cost_changes: Arc::default(),
            utilization: Arc::default(),
            counts: Arc::default(),
            breakdowns: Arc::default(),
        })
    }
}
