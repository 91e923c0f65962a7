//! Search across everything from the header: instances, indexes, accounts and customers,
//! ranked exact id or name first, then prefix, then substring; at most `limit` hits per kind.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Fleet;

/// How well a hit matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Rank {
    Exact,
    Prefix,
    Substring,
}

/// One hit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// The id (instance id, index id, account name, customer name).
    pub id: String,
    /// What to show beside it.
    pub label: String,
    pub rank: Rank,
}

/// The hits of one kind, and how many there were before the limit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Hits {
    pub total: usize,
    pub hits: Vec<Hit>,
}

/// Every kind's hits.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SearchResults {
    pub q: String,
    pub instances: Hits,
    pub indexes: Hits,
    pub accounts: Hits,
    pub customers: Hits,
}

impl SearchResults {
    /// Hits of all kinds together.
    pub fn total(&self) -> usize {
        self.instances.total + self.indexes.total + self.accounts.total + self.customers.total
    }
}

/// The best rank of `needle` (lowercase) against any of `keys`.
fn rank(needle: &str, keys: &[&str]) -> Option<Rank> {
    keys.iter()
        .filter(|k| !k.is_empty())
        .filter_map(|k| {
            let k = k.to_lowercase();
            if k == needle {
                Some(Rank::Exact)
            } else if k.starts_with(needle) {
                Some(Rank::Prefix)
            } else if k.contains(needle) {
                Some(Rank::Substring)
            } else {
                None
            }
        })
        .min()
}

fn collect(mut hits: Vec<Hit>, limit: usize) -> Hits {
    hits.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.id.cmp(&b.id)));
    let total = hits.len();
    hits.truncate(limit);
    Hits { total, hits }
}

/// Searches the fleet for `q` (trimmed, case-insensitive); empty `q` finds nothing.
pub fn search(fleet: &Fleet, q: &str, limit: usize) -> SearchResults {
    let needle = q.trim().to_lowercase();
    let mut results = SearchResults { q: q.trim().to_owned(), ..SearchResults::default() };
    if needle.is_empty() {
        return results;
    }
    let instances = fleet
        .instances()
        .iter()
        .filter_map(|i| {
            let name = i.name.as_deref().unwrap_or("");
            rank(&needle, &[&i.id, name, i.private_ip.as_deref().unwrap_or("")]).map(|rank| Hit {
                id: i.id.clone(),
                label: format!("{name} · {} · {} · {}", i.account, i.region, i.state),
                rank,
            })
        })
        .collect();
    results.instances = collect(instances, limit);
    let indexes = fleet
        .indexes()
        .iter()
        .filter_map(|x| {
            rank(&needle, &[&x.index_id, &x.name]).map(|rank| Hit {
                id: x.index_id.clone(),
                label: format!("{} · {} · {}", x.name, x.customer, x.status),
                rank,
            })
        })
        .collect();
    results.indexes = collect(indexes, limit);
    let accounts = fleet
        .everything()
        .accounts
        .iter()
        .filter_map(|a| {
            rank(&needle, &[&a.name, &a.id]).map(|rank| Hit {
                id: a.name.clone(),
                label: format!("{} · {}", a.id, a.kind),
                rank,
            })
        })
        .collect();
    results.accounts = collect(accounts, limit);
    let mut customers: BTreeMap<&str, usize> = BTreeMap::new();
    for x in fleet.indexes() {
        *customers.entry(&x.customer).or_default() += 1;
    }
    let customers = customers
        .into_iter()
        .filter_map(|(c, n)| {
            rank(&needle, &[c]).map(|rank| Hit {
                id: c.to_owned(),
                label: if n == 1 { "1 index".to_owned() } else { format!("{n} indexes") },
                rank,
            })
        })
        .collect();
    results.customers = collect(customers, limit);
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{Scale, generate};
    use time::macros::datetime;

    #[test]
    fn ranks_exact_then_prefix_then_substring() {
        let fleet = Fleet::new(generate(42, Scale::Small, datetime!(2026-11-24 12:00 UTC)));
        let id = fleet.instances()[5].id.clone();
        let r = search(&fleet, &id.to_uppercase(), 20);
        assert_eq!(r.instances.hits[0].id, id);
        assert_eq!(r.instances.hits[0].rank, Rank::Exact);
        let r = search(&fleet, "acme", 20);
        assert_eq!(r.customers.hits[0].rank, Rank::Exact);
        let ranks: Vec<Rank> = r.instances.hits.iter().map(|h| h.rank).collect();
        let mut sorted = ranks.clone();
        sorted.sort();
        assert_eq!(ranks, sorted);
        let r = search(&fleet, "i-0", 20);
        assert_eq!(r.instances.hits.len(), 20, "at most 20 per kind");
        assert_eq!(r.instances.total, fleet.instances().len());
        assert_eq!(search(&fleet, "   ", 20).total(), 0);
        assert_eq!(search(&fleet, "prod", 20).accounts.hits[0].id, "prod");
    }
}
