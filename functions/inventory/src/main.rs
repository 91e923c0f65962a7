/// Decoding the snapshot makes about 250,000 small allocations; mimalloc does them in
/// two thirds of the time glibc's allocator takes (docs/data.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), polo_web::lambda::Fatal> {
    let env = |name: &str| std::env::var(name).ok();
    polo_telemetry::init(env);
    let stores = polo_aws::DataEnv::from_lookup(env)?.stores().await;
    polo_web::lambda::serve(polo_inventory::routes(), stores, env).await
}
