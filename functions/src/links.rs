//! OpenAPI links: from each operation that creates something (a `201`) to every operation that
//! reads, changes or deletes it, so a client (and schemathesis's stateful phase) can follow
//! the id a create answered with. Derived from the document itself: a create at
//! `/v1/sites` makes a `site`, so every path with a `{site_id}` parameter is linked, its id
//! taken from the answer (`$response.body#/id`) and any other path parameter it shares with the
//! create from the create's own path, or from a field of the answer of the same name.

use utoipa::openapi::OpenApi;
use utoipa::openapi::RefOr;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::Schema;

/// Resources whose ids do not follow from the create's path: (create path, path parameter,
/// where the answer holds its value).
const IRREGULAR: &[(&str, &str, &str)] = &[
    ("/v1/employees", "user_id", "/id"),
    ("/v1/integrations", "user_id", "/user_id"),
    ("/v1/users/{user_id}/role-assignments", "assignment_id", "/id"),
    ("/v1/sites/{site_id}/clock-in", "time_entry_id", "/id"),
    ("/v1/users/{user_id}/files", "file_id", "/file/id"),
];

/// One operation of the document: its path, id, path parameters.
struct Target {
    path: String,
    id: String,
    params: Vec<String>,
}

pub fn add(doc: &mut OpenApi) {
    let targets: Vec<Target> = doc
        .paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            [&item.get, &item.put, &item.patch, &item.delete, &item.post].into_iter().flatten().map(move |op| Target {
                path: path.clone(),
                id: op.operation_id.clone().unwrap_or_default(),
                params: path_params(op),
            })
        })
        .collect();
    let schemas = doc.components.as_ref().map(|c| c.schemas.clone()).unwrap_or_default();
    for (path, item) in doc.paths.paths.iter_mut() {
        let Some(create) = item.post.as_mut() else { continue };
        let Some(RefOr::T(created)) = create.responses.responses.get_mut("201") else { continue };
        let fields = answer_fields(created, &schemas);
        let create_params = path_params_of(path);
        let made = made_here(path, &fields);
        for target in targets.iter().filter(|t| t.path != *path) {
            let Some(link) = link_to(target, &made, &create_params, &fields) else { continue };
            created.links.insert(target.id.clone(), RefOr::T(link));
        }
    }
}

/// (path parameter, JSON pointer into the answer) of what this create makes.
fn made_here(path: &str, fields: &[String]) -> Vec<(String, String)> {
    let mut made: Vec<(String, String)> =
        IRREGULAR.iter().filter(|(p, ..)| *p == path).map(|(_, param, at)| ((*param).into(), (*at).into())).collect();
    let last = path.rsplit('/').find(|s| !s.starts_with('{')).unwrap_or_default();
    let singular =
        last.strip_suffix("sses").map(|s| format!("{s}ss")).unwrap_or_else(|| last.trim_end_matches('s').into());
    if fields.iter().any(|f| f == "id") {
        made.push((format!("{}_id", singular.replace('-', "_")), "/id".into()));
    }
    made
}

fn link_to(
    target: &Target,
    made: &[(String, String)],
    create_params: &[String],
    fields: &[String],
) -> Option<utoipa::openapi::link::Link> {
    if !target.params.iter().any(|p| made.iter().any(|(m, _)| m == p)) {
        return None;
    }
    // utoipa 5.5 writes the field `operation_id` as is, where OpenAPI says `operationId`; the
    // extensions map is written flat and unfiltered, so the id goes there under its right name.
    let mut named = Extensions::default();
    named.insert("operationId".into(), target.id.clone().into());
    let mut link = LinkBuilder::new().extensions(Some(named));
    for param in &target.params {
        let value = if let Some((_, at)) = made.iter().find(|(m, _)| m == param) {
            format!("$response.body#{at}")
        } else if create_params.contains(param) {
            format!("$request.path.{param}")
        } else if fields.contains(param) {
            format!("$response.body#/{param}")
        } else {
            return None;
        };
        link = link.parameter(param, value);
    }
    Some(link.build())
}

fn path_params(op: &Operation) -> Vec<String> {
    op.parameters
        .iter()
        .flatten()
        .filter(|p| matches!(p.parameter_in, ParameterIn::Path))
        .map(|p| p.name.clone())
        .collect()
}

fn path_params_of(path: &str) -> Vec<String> {
    path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).map(str::to_owned).collect()
}

/// The top-level fields of a JSON answer (following one reference and `allOf`).
fn answer_fields(
    response: &utoipa::openapi::Response,
    schemas: &std::collections::BTreeMap<String, RefOr<Schema>>,
) -> Vec<String> {
    fn fields(
        schema: &RefOr<Schema>,
        schemas: &std::collections::BTreeMap<String, RefOr<Schema>>,
        depth: u8,
    ) -> Vec<String> {
        match schema {
            RefOr::Ref(r) if depth < 4 => {
                let name = r.ref_location.rsplit('/').next().unwrap_or_default();
                schemas.get(name).map(|s| fields(s, schemas, depth + 1)).unwrap_or_default()
            }
            RefOr::T(Schema::Object(o)) => o.properties.keys().cloned().collect(),
            RefOr::T(Schema::AllOf(all)) if depth < 4 => {
                all.items.iter().flat_map(|s| fields(s, schemas, depth + 1)).collect()
            }
            _ => Vec::new(),
        }
    }
    response
        .content
        .get("application/json")
        .and_then(|c| c.schema.as_ref())
        .map(|s| fields(s, schemas, 0))
        .unwrap_or_default()
}
