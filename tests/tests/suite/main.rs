//! guardpost's end-to-end suite: stories through HTTP against a real server on SQLite and on
//! DynamoDB (moto), the Lambda sample events through the real Lambda adapter, and the
//! consistency of the operation registry with the template, events and OpenAPI document.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod access;
mod auth;
mod client_access;
mod consistency;
mod decisions;
mod employees;
mod files;
mod idempotency;
mod isolation;
mod lambda_events;
mod notifications;
mod outbox_soak;
mod people;
mod roles;
mod security;
mod security_credentials;
mod sites;
mod timekeeping;
mod upgrade;
mod walkthrough;
