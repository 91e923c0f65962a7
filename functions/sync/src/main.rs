use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use polo_core::SystemClock;
use polo_core::config::Config;
use polo_core::data::ResourceTable;
use polo_core::store::{S3Store, s3_client};
use polo_sync::{Env, Outcome, State, handle};
use polo_telemetry::emf::Emitter;

/// Decoding the snapshot makes about 250,000 small allocations; mimalloc does them in
/// two thirds of the time glibc's allocator takes (docs/data.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), polo_lambda::Fatal> {
    polo_telemetry::init(|name| std::env::var(name).ok());
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
        table: ResourceTable::new(polo_core::store::dynamo_client(&sdk), &env.table),
        config,
        sdk,
        clock: Arc::new(SystemClock),
    });
    let metrics = Arc::new(Emitter::from_lookup(|name| std::env::var(name).ok(), "polo-sync"));
    let service = metrics.service.clone();
    let runtime = lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| {
        let (state, metrics) = (Arc::clone(&state), Arc::clone(&metrics));
        async move {
            let job = Box::pin(handle(&state, event.payload));
            polo_lambda::measured(&metrics, job, Outcome::metric_sets).await.map_err(Error::from)
        }
    }));
    Ok(polo_lambda::in_service(&service, runtime).await?)
}
