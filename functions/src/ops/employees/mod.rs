//! Employees, first cut: create, list, read. The full lifecycle (modify, terminate, reset
//! password) comes with a later issue.

pub mod create;
pub mod get;
pub mod list;
pub mod terminate;
pub mod view;
