use polo_web::config::FunctionConfig;
use polo_web::routes::{finish, pages};

#[tokio::main]
async fn main() -> Result<(), polo_web::lambda::Fatal> {
    polo_web::lambda::init_json_logs();
    let config = FunctionConfig::from_env()?;
    let state = config.into_state().await?;
    Ok(polo_web::lambda::run(finish(pages(polo_reports::router(), state)), config.metrics).await?)
}
