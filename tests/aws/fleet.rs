//! Building fleets in the emulator: instances, index registries, the resource table, buckets.

use std::collections::HashMap;

use aws_config::{Region, SdkConfig};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    Projection, ProjectionType, PutRequest, ScalarAttributeType, WriteRequest,
};
use aws_sdk_ec2::types::{
    InstanceMarketOptionsRequest, InstanceType, MarketType, ResourceType, Tag, TagSpecification,
};

pub fn ec2(config: &SdkConfig, region: &str) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::config::Builder::from(config).region(Region::new(region.to_owned())).build(),
    )
}

pub fn dynamo(config: &SdkConfig, region: &str) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(config).region(Region::new(region.to_owned())).build(),
    )
}

/// Launches `count` instances, one reservation each, tagged with `tags`.
pub async fn launch(
    config: &SdkConfig,
    region: &str,
    count: usize,
    instance_type: &str,
    tags: &[(&str, &str)],
    spot: bool,
) -> Vec<aws_sdk_ec2::types::Instance> {
    let client = ec2(config, region);
    let mut out = Vec::new();
    for _ in 0..count {
        let mut spec = TagSpecification::builder().resource_type(ResourceType::Instance);
        for (k, v) in tags {
            spec = spec.tags(Tag::builder().key(*k).value(*v).build());
        }
        let mut request = client
            .run_instances()
            .image_id("ami-12c6146b")
            .min_count(1)
            .max_count(1)
            .instance_type(InstanceType::from(instance_type));
        if !tags.is_empty() {
            request = request.tag_specifications(spec.build());
        }
        if spot {
            request = request.instance_market_options(
                InstanceMarketOptionsRequest::builder().market_type(MarketType::Spot).build(),
            );
        }
        let answer = request.send().await.unwrap();
        out.extend(answer.instances().iter().cloned());
    }
    out
}

/// Creates an index registry table.
pub async fn create_registry(config: &SdkConfig, region: &str, table: &str) {
    dynamo(config, region)
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("index_id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder().attribute_name("index_id").key_type(KeyType::Hash).build().unwrap(),
        )
        .send()
        .await
        .unwrap();
}

/// Creates an index registry table holding `items`.
pub async fn create_registry_with(
    config: &SdkConfig,
    region: &str,
    table: &str,
    items: Vec<HashMap<String, AttributeValue>>,
) {
    create_registry(config, region, table).await;
    put_items(config, region, table, items).await;
}

/// A registry item as CONTRACT.md describes it.
pub fn registry_item(id: &str, name: &str, customer: &str, status: &str) -> HashMap<String, AttributeValue> {
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let n = |v: u32| AttributeValue::N(v.to_string());
    HashMap::from([
        ("index_id".to_owned(), s(id)),
        ("index_name".to_owned(), s(name)),
        ("customer_id".to_owned(), s(customer)),
        ("status".to_owned(), s(status)),
        ("inference_type".to_owned(), s("marqo.CPU.large")),
        ("inference_count".to_owned(), n(2)),
        ("storage_class".to_owned(), s("marqo.balanced.storage")),
        ("number_of_shards".to_owned(), n(3)),
        ("number_of_replicas".to_owned(), n(1)),
        ("marqo_version".to_owned(), s("2.12.0")),
        ("created_at".to_owned(), s("2026-01-02T03:04:05Z")),
        ("updated_at".to_owned(), s("2026-02-03T04:05:06Z")),
    ])
}

/// Writes items, 25 per call.
pub async fn put_items(
    config: &SdkConfig,
    region: &str,
    table: &str,
    items: Vec<HashMap<String, AttributeValue>>,
) {
    let client = dynamo(config, region);
    for chunk in items.chunks(25) {
        let requests: Vec<WriteRequest> = chunk
            .iter()
            .map(|i| {
                WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(i.clone())).build().unwrap())
                    .build()
            })
            .collect();
        client.batch_write_item().request_items(table, requests).send().await.unwrap();
    }
}

/// Creates the resource table with the keys of docs/data.md.
pub async fn create_resource_table(config: &SdkConfig, table: &str) {
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key =
        |n: &str, t: KeyType| KeySchemaElement::builder().attribute_name(n).key_type(t).build().unwrap();
    let gsi = |name: &str, pk: &str, sk: &str| {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(pk, KeyType::Hash))
            .key_schema(key(sk, KeyType::Range))
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
            .unwrap()
    };
    dynamo(config, "us-east-1")
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(vec![
            attr("pk"),
            attr("sk"),
            attr("gsi1pk"),
            attr("gsi1sk"),
            attr("gsi2pk"),
            attr("gsi2sk"),
            attr("gsi3pk"),
            attr("gsi3sk"),
        ]))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .global_secondary_indexes(gsi(polo_aws::BY_KIND, "gsi1pk", "gsi1sk"))
        .global_secondary_indexes(gsi(polo_aws::BY_INDEX, "gsi2pk", "gsi2sk"))
        .global_secondary_indexes(gsi(polo_aws::BY_DAY, "gsi3pk", "gsi3sk"))
        .send()
        .await
        .unwrap();
}

/// Creates a bucket.
pub async fn create_bucket(config: &SdkConfig, bucket: &str) {
    polo_aws::s3_client(config).create_bucket().bucket(bucket).send().await.unwrap();
}
