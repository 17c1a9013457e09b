//! The HTTP application: the routers of the chosen operations, merged, with the layers every
//! request goes through (request id, trace span, body limit, idempotency, problem fallback).
//! Locally all operations are mounted, plus `/openapi.json` and the Swagger UI at `/docs`; on
//! Lambda, one operation.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request};
use axum::http::HeaderName;
use axum::middleware::{self, Next};
use axum::response::Response;
use guardpost_shared::AppState;
use guardpost_shared::http::ClientIp;
use guardpost_shared::http::idempotency;
use guardpost_shared::http::problem::{method_not_allowed, not_found_fallback};
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::registry::{Access, OPERATIONS, Operation};

#[derive(OpenApi)]
#[openapi(
    info(title = "guardpost", description = "Open-source backend for security-guard companies.", license(name = "Apache-2.0")),
    modifiers(&BearerAuth),
    // Referenced by query parameters, which utoipa does not collect.
    components(schemas(
        guardpost_shared::domain::schema::Cursor,
        guardpost_shared::domain::schema::Id,
        guardpost_shared::domain::Timestamp,
    )),
    tags(
        (name = "auth", description = "Login, token refresh, logout, the caller"),
        (name = "me", description = "The caller's own sites"),
        (name = "regions"), (name = "sites"), (name = "employees"),
        (name = "shifts", description = "Scheduled and unplanned shifts"),
        (name = "time", description = "Clock in and out, breaks, time entries"),
        (name = "notifications", description = "The outbox: emails and SMS, and what became of them"),
        (name = "access", description = "Permissions and roles"),
        (name = "client-access", description = "Clients' portal access to sites: invitations, sub-sites, revocation"),
        (name = "client", description = "The client portal: what a client sees of their sites"),
        (name = "health"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// Operations whose answers carry a fresh secret or a capability (a client secret, tokens, an
/// upload URL), or whose requests carry a password to set for someone: never stored by the
/// idempotency layer (a retry of create-integration meets its unique name instead; a retried
/// rotation rotates again; a retried file declaration declares a second, empty file).
pub const ANSWERS_CARRY_SECRETS: &[&str] = &[
    "create-integration",
    "rotate-integration-secret",
    "change-my-password",
    "create-user-file",
    "reset-employee-password",
];

/// Operations whose answers carry tokens, secrets or signed URLs: answered with
/// `Cache-Control: no-store`, so no browser or proxy keeps them.
pub const NOT_TO_BE_CACHED: &[&str] = &[
    "login",
    "refresh-token",
    "issue-client-token",
    "create-integration",
    "rotate-integration-secret",
    "change-my-password",
    "create-user-file",
    "get-user-file",
    "create-client-access",
    "update-client-access",
];

async fn no_store(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    response
}

/// The routes and OpenAPI document of some operations.
/// With a state, each operation that needs a session also gets the `Idempotency-Key` layer;
/// public ones (login, refresh, set-password...) never do, so their answers, which carry fresh
/// secrets, are never stored.
pub fn routes<'a>(
    state: Option<&AppState>,
    ops: impl IntoIterator<Item = &'a Operation>,
) -> (Router<AppState>, OpenApiDoc) {
    let mut doc = ApiDoc::openapi();
    let mut router = Router::new();
    for op in ops {
        let (route, mut api) = mount(state, op);
        name_operation(&mut api, op);
        document_idempotency(&mut api, op);
        doc.merge(api);
        router = router.merge(route);
    }
    document_problems(&mut doc);
    crate::links::add(&mut doc);
    crate::together::add(&mut doc);
    (router, doc)
}

/// One operation's route with its layers, and the part of the document its handler declares.
fn mount(state: Option<&AppState>, op: &Operation) -> (Router<AppState>, OpenApiDoc) {
    let (route, api) = (op.router)().split_for_parts();
    let route = match (state, op.access) {
        (Some(state), Access::Requires(_)) if takes_idempotency_keys(op) => {
            route.layer(middleware::from_fn_with_state(state.clone(), idempotency::layer))
        }
        _ => route,
    };
    let route = if NOT_TO_BE_CACHED.contains(&op.id) { route.layer(middleware::from_fn(no_store)) } else { route };
    (route, api)
}

/// Whether the `Idempotency-Key` layer wraps the operation (it acts on POST only).
fn takes_idempotency_keys(op: &Operation) -> bool {
    matches!(op.access, Access::Requires(_)) && !ANSWERS_CARRY_SECRETS.contains(&op.id)
}

/// The `Idempotency-Key` header, documented on exactly the operations whose layer reads it, in
/// one place: operations that declare it themselves are corrected, ones whose answers carry a
/// secret (never stored, so the key would be ignored) lose it.
fn document_idempotency(api: &mut OpenApiDoc, op: &Operation) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let Some(operation) = api.paths.paths.get_mut(op.path).and_then(|item| item.post.as_mut()) else { return };
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    parameters
        .retain(|p| !(p.name.eq_ignore_ascii_case("idempotency-key") && matches!(p.parameter_in, ParameterIn::Header)));
    if op.method == "POST" && takes_idempotency_keys(op) {
        // HTTP drops spaces and tabs around a header's value before the server sees it.
        let schema = ObjectBuilder::new().schema_type(Type::String).pattern(Some(r"^[ \t]*[!-~]{1,255}[ \t]*$"));
        parameters.push(
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .description(Some("Repeat-safe retries: 1 to 255 visible ASCII characters"))
                .schema(Some(schema))
                .build(),
        );
    }
    if parameters.is_empty() {
        operation.parameters = None;
    }
}

/// The operation's id in the document is its registry id (each handler function is named
/// `handler`, which utoipa would otherwise use for every operation).
fn name_operation(api: &mut OpenApiDoc, op: &Operation) {
    let Some(item) = api.paths.paths.get_mut(op.path) else { return };
    let slot = match op.method {
        "GET" => &mut item.get,
        "POST" => &mut item.post,
        "PUT" => &mut item.put,
        "PATCH" => &mut item.patch,
        "DELETE" => &mut item.delete,
        _ => return,
    };
    if let Some(operation) = slot.as_mut() {
        operation.operation_id = Some(op.id.to_owned());
    }
}

/// Every error answer is problem+json: the document says so for the answers an operation
/// declares, and adds the ones any operation can give (malformed input, authentication, size
/// and type limits, validation, conflicts of concurrent writes, store outages), so clients and
/// contract tests see every status the server can send.
fn document_problems(doc: &mut OpenApiDoc) {
    use utoipa::openapi::path::HttpMethod;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let problem = || ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
    let standard: &[(&str, &str, &[HttpMethod])] = &[
        ("400", "Malformed request: not JSON, wrong types, unknown or missing fields or parameters", &[]),
        ("401", "No valid session, or (login) invalid credentials", &[]),
        ("403", "Not allowed", &[]),
        ("404", "No such thing in your organisation", &[]),
        (
            "409",
            "Conflict: a uniqueness claim, a state transition or a concurrent update",
            &[HttpMethod::Post, HttpMethod::Put, HttpMethod::Patch, HttpMethod::Delete],
        ),
        ("413", "Body over the size limit", &[HttpMethod::Post, HttpMethod::Put, HttpMethod::Patch]),
        ("415", "A body that is not application/json", &[HttpMethod::Post, HttpMethod::Put, HttpMethod::Patch]),
        ("422", "Invalid fields (see errors)", &[]),
        ("429", "Too many attempts", &[HttpMethod::Post]),
        ("500", "Internal error (nothing of the cause is revealed)", &[]),
        ("503", "The store did not answer", &[]),
    ];
    for item in doc.paths.paths.values_mut() {
        let operations = [
            (HttpMethod::Get, &mut item.get),
            (HttpMethod::Post, &mut item.post),
            (HttpMethod::Put, &mut item.put),
            (HttpMethod::Patch, &mut item.patch),
            (HttpMethod::Delete, &mut item.delete),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation.as_mut() else { continue };
            for (status, response) in operation.responses.responses.iter_mut() {
                if let (true, RefOr::T(response)) = (status.as_str() >= "400", response)
                    && let Some(content) = response.content.shift_remove("application/json")
                {
                    response.content.insert("application/problem+json".into(), content);
                }
            }
            for (status, description, only) in standard {
                if !only.is_empty() && !only.contains(&method) {
                    continue;
                }
                operation.responses.responses.entry((*status).to_owned()).or_insert_with(|| {
                    RefOr::T(
                        ResponseBuilder::new()
                            .description(*description)
                            .content("application/problem+json", problem())
                            .build(),
                    )
                });
            }
        }
    }
}

/// The OpenAPI document of every operation.
pub fn openapi() -> OpenApiDoc {
    routes(None, OPERATIONS).1
}

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request ids are ULIDs from the injected random source.
#[derive(Clone)]
struct UlidRequestId(AppState);

impl MakeRequestId for UlidRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        axum::http::HeaderValue::from_str(&self.0.new_ulid().to_string()).ok().map(RequestId::new)
    }
}

/// The application for the given operations, without the OpenAPI document: a Lambda function
/// serves its one route and never the document, so its cold start does not build it.
pub fn app<'a>(state: AppState, ops: impl IntoIterator<Item = &'a Operation>) -> Router {
    let router = ops.into_iter().fold(Router::new(), |router, op| router.merge(mount(Some(&state), op).0));
    with_layers(router, state)
}

/// Every operation, the OpenAPI document and the Swagger UI (vendored assets: no download).
pub fn local_app(state: AppState) -> Router {
    let (router, api) = routes(Some(&state), OPERATIONS);
    let router = router.merge(SwaggerUi::new("/docs").url("/openapi.json", api));
    let files = state.files.local_routes();
    let app = with_layers(router, state);
    // Locally, the server also takes and serves the bytes of users' files (S3 does on AWS).
    let app = match files {
        Some(files) => app.merge(files),
        None => app,
    };
    app.layer(middleware::from_fn(client_ip_from_socket))
}

fn with_layers(router: Router<AppState>, state: AppState) -> Router {
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &axum::http::Request<_>| {
            let request_id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default();
            // The path only: query strings and headers (tokens) are never logged.
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id, user = tracing::field::Empty)
        })
        .on_response(DefaultOnResponse::new().level(Level::INFO));
    router
        .fallback(not_found_fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.settings.max_body_bytes))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(trace)
        .layer(SetRequestIdLayer::new(REQUEST_ID, UlidRequestId(state.clone())))
        .with_state(state)
}

/// Locally the caller's address is the socket's peer.
async fn client_ip_from_socket(mut req: Request, next: Next) -> Response {
    if let Some(ConnectInfo(addr)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        req.extensions_mut().insert(ClientIp(addr.ip().to_string()));
    }
    next.run(req).await
}
