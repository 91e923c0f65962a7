use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use super::filter::{Filterable, haystack};
use super::{Column, Direction, FilterField, Filters, Page, PageRequest, Sort};
use crate::Money;
use crate::model::{Fleet, Instance};
use crate::pricing::PriceTable;

/// The columns of the instances table, in JSON order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

/// The instances that pass `filters`, in `sort` order (ties by id). The order is built once
/// per snapshot, column and direction ([`InstanceOrders`]) and the filter is a set of rows
/// ([`Fleet::instances_matching`]), so a request walks one order and sorts nothing.
pub fn list_instances<'a>(
    fleet: &'a Fleet,
    filters: &Filters,
    sort: Option<Sort<InstanceColumn>>,
    prices: &Arc<PriceTable>,
) -> Vec<InstanceRow<'a>> {
    let sort = sort.unwrap_or(Sort { column: InstanceColumn::Id, direction: Direction::Ascending });
    let passing = (!filters.is_empty()).then(|| fleet.instances_matching(filters));
    let (order, hourly) = fleet.instance_order(sort, prices);
    let instances = fleet.instances();
    order
        .iter()
        .map(|&p| p as usize)
        .filter(|&p| passing.as_ref().is_none_or(|rows| rows.contains(p)))
        .filter_map(|p| {
            Some(InstanceRow {
                instance: instances.get(p)?,
                hourly_cost: hourly.get(p).copied().flatten(),
                position: p,
            })
        })
        .collect()
}

/// One page of the default view (every instance, in id order) read from a snapshot whose
/// instances are still pending ([`Fleet::pending_instances`]): the rows it shows, built alone.
/// A cold start's first list page builds 50 instances, not all of them; any other view, and
/// any request once they are built, goes through [`list_instances`], which answers this page
/// identically.
#[derive(Debug)]
pub struct PendingPage {
    instances: Vec<Instance>,
    /// The position of the first one.
    first: usize,
    total: usize,
    request: PageRequest,
}

impl PendingPage {
    /// The page `request` of the view `filters` and `sort` select, if that is the default view
    /// and the instances are still pending.
    pub fn of(
        fleet: &Fleet,
        filters: &Filters,
        sort: Option<Sort<InstanceColumn>>,
        request: PageRequest,
    ) -> Option<Self> {
        let by_id = Sort { column: InstanceColumn::Id, direction: Direction::Ascending };
        if !filters.is_empty() || sort.is_some_and(|s| s != by_id) {
            return None;
        }
        let first = (request.page() - 1).saturating_mul(request.per_page());
        let (instances, total) = fleet.pending_instances(first..first.saturating_add(request.per_page()))?;
        Some(PendingPage { instances, first, total, request })
    }

    /// The page's rows, priced at `prices`, as [`Page::of`] would cut them from [`list_instances`].
    pub fn page(&self, prices: &PriceTable) -> Page<InstanceRow<'_>> {
        Page {
            items: self
                .instances
                .iter()
                .enumerate()
                .map(|(n, instance)| InstanceRow {
                    instance,
                    hourly_cost: prices.instance_hourly(instance),
                    position: self.first + n,
                })
                .collect(),
            total: self.total,
            page: self.request.page(),
            per_page: self.request.per_page(),
        }
    }
}

/// The instance orders of one snapshot built so far, and the hourly costs (of the price
/// table they were built with) that one of them sorts by.
#[derive(Debug, Default)]
pub struct InstanceOrders {
    prices: Option<Arc<PriceTable>>,
    hourly: Option<Arc<[Option<Money>]>>,
    orders: HashMap<(InstanceColumn, Direction), Arc<[u32]>>,
}

impl InstanceOrders {
    /// The order of `instances` by `sort`, ties by position, and every instance's hourly
    /// cost at `prices`; built now if not yet. The price table is kept (so its address cannot
    /// be another's while it is the key): another one drops what was built with the first.
    pub fn get(
        &mut self,
        instances: &[Instance],
        sort: Sort<InstanceColumn>,
        prices: &Arc<PriceTable>,
    ) -> (Arc<[u32]>, Arc<[Option<Money>]>) {
        if !self.prices.as_ref().is_some_and(|p| Arc::ptr_eq(p, prices)) {
            *self = InstanceOrders { prices: Some(Arc::clone(prices)), ..InstanceOrders::default() };
        }
        let hourly = Arc::clone(
            self.hourly.get_or_insert_with(|| instances.iter().map(|i| prices.instance_hourly(i)).collect()),
        );
        let order = self.orders.entry((sort.column, sort.direction)).or_insert_with(|| {
            // Positions are in id order: the default order is theirs, with nothing to sort (a
            // cold start's first list page builds no order).
            if sort == (Sort { column: InstanceColumn::Id, direction: Direction::Ascending }) {
                return (0..instances.len()).map(|p| u32::try_from(p).unwrap_or(u32::MAX)).collect();
            }
            let mut rows: Vec<InstanceRow<'_>> = instances
                .iter()
                .enumerate()
                .map(|(position, instance)| InstanceRow { instance, hourly_cost: hourly[position], position })
                .collect();
            sort_rows(&mut rows, sort);
            rows.iter().map(|r| u32::try_from(r.position).unwrap_or(u32::MAX)).collect()
        });
        (Arc::clone(order), hourly)
    }
}

/// Sorts `rows` by `sort`, ties by position (so by id, in either direction).
fn sort_rows(rows: &mut [InstanceRow<'_>], sort: Sort<InstanceColumn>) {
    super::sort_with_ties(rows, sort.direction, |a, b| compare(a, b, sort.column), |r| r.position);
}

/// The instances that pass `filters` in `sort` order, found row by row and sorted: what
/// [`list_instances`] must answer identically (tests).
#[cfg(test)]
pub(crate) fn list_instances_scan<'a>(
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
    sort_rows(
        &mut rows,
        sort.unwrap_or(Sort { column: InstanceColumn::Id, direction: Direction::Ascending }),
    );
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    #[test]
    fn a_pending_page_is_the_page_listing_every_row_cuts() {
        let everything = generate(42, Scale::Small, datetime!(2026-11-24 12:00 UTC));
        let bytes = crate::model::binary::encode(&everything);
        let eager = Fleet::new(everything);
        let prices = Arc::new(PriceTable::bundled().unwrap());
        let n = eager.instances().len();
        let key = |page: Page<InstanceRow<'_>>| {
            let rows: Vec<_> =
                page.items.iter().map(|r| (r.instance.clone(), r.hourly_cost, r.position)).collect();
            (rows, page.total, page.page, page.per_page)
        };
        let by_id = Some(Sort { column: InstanceColumn::Id, direction: Direction::Ascending });
        for (page, per_page) in [(1, 50), (2, 50), (1, 1), (3, 7), (n.div_ceil(7), 7), (n + 1, 1), (1, 500)] {
            let request = PageRequest::new(page, per_page).unwrap();
            for sort in [None, by_id] {
                let opened = Fleet::open_binary(bytes.clone()).unwrap();
                let pending = PendingPage::of(&opened, &Filters::none(), sort, request).expect("unbuilt");
                assert_eq!(
                    key(pending.page(&prices)),
                    key(Page::of(list_instances(&eager, &Filters::none(), sort, &prices), request)),
                    "page {page} of {per_page}"
                );
                assert!(!opened.instances_built());
            }
        }
        // Any other view, or once built, lists every row.
        let opened = Fleet::open_binary(bytes).unwrap();
        let request = PageRequest::default();
        let by_name = Some(Sort { column: InstanceColumn::Name, direction: Direction::Ascending });
        let newest = Some(Sort { column: InstanceColumn::Id, direction: Direction::Descending });
        assert!(PendingPage::of(&opened, &Filters::none(), by_name, request).is_none());
        assert!(PendingPage::of(&opened, &Filters::none(), newest, request).is_none());
        assert!(PendingPage::of(&opened, &Filters::none().with_text("acme"), None, request).is_none());
        assert!(PendingPage::of(&eager, &Filters::none(), None, request).is_none());
        assert!(!opened.instances_built());
    }

    use time::macros::datetime;

    use super::*;
    use crate::sample::{Scale, generate};

    #[test]
    fn the_kept_orders_list_exactly_what_filtering_and_sorting_every_row_lists() {
        let fleet = Fleet::new(generate(42, Scale::Small, datetime!(2026-11-24 12:00 UTC)));
        let prices = Arc::new(PriceTable::bundled().unwrap());
        let views = [
            Filters::none(),
            Filters::none().with(FilterField::State, "running").with(FilterField::Account, "prod"),
            Filters::none().with_text("acme"),
            Filters::none().with(FilterField::Owner, "(none)"),
        ];
        let key = |rows: Vec<InstanceRow<'_>>| -> Vec<(usize, Option<Money>)> {
            rows.iter().map(|r| (r.position, r.hourly_cost)).collect()
        };
        for filters in &views {
            for &column in InstanceColumn::ALL {
                for direction in [Direction::Ascending, Direction::Descending] {
                    let sort = Some(Sort { column, direction });
                    assert_eq!(
                        key(list_instances(&fleet, filters, sort, &prices)),
                        key(list_instances_scan(&fleet, filters, sort, &prices)),
                        "{filters:?} {column:?} {direction:?}"
                    );
                }
            }
        }
        // Another price table: the costs and their order are built again from it.
        let other = Arc::new(PriceTable::bundled().unwrap().with_spot_discount(
            crate::pricing::SpotDiscount::new(rust_decimal::Decimal::new(9, 1)).unwrap(),
        ));
        let sort = Some(Sort { column: InstanceColumn::HourlyCost, direction: Direction::Descending });
        assert_eq!(
            key(list_instances(&fleet, &Filters::none(), sort, &other)),
            key(list_instances_scan(&fleet, &Filters::none(), sort, &other))
        );
    }
}
