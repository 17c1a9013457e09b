//! One module per operation. Each declares its `OPERATION` (id, route, permission) and its
//! handler, documented for OpenAPI with `#[utoipa::path]`.

pub mod access;
pub mod assignments;
pub mod auth;
pub mod client;
pub mod client_access;
pub mod employees;
pub mod files;
pub mod health;
pub mod integrations;
pub mod notifications;
pub mod range;
pub mod regions;
pub mod roles;
pub mod shifts;
pub mod sites;
pub mod time;
pub mod users;
