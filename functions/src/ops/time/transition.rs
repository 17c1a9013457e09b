//! The shared shape of clock-out and breaks: read where the caller is clocked in (one item),
//! check the transition is allowed at this site, write the clock state and the entry together,
//! each against the version read.

use axum::Json;
use axum::response::Response;
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::SiteId;
use guardpost_shared::http::idempotency;
use guardpost_shared::records::time_entry::{ClockState, TimeEntry};
use guardpost_shared::records::{Tx, Versioned, get, keys};
use guardpost_shared::store::{Condition, StoreError, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};

/// Where the caller is clocked in, if anywhere.
pub(super) async fn current(state: &AppState, principal: &Principal) -> AppResult<Option<Versioned<ClockState>>> {
    Ok(get::<ClockState>(state.store.as_ref(), &keys::clock_state(&principal.org, &principal.user.id)).await?)
}

/// The open entry at `site`, or the 409 that says why there is none.
pub(super) async fn open_entry_at(
    state: &AppState,
    principal: &Principal,
    site: &SiteId,
) -> AppResult<Versioned<ClockState>> {
    let Some(current) = current(state, principal).await? else {
        return Err(AppError::conflict("not-clocked-in", "You are not clocked in; clock in first."));
    };
    if current.record.entry.site_id != *site {
        return Err(AppError::conflict(
            "clocked-in-elsewhere",
            format!("You are clocked in at site {}; clock out there first.", current.record.entry.site_id),
        ));
    }
    Ok(current)
}

/// Writes the changed entry and answers it: with `still_open`, the clock state follows it;
/// otherwise the clock state goes (clock-out). `extra` joins the same transaction.
pub(super) async fn commit(
    state: &AppState,
    principal: &Principal,
    read: &Versioned<ClockState>,
    entry: TimeEntry,
    still_open: bool,
    extra: Vec<TxOp>,
) -> AppResult<Response> {
    let org = &principal.org;
    let user = &principal.user.id;
    let entry_version = read.record.entry_version;
    let changed = || {
        AppError::conflict(
            "concurrent-update",
            "Your clock state changed at the same moment (another device?); read it again and retry.",
        )
    };
    let mut tx = Tx::new();
    tx.push(TxOp::put(entry.item(org, entry_version + 1)?, Condition::VersionIs(entry_version)), changed());
    if still_open {
        let next = ClockState { entry: entry.clone(), entry_version: entry_version + 1 };
        tx.push(TxOp::put(next.item(org, user, read.version + 1)?, Condition::VersionIs(read.version)), changed());
    } else {
        let key = keys::clock_state(org, user);
        tx.push(TxOp::Delete { key, condition: Condition::VersionIs(read.version) }, changed());
    }
    extra.into_iter().for_each(|op| tx.push(op, changed()));
    match idempotency::commit(tx, state.store.as_ref(), Json(entry)).await {
        Err(AppError::Store(StoreError::Conflict)) => Err(changed()),
        other => other,
    }
}

/// A break transition: authorize, read the open entry at the site named in the path, apply
/// `change` (which refuses a wrong state), write the entry and the clock state together, and
/// answer the entry.
pub(super) async fn change_open_entry(
    state: &AppState,
    principal: &Principal,
    raw_site: &str,
    change: impl FnOnce(&mut TimeEntry, chrono::DateTime<chrono::Utc>) -> AppResult<()>,
) -> AppResult<Response> {
    let site_id = guardpost_shared::http::path_id(raw_site, "site", SiteId::parse)?;
    let resource = guardpost_shared::access::Resource::Site(site_id);
    // The open entry is read while the decision reads its facts; the decision answers first.
    let permission = guardpost_shared::access::Permission::TIME_CLOCK;
    let (allowed, open) = tokio::join!(
        guardpost_shared::access::authorize(state, principal, permission, resource),
        open_entry_at(state, principal, &site_id),
    );
    allowed?;
    let open = open?;
    let mut entry = open.record.entry.clone();
    change(&mut entry, state.now())?;
    commit(state, principal, &open, entry, true, Vec::new()).await
}
