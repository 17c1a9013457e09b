//! The load program: a constant-rate mix of clock-ins, clock-outs and reads against a running
//! guardpost, for a bounded time, on loopback; then a check that no accepted write was lost.
//!
//! ```text
//! load --url http://127.0.0.1:8080 --org demo --password-file .guardpost/demo-admin-password \
//!      --rate 1600 --seconds 60 [--guards 1000] [--sites 20] [--reads me-sites,sites]
//!      [--no-idempotency-keys] [--unplanned] [--server-pid PID]
//! load ... --saturate /health,/v1/me,/v1/sites --connections 16 --seconds 10
//! ```
//!
//! With `--saturate`, after the same set-up it measures instead, path by path, the most the
//! server answers a second with `--connections` clients in a closed loop (as the
//! administrator), and writes nothing.
//!
//! Requests are sent on a fixed schedule whatever the answers (open loop), and each latency is
//! measured from the instant the request was due, so a server that falls behind shows it in
//! the percentiles instead of slowing the load down. `tests/load.sh` builds and starts a fresh
//! server and runs this against it.

mod drive;
mod saturate;
mod setup;
mod verify;

use std::time::Duration;

use anyhow::{Context, bail};

#[derive(Clone, Debug)]
pub struct Args {
    pub url: String,
    pub org: String,
    pub login: String,
    pub password: String,
    /// Requests per second, all kinds together.
    pub rate: u32,
    pub seconds: u32,
    pub guards: usize,
    pub sites: usize,
    /// Every fourth request is a read; reads take these in turn.
    pub reads: Vec<drive::Read>,
    pub idempotency_keys: bool,
    /// No shifts scheduled: every clock-in makes an unplanned shift and alerts the managers.
    pub unplanned: bool,
    pub server_pid: Option<u32>,
    /// Paths to saturate in a closed loop instead of the open-loop mix.
    pub saturate: Vec<String>,
    pub connections: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        url: "http://127.0.0.1:8080".into(),
        org: "demo".into(),
        login: "admin@demo.example".into(),
        password: String::new(),
        rate: 400,
        seconds: 60,
        guards: 400,
        sites: 20,
        reads: vec![drive::Read::MySites],
        idempotency_keys: true,
        unplanned: false,
        server_pid: None,
        saturate: Vec::new(),
        connections: 16,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--no-idempotency-keys" {
            args.idempotency_keys = false;
            continue;
        }
        if flag == "--unplanned" {
            args.unplanned = true;
            continue;
        }
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => args.url = value,
            "--org" => args.org = value,
            "--login" => args.login = value,
            "--password-file" => {
                args.password = std::fs::read_to_string(&value).with_context(|| format!("reading {value}"))?;
                args.password = args.password.trim().to_owned();
            }
            "--rate" => args.rate = value.parse()?,
            "--seconds" => args.seconds = value.parse()?,
            "--guards" => args.guards = value.parse()?,
            "--sites" => args.sites = value.parse()?,
            "--server-pid" => args.server_pid = Some(value.parse()?),
            "--saturate" => args.saturate = value.split(',').map(str::to_owned).collect(),
            "--connections" => args.connections = value.parse()?,
            "--reads" => args.reads = value.split(',').map(drive::Read::parse).collect::<anyhow::Result<_>>()?,
            other => bail!("unknown flag {other}"),
        }
    }
    if args.password.is_empty() {
        args.password =
            std::env::var("GUARDPOST_ADMIN_PASSWORD").context("--password-file or GUARDPOST_ADMIN_PASSWORD")?;
    }
    if args.rate == 0 || args.seconds == 0 || args.guards == 0 || args.sites == 0 {
        bail!("--rate, --seconds, --guards and --sites must be positive");
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;

    let http = reqwest::Client::builder().pool_max_idle_per_host(1024).timeout(Duration::from_secs(30)).build()?;
    let world = setup::World::make(&http, &args).await?;
    println!(
        "set up: {} guards at {} sites ({}); {} req/s for {} s, 3 writes to 1 read ({}), idempotency keys {}",
        world.guards.len(),
        world.sites.len(),
        if args.unplanned { "no shifts: every clock-in unplanned" } else { "each on an 8-hour shift" },
        args.rate,
        args.seconds,
        args.reads.iter().map(|r| r.name()).collect::<Vec<_>>().join(", "),
        if args.idempotency_keys { "on" } else { "off" },
    );
    if !args.saturate.is_empty() {
        for path in &args.saturate {
            let url = format!("{}{path}", args.url);
            let cpu_before = args.server_pid.map(cpu_ticks).transpose()?;
            let (per_second, bad) = saturate::saturate(&http, &url, &world.admin, args.connections, args.seconds).await;
            let cpu = match (args.server_pid, cpu_before) {
                (Some(pid), Some(before)) => {
                    format!(", server CPU {:.0}%", (cpu_ticks(pid)? - before) as f64 / f64::from(args.seconds))
                }
                _ => String::new(),
            };
            println!(
                "saturate GET {path}: {per_second:.0} answered/s with {} connections, {bad} not 200{cpu}",
                args.connections
            );
        }
        return Ok(());
    }
    let cpu_before = args.server_pid.map(cpu_ticks).transpose()?;
    let outcome = drive::run(&http, &args, &world).await;
    let cpu = match (args.server_pid, cpu_before) {
        (Some(pid), Some(before)) => Some((cpu_ticks(pid)? - before) as f64 / 100.0 / outcome.elapsed.as_secs_f64()),
        _ => None,
    };
    outcome.report(cpu);
    let lost = verify::lost_writes(&http, &args, &world, &outcome).await?;
    println!(
        "verify: {} accepted clock-ins, {} accepted clock-outs; {lost} lost",
        outcome.clock_ins.len(),
        outcome.clock_outs.len()
    );
    if lost > 0 {
        bail!("{lost} accepted writes are missing");
    }
    Ok(())
}

/// User and system CPU time of a process so far, in clock ticks (100 a second on Linux).
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).context("odd /proc stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| -> anyhow::Result<u64> { Ok(fields.get(n).context("short /proc stat")?.parse()?) };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the state field.
    Ok(field(11)? + field(12)?)
}
