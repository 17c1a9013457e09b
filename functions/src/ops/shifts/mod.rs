//! Scheduled shifts, first cut: create and list (full schedule preparation comes later).

pub mod create;
pub mod list_mine;
pub mod list_site;
