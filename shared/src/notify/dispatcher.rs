//! The sweep: delivers every organisation's due outbox items through [`deliver`]. The local
//! server runs it every second ([`spawn`]); on AWS the notifier function runs it every minute
//! (the table's stream delivers new items at once; the sweep takes retries and stale claims).
//!
//! It reads the due index (GSI1: `OUTBOX#DUE#{shard}`, oldest first), which holds every
//! organisation's waiting messages, so the oldest due messages are reached first whichever
//! organisation they belong to, and it stops at its deadline: what it did not reach is still
//! due for the next run, and nothing is left claimed by a sweep that stopped in time.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use futures::StreamExt;

use super::deliver::{Notifier, deliver};
use super::{DUE_SHARDS, due_shard, outbox_org};
use crate::records::sort_time;
use crate::store::{Cursor, Item, Query, StoreError};

/// Messages delivered at once by one sweep. A delivery is three store calls and a send, about
/// 55 ms on AWS, so one sweep delivers about CONCURRENCY / 0.055 messages a second: with 16,
/// a backlog of 10,000 organisations with 10 messages each took 7 invocations (tests/sweep.sh,
/// docs/BENCHMARKS.md, "The sweep over a backlog"); the goal is all reached within 5 minutes.
/// The sends are I/O: 64 at once cost one function instance nothing more. The account's SES
/// sending rate must allow it (a throttled send is retried with backoff like any other
/// temporary failure).
pub const CONCURRENCY: usize = 64;
/// Due items read per shard and page.
const PAGE: u32 = 100;
/// Rounds over the shards in one run at most.
const MAX_ROUNDS: usize = 100;

/// Delivers what is due now, oldest first across all organisations, until nothing due is left
/// or `deadline` passes. Answers how many items were looked at. One item's trouble is logged
/// and does not hold up the others.
pub async fn run_once(n: &Notifier, deadline: Option<Instant>) -> Result<usize, StoreError> {
    let now = n.clock.now();
    let until = format!("{}~", sort_time(now));
    let mut seen = 0;
    // Round after round: the next page of every shard still holding due items, merged oldest
    // first. Each shard is read on from where its last page ended, so an item that stays due
    // (its delivery failed) is met once per run.
    let mut open: Vec<(u32, Option<Cursor>)> = (0..DUE_SHARDS).map(|shard| (shard, None)).collect();
    for _ in 0..MAX_ROUNDS {
        if open.is_empty() || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let reads = open.into_iter().map(|(shard, cursor)| {
            let query = Query::gsi1(due_shard(shard)).between("", until.clone()).limit(PAGE).after(cursor);
            async move { (shard, n.store.query(&query).await) }
        });
        let mut items = Vec::new();
        let mut next = Vec::new();
        for (shard, page) in futures::future::join_all(reads).await {
            match page {
                Ok(page) => {
                    if page.cursor.is_some() {
                        next.push((shard, page.cursor));
                    }
                    items.extend(page.items);
                }
                // One shard's trouble does not hold up the others; the next run reads it again.
                Err(e) => tracing::error!(shard, error = %e, "reading the outbox's due index failed"),
            }
        }
        items.sort_by(|a, b| due_of(a).cmp(due_of(b)));
        let delivered = deliver_all(n, items, deadline).await;
        seen += delivered;
        // Nothing looked at (every item claimed elsewhere, or the deadline): stop here rather
        // than read the same pages again.
        if delivered == 0 {
            break;
        }
        open = next;
    }
    Ok(seen)
}

/// When an item of the due index is due (its GSI1 sort key starts with the time).
fn due_of(item: &Item) -> &str {
    item.gsi1.as_ref().map_or("", |k| k.sk.as_str())
}

/// Delivers `items`, [`CONCURRENCY`] at a time, none started after `deadline`; answers how many
/// were looked at.
async fn deliver_all(n: &Notifier, items: Vec<Item>, deadline: Option<Instant>) -> usize {
    futures::stream::iter(items)
        .filter(|_| std::future::ready(deadline.is_none_or(|d| Instant::now() < d)))
        .map(|item| async move {
            let result = match outbox_org(&item.key.pk) {
                Some(org) => deliver(n, &org, &item.key.sk).await.map(|_| ()),
                None => Err(StoreError::Corrupt(format!("outbox item outside an organisation: {}", item.key.pk))),
            };
            if let Err(e) = result {
                tracing::error!(item = %item.key.sk, error = %e, "delivering an outbox item failed");
            }
        })
        .buffer_unordered(CONCURRENCY)
        .count()
        .await
}

/// Runs [`run_once`] every `every`, for as long as the process lives.
pub fn spawn(n: Arc<Notifier>, every: StdDuration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = run_once(&n, None).await {
                tracing::error!(error = %e, "outbox dispatch failed; will try again");
            }
            tokio::time::sleep(every).await;
        }
    })
}
