use polo_web::app::Metrics;
use polo_web::routes::finish;

#[tokio::main]
async fn main() -> Result<(), polo_web::lambda::Fatal> {
    polo_telemetry::init(|name| std::env::var(name).ok());
    let metrics = Metrics::from_lookup(|name| std::env::var(name).ok(), "polo-static");
    Ok(polo_web::lambda::run(finish(polo_static::routes().into_stateless_router()), metrics).await?)
}
