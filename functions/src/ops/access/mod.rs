//! Access control as administrators see it: the permission catalogue (roles, assignments,
//! explanations and audit come with the access-control issue).

pub mod list_permissions;
