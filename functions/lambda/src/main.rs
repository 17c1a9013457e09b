//! AWS Lambda entry point: serves the operation named by `GUARDPOST_OPERATION`.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    guardpost::lambda::run().await
}
