//! `GET /v1/audit?subject=&from=&to=`: the audit trail of access changes, newest first, for
//! administrators. `subject` keeps the entries about one user, role or assignment id.

use axum::Json;
use axum::extract::State;
use chrono::Duration;
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{Timestamp, schema};
use guardpost_shared::http::{Paged, Params, Problem};
use guardpost_shared::records::audit::{self, AuditEntry};
use guardpost_shared::records::{keys, sort_time};
use guardpost_shared::store::{Query, read_page};
use guardpost_shared::{AppResult, AppState};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ops::range::RangeParams;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-audit",
    method: "GET",
    path: "/v1/audit",
    access: Access::Requires(Permission::AUDIT_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// A user, role or assignment id: keeps the entries about it (any text is taken and
    /// compared, ignoring case; blank keeps them all).
    pub subject: Option<String>,
    /// RFC 3339; default 7 days before `to`; before `to`, at most 93 days before it.
    #[param(inline, value_type = Option<Timestamp>)]
    pub from: Option<String>,
    /// RFC 3339; default now.
    #[param(inline, value_type = Option<Timestamp>)]
    pub to: Option<String>,
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    #[param(inline, value_type = Option<schema::Cursor>)]
    pub cursor: Option<String>,
}

/// Role permissions are the permission matrix, which only superusers see: others read role
/// changes without them.
fn without_permissions(mut entry: AuditEntry) -> AuditEntry {
    if entry.action.starts_with("role.") {
        for side in [&mut entry.before, &mut entry.after] {
            if let Some(fields) = side.as_object_mut()
                && fields.contains_key("permissions")
            {
                fields.insert("permissions".into(), serde_json::Value::String("(superusers only)".into()));
            }
        }
    }
    entry
}

#[utoipa::path(get, path = "/v1/audit", tag = "access", security(("bearer" = [])), params(AuditParams),
    responses((status = 200, body = Paged<AuditEntry>), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Params(params): Params<AuditParams>,
) -> AppResult<Json<Paged<AuditEntry>>> {
    authorize(&state, &principal, Permission::AUDIT_VIEW, Resource::Organisation).await?;
    let range = RangeParams { from: params.from, to: params.to, limit: params.limit, cursor: params.cursor };
    let (from, to) = range.window(state.now() + Duration::seconds(1))?;
    let page = range.page();
    let query = Query::table(keys::audit(&principal.org))
        .between(sort_time(from), sort_time(to))
        .descending()
        .limit(page.limit()?)
        .after(page.cursor()?);
    let result = read_page(state.store.as_ref(), &query).await?;
    let subject = params.subject.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let mut items = Vec::new();
    for it in result.items.iter().filter(|i| i.kind == audit::KIND) {
        let entry: AuditEntry = it.parse()?;
        if subject.is_none_or(|s| entry.subjects.iter().any(|x| x.eq_ignore_ascii_case(s))) {
            items.push(if principal.user.is_superuser { entry } else { without_permissions(entry) });
        }
    }
    Ok(Json(Paged::from_page(&result, items)))
}
