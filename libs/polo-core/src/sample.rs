//! A deterministic generator of realistic fleets, for local runs, tests and benchmarks.
//!
//! The same seed, scale and `now` always give the same snapshot. The fleet includes on
//! purpose every case later features must show: instances without owner, past their expiry
//! tag, long-running staging, long-stopped, orphans, an index without instances, a stuck
//! index, a daily cost spike, spot and on-demand, and every instance state.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use rust_decimal::Decimal;
use time::{Date, Duration, OffsetDateTime};

use crate::Money;
use crate::model::{
    AccountKind, AccountSync, Change, ChangeKind, CostDimension, CostFacts, CostRow, CostStore,
    DocumentStatus, Everything, Index, IndexStatus, Instance, InstanceState, Lifecycle, ResourceKind,
    SyncStatus, Text, UsageLedger,
};
use crate::pricing::PriceTable;

mod causes;
mod metrics;

/// How big a fleet to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// 3 accounts, 2-3 regions each, a few hundred instances, ~40 indexes, 120 days of costs.
    Small,
    /// 3 accounts, 4 regions each, 10,000 instances, 1,000 indexes, 400 days of costs.
    Large,
    /// Ten times large: 100 accounts in 4 to 20 regions each, 100,000 instances, 10,000
    /// indexes, 400 days of costs (`docs/scale.md`).
    Huge,
}

struct Spec {
    /// The regions of prod, staging and dev (the named accounts every scale has).
    regions: [&'static [&'static str]; 3],
    /// Accounts in all: the three named ones, then generated ones in up to 20 regions.
    accounts: usize,
    customers: usize,
    indexes: usize,
    instances: usize,
    cost_days: i64,
}

impl Scale {
    fn spec(self) -> Spec {
        match self {
            Scale::Small => Spec {
                regions: [
                    &["us-east-1", "us-west-2", "eu-west-1"],
                    &["us-east-1", "eu-west-1"],
                    &["us-east-1", "us-west-2"],
                ],
                accounts: 3,
                customers: 14,
                indexes: 40,
                instances: 300,
                cost_days: 120,
            },
            Scale::Large => {
                const FOUR: &[&str] = &["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"];
                Spec {
                    regions: [FOUR, FOUR, FOUR],
                    accounts: 3,
                    customers: 220,
                    indexes: 1000,
                    instances: 10_000,
                    cost_days: 400,
                }
            }
            Scale::Huge => Spec {
                regions: [&REGIONS[..20], &REGIONS[..12], &REGIONS[..6]],
                accounts: 100,
                customers: 2200,
                indexes: 10_000,
                instances: 100_000,
                cost_days: 400,
            },
        }
    }
}

/// SplitMix64: tiny, fast and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + i64::try_from(self.below(u64::try_from(hi - lo + 1).unwrap_or(1))).unwrap_or(0)
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let len = u64::try_from(items.len()).unwrap_or(1);
        &items[usize::try_from(self.below(len)).unwrap_or(0)]
    }

    fn hex(&mut self, digits: usize) -> String {
        let mut out = String::with_capacity(digits);
        while out.len() < digits {
            let _ = write!(out, "{:016x}", self.next());
        }
        out.truncate(digits);
        out
    }
}

const ACCOUNTS: [(&str, &str, AccountKind); 3] = [
    ("prod", "111111111111", AccountKind::Prod),
    ("staging", "222222222222", AccountKind::Staging),
    ("dev", "333333333333", AccountKind::Dev),
];

/// Twenty commercial regions, for the generated accounts of the huge scale.
const REGIONS: [&str; 20] = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "us-east-2",
    "us-west-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "eu-west-2",
    "eu-west-3",
    "eu-north-1",
    "ca-central-1",
    "sa-east-1",
    "ap-northeast-3",
    "eu-south-1",
    "me-central-1",
    "af-south-1",
];

/// One account of a sample fleet.
struct SampleAccount {
    name: String,
    id: String,
    kind: AccountKind,
    regions: Vec<&'static str>,
}

impl Spec {
    /// prod, staging and dev, then (huge) accounts `{kind}-{n}` whose kind follows the same
    /// rotation, so `position % 3` is always the kind's place in [`ACCOUNTS`], in 4 to 20 regions.
    fn accounts(&self) -> Vec<SampleAccount> {
        (0..self.accounts)
            .map(|a| {
                let (name, id, kind) = ACCOUNTS[a % 3];
                if a < 3 {
                    SampleAccount {
                        name: name.to_owned(),
                        id: id.to_owned(),
                        kind,
                        regions: self.regions[a].to_vec(),
                    }
                } else {
                    SampleAccount {
                        name: format!("{name}-{a:03}"),
                        id: format!("{:012}", 400_000_000_000_u64 + a as u64),
                        kind,
                        regions: REGIONS[..4 + (a * 7) % 17].to_vec(),
                    }
                }
            })
            .collect()
    }
}

const CUSTOMERS: [&str; 22] = [
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "vandelay",
    "stark",
    "wayne",
    "wonka",
    "tyrell",
    "soylent",
    "cyberdyne",
    "aperture",
    "oscorp",
    "gringotts",
    "monarch",
    "piedpiper",
    "dunder",
    "massive",
    "nakatomi",
    "bluth",
    "prestige",
];

const INDEX_NAMES: [&str; 12] = [
    "products",
    "docs",
    "support-kb",
    "images",
    "catalog",
    "reviews",
    "faq",
    "articles",
    "listings",
    "recipes",
    "legal",
    "tickets",
];

const OWNERS: [&str; 9] =
    ["search-platform", "infra", "alice", "bob", "carol", "dmitri", "erin", "farah", "gus"];

const INFERENCE: [(&str, &str); 3] =
    [("marqo.CPU.small", "c6i.xlarge"), ("marqo.CPU.large", "c6i.2xlarge"), ("marqo.GPU", "g5.xlarge")];

const STORAGE: [(&str, &str); 4] = [
    ("marqo.basic", "r6i.large"),
    ("marqo.balanced.storage", "r6i.xlarge"),
    ("marqo.balanced.throughput", "m6i.xlarge"),
    ("marqo.performance", "i4i.xlarge"),
];

const VERSIONS: [&str; 5] = ["2.9.1", "2.10.0", "2.11.2", "2.12.0", "2.13.1"];

/// The services the sample's bill is spread over, with each one's share in percent of the
/// day; the last takes the remainder so the day sums exactly.
const SERVICES: [(&str, i64); 7] = [
    ("Amazon Elastic Compute Cloud - Compute", 71),
    ("EC2 - Other", 11),
    ("Amazon Simple Storage Service", 5),
    ("Amazon DynamoDB", 3),
    ("AWS Data Transfer", 6),
    ("AmazonCloudWatch", 2),
    ("AWS Lambda", 0),
];

/// Orphan index ids: tagged on instances, listed in no registry.
const ORPHAN_INDEXES: [&str; 2] = ["idx-0rphan01", "idx-0rphan02"];

struct Generator {
    rng: Rng,
    now: OffsetDateTime,
    spec: Spec,
    accounts: Vec<SampleAccount>,
    used_ids: HashSet<String>,
    instances: Vec<Instance>,
}

/// Generates a fleet at `now`. The committed `data/sample_data.json` is
/// `generate(42, Scale::Small, 2026-11-24T12:00:00Z)`.
pub fn generate(seed: u64, scale: Scale, now: OffsetDateTime) -> Everything {
    generate_with_costs(seed, scale, now).0
}

/// The sample snapshot and its cost store (`polo sample` writes both: the snapshot, and the
/// costs beside it). The snapshot carries the cost facts of the store.
pub fn generate_with_costs(seed: u64, scale: Scale, now: OffsetDateTime) -> (Everything, CostStore) {
    let g = generate_all(seed, scale, now);
    (g.everything, g.costs)
}

/// A sample fleet and the documents a sync keeps beside it.
pub struct Generated {
    pub everything: Everything,
    pub costs: CostStore,
    /// What each instance ran, when and at what price ([`UsageLedger`]).
    pub usage: UsageLedger,
    /// What CloudWatch measured over the last fortnight ([`crate::model::MetricsDocument`]).
    pub metrics: crate::model::MetricsDocument,
}

/// The sample snapshot, its cost store and its usage ledger (`polo sample` writes all three).
/// The costs are the ledger's compute at its prices plus each index's storage and transfer,
/// so their changes have causes to find.
pub fn generate_all(seed: u64, scale: Scale, now: OffsetDateTime) -> Generated {
    let prices = PriceTable::bundled().ok();
    let spec = scale.spec();
    let mut g = Generator {
        rng: Rng(seed),
        now,
        accounts: spec.accounts(),
        spec,
        used_ids: HashSet::new(),
        instances: Vec::new(),
    };
    let customers: Vec<String> = (0..g.spec.customers)
        .map(|i| {
            let base = CUSTOMERS[i % CUSTOMERS.len()];
            if i < CUSTOMERS.len() { base.to_owned() } else { format!("{base}-{}", i / CUSTOMERS.len() + 1) }
        })
        .collect();
    let mut indexes = g.indexes(&customers);
    for (pos, index) in indexes.iter().enumerate() {
        // The second index is the one that has no instances at all.
        if pos == 1 {
            continue;
        }
        g.index_instances(index);
        if g.instances.len() >= g.spec.instances * 9 / 10 {
            break;
        }
    }
    g.special_instances();
    while g.instances.len() < g.spec.instances {
        g.misc_instance();
    }
    let spiking = indexes
        .iter()
        .find(|x| x.status == IndexStatus::Ready && x.account == "prod")
        .map(|x| x.index_id.clone());
    g.drift_cases(&mut indexes);
    let causes = g.cost_causes(&mut indexes, spiking.as_deref());
    g.instances.sort_by(|a, b| a.id.cmp(&b.id));
    let history = causes::with_history(history(&g.instances, &indexes), &causes, &g.instances);
    let usage = match &prices {
        Some(prices) => causes::ledger(&g.instances, &history, &causes, prices, now),
        None => UsageLedger::empty(),
    };
    let (rows, splits) = g.costs(&indexes, &usage, spiking.as_deref(), causes.rise.as_ref());
    // Every generated amount is rounded to the cent and each day/key appears once.
    let mut costs = CostStore::from_rows(&rows).unwrap_or_else(|_| CostStore::empty());
    // As in a real account, Cost Explorer still estimates the newest two days.
    if let Some(newest) = costs.as_of() {
        costs.estimated = [newest.previous_day(), Some(newest)].into_iter().flatten().collect();
    }
    costs.usage_types = usage_types(&costs, &indexes, splits);
    let accounts = g.account_syncs();
    let everything = Everything {
        generated_at: now,
        price_table_version: prices.as_ref().map(|p| p.version.clone()).unwrap_or_default(),
        accounts,
        instances: g.instances,
        indexes,
        cost_facts: CostFacts::of(&costs),
        history,
        findings: Vec::new(),
    };
    let metrics = match &prices {
        Some(prices) => metrics::metrics(&crate::model::Fleet::new(everything.clone()), prices, seed, now),
        None => crate::model::MetricsDocument::empty(),
    };
    Generated { everything, costs, usage, metrics }
}

/// Days of each index's cost the sample splits by usage type: the two compared weeks and the
/// two days Cost Explorer still estimates.
const USAGE_TYPE_DAYS: i64 = 16;

/// Cost Explorer's usage-type prefix of a region (`USE1-BoxUsage`).
fn usage_type_prefix(region: &str) -> String {
    match region {
        "us-east-1" => "USE1".to_owned(),
        "us-east-2" => "USE2".to_owned(),
        "us-west-1" => "USW1".to_owned(),
        "us-west-2" => "USW2".to_owned(),
        "eu-west-1" => "EU".to_owned(),
        other => other.to_uppercase(),
    }
}

/// What the sync asks Cost Explorer by usage type: the indexes whose cost moved most between
/// the compared weeks, over those weeks, from the cost split the generator made.
fn usage_types(
    costs: &CostStore,
    indexes: &[Index],
    mut splits: BTreeMap<String, [Vec<i64>; 3]>,
) -> BTreeMap<String, crate::model::UsageTypes> {
    let (Ok(cmp), Some(newest)) = (crate::cost_changes::Comparison::default_for(costs), costs.as_of()) else {
        return BTreeMap::new();
    };
    let first_day = newest - Duration::days(USAGE_TYPE_DAYS - 1);
    let keys = crate::cost_changes::most_moved(
        costs,
        CostDimension::Index,
        &cmp,
        crate::cost_changes::USAGE_TYPE_KEYS,
    );
    keys.into_iter()
        .filter_map(|key| {
            let [compute, storage, transfer] = splits.remove(&key)?;
            let prefix = usage_type_prefix(
                indexes.iter().find(|x| x.index_id == key).map_or("us-east-1", |x| x.region.as_str()),
            );
            let by_type = [
                (format!("{prefix}-BoxUsage"), compute),
                (format!("{prefix}-EBS:VolumeUsage.gp3"), storage),
                (format!("{prefix}-DataTransfer-Out-Bytes"), transfer),
            ]
            .into_iter()
            .collect();
            let days = u32::try_from(USAGE_TYPE_DAYS).unwrap_or(0);
            Some((key, crate::model::UsageTypes { first_day, days, by_type }))
        })
        .collect()
}

/// What syncs would have seen: each resource appearing, and leaving the usual state.
fn history(instances: &[Instance], indexes: &[Index]) -> Vec<Change> {
    let mut out = Vec::new();
    let change = |at, resource, id: &str, account: &str, region: &str, what| Change {
        at,
        resource,
        id: id.to_owned(),
        account: account.to_owned(),
        region: region.to_owned(),
        what,
    };
    for i in instances {
        out.push(change(
            i.launch_time,
            ResourceKind::Instances,
            &i.id,
            &i.account,
            &i.region,
            ChangeKind::Appeared,
        ));
        if let Some(since) = i.state_since.filter(|_| i.state != InstanceState::Running) {
            let what = ChangeKind::StateChanged { from: "running".into(), to: i.state.to_string() };
            out.push(change(
                since.max(i.launch_time),
                ResourceKind::Instances,
                &i.id,
                &i.account,
                &i.region,
                what,
            ));
        }
    }
    for x in indexes {
        out.push(change(
            x.created_at,
            ResourceKind::Indexes,
            &x.index_id,
            &x.account,
            &x.region,
            ChangeKind::Appeared,
        ));
        if let Some(since) = x.status_since.filter(|_| x.status != IndexStatus::Ready) {
            let what = ChangeKind::StateChanged { from: "READY".into(), to: x.status.to_string() };
            out.push(change(since, ResourceKind::Indexes, &x.index_id, &x.account, &x.region, what));
        }
    }
    out.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    out
}

/// The storage type one size up (type drift in the sample).
fn bigger(instance_type: &str) -> &'static str {
    match instance_type {
        "r6i.large" => "r6i.xlarge",
        "m6i.xlarge" => "m6i.2xlarge",
        _ => "r6i.2xlarge",
    }
}

impl Generator {
    /// Every kind of fleet drift (`crate::drift`), in each kind of account, made from ready
    /// indexes that have all their nodes: one being deleted for 4 hours whose nodes still run
    /// (zombie); one modifying for 8 hours whose registry asks for an inference node more (a
    /// stuck transition, and under-provisioned); one whose registry asks for a node fewer than
    /// runs and whose first storage node is one size up (over-provisioned, type drift); and,
    /// where a fourth is left, one with a storage node stopped (under-provisioned, a replica
    /// short). No random draw, so the rest of the sample is as before.
    fn drift_cases(&mut self, indexes: &mut [Index]) {
        // Nodes per (index id, account), counted once: the huge sample has 100,000 instances.
        let mut nodes_of: std::collections::HashMap<(&str, &str), u32> = std::collections::HashMap::new();
        for i in &self.instances {
            if let Some(id) = i.index.as_deref() {
                *nodes_of.entry((id, i.account.as_str())).or_default() += 1;
            }
        }
        let nodes_of: std::collections::HashMap<(String, String), u32> =
            nodes_of.into_iter().map(|((id, a), n)| ((id.to_owned(), a.to_owned()), n)).collect();
        for kind in [AccountKind::Prod, AccountKind::Staging, AccountKind::Dev] {
            let names: HashSet<&str> =
                self.accounts.iter().filter(|a| a.kind == kind).map(|a| a.name.as_str()).collect();
            let chosen: Vec<usize> = indexes
                .iter()
                .enumerate()
                .filter(|(_, x)| names.contains(x.account.as_str()) && x.status == IndexStatus::Ready)
                .filter(|(_, x)| {
                    let nodes = nodes_of.get(&(x.index_id.clone(), x.account.clone())).copied().unwrap_or(0);
                    nodes == x.inference_count + x.shards * (x.replicas + 1)
                })
                .map(|(pos, _)| pos)
                .take(4)
                .collect();
            let [zombie, stuck, over, ..] = chosen[..] else { continue };
            let now = self.now;
            let storage_of = |instances: &[Instance], x: &Index| -> Vec<usize> {
                instances
                    .iter()
                    .enumerate()
                    .filter(|(_, i)| {
                        i.index.as_deref() == Some(&x.index_id)
                            && i.tags.get("role").map(Text::as_str) == Some("storage")
                    })
                    .map(|(n, _)| n)
                    .collect()
            };
            indexes[zombie].status = IndexStatus::Deleting;
            indexes[zombie].status_since = Some(now - time::Duration::hours(4));
            indexes[stuck].status = IndexStatus::Modifying;
            indexes[stuck].status_since = Some(now - time::Duration::hours(8));
            indexes[stuck].inference_count += 1;
            let x = &mut indexes[over];
            if x.inference_count >= 2 {
                x.inference_count -= 1;
            } else if x.replicas >= 1 {
                x.replicas -= 1;
            } else if x.shards >= 2 {
                x.shards -= 1;
            } else {
                x.inference_count = x.inference_count.saturating_sub(1);
            }
            if let Some(&n) = storage_of(&self.instances, &indexes[over]).first() {
                let to = bigger(&self.instances[n].instance_type);
                self.instances[n].instance_type = Text::from(to);
            }
            if let Some(&under) = chosen.get(3)
                && let Some(&n) = storage_of(&self.instances, &indexes[under]).last()
            {
                self.instances[n].state = InstanceState::Stopped;
                self.instances[n].state_since = Some(now - time::Duration::hours(3));
            }
        }
    }

    fn regions(&self, account: usize) -> &[&'static str] {
        &self.accounts[account].regions
    }

    /// The position of the account named `name`.
    fn account_of(&self, name: &str) -> usize {
        self.accounts.iter().position(|a| a.name == name).unwrap_or(0)
    }

    /// An account of the kind at `kind` in [`ACCOUNTS`] (0 prod, 1 staging, 2 dev): that
    /// named account itself when there are only the three.
    fn account_of_kind(&mut self, kind: usize) -> usize {
        let of_kind = self.accounts.len().saturating_sub(kind).div_ceil(3);
        if of_kind <= 1 {
            kind
        } else {
            kind + 3 * usize::try_from(self.rng.below(of_kind as u64)).unwrap_or(0)
        }
    }

    fn ago(&mut self, min_minutes: i64, max_minutes: i64) -> OffsetDateTime {
        let minutes = self.rng.range(min_minutes, max_minutes);
        (self.now - Duration::minutes(minutes)).replace_nanosecond(0).unwrap_or(self.now)
    }

    fn account_syncs(&mut self) -> Vec<AccountSync> {
        (0..self.accounts.len())
            .map(|a| {
                let mut documents = Vec::new();
                for region in self.regions(a).to_vec() {
                    for resource in [ResourceKind::Instances, ResourceKind::Indexes] {
                        let synced_at = self.ago(3, 14);
                        documents.push(DocumentStatus {
                            resource,
                            region: (*region).to_owned(),
                            synced_at: Some(synced_at),
                            status: SyncStatus::Ok,
                            error: None,
                        });
                    }
                }
                documents.push(DocumentStatus {
                    resource: ResourceKind::Costs,
                    region: "global".into(),
                    synced_at: Some(self.ago(60, 300)),
                    status: SyncStatus::Ok,
                    error: None,
                });
                let account = &self.accounts[a];
                AccountSync {
                    name: account.name.clone(),
                    id: account.id.clone(),
                    kind: account.kind,
                    documents,
                }
            })
            .collect()
    }

    fn indexes(&mut self, customers: &[String]) -> Vec<Index> {
        let mut used = HashSet::new();
        (0..self.spec.indexes)
            .map(|n| {
                let kind = match self.rng.below(10) {
                    0..=6 => 0,
                    7 | 8 => 1,
                    _ => 2,
                };
                let account = self.account_of_kind(kind);
                let region = (*self.rng.pick(&self.accounts[account].regions)).to_owned();
                let customer = self.rng.pick(customers).clone();
                let mut name = (*self.rng.pick(&INDEX_NAMES)).to_owned();
                if !used.insert(format!("{customer}/{name}")) {
                    name = format!("{name}-{n}");
                }
                let created_at = self.ago(60 * 24 * 2, 60 * 24 * 420);
                let (status, status_since) = match n {
                    // Stuck: creating for days.
                    3 => (IndexStatus::Creating, self.ago(60 * 50, 60 * 70)),
                    // Passing through normally.
                    5 => (IndexStatus::Modifying, self.ago(5, 30)),
                    7 => (IndexStatus::Failed, self.ago(60 * 20, 60 * 30)),
                    9 => (IndexStatus::Deleting, self.ago(60 * 8, 60 * 12)),
                    _ => {
                        let since_minutes = (self.now - created_at).whole_minutes();
                        (IndexStatus::Ready, self.ago(1, since_minutes.max(2)))
                    }
                };
                let (inference_type, _) = *self.rng.pick(&INFERENCE);
                let (storage_class, _) = *self.rng.pick(&STORAGE);
                Index {
                    index_id: loop {
                        let id = format!("idx-{}", self.rng.hex(8));
                        if self.used_ids.insert(id.clone()) {
                            break id;
                        }
                    },
                    name,
                    account: self.accounts[account].name.clone(),
                    region,
                    customer,
                    status,
                    status_since: Some(status_since),
                    inference_type: inference_type.to_owned(),
                    inference_count: u32::try_from(self.rng.range(1, 3)).unwrap_or(1),
                    storage_class: storage_class.to_owned(),
                    shards: u32::try_from(self.rng.range(1, 3)).unwrap_or(1),
                    replicas: u32::try_from(self.rng.range(0, 1)).unwrap_or(0),
                    marqo_version: (*self.rng.pick(&VERSIONS)).to_owned(),
                    created_at,
                }
            })
            .collect()
    }

    fn new_instance(&mut self, account: usize, region: &str, instance_type: &str) -> Instance {
        let id = loop {
            let id = format!("i-0{}", self.rng.hex(16));
            if self.used_ids.insert(id.clone()) {
                break id;
            }
        };
        let region_pos = self.regions(account).iter().position(|r| *r == region).unwrap_or(0);
        let az = format!("{region}{}", ["a", "b", "c"][usize::try_from(self.rng.below(3)).unwrap_or(0)]);
        let launch_time = self.ago(60 * 2, 60 * 24 * 300);
        let ip = format!(
            "10.{}.{}.{}",
            (account * 10 + region_pos) % 256,
            self.rng.below(64),
            self.rng.range(4, 254)
        );
        let owner = (*self.rng.pick(&OWNERS)).to_owned();
        let mut tags = crate::model::Tags::default();
        tags.insert(Text::from("owner"), Text::from(owner.as_str()));
        tags.insert(Text::from("env"), Text::from(self.accounts[account].kind.as_str()));
        Instance {
            id,
            account: Text::from(&self.accounts[account].name),
            account_id: Text::from(&self.accounts[account].id),
            region: Text::from(region),
            az: Text::from(az),
            name: None,
            instance_type: Text::from(instance_type),
            state: InstanceState::Running,
            lifecycle: Lifecycle::OnDemand,
            launch_time,
            state_since: Some(launch_time),
            private_ip: Some(ip),
            owner: Some(Text::from(owner)),
            index: None,
            customer: None,
            tags,
        }
    }

    fn set_name(instance: &mut Instance, name: String) {
        let name = Text::from(name);
        instance.tags.insert("Name".into(), name.clone());
        instance.name = Some(name);
    }

    fn set_tag(instance: &mut Instance, key: &str, value: &str) {
        let value = Text::from(value);
        instance.tags.insert(Text::from(key), value.clone());
        match key {
            "owner" => instance.owner = Some(value),
            "marqo-index" => instance.index = Some(value),
            "customer" => instance.customer = Some(value),
            _ => {}
        }
    }

    fn clear_owner(instance: &mut Instance) {
        instance.tags.remove("owner");
        instance.owner = None;
    }

    fn index_instances(&mut self, index: &Index) {
        let account = self.account_of(&index.account);
        let kind = self.accounts[account].kind;
        let inference_ec2 =
            INFERENCE.iter().find(|i| i.0 == index.inference_type).map_or("c6i.xlarge", |i| i.1);
        let storage_ec2 = STORAGE.iter().find(|s| s.0 == index.storage_class).map_or("r6i.large", |s| s.1);
        let roles = (0..index.inference_count)
            .map(|n| ("inference", n, inference_ec2))
            .chain((0..index.shards * (index.replicas + 1)).map(|n| ("storage", n, storage_ec2)));
        let launched_after = index.created_at;
        for (role, n, ec2_type) in roles.collect::<Vec<_>>() {
            let mut instance = self.new_instance(account, &index.region, ec2_type);
            let earliest = (self.now - launched_after).whole_minutes().max(3);
            instance.launch_time = self.ago(2, earliest);
            instance.state_since = Some(instance.launch_time);
            Self::set_name(&mut instance, format!("{}-{}-{role}-{n}", index.customer, index.name));
            Self::set_tag(&mut instance, "marqo-index", &index.index_id);
            Self::set_tag(&mut instance, "customer", &index.customer);
            Self::set_tag(&mut instance, "role", role);
            if role == "inference" && kind != AccountKind::Prod && self.rng.chance(40) {
                instance.lifecycle = Lifecycle::Spot;
            }
            if self.rng.chance(4) {
                Self::clear_owner(&mut instance);
            }
            if kind == AccountKind::Staging && self.rng.chance(25) {
                Self::set_tag(&mut instance, "keep", "true");
            }
            match index.status {
                IndexStatus::Creating => {
                    instance.state = InstanceState::Pending;
                    instance.state_since = index.status_since;
                    instance.launch_time = index.status_since.unwrap_or(instance.launch_time);
                }
                IndexStatus::Deleting => {
                    instance.state =
                        if n == 0 { InstanceState::ShuttingDown } else { InstanceState::Terminated };
                    instance.state_since = index.status_since;
                    instance.private_ip = None;
                }
                _ => {}
            }
            self.instances.push(instance);
        }
    }

    /// The cases that must be there whatever the seed.
    fn special_instances(&mut self) {
        let past_ttl = (self.now - Duration::days(20)).date();
        let future_ttl = (self.now + Duration::days(30)).date();
        let region = self.regions(2)[0];
        // Past expiry, by date and by instant; one that is still fine.
        for (key, value) in [
            ("ttl", past_ttl.to_string()),
            ("expires-at", crate::text::rfc3339(self.now - Duration::hours(30))),
            ("ttl", future_ttl.to_string()),
        ] {
            let mut i = self.new_instance(2, region, "t3.large");
            Self::set_name(&mut i, format!("experiment-{}", self.rng.hex(4)));
            Self::set_tag(&mut i, key, &value);
            self.instances.push(i);
        }
        // Long-running staging without a keep tag.
        for _ in 0..2 {
            let region = self.regions(1)[0];
            let mut i = self.new_instance(1, region, "m6i.2xlarge");
            i.launch_time = self.ago(60 * 24 * 20, 60 * 24 * 60);
            i.state_since = Some(i.launch_time);
            i.tags.remove("keep");
            Self::set_name(&mut i, format!("staging-loadtest-{}", self.rng.hex(4)));
            self.instances.push(i);
        }
        // Stopped for months, and recently.
        for days in [95, 45, 2] {
            let mut i = self.new_instance(2, region, "m6i.large");
            i.state = InstanceState::Stopped;
            i.state_since = Some(self.ago(60 * 24 * days, 60 * 24 * days + 60));
            Self::set_name(&mut i, format!("old-notebook-{}", self.rng.hex(4)));
            self.instances.push(i);
        }
        // Orphans: tagged with an index no registry lists.
        for orphan in ORPHAN_INDEXES {
            let mut i = self.new_instance(0, self.regions(0)[0], "r6i.large");
            Self::set_tag(&mut i, "marqo-index", orphan);
            Self::set_tag(&mut i, "customer", "unknown");
            Self::set_name(&mut i, format!("orphan-storage-{}", self.rng.hex(4)));
            self.instances.push(i);
        }
        // No owner at all, running in prod.
        let mut i = self.new_instance(0, self.regions(0)[1], "m6i.xlarge");
        Self::clear_owner(&mut i);
        Self::set_name(&mut i, "manual-debug-box".into());
        self.instances.push(i);
        // Every state shows up.
        for state in [
            InstanceState::Pending,
            InstanceState::Stopping,
            InstanceState::ShuttingDown,
            InstanceState::Terminated,
        ] {
            let mut i = self.new_instance(1, self.regions(1)[0], "t3.medium");
            i.state = state;
            i.state_since = Some(self.ago(1, 10));
            if state == InstanceState::Terminated {
                i.private_ip = None;
            }
            Self::set_name(&mut i, format!("ci-runner-{}", self.rng.hex(4)));
            i.lifecycle = Lifecycle::Spot;
            self.instances.push(i);
        }
    }

    fn misc_instance(&mut self) {
        let account = usize::try_from(self.rng.below(self.accounts.len() as u64)).unwrap_or(0);
        let region = *self.rng.pick(&self.accounts[account].regions);
        let (kind, ec2_type) = *self.rng.pick(&[
            ("bastion", "t3.medium"),
            ("ci-runner", "c6i.xlarge"),
            ("monitoring", "m6i.large"),
            ("etl-worker", "r6i.xlarge"),
            ("notebook", "g5.2xlarge"),
            ("api-gateway", "m6i.xlarge"),
        ]);
        let mut i = self.new_instance(account, region, ec2_type);
        Self::set_name(&mut i, format!("{kind}-{}", self.rng.hex(4)));
        if kind == "ci-runner" {
            i.lifecycle = Lifecycle::Spot;
        }
        if self.rng.chance(6) {
            Self::clear_owner(&mut i);
        }
        match self.rng.below(100) {
            0..=7 => {
                i.state = InstanceState::Stopped;
                i.state_since = Some(self.ago(60, 60 * 24 * 150));
            }
            8..=11 => {
                i.state = InstanceState::Terminated;
                i.state_since = Some(self.ago(5, 60 * 50));
                i.private_ip = None;
            }
            _ => {}
        }
        self.instances.push(i);
    }

    /// The bill: each index's compute from the ledger plus its storage and transfer, each
    /// account's untagged compute plus shared costs, the services and record types.
    fn costs(
        &mut self,
        indexes: &[Index],
        usage: &UsageLedger,
        spiking: Option<&str>,
        rise: Option<&(String, Date, i64)>,
    ) -> (Vec<CostRow>, BTreeMap<String, [Vec<i64>; 3]>) {
        let mut splits: BTreeMap<String, [Vec<i64>; 3]> = BTreeMap::new();
        let position: BTreeMap<&str, usize> =
            self.accounts.iter().enumerate().map(|(a, account)| (account.name.as_str(), a)).collect();
        let account_of = |name: &str| position.get(name).copied().unwrap_or(0);
        let known_indexes: HashSet<&str> = indexes.iter().map(|x| x.index_id.as_str()).collect();
        let index_account: BTreeMap<&str, usize> =
            indexes.iter().map(|x| (x.index_id.as_str(), account_of(&x.account))).collect();
        let days = usize::try_from(self.spec.cost_days).unwrap_or(0);
        let newest = self.now.date().previous_day().unwrap_or(self.now.date());
        let first = newest - Duration::days(self.spec.cost_days - 1);
        let mut index_compute: BTreeMap<String, Vec<Decimal>> = BTreeMap::new();
        let mut untagged_compute = vec![vec![Decimal::ZERO; days]; self.accounts.len()];
        for ((tag, account), series) in causes::daily_compute(usage, first, days) {
            let target = if known_indexes.contains(tag.as_str()) {
                index_compute.entry(tag).or_insert_with(|| vec![Decimal::ZERO; days])
            } else {
                &mut untagged_compute[account_of(&account)]
            };
            for (t, v) in target.iter_mut().zip(series) {
                *t += v;
            }
        }
        let mut rows = Vec::new();
        // The usage of `date`'s month so far and of the month before, on which the 1st books
        // tax and support.
        let (mut month_usage, mut previous_month_usage) = (Money::ZERO, Money::ZERO);
        for back in (0..self.spec.cost_days).rev() {
            let date: Date = newest - Duration::days(back);
            let column = usize::try_from(self.spec.cost_days - 1 - back).unwrap_or(0);
            let mut account_totals = vec![Money::ZERO; self.accounts.len()];
            // Customers query less at weekends: transfer follows.
            let weekly =
                Decimal::new(if date.weekday().number_days_from_monday() >= 5 { 75 } else { 100 }, 2);
            let mut untagged_total = Money::ZERO;
            for index in indexes {
                if index.created_at.date() > date {
                    continue;
                }
                let compute = index_compute.get(index.index_id.as_str()).map_or(Decimal::ZERO, |s| s[column]);
                // Storage and transfer.
                let base_other = Money::from_scaled(self.rng.range(40, 400), 2);
                let mut other = base_other;
                let jitter = Decimal::new(self.rng.range(90, 110), 2);
                if let Some((_, _, cents)) =
                    rise.filter(|(id, from, _)| *id == index.index_id && date >= *from)
                {
                    other += Money::from_scaled(*cents, 2);
                }
                let mut amount = (Money::new(compute) + other * jitter * weekly).round_cents();
                // On the newest final day: Cost Explorer still estimates the two after it.
                if back == 2 && Some(index.index_id.as_str()) == spiking {
                    amount = amount * Decimal::from(6);
                }
                // The last days by usage type: compute, storage (three fifths of the base),
                // and transfer (the rest, the rise and the spike with it).
                if back < USAGE_TYPE_DAYS {
                    let cents =
                        |m: Money| i64::try_from((m.amount() * Decimal::from(100)).round()).unwrap_or(0);
                    let compute = cents(Money::new(compute).round_cents());
                    let storage = cents((base_other * Decimal::new(6, 1) * jitter * weekly).round_cents());
                    let split = splits.entry(index.index_id.clone()).or_insert_with(|| {
                        let days = usize::try_from(USAGE_TYPE_DAYS).unwrap_or(0);
                        [vec![0; days], vec![0; days], vec![0; days]]
                    });
                    let n = usize::try_from(USAGE_TYPE_DAYS - 1 - back).unwrap_or(0);
                    split[0][n] = compute;
                    split[1][n] = storage;
                    split[2][n] = cents(amount) - compute - storage;
                }
                account_totals[index_account.get(index.index_id.as_str()).copied().unwrap_or(0)] += amount;
                rows.push(CostRow {
                    date,
                    dimension: CostDimension::Index,
                    key: index.index_id.clone(),
                    amount,
                });
            }
            for (a, total) in account_totals.iter_mut().enumerate() {
                let shared = Money::from_scaled(self.rng.range(2_000, 9_000), 2)
                    * Decimal::from(3 - i64::try_from(a % 3).unwrap_or(0));
                let untagged = Money::new(untagged_compute[a][column]).round_cents() + shared;
                untagged_total += untagged;
                *total += untagged;
            }
            rows.push(CostRow {
                date,
                dimension: CostDimension::Index,
                key: String::new(),
                amount: untagged_total,
            });
            let day_total: Money = account_totals.iter().sum();
            for (a, total) in account_totals.iter().enumerate() {
                rows.push(CostRow {
                    date,
                    dimension: CostDimension::Account,
                    key: self.accounts[a].id.clone(),
                    amount: *total,
                });
            }
            if date.day() == 1 {
                previous_month_usage = std::mem::take(&mut month_usage);
            }
            month_usage += day_total;
            rows.extend(charges(date, day_total, previous_month_usage, back));
            let mut left = day_total;
            for (pos, (service, percent)) in SERVICES.iter().enumerate() {
                let amount = if pos + 1 == SERVICES.len() {
                    left
                } else {
                    (day_total * Decimal::new(*percent, 2)).round_cents()
                };
                left = left - amount;
                rows.push(CostRow {
                    date,
                    dimension: CostDimension::Service,
                    key: (*service).to_owned(),
                    amount,
                });
            }
        }
        (rows, splits)
    }
}

/// The bill of `date` by record type, as a real payer account has it: usage (a third
/// covered by Savings Plans), a Savings Plan's unused commitment each day, tax and support on
/// the 1st (on the month before's usage), a credit on the 3rd of each month, a refund and an
/// RI upfront fee once. `back` is how many days `date` is before the newest day.
fn charges(date: Date, usage: Money, previous_month_usage: Money, back: i64) -> Vec<CostRow> {
    let share = |m: Money, percent: i64| (m * Decimal::new(percent, 2)).round_cents();
    let covered = share(usage, 33);
    let mut out = vec![
        ("Usage", usage - covered),
        ("SavingsPlanCoveredUsage", covered),
        ("SavingsPlanRecurringFee", share(usage, 2)),
    ];
    if date.day() == 1 && previous_month_usage > Money::ZERO {
        out.push(("Tax", share(previous_month_usage, 6)));
        out.push(("Support", share(previous_month_usage, 3)));
    }
    if date.day() == 3 {
        out.push(("Credit", Money::ZERO - share(usage, 150)));
    }
    match back {
        20 => out.push(("Refund", Money::ZERO - share(usage, 40))),
        45 => out.push(("Fee", share(usage, 150))),
        _ => {}
    }
    out.into_iter()
        .map(|(key, amount)| CostRow { date, dimension: CostDimension::Charge, key: key.to_owned(), amount })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

    #[test]
    fn same_seed_same_fleet() {
        assert_eq!(generate(7, Scale::Small, NOW), generate(7, Scale::Small, NOW));
        assert_ne!(generate(7, Scale::Small, NOW).instances, generate(8, Scale::Small, NOW).instances);
    }

    #[test]
    fn small_sample_has_every_case() {
        let e = generate(42, Scale::Small, NOW);
        assert!((250..=400).contains(&e.instances.len()), "{}", e.instances.len());
        assert_eq!(e.indexes.len(), 40);
        // Every state EC2 reports (`unknown` is only what the sync could not read).
        for state in InstanceState::ALL.into_iter().filter(|s| *s != InstanceState::Unknown) {
            assert!(e.instances.iter().any(|i| i.state == state), "{state}");
        }
        assert!(e.instances.iter().any(|i| i.lifecycle == Lifecycle::Spot));
        assert!(e.instances.iter().any(|i| i.owner.is_none() && i.state == InstanceState::Running));
        assert!(e.instances.iter().any(|i| i.tags.contains_key("ttl") || i.tags.contains_key("expires-at")));
        let ids: HashSet<&str> = e.indexes.iter().map(|x| x.index_id.as_str()).collect();
        assert!(e.instances.iter().any(|i| i.index.as_deref().is_some_and(|x| !ids.contains(x))));
        assert!(
            e.indexes.iter().any(|x| !e.instances.iter().any(|i| i.index.as_deref() == Some(&x.index_id)))
        );
        assert!(e.indexes.iter().any(|x| x.status == IndexStatus::Creating));
        let unique: HashSet<&str> = e.instances.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(unique.len(), e.instances.len());
    }

    #[test]
    fn every_dimension_sums_to_the_same_daily_total() {
        let (_, costs) = generate_with_costs(42, Scale::Small, NOW);
        let rows: Vec<CostRow> = costs.rows().collect();
        let mut totals: BTreeMap<(Date, CostDimension), Money> = BTreeMap::new();
        for row in &rows {
            *totals.entry((row.date, row.dimension)).or_default() += row.amount;
        }
        let days: HashSet<Date> = rows.iter().map(|r| r.date).collect();
        assert_eq!(days.len(), 120);
        for day in days {
            let index = totals[&(day, CostDimension::Index)];
            assert_eq!(index, totals[&(day, CostDimension::Account)], "{day}");
            assert_eq!(index, totals[&(day, CostDimension::Service)], "{day}");
            let usage: Money = rows
                .iter()
                .filter(|r| {
                    r.date == day && r.dimension == CostDimension::Charge && costs.metric.is_usage(&r.key)
                })
                .map(|r| r.amount)
                .sum();
            assert_eq!(index, usage, "{day}: usage by record type is the usage of every grouping");
        }
    }

    #[test]
    fn the_sample_bill_holds_what_a_real_account_has() {
        let (_, costs) = generate_with_costs(42, Scale::Small, NOW);
        let charges = &costs.dimensions[&CostDimension::Charge];
        for kind in [
            "Credit",
            "Refund",
            "Tax",
            "Support",
            "SavingsPlanRecurringFee",
            "Fee",
            "SavingsPlanCoveredUsage",
        ] {
            assert!(charges.get(kind).is_some_and(|s| s.iter().any(|c| *c != 0)), "{kind}");
        }
        let newest = costs.as_of().unwrap();
        assert_eq!(costs.estimated, [newest.previous_day().unwrap(), newest]);
        // Usage never goes negative: the untagged remainder of the index grouping is usage.
        assert!(costs.dimensions[&CostDimension::Index][""].iter().all(|c| *c >= 0));
    }
}
