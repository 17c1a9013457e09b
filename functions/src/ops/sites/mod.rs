//! Sites: plain sites, master sites and their sub-sites; employee assignments.

pub mod assign_employee;
pub mod create;
pub mod get;
pub mod list;
pub mod list_employees;
pub mod unassign_employee;
pub mod update;
