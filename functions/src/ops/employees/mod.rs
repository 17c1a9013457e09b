//! Employees: create, list, read, modify (with If-Match), reset a password, terminate and
//! reactivate. Nobody is ever deleted (SecurityTrax): people are made inactive, kept from
//! logging in, or terminated, and their history stays.

pub mod create;
pub mod get;
pub mod list;
mod patch;
pub mod reactivate;
mod release;
pub mod reset_password;
pub mod terminate;
pub mod update;
pub mod view;
