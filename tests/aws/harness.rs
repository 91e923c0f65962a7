use std::sync::atomic::{AtomicU32, Ordering};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use polo_core::config::{Account, Config};
use polo_core::model::AccountKind;

/// The emulator's URL, from `scripts/test`.
pub fn emulator() -> String {
    std::env::var("POLO_TEST_AWS_ENDPOINT")
        .expect("POLO_TEST_AWS_ENDPOINT is not set: run these tests with `scripts/just test --integration`")
}

/// The SDK config of the emulator's default account, pointed at `endpoint`.
pub async fn base_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "polo-tests"))
        .load()
        .await
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A 12-digit account id no other test in this run uses: `prefix` (3 digits) and the pid
/// keep runs and tests apart.
pub fn fresh_account_id(prefix: u32) -> String {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    format!("{prefix:03}{:05}{n:04}", std::process::id() % 100_000)
}

/// A unique lowercase name for a bucket or table.
pub fn fresh_name(prefix: &str) -> String {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    format!("{prefix}-{}-{n}", std::process::id())
}

/// A configured account with `regions`, reached by its role.
pub fn account(name: &str, id: &str, kind: AccountKind, regions: &[&str]) -> Account {
    Account {
        name: name.to_owned(),
        id: id.to_owned(),
        kind,
        regions: regions.iter().map(|r| (*r).to_owned()).collect(),
        role_arn: format!("arn:aws:iam::{id}:role/polo-read"),
        profile: None,
        index_table: "marqo-indexes".to_owned(),
    }
}

/// The bundled config with these accounts instead of its own.
pub fn config_with(accounts: Vec<Account>) -> Config {
    let mut config = Config::bundled().unwrap();
    config.accounts = accounts;
    config
}

/// The SDK config acting in `account_id` (by AssumeRole, as the sync does).
pub async fn in_account(base: &SdkConfig, account_id: &str) -> SdkConfig {
    let account = account("x", account_id, AccountKind::Dev, &["us-east-1"]);
    polo_sync_engine::accounts::account_config(base, &account, polo_sync_engine::Reach::Roles).await.unwrap()
}

/// What a test gives one sync invocation: the function's 5 minutes.
pub const BUDGET: std::time::Duration = std::time::Duration::from_mins(5);
