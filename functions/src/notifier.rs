//! The notifier function: a batch of DynamoDB stream records in, outbox items delivered, and
//! the records that could not be handled reported back (partial batch failure), so Lambda
//! retries only those (bisecting on error, then the on-failure queue). Stream delivery is at
//! least once; [`deliver`] makes a repeated record a no-op.
//!
//! Each record gets one attempt. A message that failed for now is handled as far as the stream
//! is concerned: it waits in the outbox for its next attempt, which the scheduled sweep makes
//! (every minute), so one slow message never holds up the shard or spends the retries of the
//! records behind it. Only a record the store could not read or write goes back.

use std::time::Instant;

use guardpost_shared::domain::OrgSlug;
use guardpost_shared::notify::deliver::{Notifier, Outcome, deliver};
use guardpost_shared::notify::outbox_org;
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

/// The notifier function's input: a stream batch (`Records`), or the scheduled sweep (any other
/// event), which delivers what is due in every organisation, as the local dispatcher does.
pub async fn handle(n: &Notifier, event: Value, deadline: Option<Instant>) -> Result<Value, anyhow::Error> {
    if event.get("Records").is_some() {
        return Ok(handle_batch(n, event, deadline).await?);
    }
    let swept = guardpost_shared::notify::dispatcher::run_once(n, deadline).await?;
    tracing::info!(swept, "outbox sweep done");
    Ok(json!({ "swept": swept }))
}

/// Handles one stream batch by `deadline` (the invocation's, less a margin; `None`: none);
/// answers `{"batchItemFailures": [{"itemIdentifier": seq}]}` naming the records to hand back.
/// A payload that is not a stream batch is an error, so Lambda retries it rather than dropping
/// it.
pub async fn handle_batch(n: &Notifier, event: Value, deadline: Option<Instant>) -> Result<Value, serde_json::Error> {
    let batch: Batch = serde_json::from_value(event)?;
    let mut failures = Vec::new();
    for record in batch.records {
        if record.event_name == "REMOVE" {
            continue;
        }
        let Some((org, id)) = outbox_item(&record.dynamodb.keys) else { continue };
        if deadline.is_some_and(|d| Instant::now() >= d) {
            failures.push(json!({ "itemIdentifier": record.dynamodb.sequence_number }));
            continue;
        }
        match deliver(n, &org, &id).await {
            // Sent, failed for good, waiting for its next attempt (the sweep's), or someone
            // else's: settled as far as the stream is concerned.
            Ok(Outcome::Sent | Outcome::Failed | Outcome::Retrying(_) | Outcome::Skipped) => {}
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
    Some((outbox_org(&keys.pk.s)?, keys.sk.s.clone()))
}
