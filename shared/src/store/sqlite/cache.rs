//! Items read by key, kept between requests, and dropped by the writer before it changes them.
//!
//! Every request reads its session, user and role assignments by key, and most of what it
//! reads besides changes far less often than it is read. Kept here, a repeated key read costs
//! a hash lookup instead of a SQLite transaction and a copy of the row.
//!
//! It stays exact because this process is the only one writing the database (`SqliteStore`
//! holds an exclusive lock on it) and every write tells the cache: the writer thread calls
//! [`ItemCache::begin_write`] with the keys of a group before it commits them and
//! [`ItemCache::end_write`] after, and the purge of expired rows calls
//! [`ItemCache::begin_purge`] and `end_write` around its deletes. An item that is written is
//! never answered from here again until it has been read back from the database. A read fills
//! the cache only if no write began or ended while it read (its [`Ticket`] is still good), so a
//! value read just before a commit can never be put back after it. Hence every item held is the
//! one committed last, and a lookup that finds every key it asks for sees one consistent state.
//! Expired items are answered as absent, as SQLite answers them. Only items found are kept; the
//! cache is bounded in items and in bytes, and forgets half of itself when full.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::store::{Item, Key};

/// Most items kept at once.
const CAPACITY: usize = 32_768;

/// Most bytes of stored JSON kept at once (the records decoded from it take about as much
/// again).
const BYTES: usize = 64 << 20;

#[derive(Default)]
pub(super) struct ItemCache {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Changes each time a group of writes (or a purge) begins or ends.
    epoch: u64,
    /// Groups of writes and purges under way.
    writing: usize,
    items: HashMap<Key, Item>,
    /// The stored JSON of the items held.
    bytes: usize,
}

/// Permission to keep what a read found: good while no write began or ended since it was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Ticket(u64);

/// What the cache holds of some keys: the items it has (visible at the instant asked), with the
/// ticket to keep what a read of the others finds in the database.
pub(super) struct Lookup {
    pub(super) found: Vec<Item>,
    pub(super) ticket: Option<Ticket>,
}

impl ItemCache {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn lookup<'k>(&self, keys: impl IntoIterator<Item = &'k Key>, now: i64) -> Lookup {
        let mut state = self.lock();
        let mut lookup = Lookup { found: Vec::new(), ticket: None };
        for key in keys {
            match state.items.get(key) {
                Some(item) if visible(item, now) => lookup.found.push(item.clone()),
                Some(_) => state.forget(key),
                None => {}
            }
        }
        lookup.ticket = (state.writing == 0).then_some(Ticket(state.epoch));
        lookup
    }

    /// Keeps items read from the database under `ticket`, unless a write began or ended since.
    pub(super) fn fill<'i>(&self, ticket: Option<Ticket>, items: impl IntoIterator<Item = &'i Item>) {
        let Some(Ticket(epoch)) = ticket else { return };
        let mut state = self.lock();
        if state.writing > 0 || state.epoch != epoch {
            return;
        }
        for item in items {
            let size = item.data.stored_len();
            if state.items.len() >= CAPACITY || state.bytes + size > BYTES {
                state.forget_half();
            }
            state.forget(&item.key);
            state.bytes += size;
            state.items.insert(item.key.clone(), item.clone());
        }
    }

    /// Before a group of writes is committed: its keys are dropped, and no read fills the
    /// cache until [`end_write`](Self::end_write).
    pub(super) fn begin_write<'k>(&self, keys: impl IntoIterator<Item = &'k Key>) {
        let mut state = self.lock();
        for key in keys {
            state.forget(key);
        }
        state.writing += 1;
        state.epoch = state.epoch.wrapping_add(1);
    }

    /// Before expired rows are deleted: what has expired by `now` is dropped (were the clock
    /// to step back, it must not be answered once its row is gone), and no read fills the cache
    /// until [`end_write`](Self::end_write).
    pub(super) fn begin_purge(&self, now: i64) {
        let mut state = self.lock();
        let expired: Vec<Key> =
            state.items.values().filter(|item| !visible(item, now)).map(|i| i.key.clone()).collect();
        for key in &expired {
            state.forget(key);
        }
        state.writing += 1;
        state.epoch = state.epoch.wrapping_add(1);
    }

    /// After a group of writes was committed or rolled back, or a purge ended.
    pub(super) fn end_write(&self) {
        let mut state = self.lock();
        state.writing = state.writing.saturating_sub(1);
        state.epoch = state.epoch.wrapping_add(1);
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.lock().items.len()
    }
}

impl State {
    fn forget(&mut self, key: &Key) {
        if let Some(item) = self.items.remove(key) {
            self.bytes -= item.data.stored_len();
        }
    }

    /// Drops every other item: the map's order is random, so which half goes is too.
    fn forget_half(&mut self) {
        let mut keep = false;
        let mut dropped = 0;
        self.items.retain(|_, item| {
            keep = !keep;
            if !keep {
                dropped += item.data.stored_len();
            }
            keep
        });
        self.bytes -= dropped;
    }
}

fn visible(item: &Item, now: i64) -> bool {
    item.expires_at.is_none_or(|at| at > now)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    /// An item as SQLite hands it out: its data is the stored JSON text.
    fn item(sk: &str) -> Item {
        let mut item = Item::new(Key::new("P", sk), "thing", json!({}));
        item.data = crate::store::Data::json_text(format!(r#"{{"name":"{sk}"}}"#));
        item
    }

    /// `item(sk)`, invisible from `at` on.
    fn expiring(sk: &str, at: i64) -> Item {
        let mut item = item(sk);
        item.expires_at = Some(at);
        item
    }

    #[test]
    fn a_read_fills_the_cache_and_the_next_lookup_finds_it() {
        let cache = ItemCache::default();
        let first = cache.lookup([&item("a").key], 0);
        assert!(first.found.is_empty());
        cache.fill(first.ticket, [&item("a")]);
        let second = cache.lookup([&item("a").key, &item("b").key], 0);
        assert_eq!(second.found, vec![item("a")], "b is not held");
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
        let expiring = expiring("a", 100);
        let ticket = cache.lookup([&expiring.key], 0).ticket;
        cache.fill(ticket, [&expiring]);
        assert_eq!(cache.lookup([&expiring.key], 99).found.len(), 1);
        assert!(cache.lookup([&expiring.key], 100).found.is_empty());
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
        let held: usize = cache.lock().items.values().map(|i| i.data.stored_len()).sum();
        assert_eq!(cache.lock().bytes, held, "the byte count follows what is held");
    }

    #[test]
    fn large_items_are_bounded_by_bytes() {
        let cache = ItemCache::default();
        let big = |n: usize| {
            let mut item = item(&n.to_string());
            item.data = crate::store::Data::json_text(format!(r#"{{"blob":"{}"}}"#, "x".repeat(300_000)));
            item
        };
        let items: Vec<Item> = (0..400).map(big).collect();
        let ticket = cache.lookup([&items[0].key], 0).ticket;
        cache.fill(ticket, &items);
        assert!(cache.lock().bytes <= BYTES, "{} bytes held", cache.lock().bytes);
        assert!(cache.len() < 400);
    }

    #[test]
    fn a_purge_drops_what_has_expired_and_blocks_fills_while_it_runs() {
        let cache = ItemCache::default();
        let expiring = expiring("a", 100);
        let ticket = cache.lookup([&expiring.key], 0).ticket;
        cache.fill(ticket, [&expiring, &item("b")]);
        cache.begin_purge(150);
        // The clock stepped back after the purge deleted the row: the item must not come back.
        assert!(cache.lookup([&expiring.key], 50).found.is_empty());
        assert_eq!(cache.lookup([&item("b").key], 50).ticket, None, "no fills while the purge runs");
        assert_eq!(cache.lookup([&item("b").key], 50).found.len(), 1, "items that do not expire stay");
        cache.end_write();
        assert!(cache.lookup([&item("b").key], 50).ticket.is_some());
    }
}
