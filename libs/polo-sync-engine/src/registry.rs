//! The index registry table of each account and region (CONTRACT.md), all pages.

use polo_aws::SdkOutcome;
use std::collections::HashMap;

use anyhow::Context as _;
use aws_config::{Region, SdkConfig};
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;
use polo_core::config::Account;
use polo_core::model::{Index, IndexStatus};
use serde::Deserialize;
use time::OffsetDateTime;

/// Items per Scan page: small enough that a large registry is read in several pages.
pub const SCAN_PAGE: i32 = 500;

/// One registry item, as CONTRACT.md fixes it.
#[derive(Debug, Deserialize)]
struct RegistryItem {
    index_id: String,
    index_name: String,
    customer_id: String,
    status: IndexStatus,
    inference_type: String,
    inference_count: u32,
    storage_class: String,
    number_of_shards: u32,
    number_of_replicas: u32,
    marqo_version: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option", default)]
    updated_at: Option<OffsetDateTime>,
}

/// Every index in `account`'s registry in `region`, all pages. A malformed item is skipped
/// and named (by `index_id` when it has one) in the returned warnings.
#[tracing::instrument(name = "pages", skip_all, fields(pages = "registry Scan"))]
pub async fn pull_indexes(
    config: &SdkConfig,
    account: &Account,
    region: &str,
) -> anyhow::Result<(Vec<Index>, Vec<String>)> {
    let dynamo = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(config)
            .region(Region::new(region.to_owned()))
            .interceptor(SdkOutcome)
            .build(),
    );
    let mut pages = dynamo.scan().table_name(&account.index_table).limit(SCAN_PAGE).into_paginator().send();
    let (mut out, mut warnings) = (Vec::new(), Vec::new());
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(|e| anyhow::anyhow!("{}", DisplayErrorContext(&e)))
            .with_context(|| format!("Scan {}", account.index_table))?;
        for item in page.items() {
            match parse(item.clone(), account, region) {
                Ok(index) => out.push(index),
                Err(problem) => {
                    let id = match item.get("index_id") {
                        Some(AttributeValue::S(id)) => id.clone(),
                        _ => "(no index_id)".to_owned(),
                    };
                    tracing::warn!(account = %account.name, region, index_id = %id, %problem, "malformed registry item skipped");
                    warnings.push(format!("registry item {id} skipped: {problem}"));
                }
            }
        }
    }
    out.sort_by(|a, b| a.index_id.cmp(&b.index_id));
    Ok((out, warnings))
}

pub(crate) fn parse(
    item: HashMap<String, AttributeValue>,
    account: &Account,
    region: &str,
) -> Result<Index, String> {
    let raw: RegistryItem = serde_dynamo::from_item(item).map_err(|e| e.to_string())?;
    if raw.index_id.is_empty() {
        return Err("empty index_id".into());
    }
    Ok(Index {
        index_id: raw.index_id,
        name: raw.index_name,
        account: account.name.clone(),
        region: region.to_owned(),
        customer: raw.customer_id,
        status: raw.status,
        status_since: raw.updated_at,
        inference_type: raw.inference_type,
        inference_count: raw.inference_count,
        storage_class: raw.storage_class,
        shards: raw.number_of_shards,
        replicas: raw.number_of_replicas,
        marqo_version: raw.marqo_version,
        created_at: raw.created_at,
    })
}
