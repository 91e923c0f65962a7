//! `polo prices`: the price table refreshed from the AWS Price List API (`GetProducts` of
//! `AmazonEC2`, every page, per region), written where the binaries bundle it from.

use anyhow::Context as _;
use aws_sdk_pricing::types::{Filter, FilterType};
use polo_core::price_list::{LINUX_SHARED, Offer, parse_product, table_of};
use polo_core::pricing::PriceTable;

/// The Price List API answers in `us-east-1` (and two other regions), whatever the region
/// priced.
pub const PRICING_REGION: &str = "us-east-1";

/// The on-demand Linux prices of every instance type in `regions`, dated `version`, with the
/// count of types priced twice (the lower price kept).
pub async fn fetch_prices(
    client: &aws_sdk_pricing::Client,
    regions: &[String],
    version: String,
) -> anyhow::Result<(PriceTable, usize)> {
    let mut offers: Vec<Offer> = Vec::new();
    for region in regions {
        let before = offers.len();
        let mut request = client.get_products().service_code("AmazonEC2").format_version("aws_v1");
        for (field, value) in [("regionCode", region.as_str())].iter().chain(LINUX_SHARED) {
            request = request.filters(
                Filter::builder().r#type(FilterType::TermMatch).field(*field).value(*value).build()?,
            );
        }
        let mut pages = request.into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.with_context(|| format!("GetProducts for {region}"))?;
            for document in page.price_list() {
                if let Some(offer) = parse_product(document)? {
                    offers.push(offer);
                }
            }
        }
        if offers.len() == before {
            anyhow::bail!("GetProducts for {region}: no Linux on-demand prices; is {region} a region?");
        }
    }
    Ok(table_of(offers, version))
}

/// The price table as committed: pretty JSON, keys sorted, one trailing newline.
pub fn to_document(table: &PriceTable) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(table)? + "\n")
}
