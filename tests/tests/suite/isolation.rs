//! Tenant isolation: an administrator of one organisation learns nothing of another's ids.

use guardpost_tests::{Backend, TestApp, on_both_stores};
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

    let g = &app.other_org_admin().await;
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

on_both_stores!(every_route_that_takes_an_id_answers_another_organisation_as_if_it_did_not_exist);

/// The whole route table: every operation with an id in its path (or query), called by
/// another organisation's superuser with this organisation's real ids, answers exactly as it
/// does for ids that exist nowhere: 404, same body.
async fn every_route_that_takes_an_id_answers_another_organisation_as_if_it_did_not_exist(backend: Backend) {
    use guardpost::registry::OPERATIONS;
    let app = TestApp::spawn(backend).await;
    let acme = app.admin().await.access_token;
    let region = app.create_region(&acme, "North").await;
    let site = app
        .create_site(&acme, json!({"name": "Acme HQ", "kind": "master", "region_id": region, "time_zone": "UTC"}))
        .await;
    let guard = app.create_employee(&acme, "A-1", "aguard", "correct-horse-battery-7").await;
    app.assign(&acme, &site, &guard).await.expect(204);
    let role = app.post("/v1/roles", &acme, json!({"name": "Acme only", "portal": "staff"})).await.expect(201).id();
    let assignment = app
        .post(
            &format!("/v1/users/{guard}/role-assignments"),
            &acme,
            json!({"role_id": role, "scope": {"type": "site", "id": site}, "reason": "x"}),
        )
        .await
        .expect(201)
        .id();
    let integration = app.post("/v1/integrations", &acme, json!({"name": "Acme feed"})).await.expect(201);
    let integration = integration.body["user_id"].as_str().unwrap().to_owned();
    let client = json!({"first_name": "Cli", "last_name": "Ent", "email": "client@acme.example", "role_id": "client"});
    let client = app.post(&format!("/v1/sites/{site}/client-accesses"), &acme, client).await.expect(201).id();
    let guard_token = app.login("aguard", "correct-horse-battery-7").await.access_token;
    let file = json!({"kind": "licence", "name": "l.pdf", "content_type": "application/pdf", "size": 10});
    let file = app.post(&format!("/v1/users/{guard}/files"), &acme, file).await.expect(201).body["file"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock(&guard_token, &site, "clock-in").await.expect(201);
    let entry = app.get(&format!("/v1/sites/{site}/time-entries"), &acme).await.expect(200).body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // A message of acme's outbox (the unplanned clock-in's alert).
    let acme_org = guardpost_shared::domain::OrgSlug::parse("acme").unwrap();
    let outbox = guardpost_shared::store::Query::table(guardpost_shared::notify::outbox_pk(&acme_org));
    let notification = app.state.store.query(&outbox).await.unwrap().items[0].key.sk.clone();

    let g = app.other_org_admin().await;

    let nowhere = || ulid::Ulid::new().to_string();
    let real = |op: &str, param: &str| -> String {
        match param {
            "site_id" => site.clone(),
            "role_id" => role.clone(),
            "assignment_id" => assignment.clone(),
            "user_id" if op == "rotate-integration-secret" => integration.clone(),
            "user_id" | "employee_id" => guard.clone(),
            "client_access_id" => client.clone(),
            "time_entry_id" => entry.clone(),
            "file_id" => file.clone(),
            "notification_id" => notification.clone(),
            other => panic!("{op}: no id for {{{other}}}; add one to this walk"),
        }
    };
    let start = app.now() + chrono::Duration::days(1);
    let body_for = |op: &str| -> Option<serde_json::Value> {
        Some(match op {
            "update-site" => json!({"name": "Mine now"}),
            "create-shift" => json!({"employee_id": guard, "start": start, "end": start + chrono::Duration::hours(8)}),
            "update-role" => json!({"description": "mine"}),
            "create-role-assignment" => json!({"role_id": "guard", "scope": {"type": "org"}, "reason": "x"}),
            "set-superuser" => json!({"superuser": true, "reason": "x"}),
            "terminate-employee" => json!({"reason": "x"}),
            "create-client-access" => {
                json!({"first_name": "A", "last_name": "B", "email": "b@globex.example", "role_id": "client"})
            }
            "update-client-access" => json!({"last_name": "Mine now"}),
            "update-employee" => json!({"job_title": "Mine now"}),
            "set-user-notification-preferences" => json!({"exception": {"email": false, "sms": false}}),
            "create-user-file" => {
                json!({"kind": "licence", "name": "l.pdf", "content_type": "application/pdf", "size": 10})
            }
            "reset-employee-password" => json!({"generate": true}),
            "reactivate-employee" => json!({"reason": "x"}),
            "set-client-sub-sites" => json!({ site.clone(): false }),
            _ => return None,
        })
    };
    let mut walked = 0;
    for op in OPERATIONS.iter().filter(|op| op.path.contains('{')) {
        let params: Vec<&str> = op.path.split('{').skip(1).map(|s| s.split('}').next().unwrap()).collect();
        let (mut theirs, mut fresh) = (op.path.to_owned(), op.path.to_owned());
        for p in &params {
            theirs = theirs.replace(&format!("{{{p}}}"), &real(op.id, p));
            fresh = fresh.replace(&format!("{{{p}}}"), &nowhere());
        }
        let method = Method::from_bytes(op.method.as_bytes()).unwrap();
        // A version to match, for the changes that need one: the id decides before it does.
        let if_match = [("if-match", "\"1\"")];
        let answer = app.call_with(method.clone(), &theirs, Some(&g), body_for(op.id), &if_match).await;
        assert_eq!(answer.status.as_u16(), 404, "{} {theirs}: {}", op.method, answer.body);
        let control = app.call_with(method, &fresh, Some(&g), body_for(op.id), &if_match).await;
        assert_eq!(answer.body, control.body, "{}: another organisation's id must look like no id at all", op.id);
        walked += 1;
    }
    // The walk covers every route with an id in its path as the registry grows: a new kind of id
    // stops it above (no id for it) until the walk is taught where to find a real one.
    assert!(walked >= 36, "{walked} routes walked");
    // Ids in the query.
    let explain = app.get(&format!("/v1/access/explain?user_id={guard}&permission=sites:view"), &g).await.expect(404);
    assert_eq!(explain.problem_type(), "not-found");
    app.get(&format!("/v1/me/permissions?site_id={site}"), &g).await.expect(404);
    let filtered = app.get(&format!("/v1/sites?parent_site_id={site}"), &g).await.expect(200);
    assert_eq!(filtered.body["items"], json!([]));
    let audit = app.get(&format!("/v1/audit?subject={guard}"), &g).await.expect(200);
    assert_eq!(audit.body["items"], json!([]), "nothing of acme's audit trail");
    // And nothing changed at acme.
    let still = app.get(&format!("/v1/users/{guard}/role-assignments"), &acme).await.expect(200);
    assert_eq!(still.body["items"].as_array().unwrap().len(), 2);
    app.get(&format!("/v1/roles/{role}"), &acme).await.expect(200);
}
