//! Items read by key, kept between requests, and dropped by the writer before it changes them.
//!
//! Every request reads its session, user and role assignments by key, and most of what it
//! reads besides changes far less often than it is read. Kept here, a repeated key read costs
//! a hash lookup instead of a SQLite transaction and a copy of the row.
//!
//! It stays exact because this process is the only one writing the database (`SqliteStore`
//! holds an exclusive lock on it) and every write goes through the writer thread, which calls
//! [`ItemCache::begin_write`] with the keys of a group before it commits them and
//! [`ItemCache::end_write`] after: an item that is written is never answered from here again
//! until it has been read back from the database. A read fills the cache only if no write began
//! or ended while it read (its [`Ticket`] is still good), so a value read just before a commit
//! can never be put back after it. Expired items are answered as absent, as SQLite answers them.
//! Only items found are kept; the cache is bounded and forgets half of itself when full.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::store::{Item, Key};

/// Most items kept at once.
const CAPACITY: usize = 32_768;

#[derive(Default)]
pub(super) struct ItemCache {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Changes each time a group of writes begins or ends.
    epoch: u64,
    /// A group of writes is being committed.
    writing: bool,
    items: HashMap<Key, Item>,
}

/// Permission to keep what a read found: good while no write began or ended since it was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Ticket(u64);

/// What the cache holds of some keys: the items it has (visible at the instant asked) and the
/// keys left to read from the database, with the ticket to keep what is found there.
pub(super) struct Lookup {
    pub(super) found: Vec<Item>,
    pub(super) missing: Vec<Key>,
    pub(super) ticket: Option<Ticket>,
}

impl ItemCache {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn lookup<'k>(&self, keys: impl IntoIterator<Item = &'k Key>, now: i64) -> Lookup {
        let mut state = self.lock();
        let mut lookup = Lookup { found: Vec::new(), missing: Vec::new(), ticket: None };
        for key in keys {
            match state.items.get(key) {
                Some(item) if visible(item, now) => lookup.found.push(item.clone()),
                Some(_) => {
                    state.items.remove(key);
                    lookup.missing.push(key.clone());
                }
                None => lookup.missing.push(key.clone()),
            }
        }
        lookup.ticket = (!state.writing).then_some(Ticket(state.epoch));
        lookup
    }

    /// Keeps items read from the database under `ticket`, unless a write began or ended since.
    pub(super) fn fill<'i>(&self, ticket: Option<Ticket>, items: impl IntoIterator<Item = &'i Item>) {
        let Some(Ticket(epoch)) = ticket else { return };
        let mut state = self.lock();
        if state.writing || state.epoch != epoch {
            return;
        }
        for item in items {
            if state.items.len() >= CAPACITY {
                forget_half(&mut state.items);
            }
            state.items.insert(item.key.clone(), item.clone());
        }
    }

    /// Before a group of writes is committed: its keys are dropped, and no read fills the
    /// cache until [`end_write`](Self::end_write).
    pub(super) fn begin_write<'k>(&self, keys: impl IntoIterator<Item = &'k Key>) {
        let mut state = self.lock();
        for key in keys {
            state.items.remove(key);
        }
        state.writing = true;
        state.epoch = state.epoch.wrapping_add(1);
    }

    /// After the group was committed or rolled back.
    pub(super) fn end_write(&self) {
        let mut state = self.lock();
        state.writing = false;
        state.epoch = state.epoch.wrapping_add(1);
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.lock().items.len()
    }
}

fn visible(item: &Item, now: i64) -> bool {
    item.expires_at.is_none_or(|at| at > now)
}

/// Drops every other item: the map's order is random, so which half goes is too.
fn forget_half(items: &mut HashMap<Key, Item>) {
    let mut keep = false;
    items.retain(|_, _| {
        keep = !keep;
        keep
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(sk: &str) -> Item {
        Item::new(Key::new("P", sk), "thing", json!({"name": sk}))
    }

    #[test]
    fn a_read_fills_the_cache_and_the_next_lookup_finds_it() {
        let cache = ItemCache::default();
        let first = cache.lookup([&item("a").key], 0);
        assert!(first.found.is_empty());
        assert_eq!(first.missing, vec![Key::new("P", "a")]);
        cache.fill(first.ticket, [&item("a")]);
        let second = cache.lookup([&item("a").key, &item("b").key], 0);
        assert_eq!(second.found, vec![item("a")]);
        assert_eq!(second.missing, vec![Key::new("P", "b")]);
    }

    #[test]
    fn a_write_drops_its_keys_and_a_read_that_overlapped_it_is_not_kept() {
        let cache = ItemCache::default();
        let ticket = cache.lookup([&item("a").key], 0).ticket;
        cache.fill(ticket, [&item("a"), &item("b")]);

        // A read starts, then a write of `a` begins and ends before the read keeps its result.
        let during = cache.lookup([&item("c").key], 0).ticket;
        cache.begin_write([&item("a").key]);
        assert!(cache.lookup([&item("a").key], 0).found.is_empty(), "written keys are dropped first");
        assert_eq!(cache.lookup([&item("c").key], 0).ticket, None, "no ticket while a write is committing");
        cache.end_write();
        cache.fill(during, [&item("c")]);
        assert!(cache.lookup([&item("c").key], 0).found.is_empty(), "a read that overlapped a write is not kept");
        assert_eq!(cache.lookup([&item("b").key], 0).found, vec![item("b")], "keys not written stay");

        let after = cache.lookup([&item("a").key], 0).ticket;
        cache.fill(after, [&item("a")]);
        assert_eq!(cache.lookup([&item("a").key], 0).found, vec![item("a")]);
    }

    #[test]
    fn an_expired_item_is_answered_as_missing() {
        let cache = ItemCache::default();
        let mut expiring = item("a");
        expiring.expires_at = Some(100);
        let ticket = cache.lookup([&expiring.key], 0).ticket;
        cache.fill(ticket, [&expiring]);
        assert_eq!(cache.lookup([&expiring.key], 99).found.len(), 1);
        let late = cache.lookup([&expiring.key], 100);
        assert!(late.found.is_empty());
        assert_eq!(late.missing, vec![expiring.key.clone()]);
        assert_eq!(cache.len(), 0, "the expired item is forgotten");
    }

    #[test]
    fn a_full_cache_forgets_half_and_keeps_going() {
        let cache = ItemCache::default();
        let items: Vec<Item> = (0..=CAPACITY).map(|n| item(&n.to_string())).collect();
        let ticket = cache.lookup([&items[0].key], 0).ticket;
        cache.fill(ticket, &items);
        assert!(cache.len() <= CAPACITY);
        assert!(cache.len() > CAPACITY / 2 - 1);
        assert_eq!(cache.lookup([&items[CAPACITY].key], 0).found.len(), 1, "the last item read is kept");
    }
}
