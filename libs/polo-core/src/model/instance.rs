use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Tags, Text};

/// An EC2 instance as the last sync saw it. The values rows repeat are [`Text`], shared
/// rather than copied; the id and address are its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    /// The EC2 instance id (`i-0abc…`).
    pub id: String,
    /// The account's configured name (`prod`).
    pub account: Text,
    /// The 12-digit AWS account id.
    pub account_id: Text,
    pub region: Text,
    pub az: Text,
    /// The `Name` tag, when there is one.
    pub name: Option<Text>,
    /// The EC2 instance type (`m6i.large`).
    #[serde(rename = "type")]
    pub instance_type: Text,
    pub state: InstanceState,
    pub lifecycle: Lifecycle,
    #[serde(with = "time::serde::rfc3339")]
    pub launch_time: OffsetDateTime,
    /// When the instance entered its current state, where EC2 tells it.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub state_since: Option<OffsetDateTime>,
    pub private_ip: Option<String>,
    /// The value of the configured owner tag.
    pub owner: Option<Text>,
    /// The value of the configured index tag: the `index_id` it serves.
    pub index: Option<Text>,
    /// The value of the configured customer tag.
    pub customer: Option<Text>,
    /// Every tag, as EC2 has it.
    #[serde(default)]
    pub tags: Tags,
}

/// The EC2 instance state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstanceState {
    Pending,
    Running,
    Stopping,
    Stopped,
    ShuttingDown,
    Terminated,
    /// A state EC2 reported that Polo does not know (the sync warns of it).
    Unknown,
}

impl InstanceState {
    /// Every state, in lifecycle order.
    pub const ALL: [InstanceState; 7] = [
        InstanceState::Pending,
        InstanceState::Running,
        InstanceState::Stopping,
        InstanceState::Stopped,
        InstanceState::ShuttingDown,
        InstanceState::Terminated,
        InstanceState::Unknown,
    ];

    /// The name EC2 uses (`shutting-down`).
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceState::Pending => "pending",
            InstanceState::Running => "running",
            InstanceState::Stopping => "stopping",
            InstanceState::Stopped => "stopped",
            InstanceState::ShuttingDown => "shutting-down",
            InstanceState::Terminated => "terminated",
            InstanceState::Unknown => "unknown",
        }
    }

    /// True while EC2 bills compute hours for the instance: `running` only (EC2 bills from
    /// the moment an instance enters `running`; `pending` is not billed, nor is `stopping`
    /// unless the stop is a hibernation, which Polo cannot tell).
    pub fn is_billed(self) -> bool {
        self == InstanceState::Running
    }
}

impl fmt::Display for InstanceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the instance is bought.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lifecycle {
    OnDemand,
    Spot,
}

impl Lifecycle {
    /// `on-demand` or `spot`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::OnDemand => "on-demand",
            Lifecycle::Spot => "spot",
        }
    }
}

impl fmt::Display for Lifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod billing_tests {
    use super::InstanceState;

    #[test]
    fn only_running_instances_are_billed() {
        let billed: Vec<InstanceState> = InstanceState::ALL.into_iter().filter(|s| s.is_billed()).collect();
        assert_eq!(billed, [InstanceState::Running]);
    }
}
