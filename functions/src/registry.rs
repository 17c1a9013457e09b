//! The operation registry: every operation with its id (the Lambda function's
//! `GUARDPOST_OPERATION`), route and the permission it needs. A consistency test keeps this list,
//! `infra/template.yaml`, `events/` and the OpenAPI document in step.

use guardpost_shared::AppState;
use guardpost_shared::access::Permission;
use utoipa_axum::router::OpenApiRouter;

use crate::ops;

/// Who may call an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No credentials needed (login, refresh, logout, health): each proves itself.
    Public,
    /// A live session, then the decision point for this permission.
    Requires(Permission),
}

#[derive(Clone, Copy)]
pub struct Operation {
    pub id: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    pub router: fn() -> OpenApiRouter<AppState>,
}

impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.id, self.method, self.path)
    }
}

pub const OPERATIONS: &[Operation] = &[
    ops::health::OPERATION,
    ops::auth::login::OPERATION,
    ops::auth::refresh::OPERATION,
    ops::auth::logout::OPERATION,
    ops::auth::set_password::OPERATION,
    ops::auth::forgot_password::OPERATION,
    ops::auth::get_me::OPERATION,
    ops::auth::list_my_sites::OPERATION,
    ops::regions::create::OPERATION,
    ops::regions::list::OPERATION,
    ops::sites::create::OPERATION,
    ops::sites::list::OPERATION,
    ops::sites::get::OPERATION,
    ops::sites::update::OPERATION,
    ops::sites::list_employees::OPERATION,
    ops::sites::assign_employee::OPERATION,
    ops::sites::unassign_employee::OPERATION,
    ops::employees::create::OPERATION,
    ops::employees::list::OPERATION,
    ops::employees::get::OPERATION,
    ops::employees::update::OPERATION,
    ops::employees::reset_password::OPERATION,
    ops::employees::reactivate::OPERATION,
    ops::users::login_activity::OPERATION,
    ops::users::directory::OPERATION,
    ops::users::get_notification_preferences::OPERATION,
    ops::users::set_notification_preferences::OPERATION,
    ops::users::get_user_notification_preferences::OPERATION,
    ops::users::set_user_notification_preferences::OPERATION,
    ops::files::create::OPERATION,
    ops::files::list::OPERATION,
    ops::files::get::OPERATION,
    ops::shifts::create::OPERATION,
    ops::shifts::list_site::OPERATION,
    ops::shifts::list_mine::OPERATION,
    ops::time::clock_in::OPERATION,
    ops::time::clock_out::OPERATION,
    ops::time::break_start::OPERATION,
    ops::time::break_end::OPERATION,
    ops::time::list_mine::OPERATION,
    ops::time::list_site::OPERATION,
    ops::notifications::list::OPERATION,
    ops::notifications::retry::OPERATION,
    ops::access::list_permissions::OPERATION,
    ops::access::my_permissions::OPERATION,
    ops::access::explain::OPERATION,
    ops::access::review::OPERATION,
    ops::access::list_audit::OPERATION,
    ops::roles::create::OPERATION,
    ops::roles::list::OPERATION,
    ops::roles::get::OPERATION,
    ops::roles::update::OPERATION,
    ops::roles::delete::OPERATION,
    ops::roles::list_assignments::OPERATION,
    ops::assignments::create::OPERATION,
    ops::assignments::list::OPERATION,
    ops::assignments::get::OPERATION,
    ops::assignments::delete::OPERATION,
    ops::assignments::bulk::OPERATION,
    ops::users::set_superuser::OPERATION,
    ops::employees::terminate::OPERATION,
    ops::integrations::create::OPERATION,
    ops::integrations::rotate_secret::OPERATION,
    ops::auth::token::OPERATION,
    ops::auth::change_password::OPERATION,
    ops::client_access::create::OPERATION,
    ops::client_access::list::OPERATION,
    ops::client_access::get::OPERATION,
    ops::client_access::update::OPERATION,
    ops::client_access::delete::OPERATION,
    ops::client_access::resend_invitation::OPERATION,
    ops::client_access::get_sub_sites::OPERATION,
    ops::client_access::set_sub_sites::OPERATION,
    ops::client::schedule::OPERATION,
    ops::client::timesheets::OPERATION,
    ops::client::on_site::OPERATION,
    ops::client::approve_timesheet::OPERATION,
];

pub fn find(id: &str) -> Option<&'static Operation> {
    OPERATIONS.iter().find(|op| op.id == id)
}
