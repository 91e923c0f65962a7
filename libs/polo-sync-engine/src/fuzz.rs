//! Fuzzing what AWS answers, as the sync maps it: registry items, EC2 instances and Cost
//! Explorer results. Arbitrary answers never panic; a refused registry item or cost answer
//! says what is wrong.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_costexplorer::types::{DateInterval, Group, MetricValue, ResultByTime};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_ec2::types::{
    Instance, InstanceLifecycleType, InstanceState, InstanceStateName, InstanceType, Placement, Tag,
};
use polo_core::config::{Account, TagKeys};
use polo_core::model::{AccountKind, CostDimension, CostMetric};
use proptest::prelude::*;

fn account() -> Account {
    Account {
        name: "prod".into(),
        id: "111111111111".into(),
        kind: AccountKind::Prod,
        regions: vec!["us-east-1".into()],
        role_arn: "arn:aws:iam::111111111111:role/polo-read".into(),
        profile: None,
        index_table: "marqo-indexes".into(),
    }
}

/// Strings a field might plausibly or hostilely hold.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        Just(String::new()),
        "-?[0-9]{1,30}(\\.[0-9]{0,30})?(e-?[0-9]{1,4})?",
        "20[0-9]{2}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2}))?",
        prop::sample::select(vec![
            "READY", "CREATING", "FAILED", "ready", "USD", "EUR", "NaN", "inf", "null"
        ])
        .prop_map(str::to_owned),
    ]
}

fn attribute() -> impl Strategy<Value = AttributeValue> {
    let leaf = prop_oneof![
        text().prop_map(AttributeValue::S),
        text().prop_map(AttributeValue::N),
        any::<bool>().prop_map(AttributeValue::Bool),
        any::<bool>().prop_map(AttributeValue::Null),
        prop::collection::vec(text(), 0..3).prop_map(AttributeValue::Ss),
        prop::collection::vec(text(), 0..3).prop_map(AttributeValue::Ns),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(AttributeValue::L),
            prop::collection::hash_map(text(), inner, 0..4).prop_map(AttributeValue::M),
        ]
    })
}

const REGISTRY_FIELDS: &[&str] = &[
    "index_id",
    "index_name",
    "customer_id",
    "status",
    "inference_type",
    "inference_count",
    "storage_class",
    "number_of_shards",
    "number_of_replicas",
    "marqo_version",
    "created_at",
    "updated_at",
];

fn registry_item() -> impl Strategy<Value = HashMap<String, AttributeValue>> {
    let key = prop_oneof![prop::sample::select(REGISTRY_FIELDS).prop_map(str::to_owned), any::<String>()];
    prop::collection::hash_map(key, attribute(), 0..16)
}

fn ec2_instance() -> impl Strategy<Value = Instance> {
    let tags = prop::collection::vec(
        (
            prop::option::of(prop_oneof![
                prop::sample::select(vec![
                    "Name",
                    "owner",
                    "marqo-index",
                    "customer",
                    "ttl",
                    "expires-at",
                    "keep"
                ])
                .prop_map(str::to_owned),
                any::<String>()
            ]),
            prop::option::of(text()),
        ),
        0..8,
    );
    let state = prop::option::of(prop::sample::select(vec![
        InstanceStateName::Running,
        InstanceStateName::Stopped,
        InstanceStateName::Terminated,
        InstanceStateName::from("rebooting-sideways"),
    ]));
    (
        prop::option::of(text()),
        tags,
        state,
        prop::option::of(any::<i64>()),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(text()),
        any::<bool>(),
        prop::option::of(text()),
    )
        .prop_map(|(id, tags, state, launched, reason, az, kind, spot, ip)| {
            Instance::builder()
                .set_instance_id(id)
                .set_tags(Some(
                    tags.into_iter().map(|(k, v)| Tag::builder().set_key(k).set_value(v).build()).collect(),
                ))
                .set_state(state.map(|s| InstanceState::builder().name(s).build()))
                .set_launch_time(launched.map(aws_sdk_ec2::primitives::DateTime::from_secs))
                .set_state_transition_reason(reason)
                .set_placement(az.map(|az| Placement::builder().availability_zone(az).build()))
                .set_instance_type(kind.map(|k| InstanceType::from(k.as_str())))
                .set_instance_lifecycle(spot.then_some(InstanceLifecycleType::Spot))
                .set_private_ip_address(ip)
                .build()
        })
}

fn cost_result() -> impl Strategy<Value = ResultByTime> {
    let group = (
        prop::collection::vec(prop_oneof![text(), text().prop_map(|v| format!("marqo-index${v}"))], 0..3),
        prop::option::of(prop_oneof![
            Just(CostMetric::Amortized.cost_explorer_name().to_owned()),
            any::<String>()
        ]),
        prop::option::of(text()),
        prop::option::of(text()),
    )
        .prop_map(|(keys, metric, amount, unit)| {
            let mut g = Group::builder().set_keys(Some(keys));
            if let Some(metric) = metric {
                g = g.metrics(metric, MetricValue::builder().set_amount(amount).set_unit(unit).build());
            }
            g.build()
        });
    (text(), prop::collection::vec(group, 0..6)).prop_map(|(start, groups)| {
        ResultByTime::builder()
            .set_time_period(DateInterval::builder().start(start).end("2026-11-25").build().ok())
            .set_groups(Some(groups))
            .build()
    })
}

proptest! {
    #![proptest_config(polo_fuzz::config(512))]

    #[test]
    fn fuzz_registry_item(item in registry_item()) {
        if let Err(problem) = crate::registry::parse(item, &account(), "us-east-1") {
            prop_assert!(!problem.is_empty());
        }
    }

    #[test]
    fn fuzz_ec2_instance(raw in ec2_instance()) {
        let converted = crate::instances::convert(&raw, &account(), "us-east-1", &TagKeys::default());
        prop_assert_eq!(converted.is_some(), raw.instance_id().is_some());
    }

    #[test]
    fn fuzz_cost_explorer_results(results in prop::collection::vec(cost_result(), 0..4),
                                  dimension in prop::sample::select(vec![CostDimension::Index, CostDimension::Account, CostDimension::Service])) {
        let mut out = BTreeMap::new();
        match crate::costs::add_results(&mut out, &results, dimension, "marqo-index", CostMetric::Amortized) {
            Ok(()) => {
                // What was read converts to cents that sum to each day's rounded total.
                let _ = crate::costs::to_cents(dimension, polo_core::model::CostMetric::Amortized, out);
            }
            Err(e) => prop_assert!(e.to_string().starts_with("Cost Explorer"), "{e}"),
        }
    }
}
