//! The outbox, as administrators see it.

pub mod list;
pub mod retry;
