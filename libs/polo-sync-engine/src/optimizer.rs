//! Compute Optimizer's EC2 advice (`GetEC2InstanceRecommendations`, free), asked with the
//! daily metrics pull through the same fleet role, for the instances of one account and
//! region. An account that has not opted in, or a role without the permission, is a reason
//! kept in the metrics document, never a failure.

use std::collections::{BTreeMap, HashSet};

use aws_config::SdkConfig;
use aws_sdk_computeoptimizer::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_computeoptimizer::types::{Finding, InstanceRecommendation};
use polo_core::Money;
use polo_core::model::OptimizerAdvice;

/// Pages asked per scope at most (up to 1,000 recommendations each).
pub const MAX_PAGES: usize = 20;

/// Compute Optimizer's advice for the instances `wanted` of the scope `sdk` acts in; `Err`
/// says why there is none.
pub async fn advice<S: std::hash::BuildHasher>(
    sdk: &SdkConfig,
    wanted: &HashSet<&str, S>,
    deadline: tokio::time::Instant,
) -> Result<BTreeMap<String, OptimizerAdvice>, String> {
    let client = aws_sdk_computeoptimizer::Client::new(sdk);
    let mut found = BTreeMap::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let send = client.get_ec2_instance_recommendations().set_next_token(token.take()).send();
        let page = match tokio::time::timeout_at(deadline, send).await {
            Err(_) => return Err("out of time".to_owned()),
            Ok(Err(e)) => {
                let code = e.code().unwrap_or_default().to_owned();
                return Err(if code == "OptInRequiredException" {
                    "the account has not opted in to Compute Optimizer".to_owned()
                } else if code.starts_with("AccessDenied") {
                    format!(
                        "not allowed ({code}): the fleet role needs compute-optimizer:GetEC2InstanceRecommendations"
                    )
                } else {
                    DisplayErrorContext(&e).to_string()
                });
            }
            Ok(Ok(page)) => page,
        };
        for r in page.instance_recommendations() {
            if let Some((id, advice)) = of(r).filter(|(id, _)| wanted.contains(id.as_str())) {
                found.insert(id, advice);
            }
        }
        match page.next_token().filter(|t| !t.is_empty()) {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    Ok(found)
}

/// One recommendation as the document keeps it, by instance id (the ARN's last part).
fn of(r: &InstanceRecommendation) -> Option<(String, OptimizerAdvice)> {
    let id = r.instance_arn()?.rsplit('/').next()?.to_owned();
    let finding = match r.finding()? {
        Finding::Optimized => "optimized",
        Finding::OverProvisioned => "over-provisioned",
        Finding::UnderProvisioned => "under-provisioned",
        Finding::NotOptimized => "not-optimized",
        _ => "unknown",
    };
    let best = r.recommendation_options().iter().min_by_key(|o| o.rank());
    let monthly_savings = best
        .and_then(|o| o.savings_opportunity())
        .and_then(|s| s.estimated_monthly_savings())
        // Polo's money is dollars: another currency's estimate is not shown as one.
        .filter(|m| m.currency().is_none_or(|c| *c == aws_sdk_computeoptimizer::types::Currency::Usd))
        .and_then(|m| rust_decimal::Decimal::try_from(m.value()).ok())
        .map(|d| Money::new(d).round_cents());
    Some((
        id,
        OptimizerAdvice {
            finding: finding.to_owned(),
            current_type: r.current_instance_type().unwrap_or_default().to_owned(),
            recommended_type: best.and_then(|o| o.instance_type()).map(str::to_owned),
            monthly_savings,
            performance_risk: best
                .map(aws_sdk_computeoptimizer::types::InstanceRecommendationOption::performance_risk),
        },
    ))
}
