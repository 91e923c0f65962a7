use polo_web::routes::finish;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    polo_web::lambda::init_json_logs();
    polo_web::lambda::run(finish(polo_static::router())).await
}
