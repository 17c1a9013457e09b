//! `POST /v1/role-assignments:bulk`: up to 100 additions and removals, all or nothing (one
//! transaction, one audit entry): terminations and job code changes in one go.

use std::borrow::Cow;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use guardpost_shared::access::schema::{Reason, RoleRef, collect, nullable, reference};
use guardpost_shared::access::{Permission, authorize_listing};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{AssignmentId, Timestamp, UserId, schema};
use guardpost_shared::http::{Body, Problem};
use guardpost_shared::records::role::Scope;
use guardpost_shared::{AppError, AppResult, AppState};
use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Applied, AssignmentInput, AssignmentView, Planned, apply};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "bulk-role-assignments",
    method: "POST",
    path: "/v1/role-assignments:bulk",
    access: Access::Requires(Permission::ROLE_ASSIGNMENTS_MANAGE),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

/// The document's schema is written by hand below (the derive cannot close a variant to
/// unknown fields).
#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum BulkChange {
    Add {
        user_id: String,
        role_id: String,
        scope: Scope,
        valid_from: Option<Timestamp>,
        valid_until: Option<Timestamp>,
        reason: String,
    },
    Remove {
        user_id: String,
        assignment_id: String,
    },
}

/// One shape per `op`, each closed (`deny_unknown_fields` refuses any other field, a remove's
/// `role_id` too), with the ids, the reason and the times as the handler and `apply` parse them.
impl PartialSchema for BulkChange {
    fn schema() -> RefOr<Schema> {
        let op = |name: &str| ObjectBuilder::new().schema_type(Type::String).enum_values(Some([name]));
        let change = |name: &str, description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some(description))
                .property("op", op(name))
                .required("op")
                .property("user_id", reference::<schema::Id>())
                .required("user_id")
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        };
        let add = change("add", "Give the user a role over a scope (as POST /v1/users/{user_id}/role-assignments)")
            .property("role_id", reference::<RoleRef>())
            .required("role_id")
            .property("scope", reference::<Scope>())
            .required("scope")
            .property("valid_from", nullable::<Timestamp>())
            .property("valid_until", nullable::<Timestamp>())
            .property("reason", reference::<Reason>())
            .required("reason");
        let remove = change("remove", "Take one of the user's assignments away")
            .property("assignment_id", reference::<schema::Id>())
            .required("assignment_id");
        OneOfBuilder::new().description(Some("One change, by `op`")).item(add).item(remove).into()
    }
}

impl ToSchema for BulkChange {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("BulkChange")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        collect::<schema::Id>(schemas);
        collect::<RoleRef>(schemas);
        collect::<Scope>(schemas);
        collect::<Timestamp>(schemas);
        collect::<Reason>(schemas);
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    /// 1 to 100 changes, touching at most 99 users.
    #[schema(min_items = 1, max_items = 100)]
    pub changes: Vec<BulkChange>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    pub added: Vec<AssignmentView>,
    pub removed: Vec<AssignmentView>,
}

#[utoipa::path(post, path = "/v1/role-assignments:bulk", tag = "access", security(("bearer" = [])), request_body = BulkRequest,
    responses((status = 200, body = BulkResult), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Body(req): Body<BulkRequest>,
) -> AppResult<Response> {
    authorize_listing(&state, &principal, Permission::ROLE_ASSIGNMENTS_MANAGE).await?;
    if req.changes.is_empty() || req.changes.len() > 100 {
        return Err(AppError::invalid("changes", "send 1 to 100 changes"));
    }
    let mut planned = Vec::with_capacity(req.changes.len());
    for (i, change) in req.changes.into_iter().enumerate() {
        let bad = |f: &str| AppError::invalid(&format!("changes[{i}].{f}"), "is not a valid id");
        planned.push(match change {
            BulkChange::Add { user_id, role_id, scope, valid_from, valid_until, reason } => Planned::Add {
                user_id: UserId::parse(&user_id).map_err(|_| bad("user_id"))?,
                input: AssignmentInput { role_id, scope, valid_from, valid_until, reason },
            },
            BulkChange::Remove { user_id, assignment_id } => Planned::Remove {
                user_id: UserId::parse(&user_id).map_err(|_| bad("user_id"))?,
                assignment_id: AssignmentId::parse(&assignment_id).map_err(|_| bad("assignment_id"))?,
            },
        });
    }
    let now = state.now();
    let result = |applied: &Applied| {
        Json(BulkResult {
            added: applied.added.iter().map(|(u, a)| AssignmentView::new(*u, a, now)).collect(),
            removed: applied.removed.iter().map(|(u, a)| AssignmentView::new(*u, a, now)).collect(),
        })
        .into_response()
    };
    apply(&state, &principal, planned, "assignments.bulk", |i, f| format!("changes[{i}].{f}"), result).await
}
