//! EC2 DescribeInstances, every page, every state, into [`Instance`]s.

use polo_aws::SdkOutcome;

use anyhow::Context as _;
use aws_config::{Region, SdkConfig};
use aws_sdk_ec2::error::DisplayErrorContext;
use aws_sdk_ec2::types::{InstanceLifecycleType, InstanceStateName};
use polo_core::config::{Account, TagKeys};
use polo_core::model::{Instance, InstanceState, Lifecycle, Text};
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Every instance of `account` in `region`, all pages. Instances EC2 describes without an
/// id are skipped and named in the returned warnings.
#[tracing::instrument(name = "pages", skip_all, fields(pages = "DescribeInstances"))]
pub async fn pull_instances(
    config: &SdkConfig,
    account: &Account,
    region: &str,
    tags: &TagKeys,
) -> anyhow::Result<(Vec<Instance>, Vec<String>)> {
    let ec2 = aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::config::Builder::from(config)
            .region(Region::new(region.to_owned()))
            .interceptor(SdkOutcome)
            .build(),
    );
    let mut pages = ec2.describe_instances().into_paginator().send();
    let (mut out, mut warnings) = (Vec::new(), Vec::new());
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| anyhow::anyhow!("{}", DisplayErrorContext(&e))).context("DescribeInstances")?;
        for reservation in page.reservations() {
            for raw in reservation.instances() {
                match convert(raw, account, region, tags) {
                    Some(instance) => {
                        if instance.state == InstanceState::Unknown {
                            let name = raw.state().and_then(|s| s.name()).map_or("none", |n| n.as_str());
                            warnings.push(format!(
                                "{}: EC2 state {name:?} is not one Polo knows; kept as unknown",
                                instance.id
                            ));
                        }
                        out.push(instance);
                    }
                    None => warnings.push("an instance without id was skipped".to_owned()),
                }
            }
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok((out, warnings))
}

pub(crate) fn convert(
    raw: &aws_sdk_ec2::types::Instance,
    account: &Account,
    region: &str,
    keys: &TagKeys,
) -> Option<Instance> {
    let id = raw.instance_id()?.to_owned();
    let tags: polo_core::model::Tags = raw
        .tags()
        .iter()
        .filter_map(|t| Some((Text::from(t.key()?), Text::from(t.value().unwrap_or_default()))))
        .collect();
    let tag = |key: &str| tags.get(key).filter(|v| !v.is_empty()).cloned();
    let state = match raw.state().and_then(|s| s.name()) {
        Some(InstanceStateName::Running) => InstanceState::Running,
        Some(InstanceStateName::Pending) => InstanceState::Pending,
        Some(InstanceStateName::Stopping) => InstanceState::Stopping,
        Some(InstanceStateName::Stopped) => InstanceState::Stopped,
        Some(InstanceStateName::ShuttingDown) => InstanceState::ShuttingDown,
        Some(InstanceStateName::Terminated) => InstanceState::Terminated,
        _ => InstanceState::Unknown,
    };
    let launch_time = raw
        .launch_time()
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t.secs()).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    // EC2 dates a stop or termination in the transition reason; a running instance's launch
    // time is when it last started.
    let state_since = raw
        .state_transition_reason()
        .and_then(transition_time)
        .or_else(|| matches!(state, InstanceState::Running | InstanceState::Pending).then_some(launch_time));
    Some(Instance {
        id,
        account: Text::from(&account.name),
        account_id: Text::from(&account.id),
        region: Text::from(region),
        az: Text::from(raw.placement().and_then(|p| p.availability_zone()).unwrap_or_default()),
        name: tag("Name"),
        instance_type: Text::from(
            raw.instance_type().map(aws_sdk_ec2::types::InstanceType::as_str).unwrap_or_default(),
        ),
        state,
        lifecycle: match raw.instance_lifecycle() {
            Some(InstanceLifecycleType::Spot) => Lifecycle::Spot,
            _ => Lifecycle::OnDemand,
        },
        launch_time,
        state_since,
        private_ip: raw.private_ip_address().map(str::to_owned),
        owner: tag(&keys.owner),
        index: tag(&keys.index),
        customer: tag(&keys.customer),
        tags,
    })
}

/// The time in a reason like `User initiated (2026-03-08 12:00:00 GMT)`.
pub fn transition_time(reason: &str) -> Option<OffsetDateTime> {
    let inner = reason.rsplit_once('(')?.1.strip_suffix(')')?;
    let text = inner.strip_suffix(" GMT").or_else(|| inner.strip_suffix(" UTC")).unwrap_or(inner);
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    PrimitiveDateTime::parse(text.trim(), format).ok().map(PrimitiveDateTime::assume_utc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn reads_the_time_of_a_transition_reason() {
        assert_eq!(
            transition_time("User initiated (2026-03-08 12:00:01 GMT)"),
            Some(datetime!(2026-03-08 12:00:01 UTC))
        );
        assert_eq!(
            transition_time("Server.SpotInstanceTermination (2026-03-08 12:00:01 UTC)"),
            Some(datetime!(2026-03-08 12:00:01 UTC))
        );
        assert_eq!(transition_time(""), None);
        assert_eq!(transition_time("User initiated"), None);
        assert_eq!(transition_time("User initiated (soon)"), None);
    }
}
