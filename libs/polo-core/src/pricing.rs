//! The bundled price table: on-demand hourly prices of instance types per region (from the
//! AWS Price List API, refreshed by `polo prices`), and spot at a configured discount.

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use crate::Money;
use crate::model::{Instance, Lifecycle};

/// The price table bundled into the binaries (`data/prices.json`).
pub const BUNDLED: &str = include_str!("../../../data/prices.json");

/// Hourly prices by region and instance type.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct PriceTable {
    /// When the prices were taken (`2026-11-01`).
    pub version: String,
    /// Always `USD`.
    #[serde(default = "usd", deserialize_with = "only_usd")]
    pub currency: String,
    /// Where the prices come from.
    #[serde(default)]
    pub source: String,
    /// Region -> instance type -> prices.
    pub regions: BTreeMap<String, BTreeMap<String, TypePrice>>,
    /// What each instance type is (the Price List's `vcpu`, `memory` and `gpu` attributes):
    /// rightsizing compares types by it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub specs: BTreeMap<String, TypeSpec>,
    /// The share of the on-demand price spot saves (`[costs] spot_discount`).
    #[serde(skip, default)]
    pub spot_discount: SpotDiscount,
    /// The CRC-32 of the document it was parsed from (0 when built otherwise): two tables of
    /// one version and date can still differ (a hand edit, two pulls in a day).
    #[serde(skip, default)]
    pub(crate) digest: u32,
}

fn usd() -> String {
    "USD".to_owned()
}

fn only_usd<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let currency = String::deserialize(deserializer)?;
    if currency == "USD" {
        Ok(currency)
    } else {
        Err(serde::de::Error::custom(format!("expected USD, got {currency:?}")))
    }
}

/// The hourly prices of one instance type in one region.
#[derive(Clone, Copy, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TypePrice {
    /// Linux, shared tenancy, per hour.
    pub on_demand: Money,
}

/// The size of an instance type.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeSpec {
    pub vcpu: u32,
    pub memory_gib: f64,
    /// GPUs (0 for a CPU type).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub gpus: u32,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl TypeSpec {
    /// The family of `instance_type`: what comes before the size (`r6i` of `r6i.xlarge`).
    pub fn family(instance_type: &str) -> &str {
        instance_type.split_once('.').map_or(instance_type, |(f, _)| f)
    }

    /// The class of `instance_type`: its family's letters before the generation (`r` of
    /// `r6i`, `g` of `g5`): compute, general, memory, storage, accelerated.
    pub fn class(instance_type: &str) -> &str {
        let family = TypeSpec::family(instance_type);
        let end = family.find(|c: char| c.is_ascii_digit()).unwrap_or(family.len());
        &family[..end]
    }
}

/// The share of the on-demand price a spot instance saves: at least 0, below 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpotDiscount(Decimal);

impl SpotDiscount {
    /// The discount `fraction` (0.65 is 65 % off), if it is at least 0 and below 1.
    pub fn new(fraction: Decimal) -> Option<SpotDiscount> {
        (fraction >= Decimal::ZERO && fraction < Decimal::ONE).then_some(SpotDiscount(fraction))
    }

    /// What is paid of the on-demand price.
    fn paid_share(self) -> Decimal {
        Decimal::ONE - self.0
    }
}

impl Default for SpotDiscount {
    /// 65 % off: spot prices of general-purpose types in large regions mostly sit 60-70 %
    /// below on-demand.
    fn default() -> Self {
        SpotDiscount(Decimal::new(65, 2))
    }
}

impl fmt::Display for SpotDiscount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for SpotDiscount {
    /// A number such as `0.65` (TOML float or string), at least 0 and below 1.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Text(String),
        }
        let text = match Raw::deserialize(deserializer)? {
            // The shortest text that reads back as the same float: what was typed.
            Raw::Number(n) => n.to_string(),
            Raw::Text(t) => t,
        };
        text.trim().parse::<Decimal>().ok().and_then(SpotDiscount::new).ok_or_else(|| {
            serde::de::Error::custom(format!("expected a fraction from 0 to below 1, got {text}"))
        })
    }
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

    /// The bundled table with `[costs] spot_discount`: what rules and reports price with.
    pub fn configured(config: &crate::config::Config) -> Result<PriceTable, PriceTableError> {
        Ok(PriceTable::bundled()?.with_spot_discount(config.costs.spot_discount))
    }

    /// Parses a price table document; `source_name` names it in errors.
    pub fn parse(json: &str, source_name: &str) -> Result<PriceTable, PriceTableError> {
        let table: PriceTable = crate::json::decode(json.as_bytes())
            .map_err(|problem| PriceTableError { source_name: source_name.to_owned(), problem })?;
        Ok(PriceTable { digest: crc32fast::hash(json.as_bytes()), ..table })
    }

    /// What identifies the prices this table gives: its version, the document it was parsed
    /// from (a checksum) and the spot discount. Counts priced by a table of the same
    /// fingerprint are what this one would count.
    pub fn fingerprint(&self) -> String {
        format!("{} #{:08x} spot-discount {}", self.version, self.digest, self.spot_discount.0)
    }

    /// The same table, pricing spot at `discount` off on-demand.
    #[must_use]
    pub fn with_spot_discount(mut self, discount: SpotDiscount) -> PriceTable {
        self.spot_discount = discount;
        self
    }

    /// The size of `instance_type`, when the table knows it.
    pub fn spec(&self, instance_type: &str) -> Option<&TypeSpec> {
        self.specs.get(instance_type)
    }

    /// The hourly price of `instance_type` bought as `lifecycle` in `region`, when known.
    pub fn hourly(&self, region: &str, instance_type: &str, lifecycle: Lifecycle) -> Option<Money> {
        let on_demand = self.regions.get(region)?.get(instance_type)?.on_demand;
        Some(match lifecycle {
            Lifecycle::OnDemand => on_demand,
            Lifecycle::Spot => Money::new((on_demand.amount() * self.spot_discount.paid_share()).normalize()),
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
    fn a_fingerprint_tells_tables_of_one_version_apart() {
        let bundled = PriceTable::bundled().unwrap();
        assert_eq!(bundled.fingerprint(), PriceTable::bundled().unwrap().fingerprint());
        // The same version, one price changed by hand.
        let edited = BUNDLED.replacen("0.096", "0.097", 1);
        assert_ne!(edited, BUNDLED);
        let edited = PriceTable::parse(&edited, "edited").unwrap();
        assert_eq!(edited.version, bundled.version);
        assert_ne!(edited.fingerprint(), bundled.fingerprint());
        let spot = bundled.clone().with_spot_discount(SpotDiscount::new(Decimal::new(1, 1)).unwrap());
        assert_ne!(spot.fingerprint(), bundled.fingerprint());
    }

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
    fn spot_is_on_demand_less_the_discount_exactly() {
        let table = PriceTable::bundled().unwrap();
        assert_eq!(table.hourly("us-east-1", "m6i.large", Lifecycle::Spot).unwrap().to_string(), "0.0336");
        let table = table.with_spot_discount(SpotDiscount::new(Decimal::new(7, 1)).unwrap());
        assert_eq!(table.hourly("us-east-1", "t3.medium", Lifecycle::Spot).unwrap().to_string(), "0.01248");
        assert!(SpotDiscount::new(Decimal::ONE).is_none());
        assert!(SpotDiscount::new(Decimal::new(-1, 2)).is_none());
    }

    #[test]
    fn every_bundled_type_has_its_size_and_class() {
        let table = PriceTable::bundled().unwrap();
        for types in table.regions.values() {
            for name in types.keys() {
                let spec = table.spec(name).unwrap_or_else(|| panic!("{name} has no size"));
                assert!(spec.vcpu > 0 && spec.memory_gib > 0.0, "{name}");
            }
        }
        assert_eq!(table.spec("r6i.xlarge"), Some(&TypeSpec { vcpu: 4, memory_gib: 32.0, gpus: 0 }));
        assert_eq!(table.spec("g5.xlarge").map(|s| s.gpus), Some(1));
        assert_eq!((TypeSpec::family("r6i.xlarge"), TypeSpec::class("r6i.xlarge")), ("r6i", "r"));
        assert_eq!(TypeSpec::class("g5.2xlarge"), "g");
    }

    #[test]
    fn malformed_table_names_the_field() {
        let e = PriceTable::parse(
            r#"{"version":"x","regions":{"us-east-1":{"m6i.large":{"on_demand":0.1}}}}"#,
            "p.json",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("price table p.json: regions.us-east-1.m6i.large.on_demand:"), "{e}");
        let e = PriceTable::parse(r#"{"version":"x","currency":"EUR","regions":{}}"#, "p.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected USD"), "{e}");
    }
}
