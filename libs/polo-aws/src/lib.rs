//! Every AWS call on Polo's data plane: the data bucket (snapshot, cost store, sync
//! documents, exports) in S3, the resource and report tables in DynamoDB, STS roles; the
//! one SDK config; the data-plane environment; and [`stores`], the AWS side of the
//! composition root ([`polo_core::ports::Stores`]).

mod dynamo;
mod env;
mod outcome;
mod s3;
mod sdk;
mod secrets;

use std::sync::Arc;
use std::time::Duration;

use polo_core::ports::{SNAPSHOT_BINARY_KEY, SNAPSHOT_KEY, SNAPSHOT_REVALIDATE, Stores};

pub use aws_config::SdkConfig;
pub use dynamo::audit::AuditTable;
pub use dynamo::findings::{COP_LEASE, FindingTable};
pub use dynamo::nonces::NonceTable;
pub use dynamo::reports::ReportTable;
pub use dynamo::resources::{
    BATCH, BY_DAY, BY_INDEX, BY_KIND, DAY_SHARDS, DynamoDataService, ResourceItem, ResourceTable,
    TRANSACTION, Upgrade, live, resource_pk,
};
pub use dynamo::sessions::SessionTable;
pub use env::{AwsEnv, DataEnv};
pub use outcome::{Attempts, SdkOutcome};
pub use s3::bucket::S3Store;
pub use s3::costs::{S3CostReader, S3DocumentReader};
pub use s3::exports::S3Exports;
pub use s3::snapshot::S3SnapshotReader;
pub use sdk::{SESSION_NAME, assume_role, dynamo_client, profile_config, s3_client, sdk_config};
pub use secrets::{ManagedSecret, SECRET_CACHE, is_webhook_url, slack_app, slack_webhook_secret};

/// How long the URL of a large export works.
pub const EXPORT_URL_LIFETIME: Duration = Duration::from_mins(15);

/// The data bucket named by `env`.
pub fn bucket(env: &AwsEnv, sdk: &SdkConfig) -> S3Store {
    S3Store::new(s3_client(sdk), &env.bucket)
}

/// The resource table named by `env`.
pub fn resource_table(env: &AwsEnv, sdk: &SdkConfig) -> ResourceTable {
    ResourceTable::new(dynamo_client(sdk), &env.resource_table)
}

/// The stores of a deployed function: lists from the S3 snapshot (its binary layout, the JSON
/// one while that is missing; revalidated every
/// [`SNAPSHOT_REVALIDATE`]), keyed reads and history from the resource table, findings and
/// reports from the report table, costs from `costs.bin` (`costs.json` while that is missing
/// or does not read), exports under `exports/`,
/// sessions from the session table where the function has one.
pub fn stores(env: &AwsEnv, sdk: &SdkConfig) -> Stores {
    let (s3, dynamo) = (s3_client(sdk), dynamo_client(sdk));
    let hint = match env.sync_interval_minutes {
        Some(n) => format!("the first sync runs every {n} minutes"),
        None => "the first sync has not finished".to_owned(),
    };
    let table = Arc::new(DynamoDataService::new(resource_table(env, sdk)));
    Stores {
        fleet: Arc::new(
            S3SnapshotReader::new(s3.clone(), &env.bucket, SNAPSHOT_BINARY_KEY, SNAPSHOT_REVALIDATE)
                .with_fallback(SNAPSHOT_KEY)
                .with_first_sync_hint(hint),
        ),
        resources: table.clone(),
        history: table,
        findings: Arc::new(FindingTable::new(dynamo.clone(), &env.report_table)),
        costs: Arc::new(S3CostReader::new(s3.clone(), &env.bucket, SNAPSHOT_REVALIDATE)),
        usage: Arc::new(S3DocumentReader::<polo_core::model::UsageLedger>::new(
            s3.clone(),
            &env.bucket,
            SNAPSHOT_REVALIDATE,
        )),
        metrics: Arc::new(S3DocumentReader::<polo_core::model::MetricsDocument>::new(
            s3.clone(),
            &env.bucket,
            SNAPSHOT_REVALIDATE,
        )),
        audit: Arc::new(AuditTable::new(dynamo.clone(), &env.report_table)),
        nonces: Arc::new(NonceTable::new(dynamo.clone(), &env.report_table)),
        reports: Arc::new(ReportTable::new(dynamo, &env.report_table)),
        documents: Arc::new(bucket(env, sdk)),
        exports: Some(Arc::new(S3Exports::new(s3, &env.bucket, EXPORT_URL_LIFETIME))),
        sessions: env.session_table.as_ref().map(|table| {
            Arc::new(SessionTable::new(dynamo_client(sdk), table)) as Arc<dyn polo_core::ports::SessionStore>
        }),
        slack: slack_app(env, sdk),
    }
}
