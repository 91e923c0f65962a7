//! The usage ledger each run keeps (`usage.json` beside the snapshot), and who made the
//! changes behind the largest cost changes, from CloudTrail's `LookupEvents` through each
//! fleet account's role: management events, free, at most 2 requests a second per account
//! and region. Lookups are bounded to the events the cost pages show, remembered per
//! instance, paced, and throttling is retried with back-off by the SDK and otherwise left
//! for the next run. An account whose role may not call it is reported on the page, not
//! failed.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use aws_config::{Region, SdkConfig};
use aws_sdk_cloudtrail::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use polo_aws::SdkOutcome;
use polo_core::config::Config;
use polo_core::model::{
    ResourceKind, SyncStatus, TRAIL_EVENT_NAMES, Trail, TrailEvent, UsageLedger, actor_of_record,
};
use polo_core::pricing::PriceTable;
use time::OffsetDateTime;

use crate::Reach;

/// Instances one run asks CloudTrail about, at most.
pub const MAX_LOOKUPS: usize = 40;

/// The largest changes whose events are looked up, per breakdown.
pub const TOP_CHANGES: usize = 10;

/// The pause between two requests in one account and region (CloudTrail allows 2 a second).
pub const PACE: Duration = Duration::from_millis(550);

/// Pages read per instance at most (50 events each): a busy instance's read-only events
/// are in its history too.
pub const MAX_PAGES: usize = 4;

/// How long CloudTrail may take to deliver an event: an answer covers what happened until
/// this long before it.
const DELIVERY: time::Duration = time::Duration::minutes(15);

/// The account and region pairs whose instances the last pulls listed: an instance absent
/// from one of them has gone.
pub fn pulled(accounts: &[polo_core::model::AccountSync]) -> HashSet<(String, String)> {
    accounts
        .iter()
        .flat_map(|a| {
            a.documents
                .iter()
                .filter(|d| d.resource == ResourceKind::Instances && d.status == SyncStatus::Ok)
                .map(|d| (a.name.clone(), d.region.clone()))
        })
        .collect()
}

/// Takes this run's fleet and changes into `ledger`.
pub fn observe(
    ledger: &mut UsageLedger,
    accounts: &[polo_core::model::AccountSync],
    instances: &[polo_core::model::Instance],
    changes: &[polo_core::model::Change],
    prices: &PriceTable,
    now: OffsetDateTime,
) {
    ledger.observe(instances, changes, &pulled(accounts), prices, now);
}

/// One instance to ask CloudTrail about, from when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    pub instance_id: String,
    pub since: OffsetDateTime,
}

/// What asking CloudTrail did in one run.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TrailRun {
    /// Instances asked about (answered or not).
    pub asked: usize,
    /// `LookupEvents` requests made.
    pub requests: usize,
    /// Accounts and regions whose role may not call it.
    pub denied: Vec<String>,
    /// Instances left for the next run (throttled, out of time, failed).
    pub left: usize,
}

/// How one lookup ended.
enum Lookup {
    Found(Vec<TrailEvent>, usize),
    /// The role may not call `LookupEvents` here: why.
    Denied(String),
    /// Throttled past the SDK's retries, or failed: try again next run.
    Later(String),
}

/// Asks CloudTrail about `wanted` with `config` (already in the account and region),
/// paced, until `deadline`: each instance's events that change what it costs, by whom.
/// Instances not asked (out of time, throttled) are absent from the answer.
pub async fn look_up(
    config: &SdkConfig,
    wanted: &[Wanted],
    now: OffsetDateTime,
    deadline: tokio::time::Instant,
) -> (Vec<(String, Trail)>, TrailRun) {
    let client = aws_sdk_cloudtrail::Client::from_conf(
        aws_sdk_cloudtrail::config::Builder::from(config).interceptor(SdkOutcome).build(),
    );
    let mut out = Vec::new();
    let mut run = TrailRun::default();
    let checked_at = now - DELIVERY;
    for (n, w) in wanted.iter().enumerate() {
        if tokio::time::Instant::now() + PACE >= deadline {
            run.left += wanted.len() - n;
            break;
        }
        run.asked += 1;
        match lookup_one(&client, w, now, deadline).await {
            Lookup::Found(events, requests) => {
                run.requests += requests;
                out.push((w.instance_id.clone(), Trail { checked_at, events, unavailable: None }));
            }
            Lookup::Denied(why) => {
                run.requests += 1;
                run.denied.push(why.clone());
                // Nobody can be named here: say so for each (asked again a day later).
                for rest in &wanted[n..] {
                    out.push((
                        rest.instance_id.clone(),
                        Trail { checked_at, events: Vec::new(), unavailable: Some(why.clone()) },
                    ));
                }
                break;
            }
            Lookup::Later(why) => {
                run.requests += 1;
                tracing::warn!(instance = %w.instance_id, error = %why, "CloudTrail lookup left for the next run");
                run.left += wanted.len() - n;
                break;
            }
        }
    }
    (out, run)
}

fn seconds(t: OffsetDateTime) -> DateTime {
    DateTime::from_secs(t.unix_timestamp())
}

async fn lookup_one(
    client: &aws_sdk_cloudtrail::Client,
    w: &Wanted,
    now: OffsetDateTime,
    deadline: tokio::time::Instant,
) -> Lookup {
    let attribute = match LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::ResourceName)
        .attribute_value(&w.instance_id)
        .build()
    {
        Ok(a) => a,
        Err(e) => return Lookup::Later(e.to_string()),
    };
    let (mut events, mut token): (Vec<TrailEvent>, Option<String>) = (Vec::new(), None);
    let mut requests = 0;
    for page in 1..=MAX_PAGES {
        requests += 1;
        // Every request is paced, pages too: 2 a second per account and region.
        tokio::time::sleep(PACE).await;
        let send = client
            .lookup_events()
            .lookup_attributes(attribute.clone())
            .start_time(seconds(w.since))
            .end_time(seconds(now))
            .max_results(50)
            .set_next_token(token.take())
            .send();
        let answer = match tokio::time::timeout_at(deadline, send).await {
            Err(_) => return Lookup::Later(format!("out of time waiting for page {page}")),
            Ok(Err(e)) => {
                let code = e.code().unwrap_or_default().to_owned();
                return if code.starts_with("AccessDenied") {
                    Lookup::Denied(format!(
                        "CloudTrail LookupEvents is not allowed ({code}): the fleet role needs cloudtrail:LookupEvents"
                    ))
                } else if code == "OptInRequired" || code == "UnrecognizedClientException" {
                    Lookup::Denied(format!(
                        "CloudTrail answers nothing in this region ({code}): it is not enabled"
                    ))
                } else {
                    Lookup::Later(DisplayErrorContext(&e).to_string())
                };
            }
            Ok(Ok(answer)) => answer,
        };
        for e in answer.events() {
            if let Some(found) = trail_event(e) {
                events.push(found);
            }
        }
        match answer.next_token().filter(|t| !t.is_empty()) {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    events.sort_by_key(|e| e.at);
    Lookup::Found(events, requests)
}

/// The event of `e` a cost change can be made by: one of [`TRAIL_EVENT_NAMES`], and a
/// `ModifyInstanceAttribute` only when it changed the instance type.
fn trail_event(e: &aws_sdk_cloudtrail::types::Event) -> Option<TrailEvent> {
    let name = e.event_name().filter(|n| TRAIL_EVENT_NAMES.contains(n))?;
    let at = OffsetDateTime::from_unix_timestamp(e.event_time()?.secs()).ok()?;
    let record = e.cloud_trail_event();
    if name == "ModifyInstanceAttribute" && !record.is_some_and(changes_instance_type) {
        return None;
    }
    let actor = record
        .and_then(actor_of_record)
        .or_else(|| e.username().map(|u| format!("principal {u}")))
        .unwrap_or_else(|| "unknown".to_owned());
    Some(TrailEvent { at, name: name.to_owned(), actor })
}

/// Whether a `ModifyInstanceAttribute` record set the instance type.
fn changes_instance_type(record: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(record)
        .ok()
        .and_then(|v| v.get("requestParameters").map(|p| p.get("instanceType").is_some()))
        .unwrap_or(false)
}

/// Asks CloudTrail about `wanted` in each one's account and region through the fleet roles,
/// one account and region after another within `budget`, and records each answer in the
/// ledger.
pub async fn look_up_actors(
    config: &Config,
    base: &SdkConfig,
    ledger: &mut UsageLedger,
    wanted: &[Wanted],
    now: OffsetDateTime,
    budget: Duration,
) -> TrailRun {
    let deadline = tokio::time::Instant::now() + budget;
    let mut groups: BTreeMap<(String, String), Vec<Wanted>> = BTreeMap::new();
    for w in wanted {
        if let Some(u) = ledger.instance(&w.instance_id) {
            groups.entry((u.account.clone(), u.region.clone())).or_default().push(w.clone());
        }
    }
    let mut total = TrailRun::default();
    for ((account, region), wanted) in groups {
        let Some(account_config) = config.account(&account) else { continue };
        let assumed = tokio::time::timeout_at(
            deadline,
            crate::accounts::account_config(base, account_config, Reach::Roles),
        )
        .await
        .unwrap_or_else(|_| Err("out of time assuming the role".to_owned()));
        let sdk = match assumed {
            Ok(c) => c.to_builder().region(Region::new(region.clone())).build(),
            Err(e) => {
                tracing::warn!(%account, error = %e, "no credentials for CloudTrail lookups");
                total.left += wanted.len();
                continue;
            }
        };
        let (found, run) = look_up(&sdk, &wanted, now, deadline).await;
        record(ledger, found);
        total.asked += run.asked;
        total.requests += run.requests;
        total.left += run.left;
        total.denied.extend(run.denied.into_iter().map(|d| format!("{account} {region}: {d}")));
    }
    total
}

/// Puts looked-up trails into the ledger, keeping the events earlier lookups found.
pub fn record(ledger: &mut UsageLedger, found: Vec<(String, Trail)>) {
    for (id, trail) in found {
        if let Ok(n) = ledger.instances.binary_search_by(|u| u.id.as_str().cmp(&id)) {
            let usage = &mut ledger.instances[n];
            usage.trail = Some(trail.merged(usage.trail.as_ref()));
        }
    }
}
