use polo_web::config::FunctionConfig;
use polo_web::routes::{finish, pages, public};

#[tokio::main]
async fn main() -> Result<(), polo_web::lambda::Fatal> {
    polo_web::lambda::init_json_logs();
    let config = FunctionConfig::from_env()?;
    let state = config.into_state().await?;
    let app = pages(polo_dashboard::router(), state.clone()).merge(public(polo_web::auth::router(), state));
    Ok(polo_web::lambda::run(finish(app), config.metrics).await?)
}
