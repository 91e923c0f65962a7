//! The JSON and CSV shapes of instances and indexes (CONTRACT.md).

use polo_core::Money;
use polo_core::listing::{IndexRow, InstanceRow};
use polo_core::model::{Index, Instance};
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
}

/// The CSV columns of indexes: the JSON item keys, in order.
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
];

/// The list envelope of CONTRACT.md.
#[derive(Serialize)]
pub struct ListBody<T> {
    pub items: Vec<T>,
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
}

/// Index rows need the fleet to name their instances.
pub fn index_item<'a>(fleet: &'a polo_core::model::Fleet, row: &IndexRow<'a>) -> IndexItem<'a> {
    let mut instances: Vec<&str> = fleet.instances_of(&row.index.index_id).map(|i| i.id.as_str()).collect();
    instances.sort_unstable();
    IndexItem { index: row.index, instances }
}
