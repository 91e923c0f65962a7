use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Index, Instance, ResourceKind};

/// One difference a sync saw in one resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// When the sync that saw it ran.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub resource: ResourceKind,
    pub id: String,
    pub account: String,
    pub region: String,
    #[serde(flatten)]
    pub what: ChangeKind,
}

impl Change {
    /// The identity of the resource it happened to (see [`Tracked::key`]).
    pub fn key(&self) -> Cow<'_, str> {
        match self.resource {
            ResourceKind::Indexes => Cow::Owned(super::index_key(&self.id, &self.account, &self.region)),
            ResourceKind::Instances | ResourceKind::Costs => Cow::Borrowed(&self.id),
        }
    }
}

/// What changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum ChangeKind {
    /// First seen.
    Appeared,
    /// Seen again after it had vanished.
    CameBack,
    /// Gone from a successful pull of its account and region.
    Vanished,
    /// Instance state or index status.
    StateChanged {
        from: String,
        to: String,
    },
    TypeChanged {
        from: String,
        to: String,
    },
    OwnerChanged {
        from: Option<String>,
        to: Option<String>,
    },
    IndexChanged {
        from: Option<String>,
        to: Option<String>,
    },
}

impl ChangeKind {
    /// A short human sentence: "state running → stopped".
    pub fn describe(&self) -> String {
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".to_owned());
        match self {
            ChangeKind::Appeared => "appeared".to_owned(),
            ChangeKind::CameBack => "came back".to_owned(),
            ChangeKind::Vanished => "vanished".to_owned(),
            ChangeKind::StateChanged { from, to } => format!("state {from} → {to}"),
            ChangeKind::TypeChanged { from, to } => format!("type {from} → {to}"),
            ChangeKind::OwnerChanged { from, to } => format!("owner {} → {}", opt(from), opt(to)),
            ChangeKind::IndexChanged { from, to } => format!("index {} → {}", opt(from), opt(to)),
        }
    }
}

/// A resource whose changes a sync tracks.
pub trait Tracked {
    const KIND: ResourceKind;
    fn id(&self) -> &str;
    /// What tells it from every other resource of its kind: an instance's id (EC2 ids are
    /// unique), an index's (account, region, id) ([`super::index_key`]).
    fn key(&self) -> Cow<'_, str>;
    fn account(&self) -> &str;
    fn region(&self) -> &str;
    /// The changes from `before` to `self`.
    fn changes_since(&self, before: &Self) -> Vec<ChangeKind>;
}

impl Tracked for Instance {
    const KIND: ResourceKind = ResourceKind::Instances;
    fn id(&self) -> &str {
        &self.id
    }
    fn key(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }
    fn account(&self) -> &str {
        &self.account
    }
    fn region(&self) -> &str {
        &self.region
    }
    fn changes_since(&self, before: &Self) -> Vec<ChangeKind> {
        let mut out = Vec::new();
        if self.state != before.state {
            out.push(ChangeKind::StateChanged { from: before.state.to_string(), to: self.state.to_string() });
        }
        if self.instance_type != before.instance_type {
            out.push(ChangeKind::TypeChanged {
                from: before.instance_type.to_string(),
                to: self.instance_type.to_string(),
            });
        }
        if self.owner != before.owner {
            out.push(ChangeKind::OwnerChanged {
                from: before.owner.as_deref().map(str::to_owned),
                to: self.owner.as_deref().map(str::to_owned),
            });
        }
        if self.index != before.index {
            out.push(ChangeKind::IndexChanged {
                from: before.index.as_deref().map(str::to_owned),
                to: self.index.as_deref().map(str::to_owned),
            });
        }
        out
    }
}

impl Tracked for Index {
    const KIND: ResourceKind = ResourceKind::Indexes;
    fn id(&self) -> &str {
        &self.index_id
    }
    fn key(&self) -> Cow<'_, str> {
        Cow::Owned(super::index_key(&self.index_id, &self.account, &self.region))
    }
    fn account(&self) -> &str {
        &self.account
    }
    fn region(&self) -> &str {
        &self.region
    }
    fn changes_since(&self, before: &Self) -> Vec<ChangeKind> {
        if self.status == before.status {
            Vec::new()
        } else {
            vec![ChangeKind::StateChanged { from: before.status.to_string(), to: self.status.to_string() }]
        }
    }
}

/// The differences between what was known (`previous`, plus the keys of resources known to
/// have vanished) and what the sync holds now (`current`), matched by [`Tracked::key`].
/// Resources missing from `current` vanish only when their account and region were pulled
/// successfully this time (`pulled`): a failed pull marks nothing.
pub fn diff<T: Tracked, S: std::hash::BuildHasher, P: std::hash::BuildHasher>(
    previous: &[T],
    vanished: &HashSet<String, S>,
    current: &[T],
    pulled: &HashSet<(String, String), P>,
    now: OffsetDateTime,
) -> Vec<Change> {
    let change = |r: &T, what: ChangeKind| Change {
        at: now,
        resource: T::KIND,
        id: r.id().to_owned(),
        account: r.account().to_owned(),
        region: r.region().to_owned(),
        what,
    };
    let before: HashMap<Cow<'_, str>, &T> = previous.iter().map(|r| (r.key(), r)).collect();
    let mut out = Vec::new();
    for r in current {
        let key = r.key();
        match before.get(&key) {
            Some(old) => out.extend(r.changes_since(old).into_iter().map(|what| change(r, what))),
            None if vanished.contains(key.as_ref()) => out.push(change(r, ChangeKind::CameBack)),
            None => out.push(change(r, ChangeKind::Appeared)),
        }
    }
    let now_keys: HashSet<Cow<'_, str>> = current.iter().map(Tracked::key).collect();
    for old in previous {
        let scope = (old.account().to_owned(), old.region().to_owned());
        if !now_keys.contains(&old.key()) && pulled.contains(&scope) {
            out.push(change(old, ChangeKind::Vanished));
        }
    }
    out.sort_by(|a, b| {
        a.id.cmp(&b.id).then_with(|| a.account.cmp(&b.account)).then_with(|| a.region.cmp(&b.region))
    });
    out
}

/// The keys ([`Change::key`]) whose newest change is `Vanished`.
pub fn vanished_ids(history: &[Change]) -> HashSet<String> {
    let mut last: HashMap<Cow<'_, str>, &Change> = HashMap::new();
    for c in history {
        let entry = last.entry(c.key()).or_insert(c);
        if c.at >= entry.at {
            *entry = c;
        }
    }
    last.into_iter()
        .filter(|(_, c)| c.what == ChangeKind::Vanished)
        .map(|(key, _)| key.into_owned())
        .collect()
}
