use polo_web::metrics::Metrics;
use polo_web::routes::finish;

#[tokio::main]
async fn main() -> Result<(), polo_web::lambda::Fatal> {
    polo_web::lambda::init_json_logs();
    let metrics = Metrics {
        namespace: std::env::var("POWERTOOLS_METRICS_NAMESPACE").unwrap_or_else(|_| "Polo".to_owned()),
        service: std::env::var("POWERTOOLS_SERVICE_NAME").unwrap_or_else(|_| "polo-static".to_owned()),
    };
    Ok(polo_web::lambda::run(finish(polo_static::router()), metrics).await?)
}
