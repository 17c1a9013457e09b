//! Closed loop: `connections` clients each send the next request as soon as the last one is
//! answered, for a fixed time; the most a server answers a second on one read, as wrk measures
//! it (there is no wrk in the package registries we use).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Answered requests a second, and how many were not 200.
pub async fn saturate(http: &reqwest::Client, url: &str, token: &str, connections: usize, seconds: u32) -> (f64, u64) {
    let (ok, bad) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let started = Instant::now();
    let until = started + Duration::from_secs(u64::from(seconds));
    let clients: Vec<_> = (0..connections)
        .map(|_| {
            let (http, url, token, ok, bad) = (http.clone(), url.to_owned(), token.to_owned(), ok.clone(), bad.clone());
            tokio::spawn(async move {
                while Instant::now() < until {
                    let answered = match http.get(&url).bearer_auth(&token).send().await {
                        Ok(a) if a.status() == reqwest::StatusCode::OK => a.bytes().await.is_ok(),
                        _ => false,
                    };
                    let counter = if answered { &ok } else { &bad };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for client in clients {
        let _ = client.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    (ok.load(Ordering::Relaxed) as f64 / elapsed, bad.load(Ordering::Relaxed))
}
