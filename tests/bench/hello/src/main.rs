//! A hello-world `lambda_http` function: what a cold start costs before any work of ours.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::run(lambda_http::service_fn(|_: lambda_http::Request| async {
        lambda_http::Response::builder()
            .status(200)
            .header("content-type", "text/plain")
            .body(lambda_http::Body::from("hello"))
            .map_err(lambda_http::Error::from)
    }))
    .await
}
