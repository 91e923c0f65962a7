use std::cmp::Ordering;

use super::filter::{Filterable, haystack};
use super::{Column, Direction, FilterField, Filters, Sort};
use crate::Money;
use crate::model::{Fleet, Instance};
use crate::pricing::PriceTable;

/// The columns of the instances table, in JSON order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstanceColumn {
    Id,
    Account,
    AccountId,
    Region,
    Az,
    Name,
    Type,
    State,
    Lifecycle,
    LaunchTime,
    StateSince,
    PrivateIp,
    Owner,
    Index,
    Customer,
    HourlyCost,
}

impl Column for InstanceColumn {
    const ALL: &'static [Self] = &[
        InstanceColumn::Id,
        InstanceColumn::Account,
        InstanceColumn::AccountId,
        InstanceColumn::Region,
        InstanceColumn::Az,
        InstanceColumn::Name,
        InstanceColumn::Type,
        InstanceColumn::State,
        InstanceColumn::Lifecycle,
        InstanceColumn::LaunchTime,
        InstanceColumn::StateSince,
        InstanceColumn::PrivateIp,
        InstanceColumn::Owner,
        InstanceColumn::Index,
        InstanceColumn::Customer,
        InstanceColumn::HourlyCost,
    ];

    fn name(self) -> &'static str {
        match self {
            InstanceColumn::Id => "id",
            InstanceColumn::Account => "account",
            InstanceColumn::AccountId => "account_id",
            InstanceColumn::Region => "region",
            InstanceColumn::Az => "az",
            InstanceColumn::Name => "name",
            InstanceColumn::Type => "type",
            InstanceColumn::State => "state",
            InstanceColumn::Lifecycle => "lifecycle",
            InstanceColumn::LaunchTime => "launch_time",
            InstanceColumn::StateSince => "state_since",
            InstanceColumn::PrivateIp => "private_ip",
            InstanceColumn::Owner => "owner",
            InstanceColumn::Index => "index",
            InstanceColumn::Customer => "customer",
            InstanceColumn::HourlyCost => "hourly_cost",
        }
    }
}

/// The filters that apply to instances.
pub const INSTANCE_FILTERS: [FilterField; 7] = [
    FilterField::Account,
    FilterField::Region,
    FilterField::State,
    FilterField::Type,
    FilterField::Owner,
    FilterField::Index,
    FilterField::Customer,
];

impl Filterable for Instance {
    fn field(&self, field: FilterField) -> Option<&str> {
        match field {
            FilterField::Account => Some(&self.account),
            FilterField::Region => Some(&self.region),
            FilterField::State => Some(self.state.as_str()),
            FilterField::Type => Some(&self.instance_type),
            FilterField::Owner => self.owner.as_deref(),
            FilterField::Index => self.index.as_deref(),
            FilterField::Customer => self.customer.as_deref(),
            FilterField::Status
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
        let fields = [
            Some(self.id.as_str()),
            Some(&self.account),
            Some(&self.account_id),
            Some(&self.region),
            Some(&self.az),
            self.name.as_deref(),
            Some(&self.instance_type),
            Some(self.state.as_str()),
            Some(self.lifecycle.as_str()),
            self.private_ip.as_deref(),
            self.owner.as_deref(),
            self.index.as_deref(),
            self.customer.as_deref(),
        ];
        haystack(
            fields.into_iter().flatten().chain(self.tags.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()])),
        )
    }
}

/// An instance with what the table shows beside it.
#[derive(Clone, Copy, Debug)]
pub struct InstanceRow<'a> {
    pub instance: &'a Instance,
    /// What it costs per hour now; `None` when the price table does not know its type.
    pub hourly_cost: Option<Money>,
    /// Its place in the fleet, which is in id order: ties sort by it without reading the ids.
    pub position: usize,
}

/// The instances that pass `filters`, in `sort` order (ties by id).
pub fn list_instances<'a>(
    fleet: &'a Fleet,
    filters: &Filters,
    sort: Option<Sort<InstanceColumn>>,
    prices: &PriceTable,
) -> Vec<InstanceRow<'a>> {
    let mut rows: Vec<InstanceRow<'a>> = fleet
        .instances()
        .iter()
        .enumerate()
        .filter(|(pos, i)| filters.matches(*i, || fleet.instance_text(*pos)))
        .map(|(position, instance)| InstanceRow {
            instance,
            hourly_cost: prices.instance_hourly(instance),
            position,
        })
        .collect();
    let sort = sort.unwrap_or(Sort { column: InstanceColumn::Id, direction: Direction::Ascending });
    rows.sort_unstable_by(|a, b| {
        let ord = compare(a, b, sort.column);
        let ord = if sort.direction == Direction::Descending { ord.reverse() } else { ord };
        ord.then_with(|| a.position.cmp(&b.position))
    });
    rows
}

fn compare(a: &InstanceRow<'_>, b: &InstanceRow<'_>, column: InstanceColumn) -> Ordering {
    let (x, y) = (a.instance, b.instance);
    match column {
        InstanceColumn::Id => x.id.cmp(&y.id),
        InstanceColumn::Account => x.account.cmp(&y.account),
        InstanceColumn::AccountId => x.account_id.cmp(&y.account_id),
        InstanceColumn::Region => x.region.cmp(&y.region),
        InstanceColumn::Az => x.az.cmp(&y.az),
        InstanceColumn::Name => x.name.cmp(&y.name),
        InstanceColumn::Type => x.instance_type.cmp(&y.instance_type),
        InstanceColumn::State => x.state.as_str().cmp(y.state.as_str()),
        InstanceColumn::Lifecycle => x.lifecycle.as_str().cmp(y.lifecycle.as_str()),
        InstanceColumn::LaunchTime => x.launch_time.cmp(&y.launch_time),
        InstanceColumn::StateSince => x.state_since.cmp(&y.state_since),
        InstanceColumn::PrivateIp => ip_key(x.private_ip.as_deref()).cmp(&ip_key(y.private_ip.as_deref())),
        InstanceColumn::Owner => x.owner.cmp(&y.owner),
        InstanceColumn::Index => x.index.cmp(&y.index),
        InstanceColumn::Customer => x.customer.cmp(&y.customer),
        InstanceColumn::HourlyCost => a.hourly_cost.cmp(&b.hourly_cost),
    }
}

/// Sorts addresses numerically (10.0.0.9 before 10.0.0.10); what does not parse sorts last.
fn ip_key(ip: Option<&str>) -> (u8, u32, Option<&str>) {
    match ip {
        None => (0, 0, None),
        Some(text) => match text.parse::<std::net::Ipv4Addr>() {
            Ok(addr) => (1, u32::from(addr), None),
            Err(_) => (2, 0, Some(text)),
        },
    }
}
