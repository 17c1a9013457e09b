//! A minimal AWS Lambda Runtime API on loopback: it hands each queued event to the function
//! process that asks for the next invocation, and notes the instant its answer arrives.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tokio::sync::{Notify, oneshot};

/// A function's answer to one event.
#[derive(Debug)]
pub struct Answer {
    pub at: Instant,
    /// The response document (for `lambda_http`, the API Gateway response), or the error.
    pub body: serde_json::Value,
    pub error: bool,
}

#[derive(Default)]
struct Shared {
    pending: Mutex<VecDeque<(String, String)>>,
    arrived: Notify,
    waiting: Mutex<HashMap<String, oneshot::Sender<Answer>>>,
    next_id: Mutex<u64>,
}

/// One per function process: a process killed while it waits for its next event leaves that
/// request pending, and it must not take the next process's event.
pub struct Runtime {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Runtime {
    pub async fn start() -> anyhow::Result<Self> {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, server })
    }

    /// Queues an event for the next `next` call; the receiver gets the function's answer.
    pub fn invoke(&self, event: String) -> oneshot::Receiver<Answer> {
        let id = {
            let mut n = lock(&self.shared.next_id);
            *n += 1;
            format!("bench-{n}")
        };
        let (tx, rx) = oneshot::channel();
        lock(&self.shared.waiting).insert(id.clone(), tx);
        lock(&self.shared.pending).push_back((id, event));
        self.shared.arrived.notify_one();
        rx
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    loop {
        let arrived = shared.arrived.notified();
        if let Some((id, event)) = lock(&shared.pending).pop_front() {
            let mut headers = HeaderMap::new();
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() + 30_000)
                .unwrap_or(0);
            let value = |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static("x"));
            headers.insert("lambda-runtime-aws-request-id", value(&id));
            headers.insert("lambda-runtime-deadline-ms", value(&deadline.to_string()));
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:bench"),
            );
            headers.insert(
                "lambda-runtime-trace-id",
                HeaderValue::from_static("Root=1-00000000-000000000000000000000000"),
            );
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            return (StatusCode::OK, headers, event);
        }
        arrived.await;
    }
}

async fn response(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    answer(&shared, &id, &body, false)
}

async fn error(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    answer(&shared, &id, &body, true)
}

async fn init_error(body: Bytes) -> StatusCode {
    eprintln!("function failed to start: {}", String::from_utf8_lossy(&body));
    StatusCode::ACCEPTED
}

fn answer(shared: &Shared, id: &str, body: &[u8], error: bool) -> StatusCode {
    let at = Instant::now();
    let body = serde_json::from_slice(body)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(body).into()));
    if let Some(tx) = lock(&shared.waiting).remove(id) {
        let _ = tx.send(Answer { at, body, error });
    }
    StatusCode::ACCEPTED
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
