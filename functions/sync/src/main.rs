use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use polo_core::SystemClock;
use polo_core::config::Config;
use polo_core::data::ResourceTable;
use polo_core::store::{S3Store, s3_client};
use polo_sync::{Env, State, handle};

/// Decoding the snapshot makes about 250,000 small allocations; mimalloc does them in
/// two thirds of the time glibc's allocator takes (docs/data.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), polo_web::lambda::Fatal> {
    polo_web::lambda::init_json_logs();
    let env = Env::from_lookup(|name| std::env::var(name).ok())?;
    let config = Config::load(env.polo_config.as_deref())?;
    let sdk = polo_sync_engine::base_config().await;
    let costs_source = if let Some(arn) = &env.core_role_arn {
        Some(polo_sync::assume(&sdk, arn).await)
    } else {
        tracing::warn!("CORE_ROLE_ARN is not set: Cost Explorer is not asked");
        None
    };
    let state = Arc::new(State {
        costs_source,
        store: Arc::new(S3Store::new(s3_client(&sdk), &env.bucket)),
        table: ResourceTable::new(aws_sdk_dynamodb::Client::new(&sdk), &env.table),
        config,
        sdk,
        clock: Arc::new(SystemClock),
    });
    let service = std::env::var("POWERTOOLS_SERVICE_NAME").unwrap_or_else(|_| "polo-sync".to_owned());
    let runtime = lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| {
        let state = Arc::clone(&state);
        async move { Box::pin(handle(&state, event.payload)).await.map_err(Error::from) }
    }));
    Ok(polo_web::lambda::in_service(&service, runtime).await?)
}
