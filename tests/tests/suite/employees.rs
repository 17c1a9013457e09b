//! Creating and listing employees: every field of TrackTik's form, validation that says what is
//! wrong and writes nothing, and uniqueness enforced by the store under concurrency.

use guardpost_tests::{Backend, TestApp, on_both_stores};
use serde_json::{Value, json};

on_both_stores!(
    an_employee_is_created_with_every_field,
    bad_input_is_refused_with_a_problem_and_nothing_is_written,
    duplicate_employee_numbers_usernames_and_emails_are_refused,
    concurrent_creates_of_one_username_make_exactly_one_employee,
    employees_are_listed_page_by_page,
    guards_cannot_manage_employees_or_sites,
);

fn full_employee() -> Value {
    json!({
        "employee_number": "E-2001", "first_name": "Grace", "last_name": "Watch",
        "job_title": "Site Supervisor",
        "main_phone": {"number": "+1 (416) 555-0199", "sms_enabled": true},
        "other_phone": {"number": "+44 20 7946 0958", "sms_enabled": false},
        "gender": "female", "email": "Grace.Watch@Acme.Example", "username": "gwatch",
        "password": "lighthouse-keeper-88", "force_change": false,
        "address": {"line1": "12 Quay St", "city": "Halifax", "region": "NS", "postal_code": "B3J 1A1", "country": "ca"},
        "birthday": "1990-04-12", "employment_date": "2024-01-15",
        "comments": "Night shifts preferred.", "tags": ["first-aid", "k9", "first-aid"], "role_id": "supervisor"
    })
}

async fn employee_count(app: &TestApp, token: &str) -> usize {
    app.get("/v1/employees?limit=200", token).await.expect(200).body["items"].as_array().unwrap().len()
}

async fn an_employee_is_created_with_every_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let created = app.post("/v1/employees", &admin.access_token, full_employee()).await.expect(201);
    let id = created.id();
    let read = app.get(&format!("/v1/employees/{id}"), &admin.access_token).await.expect(200).body;
    assert_eq!(
        read["main_phone"],
        json!({"number": "+14165550199", "sms_enabled": true, "private": false}),
        "phones are stored as E.164"
    );
    assert_eq!(read["other_phone"]["number"], "+442079460958");
    assert_eq!(read["email"], "grace.watch@acme.example");
    assert_eq!(read["address"]["country"], "CA");
    assert_eq!(read["tags"], json!(["first-aid", "k9"]));
    let roles = app.get(&format!("/v1/users/{id}/role-assignments"), &admin.access_token).await.expect(200).body;
    assert_eq!(roles["items"][0]["role_id"], "supervisor");
    assert_eq!(roles["items"][0]["scope"], json!({"type": "org"}));
    assert_eq!(read["birthday"], "1990-04-12");
    assert!(read.get("password").is_none() && !read.to_string().contains("argon2"), "no credential leaks");
    // Either login works, case-insensitively for the email.
    app.login("GWatch", "lighthouse-keeper-88").await;
    app.login("grace.watch@ACME.example", "lighthouse-keeper-88").await;
}

async fn bad_input_is_refused_with_a_problem_and_nothing_is_written(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let before = employee_count(&app, &admin.access_token).await;
    let with = |patch: Value| {
        let mut body = full_employee();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases = [
        (with(json!({"email": "not-an-email"})), 422, "email"),
        (with(json!({"main_phone": {"number": "555-0199", "sms_enabled": true}})), 422, "main_phone.number"),
        (with(json!({"first_name": "x".repeat(101)})), 422, "first_name"),
        (with(json!({"password": "short"})), 422, "password"),
        (with(json!({"password": "Password123"})), 422, "password"),
        (with(json!({"username": "no spaces allowed"})), 422, "username"),
        (with(json!({"birthday": "2999-01-01"})), 422, "birthday"),
        (with(json!({"first_name": "Eve\r\nBcc: x@y.z"})), 422, "first_name"),
        (with(json!({"salary": 10})), 400, "unknown field `salary`"),
        (with(json!({"first_name": 42})), 400, "invalid type"),
        (with(json!({"gender": "robot"})), 400, "unknown variant"),
        (json!({"first_name": "Only"}), 400, "missing field"),
    ];
    for (body, status, says) in cases {
        let answer = app.post("/v1/employees", &admin.access_token, body).await;
        assert_eq!(answer.status.as_u16(), status, "{says}: {}", answer.body);
        assert_eq!(answer.headers["content-type"], "application/problem+json");
        assert!(answer.body.to_string().contains(says), "the problem should say {says}: {}", answer.body);
    }
    let not_json = app
        .http
        .post(format!("{}/v1/employees", app.base))
        .bearer_auth(&admin.access_token)
        .header("content-type", "application/json")
        .body("{\"employee_number\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status().as_u16(), 400);
    let huge = app.post("/v1/employees", &admin.access_token, json!({"comments": "x".repeat(100_000)})).await;
    assert_eq!(huge.status.as_u16(), 413);
    assert_eq!(employee_count(&app, &admin.access_token).await, before, "nothing was written");
}

async fn duplicate_employee_numbers_usernames_and_emails_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    app.post("/v1/employees", &admin.access_token, full_employee()).await.expect(201);
    let before = employee_count(&app, &admin.access_token).await;
    let mut same_username = full_employee();
    same_username["employee_number"] = json!("E-9999");
    same_username["email"] = json!("other@acme.example");
    let answer = app.post("/v1/employees", &admin.access_token, same_username).await.expect(409);
    assert_eq!(answer.problem_type(), "username-taken");
    let mut same_number = full_employee();
    same_number["employee_number"] = json!("e-2001");
    same_number["username"] = json!("another");
    same_number["email"] = json!("another@acme.example");
    assert_eq!(
        app.post("/v1/employees", &admin.access_token, same_number).await.expect(409).problem_type(),
        "employee-number-taken"
    );
    let mut same_email = full_employee();
    same_email["employee_number"] = json!("E-3");
    same_email["username"] = json!("third");
    assert_eq!(
        app.post("/v1/employees", &admin.access_token, same_email).await.expect(409).problem_type(),
        "email-taken"
    );
    assert_eq!(employee_count(&app, &admin.access_token).await, before, "no half-written employee");
}

async fn concurrent_creates_of_one_username_make_exactly_one_employee(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let before = employee_count(&app, &admin.access_token).await;
    let attempts = (0..12).map(|i| {
        let body =
            json!({"employee_number": format!("C-{i}"), "first_name": "Race", "last_name": "Car", "username": "racer"});
        app.post("/v1/employees", &admin.access_token, body)
    });
    let answers = futures::future::join_all(attempts).await;
    let created = answers.iter().filter(|a| a.status.as_u16() == 201).count();
    let conflicts = answers.iter().filter(|a| a.status.as_u16() == 409).count();
    assert_eq!((created, conflicts), (1, 11), "{:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
    assert_eq!(employee_count(&app, &admin.access_token).await, before + 1);
}

async fn employees_are_listed_page_by_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    for i in 0..7 {
        let body = json!({"employee_number": format!("P-{i}"), "first_name": "Page", "last_name": format!("N{i}"), "username": format!("page{i}")});
        app.post("/v1/employees", &admin.access_token, body).await.expect(201);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/employees?limit=3&cursor={c}"),
            None => "/v1/employees?limit=3".to_owned(),
        };
        let page = app.get(&path, &admin.access_token).await.expect(200).body;
        pages += 1;
        seen.extend(page["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 8, "7 employees and the administrator");
    assert_eq!(pages, 3);
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique, seen);
    app.get("/v1/employees?limit=500", &admin.access_token).await.expect(422);
    app.get("/v1/employees?cursor=bogus", &admin.access_token).await.expect(400);
    app.get("/v1/employees?colour=red", &admin.access_token).await.expect(400);
}

async fn guards_cannot_manage_employees_or_sites(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let guard_id = app.create_employee(&admin.access_token, "G-1", "guard1", "correct-horse-battery-7").await;
    let guard = app.login("guard1", "correct-horse-battery-7").await;
    app.post("/v1/employees", &guard.access_token, full_employee()).await.expect(403);
    app.get("/v1/employees", &guard.access_token).await.expect(403);
    app.post("/v1/regions", &guard.access_token, json!({"name": "Mine"})).await.expect(403);
    app.get(&format!("/v1/employees/{guard_id}"), &guard.access_token).await.expect(200);
    let me = app.get("/v1/me", &guard.access_token).await.expect(200);
    assert_eq!(me.body["user"]["id"], guard_id.as_str());
}
