//! The notifier function: a batch of DynamoDB stream records in, outbox items delivered, and
//! the records that could not be handled reported back (partial batch failure), so Lambda
//! retries only those (bisecting on error, then the on-failure queue). Stream delivery is at
//! least once; [`deliver`] makes a repeated record a no-op.

use std::time::{Duration as StdDuration, Instant};

use guardpost_shared::domain::OrgSlug;
use guardpost_shared::notify::deliver::{Notifier, Outcome, deliver};
use guardpost_shared::notify::{OutboxItem, Status, outbox_key};
use guardpost_shared::records::get;
use guardpost_shared::store::StoreError;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Batch {
    #[serde(default)]
    records: Vec<Record>,
}

#[derive(Debug, Deserialize)]
struct Record {
    #[serde(rename = "eventName", default)]
    event_name: String,
    dynamodb: Change,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Change {
    keys: Keys,
    #[serde(default)]
    sequence_number: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Keys {
    #[serde(rename = "PK")]
    pk: S,
    #[serde(rename = "SK")]
    sk: S,
}

#[derive(Debug, Deserialize)]
struct S {
    #[serde(rename = "S")]
    s: String,
}

/// How long one record may wait for its retries inside one invocation (the function's timeout
/// is 60 s; the default backoff of 5 attempts waits 2 + 4 + 8 + 16 = 30 s).
const RETRY_BUDGET: StdDuration = StdDuration::from_secs(40);

/// The notifier function's input: a stream batch (`Records`), or the scheduled sweep (any other
/// event), which delivers what is due in every organisation, as the local dispatcher does.
pub async fn handle(n: &Notifier, event: Value, deadline: Option<Instant>) -> Result<Value, anyhow::Error> {
    if event.get("Records").is_some() {
        return Ok(handle_batch(n, event, deadline).await?);
    }
    let swept = guardpost_shared::notify::dispatcher::run_once(n).await?;
    tracing::info!(swept, "outbox sweep done");
    Ok(json!({ "swept": swept }))
}

/// Handles one stream batch by `deadline` (the invocation's, less a margin; `None`: the default
/// budget from now); answers `{"batchItemFailures": [{"itemIdentifier": seq}]}` naming the
/// records to hand back. A payload that is not a stream batch is an error, so Lambda retries it
/// rather than dropping it.
pub async fn handle_batch(n: &Notifier, event: Value, deadline: Option<Instant>) -> Result<Value, serde_json::Error> {
    let batch: Batch = serde_json::from_value(event)?;
    let deadline = deadline.unwrap_or_else(|| Instant::now() + RETRY_BUDGET);
    let mut failures = Vec::new();
    for record in batch.records {
        if record.event_name == "REMOVE" {
            continue;
        }
        let Some((org, id)) = outbox_item(&record.dynamodb.keys) else { continue };
        if Instant::now() >= deadline {
            failures.push(json!({ "itemIdentifier": record.dynamodb.sequence_number }));
            continue;
        }
        match deliver_with_retries(n, &org, &id, deadline).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!(org = %org, outbox = %id, "still waiting for a retry; the record goes back to the stream");
                failures.push(json!({ "itemIdentifier": record.dynamodb.sequence_number }));
            }
            Err(e) => {
                tracing::error!(org = %org, outbox = %id, error = %e, "delivery failed; the record goes back to the stream");
                failures.push(json!({ "itemIdentifier": record.dynamodb.sequence_number }));
            }
        }
    }
    Ok(json!({ "batchItemFailures": failures }))
}

/// `T#{org}#OUTBOX` / `{id}` names an outbox item; other keys are not ours to handle (the
/// template's filter only lets outbox items through, this is a second guard).
fn outbox_item(keys: &Keys) -> Option<(OrgSlug, String)> {
    let org = keys.pk.s.strip_prefix("T#")?.strip_suffix("#OUTBOX")?;
    Some((OrgSlug::parse(org).ok()?, keys.sk.s.clone()))
}

/// Delivers, waiting out the backoff of temporary failures within the budget. Answers whether
/// the item is settled (sent, failed, or not ours to send); an item still pending when the budget
/// runs out is reported as a failed record, so Lambda hands it back later.
async fn deliver_with_retries(n: &Notifier, org: &OrgSlug, id: &str, deadline: Instant) -> Result<bool, StoreError> {
    loop {
        let due_at = match deliver(n, org, id).await? {
            Outcome::Retrying(at) => at,
            // Skipped: already handled by someone, or pending but not due yet (our own MODIFY
            // record after a failed attempt arrives here while the backoff runs).
            Outcome::Skipped => match get::<OutboxItem>(n.store.as_ref(), &outbox_key(org, id)).await? {
                Some(item) if item.record.status == Status::Pending => item.record.next_attempt_at,
                _ => return Ok(true),
            },
            Outcome::Sent | Outcome::Failed => return Ok(true),
        };
        let wait = (due_at - n.clock.now()).to_std().unwrap_or_default();
        if Instant::now() + wait > deadline {
            return Ok(false);
        }
        tokio::time::sleep(wait).await;
    }
}
