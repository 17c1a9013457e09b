//! Authentication: password hashing and policy, access tokens (JWT), refresh tokens, and the
//! per-request check that turns a bearer token into a [`Principal`].

pub mod attempts;
mod hashing;
pub mod password;
pub mod principal;
pub mod tokens;

pub use principal::{Principal, authenticate, token_subject};
pub use tokens::{AccessClaims, RefreshToken, TokenKeys};
