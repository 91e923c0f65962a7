use std::fmt;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::Money;

/// Which of Cost Explorer's cost metrics Polo reads (`[costs] metric`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostMetric {
    /// Reserved Instance and Savings Plans fees spread over the days they cover: what a day
    /// of the fleet really costs (the default).
    #[default]
    Amortized,
    /// Amortized, after discounts.
    NetAmortized,
    /// As billed that day: commitment fees on the 1st, upfront fees on the purchase day.
    Unblended,
}

impl CostMetric {
    /// `amortized`, `net_amortized` or `unblended` (config and JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            CostMetric::Amortized => "amortized",
            CostMetric::NetAmortized => "net_amortized",
            CostMetric::Unblended => "unblended",
        }
    }

    /// The metric's name in Cost Explorer's API.
    pub fn cost_explorer_name(self) -> &'static str {
        match self {
            CostMetric::Amortized => "AmortizedCost",
            CostMetric::NetAmortized => "NetAmortizedCost",
            CostMetric::Unblended => "UnblendedCost",
        }
    }

    /// How pages name it.
    pub fn title(self) -> &'static str {
        match self {
            CostMetric::Amortized => "Amortized cost",
            CostMetric::NetAmortized => "Net amortized cost",
            CostMetric::Unblended => "Unblended cost",
        }
    }

    /// What a store written before the metric was recorded holds.
    pub fn of_older_stores() -> CostMetric {
        CostMetric::Unblended
    }
}

/// One day's cost (in the store's metric) of one key of one Cost Explorer grouping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostRow {
    pub date: Date,
    pub dimension: CostDimension,
    /// The index id, account id or service name; empty for cost that carries no index tag.
    pub key: String,
    pub amount: Money,
}

/// The groupings Polo asks Cost Explorer for. `Index`, `Account` and `Service` cover the
/// usage record types only ([`is_usage`]), so each sums to the same daily usage; `Charge`
/// covers the whole bill by record type, and its other keys are the charges no usage
/// grouping holds (credits, refunds, tax, support, fees).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CostDimension {
    /// By the index cost-allocation tag.
    Index,
    /// By linked account id.
    Account,
    /// By AWS service name.
    Service,
    /// By Cost Explorer record type (`RECORD_TYPE`): `Usage`, `Credit`, `Tax`, ….
    Charge,
}

/// The record types Cost Explorer books usage under in every metric: plain, Reserved
/// Instance covered and Savings Plans covered.
const USAGE_RECORD_TYPES: [&str; 3] = ["Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"];

/// The same, unblended: Savings Plans covered usage is at on-demand rates there, and its
/// negation (a line tagged like the usage it covers) takes those rates back off.
const UNBLENDED_USAGE_RECORD_TYPES: [&str; 4] =
    ["Usage", "DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation"];

/// Record types billed once a month, whatever the usage: a month's forecast expects them
/// even before they are booked.
pub const MONTHLY_RECORD_TYPES: [&str; 4] = ["Support", "Tax", "SavingsPlanRecurringFee", "RIFee"];

impl CostMetric {
    /// The record types attributed to indexes, accounts and services in this metric; every
    /// other one is an other charge.
    pub fn usage_record_types(self) -> &'static [&'static str] {
        match self {
            CostMetric::Amortized | CostMetric::NetAmortized => &USAGE_RECORD_TYPES,
            CostMetric::Unblended => &UNBLENDED_USAGE_RECORD_TYPES,
        }
    }

    /// Whether record type `record_type` is usage (attributed), rather than another charge.
    pub fn is_usage(self, record_type: &str) -> bool {
        self.usage_record_types().contains(&record_type)
    }

    /// How pages name a record type in this metric.
    pub fn record_type_name(self, record_type: &str) -> &str {
        let amortized = self != CostMetric::Unblended;
        match record_type {
            "Usage" => "Usage",
            "DiscountedUsage" => "Usage covered by Reserved Instances",
            "SavingsPlanCoveredUsage" => "Usage covered by Savings Plans",
            "SavingsPlanNegation" => "Savings Plans negation",
            // Amortized, the commitment is in the covered usage; what is left is unused.
            "SavingsPlanRecurringFee" if amortized => "Savings Plans unused commitment",
            "SavingsPlanRecurringFee" => "Savings Plans recurring fee",
            "SavingsPlanUpfrontFee" => "Savings Plans upfront fee",
            "RIFee" if amortized => "Reserved Instances unused commitment",
            "RIFee" => "Reserved Instance fee",
            "Fee" => "Fee (upfront, registration)",
            "Credit" => "Credit",
            "Refund" => "Refund",
            "Tax" => "Tax",
            "Support" => "Support",
            "BundledDiscount" => "Bundled discount",
            "EdpDiscount" => "Enterprise discount",
            "PrivateRateDiscount" => "Private rate discount",
            other => other,
        }
    }
}

impl CostDimension {
    /// `index`, `account`, `service` or `charge`.
    pub fn as_str(self) -> &'static str {
        match self {
            CostDimension::Index => "index",
            CostDimension::Account => "account",
            CostDimension::Service => "service",
            CostDimension::Charge => "charge",
        }
    }
}

impl fmt::Display for CostDimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
