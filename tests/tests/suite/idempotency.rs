//! `Idempotency-Key`: a retried POST gets the first answer; concurrent ones create one thing;
//! an effect that committed is never made twice, whatever failed after it.

use chrono::Duration;
use guardpost_tests::faults::Fault;
use guardpost_tests::{Backend, TestApp, on_both_stores};
use reqwest::Method;
use serde_json::{Value, json};

on_both_stores!(
    a_retried_post_returns_the_first_answer,
    concurrent_posts_with_one_key_create_one_region,
    a_site_whose_answer_was_lost_after_its_commit_is_not_created_twice,
    a_site_whose_request_was_lost_is_created_by_a_retry_after_the_lease,
    a_clock_in_whose_answer_was_lost_is_replayed_not_repeated
);

async fn a_retried_post_returns_the_first_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.admin().await.access_token;
    let key = [("idempotency-key", "create-north-1")];
    let first =
        app.call_with(Method::POST, "/v1/regions", Some(&t), Some(json!({"name": "North"})), &key).await.expect(201);
    let again =
        app.call_with(Method::POST, "/v1/regions", Some(&t), Some(json!({"name": "North"})), &key).await.expect(201);
    assert_eq!(first.id(), again.id());
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let other_body =
        app.call_with(Method::POST, "/v1/regions", Some(&t), Some(json!({"name": "South"})), &key).await.expect(409);
    assert_eq!(other_body.problem_type(), "idempotency-key-reused");
    let regions = app.get("/v1/regions", &t).await.expect(200);
    assert_eq!(regions.body["items"].as_array().unwrap().len(), 1);
    // A malformed key: the caller is checked first, then the key.
    let bad = [("idempotency-key", "not a key")];
    app.call_with(Method::POST, "/v1/regions", None, Some(json!({"name": "X"})), &bad).await.expect(401);
    let refused =
        app.call_with(Method::POST, "/v1/regions", Some(&t), Some(json!({"name": "X"})), &bad).await.expect(400);
    assert!(refused.body["detail"].as_str().unwrap().contains("Idempotency-Key"));
    // A refused request is replayed as refused, and without a key every POST runs.
    let bad_key = [("idempotency-key", "bad-site")];
    app.call_with(Method::POST, "/v1/sites", Some(&t), Some(json!({"name": "X", "time_zone": "UTC"})), &bad_key)
        .await
        .expect(422);
    app.call_with(Method::POST, "/v1/sites", Some(&t), Some(json!({"name": "X", "time_zone": "UTC"})), &bad_key)
        .await
        .expect(422);
    app.post("/v1/regions", &t, json!({"name": "North"})).await.expect(201);
    app.post("/v1/regions", &t, json!({"name": "North"})).await.expect(201);
    assert_eq!(app.get("/v1/regions", &t).await.body["items"].as_array().unwrap().len(), 3);
}

async fn concurrent_posts_with_one_key_create_one_region(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.admin().await.access_token;
    let key = [("idempotency-key", "burst-1")];
    let calls =
        (0..10).map(|_| app.call_with(Method::POST, "/v1/regions", Some(&t), Some(json!({"name": "Burst"})), &key));
    let answers = futures::future::join_all(calls).await;
    let mut ids: Vec<_> = answers.iter().filter(|a| a.status.as_u16() == 201).map(|a| a.id()).collect();
    let in_progress = answers.iter().filter(|a| a.status.as_u16() == 409).count();
    assert!(answers.iter().all(|a| matches!(a.status.as_u16(), 201 | 409)));
    assert_eq!(ids.len() + in_progress, 10);
    ids.dedup();
    assert_eq!(ids.len(), 1, "every success is the same region");
    assert_eq!(app.get("/v1/regions", &t).await.body["items"].as_array().unwrap().len(), 1);
}

/// A server, its administrator's token, and the body of a new site `name` in a new region.
async fn admin_and_new_site(backend: Backend, name: &str) -> (TestApp, String, Value) {
    let app = TestApp::spawn(backend).await;
    let t = app.admin().await.access_token;
    let region = app.create_region(&t, "North").await;
    (app, t, json!({"name": name, "region_id": region, "time_zone": "America/Toronto"}))
}

/// `POST /v1/sites` with an `Idempotency-Key`.
async fn post_site(app: &TestApp, token: &str, site: &Value, key: &str) -> guardpost_tests::Answer {
    app.call_with(Method::POST, "/v1/sites", Some(token), Some(site.clone()), &[("idempotency-key", key)]).await
}

/// The sites named `name`, as the administrator lists them.
async fn sites_named(app: &TestApp, token: &str, name: &str) -> Vec<Value> {
    let listed = app.get("/v1/sites?limit=100", token).await.expect(200).body;
    listed["items"].as_array().unwrap().iter().filter(|s| s["name"] == name).cloned().collect()
}

async fn a_site_whose_answer_was_lost_after_its_commit_is_not_created_twice(backend: Backend) {
    let (app, t, mall) = admin_and_new_site(backend, "Mall").await;
    let key = "create-mall-1";
    // The site is written, then the function times out before it can answer.
    app.faults.arm(Fault::AfterCommit, "site");
    let lost = post_site(&app, &t, &mall, key).await;
    assert_eq!(lost.status.as_u16(), 503, "{:?}", lost.body);
    assert!(!app.faults.is_armed(), "the fault struck the site's write");
    // The client retries the same request 90 seconds later, after the key's lease.
    app.advance(Duration::seconds(90));
    let retried = post_site(&app, &t, &mall, key).await.expect(201);
    assert_eq!(retried.headers["idempotent-replayed"], "true");
    let malls = sites_named(&app, &t, "Mall").await;
    assert_eq!(malls.len(), 1, "one site, not two: {malls:?}");
    assert_eq!(malls[0]["id"], retried.body["id"]);
}

async fn a_site_whose_request_was_lost_is_created_by_a_retry_after_the_lease(backend: Backend) {
    let (app, t, depot) = admin_and_new_site(backend, "Depot").await;
    let key = "create-depot-1";
    // The write never reached the store, but the function cannot know that.
    app.faults.arm(Fault::BeforeCommit, "site");
    post_site(&app, &t, &depot, key).await.expect(503);
    assert!(sites_named(&app, &t, "Depot").await.is_empty());
    // Until the lease ends, a retry is told the first attempt may still be running.
    let early = post_site(&app, &t, &depot, key).await.expect(409);
    assert_eq!(early.problem_type(), "idempotency-in-progress");
    app.advance(Duration::seconds(61));
    let created = post_site(&app, &t, &depot, key).await.expect(201);
    assert!(created.headers.get("idempotent-replayed").is_none(), "it ran: nothing was kept to replay");
    let again = post_site(&app, &t, &depot, key).await.expect(201);
    assert_eq!(again.id(), created.id());
    assert_eq!(sites_named(&app, &t, "Depot").await.len(), 1);
}

async fn a_clock_in_whose_answer_was_lost_is_replayed_not_repeated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let region = app.create_region(&admin, "North").await;
    let depot =
        app.create_site(&admin, json!({"name": "Depot", "region_id": region, "time_zone": "America/Toronto"})).await;
    let guard_id = app.create_employee(&admin, "G-1", "guard1", "correct-horse-battery-7").await;
    app.assign(&admin, &depot, &guard_id).await.expect(204);
    let guard = app.login("guard1", "correct-horse-battery-7").await.access_token;
    let path = format!("/v1/sites/{depot}/clock-in");
    let key = [("idempotency-key", "clock-in-monday")];
    app.faults.arm(Fault::AfterCommit, "time-entry");
    app.call_with(Method::POST, &path, Some(&guard), None, &key).await.expect(503);
    // The phone retries: the guard is told they are clocked in, by the entry that was made.
    let retried = app.call_with(Method::POST, &path, Some(&guard), None, &key).await.expect(201);
    assert_eq!(retried.headers["idempotent-replayed"], "true");
    let entries = app.get("/v1/me/time-entries", &guard).await.expect(200).body;
    let entries = entries["items"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["id"], retried.body["id"]);
    app.clock(&guard, &depot, "clock-out").await.expect(200);
}
