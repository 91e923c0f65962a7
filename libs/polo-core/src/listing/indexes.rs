use std::cmp::Ordering;

use super::filter::{Filterable, haystack};
use super::{Column, Direction, FilterField, Filters, Sort};
use crate::drift::IndexDrift;
use crate::model::{Fleet, Index};
use crate::utilization::IndexUsage;

/// The columns of the indexes table, in JSON order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IndexColumn {
    IndexId,
    Name,
    Account,
    Region,
    Customer,
    Status,
    StatusSince,
    InferenceType,
    InferenceCount,
    StorageClass,
    Shards,
    Replicas,
    MarqoVersion,
    CreatedAt,
    Instances,
    /// Its drift, sorted by the month's impact.
    Drift,
    /// Its busiest role's p95 CPU over the days measured.
    CpuP95,
    /// What rightsizing its roles saves a month.
    MonthlySavings,
}

impl Column for IndexColumn {
    const ALL: &'static [Self] = &[
        IndexColumn::IndexId,
        IndexColumn::Name,
        IndexColumn::Account,
        IndexColumn::Region,
        IndexColumn::Customer,
        IndexColumn::Status,
        IndexColumn::StatusSince,
        IndexColumn::InferenceType,
        IndexColumn::InferenceCount,
        IndexColumn::StorageClass,
        IndexColumn::Shards,
        IndexColumn::Replicas,
        IndexColumn::MarqoVersion,
        IndexColumn::CreatedAt,
        IndexColumn::Instances,
        IndexColumn::Drift,
        IndexColumn::CpuP95,
        IndexColumn::MonthlySavings,
    ];

    fn name(self) -> &'static str {
        match self {
            IndexColumn::IndexId => "index_id",
            IndexColumn::Name => "name",
            IndexColumn::Account => "account",
            IndexColumn::Region => "region",
            IndexColumn::Customer => "customer",
            IndexColumn::Status => "status",
            IndexColumn::StatusSince => "status_since",
            IndexColumn::InferenceType => "inference_type",
            IndexColumn::InferenceCount => "inference_count",
            IndexColumn::StorageClass => "storage_class",
            IndexColumn::Shards => "shards",
            IndexColumn::Replicas => "replicas",
            IndexColumn::MarqoVersion => "marqo_version",
            IndexColumn::CreatedAt => "created_at",
            IndexColumn::Instances => "instances",
            IndexColumn::Drift => "drift",
            IndexColumn::CpuP95 => "cpu_p95",
            IndexColumn::MonthlySavings => "monthly_savings",
        }
    }
}

/// The filters that apply to indexes (`type` is the inference type, `index` the index id,
/// `drift` a drift kind, `none` or `not-judged`).
pub const INDEX_FILTERS: [FilterField; 7] = [
    FilterField::Account,
    FilterField::Region,
    FilterField::Status,
    FilterField::Type,
    FilterField::Index,
    FilterField::Customer,
    FilterField::Drift,
];

impl Filterable for Index {
    fn field(&self, field: FilterField) -> Option<&str> {
        match field {
            FilterField::Account => Some(&self.account),
            FilterField::Region => Some(&self.region),
            FilterField::Status => Some(self.status.as_str()),
            FilterField::Type => Some(&self.inference_type),
            FilterField::Index => Some(&self.index_id),
            FilterField::Customer => Some(&self.customer),
            FilterField::State
            | FilterField::Owner
            | FilterField::Period
            | FilterField::Rule
            | FilterField::Severity
            | FilterField::Drift
            | FilterField::Dimension
            | FilterField::From
            | FilterField::To
            | FilterField::Action
            | FilterField::Via => None,
        }
    }

    fn search_text(&self) -> String {
        haystack([
            self.index_id.as_str(),
            &self.name,
            &self.account,
            &self.region,
            &self.customer,
            self.status.as_str(),
            &self.inference_type,
            &self.storage_class,
            &self.marqo_version,
        ])
    }
}

/// An index with the count of instances that serve it, and its drift when judged.
#[derive(Clone, Copy, Debug)]
pub struct IndexRow<'a> {
    pub index: &'a Index,
    /// Its place in the fleet, which is in (id, account, region) order: ties sort by it.
    pub position: usize,
    pub instance_count: usize,
    pub drift: Option<&'a IndexDrift>,
    /// Its utilization, when measured.
    pub usage: Option<&'a IndexUsage>,
}

/// What is judged of every index, by fleet position (empty: not judged).
#[derive(Clone, Copy, Debug, Default)]
pub struct Judged<'a> {
    pub drift: &'a [IndexDrift],
    pub usage: &'a [IndexUsage],
}

/// The values `drift=` matches for a judged index: each kind it has, `none` when it has no
/// drift, `not-judged` when it could not be judged.
pub fn drift_labels(judged: &IndexDrift) -> Vec<&'static str> {
    if judged.not_judged.is_some() {
        return vec!["not-judged"];
    }
    let kinds: Vec<&'static str> = crate::drift::DriftKind::ALL
        .into_iter()
        .filter(|k| judged.drift.iter().any(|d| d.kind == *k))
        .map(crate::drift::DriftKind::as_str)
        .collect();
    if kinds.is_empty() { vec!["none"] } else { kinds }
}

/// The indexes that pass `filters`, in `sort` order (ties by position: index id, then
/// account and region). `judged` holds each index's drift and utilization by its position
/// in the fleet (empty: not judged, and `drift=` matches nothing). A column of the snapshot
/// alone is walked in an order built once per snapshot ([`Fleet::index_order`]); drift and
/// utilization, judged apart, are sorted per request.
pub fn list_indexes<'a>(
    fleet: &'a Fleet,
    filters: &Filters,
    sort: Option<Sort<IndexColumn>>,
    judged: Judged<'a>,
) -> Vec<IndexRow<'a>> {
    let wanted = filters.values(FilterField::Drift);
    let rest = filters.without(FilterField::Drift);
    let passing = (!rest.is_empty()).then(|| fleet.indexes_matching(&rest));
    let sort = sort.unwrap_or(Sort { column: IndexColumn::IndexId, direction: Direction::Ascending });
    let indexes = fleet.indexes();
    let row = |pos: usize| IndexRow {
        index: &indexes[pos],
        position: pos,
        instance_count: fleet.instance_count_at(pos),
        drift: judged.drift.get(pos),
        usage: judged.usage.get(pos),
    };
    let keep = |r: &IndexRow<'_>| {
        passing.as_ref().is_none_or(|rows| rows.contains(r.position))
            && wanted.is_none_or(|values| {
                r.drift.is_some_and(|d| drift_labels(d).iter().any(|l| values.iter().any(|v| v == l)))
            })
    };
    if is_of_the_snapshot(sort.column) {
        let order = fleet.index_order(sort);
        return order.iter().map(|&p| row(p as usize)).filter(keep).collect();
    }
    let mut rows: Vec<IndexRow<'a>> = (0..indexes.len()).map(row).filter(keep).collect();
    sort_rows(&mut rows, sort);
    rows
}

/// Whether `column` sorts by the snapshot alone (not by drift or utilization).
fn is_of_the_snapshot(column: IndexColumn) -> bool {
    !matches!(column, IndexColumn::Drift | IndexColumn::CpuP95 | IndexColumn::MonthlySavings)
}

/// The order of every index of `fleet` by `sort` (a column of the snapshot alone), ties by
/// position.
pub fn index_order_of(fleet: &Fleet, sort: Sort<IndexColumn>) -> Vec<u32> {
    // Positions are in (id, account, region) order: the default order is theirs.
    if sort == (Sort { column: IndexColumn::IndexId, direction: Direction::Ascending }) {
        return (0..fleet.indexes().len()).map(|p| u32::try_from(p).unwrap_or(u32::MAX)).collect();
    }
    let mut rows: Vec<IndexRow<'_>> = fleet
        .indexes()
        .iter()
        .enumerate()
        .map(|(position, index)| IndexRow {
            index,
            position,
            instance_count: fleet.instance_count_at(position),
            drift: None,
            usage: None,
        })
        .collect();
    sort_rows(&mut rows, sort);
    rows.iter().map(|r| u32::try_from(r.position).unwrap_or(u32::MAX)).collect()
}

/// Sorts `rows` by `sort`, ties by position.
fn sort_rows(rows: &mut [IndexRow<'_>], sort: Sort<IndexColumn>) {
    super::sort_with_ties(rows, sort.direction, |a, b| compare(a, b, sort.column), |r| r.position);
}

fn compare(a: &IndexRow<'_>, b: &IndexRow<'_>, column: IndexColumn) -> Ordering {
    let (x, y) = (a.index, b.index);
    match column {
        IndexColumn::IndexId => x.index_id.cmp(&y.index_id),
        IndexColumn::Name => x.name.cmp(&y.name),
        IndexColumn::Account => x.account.cmp(&y.account),
        IndexColumn::Region => x.region.cmp(&y.region),
        IndexColumn::Customer => x.customer.cmp(&y.customer),
        IndexColumn::Status => x.status.as_str().cmp(y.status.as_str()),
        IndexColumn::StatusSince => x.status_since.cmp(&y.status_since),
        IndexColumn::InferenceType => x.inference_type.cmp(&y.inference_type),
        IndexColumn::InferenceCount => x.inference_count.cmp(&y.inference_count),
        IndexColumn::StorageClass => x.storage_class.cmp(&y.storage_class),
        IndexColumn::Shards => x.shards.cmp(&y.shards),
        IndexColumn::Replicas => x.replicas.cmp(&y.replicas),
        IndexColumn::MarqoVersion => version_key(&x.marqo_version).cmp(&version_key(&y.marqo_version)),
        IndexColumn::CreatedAt => x.created_at.cmp(&y.created_at),
        IndexColumn::Instances => a.instance_count.cmp(&b.instance_count),
        IndexColumn::Drift => impact(a).cmp(&impact(b)),
        // Unmeasured first when ascending.
        IndexColumn::CpuP95 => {
            let cpu = |r: &IndexRow<'_>| r.usage.and_then(|u| u.cpu_p95);
            cpu(a).partial_cmp(&cpu(b)).unwrap_or(Ordering::Equal)
        }
        IndexColumn::MonthlySavings => {
            let saved = |r: &IndexRow<'_>| r.usage.map(|u| u.monthly_savings);
            saved(a).cmp(&saved(b))
        }
    }
}

/// The month's drift impact of a row (zero when not judged).
fn impact(row: &IndexRow<'_>) -> crate::Money {
    row.drift.map_or(crate::Money::ZERO, IndexDrift::monthly_cost_impact)
}

/// Orders "2.10.0" after "2.9.1".
fn version_key(v: &str) -> Vec<(u64, &str)> {
    v.split('.').map(|part| (part.parse().unwrap_or(u64::MAX), part)).collect()
}

#[cfg(test)]
mod kept_orders {
    use time::macros::datetime;

    use super::*;
    use crate::sample::{Scale, generate};

    #[test]
    fn the_kept_orders_list_exactly_what_filtering_and_sorting_every_row_lists() {
        let fleet = Fleet::new(generate(42, Scale::Small, datetime!(2026-11-24 12:00 UTC)));
        let views = [
            Filters::none(),
            Filters::none().with(FilterField::Status, "READY"),
            Filters::none().with_text("acme").with(FilterField::Account, "prod"),
        ];
        for filters in &views {
            for &column in IndexColumn::ALL {
                for direction in [Direction::Ascending, Direction::Descending] {
                    let sort = Sort { column, direction };
                    let listed: Vec<usize> = list_indexes(&fleet, filters, Some(sort), Judged::default())
                        .iter()
                        .map(|r| r.position)
                        .collect();
                    let mut rows: Vec<IndexRow<'_>> = fleet
                        .indexes()
                        .iter()
                        .enumerate()
                        .filter(|(pos, x)| filters.matches(*x, || fleet.index_text(*pos)))
                        .map(|(position, index)| IndexRow {
                            index,
                            position,
                            instance_count: fleet.instance_count_of(index),
                            drift: None,
                            usage: None,
                        })
                        .collect();
                    sort_rows(&mut rows, sort);
                    let scanned: Vec<usize> = rows.iter().map(|r| r.position).collect();
                    assert_eq!(listed, scanned, "{filters:?} {column:?} {direction:?}");
                }
            }
        }
    }
}
