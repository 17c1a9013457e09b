//! The sweep simulation: do the notifier's sweeps reach every organisation's due messages, and
//! how soon, when thousands of organisations each have a backlog?
//!
//! ```text
//! sweep [--orgs 10000] [--per-org 10] [--store-ms 5] [--send-ms 40] [--every 60] [--timeout 60]
//!       [--goal 300] [--limit 900] [--dir PATH]
//! ```
//!
//! It puts `orgs` x `per-org` due emails in the outbox of a real SQLite store (each organisation
//! its own partition, as in production), then sweeps them as the deployed notifier does: the
//! sweep function (`dispatcher::run_once`, the code the notifier Lambda and `guardpost serve`
//! run) is invoked every `every` seconds, as EventBridge Scheduler does, each with the
//! invocation's deadline less the handler's 5 s margin (`timeout` seconds per invocation). Every
//! store call waits `store-ms` first and every send `send-ms` (a DynamoDB round trip and an
//! SES `SendEmail`), around the real store and the real local mailbox. It stops when every
//! message is sent or after `limit` seconds, and prints when each invocation ran, what it
//! reached, and the times at which the last organisation was first reached and fully sent,
//! with any message sent twice. It fails when an organisation was not fully served, was sent a
//! message twice, or was served after `goal` seconds. `tests/sweep.sh` builds and runs it.

mod slow;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Utc;
use guardpost_shared::clock::{OsRandom, SystemClock};
use guardpost_shared::domain::OrgSlug;
use guardpost_shared::notify::deliver::{Notifier, NotifySettings};
use guardpost_shared::notify::mailbox::LocalMailbox;
use guardpost_shared::notify::{Message, dispatcher, enqueue};
use guardpost_shared::store::sqlite::SqliteStore;
use guardpost_shared::store::{MAX_TRANSACT_OPS, Store};

use self::slow::{Reached, SlowMailer, SlowStore};

/// The notifier handler's margin before its invocation's deadline (functions/src/lambda.rs).
const HANDLER_MARGIN: Duration = Duration::from_secs(5);

struct Args {
    orgs: usize,
    per_org: usize,
    store_ms: u64,
    send_ms: u64,
    every: u64,
    timeout: u64,
    goal: u64,
    limit: u64,
    dir: Option<std::path::PathBuf>,
}

fn args() -> anyhow::Result<Args> {
    let mut args = Args {
        orgs: 10_000,
        per_org: 10,
        store_ms: 5,
        send_ms: 40,
        every: 60,
        timeout: 60,
        goal: 300,
        limit: 900,
        dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        let number = || value.parse::<u64>().with_context(|| format!("{flag} {value}: not a number"));
        match flag.as_str() {
            "--orgs" => args.orgs = usize::try_from(number()?)?,
            "--per-org" => args.per_org = usize::try_from(number()?)?,
            "--store-ms" => args.store_ms = number()?,
            "--send-ms" => args.send_ms = number()?,
            "--every" => args.every = number()?,
            "--timeout" => args.timeout = number()?,
            "--goal" => args.goal = number()?,
            "--limit" => args.limit = number()?,
            "--dir" => args.dir = Some(value.into()),
            other => bail!("unknown flag {other}"),
        }
    }
    if args.timeout <= HANDLER_MARGIN.as_secs() {
        bail!("--timeout must be more than the handler's margin of {} s", HANDLER_MARGIN.as_secs());
    }
    Ok(args)
}

fn org(n: usize) -> anyhow::Result<OrgSlug> {
    OrgSlug::parse(&format!("sim-{n:05}")).map_err(|e| anyhow::anyhow!("organisation slug: {e:?}"))
}

/// Puts every message in its organisation's outbox, due now (not delayed: this is set-up).
async fn seed(store: &dyn Store, args: &Args) -> anyhow::Result<()> {
    let now = Utc::now() - chrono::Duration::seconds(1);
    let mut ops = Vec::new();
    for n in 0..args.orgs {
        let org = org(n)?;
        for m in 0..args.per_org {
            let message = Message::Email {
                to: format!("ops@{org}.example"),
                subject: format!("Backlog message {m}"),
                text: "A message that waited for the sweep.".into(),
            };
            ops.push(enqueue(&org, ulid::Ulid::new().to_string(), message, now).map_err(|e| anyhow::anyhow!("{e}"))?);
            if ops.len() == MAX_TRANSACT_OPS {
                store.transact(std::mem::take(&mut ops)).await?;
            }
        }
    }
    if !ops.is_empty() {
        store.transact(ops).await?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let temp = tempfile::tempdir()?;
    let dir = args.dir.clone().unwrap_or_else(|| temp.path().to_owned());
    std::fs::create_dir_all(&dir)?;
    let clock = Arc::new(SystemClock);
    let sqlite: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.join("sweep.db"), clock.clone())?);
    let total = args.orgs * args.per_org;
    let seeding = Instant::now();
    seed(sqlite.as_ref(), &args).await?;
    println!(
        "{total} due emails in {} organisations, seeded in {:.1} s; every store call +{} ms, every send +{} ms; \
         a sweep every {} s, each with {} s before its deadline",
        args.orgs,
        seeding.elapsed().as_secs_f64(),
        args.store_ms,
        args.send_ms,
        args.every,
        args.timeout - HANDLER_MARGIN.as_secs()
    );

    let reached = Arc::new(Mutex::new(Reached::default()));
    let start = Instant::now();
    let notifier = Notifier {
        store: Arc::new(SlowStore { inner: sqlite, delay: Duration::from_millis(args.store_ms) }),
        clock,
        random: Arc::new(OsRandom),
        mailer: Arc::new(SlowMailer {
            inner: LocalMailbox::new(dir.join("mailbox"), "guardpost@sim.example"),
            delay: Duration::from_millis(args.send_ms),
            reached: reached.clone(),
            start,
        }),
        sms: Arc::new(guardpost_shared::notify::mailbox::MailboxSms(LocalMailbox::new(
            dir.join("mailbox"),
            "guardpost@sim.example",
        ))),
        settings: NotifySettings::default(),
    };

    let mut invocation = 0u64;
    loop {
        let invoked = start + Duration::from_secs(args.every * invocation);
        tokio::time::sleep_until(invoked.into()).await;
        let deadline = invoked + Duration::from_secs(args.timeout) - HANDLER_MARGIN;
        let looked_at = dispatcher::run_once(&notifier, Some(deadline)).await?;
        let sent = reached.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.sent;
        println!(
            "invocation {invocation} at {:>4} s: looked at {looked_at:>6}, ended at {:>6.1} s; {sent}/{total} sent",
            args.every * invocation,
            start.elapsed().as_secs_f64()
        );
        if sent >= total || start.elapsed() >= Duration::from_secs(args.limit) {
            break;
        }
        invocation += 1;
    }
    let reached = reached.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    report(&reached, &args, total)
}

fn report(reached: &Reached, args: &Args, total: usize) -> anyhow::Result<()> {
    let per_org: &HashMap<String, slow::OrgReach> = &reached.orgs;
    let first_reached_last = per_org.values().map(|o| o.first).max().unwrap_or_default();
    let fully_sent_last =
        per_org.values().filter(|o| o.count >= args.per_org).map(|o| o.last).max().unwrap_or_default();
    let complete = per_org.values().filter(|o| o.count >= args.per_org).count();
    let twice: usize = per_org.values().map(|o| o.count.saturating_sub(args.per_org)).sum();
    println!(
        "organisations reached: {}/{}; all their messages sent: {complete}/{}",
        per_org.len(),
        args.orgs,
        args.orgs
    );
    println!("the last organisation was first reached at {:.1} s", first_reached_last.as_secs_f64());
    println!("the last organisation had all its messages sent at {:.1} s", fully_sent_last.as_secs_f64());
    println!("emails sent: {} of {total}; sent more than once: {twice}", reached.sent);
    if complete < args.orgs || twice > 0 {
        bail!("not every organisation was fully served exactly once");
    }
    if fully_sent_last > Duration::from_secs(args.goal) {
        bail!("the last organisation was served after the goal of {} s", args.goal);
    }
    println!("every organisation fully served within the goal of {} s", args.goal);
    Ok(())
}
