//! Sending the mix on a fixed schedule and recording what came back.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::Value;

use crate::Args;
use crate::setup::World;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// `GET /v1/me/sites` as a guard.
    MySites,
    /// `GET /v1/sites` as the administrator.
    Sites,
}

impl Read {
    pub fn parse(s: &str) -> anyhow::Result<Self> {
        match s {
            "me-sites" => Ok(Self::MySites),
            "sites" => Ok(Self::Sites),
            other => bail!("--reads takes me-sites and sites, not {other}"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::MySites => "GET /v1/me/sites",
            Self::Sites => "GET /v1/sites",
        }
    }
}

/// Requests beyond this many unanswered are not sent (counted as dropped): the server has
/// fallen too far behind for the rate to mean anything.
const MAX_IN_FLIGHT: usize = 4096;

/// A guard waiting for their next write: who, and the entry they are clocked in on, if any.
type Idle = (usize, Option<String>);

#[derive(Debug, Default)]
pub struct Outcome {
    pub elapsed: Duration,
    pub sent: usize,
    /// Latencies in microseconds, from the instant each request was due, per kind.
    pub latencies: BTreeMap<&'static str, Vec<u64>>,
    /// Answers per kind and status.
    pub statuses: BTreeMap<(&'static str, u16), usize>,
    /// Transport failures and timeouts per kind.
    pub failures: BTreeMap<&'static str, usize>,
    /// Writes not sent because every guard was busy, and requests not sent past the cap.
    pub no_free_guard: usize,
    pub dropped: usize,
    /// (site, entry) of every accepted clock-in, and of every accepted clock-out.
    pub clock_ins: Vec<(String, String)>,
    pub clock_outs: Vec<(String, String)>,
}

impl Outcome {
    fn record(&mut self, kind: &'static str, due: Instant, status: Option<u16>) {
        self.latencies.entry(kind).or_default().push(due.elapsed().as_micros() as u64);
        match status {
            Some(s) => *self.statuses.entry((kind, s)).or_default() += 1,
            None => *self.failures.entry(kind).or_default() += 1,
        }
    }

    pub fn report(&self, server_cpu: Option<f64>) {
        let answered: usize = self.statuses.values().sum();
        let ok: usize = self.statuses.iter().filter(|((_, s), _)| (200..300).contains(s)).map(|(_, n)| n).sum();
        let writes_ok = self.clock_ins.len() + self.clock_outs.len();
        let secs = self.elapsed.as_secs_f64();
        println!(
            "sent {} in {secs:.1} s: {:.0} answered/s, {:.0} successful writes/s; {} not 2xx, {} transport failures, {} dropped, {} writes without a free guard",
            self.sent,
            answered as f64 / secs,
            writes_ok as f64 / secs,
            answered - ok,
            self.failures.values().sum::<usize>(),
            self.dropped,
            self.no_free_guard,
        );
        for (kind, lat) in &self.latencies {
            let mut sorted = lat.clone();
            sorted.sort_unstable();
            let at = |q: f64| sorted.get(((sorted.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(0);
            let ms = |us: u64| us as f64 / 1000.0;
            println!(
                "  {kind:<28} n={:<7} p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms",
                sorted.len(),
                ms(at(0.5)),
                ms(at(0.99)),
                ms(sorted.last().copied().unwrap_or(0))
            );
        }
        let odd: Vec<String> = self
            .statuses
            .iter()
            .filter(|((_, s), _)| !(200..300).contains(s))
            .map(|((k, s), n)| format!("{k} {s} x{n}"))
            .collect();
        if !odd.is_empty() {
            println!("  not 2xx: {}", odd.join(", "));
        }
        if let Some(cpu) = server_cpu {
            println!("  server CPU: {:.0}% of one core", cpu * 100.0);
        }
    }
}

pub async fn run(http: &reqwest::Client, args: &Args, world: &World) -> Outcome {
    let world = Arc::new(world.clone());
    let idle: Arc<Mutex<VecDeque<Idle>>> = Arc::new(Mutex::new((0..world.guards.len()).map(|g| (g, None)).collect()));
    let outcome = Arc::new(Mutex::new(Outcome::default()));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let total = u64::from(args.rate) * u64::from(args.seconds);
    let interval = Duration::from_secs_f64(1.0 / f64::from(args.rate));
    let run_id = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    let mut reads = args.reads.iter().cycle();
    for k in 0..total {
        let due = start + interval.mul_f64(k as f64);
        tokio::time::sleep_until(due.into()).await;
        if in_flight.load(Ordering::Relaxed) >= MAX_IN_FLIGHT {
            lock(&outcome).dropped += 1;
            continue;
        }
        let (http, world, outcome, in_flight) = (http.clone(), world.clone(), outcome.clone(), in_flight.clone());
        if k % 4 == 3 {
            let read = *reads.next().unwrap_or(&Read::MySites);
            in_flight.fetch_add(1, Ordering::Relaxed);
            tasks.push(tokio::spawn(async move {
                let request = match read {
                    Read::MySites => {
                        let guard = &world.guards[(k as usize / 4) % world.guards.len()];
                        http.get(format!("{}/v1/me/sites", world.url)).bearer_auth(&guard.token)
                    }
                    Read::Sites => http.get(format!("{}/v1/sites", world.url)).bearer_auth(&world.admin),
                };
                let status = request.send().await.ok().map(|r| r.status().as_u16());
                lock(&outcome).record(read.name(), due, status);
                in_flight.fetch_sub(1, Ordering::Relaxed);
            }));
        } else {
            let Some((g, open)) = lock(&idle).pop_front() else {
                lock(&outcome).no_free_guard += 1;
                continue;
            };
            let (idle, key) = (idle.clone(), args.idempotency_keys.then(|| format!("load-{run_id}-{k}")));
            in_flight.fetch_add(1, Ordering::Relaxed);
            tasks.push(tokio::spawn(async move {
                let guard = &world.guards[g];
                let (kind, path) = match open {
                    None => ("POST clock-in", "clock-in"),
                    Some(_) => ("POST clock-out", "clock-out"),
                };
                let mut request =
                    http.post(format!("{}/v1/sites/{}/{path}", world.url, guard.site)).bearer_auth(&guard.token);
                if let Some(key) = key {
                    request = request.header("idempotency-key", key);
                }
                let answer = request.send().await;
                let status = answer.as_ref().ok().map(|r| r.status().as_u16());
                let entry = match answer {
                    Ok(r) if r.status().is_success() => {
                        r.json::<Value>().await.ok().and_then(|v| v["id"].as_str().map(str::to_owned))
                    }
                    _ => None,
                };
                let next = {
                    let mut out = lock(&outcome);
                    out.record(kind, due, status);
                    match (&open, entry) {
                        (None, Some(id)) => {
                            out.clock_ins.push((guard.site.clone(), id.clone()));
                            Some(id)
                        }
                        (Some(_), Some(id)) => {
                            out.clock_outs.push((guard.site.clone(), id));
                            None
                        }
                        (_, None) => open,
                    }
                };
                lock(&idle).push_back((g, next));
                in_flight.fetch_sub(1, Ordering::Relaxed);
            }));
        }
    }
    for task in tasks {
        let _ = task.await;
    }
    let elapsed = start.elapsed();
    let mut out = std::mem::take(&mut *lock(&outcome));
    out.elapsed = elapsed;
    out.sent = total as usize - out.dropped - out.no_free_guard;
    out
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
