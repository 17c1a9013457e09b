//! Regions group sites.

pub mod create;
pub mod list;
