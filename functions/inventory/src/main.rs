use polo_web::config::FunctionConfig;
use polo_web::routes::finish;

/// Decoding the snapshot makes about 250,000 small allocations; mimalloc does them in
/// two thirds of the time glibc's allocator takes (docs/data.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), polo_web::lambda::Fatal> {
    polo_telemetry::init(|name| std::env::var(name).ok());
    let stores = polo_aws::DataEnv::from_lookup(|name| std::env::var(name).ok())?.stores().await;
    let config = FunctionConfig::from_env()?;
    let state = config.into_state(stores)?;
    Ok(polo_web::lambda::run(finish(polo_inventory::routes().into_router(state)), config.metrics).await?)
}
