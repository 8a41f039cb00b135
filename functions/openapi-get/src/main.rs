#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(|| async { Ok(()) }, openapi_get::handle).await
}
