//! The permission catalogue as administrators see it.

use guardpost::registry::{Access, OPERATIONS};
use guardpost_shared::access::catalogue;
use guardpost_tests::{Backend, TestApp, on_both_stores};

on_both_stores!(administrators_read_the_permission_catalogue_and_guards_do_not);

async fn administrators_read_the_permission_catalogue_and_guards_do_not(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let listed = app.get("/v1/permissions", &admin).await.expect(200).body;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), catalogue::CATALOGUE.len());
    let template = items.iter().find(|p| p["name"] == "report-templates:create").unwrap();
    assert_eq!(template["scopes"], serde_json::json!(["org", "region"]), "region level and up only");
    let dashboard: Vec<_> = items.iter().filter(|p| p["name"].as_str().unwrap().starts_with("dashboard:")).collect();
    assert_eq!(dashboard.len(), 9, "the manager dashboard permissions of the onsite licence");
    app.create_employee(&admin, "G-1", "guard1", "correct-horse-battery-7").await;
    let guard = app.login("guard1", "correct-horse-battery-7").await.access_token;
    app.get("/v1/permissions", &guard).await.expect(403);
}

#[test]
fn every_operation_that_needs_a_session_names_a_catalogued_permission() {
    for op in OPERATIONS {
        if let Access::Requires(permission) = op.access {
            assert!(
                catalogue::find(permission.name()).is_some(),
                "{}: {} is not in the catalogue",
                op.id,
                permission.name()
            );
        }
    }
}
