use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use time::Date;

use super::index::resolve_position;
use super::{Everything, Index, Instance, binary, resolve};
use crate::listing::{Columns, Facets, FilterField, Filters, RowSet, all_facets as facets};

/// The index orders built so far, by column and direction.
type IndexOrders = HashMap<(crate::listing::IndexColumn, crate::listing::Direction), std::sync::Arc<[u32]>>;

/// A snapshot with the lookups every page needs, each built once: the instances and who
/// serves which index when a page first reads an instance (a binary snapshot's are left
/// unbuilt until then, [`Fleet::open_binary`]), the rest on first use.
#[derive(Debug)]
pub struct Fleet {
    /// The snapshot but its instances, which are in `rows`.
    everything: Everything,
    /// The instances and who serves which index, built when first asked for.
    rows: OnceLock<Rows>,
    /// A binary snapshot's instances, checked but not built yet ([`binary::open`]): the
    /// pages that read no instance (the costs, an account's freshness) never build them.
    pending: std::sync::Mutex<Option<binary::Pending>>,
    /// `/`'s counts as the sync priced them, when the snapshot carries them.
    counts: Option<crate::summary::PricedCounts>,
    /// The instances' filter fields as columns, and their free-text haystacks, each built on
    /// first use (most cold starts answer a page without them).
    instance_columns: Columns,
    /// The indexes' likewise.
    index_columns: Columns,
    /// The index orders by a column of the snapshot alone, built so far.
    index_orders: std::sync::Mutex<IndexOrders>,
    /// The instance orders (a column and direction each) built so far.
    instance_orders: std::sync::Mutex<crate::listing::InstanceOrders>,
    /// Value counts per filter field over all instances / indexes, computed on first use (the
    /// instances' taken from the snapshot when the sync wrote them).
    instance_facets: OnceLock<Facets>,
    index_facets: OnceLock<Facets>,
    /// What `/search` reads, built by the first search (see [`crate::search::SearchIndex`]).
    search: OnceLock<crate::search::SearchIndex>,
}

impl Fleet {
    /// Instance facet counts for a view under `filters` (see [`view_facets`]); the cached
    /// whole-fleet counts when nothing is filtered.
    pub fn instance_facets_for(&self, filters: &Filters) -> Cow<'_, Facets> {
        if filters.is_empty() {
            return Cow::Borrowed(self.instance_facets.get_or_init(|| facets(&self.rows().instances)));
        }
        Cow::Owned(self.instance_columns.facets(&self.rows().instances, filters))
    }

    /// Whether the whole-fleet instance facets are counted (the sync's, or built): a page
    /// showing them then needs no instance.
    pub fn instance_facets_counted(&self) -> bool {
        self.instance_facets.get().is_some()
    }

    /// Index facet counts for a view under `filters`.
    pub fn index_facets_for(&self, filters: &Filters) -> Cow<'_, Facets> {
        if filters.is_empty() {
            return Cow::Borrowed(self.index_facets.get_or_init(|| facets(&self.everything.indexes)));
        }
        Cow::Owned(self.index_columns.facets(&self.everything.indexes, filters))
    }

    /// Indexes the snapshot's membership (which instances serve each index). Instances are
    /// kept in id order and indexes in (id, account, region) order (as the sync writes them; a
    /// snapshot written otherwise is sorted here), so a position is also an id rank and an id
    /// is found by binary search.
    pub fn new(mut everything: Everything) -> Self {
        let mut instances = std::mem::take(&mut everything.instances);
        if !instances.is_sorted_by(|a, b| a.id <= b.id) {
            instances.sort_by(|a, b| a.id.cmp(&b.id));
        }
        let fleet = Fleet::lazy(everything, None, None, None);
        let rows = Rows::new(instances, &fleet.everything.indexes);
        // Just made, so nothing has set it.
        let _ = fleet.rows.set(rows);
        fleet
    }

    /// A binary snapshot, opened for a cold start ([`binary::open`]): its instances are
    /// built the first time a page asks for them.
    pub fn open_binary(bytes: Vec<u8>) -> Result<Self, String> {
        let binary::Opened { everything, pending, counts, instance_facets } = binary::open(bytes)?;
        Ok(match pending {
            Some(pending) => Fleet::lazy(everything, Some(pending), counts, instance_facets),
            // Built at once (out of order): what the sync counted still holds.
            None => Fleet {
                counts,
                instance_facets: instance_facets.map_or_else(OnceLock::new, OnceLock::from),
                ..Fleet::new(everything)
            },
        })
    }

    /// `/`'s counts of this snapshot as the sync priced them, if it priced them at `prices`
    /// (a route function counts them itself otherwise, [`crate::summary::count`]).
    pub fn counted(&self, prices: &crate::pricing::PriceTable) -> Option<&crate::summary::FleetCounts> {
        let counted = self.counts.as_ref()?.at(prices)?;
        // Should the build ever have failed, the pages show no instances: neither does `/`.
        match self.rows.get() {
            Some(rows) if rows.instances.len() != counted.instances => None,
            _ => Some(counted),
        }
    }

    fn lazy(
        mut everything: Everything,
        pending: Option<binary::Pending>,
        counts: Option<crate::summary::PricedCounts>,
        instance_facets: Option<Facets>,
    ) -> Self {
        if !everything.indexes.is_sorted_by(|a, b| index_order(a, b).is_le()) {
            everything.indexes.sort_by(index_order);
        }
        Fleet {
            everything,
            rows: OnceLock::new(),
            pending: std::sync::Mutex::new(pending),
            counts,
            instance_columns: Columns::default(),
            index_columns: Columns::default(),
            instance_orders: std::sync::Mutex::default(),
            index_orders: std::sync::Mutex::default(),
            instance_facets: instance_facets.map_or_else(OnceLock::new, OnceLock::from),
            index_facets: OnceLock::new(),
            search: OnceLock::new(),
        }
    }

    /// Whether the instances have been built (a binary snapshot's are built on first use).
    pub fn instances_built(&self) -> bool {
        self.rows.get().is_some()
    }

    /// The instances at positions `range` (id order, cut to those there are) and how many
    /// there are in all, built alone while they are still pending: the one page a cold start
    /// shows reads its rows and no other. `None` once a full build was tried (read
    /// [`Fleet::instances`]), or should the page fail to build (the full build then says why).
    /// `open` checked every row, so a page and the full build read the same rows; were the two
    /// ever to disagree, the full build's failure shows no instances, as before.
    pub fn pending_instances(&self, range: std::ops::Range<usize>) -> Option<(Vec<Instance>, usize)> {
        let pending = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let pending = pending.as_ref().filter(|_| self.rows.get().is_none())?;
        let rows = pending
            .build_range(range)
            .inspect_err(|problem| tracing::warn!(%problem, "a page of instances did not build alone; building them all"))
            .ok()?;
        Some((rows, pending.len()))
    }

    /// The instances, built now if they are still pending.
    fn rows(&self) -> &Rows {
        self.rows.get_or_init(|| {
            let mut pending = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            // Built or not, the file's bytes are not needed any more (a panic keeps them).
            let instances = match pending.as_ref().map(binary::Pending::build) {
                Some(Ok(instances)) => instances,
                // `open` checked what the build checks; should they ever disagree, the pages
                // show no instances rather than stop, and the log says why.
                Some(Err(problem)) => {
                    tracing::error!(%problem, "the snapshot's instances could not be built");
                    Vec::new()
                }
                None => Vec::new(),
            };
            *pending = None;
            Rows::new(instances, &self.everything.indexes)
        })
    }

    /// Every value of `field` among instances, with counts, by value (`(none)` for missing).
    pub fn instance_facet(&self, field: FilterField) -> &[(String, usize)] {
        self.instance_facets
            .get_or_init(|| facets(&self.rows().instances))
            .get(&field)
            .map_or(&[], Vec::as_slice)
    }

    /// Every value of `field` among indexes, with counts, by value.
    pub fn index_facet(&self, field: FilterField) -> &[(String, usize)] {
        self.index_facets
            .get_or_init(|| facets(&self.everything.indexes))
            .get(&field)
            .map_or(&[], Vec::as_slice)
    }

    /// The free-text haystack of the instance at `pos` (lowercase).
    pub fn instance_text(&self, pos: usize) -> &str {
        self.instance_columns.text(&self.rows().instances).row(pos)
    }

    /// The free-text haystack of the index at `pos` (lowercase).
    pub fn index_text(&self, pos: usize) -> &str {
        self.index_columns.text(&self.everything.indexes).row(pos)
    }

    /// The instances in `sort` order (ties by id) and each one's hourly cost at `prices`,
    /// built once per snapshot, sort and price table.
    pub fn instance_order(
        &self,
        sort: crate::listing::Sort<crate::listing::InstanceColumn>,
        prices: &std::sync::Arc<crate::pricing::PriceTable>,
    ) -> (std::sync::Arc<[u32]>, std::sync::Arc<[Option<crate::Money>]>) {
        // A panic while building poisons nothing lasting: what was built is still sound.
        let mut orders = self.instance_orders.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        orders.get(&self.rows().instances, sort, prices)
    }

    /// The instances that pass `filters`.
    pub fn instances_matching(&self, filters: &Filters) -> RowSet {
        self.instance_columns.matching(&self.rows().instances, filters)
    }

    /// The search index of this snapshot, built on first use.
    pub fn search_index(&self) -> &crate::search::SearchIndex {
        self.search.get_or_init(|| crate::search::SearchIndex::build(self))
    }

    /// The newest cost day.
    pub fn costs_as_of(&self) -> Option<Date> {
        self.everything.cost_facts.as_of
    }

    /// An index's cost over the 30 days ending at [`Fleet::costs_as_of`].
    pub fn index_cost_last_30_days(&self, index_id: &str) -> Option<crate::Money> {
        self.everything.cost_facts.index_last_30_days.get(index_id).copied()
    }

    /// When the sync that wrote the snapshot ran.
    pub fn generated_at(&self) -> time::OffsetDateTime {
        self.everything.generated_at
    }

    /// The version of the price table the sync priced with.
    pub fn price_table_version(&self) -> &str {
        &self.everything.price_table_version
    }

    /// Every account, with how its last sync went.
    pub fn accounts(&self) -> &[super::AccountSync] {
        &self.everything.accounts
    }

    /// What the sync derived from the cost data.
    pub fn cost_facts(&self) -> &super::CostFacts {
        &self.everything.cost_facts
    }

    /// The changes the snapshot carries.
    pub fn history(&self) -> &[super::Change] {
        &self.everything.history
    }

    /// The findings the snapshot carries (when no finding store is configured).
    pub fn findings(&self) -> &[super::Finding] {
        &self.everything.findings
    }

    /// The whole snapshot, copied: for writers and tests, not pages.
    pub fn to_everything(&self) -> Everything {
        Everything { instances: self.instances().to_vec(), ..self.everything.clone() }
    }

    /// Every instance.
    pub fn instances(&self) -> &[Instance] {
        &self.rows().instances
    }

    /// Every index.
    pub fn indexes(&self) -> &[Index] {
        &self.everything.indexes
    }

    /// One instance by its EC2 id.
    pub fn instance(&self, id: &str) -> Option<&Instance> {
        let instances = &self.rows().instances;
        instances.binary_search_by(|i| i.id.as_str().cmp(id)).ok().map(|pos| &instances[pos])
    }

    /// The first index (by account, then region) with the id `index_id`: what costs, which
    /// know an index by its tag value only, name it by.
    pub fn index(&self, index_id: &str) -> Option<&Index> {
        self.indexes_with_id(index_id).next()
    }

    /// Every index with the id `index_id`, one per account and region that holds it.
    pub fn indexes_with_id(&self, index_id: &str) -> impl Iterator<Item = &Index> {
        self.everything.indexes[self.positions_of_id(index_id)].iter()
    }

    /// The positions of the indexes with the id `index_id` (indexes are in id order).
    fn positions_of_id(&self, index_id: &str) -> std::ops::Range<usize> {
        let indexes = &self.everything.indexes;
        let from = indexes.partition_point(|x| x.index_id.as_str() < index_id);
        let to = from + indexes[from..].partition_point(|x| x.index_id == index_id);
        from..to
    }

    /// The positions of the instances that serve the index at `pos`.
    fn served_at(&self, pos: usize) -> &[u32] {
        let rows = self.rows();
        match (rows.served_from.get(pos), rows.served_from.get(pos + 1)) {
            (Some(&from), Some(&to)) => &rows.served[from as usize..to as usize],
            _ => &[],
        }
    }

    /// The index `index_id` of `account` and `region`.
    pub fn index_at(&self, index_id: &str, account: &str, region: &str) -> Option<&Index> {
        self.indexes_with_id(index_id).find(|x| x.account == account && x.region == region)
    }

    /// The index `instance` serves: its tag resolved in its own account and region first
    /// ([`resolve`]); `None` when it has no tag or no registry holds the id.
    pub fn index_of(&self, instance: &Instance) -> Option<&Index> {
        let candidates: Vec<&Index> = self.indexes_with_id(instance.index.as_deref()?).collect();
        resolve(&candidates, &instance.account, &instance.region)
    }

    /// The instances that serve `index` (their tag resolves to it).
    pub fn instances_of(&self, index: &Index) -> impl Iterator<Item = &Instance> {
        let instances = &self.rows().instances;
        self.position_of(index)
            .map_or(&[][..], |pos| self.served_at(pos))
            .iter()
            .map(|&pos| &instances[pos as usize])
    }

    /// How many instances serve the index at `pos`.
    pub fn instance_count_at(&self, pos: usize) -> usize {
        self.served_at(pos).len()
    }

    /// The indexes in `sort` order (a column of the snapshot alone), ties by position; built
    /// once per snapshot, column and direction.
    pub fn index_order(
        &self,
        sort: crate::listing::Sort<crate::listing::IndexColumn>,
    ) -> std::sync::Arc<[u32]> {
        let mut orders = self.index_orders.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let order = orders
            .entry((sort.column, sort.direction))
            .or_insert_with(|| crate::listing::index_order_of(self, sort).into());
        std::sync::Arc::clone(order)
    }

    /// The indexes that pass `filters`.
    pub fn indexes_matching(&self, filters: &Filters) -> RowSet {
        self.index_columns.matching(&self.everything.indexes, filters)
    }

    /// How many instances serve `index`.
    pub fn instance_count_of(&self, index: &Index) -> usize {
        self.position_of(index).map_or(0, |pos| self.served_at(pos).len())
    }

    fn position_of(&self, index: &Index) -> Option<usize> {
        self.positions_of_id(&index.index_id)
            .find(|&pos| self.everything.indexes[pos].is_at(&index.index_id, &index.account, &index.region))
    }
}

/// The instances, and which serve each index.
#[derive(Debug)]
struct Rows {
    instances: Vec<Instance>,
    /// Where the instances each index (by position) serves start in `served`: index `p`'s
    /// are `served[served_from[p]..served_from[p + 1]]`, in position order.
    served_from: Vec<u32>,
    /// The positions of the instances whose index tag resolves to an index ([`resolve`]),
    /// grouped by that index.
    served: Vec<u32>,
}

impl Rows {
    /// `instances` (in id order) and who serves which of `indexes` (in [`index_order`]).
    fn new(instances: Vec<Instance>, indexes: &[Index]) -> Self {
        // Only the index tags are resolved here, through a map that borrows the ids.
        let mut ranges: foldhash::HashMap<&str, (usize, usize)> = foldhash::HashMap::with_capacity_and_hasher(
            indexes.len(),
            foldhash::fast::RandomState::default(),
        );
        for (pos, index) in indexes.iter().enumerate() {
            ranges.entry(index.index_id.as_str()).or_insert((pos, pos)).1 = pos + 1;
        }
        let mut served_by: Vec<u32> = Vec::with_capacity(instances.len());
        let mut counts = vec![0u32; indexes.len() + 1];
        for instance in &instances {
            let served = instance.index.as_deref().and_then(|id| ranges.get(id)).and_then(|&(from, to)| {
                resolve_position(&indexes[from..to], &instance.account, &instance.region).map(|p| from + p)
            });
            let at = served.map_or(u32::MAX, to_u32);
            if let Some(p) = served {
                counts[p + 1] += 1;
            }
            served_by.push(at);
        }
        drop(ranges);
        for p in 1..counts.len() {
            counts[p] += counts[p - 1];
        }
        let mut next = counts.clone();
        let mut served = vec![0u32; counts.last().map_or(0, |&n| n as usize)];
        for (pos, &index) in served_by.iter().enumerate() {
            if index != u32::MAX {
                let slot = &mut next[index as usize];
                served[*slot as usize] = to_u32(pos);
                *slot += 1;
            }
        }
        Rows { instances, served_from: counts, served }
    }
}

/// A position as the `u32` the lookups keep (a snapshot holds far fewer than 4 billion rows).
fn to_u32(pos: usize) -> u32 {
    u32::try_from(pos).unwrap_or(u32::MAX)
}

/// The order of indexes in a snapshot: by id, then account, then region.
pub fn index_order(a: &Index, b: &Index) -> std::cmp::Ordering {
    (&a.index_id, &a.account, &a.region).cmp(&(&b.index_id, &b.account, &b.region))
}
