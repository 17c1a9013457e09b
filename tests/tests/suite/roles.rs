//! Roles, assignments, superusers, termination, integrations, explanations, audit and review,
//! told as an administrator at a security company would live them.

use chrono::Duration;
use guardpost_tests::{Answer, Backend, TestApp, on_both_stores};
use reqwest::Method;
use serde_json::{Value, json};

on_both_stores!(
    a_role_change_applies_on_the_next_request_without_logging_in_again,
    time_bounded_assignments_stop_by_themselves,
    only_superusers_edit_default_roles_see_the_matrix_and_keep_the_last_superuser,
    roles_in_use_and_default_roles_cannot_be_deleted,
    terminated_users_lose_everything_on_their_next_request,
    no_one_gives_a_role_holding_more_than_they_hold,
    bulk_changes_are_all_or_nothing_and_audited,
    integration_users_need_a_role_granting_api_access_from_their_address,
    explain_and_my_permissions_answer_for_the_seeded_roles,
    the_access_review_flags_what_a_quarterly_review_looks_for,
    usage_notes_go_to_their_own_partition_and_older_ones_still_count,
    concurrent_identical_assignments_make_exactly_one,
    narrow_or_temporary_rights_cannot_be_stretched,
    site_managers_create_staff_for_their_sites,
);

const PASSWORD: &str = "correct-horse-battery-7";

/// Two regions; in the first a master site with a sub-site and a plain site; in the second a
/// plain site.
struct Org {
    r1: String,
    master: String,
    sub: String,
    same_region: String,
    other_region: String,
}

async fn org(app: &TestApp, admin: &str) -> Org {
    let r1 = app.create_region(admin, "North").await;
    let r2 = app.create_region(admin, "South").await;
    let site = |name: &str, extra: Value| {
        let mut body = json!({"name": name, "time_zone": "America/Toronto"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let master = app.create_site(admin, site("Harbour Mall", json!({"kind": "master", "region_id": r1}))).await;
    let sub = app.create_site(admin, site("Harbour Mall North Entrance", json!({"parent_site_id": master}))).await;
    let same_region = app.create_site(admin, site("Dockyard", json!({"region_id": r1}))).await;
    let other_region = app.create_site(admin, site("Airport", json!({"region_id": r2}))).await;
    Org { r1, master, sub, same_region, other_region }
}

/// An employee with `role_id` over `scope`, logged in.
async fn person(app: &TestApp, admin: &str, name: &str, role_id: &str, scope: Value) -> (String, String) {
    let body = json!({
        "employee_number": name.to_uppercase(), "first_name": "Test", "last_name": name, "username": name,
        "password": PASSWORD, "force_change": false, "role_id": role_id, "role_scope": scope,
    });
    let id = app.post("/v1/employees", admin, body).await.expect(201).id();
    let token = app.login(name, PASSWORD).await.access_token;
    (id, token)
}

async fn assign(app: &TestApp, admin: &str, user: &str, role_id: &str, scope: Value) -> Answer {
    let body = json!({"role_id": role_id, "scope": scope, "reason": "covering"});
    app.post(&format!("/v1/users/{user}/role-assignments"), admin, body).await
}

fn site(id: &str) -> Value {
    json!({"type": "site", "id": id})
}

async fn status(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> u16 {
    app.call(method, path, Some(token), body).await.status.as_u16()
}

async fn a_role_change_applies_on_the_next_request_without_logging_in_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let o = org(&app, &admin).await;
    let viewer = app
        .post("/v1/roles", &admin, json!({"name": "Site viewer", "portal": "staff", "permissions": ["sites:view"]}))
        .await
        .expect(201)
        .id();
    let (ada, token) = person(&app, &admin, "ada", "guard", json!({"type": "org"})).await;
    let get = |id: &str| format!("/v1/sites/{id}");
    assert_eq!(status(&app, Method::GET, &get(&o.master), &token, None).await, 403);

    let assignment = assign(&app, &admin, &ada, &viewer, site(&o.master)).await.expect(201).id();
    // The same access token, no new login: the master site and its sub-site, nothing else.
    assert_eq!(status(&app, Method::GET, &get(&o.master), &token, None).await, 200);
    assert_eq!(status(&app, Method::GET, &get(&o.sub), &token, None).await, 200);
    assert_eq!(status(&app, Method::GET, &get(&o.same_region), &token, None).await, 403);
    let listed = app.get("/v1/sites", &token).await.expect(200).body;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2, "the listing keeps to the scope: {listed}");

    app.call(Method::PATCH, &format!("/v1/roles/{viewer}"), Some(&admin), Some(json!({"permissions": []})))
        .await
        .expect(200);
    assert_eq!(status(&app, Method::GET, &get(&o.master), &token, None).await, 403, "taken away at once");
    app.call(Method::PATCH, &format!("/v1/roles/{viewer}"), Some(&admin), Some(json!({"permissions": ["sites:view"]})))
        .await
        .expect(200);
    assert_eq!(status(&app, Method::GET, &get(&o.master), &token, None).await, 200);
    let path = format!("/v1/users/{ada}/role-assignments/{assignment}");
    assert_eq!(status(&app, Method::DELETE, &path, &admin, None).await, 204);
    assert_eq!(status(&app, Method::GET, &get(&o.master), &token, None).await, 403);
    assert_eq!(status(&app, Method::GET, &path, &admin, None).await, 404);
}

async fn time_bounded_assignments_stop_by_themselves(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let o = org(&app, &admin).await;
    let (ada, token) = person(&app, &admin, "ada", "guard", json!({"type": "org"})).await;
    app.assign(&admin, &o.master, &ada).await.expect(204);
    let until = app.now() + Duration::minutes(60);
    let body =
        json!({"role_id": "supervisor", "scope": site(&o.master), "valid_until": until, "reason": "holiday cover"});
    app.post(&format!("/v1/users/{ada}/role-assignments"), &admin, body).await.expect(201);
    let later = app.now() + Duration::minutes(30);
    let body = json!({"role_id": "manager", "scope": site(&o.master), "valid_from": later, "reason": "next week"});
    app.post(&format!("/v1/users/{ada}/role-assignments"), &admin, body).await.expect(201);
    let shifts = format!("/v1/sites/{}/shifts", o.master);
    assert_eq!(status(&app, Method::GET, &format!("/v1/sites/{}", o.master), &token, None).await, 200);
    assert_eq!(status(&app, Method::GET, &shifts, &token, None).await, 200, "supervisors see shifts");
    let schedule = json!({"employee_id": ada, "start": app.now() + Duration::days(2), "end": app.now() + Duration::days(2) + Duration::hours(8)});
    assert_eq!(status(&app, Method::POST, &shifts, &token, Some(schedule.clone())).await, 403, "manager not yet");

    app.advance(Duration::minutes(31));
    let token = app.login("ada", PASSWORD).await.access_token;
    assert_eq!(status(&app, Method::POST, &shifts, &token, Some(schedule)).await, 201, "manager from valid_from");
    app.advance(Duration::minutes(30));
    let token = app.login("ada", PASSWORD).await.access_token;
    let admin = app.admin().await.access_token;
    let explained = app
        .get(&format!("/v1/access/explain?user_id={ada}&permission=dashboard:exceptions&site_id={}", o.master), &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(explained["decision"]["allowed"], true, "still a manager: {explained}");
    let supervisor = explained["decision"]["assignments"].as_array().unwrap();
    assert!(supervisor.iter().any(|a| a["role_id"] == "supervisor" && a["bearing"] == "expired"), "{explained}");
    let listed = app.get(&format!("/v1/users/{ada}/role-assignments"), &admin).await.expect(200).body;
    let supervisor = listed["items"].as_array().unwrap().iter().find(|a| a["role_id"] == "supervisor").unwrap().clone();
    assert_eq!(supervisor["validity"], "expired");
    assert_eq!(status(&app, Method::GET, &format!("/v1/sites/{}/shifts", o.master), &token, None).await, 200);
}

async fn only_superusers_edit_default_roles_see_the_matrix_and_keep_the_last_superuser(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let root = app.admin().await.access_token;
    let (bob, bob_token) = person(&app, &root, "bob", "administrator", json!({"type": "org"})).await;

    let roles = app.get("/v1/roles", &bob_token).await.expect(200).body;
    let names: Vec<_> = roles["items"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    for name in ["Administrator", "Manager", "Supervisor", "Guard", "Client", "Terminated"] {
        assert!(names.contains(&name), "{name} is seeded: {names:?}");
    }
    assert!(roles["items"][0].get("permissions").is_none(), "the matrix is for superusers: {roles}");
    let matrix = app.get("/v1/roles/guard", &root).await.expect(200).body;
    assert_eq!(matrix["permissions"], json!(["reports:create", "time:clock"]));

    let edit = json!({"description": "Night guards"});
    let refused = app.call(Method::PATCH, "/v1/roles/guard", Some(&bob_token), Some(edit.clone())).await.expect(403);
    assert_eq!(refused.problem_type(), "superuser-required");
    let with_permissions = json!({"name": "Dispatch", "portal": "staff", "permissions": ["sites:view"]});
    app.post("/v1/roles", &bob_token, with_permissions).await.expect(403);
    let dispatch = app.post("/v1/roles", &bob_token, json!({"name": "Dispatch", "portal": "staff"})).await.expect(201);
    assert!(dispatch.body.get("permissions").is_none());
    let taken = app.post("/v1/roles", &bob_token, json!({"name": "dispatch", "portal": "staff"})).await.expect(409);
    assert_eq!(taken.problem_type(), "role-name-taken");
    let client_role = json!({"name": "Portal+", "portal": "client", "permissions": ["shifts:create"]});
    let wrong = app.post("/v1/roles", &root, client_role).await.expect(422);
    assert!(wrong.body["errors"][0]["message"].as_str().unwrap().contains("client role cannot hold"), "{}", wrong.body);
    app.call(Method::PATCH, "/v1/roles/guard", Some(&root), Some(edit)).await.expect(200);

    let flag = |on: bool| json!({"superuser": on, "reason": "holiday cover"});
    let path = format!("/v1/users/{bob}/superuser");
    assert_eq!(status(&app, Method::PUT, &path, &bob_token, Some(flag(true))).await, 403);
    let set = app.call(Method::PUT, &path, Some(&root), Some(flag(true))).await.expect(200);
    assert_eq!(set.body["superusers"], 2);
    // Bob's next request sees the matrix.
    assert!(app.get("/v1/roles/guard", &bob_token).await.expect(200).body.get("permissions").is_some());
    let me = app.get("/v1/me", &root).await.expect(200).body;
    let root_id = me["user"]["id"].as_str().unwrap().to_owned();
    app.call(Method::PUT, &format!("/v1/users/{root_id}/superuser"), Some(&bob_token), Some(flag(false)))
        .await
        .expect(200);
    let last = app.call(Method::PUT, &path, Some(&bob_token), Some(flag(false))).await.expect(409);
    assert_eq!(last.problem_type(), "last-superuser");
    let audit = app.get(&format!("/v1/audit?subject={bob}"), &bob_token).await.expect(200).body;
    let set = audit["items"].as_array().unwrap().iter().find(|e| e["action"] == "superuser.set").unwrap().clone();
    assert_eq!((set["ip"].clone(), set["before"].clone()), (json!("127.0.0.1"), json!({"superuser": false})), "{set}");
}

async fn roles_in_use_and_default_roles_cannot_be_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let refused = app.call(Method::DELETE, "/v1/roles/guard", Some(&admin), None).await.expect(409);
    assert_eq!(refused.problem_type(), "default-role");
    let role = app.post("/v1/roles", &admin, json!({"name": "Patrol lead", "portal": "staff"})).await.expect(201).id();
    let (ada, _) = person(&app, &admin, "ada", "guard", json!({"type": "org"})).await;
    let assignment = assign(&app, &admin, &ada, &role, json!({"type": "org"})).await.expect(201).id();
    let holders = app.get(&format!("/v1/roles/{role}/assignments"), &admin).await.expect(200).body;
    assert_eq!(holders["items"][0]["user_id"], ada.as_str());
    let in_use = app.call(Method::DELETE, &format!("/v1/roles/{role}"), Some(&admin), None).await.expect(409);
    assert_eq!(in_use.problem_type(), "role-in-use");
    let again = assign(&app, &admin, &ada, &role, json!({"type": "org"})).await.expect(409);
    assert_eq!(again.problem_type(), "assignment-exists", "no duplicate assignments");
    app.call(Method::DELETE, &format!("/v1/users/{ada}/role-assignments/{assignment}"), Some(&admin), None)
        .await
        .expect(204);
    app.call(Method::DELETE, &format!("/v1/roles/{role}"), Some(&admin), None).await.expect(204);
    app.get(&format!("/v1/roles/{role}"), &admin).await.expect(404);
}

async fn terminated_users_lose_everything_on_their_next_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let o = org(&app, &admin).await;
    let (mia, mia_token) = person(&app, &admin, "mia", "manager", json!({"type": "org"})).await;
    let (max, max_token) = person(&app, &admin, "max", "manager", json!({"type": "org"})).await;
    let site_path = format!("/v1/sites/{}", o.master);
    assert_eq!(status(&app, Method::GET, &site_path, &mia_token, None).await, 200);

    // Terminating the employee: sessions over, status kept, record kept.
    let body = json!({"reason": "left the company"});
    let done = app.post(&format!("/v1/employees/{mia}/terminate"), &admin, body.clone()).await.expect(200);
    assert_eq!(done.body["status"], "terminated");
    assert_eq!(status(&app, Method::GET, &site_path, &mia_token, None).await, 401);
    app.login_as(&app.org, "mia", PASSWORD).await.expect(401);
    app.post(&format!("/v1/employees/{mia}/terminate"), &admin, body).await.expect(409);

    // Giving the Terminated role does the same, whatever else the user holds.
    assign(&app, &admin, &max, "terminated", json!({"type": "org"})).await.expect(201);
    assert_eq!(status(&app, Method::GET, &site_path, &max_token, None).await, 401);
    app.advance(Duration::seconds(1));
    let again = app.login("max", PASSWORD).await.access_token;
    assert_eq!(status(&app, Method::GET, &site_path, &again, None).await, 403);
    assert_eq!(status(&app, Method::GET, "/v1/me", &again, None).await, 403);
    let explained =
        app.get(&format!("/v1/access/explain?user_id={max}&permission=sites:view"), &admin).await.expect(200);
    assert_eq!(explained.body["decision"]["reason"], "terminated");
}

async fn no_one_gives_a_role_holding_more_than_they_hold(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let o = org(&app, &admin).await;
    let body =
        json!({"name": "Site admin", "portal": "admin", "permissions": ["role-assignments:manage", "sites:view"]});
    let site_admin = app.post("/v1/roles", &admin, body).await.expect(201).id();
    let viewer = app
        .post("/v1/roles", &admin, json!({"name": "Viewer", "portal": "staff", "permissions": ["sites:view"]}))
        .await
        .expect(201)
        .id();
    let (_, lead) = person(&app, &admin, "lead", &site_admin, site(&o.master)).await;
    let (ada, _) = person(&app, &admin, "ada", "guard", json!({"type": "org"})).await;
    let escalation = assign(&app, &lead, &ada, "administrator", site(&o.master)).await.expect(403);
    assert_eq!(escalation.problem_type(), "escalation");
    assign(&app, &lead, &ada, &viewer, site(&o.other_region)).await.expect(403);
    assign(&app, &lead, &ada, &viewer, site(&o.sub)).await.expect(201);
    let ghost = json!({"type": "site", "id": "01JDQ5X0000000000000000000"});
    let missing = assign(&app, &admin, &ada, &viewer, ghost).await.expect(422);
    assert_eq!(missing.body["errors"][0]["field"], "scope");
}

async fn bulk_changes_are_all_or_nothing_and_audited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let o = org(&app, &admin).await;
    let (ada, _) = person(&app, &admin, "ada", "guard", json!({"type": "org"})).await;
    let (bea, _) = person(&app, &admin, "bea", "guard", json!({"type": "org"})).await;
    let count = |body: Value| body["items"].as_array().unwrap().len();
    let before = count(app.get(&format!("/v1/users/{ada}/role-assignments"), &admin).await.expect(200).body);
    let add = |user: &str, role: &str| json!({"op": "add", "user_id": user, "role_id": role, "scope": site(&o.master), "reason": "job code SUP"});
    let bad = json!({"changes": [add(&ada, "supervisor"), add(&bea, "no-such-role")]});
    let refused = app.post("/v1/role-assignments:bulk", &admin, bad).await.expect(422);
    assert_eq!(refused.body["errors"][0]["field"], "changes[1].role_id");
    assert_eq!(count(app.get(&format!("/v1/users/{ada}/role-assignments"), &admin).await.body), before, "nothing");

    let guard_of_bea = app.get(&format!("/v1/users/{bea}/role-assignments"), &admin).await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let good = json!({"changes": [
        add(&ada, "supervisor"), add(&bea, "supervisor"),
        {"op": "remove", "user_id": bea, "assignment_id": guard_of_bea},
    ]});
    let done = app.post("/v1/role-assignments:bulk", &admin, good).await.expect(200).body;
    assert_eq!((done["added"].as_array().unwrap().len(), done["removed"].as_array().unwrap().len()), (2, 1));
    let bea_now = app.get(&format!("/v1/users/{bea}/role-assignments"), &admin).await.body;
    assert_eq!(bea_now["items"].as_array().unwrap().len(), 1);
    assert_eq!(bea_now["items"][0]["role_id"], "supervisor");
    let audit = app.get(&format!("/v1/audit?subject={bea}"), &admin).await.expect(200).body;
    let entry = audit["items"].as_array().unwrap().iter().find(|e| e["action"] == "assignments.bulk").unwrap();
    assert_eq!(entry["before"][0]["assignment"]["role_id"], "guard", "before: {entry}");
    assert_eq!(entry["after"].as_array().unwrap().len(), 2);
    let too_many: Vec<_> = (0..101).map(|_| add(&ada, "manager")).collect();
    app.post("/v1/role-assignments:bulk", &admin, json!({"changes": too_many})).await.expect(422);
}

async fn integration_users_need_a_role_granting_api_access_from_their_address(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let (ada, _) = person(&app, &admin, "ada", "guard", json!({"type": "org"})).await;
    let body =
        json!({"name": "Payroll API", "portal": "admin", "permissions": ["employees:view"], "api_access": "block"});
    let role = app.post("/v1/roles", &admin, body).await.expect(201).id();
    let made =
        app.post("/v1/integrations", &admin, json!({"name": "Payroll export", "role_id": role})).await.expect(201);
    let (client_id, secret) = (made.body["client_id"].as_str().unwrap(), made.body["client_secret"].as_str().unwrap());
    app.post("/v1/integrations", &admin, json!({"name": "payroll EXPORT"})).await.expect(409);
    let token_for =
        |secret: &str| json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret});
    let blocked = app.call(Method::POST, "/v1/auth/token", None, Some(token_for(secret))).await.expect(403);
    assert_eq!(blocked.problem_type(), "api-access-blocked");

    let role_path = format!("/v1/roles/{role}");
    let patch = |b: Value| app.call(Method::PATCH, &role_path, Some(&admin), Some(b));
    patch(json!({"api_access": "grant"})).await.expect(200);
    let issued = app.call(Method::POST, "/v1/auth/token", None, Some(token_for(secret))).await.expect(200);
    let token = issued.body["access_token"].as_str().unwrap().to_owned();
    let employee = app.get(&format!("/v1/employees/{ada}"), &token).await.expect(200).body;
    assert_eq!(employee["sensitive_hidden"], true, "no employees:view-sensitive: {employee}");
    assert!(employee["birthday"].is_null() && employee["address"].is_null());
    app.get("/v1/sites", &token).await.expect(403);

    patch(json!({"allowed_cidrs": ["203.0.113.0/24"]})).await.expect(200);
    let outside = app.get(&format!("/v1/employees/{ada}"), &token).await.expect(403);
    assert_eq!(outside.problem_type(), "api-access-blocked");
    patch(json!({"allowed_cidrs": ["127.0.0.0/8"]})).await.expect(200);
    app.get(&format!("/v1/employees/{ada}"), &token).await.expect(200);
    patch(json!({"api_access": "block"})).await.expect(200);
    app.get(&format!("/v1/employees/{ada}"), &token).await.expect(403);
    patch(json!({"api_access": "grant"})).await.expect(200);

    let user = made.body["user_id"].as_str().unwrap();
    app.advance(Duration::seconds(1));
    let rotated =
        app.call(Method::POST, &format!("/v1/integrations/{user}/secret"), Some(&admin), None).await.expect(201);
    app.get(&format!("/v1/employees/{ada}"), &token).await.expect(401);
    app.call(Method::POST, "/v1/auth/token", None, Some(token_for(secret))).await.expect(401);
    let new_secret = rotated.body["client_secret"].as_str().unwrap();
    app.call(Method::POST, "/v1/auth/token", None, Some(token_for(new_secret))).await.expect(200);
    let review = app.get("/v1/access/review", &admin).await.expect(200).body;
    let entry = review["items"].as_array().unwrap().iter().find(|u| u["user_id"] == user).unwrap().clone();
    assert_eq!(entry["flags"], json!([]), "employees:view is not sensitive: {entry}");
    patch(json!({"permissions": ["employees:view", "employees:view-sensitive"]})).await.expect(200);
    let review = app.get("/v1/access/review", &admin).await.expect(200).body;
    let entry = review["items"].as_array().unwrap().iter().find(|u| u["user_id"] == user).unwrap().clone();
    assert_eq!(entry["flags"], json!(["integration-with-sensitive-permissions"]));
}

async fn explain_and_my_permissions_answer_for_the_seeded_roles(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let o = org(&app, &admin).await;
    let (mia, mia_token) = person(&app, &admin, "mia", "manager", json!({"type": "region", "id": o.r1})).await;
    let (sam, _) = person(&app, &admin, "sam", "manager", site(&o.master)).await;
    let (gus, _) = person(&app, &admin, "gus", "guard", json!({"type": "org"})).await;
    let explain = |user: &str, permission: &str, site: &str| {
        let path = format!("/v1/access/explain?user_id={user}&permission={permission}&site_id={site}");
        let (app, admin) = (&app, &admin);
        async move { app.get(&path, admin).await.expect(200).body["decision"].clone() }
    };
    let granted = explain(&mia, "shifts:create", &o.sub).await;
    assert_eq!(granted["allowed"], true);
    assert_eq!(granted["assignments"][0]["bearing"], "grants");
    assert_eq!(granted["assignments"][0]["role_name"], "Manager");
    assert_eq!(explain(&mia, "shifts:create", &o.other_region).await["reason"], "out-of-scope");
    assert_eq!(explain(&sam, "report-templates:create", &o.master).await["reason"], "region-level-rule");
    assert_eq!(explain(&mia, "report-templates:create", &o.master).await["allowed"], true, "region level is enough");
    assert_eq!(explain(&gus, "shifts:create", &o.master).await["reason"], "no-assignment");
    app.get(&format!("/v1/access/explain?user_id={gus}&permission=nope:nope"), &admin).await.expect(422);

    let mine = app.get(&format!("/v1/me/permissions?site_id={}", o.same_region), &mia_token).await.expect(200).body;
    let names: Vec<_> = mine["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert!(names.contains(&"shifts:create") && names.contains(&"dashboard:exceptions"), "{names:?}");
    assert!(!names.contains(&"roles:manage") && !names.contains(&"client-schedule:view"), "{names:?}");
    let elsewhere = app.get(&format!("/v1/me/permissions?site_id={}", o.other_region), &mia_token).await.expect(200);
    assert_eq!(elsewhere.body["permissions"], json!([]), "nothing in the other region");
    app.get("/v1/access/explain?user_id=x&permission=sites:view", &mia_token).await.expect(403);
}

/// 91 days on, bob uses his role at the master site; then the access review, with the
/// administrator's fresh token (the old one has expired).
async fn review_after_bob_uses_his_role(app: &TestApp, o: &Org) -> (String, Value) {
    app.advance(Duration::days(91));
    let admin = app.admin().await.access_token;
    let bob_token = app.login("bob", PASSWORD).await.access_token;
    app.get(&format!("/v1/sites/{}", o.master), &bob_token).await.expect(200);
    let review = app.get("/v1/access/review?limit=200", &admin).await.expect(200).body;
    (admin, review)
}

async fn the_access_review_flags_what_a_quarterly_review_looks_for(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let o = org(&app, &admin).await;
    let (ada, _) = person(&app, &admin, "ada", "guard", json!({"type": "org"})).await;
    assign(&app, &admin, &ada, "supervisor", site(&o.master)).await.expect(201);
    let (bob, _) = person(&app, &admin, "bob", "manager", site(&o.master)).await;

    let (_, review) = review_after_bob_uses_his_role(&app, &o).await;
    let of = |id: &str| review["items"].as_array().unwrap().iter().find(|u| u["user_id"] == id).unwrap().clone();
    let ada_review = of(&ada);
    assert_eq!(ada_review["flags"], json!(["unused-90-days", "multiple-roles"]), "{ada_review}");
    assert!(ada_review["last_login_at"].is_string());
    let bob_review = of(&bob);
    assert_eq!(bob_review["flags"], json!([]), "bob used his role today: {bob_review}");
    assert!(bob_review["assignments"][0]["last_used_on"].is_string());
    let root = review["items"].as_array().unwrap().iter().find(|u| u["is_superuser"] == true).unwrap();
    assert_eq!(root["flags"], json!(["superuser"]));
}

/// Notes of an assignment's use are written to the usage partition only (the one partition
/// the read-only functions may write); a note where versions before 2026-12-08 wrote it (the
/// user's own partition) still counts in the review.
async fn usage_notes_go_to_their_own_partition_and_older_ones_still_count(backend: Backend) {
    use guardpost_shared::access::usage::{KIND, Usage};
    use guardpost_shared::domain::{AssignmentId, OrgSlug, UserId};
    use guardpost_shared::records::{item, keys};
    use guardpost_shared::store::{Condition, Key, Query};
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let o = org(&app, &admin).await;
    let (ada, _) = person(&app, &admin, "ada", "supervisor", site(&o.master)).await;
    let (bob, _) = person(&app, &admin, "bob", "manager", site(&o.master)).await;
    let (admin, review) = review_after_bob_uses_his_role(&app, &o).await;
    let of = |review: &Value, id: &str| {
        review["items"].as_array().unwrap().iter().find(|u| u["user_id"] == id).unwrap()["assignments"][0].clone()
    };
    assert_eq!(of(&review, &ada)["unused_90_days"], true);
    let bob_used = of(&review, &bob);
    assert_eq!(bob_used["unused_90_days"], false, "{bob_used}");

    let org_slug = OrgSlug::parse(&app.org).unwrap();
    let (ada_id, bob_id) = (UserId::parse(&ada).unwrap(), UserId::parse(&bob).unwrap());
    let in_partition = |pk: String| {
        let store = app.state.store.clone();
        async move { store.query(&Query::table(pk)).await.unwrap().items }
    };
    let noted = in_partition(keys::usage_items(&org_slug, &bob_id)).await;
    assert_eq!(noted.len(), 1, "bob's use is noted in the usage partition");
    let user_partition = in_partition(keys::user_items(&org_slug, &bob_id)).await;
    assert!(user_partition.iter().all(|i| i.kind != KIND), "and not in his own partition");

    // Ada's assignment was used today, noted as the previous version noted it.
    let assignment = AssignmentId::parse(of(&review, &ada)["id"].as_str().unwrap()).unwrap();
    let today = app.now().date_naive();
    let legacy = Key::new(keys::user_items(&org_slug, &ada_id), format!("{}{assignment}", keys::LEGACY_USAGE_PREFIX));
    let note = item(legacy, KIND, &Usage { assignment_id: assignment, last_used_on: today }).unwrap();
    app.state.store.put(note, Condition::None).await.unwrap();
    let review = app.get("/v1/access/review?limit=200", &admin).await.expect(200).body;
    let ada_used = of(&review, &ada);
    assert_eq!(ada_used["unused_90_days"], false, "{ada_used}");
    assert_eq!(ada_used["last_used_on"], json!(today.to_string()));
}

async fn concurrent_identical_assignments_make_exactly_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let o = org(&app, &admin).await;
    let (ada, _) = person(&app, &admin, "ada", "guard", json!({"type": "org"})).await;
    let attempts = (0..8).map(|_| assign(&app, &admin, &ada, "supervisor", site(&o.master)));
    let answers = futures::future::join_all(attempts).await;
    let created = answers.iter().filter(|a| a.status == 201).count();
    assert_eq!(created, 1, "{:?}", answers.iter().map(|a| a.status.as_u16()).collect::<Vec<_>>());
    for refused in answers.iter().filter(|a| a.status != 201) {
        assert_eq!(refused.status, 409);
        assert!(["assignment-exists", "concurrent-update"].contains(&refused.problem_type()), "{}", refused.body);
    }
    let listed = app.get(&format!("/v1/users/{ada}/role-assignments"), &admin).await.expect(200).body;
    let roles: Vec<_> = listed["items"].as_array().unwrap().iter().map(|a| a["role_id"].clone()).collect();
    assert_eq!(roles, vec![json!("guard"), json!("supervisor")]);
    // Her first role (given at creation) and the one that won are both in the audit trail.
    let audit = app.get(&format!("/v1/audit?subject={ada}"), &admin).await.expect(200).body;
    let actions: Vec<_> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].clone()).collect();
    assert_eq!(actions, vec![json!("assignment.create"), json!("assignment.create")]);
}

async fn narrow_or_temporary_rights_cannot_be_stretched(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let root = app.admin().await.access_token;
    let o = org(&app, &root).await;
    let body = json!({"name": "Site admin", "portal": "admin", "permissions": ["role-assignments:manage", "sites:view", "employees:terminate"]});
    let site_admin = app.post("/v1/roles", &root, body).await.expect(201).id();
    let (_, lead) = person(&app, &root, "lead", &site_admin, site(&o.master)).await;
    let (boss, _) = person(&app, &root, "boss", "administrator", json!({"type": "org"})).await;
    // Terminating is over the organisation only, and a site's administrator cannot do it.
    let narrow = assign(&app, &lead, &boss, "terminated", site(&o.master)).await.expect(422);
    assert_eq!(narrow.body["errors"][0]["field"], "scope");
    assign(&app, &lead, &boss, "terminated", json!({"type": "org"})).await.expect(403);
    // Nor terminate them through the endpoint: boss holds more than lead.
    app.assign(&root, &o.master, &boss).await.expect(204);
    let outranked = app.post(&format!("/v1/employees/{boss}/terminate"), &lead, json!({"reason": "x"})).await;
    assert_eq!(outranked.expect(403).problem_type(), "outranked");

    // A temporary administrator cannot hand out anything that outlives their own assignment,
    // nor give themselves a role.
    let until = app.now() + Duration::hours(1);
    let (temp, _) = person(&app, &root, "temp", "guard", json!({"type": "org"})).await;
    let body = json!({"role_id": "administrator", "scope": {"type": "org"}, "valid_until": until, "reason": "holiday"});
    app.post(&format!("/v1/users/{temp}/role-assignments"), &root, body).await.expect(201);
    let temp_token = app.login("temp", PASSWORD).await.access_token;
    let (ada, _) = person(&app, &root, "ada", "guard", json!({"type": "org"})).await;
    let forever = assign(&app, &temp_token, &ada, "supervisor", site(&o.master)).await.expect(403);
    assert_eq!(forever.problem_type(), "escalation");
    let short = json!({"role_id": "supervisor", "scope": site(&o.master), "valid_until": until - Duration::minutes(1), "reason": "x"});
    app.post(&format!("/v1/users/{ada}/role-assignments"), &temp_token, short).await.expect(201);
    let own = assign(&app, &temp_token, &temp, "manager", site(&o.master)).await.expect(403);
    assert_eq!(own.problem_type(), "escalation");

    // An integrations clerk cannot take over the credentials of an integration stronger than them.
    let body = json!({"name": "Integrations clerk", "portal": "admin", "permissions": ["integrations:manage"]});
    let clerk_role = app.post("/v1/roles", &root, body).await.expect(201).id();
    let (_, clerk) = person(&app, &root, "clerk", &clerk_role, json!({"type": "org"})).await;
    let feed =
        app.post("/v1/integrations", &root, json!({"name": "HR feed", "role_id": "administrator"})).await.expect(201);
    let feed = feed.body["user_id"].as_str().unwrap().to_owned();
    let taken = app.call(Method::POST, &format!("/v1/integrations/{feed}/secret"), Some(&clerk), None).await;
    assert_eq!(taken.expect(403).problem_type(), "outranked");
    let weak = app.post("/v1/integrations", &clerk, json!({"name": "Weak feed"})).await.expect(201);
    let weak = weak.body["user_id"].as_str().unwrap().to_owned();
    app.call(Method::POST, &format!("/v1/integrations/{weak}/secret"), Some(&clerk), None).await.expect(201);

    // A terminated employee cannot be made a superuser (the last-superuser count would lie).
    app.post(&format!("/v1/employees/{ada}/terminate"), &root, json!({"reason": "left"})).await.expect(200);
    let flag = json!({"superuser": true, "reason": "x"});
    let dead = app.call(Method::PUT, &format!("/v1/users/{ada}/superuser"), Some(&root), Some(flag)).await;
    assert_eq!(dead.expect(409).problem_type(), "not-active");

    // Role permissions in the audit trail are for superusers only.
    let patch = json!({"permissions": ["sites:view"]});
    app.call(Method::PATCH, &format!("/v1/roles/{clerk_role}"), Some(&root), Some(patch)).await.expect(200);
    let seen_by_boss = app.login("boss", PASSWORD).await.access_token;
    let trail = app.get(&format!("/v1/audit?subject={clerk_role}"), &seen_by_boss).await.expect(200).body;
    let update = trail["items"].as_array().unwrap().iter().find(|e| e["action"] == "role.update").unwrap().clone();
    assert_eq!(update["after"]["permissions"], "(superusers only)", "{update}");
    let trail = app.get(&format!("/v1/audit?subject={clerk_role}"), &root).await.expect(200).body;
    let update = trail["items"].as_array().unwrap().iter().find(|e| e["action"] == "role.update").unwrap().clone();
    assert_eq!(update["after"]["permissions"], json!(["sites:view"]));
}

async fn site_managers_create_staff_for_their_sites(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let root = app.admin().await.access_token;
    let o = org(&app, &root).await;
    let (_, mia) = person(&app, &root, "mia", "manager", site(&o.master)).await;
    let guard = |n: &str, site: Option<&str>| {
        let username = format!("user-{}", n.to_lowercase());
        let mut body = json!({"employee_number": n, "first_name": "New", "last_name": n, "birthday": "1990-01-02", "username": username});
        if let Some(s) = site {
            body["site_id"] = json!(s);
        }
        body
    };
    app.post("/v1/employees", &mia, guard("N-1", None)).await.expect(403);
    app.post("/v1/employees", &mia, guard("N-2", Some(&o.other_region))).await.expect(403);
    let made = app.post("/v1/employees", &mia, guard("N-3", Some(&o.sub))).await.expect(201);
    assert_eq!(made.body["sensitive_hidden"], true, "managers do not hold employees:view-sensitive");
    let id = made.id();
    let read = app.get(&format!("/v1/employees/{id}"), &mia).await.expect(200).body;
    assert!(read["birthday"].is_null());
    let staff = app.get(&format!("/v1/sites/{}/employees", o.sub), &mia).await.expect(200).body;
    assert_eq!(staff["items"][0]["id"], id.as_str(), "assigned in the same transaction");
    assert_eq!(app.get(&format!("/v1/employees/{id}"), &root).await.expect(200).body["birthday"], "1990-01-02");
    let supervisor = json!({"employee_number": "N-4", "first_name": "S", "last_name": "V", "username": "sv4", "site_id": o.sub, "role_id": "supervisor"});
    app.post("/v1/employees", &mia, supervisor).await.expect(403);
    let ghost = app.post("/v1/employees", &root, guard("N-5", Some("01JDQ5X0000000000000000000"))).await.expect(422);
    assert_eq!(ghost.body["errors"][0]["field"], "site_id");
}
