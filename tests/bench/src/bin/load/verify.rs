//! After the load: every accepted clock-in has its time entry, and every accepted clock-out
//! closed it, read back through the API as the administrator.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::Args;
use crate::drive::Outcome;
use crate::setup::World;

/// How many accepted writes are missing from what the server now answers.
pub async fn lost_writes(
    http: &reqwest::Client,
    args: &Args,
    world: &World,
    outcome: &Outcome,
) -> anyhow::Result<usize> {
    // Every entry of every load site from an hour ago to now: (open entries, closed entries).
    let from = chrono::Utc::now() - chrono::Duration::seconds(3600 + i64::from(args.seconds));
    let from = from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut found: BTreeMap<String, bool> = BTreeMap::new();
    for site in &world.sites {
        let mut cursor: Option<String> = None;
        loop {
            let mut request = http
                .get(format!("{}/v1/sites/{site}/time-entries", args.url))
                .bearer_auth(&world.admin)
                .query(&[("from", from.as_str()), ("limit", "200")]);
            if let Some(c) = &cursor {
                request = request.query(&[("cursor", c.as_str())]);
            }
            let answer = request.send().await?;
            let status = answer.status();
            let page: Value = answer.json().await?;
            if !status.is_success() {
                bail!("listing time entries: {status} {page}");
            }
            for entry in page["items"].as_array().context("no items")? {
                let id = entry["id"].as_str().context("entry without id")?.to_owned();
                found.insert(id, !entry["clock_out"].is_null());
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
    }
    let closed: BTreeSet<&String> = outcome.clock_outs.iter().map(|(_, id)| id).collect();
    let missing_in = outcome.clock_ins.iter().filter(|(_, id)| !found.contains_key(id)).count();
    let missing_out = closed.iter().filter(|id| found.get(**id) != Some(&true)).count();
    if missing_in + missing_out > 0 {
        println!(
            "verify: {missing_in} clock-ins without their entry, {missing_out} clock-outs that did not close theirs"
        );
    }
    Ok(missing_in + missing_out)
}
