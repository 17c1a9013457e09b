//! AWS Lambda entry point: serves the operation named by `GUARDPOST_OPERATION`.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One thread: an instance serves one request at a time, so worker threads would only add
/// wake-ups between threads (a third of a warm request's CPU went to the kernel's scheduler
/// with tokio's default multi-threaded runtime; docs/BENCHMARKS.md). Password hashing still
/// runs on tokio's blocking pool.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    guardpost::lambda::run().await
}
