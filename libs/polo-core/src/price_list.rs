//! Product documents of the AWS Price List API (`GetProducts`, service `AmazonEC2`): each
//! is one SKU with its attributes and terms. Polo keeps the on-demand hourly price of Linux
//! instances on shared tenancy with no pre-installed software.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::Money;
use crate::pricing::{PriceTable, TypePrice, TypeSpec};

/// The attribute values a product must have to price a plain Linux instance (they are
/// also the `TERM_MATCH` filters `GetProducts` is asked with).
pub const LINUX_SHARED: &[(&str, &str)] = &[
    ("operatingSystem", "Linux"),
    ("tenancy", "Shared"),
    ("preInstalledSw", "NA"),
    ("capacitystatus", "Used"),
];

/// The on-demand hourly price of one instance type in one region.
#[derive(Clone, Debug, PartialEq)]
pub struct Offer {
    pub region: String,
    pub instance_type: String,
    pub on_demand: Money,
    pub sku: String,
    /// Its size, from the product's `vcpu`, `memory` (`16 GiB`) and `gpu` attributes.
    pub spec: Option<TypeSpec>,
}

/// The size a product's attributes give: `vcpu` `"4"`, `memory` `"16 GiB"` (`"1,024 GiB"`
/// for the largest), `gpu` `"1"` (absent: 0). `None` when either size is missing or unread.
fn spec_of(attributes: &BTreeMap<String, String>) -> Option<TypeSpec> {
    let vcpu = attributes.get("vcpu")?.trim().parse::<u32>().ok()?;
    let memory = attributes.get("memory")?.trim().strip_suffix("GiB")?.trim().replace(',', "");
    let memory_gib = memory.parse::<f64>().ok().filter(|m| *m > 0.0)?;
    let gpus = attributes.get("gpu").and_then(|g| g.trim().parse::<u32>().ok()).unwrap_or(0);
    Some(TypeSpec { vcpu, memory_gib, gpus })
}

/// A product document that cannot be read, naming its SKU when it has one.
#[derive(Debug, thiserror::Error)]
#[error("price list product {sku}: {problem}")]
pub struct ProductError {
    pub sku: String,
    pub problem: String,
}

#[derive(Deserialize)]
struct Product {
    product: ProductPart,
    #[serde(default)]
    terms: Terms,
}

#[derive(Deserialize)]
struct ProductPart {
    sku: String,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

#[derive(Default, Deserialize)]
struct Terms {
    #[serde(rename = "OnDemand", default)]
    on_demand: BTreeMap<String, Term>,
}

#[derive(Deserialize)]
struct Term {
    #[serde(rename = "priceDimensions")]
    price_dimensions: BTreeMap<String, Dimension>,
}

#[derive(Deserialize)]
struct Dimension {
    unit: String,
    #[serde(rename = "pricePerUnit")]
    price_per_unit: BTreeMap<String, String>,
}

/// The offer in one product document: `None` for a product that is not a plain Linux
/// instance on shared tenancy or has no on-demand term; an error for one that is but
/// whose price cannot be read (no USD, not per hour, not a number, several prices).
pub fn parse_product(document: &str) -> Result<Option<Offer>, ProductError> {
    let product: Product = serde_json::from_str(document).map_err(|e| ProductError {
        sku: sku_of(document),
        problem: format!("not a product document: {e}"),
    })?;
    let sku = product.product.sku;
    let error = |problem: String| ProductError { sku: sku.clone(), problem };
    let attribute = |name: &str| product.product.attributes.get(name).map(String::as_str);
    if LINUX_SHARED.iter().any(|(name, value)| attribute(name) != Some(value)) {
        return Ok(None);
    }
    let (Some(region), Some(instance_type)) = (attribute("regionCode"), attribute("instanceType")) else {
        return Err(error("no regionCode or instanceType attribute".into()));
    };
    let dimensions: Vec<&Dimension> =
        product.terms.on_demand.values().flat_map(|t| t.price_dimensions.values()).collect();
    let dimension = match dimensions.as_slice() {
        [] => return Ok(None),
        [one] => *one,
        _ => return Err(error(format!("{} on-demand prices, expected one", dimensions.len()))),
    };
    if dimension.unit != "Hrs" {
        return Err(error(format!("priced per {:?}, expected Hrs", dimension.unit)));
    }
    let Some(usd) = dimension.price_per_unit.get("USD") else {
        let currencies: Vec<&str> = dimension.price_per_unit.keys().map(String::as_str).collect();
        return Err(error(format!("no USD price (has {})", currencies.join(", "))));
    };
    let price: Money = usd.parse().map_err(|_| error(format!("price {usd:?} is not a decimal")))?;
    Ok(Some(Offer {
        region: region.to_owned(),
        instance_type: instance_type.to_owned(),
        on_demand: Money::new(price.amount().normalize()),
        spec: spec_of(&product.product.attributes),
        sku,
    }))
}

fn sku_of(document: &str) -> String {
    serde_json::from_str::<serde_json::Value>(document)
        .ok()
        .and_then(|v| v.pointer("/product/sku").and_then(|s| s.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "(unknown sku)".to_owned())
}

/// A price table of `offers`, dated `version`. Where two offers price one type in one
/// region, the lower is kept (and counted in the second value).
pub fn table_of(offers: impl IntoIterator<Item = Offer>, version: String) -> (PriceTable, usize) {
    let mut regions: BTreeMap<String, BTreeMap<String, TypePrice>> = BTreeMap::new();
    let mut specs: BTreeMap<String, TypeSpec> = BTreeMap::new();
    let mut duplicates = 0;
    for offer in offers {
        if let Some(spec) = offer.spec {
            specs.entry(offer.instance_type.clone()).or_insert(spec);
        }
        let types = regions.entry(offer.region).or_default();
        match types.get_mut(&offer.instance_type) {
            Some(known) => {
                duplicates += 1;
                known.on_demand = known.on_demand.min(offer.on_demand);
            }
            None => {
                types.insert(offer.instance_type, TypePrice { on_demand: offer.on_demand });
            }
        }
    }
    let table = PriceTable {
        version,
        currency: "USD".to_owned(),
        source: "Linux, shared tenancy, no pre-installed software, per hour (AWS Price List API, \
                 AmazonEC2 on-demand terms). `just prices` refreshes it."
            .to_owned(),
        regions,
        specs,
        spot_discount: crate::pricing::SpotDiscount::default(),
        // Written out, then parsed where it is used.
        digest: 0,
    };
    (table, duplicates)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A product document as GetProducts returns it (one string of the `PriceList`).
    fn product(sku: &str, region: &str, instance_type: &str, usd: &str) -> String {
        serde_json::json!({
            "product": {
                "productFamily": "Compute Instance",
                "attributes": {
                    "instanceType": instance_type, "regionCode": region, "operatingSystem": "Linux",
                    "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used",
                    "location": "US East (N. Virginia)", "licenseModel": "No License required",
                    "vcpu": "2", "memory": "8 GiB"
                },
                "sku": sku
            },
            "serviceCode": "AmazonEC2",
            "terms": { "OnDemand": { format!("{sku}.JRTCKXETXF"): {
                "priceDimensions": { format!("{sku}.JRTCKXETXF.6YS6EN2CT7"): {
                    "unit": "Hrs", "endRange": "Inf", "beginRange": "0",
                    "description": format!("$ per On Demand Linux {instance_type} Instance Hour"),
                    "pricePerUnit": { "USD": usd }
                }},
                "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z", "offerTermCode": "JRTCKXETXF"
            }}},
            "version": "20261101000000",
            "publicationDate": "2026-11-01T00:00:00Z"
        })
        .to_string()
    }

    #[test]
    fn reads_the_hourly_on_demand_price() {
        let offer =
            parse_product(&product("SKU1", "us-east-1", "m6i.large", "0.0960000000")).unwrap().unwrap();
        assert_eq!((offer.region.as_str(), offer.instance_type.as_str()), ("us-east-1", "m6i.large"));
        assert_eq!(offer.on_demand.to_string(), "0.096");
        assert_eq!(offer.spec, Some(TypeSpec { vcpu: 2, memory_gib: 8.0, gpus: 0 }));
        let gpu = product("SKU9", "us-east-1", "g5.xlarge", "1.006")
            .replace("\"vcpu\":\"2\"", "\"vcpu\":\"4\",\"gpu\":\"1\"")
            .replace("8 GiB", "16 GiB");
        assert_eq!(
            parse_product(&gpu).unwrap().unwrap().spec,
            Some(TypeSpec { vcpu: 4, memory_gib: 16.0, gpus: 1 })
        );
        let unsized_product = product("SKU10", "us-east-1", "m6i.large", "0.096").replace("8 GiB", "NA");
        assert_eq!(
            parse_product(&unsized_product).unwrap().unwrap().spec,
            None,
            "no size: no spec, still a price"
        );
    }

    #[test]
    fn other_products_are_skipped() {
        let windows = product("SKU2", "us-east-1", "m6i.large", "0.18").replace("\"Linux\"", "\"Windows\"");
        assert_eq!(parse_product(&windows).unwrap(), None);
        let reserved_only = product("SKU3", "us-east-1", "m6i.large", "0.1").replace("OnDemand", "Reserved");
        assert_eq!(parse_product(&reserved_only).unwrap(), None);
    }

    #[test]
    fn unreadable_prices_are_errors_naming_the_sku() {
        for (document, expected) in [
            (
                product("SKU4", "us-east-1", "m6i.large", "abc"),
                "price list product SKU4: price \"abc\" is not a decimal",
            ),
            (
                product("SKU5", "us-east-1", "m6i.large", "0.1").replace("\"USD\"", "\"CNY\""),
                "price list product SKU5: no USD price (has CNY)",
            ),
            (
                product("SKU6", "us-east-1", "m6i.large", "0.1").replace("\"Hrs\"", "\"Quantity\""),
                "price list product SKU6: priced per \"Quantity\", expected Hrs",
            ),
            (
                "{\"product\": {\"sku\": \"SKU7\"}, \"terms\": 3}".to_owned(),
                "price list product SKU7: not a product document",
            ),
        ] {
            let e = parse_product(&document).unwrap_err().to_string();
            assert!(e.starts_with(expected), "{e}");
        }
    }

    #[test]
    fn a_type_priced_twice_keeps_the_lower_price() {
        let offers = ["0.2", "0.1"]
            .map(|usd| parse_product(&product("S", "eu-west-1", "c6i.xlarge", usd)).unwrap().unwrap());
        let (table, duplicates) = table_of(offers, "2026-11-25".into());
        assert_eq!(duplicates, 1);
        assert_eq!(table.regions["eu-west-1"]["c6i.xlarge"].on_demand.to_string(), "0.10");
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    use super::parse_product;

    proptest! {
        #![proptest_config(polo_fuzz::config(256))]

        #[test]
        fn fuzz_price_product_edited(text in polo_fuzz::mutated_text(polo_fuzz::seed("price_product.json"))) {
            if let Err(e) = parse_product(&text) {
                prop_assert!(!e.to_string().is_empty());
            }
        }

        #[test]
        fn fuzz_price_product_any_json(value in polo_fuzz::json_value(&[
            "product", "attributes", "instanceType", "regionCode", "operatingSystem", "Linux", "tenancy",
            "Shared", "terms", "OnDemand", "priceDimensions", "unit", "Hrs", "pricePerUnit", "USD", "sku",
        ])) {
            let _ = parse_product(&value.to_string());
        }
    }
}
