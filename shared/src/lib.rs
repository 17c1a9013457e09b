//! guardpost core library: domain types, the store port and its adapters, authentication,
//! access control and the HTTP plumbing shared by every operation. It knows nothing of Lambda.

pub mod access;
pub mod auth;
pub mod clock;
pub mod domain;
pub mod error;
pub mod files;
pub mod http;
pub mod notify;
pub mod records;
pub mod state;
pub mod store;

pub use error::{AppError, AppResult};
pub use state::{AppState, Settings};
