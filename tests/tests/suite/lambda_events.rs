//! Every sample event in `events/` goes through the real Lambda adapter: lambda_http turns the
//! API Gateway payload into a request, the operation's own router (as its function would build
//! it) answers, and the answer is the one a client should get.

use std::path::Path;

use guardpost_tests::{ADMIN_PASSWORD, Backend, TestApp};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

/// (operation, expected status) in an order where each event's preconditions hold.
const RUNS: &[(&str, u16)] = &[
    ("health", 200),
    ("login", 200),
    ("get-me", 200),
    ("create-region", 201),
    ("list-regions", 200),
    ("create-site", 201),
    ("list-sites", 200),
    ("get-site", 200),
    ("update-site", 200),
    ("assign-site-employee", 204),
    ("create-shift", 201),
    ("list-site-shifts", 200),
    ("list-site-employees", 200),
    ("list-my-sites", 200),
    ("unassign-site-employee", 204),
    ("create-employee", 201),
    ("set-password", 204),
    ("forgot-password", 202),
    ("list-notifications", 200),
    ("retry-notification", 200),
    ("list-permissions", 200),
    ("list-employees", 200),
    ("get-employee", 200),
    ("update-employee", 200),
    ("list-login-activity", 200),
    ("list-directory", 200),
    ("create-user-file", 201),
    ("list-user-files", 200),
    ("get-user-file", 200),
    ("get-my-notification-preferences", 200),
    ("set-my-notification-preferences", 200),
    ("get-user-notification-preferences", 200),
    ("set-user-notification-preferences", 200),
    ("clock-in", 201),
    ("start-break", 200),
    ("end-break", 200),
    ("clock-out", 200),
    ("list-my-time-entries", 200),
    ("list-site-time-entries", 200),
    ("list-my-shifts", 200),
    ("list-my-permissions", 200),
    ("explain-access", 200),
    ("review-access", 200),
    ("create-role", 201),
    ("list-roles", 200),
    ("get-role", 200),
    ("update-role", 200),
    ("list-role-assignments", 200),
    ("create-role-assignment", 201),
    ("list-user-role-assignments", 200),
    ("get-role-assignment", 200),
    ("delete-role-assignment", 204),
    ("bulk-role-assignments", 200),
    ("list-audit", 200),
    ("set-superuser", 200),
    ("create-integration", 201),
    ("issue-client-token", 200),
    ("rotate-integration-secret", 201),
    ("terminate-employee", 200),
    ("reactivate-employee", 200),
    ("reset-employee-password", 200),
    ("create-client-access", 201),
    ("list-client-accesses", 200),
    ("get-client-access", 200),
    ("update-client-access", 200),
    ("get-client-sub-sites", 200),
    ("set-client-sub-sites", 200),
    ("resend-client-invitation", 200),
    ("list-client-schedule", 200),
    ("list-client-timesheets", 200),
    ("list-client-on-site", 200),
    ("approve-client-timesheet", 200),
    ("delete-client-access", 204),
    ("refresh-token", 200),
    ("logout", 204),
    // Last: it ends every session of the administrator.
    ("change-my-password", 200),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sample_event_is_answered_through_the_lambda_adapter() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.add_org("demo", "admin@demo.example").await;
    let login = |org: &str| {
        let org = org.to_owned();
        let app = &app;
        async move { app.login_as(&org, "admin@demo.example", ADMIN_PASSWORD).await.expect(200).body }
    };
    let main = login("demo").await;
    let for_logout = login("demo").await;
    let token = main["access_token"].as_str().unwrap().to_owned();
    let region = app.create_region(&token, "Seed region").await;
    let site = app.create_site(&token, json!({"name": "Seed site", "region_id": region, "time_zone": "UTC"})).await;
    let employee = app.create_employee(&token, "SEED-1", "seeded", "correct-horse-battery-7").await;
    let user = app.create_employee(&token, "SEED-2", "seeded2", "correct-horse-battery-7").await;
    let assignment = app
        .post(
            &format!("/v1/users/{user}/role-assignments"),
            &token,
            json!({"role_id": "manager", "scope": {"type": "org"}, "reason": "seed"}),
        )
        .await
        .expect(201)
        .id();
    let body = json!({"name": "Seed API", "portal": "admin", "permissions": ["sites:view"], "api_access": "grant"});
    let role = app.post("/v1/roles", &token, body).await.expect(201).id();
    let integration =
        app.post("/v1/integrations", &token, json!({"name": "Seed feed", "role_id": role})).await.expect(201);
    let mall = app
        .create_site(&token, json!({"name": "Seed mall", "kind": "master", "region_id": region, "time_zone": "UTC"}))
        .await;
    let sub_site =
        app.create_site(&token, json!({"name": "Seed mall east", "parent_site_id": mall, "time_zone": "UTC"})).await;
    let client =
        json!({"first_name": "Seed", "last_name": "Client", "email": "seed.client@demo.example", "role_id": "client"});
    let client = app.post(&format!("/v1/sites/{mall}/client-accesses"), &token, client).await.expect(201).id();
    // A file already uploaded, for get-user-file.
    let body = json!({"kind": "picture", "name": "seed.png", "content_type": "image/png", "size": 4});
    let file = app.post(&format!("/v1/users/{user}/files"), &token, body).await.expect(201).body;
    let ticket = &file["upload"];
    let sent = reqwest::Client::new()
        .put(ticket["url"].as_str().unwrap())
        .header("content-type", "image/png")
        .body(vec![1u8, 2, 3, 4])
        .send()
        .await
        .unwrap();
    assert!(sent.status().is_success());
    let file_id = file["file"]["id"].as_str().unwrap().to_owned();
    // A message that failed, for retry-notification.
    let failed = {
        use guardpost_shared::notify::{Message, OutboxItem, Status};
        let message = Message::Email { to: "ops@demo.example".into(), subject: "Seed".into(), text: "seed".into() };
        let mut out = OutboxItem::new(ulid::Ulid::new().to_string(), message, app.now());
        out.status = Status::Failed;
        out.last_error = Some("seeded as failed".into());
        let org = guardpost_shared::domain::OrgSlug::parse("demo").unwrap();
        let item = out.item(&org, 1).unwrap();
        app.state.store.put(item, guardpost_shared::store::Condition::NotExists).await.unwrap();
        out.id
    };
    let clocked_at = site.clone();
    let seeded = employee.clone();
    let replacements = [
        ("REPLACE_WITH_CLIENT_ACCESS_ID", client),
        ("REPLACE_WITH_NOTIFICATION_ID", failed),
        ("REPLACE_WITH_FILE_ID", file_id),
        ("REPLACE_WITH_SUB_SITE_ID", sub_site),
        ("REPLACE_WITH_USER_ID", user),
        ("REPLACE_WITH_ASSIGNMENT_ID", assignment),
        ("REPLACE_WITH_ROLE_ID", role),
        ("REPLACE_WITH_INTEGRATION_ID", integration.body["user_id"].as_str().unwrap().to_owned()),
        ("REPLACE_WITH_CLIENT_SECRET", integration.body["client_secret"].as_str().unwrap().to_owned()),
        ("REPLACE_WITH_ACCESS_TOKEN", token.clone()),
        ("REPLACE_WITH_PASSWORD", ADMIN_PASSWORD.to_owned()),
        ("REPLACE_WITH_REGION_ID", region),
        ("REPLACE_WITH_SITE_ID", site),
        ("REPLACE_WITH_EMPLOYEE_ID", employee),
        ("REPLACE_WITH_SHIFT_START", (app.now() + chrono::Duration::days(1)).to_rfc3339()),
        ("REPLACE_WITH_SHIFT_END", (app.now() + chrono::Duration::days(1) + chrono::Duration::hours(8)).to_rfc3339()),
    ];

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    for (operation, expected) in RUNS {
        let mut text = std::fs::read_to_string(dir.join(format!("{operation}.json"))).unwrap();
        for (placeholder, value) in &replacements {
            text = text.replace(placeholder, value);
        }
        let refresh = if *operation == "logout" { &for_logout } else { &main };
        text = text.replace("REPLACE_WITH_REFRESH_TOKEN", refresh["refresh_token"].as_str().unwrap());
        if text.contains("REPLACE_WITH_SET_PASSWORD_TOKEN") {
            // The welcome email of the employee the create-employee event made.
            app.deliver_outbox().await;
            let mail = app.emails_to("ada.guard@demo.example").await;
            let link = &mail.first().expect("a welcome email").text;
            let token = link[link.find("token=").unwrap() + 6..].split_whitespace().next().unwrap().to_owned();
            text = text.replace("REPLACE_WITH_SET_PASSWORD_TOKEN", &token);
        }
        if text.contains("REPLACE_WITH_EMPLOYEE_ETAG") {
            let read = app.get(&format!("/v1/employees/{seeded}"), &token).await.expect(200);
            let tag = read.headers["etag"].to_str().unwrap().trim_matches('"').to_owned();
            text = text.replace("REPLACE_WITH_EMPLOYEE_ETAG", &tag);
        }
        if text.contains("REPLACE_WITH_TIME_ENTRY_ID") {
            // The entry the clock-in and clock-out events made at the seeded site.
            let entries = app.get(&format!("/v1/sites/{clocked_at}/time-entries"), &token).await.expect(200);
            text = text.replace("REPLACE_WITH_TIME_ENTRY_ID", entries.body["items"][0]["id"].as_str().unwrap());
        }
        assert!(!text.contains("REPLACE_WITH"), "{operation}: a placeholder is left");

        let request = lambda_http::request::from_str(&text)
            .unwrap_or_else(|e| panic!("{operation}: not an API Gateway event: {e}"));
        let router = guardpost::lambda::operation_app(app.state.clone(), operation).unwrap();
        let response = router.oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(status, *expected, "{operation}: {}", String::from_utf8_lossy(&body));
    }
}

#[tokio::test]
async fn a_function_serves_only_its_own_operation() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/health.json")).unwrap();
    let request = lambda_http::request::from_str(&text).unwrap();
    let router = guardpost::lambda::operation_app(app.state.clone(), "login").unwrap();
    assert_eq!(router.oneshot(request).await.unwrap().status().as_u16(), 404);
    assert!(guardpost::lambda::operation_app(app.state.clone(), "no-such-operation").is_err());
}
