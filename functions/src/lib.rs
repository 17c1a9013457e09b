//! guardpost operations: one module per operation (request/response types, the use case and its
//! route), the registry that lists them, the router that mounts them, and the start-up code
//! shared by the `guardpost` CLI and the Lambda entry point.

pub mod app;
#[cfg(feature = "aws")]
pub mod aws_http;
pub mod bootstrap;
pub mod cli;
pub mod config;
#[cfg(feature = "aws")]
pub mod lambda;
pub mod links;
pub mod migrate;
pub mod notifier;
pub mod ops;
pub mod registry;
#[cfg(feature = "aws")]
pub mod sms_settings;
pub mod template;
pub mod together;
