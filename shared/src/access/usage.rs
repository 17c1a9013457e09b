//! When each assignment last allowed something, for the access review's "unused for 90 days"
//! flag. Written at most once a day per assignment per process (a small in-memory note of what
//! was already written today), never in the request's way: a failed write is logged and ignored.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::decision::{Bearing, Decision};
use crate::auth::Principal;
use crate::domain::AssignmentId;
use crate::records::{item, keys};
use crate::store::{Condition, Store};

pub const KIND: &str = "assignment-usage";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Usage {
    pub assignment_id: AssignmentId,
    pub last_used_on: NaiveDate,
}

/// What this process already wrote today.
#[derive(Debug, Default)]
pub struct UsageLog(Mutex<HashMap<AssignmentId, NaiveDate>>);

impl UsageLog {
    fn first_today(&self, id: AssignmentId, today: NaiveDate) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() > 100_000 {
            seen.clear();
        }
        seen.insert(id, today) != Some(today)
    }
}

/// Notes that the assignments that allowed `decision` were used today (each at most once a day
/// per process).
pub async fn record(store: &dyn Store, log: &UsageLog, today: NaiveDate, principal: &Principal, decision: &Decision) {
    for c in decision.assignments.iter().filter(|c| c.bearing == Bearing::Grants) {
        if !log.first_today(c.assignment_id, today) {
            continue;
        }
        let usage = Usage { assignment_id: c.assignment_id, last_used_on: today };
        let key = keys::assignment_usage(&principal.org, &principal.user.id, &c.assignment_id);
        let written = match item(key, KIND, &usage) {
            Ok(item) => store.put(item, Condition::None).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(error) = written {
            tracing::warn!(%error, "could not note an assignment's use");
        }
    }
}
