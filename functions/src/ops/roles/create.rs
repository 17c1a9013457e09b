//! `POST /v1/roles`: a custom role. Only superusers may give it permissions.

use std::borrow::Cow;

use axum::extract::State;
use guardpost_shared::access::catalogue::Portal;
use guardpost_shared::access::schema::{Cidr, PermissionName, RoleDescription, collect, reference};
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{RoleId, Validator, schema};
use guardpost_shared::http::{Body, Created, Problem, idempotency};
use guardpost_shared::records::audit::{self, Change};
use guardpost_shared::records::role::{self, ApiAccess, Role};
use guardpost_shared::records::{Tx, item, keys};
use guardpost_shared::store::{Condition, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::Deserialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{RoleView, check_may_edit, parse_cidrs, parse_description, parse_name, parse_permissions};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "create-role",
    method: "POST",
    path: "/v1/roles",
    access: Access::Requires(Permission::ROLES_MANAGE),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

/// The document's schema is written by hand below: one shape per portal, each listing the
/// permissions a role of that portal may hold.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRoleRequest {
    /// Unique in the organisation (case-insensitive).
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// `admin`, `staff` or `client`; a client role holds only client portal permissions.
    pub portal: Portal,
    /// Catalogue names (superusers only).
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Default `block`.
    #[serde(default)]
    pub api_access: ApiAccess,
    #[serde(default)]
    pub allowed_cidrs: Vec<String>,
}

/// What `parse_name`, `parse_description`, `parse_permissions` and `parse_cidrs` accept, per
/// portal (`parse_permissions` refuses a permission of another portal: client roles hold client
/// permissions, staff roles staff ones, admin roles admin and staff ones). Unknown fields are
/// refused (`deny_unknown_fields`); `description`, `permissions`, `api_access` and
/// `allowed_cidrs` may be left out but not be `null`.
impl PartialSchema for CreateRoleRequest {
    fn schema() -> RefOr<Schema> {
        let shape = |portal: Portal, name: &str| {
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some(format!("A role of the {name} portal")))
                .property("name", reference::<schema::Name>())
                .required("name")
                .property("description", reference::<RoleDescription>())
                .property("portal", ObjectBuilder::new().schema_type(Type::String).enum_values(Some([name])))
                .required("portal")
                .property(
                    "permissions",
                    ArrayBuilder::new()
                        .description(Some("Catalogue names (superusers only)"))
                        .items(PermissionName::of_portal(portal)),
                )
                .property("api_access", reference::<ApiAccess>())
                .property(
                    "allowed_cidrs",
                    ArrayBuilder::new()
                        .description(Some("At most 50 CIDR ranges (superusers only)"))
                        .items(reference::<Cidr>())
                        .max_items(Some(50)),
                )
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        };
        OneOfBuilder::new()
            .description(Some("A custom role: a client role holds only client portal permissions"))
            .item(shape(Portal::Admin, "admin"))
            .item(shape(Portal::Staff, "staff"))
            .item(shape(Portal::Client, "client"))
            .into()
    }
}

impl ToSchema for CreateRoleRequest {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("CreateRoleRequest")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        collect::<schema::Name>(schemas);
        collect::<RoleDescription>(schemas);
        collect::<ApiAccess>(schemas);
        collect::<Cidr>(schemas);
    }
}

#[utoipa::path(post, path = "/v1/roles", tag = "access", security(("bearer" = [])), request_body = CreateRoleRequest,
    responses((status = 201, body = RoleView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Body(req): Body<CreateRoleRequest>,
) -> AppResult<axum::response::Response> {
    authorize(&state, &principal, Permission::ROLES_MANAGE, Resource::Organisation).await?;
    let mut v = Validator::new();
    let name = parse_name(&mut v, &req.name);
    let description = parse_description(&mut v, &req.description);
    let permissions = parse_permissions(&mut v, req.portal, &req.permissions);
    let allowed_cidrs = parse_cidrs(&mut v, &req.allowed_cidrs);
    v.finish()?;
    let (Some(name), Some(description)) = (name, description) else {
        return Err(AppError::invalid("name", "required"));
    };
    let now = state.now();
    let role = Role {
        id: RoleId::from_ulid(state.new_ulid()),
        name,
        description,
        portal: req.portal,
        permissions,
        api_access: req.api_access,
        allowed_cidrs,
        default: false,
        created_at: now,
        updated_at: now,
    };
    let api = role.api_access != ApiAccess::default() || !role.allowed_cidrs.is_empty();
    check_may_edit(&principal, &role, !role.permissions.is_empty(), api)?;
    let org = &principal.org;
    let claim =
        item(keys::role_name(org, &role.name), role::ROLE_NAME_KIND, &serde_json::json!({ "role_id": role.id }))?;
    let change = Change::new("role.create", vec![role.id.to_string()], &serde_json::Value::Null, &role)?;
    let mut tx = Tx::new();
    let taken = AppError::conflict("role-name-taken", format!("a role named {} already exists", role.name));
    tx.push(TxOp::put(claim, Condition::NotExists), taken);
    tx.push_plain(TxOp::put(role.item(org, 1)?, Condition::NotExists));
    tx.push_plain(audit::record(org, &principal, state.new_ulid(), now, change)?);
    idempotency::commit(tx, state.store.as_ref(), Created(RoleView::shown(&role, 1, &principal))).await
}
