use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use time::Date;

use super::{Everything, Index, Instance};
use crate::listing::{Facets, FilterField, Filterable, Filters, all_facets as facets, view_facets};

/// A snapshot with the lookups every page needs, built once when it is loaded.
#[derive(Debug)]
pub struct Fleet {
    everything: Everything,
    instance_by_id: HashMap<String, usize>,
    index_by_id: HashMap<String, usize>,
    instances_by_index: HashMap<String, Vec<usize>>,
    /// Lowercase free-text haystack of each instance, by position, built by the first
    /// free-text query (most cold starts answer a page without one).
    instance_text: OnceLock<Vec<String>>,
    /// Lowercase free-text haystack of each index, by position, built likewise.
    index_text: OnceLock<Vec<String>>,
    /// Value counts per filter field over all instances / indexes, computed on first use.
    instance_facets: OnceLock<Facets>,
    index_facets: OnceLock<Facets>,
}

impl Fleet {
    /// Instance facet counts for a view under `filters` (see [`view_facets`]); the cached
    /// whole-fleet counts when nothing is filtered.
    pub fn instance_facets_for(&self, filters: &Filters) -> Cow<'_, Facets> {
        if filters.is_empty() {
            return Cow::Borrowed(self.instance_facets.get_or_init(|| facets(&self.everything.instances)));
        }
        Cow::Owned(view_facets(
            &self.everything.instances,
            |pos| filters.text_matches(|| self.instance_text(pos)),
            filters,
        ))
    }

    /// Index facet counts for a view under `filters`.
    pub fn index_facets_for(&self, filters: &Filters) -> Cow<'_, Facets> {
        if filters.is_empty() {
            return Cow::Borrowed(self.index_facets.get_or_init(|| facets(&self.everything.indexes)));
        }
        Cow::Owned(view_facets(
            &self.everything.indexes,
            |pos| filters.text_matches(|| self.index_text(pos)),
            filters,
        ))
    }

    /// Indexes the snapshot by instance id, index id and index membership. Instances and
    /// indexes are kept in id order (as the sync writes them; a snapshot written otherwise is
    /// sorted here), so a position is also an id rank.
    pub fn new(mut everything: Everything) -> Self {
        if !everything.instances.is_sorted_by(|a, b| a.id <= b.id) {
            everything.instances.sort_by(|a, b| a.id.cmp(&b.id));
        }
        if !everything.indexes.is_sorted_by(|a, b| a.index_id <= b.index_id) {
            everything.indexes.sort_by(|a, b| a.index_id.cmp(&b.index_id));
        }
        let mut instance_by_id = HashMap::with_capacity(everything.instances.len());
        let mut instances_by_index: HashMap<String, Vec<usize>> = HashMap::new();
        for (pos, instance) in everything.instances.iter().enumerate() {
            instance_by_id.insert(instance.id.clone(), pos);
            if let Some(index) = &instance.index {
                instances_by_index.entry(index.clone()).or_default().push(pos);
            }
        }
        let index_by_id =
            everything.indexes.iter().enumerate().map(|(pos, index)| (index.index_id.clone(), pos)).collect();
        Fleet {
            everything,
            instance_by_id,
            index_by_id,
            instances_by_index,
            instance_text: OnceLock::new(),
            index_text: OnceLock::new(),
            instance_facets: OnceLock::new(),
            index_facets: OnceLock::new(),
        }
    }

    /// Every value of `field` among instances, with counts, by value (`(none)` for missing).
    pub fn instance_facet(&self, field: FilterField) -> &[(String, usize)] {
        self.instance_facets
            .get_or_init(|| facets(&self.everything.instances))
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
        let text = self
            .instance_text
            .get_or_init(|| self.everything.instances.iter().map(Filterable::search_text).collect());
        text.get(pos).map_or("", String::as_str)
    }

    /// The free-text haystack of the index at `pos` (lowercase).
    pub fn index_text(&self, pos: usize) -> &str {
        let text = self
            .index_text
            .get_or_init(|| self.everything.indexes.iter().map(Filterable::search_text).collect());
        text.get(pos).map_or("", String::as_str)
    }

    /// The newest cost day.
    pub fn costs_as_of(&self) -> Option<Date> {
        self.everything.cost_facts.as_of
    }

    /// An index's cost over the 30 days ending at [`Fleet::costs_as_of`].
    pub fn index_cost_last_30_days(&self, index_id: &str) -> Option<crate::Money> {
        self.everything.cost_facts.index_last_30_days.get(index_id).copied()
    }

    /// The snapshot itself.
    pub fn everything(&self) -> &Everything {
        &self.everything
    }

    /// Every instance.
    pub fn instances(&self) -> &[Instance] {
        &self.everything.instances
    }

    /// Every index.
    pub fn indexes(&self) -> &[Index] {
        &self.everything.indexes
    }

    /// One instance by its EC2 id.
    pub fn instance(&self, id: &str) -> Option<&Instance> {
        self.instance_by_id.get(id).map(|&pos| &self.everything.instances[pos])
    }

    /// One index by its id.
    pub fn index(&self, index_id: &str) -> Option<&Index> {
        self.index_by_id.get(index_id).map(|&pos| &self.everything.indexes[pos])
    }

    /// The instances whose index tag names `index_id`.
    pub fn instances_of(&self, index_id: &str) -> impl Iterator<Item = &Instance> {
        self.instances_by_index
            .get(index_id)
            .into_iter()
            .flatten()
            .map(|&pos| &self.everything.instances[pos])
    }

    /// How many instances name `index_id`.
    pub fn instance_count_of(&self, index_id: &str) -> usize {
        self.instances_by_index.get(index_id).map_or(0, Vec::len)
    }
}
