use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use polo_core::SystemClock;
use polo_core::config::Config;
use polo_sync::{Outcome, State, handle};
use polo_telemetry::emf::Emitter;

/// Decoding the snapshot makes about 250,000 small allocations; mimalloc does them in
/// two thirds of the time glibc's allocator takes (docs/data.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), polo_lambda::Fatal> {
    let env = |name: &str| std::env::var(name).ok();
    polo_telemetry::init(env);
    let aws = polo_aws::AwsEnv::from_lookup(env)?;
    let state =
        State::new(&aws, polo_aws::sdk_config().await, Config::from_lookup(env)?, Arc::new(SystemClock));
    let state = Arc::new(state.await);
    let metrics = Arc::new(Emitter::from_lookup(env, "polo-sync"));
    let service = metrics.service.clone();
    let runtime = lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| {
        let (state, metrics) = (Arc::clone(&state), Arc::clone(&metrics));
        async move {
            let budget = polo_lambda::time_left(event.context.deadline, polo_lambda::FINISHING_MARGIN);
            let job = Box::pin(handle(&state, event.payload, budget));
            polo_lambda::measured(&metrics, job, Outcome::metric_sets).await.map_err(Error::from)
        }
    }));
    Ok(polo_lambda::in_service(&service, runtime).await?)
}
