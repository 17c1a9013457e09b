//! The Lambda side: one function per operation, all built from this one binary; the function's
//! `GUARDPOST_OPERATION` names the operation it serves. Clients and keys are built once per cold
//! start and shared across invocations.

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use guardpost_shared::AppState;
use guardpost_shared::http::ClientIp;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

use crate::config::{Config, Signing, build_state_with};
use crate::registry;

/// The router of one operation, with the caller's address taken from the API Gateway context.
pub fn operation_app(state: AppState, operation: &str) -> anyhow::Result<Router> {
    let op = registry::find(operation)
        .ok_or_else(|| anyhow::anyhow!("GUARDPOST_OPERATION {operation:?} is not an operation"))?;
    Ok(crate::app::app(state, [op]).layer(middleware::from_fn(client_ip_from_context)))
}

async fn client_ip_from_context(mut req: Request, next: Next) -> Response {
    let ip = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        _ => None,
    };
    if let Some(ip) = ip {
        req.extensions_mut().insert(ClientIp(ip));
    }
    next.run(req).await
}

/// The operation id of the stream-triggered notifier function.
pub const NOTIFIER: &str = "notifier";

pub async fn run() -> Result<(), lambda_http::Error> {
    let config = Config::from_env()?;
    crate::cli::init_logging(true);
    let operation =
        std::env::var("GUARDPOST_OPERATION").map_err(|_| anyhow::anyhow!("GUARDPOST_OPERATION is not set"))?;
    // Health and the notifier never sign or verify a token: they get no access to the key.
    let signing = if operation == NOTIFIER || operation == "health" { Signing::Ephemeral } else { Signing::Configured };
    let state = build_state_with(&config, signing).await?;
    if operation == NOTIFIER {
        return run_notifier(&config, &state).await;
    }
    let app = operation_app(state, &operation)?;
    lambda_http::run(app).await
}

/// The notifier: DynamoDB stream batches in, partial batch failures out.
async fn run_notifier(config: &Config, state: &AppState) -> Result<(), lambda_http::Error> {
    use lambda_http::lambda_runtime::{LambdaEvent, run, service_fn};
    let notifier = std::sync::Arc::new(crate::config::build_notifier(config, state).await?);
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let notifier = notifier.clone();
        async move {
            // Leave a margin before the invocation's deadline to record outcomes and answer.
            let now_ms =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
            let left = std::time::Duration::from_millis(
                u64::try_from(u128::from(event.context.deadline).saturating_sub(now_ms)).unwrap_or(0),
            );
            let deadline = std::time::Instant::now() + left.saturating_sub(std::time::Duration::from_secs(5));
            Ok::<_, lambda_http::Error>(crate::notifier::handle(&notifier, event.payload, Some(deadline)).await?)
        }
    }))
    .await
}
