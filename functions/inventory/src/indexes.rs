//! `/indexes` and `/indexes/{index_id}`.

use std::sync::Arc;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use polo_core::Money;
use polo_core::listing::{FilterField, INDEX_FILTERS, IndexColumn, IndexRow, Judged, list_indexes};
use polo_core::model::{Fleet, Index, IndexStatus, ResourceKind, Tracked as _};
use polo_core::text::{age, rfc3339};
use polo_web::request::Htmx;
use polo_web::request::PathId;
use polo_web::request::{TableQuery, detail_params};
use polo_web::response::{csv, html, json};
use polo_web::table::FilterControl;
use polo_web::table::rows_to_csv;
use polo_web::table::{Table, TableFrame, respond};
use polo_web::{AppError, AppState, Chrome, Format};
use time::OffsetDateTime;

use crate::instances::{FindingRow, HistoryRow, InstanceCells, finding_rows, fleet_filters, history_rows};
use crate::items::{INDEX_COLUMNS, IndexItem, index_item};

const SHOWN: &[(IndexColumn, &str, bool)] = &[
    (IndexColumn::IndexId, "Index", false),
    (IndexColumn::Name, "Name", false),
    (IndexColumn::Customer, "Customer", false),
    (IndexColumn::Account, "Account", false),
    (IndexColumn::Region, "Region", false),
    (IndexColumn::Status, "Status", false),
    (IndexColumn::StatusSince, "Since", false),
    (IndexColumn::InferenceType, "Inference", false),
    (IndexColumn::InferenceCount, "Nodes", true),
    (IndexColumn::StorageClass, "Storage", false),
    (IndexColumn::Shards, "Shards", true),
    (IndexColumn::Replicas, "Replicas", true),
    (IndexColumn::MarqoVersion, "Version", false),
    (IndexColumn::CreatedAt, "Created", false),
    (IndexColumn::Instances, "Instances", true),
    (IndexColumn::Drift, "Drift / month", true),
    (IndexColumn::CpuP95, "CPU p95", true),
    (IndexColumn::MonthlySavings, "Rightsizing / month", true),
];

/// A Tailwind tone for a status badge.
fn status_tone(status: IndexStatus) -> &'static str {
    match status {
        IndexStatus::Ready => "bg-emerald-100 text-emerald-800 dark:bg-emerald-900 dark:text-emerald-100",
        IndexStatus::Creating | IndexStatus::Modifying => {
            "bg-amber-100 text-amber-800 dark:bg-amber-900 dark:text-amber-100"
        }
        IndexStatus::Deleting | IndexStatus::Failed => {
            "bg-rose-100 text-rose-800 dark:bg-rose-900 dark:text-rose-100"
        }
    }
}

/// The select filters of the page, each with the values the other filters leave.
const SELECTS: &[(FilterField, &str)] = &[
    (FilterField::Account, "Account"),
    (FilterField::Region, "Region"),
    (FilterField::Status, "Status"),
    (FilterField::Type, "Inference"),
    (FilterField::Customer, "Customer"),
];

/// One index row, ready to print.
struct IndexCells {
    index_id: String,
    name: String,
    customer: String,
    account: String,
    region: String,
    status: &'static str,
    status_tone: &'static str,
    status_since: String,
    status_since_at: String,
    inference_type: String,
    inference_count: u32,
    storage_class: String,
    shards: u32,
    replicas: u32,
    marqo_version: String,
    created: String,
    created_at: String,
    instances: usize,
    /// Its drift kinds ("over-provisioned, type-drift"), `none`, `not-judged`, or empty when
    /// not judged at all (an index the snapshot lacks).
    drift: String,
    /// The month's drift impact, signed; empty without drift.
    drift_impact: String,
    /// Its busiest role's p95 CPU ("12.5"); empty when unmeasured.
    cpu_p95: String,
    /// What rightsizing saves a month ("$826.92"); empty without a proposal.
    monthly_savings: String,
}

impl IndexCells {
    fn new(index: &Index, instances: usize, now: OffsetDateTime) -> Self {
        IndexCells {
            index_id: index.index_id.clone(),
            name: index.name.clone(),
            customer: index.customer.clone(),
            account: index.account.clone(),
            region: index.region.clone(),
            status: index.status.as_str(),
            status_tone: status_tone(index.status),
            status_since: index.status_since.map(|t| age(t, now)).unwrap_or_default(),
            status_since_at: index.status_since.map(rfc3339).unwrap_or_default(),
            inference_type: index.inference_type.clone(),
            inference_count: index.inference_count,
            storage_class: index.storage_class.clone(),
            shards: index.shards,
            replicas: index.replicas,
            marqo_version: index.marqo_version.clone(),
            created: age(index.created_at, now),
            created_at: rfc3339(index.created_at),
            instances,
            drift: String::new(),
            drift_impact: String::new(),
            cpu_p95: String::new(),
            monthly_savings: String::new(),
        }
    }

    /// The same cells with `judged`'s drift.
    fn with_drift(mut self, judged: Option<&polo_core::drift::IndexDrift>) -> Self {
        if let Some(judged) = judged {
            self.drift = polo_core::listing::drift_labels(judged).join(", ");
            let impact = judged.monthly_cost_impact().round_cents();
            if !judged.drift.is_empty() {
                self.drift_impact = if impact.amount().is_sign_negative() {
                    format!("-${}", impact.abs().to_grouped_cents())
                } else {
                    format!("${}", impact.to_grouped_cents())
                };
            }
        }
        self
    }

    /// The same cells with `usage`'s utilization.
    fn with_usage(mut self, usage: Option<&polo_core::utilization::IndexUsage>) -> Self {
        if let Some(u) = usage {
            self.cpu_p95 = u.cpu_p95.map(|c| format!("{c:.1}")).unwrap_or_default();
            if u.oversized() {
                self.monthly_savings = format!("${}", u.monthly_savings.to_grouped_cents());
            }
        }
        self
    }
}

#[derive(Template)]
#[template(path = "inventory/indexes_region.html")]
struct IndexesRegion {
    frame: TableFrame<IndexColumn>,
    rows: Vec<IndexCells>,
}

#[derive(Template)]
#[template(path = "inventory/indexes.html")]
struct IndexesPage {
    chrome: Chrome,
    frame: TableFrame<IndexColumn>,
    rows: Vec<IndexCells>,
}

/// The indexes table over one fleet, each index's drift judged once per request.
struct IndexesTable {
    fleet: Arc<Fleet>,
    /// By fleet position.
    drift: Arc<Vec<polo_core::drift::IndexDrift>>,
    /// By fleet position; empty without metrics.
    usage: Arc<Vec<polo_core::utilization::IndexUsage>>,
}

impl IndexesTable {
    fn judged(&self) -> Judged<'_> {
        Judged { drift: &self.drift, usage: &self.usage }
    }
}

impl Table for IndexesTable {
    type Column = IndexColumn;
    type Row<'a> = IndexRow<'a>;
    type Item<'a> = IndexItem<'a>;
    type Cells = IndexCells;
    type Extra<'a> = ();

    const SHOWN: &'static [(IndexColumn, &'static str, bool)] = SHOWN;
    const CSV_COLUMNS: &'static [&'static str] = INDEX_COLUMNS;

    fn csv_name(&self) -> String {
        "indexes.csv".to_owned()
    }

    fn rows<'a>(&'a self, query: &TableQuery<IndexColumn>) -> Vec<IndexRow<'a>> {
        list_indexes(&self.fleet, &query.filters, query.sort, self.judged())
    }

    fn item<'a>(&'a self, row: &IndexRow<'a>) -> IndexItem<'a> {
        index_item(&self.fleet, row)
    }

    fn cells(&self, row: &IndexRow<'_>, now: OffsetDateTime) -> IndexCells {
        IndexCells::new(row.index, row.instance_count, now).with_drift(row.drift).with_usage(row.usage)
    }

    fn extra(&self, _now: OffsetDateTime) {}

    fn filters(&self, query: &TableQuery<IndexColumn>) -> Vec<FilterControl> {
        let rest = query.filters.without(FilterField::Drift);
        let mut controls = fleet_filters(query, SELECTS, &self.fleet.index_facets_for(&rest));
        // Drift values counted over the indexes the other filters leave.
        let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
        for row in list_indexes(&self.fleet, &rest, None, self.judged()) {
            for label in row.drift.map(polo_core::listing::drift_labels).unwrap_or_default() {
                *counts.entry(label).or_default() += 1;
            }
        }
        let counts: Vec<(String, usize)> = counts.into_iter().map(|(k, n)| (k.to_owned(), n)).collect();
        controls.push(FilterControl::select(query, FilterField::Drift, "Drift", &counts));
        controls
    }

    fn page(
        &self,
        chrome: Chrome,
        frame: TableFrame<IndexColumn>,
        rows: Vec<IndexCells>,
    ) -> Result<Response, AppError> {
        html(&IndexesPage { chrome, frame, rows })
    }

    fn region(&self, frame: TableFrame<IndexColumn>, rows: Vec<IndexCells>) -> Result<Response, AppError> {
        html(&IndexesRegion { frame, rows })
    }
}

/// `GET /indexes`: the filtered, sorted, paged table as HTML, JSON or CSV.
pub async fn list(
    State(state): State<AppState>,
    chrome: Chrome,
    htmx: Htmx,
    RawQuery(raw): RawQuery,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let query = TableQuery::<IndexColumn>::parse(raw.as_deref(), &request_headers, &INDEX_FILTERS)?;
    let fleet = state.fleet.fleet().await?;
    let drift = state.fleet_drift(&fleet);
    let (usage, _) = state.fleet_usage(&fleet).await;
    let table = IndexesTable { fleet, drift, usage };
    respond(&state, chrome, htmx, &table, query).await
}

#[derive(Template)]
#[template(path = "inventory/index.html")]
struct IndexPage {
    chrome: Chrome,
    cells: IndexCells,
    /// The other accounts and regions whose registries hold the same id.
    elsewhere: Vec<(String, String)>,
    instances: Vec<InstanceCells>,
    hourly: String,
    monthly: String,
    unpriced: usize,
    cost_30d: Option<String>,
    cost_as_of: String,
    history: Vec<HistoryRow>,
    /// `Err` (why) when the findings could not be read: the rest of the page still shows.
    findings: Result<Vec<FindingRow>, &'static str>,
    /// Desired against actual, per role, priced; `None` for an index the snapshot lacks.
    drift: Option<DriftView>,
    /// Each role's days and proposal; `None` without metrics.
    utilization: Option<UsageView>,
}

/// One role's utilization, as shown.
struct RoleUsageView {
    role: &'static str,
    nodes: u32,
    desired: u32,
    instance_type: String,
    cpu_p95: String,
    memory: String,
    days: String,
    chart: polo_web::response::PercentChart,
    recommendation: Option<String>,
    /// What Compute Optimizer says of the same nodes, when their account opted in.
    optimizer: Option<String>,
}

/// The utilization section of an index page.
struct UsageView {
    /// "14 days from 2026-11-10, pulled 2026-11-24 02:00 UTC".
    window: String,
    roles: Vec<RoleUsageView>,
    /// "41,200 over 14 days" or why there are none.
    queries: String,
    /// Why no role is sized (an index not ready), when none is.
    not_sized: Option<String>,
    /// Why Compute Optimizer says nothing for the index's account and region, when it does not.
    optimizer_unavailable: Option<String>,
}

impl UsageView {
    fn new(
        index: &Index,
        usage: &polo_core::utilization::IndexUsage,
        metrics: &polo_core::model::MetricsDocument,
        target: f64,
    ) -> UsageView {
        let window = format!(
            "{} days from {}, pulled {}",
            metrics.days,
            metrics.first_day.map(|d| d.to_string()).unwrap_or_default(),
            metrics.pulled_at.map(polo_core::text::rfc3339).unwrap_or_default()
        );
        let roles = usage
            .roles
            .iter()
            .map(|r| {
                let l = &r.load;
                RoleUsageView {
                    role: r.role.as_str(),
                    nodes: l.nodes,
                    desired: l.desired,
                    instance_type: l.instance_type.clone(),
                    cpu_p95: l.cpu_p95.map_or_else(|| "unmeasured".to_owned(), |c| format!("{c:.1} %")),
                    memory: l.memory_used_gib.map_or_else(|| "unmeasured".to_owned(), |m| format!("{m:.1} GiB")),
                    days: format!("{} days, {:.0} % of points missing", l.days, l.missing_share * 100.0),
                    chart: polo_web::response::PercentChart::of(
                        format!("cpu-{}-{}", r.role.as_str(), index.index_id),
                        metrics.first_day,
                        &r.daily_cpu_max,
                        target,
                    ),
                    recommendation: r.recommendation.as_ref().map(|p| {
                        format!(
                            "{} × {} at {:.1} % p95 CPU: ${} a month instead of ${}, saving ${} ({} confidence).",
                            p.nodes,
                            p.instance_type,
                            p.projected_cpu_p95,
                            p.monthly_after.to_grouped_cents(),
                            p.monthly_now.to_grouped_cents(),
                            p.monthly_savings.to_grouped_cents(),
                            p.confidence.as_str()
                        )
                    }),
                    optimizer: r.optimizer.as_ref().map(|o| match &o.suggested_type {
                        Some(t) if o.over_provisioned > 0 => format!(
                            "Compute Optimizer: {} of {} nodes over-provisioned; it ranks {t} first, saving ${} a month.",
                            o.over_provisioned,
                            o.advised,
                            o.monthly_savings.to_grouped_cents()
                        ),
                        _ => format!(
                            "Compute Optimizer: {} of {} nodes over-provisioned.",
                            o.over_provisioned, o.advised
                        ),
                    }),
                }
            })
            .collect();
        let known: Vec<f64> = usage.daily_queries.iter().flatten().copied().collect();
        let queries = if usage.daily_queries.is_empty() {
            "none pulled (only ready indexes are asked, and only with [utilization] traffic_metric set)"
                .to_owned()
        } else {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // query counts
            let total = known.iter().sum::<f64>().round() as u64;
            format!(
                "{} over {} of {} days",
                polo_core::text::group_digits(&total.to_string()),
                known.len(),
                usage.daily_queries.len()
            )
        };
        let not_sized = (index.status != IndexStatus::Ready).then(|| {
            format!(
                "Not sized: the index is {}, and only a ready index's load is steady.",
                index.status.as_str()
            )
        });
        let scope = format!("{} {}: ", index.account, index.region);
        let optimizer_unavailable =
            metrics.optimizer_unavailable.iter().find_map(|s| s.strip_prefix(&scope)).map(str::to_owned);
        UsageView { window, roles, queries, not_sized, optimizer_unavailable }
    }
}

/// One role's line of the drift table.
struct RoleLine {
    role: &'static str,
    desired: String,
    actual: String,
    /// Each drift of the role, as people read it ("1 short: -$102.20/month").
    drifts: Vec<(String, String)>,
}

/// The drift section of an index page.
struct DriftView {
    roles: Vec<RoleLine>,
    /// Drifts of the whole index (zombie, stuck transition).
    whole: Vec<(String, String)>,
    /// The month's total impact, signed.
    total: String,
    not_judged: Option<String>,
    elsewhere: usize,
    without_role: usize,
}

impl DriftView {
    fn new(judged: &polo_core::drift::IndexDrift) -> DriftView {
        use polo_core::drift::NodeRole;
        let money = |m: Money| {
            let m = m.round_cents();
            if m.amount().is_sign_negative() {
                format!("-${}", m.abs().to_grouped_cents())
            } else {
                format!("${}", m.to_grouped_cents())
            }
        };
        let line = |d: &polo_core::drift::Drift| {
            (format!("{} {}", d.kind.as_str(), d.count), format!("{}/month", money(d.monthly_cost_impact)))
        };
        let nodes = |n: &polo_core::drift::Nodes| match &n.instance_type {
            Some(t) => format!("{} × {t}", n.count),
            None => n.count.to_string(),
        };
        DriftView {
            roles: NodeRole::ALL
                .iter()
                .map(|role| RoleLine {
                    role: role.as_str(),
                    desired: judged
                        .desired
                        .as_ref()
                        .map_or_else(|| "unmapped".to_owned(), |d| nodes(d.of(*role))),
                    actual: nodes(judged.actual.of(*role)),
                    drifts: judged.drift.iter().filter(|d| d.role == Some(*role)).map(line).collect(),
                })
                .collect(),
            whole: judged.drift.iter().filter(|d| d.role.is_none()).map(line).collect(),
            total: money(judged.monthly_cost_impact()),
            not_judged: judged.not_judged.clone(),
            elsewhere: judged.elsewhere,
            without_role: judged.without_role,
        }
    }
}

/// `GET /indexes/{index_id}`: one index, its instances and what it costs. An id that
/// registries in several accounts or regions hold lists those scopes (HTML), or gives them
/// all (JSON and CSV, as `/indexes` does); `account` and `region` choose among them.
pub async fn detail(
    State(state): State<AppState>,
    chrome: Chrome,
    PathId(index_id): PathId,
    RawQuery(raw): RawQuery,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let (format, scope) = detail_params(raw.as_deref(), &request_headers, &["account", "region"])?;
    let (account, region) = (scope[0].as_deref(), scope[1].as_deref());
    let all = state.resources.indexes(&index_id).await?;
    let mut chosen: Vec<Index> = all
        .iter()
        .filter(|x| account.is_none_or(|a| x.account == a) && region.is_none_or(|r| x.region == r))
        .cloned()
        .collect();
    if chosen.len() > 1 {
        return scopes(&state, chrome, format, &index_id, &chosen).await;
    }
    let index = chosen.pop().ok_or_else(|| {
        let scope = [account.map(|a| format!("account {a:?}")), region.map(|r| format!("region {r:?}"))]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" and ");
        AppError::NotFound(if all.is_empty() {
            format!("no index {index_id:?} in any registry")
        } else {
            format!("no index {index_id:?} in {scope}; {} account(s) or region(s) hold the id", all.len())
        })
    })?;
    let instances = state.resources.instances_of_index(&index).await?;
    // Drift is judged on the snapshot, where the index's instances in every account are.
    let fleet = state.fleet.fleet().await?;
    let now = state.clock.now();
    let drift = fleet
        .index_at(&index.index_id, &index.account, &index.region)
        .map(|x| polo_core::drift::drift_of(&fleet, x, &state.config.drift, &state.prices, now));
    let (all_usage, metrics) = state.fleet_usage(&fleet).await;
    let usage = fleet
        .indexes()
        .iter()
        .position(|x| x.is_at(&index.index_id, &index.account, &index.region))
        .and_then(|n| all_usage.get(n));
    let item = IndexItem::new(&index, instances.iter().map(|i| i.id.as_str()).collect(), drift.clone())
        .with_usage(usage, true);
    match format {
        Format::Json => json(&item),
        Format::Csv => csv(rows_to_csv(INDEX_COLUMNS, [&item])?, &format!("{}.csv", index.index_id)),
        Format::Html => {
            let rate = state.prices.run_rate(&instances);
            // The window ends at the data's newest cost day, not this index's: a deleted
            // index's old spend must not read as recent (precomputed with the snapshot).
            let as_of = fleet.costs_as_of();
            let cost_30d = as_of.map(|_| {
                fleet.index_cost_last_30_days(&index.index_id).unwrap_or(Money::ZERO).to_grouped_cents()
            });
            let findings =
                state.findings.findings_for(ResourceKind::Indexes, &index.index_id).await.map(|mut f| {
                    f.retain(|f| f.account == index.account && f.region == index.region);
                    finding_rows(&f, now)
                });
            html(&IndexPage {
                chrome,
                cells: IndexCells::new(&index, instances.len(), now).with_drift(drift.as_ref()),
                elsewhere: all
                    .iter()
                    .filter(|x| !x.is_at(&index.index_id, &index.account, &index.region))
                    .map(|x| (x.account.clone(), x.region.clone()))
                    .collect(),
                instances: instances
                    .iter()
                    .map(|i| InstanceCells::new(i, state.prices.instance_hourly(i), true, now))
                    .collect(),
                hourly: rate.hourly.to_grouped_cents(),
                monthly: rate.monthly().to_grouped_cents(),
                unpriced: rate.unpriced,
                cost_30d,
                cost_as_of: as_of.map(|d| d.to_string()).unwrap_or_default(),
                history: history_rows(
                    &state.resources.history(ResourceKind::Indexes, &index.key()).await?,
                    now,
                ),
                findings: findings.map_err(|e| polo_web::response::unavailable("findings", &e)),
                drift: drift.as_ref().map(DriftView::new),
                utilization: usage
                    .zip(metrics.as_deref())
                    .map(|(u, m)| UsageView::new(&index, u, m, state.config.utilization.cpu_target_percent)),
            })
        }
    }
}

#[derive(Template)]
#[template(path = "inventory/index_scopes.html")]
struct ScopesPage {
    chrome: Chrome,
    index_id: String,
    rows: Vec<IndexCells>,
}

/// The indexes that share one id, one per account and region.
async fn scopes(
    state: &AppState,
    chrome: Chrome,
    format: Format,
    index_id: &str,
    indexes: &[Index],
) -> Result<Response, AppError> {
    let mut served = Vec::with_capacity(indexes.len());
    for index in indexes {
        served.push(state.resources.instances_of_index(index).await?);
    }
    let items: Vec<IndexItem<'_>> = indexes
        .iter()
        .zip(&served)
        .map(|(index, instances)| {
            IndexItem::new(index, instances.iter().map(|i| i.id.as_str()).collect(), None)
        })
        .collect();
    match format {
        Format::Json => polo_web::table::json_whole(items),
        Format::Csv => csv(rows_to_csv(INDEX_COLUMNS, items.iter())?, &format!("{index_id}.csv")),
        Format::Html => {
            let now = state.clock.now();
            html(&ScopesPage {
                chrome,
                index_id: index_id.to_owned(),
                rows: indexes.iter().zip(&served).map(|(x, i)| IndexCells::new(x, i.len(), now)).collect(),
            })
        }
    }
}
