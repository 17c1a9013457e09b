//! Faults between the steps of a write, on a real store: the write a test arms goes to the
//! store (or does not), and then the caller hears of a failure, as a Lambda function does when
//! DynamoDB commits and the function times out before the answer comes back. And faults of a
//! real sender ([`FaultyMailer`]): refused sends, and sends that never come back.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use guardpost_shared::notify::{Email, Mailer, SendError};
use guardpost_shared::store::{Condition, Item, Key, Page, Query, Store, StoreError, StoreResult, TxOp};

/// When the armed fault strikes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The write is made, then the caller gets an error (its answer was lost).
    AfterCommit,
    /// The caller gets an error and the write is not made (the request was lost).
    BeforeCommit,
}

/// A store that passes everything through to the real one, except the writes (puts and
/// transactions) that put an item the armed fault matches, as many times as it was armed for.
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    armed: Mutex<Option<Armed>>,
}

struct Armed {
    fault: Fault,
    times: usize,
    matches: Box<dyn Fn(&Item) -> bool + Send + Sync>,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self { inner, armed: Mutex::new(None) }
    }

    /// Strikes once, at the next write that puts an item of `kind`.
    pub fn arm(&self, fault: Fault, kind: &str) {
        let kind = kind.to_owned();
        self.arm_where(fault, 1, move |item| item.kind == kind);
    }

    /// Strikes at the next `times` writes that put an item `matches` accepts.
    pub fn arm_where(&self, fault: Fault, times: usize, matches: impl Fn(&Item) -> bool + Send + Sync + 'static) {
        *self.armed.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(Armed { fault, times, matches: Box::new(matches) });
    }

    /// Whether the armed fault is still waiting for its write.
    pub fn is_armed(&self) -> bool {
        self.armed.lock().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    /// Stops striking.
    pub fn disarm(&self) {
        *self.armed.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    fn strikes<'a>(&self, mut ops: impl Iterator<Item = &'a TxOp>) -> Option<Fault> {
        let mut armed = self.armed.lock().unwrap_or_else(PoisonError::into_inner);
        let hit =
            armed.as_ref().is_some_and(|a| ops.any(|op| matches!(op, TxOp::Put { item, .. } if (a.matches)(item))));
        if !hit {
            return None;
        }
        let a = armed.as_mut()?;
        let fault = a.fault;
        a.times -= 1;
        if a.times == 0 {
            *armed = None;
        }
        Some(fault)
    }
}

async fn strike(fault: Option<Fault>, write: impl Future<Output = StoreResult<()>>) -> StoreResult<()> {
    match fault {
        None => write.await,
        Some(Fault::BeforeCommit) => Err(lost("the request")),
        Some(Fault::AfterCommit) => {
            write.await?;
            Err(lost("the answer"))
        }
    }
}

fn lost(what: &str) -> StoreError {
    StoreError::Unavailable(anyhow::anyhow!("injected fault: {what} was lost (a timeout)"))
}

#[async_trait]
impl Store for FaultyStore {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.inner.get(key).await
    }
    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        self.inner.batch_get(keys).await
    }
    async fn put(&self, item: Item, condition: Condition) -> StoreResult<()> {
        let fault = self.strikes(std::iter::once(&TxOp::put(item.clone(), condition)));
        strike(fault, self.inner.put(item, condition)).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> StoreResult<()> {
        // Deletes put nothing: no armed fault strikes them.
        self.inner.delete(key, condition).await
    }
    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        let fault = self.strikes(ops.iter());
        strike(fault, self.inner.transact(ops)).await
    }
    async fn query(&self, query: &Query) -> StoreResult<Page> {
        self.inner.query(query).await
    }
    async fn purge_expired(&self) -> StoreResult<usize> {
        self.inner.purge_expired().await
    }
}

/// A real mailer (the local mailbox, or SES on moto) with two faults: every `refuse_every`th
/// send is refused for now (a throttle) without reaching it, and once `hang_after` sends have
/// gone through, every later send hangs without reaching it (a deliverer about to be killed).
pub struct FaultyMailer {
    inner: Arc<dyn Mailer>,
    refuse_every: usize,
    hang_after: usize,
    calls: AtomicUsize,
    refused: AtomicUsize,
    hanging: AtomicUsize,
}

impl FaultyMailer {
    pub fn new(inner: Arc<dyn Mailer>, refuse_every: usize, hang_after: usize) -> Self {
        Self {
            inner,
            refuse_every,
            hang_after,
            calls: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
            hanging: AtomicUsize::new(0),
        }
    }

    /// Sends asked for so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Sends refused so far.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }

    /// Sends hanging now.
    pub fn hanging(&self) -> usize {
        self.hanging.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Mailer for FaultyMailer {
    async fn send(&self, email: &Email) -> Result<String, SendError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if call > self.hang_after {
            self.hanging.fetch_add(1, Ordering::SeqCst);
            return std::future::pending().await;
        }
        if call.is_multiple_of(self.refuse_every) {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return Err(SendError::Temporary("injected fault: throttled".into()));
        }
        self.inner.send(email).await
    }
}
