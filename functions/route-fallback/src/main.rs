#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(|| async { Ok(()) }, route_fallback::handle).await
}
