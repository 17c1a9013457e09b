//! Stored entities and their keys. `keys.rs` is the single source of the key schema
//! (docs/DATA_MODEL.md describes it); each entity module holds the record type and the few
//! store calls that read or write it.

pub mod audit;
pub mod client_access;
pub mod file;
pub mod keys;
pub mod org;
pub mod preferences;
pub mod region;
pub mod role;
pub mod session;
pub mod shift;
pub mod site;
pub mod time_entry;
mod tx;

pub use tx::{Failure, Tx};
pub mod user;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::store::{Item, Key, Store, StoreResult};

/// Builds the item for a record.
pub fn item<T: Serialize>(key: Key, kind: &str, record: &T) -> Result<Item, AppError> {
    let data = serde_json::to_value(record).map_err(|e| AppError::Internal(e.into()))?;
    Ok(Item::new(key, kind, data))
}

/// A record as read, with the version to write back against.
#[derive(Clone, Debug)]
pub struct Versioned<T> {
    pub record: T,
    pub version: u64,
}

/// Reads one record.
pub async fn get<T: DeserializeOwned>(store: &dyn Store, key: &Key) -> StoreResult<Option<Versioned<T>>> {
    match store.get(key).await? {
        Some(item) => Ok(Some(Versioned { record: item.parse()?, version: item.version })),
        None => Ok(None),
    }
}

/// A time as it appears in sort keys: RFC 3339 UTC with milliseconds, fixed width, so that
/// string order is time order.
pub fn sort_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The condition for writing back a record read at `version`; version 0 means "not there yet".
pub fn written_over(version: u64) -> crate::store::Condition {
    if version == 0 { crate::store::Condition::NotExists } else { crate::store::Condition::VersionIs(version) }
}
