//! Releasing an employee's future shifts (at termination): each stays on its site's schedule,
//! open (`released_at` set, `employee_id` naming who had it), and leaves the employee's own
//! schedule; the employee's schedule version moves on in the same transaction, so a shift being
//! scheduled for them at that moment fails its overlap guard and is tried again.

use chrono::{DateTime, Utc};
use guardpost_shared::domain::{OrgSlug, UserId};
use guardpost_shared::records::shift::{self, Shift};
use guardpost_shared::records::{item, keys, sort_time};
use guardpost_shared::store::{Condition, Query, Store, TxOp, read_all};
use guardpost_shared::{AppError, AppResult};

/// Shifts released per transaction besides the termination's own writes (two writes each).
pub const PER_TRANSACTION: usize = 45;

/// The employee's shifts that start after `now`, from their own partition (base table).
pub async fn future_shifts(store: &dyn Store, org: &OrgSlug, id: &UserId, now: DateTime<Utc>) -> AppResult<Vec<Shift>> {
    let from = format!("{}{}", keys::SHIFT_PREFIX, sort_time(now));
    let to = format!("{}~", keys::SHIFT_PREFIX);
    let items = read_all(store, &Query::table(keys::user_items(org, id)).between(from, to)).await?;
    Ok(shift::parse_all(&items)?.into_iter().filter(|s| s.start > now && s.released_at.is_none()).collect())
}

/// The writes that release `shifts` and move the schedule version on from `version`.
pub fn release_ops(
    org: &OrgSlug,
    id: &UserId,
    shifts: &[Shift],
    version: u64,
    now: DateTime<Utc>,
) -> AppResult<Vec<TxOp>> {
    let mut ops = vec![shift::schedule_moved_on(org, id, version, now)?];
    for s in shifts {
        let released = Shift { released_at: Some(now), ..s.clone() };
        let site_copy = item(keys::site_shift(org, &s.site_id, s.start, &s.id), shift::KIND, &released)?;
        ops.push(TxOp::put(site_copy, Condition::Exists));
        ops.push(TxOp::Delete { key: keys::user_shift(org, id, s.start, &s.id), condition: Condition::Exists });
    }
    Ok(ops)
}

/// Releases shifts beyond those the termination's transaction held, a transaction at a time.
pub async fn release_rest(
    store: &dyn Store,
    org: &OrgSlug,
    id: &UserId,
    rest: &[Shift],
    mut version: u64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    for chunk in rest.chunks(PER_TRANSACTION) {
        store.transact(release_ops(org, id, chunk, version, now)?).await.map_err(AppError::from)?;
        version += 1;
    }
    Ok(())
}
