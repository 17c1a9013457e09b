//! AWS Lambda entry point: serves the operation named by `GUARDPOST_OPERATION`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    guardpost::lambda::run().await
}
