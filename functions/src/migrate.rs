//! Bringing data written by earlier versions up to what today's code expects. Each step is
//! idempotent, so `guardpost serve` runs them at every start and `guardpost migrate` runs them
//! against a deployed table (once after each upgrade).
//!
//! Steps:
//! 1. last logins: users who logged in before the last-login item existed get one, from their
//!    login activity (listings of users read the item, not the activity).
//! 2. the outbox's due index: messages waiting to be sent, written before the sweep read the
//!    due index (GSI1), are written again with their entry in it. Not run once only: a
//!    deliverer of the earlier version may still write such items during a rolling upgrade.

use guardpost_shared::domain::OrgSlug;
use guardpost_shared::records::user::{self, LastLogin, LoginActivity, LoginOutcome, User};
use guardpost_shared::records::{item, keys};
use guardpost_shared::store::{Condition, Item, Query, StoreError, read_all, read_page};
use guardpost_shared::{AppResult, AppState};

/// What a run changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub organisations: usize,
    pub last_logins_added: usize,
    pub outbox_indexed: usize,
}

pub async fn migrate(state: &AppState) -> AppResult<Report> {
    let store = state.store.as_ref();
    let mut report = Report::default();
    for entry in read_all(store, &Query::table(keys::ORG_DIRECTORY)).await? {
        let Ok(org) = OrgSlug::parse(&entry.key.sk) else { continue };
        report.organisations += 1;
        report.last_logins_added += once(state, &org, "last-logins", last_logins).await?;
        report.outbox_indexed += outbox_due_index(state, &org).await?;
    }
    Ok(report)
}

/// Runs a step for an organisation unless it was done, then notes it done (a step is
/// idempotent, so a run cut short before the note is simply run again).
async fn once<'a, F, Fut>(state: &'a AppState, org: &'a OrgSlug, step: &str, run: F) -> AppResult<usize>
where
    F: FnOnce(&'a AppState, &'a OrgSlug) -> Fut,
    Fut: std::future::Future<Output = AppResult<usize>>,
{
    let marker = keys::migration(org, step);
    if state.store.get(&marker).await?.is_some() {
        return Ok(0);
    }
    let changed = run(state, org).await?;
    let done = item(marker, "migration", &serde_json::json!({ "done_at": state.now() }))?;
    state.store.put(done, Condition::None).await?;
    Ok(changed)
}

async fn last_logins(state: &AppState, org: &OrgSlug) -> AppResult<usize> {
    let store = state.store.as_ref();
    let users: Vec<User> =
        read_all(store, &Query::table(keys::users(org))).await?.iter().map(Item::parse).collect::<Result<_, _>>()?;
    let ids: Vec<_> = users.iter().map(|u| u.id).collect();
    let known = user::last_logins(store, org, &ids).await?;
    let mut added = 0;
    for id in ids.iter().filter(|id| !known.contains_key(id)) {
        let query = Query::table(keys::user_items(org, id)).prefix(keys::LOGIN_ACTIVITY_PREFIX).descending().limit(200);
        let activity = read_page(store, &query).await?;
        let success = activity
            .items
            .iter()
            .filter_map(|i| i.parse::<LoginActivity>().ok())
            .find(|a| a.outcome == LoginOutcome::Success);
        let Some(success) = success else { continue };
        let record = item(keys::last_login(org, id), user::LAST_LOGIN_KIND, &LastLogin { at: success.at })?;
        // A login since the upgrade wrote a newer one: leave it.
        match store.put(record, Condition::NotExists).await {
            Ok(()) => added += 1,
            Err(StoreError::ConditionFailed) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(added)
}

async fn outbox_due_index(state: &AppState, org: &OrgSlug) -> AppResult<usize> {
    use guardpost_shared::notify::{OutboxItem, Status, by_status};
    let store = state.store.as_ref();
    let mut indexed = 0;
    for status in [Status::Pending, Status::Sending] {
        for found in read_all(store, &Query::gsi2(by_status(org, status))).await? {
            if found.gsi1.is_some() {
                continue;
            }
            let out: OutboxItem = found.parse()?;
            // Against the version read: a deliverer that moved it on meanwhile wrote it anew.
            match store.put(out.item(org, found.version + 1)?, Condition::VersionIs(found.version)).await {
                Ok(()) => indexed += 1,
                Err(StoreError::ConditionFailed) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(indexed)
}
