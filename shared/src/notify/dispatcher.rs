//! The single process's dispatcher: polls each organisation's due outbox items and delivers
//! them through [`deliver`]. On AWS the table's stream plays this part.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use super::deliver::{Notifier, deliver};
use super::{OutboxItem, Status, by_status};
use crate::domain::OrgSlug;
use crate::records::{keys, sort_time};
use crate::store::{Query, StoreError};

/// Delivers every due item once: pending ones whose time has come, and claims gone stale (a
/// deliverer died mid-send). Answers how many were looked at. One organisation's or one item's
/// trouble is logged and does not hold up the others.
pub async fn run_once(n: &Notifier) -> Result<usize, StoreError> {
    let now = n.clock.now();
    let mut seen = 0;
    for org in organisations(n).await? {
        for status in [Status::Pending, Status::Sending] {
            let query = Query::gsi2(by_status(&org, status)).between("", format!("{}~", sort_time(now))).limit(100);
            let page = match n.store.query(&query).await {
                Ok(page) => page,
                Err(e) => {
                    tracing::error!(org = %org, error = %e, "reading the outbox failed");
                    continue;
                }
            };
            for item in page.items {
                seen += 1;
                let result = match item.parse::<OutboxItem>() {
                    Ok(out) => deliver(n, &org, &out.id).await.map(|_| ()),
                    Err(e) => Err(e),
                };
                if let Err(e) = result {
                    tracing::error!(org = %org, item = %item.key.sk, error = %e, "delivering an outbox item failed");
                }
            }
        }
    }
    Ok(seen)
}

async fn organisations(n: &Notifier) -> Result<Vec<OrgSlug>, StoreError> {
    let items = crate::store::read_all(n.store.as_ref(), &Query::table(keys::ORG_DIRECTORY)).await?;
    Ok(items.iter().filter_map(|i| OrgSlug::parse(&i.key.sk).ok()).collect())
}

/// Runs [`run_once`] every `every`, for as long as the process lives.
pub fn spawn(n: Arc<Notifier>, every: StdDuration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = run_once(&n).await {
                tracing::error!(error = %e, "outbox dispatch failed; will try again");
            }
            tokio::time::sleep(every).await;
        }
    })
}
