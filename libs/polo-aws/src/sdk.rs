//! The one way Polo builds AWS SDK configuration and clients.

use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;

/// The session name Polo's assumed-role sessions carry, so CloudTrail shows who read.
pub const SESSION_NAME: &str = "polo-sync";

/// The SDK config every client starts from: credentials, endpoint (`AWS_ENDPOINT_URL`) and
/// region from the environment, `us-east-1` when no region is configured (STS needs one).
/// Builds clients without a network call: cheap at cold start.
pub async fn sdk_config() -> SdkConfig {
    let region = aws_config::meta::region::RegionProviderChain::default_provider().or_else("us-east-1");
    aws_config::defaults(BehaviorVersion::latest()).region(region).load().await
}

/// `base` acting as `role_arn`: credentials from STS AssumeRole, fetched on first use and
/// refreshed before they expire.
pub async fn assume_role(base: &SdkConfig, role_arn: &str) -> SdkConfig {
    let provider =
        AssumeRoleProvider::builder(role_arn).session_name(SESSION_NAME).configure(base).build().await;
    base.to_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build()
}

/// `base` acting as the local AWS profile `profile` (`polo sync` on a laptop): that profile's
/// credentials, `base`'s region and endpoint.
pub async fn profile_config(base: &SdkConfig, profile: &str) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).profile_name(profile);
    if let Some(region) = base.region() {
        loader = loader.region(region.clone());
    }
    if let Some(endpoint) = base.endpoint_url() {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

/// An S3 client for `config`. Path-style addressing when an endpoint is configured
/// (`AWS_ENDPOINT_URL`: S3-compatible stores and emulators want it), virtual-hosted otherwise.
/// Each call's outcome reaches its X-Ray subsegment.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let builder = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(config.endpoint_url().is_some())
        .interceptor(crate::SdkOutcome);
    aws_sdk_s3::Client::from_conf(builder.build())
}

/// A DynamoDB client for `config`; each call's outcome reaches its X-Ray subsegment.
pub fn dynamo_client(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    let builder = aws_sdk_dynamodb::config::Builder::from(config).interceptor(crate::SdkOutcome);
    aws_sdk_dynamodb::Client::from_conf(builder.build())
}
