//! The README walkthrough as a test: an administrator sets up a region, a master site with a
//! sub-site and an employee; the employee logs in and sees their site.

use guardpost_tests::{Backend, TestApp, on_both_stores};
use serde_json::json;

on_both_stores!(an_administrator_sets_up_a_site_and_a_guard_sees_it);

async fn an_administrator_sets_up_a_site_and_a_guard_sees_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let me = app.get("/v1/me", &admin.access_token).await.expect(200);
    assert_eq!(me.body["user"]["is_superuser"], true);

    let region = app.create_region(&admin.access_token, "North").await;
    let mall = app
        .create_site(
            &admin.access_token,
            json!({"name": "Harbour Mall", "kind": "master", "region_id": region, "time_zone": "America/Toronto"}),
        )
        .await;
    let entrance = app
        .create_site(
            &admin.access_token,
            json!({"name": "Harbour Mall North Entrance", "parent_site_id": mall, "time_zone": "America/Toronto"}),
        )
        .await;
    let other = app
        .create_site(&admin.access_token, json!({"name": "Depot", "region_id": region, "time_zone": "America/Toronto"}))
        .await;
    let ada = app.create_employee(&admin.access_token, "E-1001", "ada", "correct-horse-battery-7").await;
    app.assign(&admin.access_token, &entrance, &ada).await.expect(204);

    let sub_sites = app.get(&format!("/v1/sites?parent_site_id={mall}"), &admin.access_token).await.expect(200);
    let ids: Vec<_> =
        sub_sites.body["items"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids, vec![entrance.clone()]);
    let entrance_site = app.get(&format!("/v1/sites/{entrance}"), &admin.access_token).await.expect(200);
    assert_eq!(entrance_site.body["region_id"], region.as_str(), "a sub-site takes its master's region");

    let guard = app.login("ada", "correct-horse-battery-7").await;
    let mine = app.get("/v1/me/sites", &guard.access_token).await.expect(200);
    let names: Vec<_> =
        mine.body["items"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, vec!["Harbour Mall North Entrance"]);

    // The Guard role is self-service: a guard sees their sites through /v1/me/sites only.
    app.get(&format!("/v1/sites/{entrance}"), &guard.access_token).await.expect(403);
    app.get(&format!("/v1/sites/{other}"), &guard.access_token).await.expect(403);
    let on_site = app.get(&format!("/v1/sites/{entrance}/employees"), &admin.access_token).await.expect(200);
    assert_eq!(on_site.body["items"][0]["id"], ada.as_str());
}
