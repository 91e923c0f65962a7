//! Search across everything from the header: instances, indexes, accounts and customers,
//! ranked exact id or name first, then prefix, then substring; at most `limit` hits per kind.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Fleet;
use crate::text::contains_lower;

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

/// The rank of `needle` (lowercase) against one key, without allocating for ASCII keys.
fn rank_one(needle: &str, key: &str) -> Option<Rank> {
    if key.is_empty() {
        return None;
    }
    if !key.is_ascii() {
        let key = key.to_lowercase();
        return if key == needle {
            Some(Rank::Exact)
        } else if key.starts_with(needle) {
            Some(Rank::Prefix)
        } else if key.contains(needle) {
            Some(Rank::Substring)
        } else {
            None
        };
    }
    let (k, n) = (key.as_bytes(), needle.as_bytes());
    if k.len() == n.len() && k.eq_ignore_ascii_case(n) {
        Some(Rank::Exact)
    } else if k.len() > n.len() && k[..n.len()].eq_ignore_ascii_case(n) {
        Some(Rank::Prefix)
    } else if contains_lower(key, needle) {
        Some(Rank::Substring)
    } else {
        None
    }
}

/// The best rank of `needle` against any of `keys`.
fn rank(needle: &str, keys: &[&str]) -> Option<Rank> {
    keys.iter().filter_map(|k| rank_one(needle, k)).min()
}

/// Keeps the best `limit` candidates (rank, then id) in order, and labels only those: a
/// selection, then a sort of what is kept, not a sort of every match.
fn collect(mut found: Vec<(Rank, &str, usize)>, limit: usize, label: impl Fn(usize) -> String) -> Hits {
    let total = found.len();
    let order = |a: &(Rank, &str, usize), b: &(Rank, &str, usize)| {
        a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)).then(a.2.cmp(&b.2))
    };
    if found.len() > limit {
        found.select_nth_unstable_by(limit, order);
        found.truncate(limit);
    }
    found.sort_unstable_by(order);
    let hits = found
        .into_iter()
        .take(limit)
        .map(|(rank, id, pos)| Hit { id: id.to_owned(), label: label(pos), rank })
        .collect();
    Hits { total, hits }
}

/// Searches the fleet for `q` (trimmed, case-insensitive); empty `q` finds nothing.
pub fn search(fleet: &Fleet, q: &str, limit: usize) -> SearchResults {
    let needle = q.trim().to_lowercase();
    let mut results = SearchResults { q: q.trim().to_owned(), ..SearchResults::default() };
    if needle.is_empty() {
        return results;
    }
    let instances = fleet.instances();
    let found = instances
        .iter()
        .enumerate()
        .filter_map(|(pos, i)| {
            let keys =
                [i.id.as_str(), i.name.as_deref().unwrap_or(""), i.private_ip.as_deref().unwrap_or("")];
            rank(&needle, &keys).map(|r| (r, i.id.as_str(), pos))
        })
        .collect();
    results.instances = collect(found, limit, |pos| {
        let i = &instances[pos];
        format!("{} · {} · {} · {}", i.name.as_deref().unwrap_or(""), i.account, i.region, i.state)
    });
    let indexes = fleet.indexes();
    let found = indexes
        .iter()
        .enumerate()
        .filter_map(|(pos, x)| rank(&needle, &[&x.index_id, &x.name]).map(|r| (r, x.index_id.as_str(), pos)))
        .collect();
    results.indexes = collect(found, limit, |pos| {
        let x = &indexes[pos];
        format!("{} · {} · {}", x.name, x.customer, x.status)
    });
    let accounts = &fleet.everything().accounts;
    let found = accounts
        .iter()
        .enumerate()
        .filter_map(|(pos, a)| rank(&needle, &[&a.name, &a.id]).map(|r| (r, a.name.as_str(), pos)))
        .collect();
    results.accounts = collect(found, limit, |pos| format!("{} · {}", accounts[pos].id, accounts[pos].kind));
    let mut customers: BTreeMap<&str, usize> = BTreeMap::new();
    for x in indexes {
        *customers.entry(&x.customer).or_default() += 1;
    }
    let customers: Vec<(&str, usize)> = customers.into_iter().collect();
    let found = customers
        .iter()
        .enumerate()
        .filter_map(|(pos, (c, _))| rank(&needle, &[c]).map(|r| (r, *c, pos)))
        .collect();
    results.customers = collect(found, limit, |pos| {
        let n = customers[pos].1;
        if n == 1 { "1 index".to_owned() } else { format!("{n} indexes") }
    });
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
