//! What a warm function spends per request, for docs/COST.md: CPU time (from the kernel's
//! per-thread accounting), DynamoDB calls and the capacity units DynamoDB Local reports
//! (`ReturnConsumedCapacity`, logged by the store under `guardpost::capacity`), and the
//! partitions each write touched.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::function::{Case, Function};
use crate::runtime::Runtime;

/// One operation's figures, per request, over `requests` warm requests.
#[derive(Debug, Default)]
pub struct Figures {
    pub requests: usize,
    pub cpu_ms: f64,
    pub wall_ms: f64,
    pub calls: f64,
    pub read_units: f64,
    pub write_units: f64,
    /// The items written per request, by partitions (`pk|gsi1 pk|gsi2 pk` with ids replaced
    /// by `{org}`, `{site}`, `{user}`, `{id}`) and whether in a transaction: how many per
    /// request and their mean size.
    pub writes: BTreeMap<(String, bool), (f64, f64)>,
}

/// A warm instance of each case, served alternately (clock-in, clock-out, ... so that each
/// leaves the state the next needs), `n` times after one request each to warm up.
pub async fn measure(function: &Function, cases: &[Case], n: usize) -> anyhow::Result<Vec<Figures>> {
    let mut instances = Vec::new();
    for case in cases {
        let runtime = Runtime::start().await?;
        let child = function.spawn_logging_capacity(case, &runtime)?;
        instances.push((case, runtime, child));
    }
    let mut figures: Vec<Figures> = cases.iter().map(|_| Figures { requests: n, ..Figures::default() }).collect();
    let mut walls: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    let mut log_start = vec![0; cases.len()];
    let mut cpu_start = vec![0; cases.len()];
    for round in 0..=n {
        for (i, (case, runtime, child)) in instances.iter().enumerate() {
            if round == 1 {
                cpu_start[i] = cpu_ns(child.id());
                log_start[i] = std::fs::metadata(function.log_of(case))?.len();
            }
            let sent = Instant::now();
            let event = with_idempotency_key(&case.event, &format!("cost-{i}-{round}"))?;
            let answer = tokio::time::timeout(Duration::from_secs(10), runtime.invoke(event)).await??;
            let status = answer.body["statusCode"].as_u64().unwrap_or(0);
            if answer.error || !(200..300).contains(&status) {
                bail!("{} answered {}", case.name, answer.body);
            }
            if round > 0 {
                walls[i].push(answer.at - sent);
            }
        }
    }
    for (i, (case, _, child)) in instances.iter_mut().enumerate() {
        let spent = cpu_ns(child.id()).saturating_sub(cpu_start[i]);
        let _ = child.kill();
        let _ = child.wait();
        let f = &mut figures[i];
        f.cpu_ms = spent as f64 / 1e6 / n as f64;
        walls[i].sort_unstable();
        f.wall_ms = walls[i][walls[i].len() / 2].as_secs_f64() * 1000.0;
        let log = std::fs::read(function.log_of(case))?;
        let lines = String::from_utf8_lossy(&log[usize::try_from(log_start[i])?..]).into_owned();
        read_log(&lines, f)?;
        f.calls /= n as f64;
        f.read_units /= n as f64;
        f.write_units /= n as f64;
        for (count, bytes) in f.writes.values_mut() {
            *bytes /= *count;
            *count /= n as f64;
        }
    }
    Ok(figures)
}

fn read_log(lines: &str, f: &mut Figures) -> anyhow::Result<()> {
    for line in lines.lines().filter(|l| l.contains("guardpost::capacity")) {
        let entry: Value = serde_json::from_str(line).with_context(|| format!("a log line: {line}"))?;
        let fields = &entry["fields"];
        match fields["message"].as_str() {
            Some("capacity consumed") => {
                let units = fields["units"].as_f64().unwrap_or(0.0);
                f.calls += 1.0;
                match fields["call"].as_str() {
                    Some("GetItem" | "BatchGetItem" | "Query") => f.read_units += units,
                    _ => f.write_units += units,
                }
            }
            Some("partitions written") => {
                let transaction = fields["transaction"].as_bool().unwrap_or(false);
                for written in fields["writes"].as_str().unwrap_or_default().split(' ') {
                    let (partitions, bytes) = written.rsplit_once('|').context("a written item without its size")?;
                    let entry = f.writes.entry((anonymise(partitions), transaction)).or_default();
                    entry.0 += 1.0;
                    entry.1 += bytes.parse::<f64>()?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// `T#01J..#USER#01J..|T#01J..#SITE#01J..#TIME|` -> `T#{org}#USER#{user}|T#{org}#SITE#{site}#TIME|`:
/// a segment after `T`, `USER` or `SITE` is that id, any other long one an id of its own.
fn anonymise(partitions: &str) -> String {
    let one = |pk: &str| {
        let segments: Vec<&str> = pk.split('#').collect();
        let named: Vec<String> = segments
            .iter()
            .enumerate()
            .map(|(i, s)| match (i.checked_sub(1).map(|p| segments[p]), s.len()) {
                (Some("T"), _) => "{org}".to_owned(),
                (Some("USER"), _) => "{user}".to_owned(),
                (Some("SITE"), _) => "{site}".to_owned(),
                (_, n) if n >= 16 => "{id}".to_owned(),
                _ => (*s).to_owned(),
            })
            .collect();
        named.join("#")
    };
    partitions.split('|').map(one).collect::<Vec<_>>().join("|")
}

/// The event with an `Idempotency-Key` header, as the mobile app sends on every write.
fn with_idempotency_key(event: &str, key: &str) -> anyhow::Result<String> {
    let mut event: Value = serde_json::from_str(event)?;
    if event["requestContext"]["http"]["method"] != "GET" {
        event["headers"]["idempotency-key"] = json!(key);
    }
    Ok(event.to_string())
}

/// CPU time of every thread of a live process so far (ns), from /proc/<pid>/task/*/schedstat.
fn cpu_ns(pid: u32) -> u64 {
    let tasks = Path::new("/proc").join(pid.to_string()).join("task");
    std::fs::read_dir(tasks)
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
                .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0)
}

/// The figures as JSON, for tests/cost.py.
pub fn to_json(cases: &[Case], figures: &[Figures]) -> Value {
    let ops: BTreeMap<&str, Value> = cases
        .iter()
        .zip(figures)
        .map(|(case, f)| {
            (
                case.operation.as_str(),
                json!({
                    "requests": f.requests,
                    "cpu_ms": round(f.cpu_ms),
                    "wall_ms_on_dynamodb_local": round(f.wall_ms),
                    "dynamodb_calls": round(f.calls),
                    "read_units": round(f.read_units),
                    "write_units": round(f.write_units),
                    "writes": f.writes.iter().map(|((partitions, transaction), (per_request, bytes))| json!({
                        "partitions": partitions,
                        "transaction": transaction,
                        "per_request": round(*per_request),
                        "bytes": bytes.round(),
                    })).collect::<Vec<_>>(),
                }),
            )
        })
        .collect();
    json!({ "operations": ops })
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
