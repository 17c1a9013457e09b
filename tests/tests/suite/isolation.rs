//! Tenant isolation: an administrator of one organisation learns nothing of another's ids.

use guardpost_tests::{ADMIN_PASSWORD, Backend, TestApp, on_both_stores};
use reqwest::Method;
use serde_json::json;

on_both_stores!(another_organisations_ids_are_not_found);

async fn another_organisations_ids_are_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.admin().await.access_token;
    let region = app.create_region(&acme, "North").await;
    let site = app
        .create_site(&acme, json!({"name": "Acme HQ", "kind": "master", "region_id": region, "time_zone": "UTC"}))
        .await;
    let guard = app.create_employee(&acme, "A-1", "aguard", "correct-horse-battery-7").await;

    app.add_org("globex", "boss@globex.example").await;
    let globex = app.login_as("globex", "boss@globex.example", ADMIN_PASSWORD).await.expect(200);
    let g = globex.body["access_token"].as_str().unwrap();
    let g_region = app.create_region(g, "Globex North").await;

    for path in [format!("/v1/sites/{site}"), format!("/v1/employees/{guard}"), format!("/v1/sites/{site}/employees")] {
        let answer = app.get(&path, g).await.expect(404);
        assert_eq!(answer.problem_type(), "not-found");
    }
    app.call(Method::PATCH, &format!("/v1/sites/{site}"), Some(g), Some(json!({"name": "Mine now"}))).await.expect(404);
    app.call(Method::PUT, &format!("/v1/sites/{site}/employees/{guard}"), Some(g), None).await.expect(404);
    app.call(Method::DELETE, &format!("/v1/sites/{site}/employees/{guard}"), Some(g), None).await.expect(404);
    let sub = app
        .post("/v1/sites", g, json!({"name": "Sneaky", "parent_site_id": site, "time_zone": "UTC"}))
        .await
        .expect(422);
    assert_eq!(sub.body["errors"][0]["message"], "no such site");
    app.post("/v1/sites", g, json!({"name": "Sneaky", "region_id": region, "time_zone": "UTC"})).await.expect(422);
    let listed = app.get("/v1/sites", g).await.expect(200);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 0);
    let staff = app.get("/v1/employees", g).await.expect(200);
    assert_eq!(staff.body["items"].as_array().unwrap().len(), 1, "only globex's own administrator");
    // Logins are per organisation too.
    app.login_as("globex", "aguard", "correct-horse-battery-7").await.expect(401);
    // And acme sees nothing of globex.
    assert_eq!(
        app.get(&format!("/v1/sites?region_id={g_region}"), &acme).await.expect(200).body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}
