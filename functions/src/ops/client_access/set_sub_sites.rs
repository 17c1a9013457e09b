//! `PUT /v1/client-accesses/{client_access_id}/sub-sites` `{"<sub_site_id>": true | false, ...}`:
//! TrackTik's "Yes" / "No" per sub-site of a master site. A sub-site set to `false` is hidden from
//! the client from their next request on, answering exactly like a site that does not exist;
//! sub-sites not named keep their setting, and sub-sites added to the master later are visible.
//! The client's access item and the audit entry are one version-checked transaction.

use std::borrow::Cow;
use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::Permission;
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{SiteId, Validator, schema};
use guardpost_shared::http::{Body, Problem};
use guardpost_shared::records::audit::{self, Change};
use guardpost_shared::records::written_over;
use guardpost_shared::store::TxOp;
use guardpost_shared::{AppError, AppResult, AppState};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::get_sub_sites::SubSites;
use super::{SubSiteVisibility, locate, master_and_hidden};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "set-client-sub-sites",
    method: "PUT",
    path: "/v1/client-accesses/{client_access_id}/sub-sites",
    access: Access::Requires(Permission::CLIENT_ACCESS_EDIT),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

/// The body, for the document: at least one sub-site id (as `SiteId::parse` takes it), each to
/// `true` or `false`. Whether each id is a sub-site of the access's master site is the handler's
/// to say (422).
pub struct SubSiteSettings;

impl PartialSchema for SubSiteSettings {
    fn schema() -> RefOr<Schema> {
        let ids = match schema::Id::schema() {
            RefOr::T(id) => Some(id),
            RefOr::Ref(_) => None,
        };
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("Sub-site id to true (the client sees it) or false (hidden); at least one"))
            .property_names(ids)
            .additional_properties(Some(ObjectBuilder::new().schema_type(Type::Boolean)))
            .min_properties(Some(1))
            .into()
    }
}

impl ToSchema for SubSiteSettings {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SubSiteSettings")
    }
}

#[utoipa::path(put, path = "/v1/client-accesses/{client_access_id}/sub-sites", tag = "client-access", security(("bearer" = [])),
    params(("client_access_id" = inline(schema::Id), Path)),
    request_body(content = SubSiteSettings, description = "Sub-site id to true (the client sees it) or false (hidden)"),
    responses((status = 200, body = SubSites), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The access's site is not a master site", body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Body(req): Body<BTreeMap<String, bool>>,
) -> AppResult<Json<SubSites>> {
    let (record, granted) = locate(&state, &principal, &id, Permission::CLIENT_ACCESS_EDIT).await?;
    let record = record.record;
    let org = &principal.org;
    let master = granted.site().is_some_and(|s| s.record.kind == guardpost_shared::records::site::SiteKind::Master);
    if !master {
        return Err(AppError::conflict(
            "not-a-master-site",
            "only a master site's access has sub-sites to show or hide",
        ));
    }
    let (subs, access, hidden) = master_and_hidden(&state, org, &record, granted).await?;
    let mut v = Validator::new();
    let mut wanted: Vec<(SiteId, bool)> = Vec::new();
    for (raw, visible) in &req {
        match SiteId::parse(raw) {
            Ok(id) if subs.iter().any(|s| s.id == id) => wanted.push((id, *visible)),
            _ => v.fail(raw, "is not a sub-site of this access's master site"),
        }
    }
    if req.is_empty() {
        v.fail("body", "name at least one sub-site");
    }
    v.finish()?;
    let mut next = hidden.clone();
    for (id, visible) in &wanted {
        next.retain(|h| h != id);
        if !visible {
            next.push(*id);
        }
    }
    // Only sub-sites that still exist stay hidden, in a stable order.
    next.retain(|h| subs.iter().any(|s| s.id == *h));
    next.sort();
    let mut updated = access.record.clone();
    let assignment = updated.assignments.iter_mut().find(|a| a.id == record.assignment_id).ok_or_else(|| {
        AppError::conflict("access-missing", "this access's assignment was removed; delete and recreate it")
    })?;
    assignment.hidden_sites = next.clone();
    let now = state.now();
    let change = Change::new(
        "client-access.sub-sites",
        vec![record.id.to_string()],
        &serde_json::json!({ "hidden_sites": hidden }),
        &serde_json::json!({ "hidden_sites": next }),
    )?;
    state
        .store
        .transact(vec![
            TxOp::put(updated.item(org, &record.id, access.version + 1)?, written_over(access.version)),
            audit::record(org, &principal, state.new_ulid(), now, change)?,
        ])
        .await?;
    tracing::info!(client = %record.id, by = %principal.user.id, hidden = next.len(), "client sub-sites changed");
    Ok(Json(SubSites { items: SubSiteVisibility::list(&subs, &next) }))
}
