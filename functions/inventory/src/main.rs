use polo_web::config::FunctionConfig;
use polo_web::routes::{finish, pages};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    polo_web::lambda::init_json_logs();
    let state = FunctionConfig::from_env()?.into_state().await?;
    polo_web::lambda::run(finish(pages(polo_inventory::router(), state))).await
}
