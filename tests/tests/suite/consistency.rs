//! The operation registry, `infra/template.yaml`, `events/` and the OpenAPI document describe the
//! same operations: each has a function, an event, a route and an OpenAPI entry, and nothing
//! else exists.

use std::collections::BTreeSet;
use std::path::PathBuf;

use guardpost::registry::{Access, OPERATIONS};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

type Route = (String, String, String);

fn registry() -> BTreeSet<Route> {
    OPERATIONS.iter().map(|op| (op.id.to_owned(), op.method.to_owned(), op.path.to_owned())).collect()
}

/// (operation, method, path) of every function in the template, read block by block.
fn template_functions() -> BTreeSet<Route> {
    let text = std::fs::read_to_string(repo().join("infra/template.yaml")).unwrap();
    let mut found = BTreeSet::new();
    for block in text.split("Type: AWS::Serverless::Function").skip(1) {
        let value = |key: &str| {
            block
                .lines()
                .find_map(|l| l.trim().strip_prefix(key).map(|v| v.trim().trim_matches('"').to_owned()))
                .unwrap_or_default()
        };
        found.insert((value("GUARDPOST_OPERATION:"), value("Method:"), value("Path:")));
    }
    found
}

#[test]
fn every_operation_has_exactly_one_function_in_the_template() {
    let mut expected = registry();
    // The stream-triggered notifier has no route.
    expected.insert((guardpost::lambda::NOTIFIER.to_owned(), String::new(), String::new()));
    assert_eq!(template_functions(), expected);
}

#[test]
fn the_template_operations_are_generated_from_the_registry() {
    let text = std::fs::read_to_string(repo().join("infra/template.yaml")).unwrap();
    let generated = guardpost::template::render(&text).unwrap();
    assert!(generated == text, "infra/template.yaml is stale: run `cargo run -- template infra/template.yaml`");
}

#[test]
fn the_notifier_reads_only_outbox_items_from_the_stream_and_reports_partial_failures() {
    let text = std::fs::read_to_string(repo().join("infra/template.yaml")).unwrap();
    let notifier =
        text.split("Type: AWS::Serverless::Function").find(|b| b.contains("GUARDPOST_OPERATION: notifier")).unwrap();
    for needle in [
        "Type: DynamoDB",
        "Table.StreamArn",
        "BisectBatchOnFunctionError: true",
        "ReportBatchItemFailures",
        "outbox",
        "OnFailure",
    ] {
        assert!(notifier.contains(needle), "the notifier function lacks {needle}");
    }
}

#[test]
fn every_operation_has_exactly_one_sample_event_with_its_route() {
    let mut found = BTreeSet::new();
    for entry in std::fs::read_dir(repo().join("events")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") && path.file_stem().is_some_and(|s| s != "notifier") {
            let event: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let (method, route) = event["routeKey"].as_str().unwrap().split_once(' ').unwrap();
            found.insert((
                path.file_stem().unwrap().to_string_lossy().into_owned(),
                method.to_owned(),
                route.to_owned(),
            ));
        }
    }
    assert_eq!(found, registry());
}

#[test]
fn every_operation_is_in_the_openapi_document_and_nothing_else_is() {
    let doc = serde_json::to_value(guardpost::app::openapi()).unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if matches!(method.as_str(), "get" | "post" | "put" | "patch" | "delete") {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let registered: BTreeSet<_> = OPERATIONS.iter().map(|op| (op.method.to_owned(), op.path.to_owned())).collect();
    assert_eq!(documented, registered);
}

#[test]
fn operation_ids_are_unique_and_only_the_self_proving_ones_are_public() {
    let ids: BTreeSet<_> = OPERATIONS.iter().map(|op| op.id).collect();
    assert_eq!(ids.len(), OPERATIONS.len());
    let public: BTreeSet<_> = OPERATIONS.iter().filter(|op| op.access == Access::Public).map(|op| op.id).collect();
    assert_eq!(
        public,
        BTreeSet::from([
            "health",
            "login",
            "refresh-token",
            "logout",
            "set-password",
            "forgot-password",
            "issue-client-token"
        ])
    );
}

#[test]
fn every_link_names_an_operation_and_every_reference_resolves() {
    let doc = serde_json::to_value(guardpost::app::openapi()).unwrap();
    let ids: BTreeSet<String> = OPERATIONS.iter().map(|op| op.id.to_owned()).collect();
    let mut links = 0;
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values().filter(|op| op.get("responses").is_some()) {
            assert!(ids.contains(op["operationId"].as_str().unwrap_or_default()), "{op:?} has no registry id");
            for response in op["responses"].as_object().unwrap().values() {
                for link in response.get("links").and_then(|l| l.as_object()).into_iter().flat_map(|l| l.values()) {
                    links += 1;
                    assert!(ids.contains(link["operationId"].as_str().unwrap_or_default()), "link {link}");
                }
            }
        }
    }
    assert!(links > 40, "the creates link to what they made ({links} links)");
    let text = doc.to_string();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "#/components/schemas/{name} is referenced but not defined");
    }
}

#[test]
fn openapi_documents_problem_answers_and_bearer_auth() {
    let doc = serde_json::to_value(guardpost::app::openapi()).unwrap();
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
}
