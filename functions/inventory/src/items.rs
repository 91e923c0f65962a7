//! The JSON and CSV shapes of instances and indexes (CONTRACT.md).

use polo_core::Money;
use polo_core::listing::{IndexRow, InstanceRow};
use polo_core::model::{Index, Instance};
use polo_web::table::{Cells, CsvRow};
use serde::Serialize;

/// An instance as JSON lists and detail pages give it.
#[derive(Serialize)]
pub struct InstanceItem<'a> {
    #[serde(flatten)]
    pub instance: &'a Instance,
    /// Per hour now; null when the price table does not know the type.
    pub hourly_cost: Option<Money>,
}

impl<'a> From<&InstanceRow<'a>> for InstanceItem<'a> {
    fn from(row: &InstanceRow<'a>) -> Self {
        InstanceItem { instance: row.instance, hourly_cost: row.hourly_cost }
    }
}

/// The CSV columns of instances: the JSON item keys, in order.
pub const INSTANCE_COLUMNS: &[&str] = &[
    "id",
    "account",
    "account_id",
    "region",
    "az",
    "name",
    "type",
    "state",
    "lifecycle",
    "launch_time",
    "state_since",
    "private_ip",
    "owner",
    "index",
    "customer",
    "tags",
    "hourly_cost",
];

/// An index as JSON gives it, with the ids of the instances that serve it.
#[derive(Serialize)]
pub struct IndexItem<'a> {
    #[serde(flatten)]
    pub index: &'a Index,
    pub instances: Vec<&'a str>,
    /// What the registry asks for against what runs (`desired`, `actual`, `drift`): an
    /// index's own page; lists leave it out.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub drift: Option<polo_core::drift::IndexDrift>,
    /// What `drift=` matches for it (each kind, `none`, `not-judged`); empty when not judged.
    pub drift_kinds: Vec<&'static str>,
    /// The month's drift impact, to the cent; null when not judged.
    pub monthly_cost_impact: Option<polo_core::Money>,
    /// Its busiest role's p95 CPU over the days measured; null when unmeasured.
    pub cpu_p95: Option<f64>,
    /// What rightsizing its roles saves a month; null when unmeasured.
    pub monthly_savings: Option<polo_core::Money>,
    /// Each role measured, with its daily CPU and proposal, and the index's daily queries:
    /// an index's own page; lists leave it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utilization: Option<polo_core::utilization::IndexUsage>,
}

impl<'a> IndexItem<'a> {
    /// `index` served by `instances`, with its drift when judged.
    pub fn new(
        index: &'a Index,
        instances: Vec<&'a str>,
        drift: Option<polo_core::drift::IndexDrift>,
    ) -> IndexItem<'a> {
        let drift_kinds = drift.as_ref().map(polo_core::listing::drift_labels).unwrap_or_default();
        let monthly_cost_impact = drift.as_ref().map(|d| d.monthly_cost_impact().round_cents());
        IndexItem {
            index,
            instances,
            drift,
            drift_kinds,
            monthly_cost_impact,
            cpu_p95: None,
            monthly_savings: None,
            utilization: None,
        }
    }

    /// The same item with `usage`'s utilization (`roles`: with each role's days, for a page
    /// of its own).
    #[must_use]
    pub fn with_usage(mut self, usage: Option<&polo_core::utilization::IndexUsage>, roles: bool) -> Self {
        if let Some(u) = usage {
            self.cpu_p95 = u.cpu_p95;
            self.monthly_savings = Some(u.monthly_savings);
            if roles {
                self.utilization = Some(u.clone());
            }
        }
        self
    }
}

/// The CSV columns of indexes: the JSON item keys, in order (drift's nested `desired`,
/// `actual` and `drift` stay in JSON).
pub const INDEX_COLUMNS: &[&str] = &[
    "index_id",
    "name",
    "account",
    "region",
    "customer",
    "status",
    "status_since",
    "inference_type",
    "inference_count",
    "storage_class",
    "shards",
    "replicas",
    "marqo_version",
    "created_at",
    "instances",
    "drift_kinds",
    "monthly_cost_impact",
    "cpu_p95",
    "monthly_savings",
];

/// Index rows need the fleet to name their instances.
pub fn index_item<'a>(fleet: &'a polo_core::model::Fleet, row: &IndexRow<'a>) -> IndexItem<'a> {
    let mut instances: Vec<&str> = fleet.instances_of(row.index).map(|i| i.id.as_str()).collect();
    instances.sort_unstable();
    IndexItem::new(row.index, instances, row.drift.cloned()).with_usage(row.usage, false)
}

impl CsvRow for InstanceItem<'_> {
    fn write_cells(&self, cells: &mut Cells<'_>) {
        let i = self.instance;
        cells.text(&i.id);
        cells.text(&i.account);
        cells.text(&i.account_id);
        cells.text(&i.region);
        cells.text(&i.az);
        cells.maybe(i.name.as_deref());
        cells.text(&i.instance_type);
        cells.text(i.state.as_str());
        cells.text(i.lifecycle.as_str());
        cells.time(Some(i.launch_time));
        cells.time(i.state_since);
        cells.maybe(i.private_ip.as_deref());
        cells.maybe(i.owner.as_deref());
        cells.maybe(i.index.as_deref());
        cells.maybe(i.customer.as_deref());
        cells.pairs(i.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        match self.hourly_cost {
            Some(cost) => cells.display(cost),
            None => cells.text(""),
        }
    }
}

impl CsvRow for IndexItem<'_> {
    fn write_cells(&self, cells: &mut Cells<'_>) {
        let x = self.index;
        cells.text(&x.index_id);
        cells.text(&x.name);
        cells.text(&x.account);
        cells.text(&x.region);
        cells.text(&x.customer);
        cells.text(x.status.as_str());
        cells.time(x.status_since);
        cells.text(&x.inference_type);
        cells.display(x.inference_count);
        cells.text(&x.storage_class);
        cells.display(x.shards);
        cells.display(x.replicas);
        cells.text(&x.marqo_version);
        cells.time(Some(x.created_at));
        cells.list(self.instances.iter().copied());
        cells.list(self.drift_kinds.iter().copied());
        match self.monthly_cost_impact {
            Some(impact) => cells.display(impact),
            None => cells.maybe(None),
        }
        cells.maybe(self.cpu_p95.map(|c| c.to_string()).as_deref());
        match self.monthly_savings {
            Some(saved) => cells.display(saved),
            None => cells.maybe(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use polo_core::listing::{Filters, list_indexes, list_instances};
    use polo_core::model::Fleet;
    use polo_core::pricing::PriceTable;
    use polo_core::sample::{Scale, generate};
    use polo_web::table::{rows_to_csv, to_csv};
    use time::macros::datetime;

    use super::*;

    /// The fast CSV writer and the JSON item agree, column for column, on every row.
    #[test]
    fn csv_rows_are_the_json_items() {
        let mut everything = generate(42, Scale::Small, datetime!(2026-11-24 12:00 UTC));
        everything.instances[0].name = Some("comma, \"quote\"\nnewline".into());
        everything.instances[0].tags.insert("k=v".into(), "a;b".into());
        let fleet = Fleet::new(everything);
        let prices = std::sync::Arc::new(PriceTable::bundled().unwrap());
        let rows = list_instances(&fleet, &Filters::none(), None, &prices);
        let items: Vec<InstanceItem<'_>> = rows.iter().map(InstanceItem::from).collect();
        let json_keys: Vec<String> =
            serde_json::to_value(&items[0]).unwrap().as_object().unwrap().keys().cloned().collect();
        let mut sorted_columns: Vec<&str> = INSTANCE_COLUMNS.to_vec();
        sorted_columns.sort_unstable();
        assert_eq!(json_keys, sorted_columns, "CSV columns are the JSON keys");
        assert_eq!(rows_to_csv(INSTANCE_COLUMNS, &items).unwrap(), to_csv(INSTANCE_COLUMNS, &items).unwrap());
        let rows = list_indexes(&fleet, &Filters::none(), None, polo_core::listing::Judged::default());
        let items: Vec<IndexItem<'_>> = rows.iter().map(|r| index_item(&fleet, r)).collect();
        let json_keys: Vec<String> =
            serde_json::to_value(&items[0]).unwrap().as_object().unwrap().keys().cloned().collect();
        let mut sorted_columns: Vec<&str> = INDEX_COLUMNS.to_vec();
        sorted_columns.sort_unstable();
        assert_eq!(json_keys, sorted_columns);
        assert_eq!(rows_to_csv(INDEX_COLUMNS, &items).unwrap(), to_csv(INDEX_COLUMNS, &items).unwrap());
    }
}
