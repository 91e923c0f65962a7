//! The bundled price table: hourly prices of instance types per region, for run-rates.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::Money;
use crate::model::{Instance, Lifecycle};

/// The price table bundled into the binaries (`data/prices.json`).
pub const BUNDLED: &str = include_str!("../../../data/prices.json");

/// Hourly prices by region and instance type.
#[derive(Clone, Debug, Deserialize)]
pub struct PriceTable {
    /// When the prices were taken (`2026-11-01`).
    pub version: String,
    /// Region -> instance type -> prices.
    pub regions: BTreeMap<String, HashMap<String, TypePrice>>,
}

/// The hourly prices of one instance type in one region.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct TypePrice {
    pub on_demand: Money,
    pub spot: Money,
}

/// A price table that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("price table {source_name}: {problem}")]
pub struct PriceTableError {
    source_name: String,
    problem: String,
}

impl PriceTable {
    /// The bundled table.
    pub fn bundled() -> Result<PriceTable, PriceTableError> {
        PriceTable::parse(BUNDLED, "data/prices.json (bundled)")
    }

    /// Parses a price table document; `source_name` names it in errors.
    pub fn parse(json: &str, source_name: &str) -> Result<PriceTable, PriceTableError> {
        let mut de = serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize(&mut de).map_err(|e| PriceTableError {
            source_name: source_name.to_owned(),
            problem: format!("{}: {}", e.path(), e.inner()),
        })
    }

    /// The hourly price of `instance_type` bought as `lifecycle` in `region`, when known.
    pub fn hourly(&self, region: &str, instance_type: &str, lifecycle: Lifecycle) -> Option<Money> {
        let price = self.regions.get(region)?.get(instance_type)?;
        Some(match lifecycle {
            Lifecycle::OnDemand => price.on_demand,
            Lifecycle::Spot => price.spot,
        })
    }

    /// What the instance costs per hour now: its type's price while EC2 bills it, zero
    /// when stopped or gone, `None` when the table does not know its type or region.
    pub fn instance_hourly(&self, instance: &Instance) -> Option<Money> {
        if instance.state.is_billed() {
            self.hourly(&instance.region, &instance.instance_type, instance.lifecycle)
        } else {
            Some(Money::ZERO)
        }
    }

    /// The run-rate of a set of instances.
    pub fn run_rate<'a>(&self, instances: impl IntoIterator<Item = &'a Instance>) -> RunRate {
        let mut rate = RunRate::default();
        for instance in instances {
            match self.instance_hourly(instance) {
                Some(hourly) => rate.hourly += hourly,
                None => rate.unpriced += 1,
            }
        }
        rate
    }
}

/// The cost per hour of what runs now, and how many billed instances the table could not price.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunRate {
    pub hourly: Money,
    pub unpriced: usize,
}

impl RunRate {
    /// The hourly rate over an average month.
    pub fn monthly(&self) -> Money {
        self.hourly.hourly_to_monthly()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_table_prices_known_types() {
        let table = PriceTable::bundled().unwrap();
        assert_eq!(
            table.hourly("us-east-1", "m6i.large", Lifecycle::OnDemand).unwrap().to_string(),
            "0.0960"
        );
        assert!(table.hourly("us-east-1", "nosuch.large", Lifecycle::OnDemand).is_none());
    }

    #[test]
    fn malformed_table_names_the_field() {
        let e = PriceTable::parse(
            r#"{"version":"x","regions":{"us-east-1":{"m6i.large":{"on_demand":0.1,"spot":"0.1"}}}}"#,
            "p.json",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("price table p.json: regions.us-east-1.m6i.large.on_demand:"), "{e}");
    }
}
