//! `Idempotency-Key`: a retried POST gets the first answer; concurrent ones create one thing.

use guardpost_tests::{Backend, TestApp, on_both_stores};
use reqwest::Method;
use serde_json::json;

on_both_stores!(a_retried_post_returns_the_first_answer, concurrent_posts_with_one_key_create_one_region);

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
