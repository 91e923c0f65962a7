//! The rules, one file each, and their registration.

mod cost_spike;
mod fleet_drift;
mod index_dormant;
mod index_oversized;
mod index_stuck;
mod index_without_instances;
mod instance_idle;
mod orphan_instance;
mod owner_missing;
mod staging_long_running;
mod stopped_too_long;
mod ttl_expired;

use super::Rule;

/// Every rule, in CONTRACT.md's order.
pub static RULES: [&dyn Rule; 16] = [
    &owner_missing::OwnerMissing,
    &ttl_expired::TtlExpired,
    &staging_long_running::StagingLongRunning,
    &stopped_too_long::StoppedTooLong,
    &orphan_instance::OrphanInstance,
    &index_without_instances::IndexWithoutInstances,
    &index_stuck::IndexStuck,
    &cost_spike::CostSpike,
    &fleet_drift::UNDER,
    &fleet_drift::OVER,
    &fleet_drift::TYPE,
    &fleet_drift::ZOMBIE,
    &fleet_drift::STUCK,
    &index_oversized::IndexOversized,
    &index_dormant::IndexDormant,
    &instance_idle::InstanceIdle,
];

/// The name an instance is known by: its Name tag, else its id.
fn shown(instance: &crate::model::Instance) -> String {
    match &instance.name {
        Some(name) => format!("{name} ({})", instance.id),
        None => instance.id.clone(),
    }
}

/// A candidate about an instance.
fn about_instance(
    rule: &'static str,
    instance: &crate::model::Instance,
    message: String,
) -> super::Candidate {
    super::Candidate {
        rule,
        severity: crate::model::Severity::Warning,
        resource_kind: crate::model::ResourceKind::Instances,
        resource_id: instance.id.clone(),
        account: instance.account.to_string(),
        region: instance.region.to_string(),
        message,
        monthly_cost_impact: None,
    }
}

/// A candidate about an index.
fn about_index(rule: &'static str, index: &crate::model::Index, message: String) -> super::Candidate {
    super::Candidate {
        rule,
        severity: crate::model::Severity::Critical,
        resource_kind: crate::model::ResourceKind::Indexes,
        resource_id: index.index_id.clone(),
        account: index.account.clone(),
        region: index.region.clone(),
        message,
        monthly_cost_impact: None,
    }
}
