//! A transaction built from operations that each carry the error their failed condition
//! answers, so a handler never matches positions (`failed.contains(&3)`) by hand.

use crate::error::AppError;
use crate::store::{Store, StoreError, TxOp};

#[derive(Debug, Default)]
pub struct Tx {
    ops: Vec<TxOp>,
    reasons: Vec<AppError>,
}

impl Tx {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an operation and what to answer if its condition fails.
    pub fn push(&mut self, op: TxOp, reason: AppError) {
        self.ops.push(op);
        self.reasons.push(reason);
    }

    /// Adds an operation whose condition failing can only mean a concurrent change.
    pub fn push_plain(&mut self, op: TxOp) {
        self.push(op, AppError::conflict("concurrent-update", "someone changed this at the same time; retry"));
    }

    /// Whether an operation already touches `key` (a transaction names each item once).
    pub fn touches(&self, key: &crate::store::Key) -> bool {
        self.ops.iter().any(|op| op.key() == key)
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Runs the operations all or nothing; a failed condition answers the first failed
    /// operation's error.
    pub async fn commit(self, store: &dyn Store) -> Result<(), AppError> {
        self.run(store).await.map_err(|failure| failure.error)
    }

    /// [`Tx::commit`], also telling whether a failed transaction surely did not happen.
    pub async fn run(mut self, store: &dyn Store) -> Result<(), Failure> {
        match store.transact(self.ops).await {
            Ok(()) => Ok(()),
            Err(StoreError::TransactionCanceled { failed }) => Err(Failure::refused(match failed.iter().min() {
                Some(i) if *i < self.reasons.len() => self.reasons.swap_remove(*i),
                _ => StoreError::TransactionCanceled { failed }.into(),
            })),
            Err(e) => Err(Failure { maybe_committed: e.may_have_committed(), error: e.into() }),
        }
    }
}

/// Why a transaction did not answer success.
#[derive(Debug)]
pub struct Failure {
    pub error: AppError,
    /// The store did not say: the writes may have been made (a timeout after the request).
    pub maybe_committed: bool,
}

impl Failure {
    fn refused(error: AppError) -> Self {
        Self { error, maybe_committed: false }
    }
}
