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
    pub async fn commit(mut self, store: &dyn Store) -> Result<(), AppError> {
        match store.transact(self.ops).await {
            Ok(()) => Ok(()),
            Err(StoreError::TransactionCanceled { failed }) => match failed.iter().min() {
                Some(i) if *i < self.reasons.len() => Err(self.reasons.swap_remove(*i)),
                _ => Err(StoreError::TransactionCanceled { failed }.into()),
            },
            Err(e) => Err(e.into()),
        }
    }
}
