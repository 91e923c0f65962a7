use std::collections::HashMap;

use super::{Everything, Index, Instance};

/// A snapshot with the lookups every page needs, built once when it is loaded.
#[derive(Debug)]
pub struct Fleet {
    everything: Everything,
    instance_by_id: HashMap<String, usize>,
    index_by_id: HashMap<String, usize>,
    instances_by_index: HashMap<String, Vec<usize>>,
}

impl Fleet {
    /// Indexes the snapshot by instance id, index id and index membership.
    pub fn new(everything: Everything) -> Self {
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
        Fleet { everything, instance_by_id, index_by_id, instances_by_index }
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
