//! Login, token refresh, logout and the caller's own views.

mod attempts;
pub mod change_password;
pub mod forgot_password;
pub mod get_me;
pub mod list_my_sites;
pub mod login;
pub mod logout;
pub mod refresh;
mod session;
pub mod set_password;
pub mod token;

use serde::Serialize;
use utoipa::ToSchema;

/// Tokens handed out by login and refresh.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// JWT for `Authorization: Bearer`, valid `expires_in` seconds.
    pub access_token: String,
    /// Opaque; exchange at `/v1/auth/refresh`. Each use returns a new one and retires the old.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    pub expires_in: i64,
    /// The user must change their password: until they do (`POST /v1/me/password` with this
    /// access token), every other request answers `403 password-change-required`.
    pub password_change_required: bool,
    /// Login only: send it back as `device_token` on the next login from this device, which is
    /// then not held up by failed attempts against the account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
}
