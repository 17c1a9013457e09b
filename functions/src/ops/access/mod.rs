//! Access control as administrators see it: the permission catalogue, explanations, each
//! caller's effective permissions, the audit trail and the access review.

pub mod explain;
pub mod list_audit;
pub mod list_permissions;
pub mod my_permissions;
pub mod review;
