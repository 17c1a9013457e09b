//! Store conformance suite: every case is written once against `Arc<dyn Store>` and runs on
//! each backend: SQLite (a temporary file), DynamoDB on moto and Amazon's DynamoDB Local.
//! Test names read `<backend>::<case>`.
//!
//! The DynamoDB backends need the emulators that `tests/run-all.sh` starts; their endpoints
//! come from `GUARDPOST_TEST_MOTO_ENDPOINT` and `GUARDPOST_TEST_DDBLOCAL_ENDPOINT`. A missing
//! endpoint fails the test rather than skipping it, so a green run always covers all three.
//!
//! Time is a `ManualClock` started at the real time: cases move it to expire items instead of
//! sleeping, and an emulator's own TTL sweep (real time) never removes an item a case still
//! expects to see.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;

use chrono::{Duration, Utc};
use guardpost_shared::clock::{Clock, ManualClock};
use guardpost_shared::store::sqlite::SqliteStore;
use guardpost_shared::store::{Condition, Cursor, IndexKey, Item, Key, MAX_BATCH_GET, Query, Store, StoreError, TxOp};
use serde_json::json;

// ---- backends ----

#[derive(Clone, Copy, Debug)]
enum Backend {
    Sqlite,
    #[cfg(feature = "aws")]
    Moto,
    #[cfg(feature = "aws")]
    DynamoDbLocal,
}

/// A store under test and what to tear down after a passing case.
struct Fixture {
    store: Arc<dyn Store>,
    teardown: Teardown,
}

enum Teardown {
    TempDir(tempfile::TempDir),
    #[cfg(feature = "aws")]
    Table(aws_sdk_dynamodb::Client, String),
}

impl Backend {
    async fn open(self, clock: Arc<ManualClock>, case: &str) -> Fixture {
        match self {
            Self::Sqlite => {
                let dir = tempfile::Builder::new().prefix(&format!("conformance-{case}-")).tempdir().unwrap();
                let store = SqliteStore::open(&dir.path().join("store.db"), clock).unwrap();
                Fixture { store: Arc::new(store), teardown: Teardown::TempDir(dir) }
            }
            #[cfg(feature = "aws")]
            Self::Moto => dynamo::open("GUARDPOST_TEST_MOTO_ENDPOINT", clock, case).await,
            #[cfg(feature = "aws")]
            Self::DynamoDbLocal => dynamo::open("GUARDPOST_TEST_DDBLOCAL_ENDPOINT", clock, case).await,
        }
    }
}

impl Teardown {
    async fn run(self) {
        match self {
            Self::TempDir(dir) => drop(dir),
            // Best effort: the emulators are in-memory and discarded after the run anyway.
            #[cfg(feature = "aws")]
            Self::Table(client, table) => {
                let _ = client.delete_table().table_name(table).send().await;
            }
        }
    }
}

#[cfg(feature = "aws")]
mod dynamo {
    use std::sync::Arc;
    use std::time::Duration;

    use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    use guardpost_shared::clock::ManualClock;
    use guardpost_shared::store::dynamo::{DynamoStore, create_table};

    use super::{Fixture, Teardown};

    /// A store on a fresh table of its own, so cases run in parallel without sharing data.
    pub(super) async fn open(endpoint_var: &str, clock: Arc<ManualClock>, case: &str) -> Fixture {
        let endpoint = std::env::var(endpoint_var).unwrap_or_else(|_| {
            panic!(
                "{endpoint_var} is not set: run tests/run-all.sh, which starts the DynamoDB \
                 emulators and sets it to the emulator's URL"
            )
        });
        let client = client(&endpoint);
        let table = format!("conformance-{case}-{}", ulid::Ulid::new().to_string().to_lowercase());
        create_table(&client, &table)
            .await
            .unwrap_or_else(|e| panic!("cannot create table {table} at {endpoint}: {e:#}"));
        let store = DynamoStore::new(client.clone(), table.clone(), clock);
        Fixture { store: Arc::new(store), teardown: Teardown::Table(client, table) }
    }

    /// Region and dummy credentials set here so the run never depends on ~/.aws or the
    /// environment's AWS variables.
    fn client(endpoint: &str) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "conformance"))
            .endpoint_url(endpoint)
            .timeout_config(TimeoutConfig::builder().operation_timeout(Duration::from_secs(30)).build())
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }
}

/// Runs one case on one backend with a fresh store and a clock set to the real time.
async fn run<F, Fut>(backend: Backend, name: &str, case: F)
where
    F: FnOnce(Arc<dyn Store>, Arc<ManualClock>) -> Fut,
    Fut: Future<Output = ()>,
{
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let fixture = backend.open(Arc::clone(&clock), &name.replace('_', "-")).await;
    case(Arc::clone(&fixture.store), clock).await;
    fixture.teardown.run().await;
}

/// One `#[tokio::test]` per (backend, case), named `<backend>::<case>`. Cases listed after
/// `isolated:` need transactions isolated from concurrent writes, which moto does not give (a
/// failing TransactWriteItems restores a copy of the table taken before it, undoing a concurrent
/// writer's success; see docs/ARCHITECTURE.md): they run on SQLite and DynamoDB Local only.
macro_rules! conformance {
    ($($case:ident),* ; isolated: $($isolated:ident),* $(,)?) => {
        conformance!($($case),*);
        conformance!(@backend sqlite_isolated, Sqlite, $($isolated),*);
        #[cfg(feature = "aws")]
        conformance!(@backend dynamodb_local_isolated, DynamoDbLocal, $($isolated),*);
    };
    ($($case:ident),* $(,)?) => {
        conformance!(@backend sqlite, Sqlite, $($case),*);
        #[cfg(feature = "aws")]
        conformance!(@backend moto, Moto, $($case),*);
        #[cfg(feature = "aws")]
        conformance!(@backend dynamodb_local, DynamoDbLocal, $($case),*);
    };
    (@backend $module:ident, $backend:ident, $($case:ident),*) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::run(super::Backend::$backend, stringify!($case), super::$case).await;
                }
            )*
        }
    };
}

conformance!(
    put_get_round_trip,
    put_without_condition_replaces,
    conditional_put_not_exists,
    conditional_put_exists,
    version_conflicts,
    conditional_delete,
    transaction_applies_all,
    transaction_all_or_nothing,
    transaction_reports_every_failed_position,
    transaction_rejects_two_ops_on_one_item,
    query_table_prefix,
    query_table_between,
    query_gsi1,
    query_gsi2,
    pagination_table,
    pagination_gsi,
    pagination_ends_without_empty_page,
    pagination_over_index_ties,
    invalid_cursors,
    ttl_hides_expired_items,
    ttl_pages_skip_expired_items,
    batch_get_existing_and_missing,
    partitions_isolated,
    invalid_requests,
    items_past_400_kb_are_refused;
    isolated: concurrent_writers_one_wins,
    concurrent_transactions_are_each_all_or_nothing,
);

// ---- helpers ----

type DynStore = Arc<dyn Store>;

fn item(pk: &str, sk: &str) -> Item {
    Item::new(Key::new(pk, sk), "thing", json!({ "sk": sk }))
}

fn with_data(mut item: Item, data: serde_json::Value) -> Item {
    item.data = data.into();
    item
}

fn with_version(mut item: Item, version: u64) -> Item {
    item.version = version;
    item
}

async fn put_all(store: &DynStore, items: impl IntoIterator<Item = Item>) {
    for item in items {
        store.put(item, Condition::None).await.unwrap();
    }
}

/// Every page of a listing, each cursor passed through its text form as a client would.
async fn pages(store: &DynStore, query: Query) -> Vec<Vec<Item>> {
    let mut pages = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = store.query(&query.clone().after(cursor.take())).await.unwrap();
        assert!(page.items.len() <= query.limit as usize, "page larger than the limit");
        pages.push(page.items);
        match page.cursor {
            Some(next) => cursor = Some(Cursor::decode(&next.encode()).unwrap()),
            None => return pages,
        }
        assert!(pages.len() <= 1000, "the listing does not end");
    }
}

/// The sort keys of a whole listing, in order.
async fn sks(store: &DynStore, query: Query) -> Vec<String> {
    pages(store, query).await.into_iter().flatten().map(|item| item.key.sk).collect()
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| (*s).to_owned()).collect()
}

fn reversed(values: &[&str]) -> Vec<String> {
    values.iter().rev().map(|s| (*s).to_owned()).collect()
}

#[track_caller]
fn assert_condition_failed<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    match result {
        Err(StoreError::ConditionFailed) => {}
        other => panic!("expected ConditionFailed, got {other:?}"),
    }
}

#[track_caller]
fn assert_canceled<T: std::fmt::Debug>(result: Result<T, StoreError>, expected: &[usize]) {
    match result {
        Err(StoreError::TransactionCanceled { failed }) => assert_eq!(failed, expected),
        other => panic!("expected TransactionCanceled {{ failed: {expected:?} }}, got {other:?}"),
    }
}

#[track_caller]
fn assert_invalid<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    match result {
        Err(StoreError::Invalid(_)) => {}
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[track_caller]
fn assert_invalid_cursor<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    match result {
        Err(StoreError::InvalidCursor) => {}
        other => panic!("expected InvalidCursor, got {other:?}"),
    }
}

async fn version_of(store: &DynStore, pk: &str, sk: &str) -> Option<u64> {
    store.get(&Key::new(pk, sk)).await.unwrap().map(|item| item.version)
}

// ---- cases: single items ----

async fn put_get_round_trip(store: DynStore, clock: Arc<ManualClock>) {
    let expires_at = clock.now().timestamp() + 3600;
    let full = with_version(
        Item::new(
            Key::new("T#1", "EMP#01"),
            "employee",
            json!({
                "name": "Zoë Ångström ✓",
                "empty": "",
                "count": 42,
                "negative": -7,
                "ratio": 2.5,
                "active": true,
                "manager": null,
                "tags": ["a", "b", 3],
                "none": [],
                "nested": { "deep": { "x": "y" }, "blank": {} }
            }),
        )
        .with_gsi1(IndexKey::new("T#1#SITE#9", "EMP#01"))
        .with_gsi2(IndexKey::new("T#1#EMAIL", "zoe@example.com"))
        .expiring_at(expires_at),
        3,
    );
    store.put(full.clone(), Condition::None).await.unwrap();
    assert_eq!(store.get(&full.key).await.unwrap(), Some(full));

    let plain = item("T#1", "EMP#02");
    store.put(plain.clone(), Condition::None).await.unwrap();
    let read = store.get(&plain.key).await.unwrap().unwrap();
    assert_eq!((read.gsi1, read.gsi2, read.expires_at), (None, None, None));
    assert_eq!(read.data, plain.data);

    assert_eq!(store.get(&Key::new("T#1", "EMP#03")).await.unwrap(), None);
}

async fn put_without_condition_replaces(store: DynStore, _clock: Arc<ManualClock>) {
    let first = item("T#1", "A").with_gsi1(IndexKey::new("T#1#G", "A"));
    store.put(first.clone(), Condition::None).await.unwrap();
    let second = with_data(item("T#1", "A"), json!({ "replaced": true }));
    store.put(second.clone(), Condition::None).await.unwrap();
    assert_eq!(store.get(&first.key).await.unwrap(), Some(second));
    // The replaced item has left the index with its GSI key.
    assert!(store.query(&Query::gsi1("T#1#G")).await.unwrap().items.is_empty());
}

async fn conditional_put_not_exists(store: DynStore, _clock: Arc<ManualClock>) {
    let original = item("T#1", "USER#ann");
    store.put(original.clone(), Condition::NotExists).await.unwrap();
    let intruder = with_data(item("T#1", "USER#ann"), json!({ "stolen": true }));
    assert_condition_failed(store.put(intruder, Condition::NotExists).await);
    assert_eq!(store.get(&original.key).await.unwrap(), Some(original));
}

async fn conditional_put_exists(store: DynStore, _clock: Arc<ManualClock>) {
    assert_condition_failed(store.put(item("T#1", "X"), Condition::Exists).await);
    assert_eq!(store.get(&Key::new("T#1", "X")).await.unwrap(), None);
    store.put(item("T#1", "X"), Condition::None).await.unwrap();
    let update = with_data(item("T#1", "X"), json!({ "updated": 1 }));
    store.put(update.clone(), Condition::Exists).await.unwrap();
    assert_eq!(store.get(&update.key).await.unwrap(), Some(update));
}

async fn version_conflicts(store: DynStore, _clock: Arc<ManualClock>) {
    assert_condition_failed(store.put(item("T#1", "V"), Condition::VersionIs(1)).await);
    store.put(item("T#1", "V"), Condition::NotExists).await.unwrap();

    // Two writers read version 1; the first to write wins, the second is refused.
    let first = with_data(with_version(item("T#1", "V"), 2), json!({ "writer": "first" }));
    let second = with_data(with_version(item("T#1", "V"), 2), json!({ "writer": "second" }));
    store.put(first.clone(), Condition::VersionIs(1)).await.unwrap();
    assert_condition_failed(store.put(second, Condition::VersionIs(1)).await);
    assert_eq!(store.get(&first.key).await.unwrap(), Some(first));

    // The loser re-reads and retries against the right version.
    let retry = with_data(with_version(item("T#1", "V"), 3), json!({ "writer": "second" }));
    store.put(retry.clone(), Condition::VersionIs(2)).await.unwrap();
    assert_eq!(store.get(&retry.key).await.unwrap(), Some(retry));
}

async fn conditional_delete(store: DynStore, _clock: Arc<ManualClock>) {
    let key = Key::new("T#1", "D");
    assert_condition_failed(store.delete(&key, Condition::Exists).await);
    assert_condition_failed(store.delete(&key, Condition::VersionIs(1)).await);
    // Deleting what is not there, unconditionally, is fine.
    store.delete(&key, Condition::None).await.unwrap();

    store.put(with_version(item("T#1", "D"), 4), Condition::None).await.unwrap();
    assert_condition_failed(store.delete(&key, Condition::NotExists).await);
    assert_condition_failed(store.delete(&key, Condition::VersionIs(3)).await);
    assert_eq!(version_of(&store, "T#1", "D").await, Some(4));
    store.delete(&key, Condition::VersionIs(4)).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap(), None);

    store.put(item("T#1", "D"), Condition::None).await.unwrap();
    store.delete(&key, Condition::Exists).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap(), None);
}

// ---- cases: transactions ----

async fn transaction_applies_all(store: DynStore, _clock: Arc<ManualClock>) {
    put_all(&store, [item("T#1", "A"), item("T#1", "D"), item("T#1", "E")]).await;
    let updated = with_version(with_data(item("T#1", "A"), json!({ "v": 2 })), 2);
    store
        .transact(vec![
            TxOp::put(item("T#1", "NEW"), Condition::NotExists),
            TxOp::put(updated.clone(), Condition::VersionIs(1)),
            TxOp::Delete { key: Key::new("T#1", "D"), condition: Condition::Exists },
            TxOp::Check { key: Key::new("T#1", "E"), condition: Condition::Exists },
            TxOp::Check { key: Key::new("T#1", "F"), condition: Condition::None },
        ])
        .await
        .unwrap();
    assert_eq!(store.get(&Key::new("T#1", "NEW")).await.unwrap(), Some(item("T#1", "NEW")));
    assert_eq!(store.get(&updated.key).await.unwrap(), Some(updated));
    assert_eq!(store.get(&Key::new("T#1", "D")).await.unwrap(), None);
    assert_eq!(store.get(&Key::new("T#1", "F")).await.unwrap(), None);
}

async fn transaction_all_or_nothing(store: DynStore, _clock: Arc<ManualClock>) {
    put_all(&store, [item("T#1", "A"), item("T#1", "B")]).await;
    let result = store
        .transact(vec![
            TxOp::put(item("T#1", "X"), Condition::NotExists),
            TxOp::put(with_data(item("T#1", "A"), json!({ "lost": true })), Condition::NotExists),
            TxOp::put(item("T#1", "Y"), Condition::None),
            TxOp::Delete { key: Key::new("T#1", "B"), condition: Condition::None },
        ])
        .await;
    assert_canceled(result, &[1]);
    assert_eq!(store.get(&Key::new("T#1", "X")).await.unwrap(), None);
    assert_eq!(store.get(&Key::new("T#1", "Y")).await.unwrap(), None);
    assert_eq!(store.get(&Key::new("T#1", "A")).await.unwrap(), Some(item("T#1", "A")));
    assert_eq!(store.get(&Key::new("T#1", "B")).await.unwrap(), Some(item("T#1", "B")));
}

async fn transaction_reports_every_failed_position(store: DynStore, _clock: Arc<ManualClock>) {
    put_all(&store, [item("T#1", "A")]).await;
    let result = store
        .transact(vec![
            TxOp::Check { key: Key::new("T#1", "A"), condition: Condition::VersionIs(2) },
            TxOp::put(item("T#1", "Z"), Condition::NotExists),
            TxOp::Delete { key: Key::new("T#1", "MISSING"), condition: Condition::Exists },
        ])
        .await;
    assert_canceled(result, &[0, 2]);
    assert_eq!(store.get(&Key::new("T#1", "Z")).await.unwrap(), None);
    assert_eq!(version_of(&store, "T#1", "A").await, Some(1));
}

async fn transaction_rejects_two_ops_on_one_item(store: DynStore, _clock: Arc<ManualClock>) {
    let result = store
        .transact(vec![
            TxOp::put(item("T#1", "A"), Condition::None),
            TxOp::put(item("T#1", "B"), Condition::None),
            TxOp::Check { key: Key::new("T#1", "A"), condition: Condition::None },
        ])
        .await;
    assert_invalid(result);
    assert_eq!(store.get(&Key::new("T#1", "A")).await.unwrap(), None);
    assert_eq!(store.get(&Key::new("T#1", "B")).await.unwrap(), None);
    assert_invalid(store.transact(Vec::new()).await);
}

/// Writers racing on one version: exactly one wins, every other fails cleanly (a condition
/// failure, or a conflict to retry), and the winner's write is what is stored.
async fn concurrent_writers_one_wins(store: DynStore, _clock: Arc<ManualClock>) {
    store.put(item("T#c", "COUNTER"), Condition::None).await.unwrap();
    let mut writers = tokio::task::JoinSet::new();
    for n in 0..8 {
        let store = Arc::clone(&store);
        writers.spawn(async move {
            let next = with_version(with_data(item("T#c", "COUNTER"), json!({ "by": n })), 2);
            let result = if n % 2 == 0 {
                store.put(next, Condition::VersionIs(1)).await
            } else {
                let mine = item("T#c", &format!("OWN#{n}"));
                store
                    .transact(vec![TxOp::put(next, Condition::VersionIs(1)), TxOp::put(mine, Condition::NotExists)])
                    .await
            };
            (n, result)
        });
    }
    let mut winners = Vec::new();
    while let Some(joined) = writers.join_next().await {
        match joined.unwrap() {
            (n, Ok(())) => winners.push(n),
            (_, Err(StoreError::ConditionFailed | StoreError::Conflict)) => {}
            (_, Err(StoreError::TransactionCanceled { failed })) => assert_eq!(failed, [0]),
            (n, Err(other)) => panic!("writer {n} failed with {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let stored = store.get(&Key::new("T#c", "COUNTER")).await.unwrap().unwrap();
    assert_eq!(stored.data, json!({ "by": winners[0] }).into());
    let own: Vec<String> = sks(&store, Query::table("T#c").prefix("OWN#")).await;
    let expected: Vec<String> = winners.iter().filter(|n| *n % 2 == 1).map(|n| format!("OWN#{n}")).collect();
    assert_eq!(own, expected);
}

/// Many writers at once, some bound to fail, some racing for one item: each transaction is
/// applied whole or not at all, whatever it was committed next to (SQLite commits concurrent
/// writes in groups).
async fn concurrent_transactions_are_each_all_or_nothing(store: DynStore, _clock: Arc<ManualClock>) {
    store.put(item("T#g", "SHARED"), Condition::None).await.unwrap();
    let mut writers = tokio::task::JoinSet::new();
    for n in 0..60 {
        let store = Arc::clone(&store);
        writers.spawn(async move {
            let mine = TxOp::put(item("T#g", &format!("W#{n:02}")), Condition::NotExists);
            let other = match n % 3 {
                // Bound to fail: the item it checks does not exist.
                0 => TxOp::Check { key: Key::new("T#g", "MISSING"), condition: Condition::Exists },
                // Racing: only one moves the shared item from version 1.
                1 => TxOp::put(with_version(item("T#g", "SHARED"), 2), Condition::VersionIs(1)),
                // Free to succeed.
                _ => TxOp::put(item("T#g", &format!("X#{n:02}")), Condition::NotExists),
            };
            (n, store.transact(vec![mine, other]).await)
        });
    }
    let mut written = BTreeSet::new();
    while let Some(joined) = writers.join_next().await {
        match joined.unwrap() {
            (n, Ok(())) => {
                assert_ne!(n % 3, 0, "writer {n} cannot succeed");
                written.insert(n);
            }
            (n, Err(StoreError::TransactionCanceled { failed })) => assert_eq!(failed, [1], "writer {n}"),
            (n, Err(StoreError::Conflict)) => assert_eq!(n % 3, 1, "only racers may conflict"),
            (n, Err(other)) => panic!("writer {n} failed with {other:?}"),
        }
    }
    assert!(written.iter().all(|n| n % 3 != 0));
    assert_eq!(written.iter().filter(|n| *n % 3 == 2).count(), 20, "every free writer succeeded");
    assert_eq!(written.iter().filter(|n| *n % 3 == 1).count(), 1, "one racer won: {written:?}");
    let stored: BTreeSet<String> = sks(&store, Query::table("T#g").prefix("W#")).await.into_iter().collect();
    let expected: BTreeSet<String> = written.iter().map(|n| format!("W#{n:02}")).collect();
    assert_eq!(stored, expected, "exactly the successful writers' items are stored");
    let extra: Vec<String> = sks(&store, Query::table("T#g").prefix("X#")).await;
    assert_eq!(extra.len(), 20);
}

// ---- cases: queries ----

const SORT_KEYS: [&str; 7] = ["A#1", "A#2", "A#3", "AB", "B#1", "B#2", "C"];

async fn query_table_prefix(store: DynStore, _clock: Arc<ManualClock>) {
    put_all(&store, SORT_KEYS.map(|sk| item("T#q", sk))).await;
    assert_eq!(sks(&store, Query::table("T#q")).await, strings(&SORT_KEYS));
    assert_eq!(sks(&store, Query::table("T#q").prefix("A#")).await, strings(&["A#1", "A#2", "A#3"]));
    assert_eq!(sks(&store, Query::table("T#q").prefix("A#").descending()).await, reversed(&["A#1", "A#2", "A#3"]));
    assert_eq!(sks(&store, Query::table("T#q").prefix("A")).await, strings(&["A#1", "A#2", "A#3", "AB"]));
    assert!(sks(&store, Query::table("T#q").prefix("D")).await.is_empty());
}

async fn query_table_between(store: DynStore, _clock: Arc<ManualClock>) {
    put_all(&store, SORT_KEYS.map(|sk| item("T#q", sk))).await;
    let expected = ["A#2", "A#3", "AB", "B#1"];
    assert_eq!(sks(&store, Query::table("T#q").between("A#2", "B#1")).await, strings(&expected));
    assert_eq!(sks(&store, Query::table("T#q").between("A#2", "B#1").descending()).await, reversed(&expected));
    // Bounds need not be stored keys.
    assert_eq!(sks(&store, Query::table("T#q").between("A#", "A#9")).await, strings(&["A#1", "A#2", "A#3"]));
    assert_eq!(sks(&store, Query::table("T#q").between("C", "C")).await, strings(&["C"]));
}

/// Items of several table partitions in one index partition; some stay out of the index.
async fn put_indexed(store: &DynStore, gsi2: bool) {
    for (n, isk) in SORT_KEYS.iter().enumerate() {
        let mut it = item(&format!("T#g#{}", n % 3), &format!("ITEM#{n}"));
        let key = IndexKey::new("T#g#IDX", *isk);
        it = if gsi2 { it.with_gsi2(key) } else { it.with_gsi1(key) };
        store.put(it, Condition::None).await.unwrap();
    }
    store.put(item("T#g#IDX", "NOT-INDEXED"), Condition::None).await.unwrap();
}

async fn index_sort_keys(store: &DynStore, query: Query, gsi2: bool) -> Vec<String> {
    let items = pages(store, query).await.into_iter().flatten();
    items.map(|it| if gsi2 { it.gsi2.unwrap().sk } else { it.gsi1.unwrap().sk }).collect()
}

async fn check_index_queries(store: &DynStore, gsi2: bool) {
    let q = |pk: &str| {
        if gsi2 { Query::gsi2(pk) } else { Query::gsi1(pk) }
    };
    assert_eq!(index_sort_keys(store, q("T#g#IDX"), gsi2).await, strings(&SORT_KEYS));
    assert_eq!(index_sort_keys(store, q("T#g#IDX").descending(), gsi2).await, reversed(&SORT_KEYS));
    let prefixed = ["A#1", "A#2", "A#3"];
    assert_eq!(index_sort_keys(store, q("T#g#IDX").prefix("A#"), gsi2).await, strings(&prefixed));
    assert_eq!(index_sort_keys(store, q("T#g#IDX").prefix("A#").descending(), gsi2).await, reversed(&prefixed));
    let between = ["A#3", "AB", "B#1"];
    assert_eq!(index_sort_keys(store, q("T#g#IDX").between("A#3", "B#1"), gsi2).await, strings(&between));
    assert_eq!(index_sort_keys(store, q("T#g#IDX").between("A#3", "B#1").descending(), gsi2).await, reversed(&between));
    // The other index knows nothing of these items.
    let other = if gsi2 { Query::gsi1("T#g#IDX") } else { Query::gsi2("T#g#IDX") };
    assert!(pages(store, other).await.into_iter().flatten().next().is_none());
}

async fn query_gsi1(store: DynStore, _clock: Arc<ManualClock>) {
    put_indexed(&store, false).await;
    check_index_queries(&store, false).await;
}

async fn query_gsi2(store: DynStore, _clock: Arc<ManualClock>) {
    put_indexed(&store, true).await;
    check_index_queries(&store, true).await;
}

fn numbered(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("N#{i:03}")).collect()
}

async fn pagination_table(store: DynStore, _clock: Arc<ManualClock>) {
    let all = numbered(25);
    put_all(&store, all.iter().map(|sk| item("T#p", sk))).await;
    let listing = pages(&store, Query::table("T#p").limit(7)).await;
    assert!(listing.len() > 3, "25 items in pages of 7 took {} pages", listing.len());
    let read: Vec<String> = listing.into_iter().flatten().map(|it| it.key.sk).collect();
    assert_eq!(read, all);

    let mut backwards = all.clone();
    backwards.reverse();
    assert_eq!(sks(&store, Query::table("T#p").limit(7).descending()).await, backwards);
    let prefixed: Vec<String> = all.iter().filter(|sk| sk.starts_with("N#01")).cloned().collect();
    assert_eq!(sks(&store, Query::table("T#p").prefix("N#01").limit(3)).await, prefixed);
}

async fn pagination_gsi(store: DynStore, _clock: Arc<ManualClock>) {
    let all = numbered(25);
    // Spread over table partitions, interleaved so that index order differs from table order.
    for (n, isk) in all.iter().enumerate() {
        let it = item(&format!("T#p#{}", n % 4), &format!("ITEM#{:03}", 100 - n))
            .with_gsi1(IndexKey::new("T#p#IDX", isk.as_str()))
            .with_gsi2(IndexKey::new("T#p#IDX2", isk.as_str()));
        store.put(it, Condition::None).await.unwrap();
    }
    for gsi2 in [false, true] {
        let query = if gsi2 { Query::gsi2("T#p#IDX2") } else { Query::gsi1("T#p#IDX") };
        let listing = pages(&store, query.clone().limit(7)).await;
        assert!(listing.len() > 3, "25 items in pages of 7 took {} pages", listing.len());
        assert_eq!(index_sort_keys(&store, query.clone().limit(7), gsi2).await, all);
        let mut backwards = all.clone();
        backwards.reverse();
        assert_eq!(index_sort_keys(&store, query.limit(7).descending(), gsi2).await, backwards);
    }
}

async fn pagination_ends_without_empty_page(store: DynStore, _clock: Arc<ManualClock>) {
    put_all(&store, numbered(14).iter().map(|sk| item("T#p", sk))).await;
    let listing = pages(&store, Query::table("T#p").limit(7)).await;
    let sizes: Vec<usize> = listing.iter().map(Vec::len).collect();
    assert_eq!(sizes, [7, 7], "a listing that ends on a page boundary has no trailing empty page");
}

/// Equal index sort keys come back in a backend-specific order (DynamoDB does not document
/// it), but paging through them still yields every item exactly once.
async fn pagination_over_index_ties(store: DynStore, _clock: Arc<ManualClock>) {
    let mut keys = BTreeSet::new();
    for n in 0..10 {
        let it = item(&format!("T#tie#{}", n % 3), &format!("ITEM#{n}")).with_gsi1(IndexKey::new("T#tie#IDX", "SAME"));
        keys.insert(it.key.clone());
        store.put(it, Condition::None).await.unwrap();
    }
    for query in [Query::gsi1("T#tie#IDX").limit(3), Query::gsi1("T#tie#IDX").limit(3).descending()] {
        let read: Vec<Key> = pages(&store, query).await.into_iter().flatten().map(|it| it.key).collect();
        assert_eq!(read.len(), keys.len(), "{read:?}");
        assert_eq!(read.into_iter().collect::<BTreeSet<_>>(), keys);
    }
}

async fn invalid_cursors(store: DynStore, _clock: Arc<ManualClock>) {
    put_all(&store, numbered(5).iter().map(|sk| item("T#a", sk).with_gsi1(IndexKey::new("T#a#IDX", sk.as_str()))))
        .await;
    put_all(&store, numbered(5).iter().map(|sk| item("T#b", sk))).await;
    let table_cursor = store.query(&Query::table("T#a").limit(2)).await.unwrap().cursor.unwrap();
    let index_cursor = store.query(&Query::gsi1("T#a#IDX").limit(2)).await.unwrap().cursor.unwrap();

    // Another partition's cursor, a table cursor on an index and the reverse.
    assert_invalid_cursor(store.query(&Query::table("T#b").after(Some(table_cursor.clone()))).await);
    assert_invalid_cursor(store.query(&Query::gsi1("T#a#IDX").after(Some(table_cursor.clone()))).await);
    assert_invalid_cursor(store.query(&Query::table("T#a").after(Some(index_cursor.clone()))).await);
    assert_invalid_cursor(store.query(&Query::gsi1("T#b#IDX").after(Some(index_cursor))).await);
    // A cursor outside the range it claims to continue.
    assert_invalid_cursor(store.query(&Query::table("T#a").prefix("X").after(Some(table_cursor))).await);
    // Text that is not a cursor at all.
    assert_invalid_cursor(Cursor::decode("not a cursor"));
    assert_invalid_cursor(Cursor::decode(&"A".repeat(4000)));
}

// ---- cases: TTL ----

async fn ttl_hides_expired_items(store: DynStore, clock: Arc<ManualClock>) {
    let now = clock.now().timestamp();
    let already = item("T#t", "PAST").expiring_at(now - 10);
    let soon = item("T#t", "SOON").expiring_at(now + 60).with_gsi1(IndexKey::new("T#t#IDX", "SOON"));
    let later = item("T#t", "LATER").expiring_at(now + 3600).with_gsi1(IndexKey::new("T#t#IDX", "LATER"));
    put_all(&store, [already.clone(), soon.clone(), later.clone()]).await;
    assert_eq!(store.get(&already.key).await.unwrap(), None);
    assert_eq!(store.get(&soon.key).await.unwrap(), Some(soon.clone()));

    clock.advance(Duration::seconds(120));
    assert_eq!(store.get(&soon.key).await.unwrap(), None);
    let keys = [already.key.clone(), soon.key.clone(), later.key.clone()];
    let found: Vec<Key> = store.batch_get(&keys).await.unwrap().into_iter().map(|it| it.key).collect();
    assert_eq!(found, std::slice::from_ref(&later.key));
    assert_eq!(sks(&store, Query::table("T#t")).await, strings(&["LATER"]));
    assert_eq!(index_sort_keys(&store, Query::gsi1("T#t#IDX"), false).await, strings(&["LATER"]));

    // Expired items count as absent for conditions.
    assert_condition_failed(store.put(item("T#t", "SOON"), Condition::Exists).await);
    assert_condition_failed(store.put(item("T#t", "SOON"), Condition::VersionIs(1)).await);
    assert_condition_failed(store.delete(&soon.key, Condition::Exists).await);
    store.put(item("T#t", "SOON"), Condition::NotExists).await.unwrap();
    assert_eq!(store.get(&soon.key).await.unwrap(), Some(item("T#t", "SOON")));
    store.transact(vec![TxOp::put(item("T#t", "PAST"), Condition::NotExists)]).await.unwrap();
    assert_eq!(store.get(&already.key).await.unwrap(), Some(item("T#t", "PAST")));
}

async fn ttl_pages_skip_expired_items(store: DynStore, clock: Arc<ManualClock>) {
    let now = clock.now().timestamp();
    let all = numbered(12);
    // Every item but the first and the last two expires: pages may come back short, or
    // empty, but the listing still ends and holds exactly the live items.
    for (n, sk) in all.iter().enumerate() {
        let live = n == 0 || n >= 10;
        let it = item("T#t", sk).expiring_at(if live { now + 3600 } else { now + 60 });
        store.put(it, Condition::None).await.unwrap();
    }
    clock.advance(Duration::seconds(120));
    let expected = [all[0].clone(), all[10].clone(), all[11].clone()];
    assert_eq!(sks(&store, Query::table("T#t").limit(2)).await, expected);
    let mut backwards = expected.to_vec();
    backwards.reverse();
    assert_eq!(sks(&store, Query::table("T#t").limit(2).descending()).await, backwards);
}

// ---- cases: batch get, isolation, invalid requests ----

async fn batch_get_existing_and_missing(store: DynStore, _clock: Arc<ManualClock>) {
    put_all(&store, [item("T#1", "A"), item("T#1", "B"), item("T#2", "A")]).await;
    let keys = [
        Key::new("T#1", "A"),
        Key::new("T#1", "MISSING"),
        Key::new("T#2", "A"),
        Key::new("T#1", "B"),
        Key::new("T#1", "A"),
    ];
    let mut found = store.batch_get(&keys).await.unwrap();
    found.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(found, [item("T#1", "A"), item("T#1", "B"), item("T#2", "A")]);
    assert!(store.batch_get(&[]).await.unwrap().is_empty());
    let too_many: Vec<Key> = (0..=MAX_BATCH_GET).map(|n| Key::new("T#1", format!("K{n}"))).collect();
    assert_invalid(store.batch_get(&too_many).await);
}

async fn partitions_isolated(store: DynStore, _clock: Arc<ManualClock>) {
    for pk in ["T#a", "T#ab", "T#b", "T#"] {
        let it = item(pk, "X#1").with_gsi1(IndexKey::new(format!("{pk}#IDX"), "X#1"));
        store.put(it, Condition::None).await.unwrap();
        store.put(item(pk, "X#2"), Condition::None).await.unwrap();
    }
    for query in [Query::table("T#a"), Query::table("T#a").prefix("X#"), Query::table("T#a").between("A", "Z")] {
        let listing: Vec<Item> = pages(&store, query).await.into_iter().flatten().collect();
        let pks: BTreeSet<&str> = listing.iter().map(|it| it.key.pk.as_str()).collect();
        assert_eq!((listing.len(), pks), (2, BTreeSet::from(["T#a"])));
    }
    let indexed: Vec<Item> = pages(&store, Query::gsi1("T#a#IDX")).await.into_iter().flatten().collect();
    assert_eq!(indexed.iter().map(|it| it.key.clone()).collect::<Vec<_>>(), [Key::new("T#a", "X#1")]);
    assert!(pages(&store, Query::table("T")).await.into_iter().flatten().next().is_none());
}

async fn invalid_requests(store: DynStore, _clock: Arc<ManualClock>) {
    assert_invalid(store.put(item("T#1", ""), Condition::None).await);
    assert_invalid(store.put(item("", "A"), Condition::None).await);
    assert_invalid(store.put(item("T#1", "A").with_gsi1(IndexKey::new("T#1#IDX", "")), Condition::None).await);
    assert_invalid(store.put(item("T#1", &"x".repeat(1025)), Condition::None).await);
    assert_invalid(store.get(&Key::new("T#1", "")).await);
    assert_invalid(store.query(&Query::table("T#1").between("B", "A")).await);
    assert_eq!(store.get(&Key::new("T#1", "A")).await.unwrap(), None);
}

/// DynamoDB's item size limit holds on both stores, in a put and in a transaction; an item just
/// under it is written.
async fn items_past_400_kb_are_refused(store: DynStore, _clock: Arc<ManualClock>) {
    let sized = |sk: &str, text: usize| with_data(item("T#1", sk), json!({ "text": "x".repeat(text) }));
    let limit = guardpost_shared::store::MAX_ITEM_BYTES;
    // Under moto's limit too (400,000 bytes; DynamoDB's, and DynamoDB Local's, is 409,600).
    let fits = sized("FITS", 399_000);
    store.put(fits.clone(), Condition::None).await.unwrap();
    assert_eq!(store.get(&fits.key).await.unwrap().map(|i| i.data), Some(fits.data));
    let big = sized("BIG", limit);
    match store.put(big.clone(), Condition::None).await {
        Err(StoreError::TooLarge { bytes }) => assert!(bytes > limit),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let ops = vec![TxOp::put(item("T#1", "SMALL"), Condition::None), TxOp::put(big, Condition::None)];
    assert!(matches!(store.transact(ops).await, Err(StoreError::TooLarge { .. })));
    assert_eq!(store.get(&Key::new("T#1", "SMALL")).await.unwrap(), None, "nothing of the transaction was written");
}
