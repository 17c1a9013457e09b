//! Sites: the master/sub-site rules, edits with optimistic concurrency, assignments.

use guardpost_tests::{Backend, TestApp, on_both_stores};
use reqwest::Method;
use serde_json::json;

on_both_stores!(
    sub_sites_hang_one_level_below_master_sites,
    sites_are_edited_field_by_field,
    assignments_need_a_real_site_and_employee
);

async fn sub_sites_hang_one_level_below_master_sites(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.admin().await.access_token;
    let north = app.create_region(&t, "North").await;
    let south = app.create_region(&t, "South").await;
    let plain = app.create_site(&t, json!({"name": "Depot", "region_id": north, "time_zone": "Europe/London"})).await;
    let mall = app
        .create_site(&t, json!({"name": "Mall", "kind": "master", "region_id": north, "time_zone": "Europe/London"}))
        .await;
    let sub =
        app.create_site(&t, json!({"name": "Mall East", "parent_site_id": mall, "time_zone": "Europe/London"})).await;

    let refused = [
        (json!({"name": "X", "parent_site_id": plain, "time_zone": "Europe/London"}), "parent_site_id"),
        (json!({"name": "X", "parent_site_id": sub, "time_zone": "Europe/London"}), "parent_site_id"),
        (json!({"name": "X", "kind": "master", "parent_site_id": mall, "time_zone": "Europe/London"}), "kind"),
        (json!({"name": "X", "parent_site_id": mall, "region_id": south, "time_zone": "Europe/London"}), "region_id"),
        (json!({"name": "X", "time_zone": "Europe/London"}), "region_id"),
        (json!({"name": "X", "region_id": "01JDQ5X0000000000000000000", "time_zone": "Europe/London"}), "region_id"),
        (json!({"name": "X", "region_id": north, "time_zone": "Atlantis/Capital"}), "time_zone"),
        (json!({"name": "", "region_id": north, "time_zone": "Europe/London"}), "name"),
        (
            json!({"name": "X", "region_id": north, "time_zone": "Europe/London", "address": {"line1": "1 A St", "city": "Leeds", "country": "England"}}),
            "address.country",
        ),
    ];
    for (body, field) in refused {
        let answer = app.post("/v1/sites", &t, body.clone()).await.expect(422);
        assert_eq!(answer.body["errors"][0]["field"], field, "{body}");
    }
    let all = app.get("/v1/sites", &t).await.expect(200);
    assert_eq!(all.body["items"].as_array().unwrap().len(), 3, "nothing written by refused requests");
    let in_north = app.get(&format!("/v1/sites?region_id={north}"), &t).await.expect(200);
    assert_eq!(in_north.body["items"].as_array().unwrap().len(), 3);
    assert_eq!(app.get(&format!("/v1/sites/{mall}"), &t).await.expect(200).body["sub_site_count"], 1);
    // A master with sub-sites keeps its region.
    let moved = app
        .call(Method::PATCH, &format!("/v1/sites/{mall}"), Some(&t), Some(json!({"region_id": south})))
        .await
        .expect(409);
    assert_eq!(moved.problem_type(), "master-site-has-sub-sites");
}

async fn sites_are_edited_field_by_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.admin().await.access_token;
    let north = app.create_region(&t, "North").await;
    let site = app.create_site(&t, json!({"name": "Depot", "region_id": north, "time_zone": "Europe/London"})).await;
    let path = format!("/v1/sites/{site}");
    let edited = app
        .call(Method::PATCH, &path, Some(&t), Some(json!({"name": "Depot West", "status": "inactive", "address": {"line1": "9 Dock Rd", "city": "Leeds", "country": "gb"}})))
        .await
        .expect(200);
    assert_eq!(edited.body["name"], "Depot West");
    assert_eq!(edited.body["time_zone"], "Europe/London", "untouched fields stay");
    assert_eq!(edited.body["address"]["country"], "GB");
    app.call(Method::PATCH, &path, Some(&t), Some(json!({"time_zone": "Nowhere/Land"}))).await.expect(422);
    app.call(Method::PATCH, &path, Some(&t), Some(json!({"kind": "master"}))).await.expect(400);
    let read = app.get(&path, &t).await.expect(200);
    assert_eq!((read.body["name"].as_str(), read.body["status"].as_str()), (Some("Depot West"), Some("inactive")));
    app.get("/v1/sites/not-an-id", &t).await.expect(404);
    app.get("/v1/sites/01JDQ5X0000000000000000000", &t).await.expect(404);
}

async fn assignments_need_a_real_site_and_employee(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.admin().await.access_token;
    let north = app.create_region(&t, "North").await;
    let site = app.create_site(&t, json!({"name": "Depot", "region_id": north, "time_zone": "Europe/London"})).await;
    let guard = app.create_employee(&t, "G-1", "guard1", "correct-horse-battery-7").await;
    let nobody = "01JDQ5X0000000000000000000";
    assert_eq!(app.assign(&t, nobody, &guard).await.expect(404).body["detail"], "No such site.");
    assert_eq!(app.assign(&t, &site, nobody).await.expect(404).body["detail"], "No such employee.");
    app.assign(&t, &site, &guard).await.expect(204);
    app.assign(&t, &site, &guard).await.expect(204);
    let g = app.login("guard1", "correct-horse-battery-7").await;
    assert_eq!(app.get("/v1/me/sites", &g.access_token).await.body["items"].as_array().unwrap().len(), 1);
    app.call(Method::DELETE, &format!("/v1/sites/{site}/employees/{guard}"), Some(&t), None).await.expect(204);
    app.call(Method::DELETE, &format!("/v1/sites/{site}/employees/{guard}"), Some(&t), None).await.expect(404);
    assert_eq!(app.get("/v1/me/sites", &g.access_token).await.body["items"].as_array().unwrap().len(), 0);
}
