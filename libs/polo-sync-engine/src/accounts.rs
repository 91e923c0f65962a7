//! Credentials per account: a named profile locally, or STS AssumeRole of the account's
//! `role_arn` (always, in production).

use aws_config::SdkConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_sts::error::DisplayErrorContext;
use polo_core::config::Account;

/// How accounts are reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Local `polo sync`: an account's `profile` when it has one, else its `role_arn`.
    ProfilesFirst,
    /// The sync function: always `role_arn`.
    Roles,
}

/// The SDK config that acts in `account`: `base` with the account's credentials, resolved
/// now (one AssumeRole per account and run, not one per client racing the others), so an
/// account that cannot be reached fails here, once, with the reason.
pub async fn account_config(base: &SdkConfig, account: &Account, reach: Reach) -> Result<SdkConfig, String> {
    let config = lazy_account_config(base, account, reach).await;
    let provider = config
        .credentials_provider()
        .ok_or_else(|| format!("account {}: no credentials provider", account.name))?;
    let credentials = provider.provide_credentials().await.map_err(|e| {
        let how = match (reach, &account.profile) {
            (Reach::ProfilesFirst, Some(profile)) => format!("profile {profile}"),
            _ => format!("AssumeRole {}", account.role_arn),
        };
        format!("{how}: {}", DisplayErrorContext(&e))
    })?;
    Ok(config.to_builder().credentials_provider(SharedCredentialsProvider::new(credentials)).build())
}

/// The account's config with credentials resolved on first use.
async fn lazy_account_config(base: &SdkConfig, account: &Account, reach: Reach) -> SdkConfig {
    if let (Reach::ProfilesFirst, Some(profile)) = (reach, &account.profile) {
        return polo_aws::profile_config(base, profile).await;
    }
    polo_aws::assume_role(base, &account.role_arn).await
}
