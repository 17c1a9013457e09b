//! The cold-start program: starts a function binary, serves it one event through a Lambda
//! Runtime API on loopback and times exec to posted answer, many times, for a hello-world
//! `lambda_http` binary and for `guardpost-lambda` with a few operations against DynamoDB
//! Local; then serves 1,000 events to one warm instance and compares its memory with a cold
//! one's. `tests/coldstart.sh` builds the binaries and starts DynamoDB Local.
//!
//! ```text
//! coldstart --hello target/lambda/hello-lambda --lambda target/lambda/guardpost-lambda \
//!           --cli target/lambda/guardpost --events events --dynamodb http://127.0.0.1:8055 --runs 50
//! ```
//!
//! With `--cost N --figures FILE` it measures instead what warm instances spend per request
//! (CPU, DynamoDB calls and capacity, partitions written) over N requests of clock-in,
//! clock-out, `GET /v1/me/sites` and `GET /v1/me`, and writes the figures as JSON for
//! tests/cost.py (docs/COST.md).

mod cost;
mod function;
mod runtime;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::function::Function;

struct Args {
    hello: PathBuf,
    lambda: PathBuf,
    cli: PathBuf,
    events: PathBuf,
    dynamodb: String,
    runs: usize,
    warm: usize,
    cost: usize,
    figures: PathBuf,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        hello: "target/lambda/hello-lambda".into(),
        lambda: "target/lambda/guardpost-lambda".into(),
        cli: "target/lambda/guardpost".into(),
        events: "events".into(),
        dynamodb: "http://127.0.0.1:8055".into(),
        runs: 50,
        warm: 1000,
        cost: 0,
        figures: "docs/cost-figures.json".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--hello" => args.hello = value.into(),
            "--lambda" => args.lambda = value.into(),
            "--cli" => args.cli = value.into(),
            "--events" => args.events = value.into(),
            "--dynamodb" => args.dynamodb = value,
            "--runs" => args.runs = value.parse()?,
            "--warm" => args.warm = value.parse()?,
            "--cost" => args.cost = value.parse()?,
            "--figures" => args.figures = value.into(),
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let function = Function::prepare(&args).await?;
    if args.cost > 0 {
        return measure_cost(&function, &args).await;
    }
    let cases = function.cases();
    let mut timings: Vec<Vec<Duration>> = vec![Vec::with_capacity(args.runs); cases.len()];
    let mut peaks: Vec<u64> = vec![0; cases.len()];
    // Round robin, so that whatever else the machine does falls on every case alike.
    for _ in 0..args.runs {
        for (n, case) in cases.iter().enumerate() {
            let (took, peak_kib) = function.cold(case).await.with_context(|| format!("case {}", case.name))?;
            timings[n].push(took);
            peaks[n] = peaks[n].max(peak_kib);
        }
    }
    println!("cold start, exec to posted answer, {} runs each (interleaved):", args.runs);
    let hello_median = median(&mut timings[0].clone());
    for (n, case) in cases.iter().enumerate() {
        let mut t = timings[n].clone();
        let med = median(&mut t);
        println!(
            "  {:<34} median {:>6.2} ms  p90 {:>6.2} ms  min {:>6.2} ms  ratio {:>4.2}x  peak RSS {:>5.1} MiB",
            case.name,
            ms(med),
            ms(t[(t.len() * 9 / 10).min(t.len() - 1)]),
            ms(t[0]),
            med.as_secs_f64() / hello_median.as_secs_f64(),
            peaks[n] as f64 / 1024.0,
        );
    }
    // What start-up adds: the cold answer against the same answer from a warm instance.
    for n in [1, 2] {
        let (first, after, warm) = function.warm(&cases[n], args.warm).await?;
        let cold = median(&mut timings[n].clone());
        println!(
            "warm {}: median answer {:.2} ms, so start-up adds {:.2} ms; RSS after the 1st answer {:.1} MiB, after {} answers {:.1} MiB",
            cases[n].name,
            ms(warm),
            ms(cold.saturating_sub(warm)),
            first as f64 / 1024.0,
            args.warm,
            after as f64 / 1024.0
        );
    }
    for (label, path) in [("hello-lambda", &args.hello), ("guardpost-lambda", &args.lambda)] {
        println!("binary {label}: {:.1} MB", std::fs::metadata(path)?.len() as f64 / 1e6);
    }
    Ok(())
}

async fn measure_cost(function: &Function, args: &Args) -> anyhow::Result<()> {
    function.schedule_the_administrator().await?;
    let cases: Vec<_> = ["clock-in", "clock-out", "list-my-sites", "get-me"].map(|op| function.case(op)).into();
    let figures = cost::measure(function, &cases, args.cost).await?;
    println!("warm requests, {} each, per request:", args.cost);
    for (case, f) in cases.iter().zip(&figures) {
        println!(
            "  {:<14} CPU {:>6.3} ms  answer {:>6.2} ms (DynamoDB Local)  {:>4.1} DynamoDB calls  {:>5.2} RCU  {:>5.2} WCU  {} items written",
            case.operation,
            f.cpu_ms,
            f.wall_ms,
            f.calls,
            f.read_units,
            f.write_units,
            f.writes.values().map(|(n, _)| n).sum::<f64>() + 0.0,
        );
    }
    let mut json = cost::to_json(&cases, &figures);
    json["measured"] = serde_json::json!({
        "requests": args.cost,
        "machine": format!("{} cores, {}", std::thread::available_parallelism().map_or(0, usize::from), std::env::consts::ARCH),
        "date": chrono::Utc::now().date_naive().to_string(),
        "command": format!("bash tests/cost.sh {}", args.cost),
    });
    std::fs::write(&args.figures, serde_json::to_string_pretty(&json)? + "\n")?;
    println!("figures written to {}", args.figures.display());
    Ok(())
}

fn median(t: &mut [Duration]) -> Duration {
    t.sort_unstable();
    t[t.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
