//! The escalation and information-leak holes a security review found (issue 15), each as the
//! requests an attacker would send: every story here failed before its fix. Credentials and
//! brute force are in `security_credentials`. docs/SECURITY.md lists the threats and the tests.

use chrono::Duration;
use guardpost_tests::{Backend, TestApp, on_both_stores};
use reqwest::Method;
use serde_json::{Value, json};

on_both_stores!(
    a_manager_cannot_pull_someone_into_their_scope,
    moving_a_site_to_another_region_needs_both_regions,
    an_assignment_that_starts_tomorrow_counts_when_outranking,
    taking_a_role_away_needs_what_giving_it_needs,
    a_scheduler_learns_nothing_of_shifts_at_other_sites,
    answers_with_tokens_or_secrets_are_not_cached,
    api_access_settings_are_a_superusers_and_an_integration_gives_no_wider_access_than_its_own,
    explain_shows_role_contents_to_superusers_only,
);

pub(crate) const PASSWORD: &str = "correct-horse-battery-7";

/// Two regions, a site in each, and a manager (default Manager role) of the first site.
pub(crate) struct World {
    pub admin: String,
    pub north: String,
    pub south: String,
    pub depot: String,
    pub airport: String,
    pub manager: String,
    pub manager_id: String,
}

pub(crate) async fn world(app: &TestApp) -> World {
    let admin = app.admin().await.access_token;
    let north = app.create_region(&admin, "North").await;
    let south = app.create_region(&admin, "South").await;
    let depot = app.create_site(&admin, json!({"name": "Depot", "region_id": north, "time_zone": "UTC"})).await;
    let airport = app.create_site(&admin, json!({"name": "Airport", "region_id": south, "time_zone": "UTC"})).await;
    let manager_id = app.create_employee(&admin, "M-1", "maria", PASSWORD).await;
    app.assign(&admin, &depot, &manager_id).await.expect(204);
    give(app, &admin, &manager_id, "manager", json!({"type": "site", "id": depot})).await;
    let manager = app.login("maria", PASSWORD).await.access_token;
    World { admin, north, south, depot, airport, manager, manager_id }
}

pub(crate) async fn give(app: &TestApp, token: &str, user: &str, role: &str, scope: Value) -> String {
    let body = json!({"role_id": role, "scope": scope, "reason": "test"});
    app.post(&format!("/v1/users/{user}/role-assignments"), token, body).await.expect(201).id()
}

pub(crate) async fn custom_role(app: &TestApp, admin: &str, name: &str, portal: &str, permissions: &[&str]) -> String {
    let body = json!({"name": name, "portal": portal, "permissions": permissions});
    app.post("/v1/roles", admin, body).await.expect(201).id()
}

async fn a_manager_cannot_pull_someone_into_their_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = world(&app).await;
    // Someone of another site, the administrator, a new hire assigned nowhere.
    let victim = app.create_employee(&w.admin, "V-1", "vic", PASSWORD).await;
    app.assign(&w.admin, &w.airport, &victim).await.expect(204);
    let admin_id = app.get("/v1/me", &w.admin).await.body["user"]["id"].as_str().unwrap().to_owned();
    let hire = app.create_employee(&w.admin, "H-1", "hank", PASSWORD).await;
    for id in [&victim, &admin_id, &hire] {
        app.assign(&w.manager, &w.depot, id).await.expect(403);
        app.get(&format!("/v1/employees/{id}"), &w.manager).await.expect(403);
    }
    let staff = app.get(&format!("/v1/sites/{}/employees", w.depot), &w.manager).await.expect(200).body;
    assert_eq!(staff["items"].as_array().unwrap().len(), 1, "only the manager herself: {staff}");
    // Clients and integrations are never assigned to sites.
    let integration = app.post("/v1/integrations", &w.admin, json!({"name": "Feed"})).await.expect(201);
    let integration = integration.body["user_id"].as_str().unwrap().to_owned();
    app.assign(&w.admin, &w.depot, &integration).await.expect(422);
    // Whoever sees employees across the organisation brings the new hire in.
    app.assign(&w.admin, &w.depot, &hire).await.expect(204);
    app.get(&format!("/v1/employees/{hire}"), &w.manager).await.expect(200);
}

async fn moving_a_site_to_another_region_needs_both_regions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = world(&app).await;
    let moved = json!({"region_id": w.south});
    let refused = app.patch(&format!("/v1/sites/{}", w.depot), &w.manager, moved.clone()).await.expect(403);
    assert_eq!(refused.problem_type(), "forbidden");
    // A regional manager of both regions may.
    let rm = app.create_employee(&w.admin, "R-1", "rita", PASSWORD).await;
    give(&app, &w.admin, &rm, "manager", json!({"type": "region", "id": w.north})).await;
    let rita = app.login("rita", PASSWORD).await.access_token;
    app.patch(&format!("/v1/sites/{}", w.depot), &rita, moved.clone()).await.expect(403);
    give(&app, &w.admin, &rm, "manager", json!({"type": "region", "id": w.south})).await;
    let site = app.patch(&format!("/v1/sites/{}", w.depot), &rita, moved).await.expect(200).body;
    assert_eq!(site["region_id"], w.south.as_str());
}

async fn an_assignment_that_starts_tomorrow_counts_when_outranking(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = world(&app).await;
    let feed = custom_role(&app, &w.admin, "Feed", "admin", &["sites:view"]).await;
    app.patch(&format!("/v1/roles/{feed}"), &w.admin, json!({"api_access": "grant"})).await.expect(200);
    let x = app.post("/v1/integrations", &w.admin, json!({"name": "Payroll", "role_id": feed})).await.expect(201);
    let x = x.body["user_id"].as_str().unwrap().to_owned();
    let tomorrow = app.now() + Duration::days(1);
    let body = json!({"role_id": "administrator", "scope": {"type": "org"}, "reason": "from tomorrow", "valid_from": tomorrow});
    app.post(&format!("/v1/users/{x}/role-assignments"), &w.admin, body).await.expect(201);
    // A keeper of integrations who holds only what the integration holds today.
    let keeper_role = custom_role(&app, &w.admin, "Keeper", "admin", &["integrations:manage", "sites:view"]).await;
    let keeper = app.create_employee(&w.admin, "K-1", "kim", PASSWORD).await;
    give(&app, &w.admin, &keeper, &keeper_role, json!({"type": "org"})).await;
    let kim = app.login("kim", PASSWORD).await.access_token;
    let refused = app.call(Method::POST, &format!("/v1/integrations/{x}/secret"), Some(&kim), None).await.expect(403);
    assert_eq!(refused.problem_type(), "outranked");
}

async fn taking_a_role_away_needs_what_giving_it_needs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = world(&app).await;
    // An access administrator over the organisation who holds little else.
    let clerk_role =
        custom_role(&app, &w.admin, "Access clerk", "admin", &["role-assignments:manage", "sites:view"]).await;
    let clerk = app.create_employee(&w.admin, "C-1", "carl", PASSWORD).await;
    give(&app, &w.admin, &clerk, &clerk_role, json!({"type": "org"})).await;
    let carl = app.login("carl", PASSWORD).await.access_token;
    // The manager's Manager assignment: more than the clerk holds.
    let listed = app.get(&format!("/v1/users/{}/role-assignments", w.manager_id), &w.admin).await.expect(200).body;
    let manager_assignment =
        listed["items"].as_array().unwrap().iter().find(|a| a["role_id"] == "manager").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let path = format!("/v1/users/{}/role-assignments/{manager_assignment}", w.manager_id);
    assert_eq!(app.delete(&path, &carl).await.expect(403).problem_type(), "outranked");
    let bulk = json!({"changes": [{"op": "remove", "user_id": w.manager_id, "assignment_id": manager_assignment}]});
    assert_eq!(app.post("/v1/role-assignments:bulk", &carl, bulk).await.expect(403).problem_type(), "outranked");
    // Someone terminated by assignment is not un-terminated by a clerk without employees:terminate.
    let gone = app.create_employee(&w.admin, "G-1", "gil", PASSWORD).await;
    let terminated = give(&app, &w.admin, &gone, "terminated", json!({"type": "org"})).await;
    app.delete(&format!("/v1/users/{gone}/role-assignments/{terminated}"), &carl).await.expect(403);
    app.delete(&format!("/v1/users/{gone}/role-assignments/{terminated}"), &w.admin).await.expect(204);
}

async fn a_scheduler_learns_nothing_of_shifts_at_other_sites(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = world(&app).await;
    let guard = app.create_employee(&w.admin, "G-1", "gwen", PASSWORD).await;
    app.assign(&w.admin, &w.airport, &guard).await.expect(204);
    app.schedule(&w.admin, &w.airport, &guard, Duration::days(1), 8).await.expect(201);
    // Not at the manager's site: refused before the schedule is looked at.
    let refused = app.schedule(&w.manager, &w.depot, &guard, Duration::days(1), 8).await.expect(422);
    assert_eq!(refused.body["errors"][0]["field"], "employee_id");
    // At both sites: the clash is reported without naming the shift or the site the manager
    // cannot read.
    app.assign(&w.admin, &w.depot, &guard).await.expect(204);
    let clash = app.schedule(&w.manager, &w.depot, &guard, Duration::days(1) + Duration::hours(2), 8).await.expect(409);
    assert_eq!(clash.problem_type(), "shift-overlap");
    assert!(!clash.body.to_string().contains(&w.airport), "{}", clash.body);
    let by_admin =
        app.schedule(&w.admin, &w.depot, &guard, Duration::days(1) + Duration::hours(2), 8).await.expect(409);
    assert!(by_admin.body["detail"].as_str().unwrap().contains(&w.airport), "those who may read it are told");
}

async fn answers_with_tokens_or_secrets_are_not_cached(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = world(&app).await;
    let no_store = |answer: &guardpost_tests::Answer| {
        answer.headers.get("cache-control").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    };
    let login = app.login_as("acme", "maria", PASSWORD).await.expect(200);
    assert_eq!(no_store(&login), "no-store");
    let refresh = json!({"refresh_token": login.body["refresh_token"]});
    let refreshed = app.call(Method::POST, "/v1/auth/refresh", None, Some(refresh)).await.expect(200);
    assert_eq!(no_store(&refreshed), "no-store");
    let role = custom_role(&app, &w.admin, "Feed", "admin", &["sites:view"]).await;
    app.patch(&format!("/v1/roles/{role}"), &w.admin, json!({"api_access": "grant"})).await.expect(200);
    let created = app.post("/v1/integrations", &w.admin, json!({"name": "Feed", "role_id": role})).await.expect(201);
    assert_eq!(no_store(&created), "no-store");
    let id = created.body["user_id"].as_str().unwrap();
    let rotated =
        app.call(Method::POST, &format!("/v1/integrations/{id}/secret"), Some(&w.admin), None).await.expect(201);
    assert_eq!(no_store(&rotated), "no-store");
    let credentials = json!({"grant_type": "client_credentials", "client_id": rotated.body["client_id"], "client_secret": rotated.body["client_secret"]});
    let token = app.call(Method::POST, "/v1/auth/token", None, Some(credentials)).await;
    assert_eq!((token.status.as_u16(), no_store(&token)), (200, "no-store".to_owned()));
    let _ = (&w.manager, &w.north);
}

async fn api_access_settings_are_a_superusers_and_an_integration_gives_no_wider_access_than_its_own(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = world(&app).await;
    // A role manager who is not a superuser: no API settings, not even on their own role.
    let ops = custom_role(&app, &w.admin, "Ops", "admin", &["roles:manage", "sites:view"]).await;
    let olga = app.create_employee(&w.admin, "O-1", "olga", PASSWORD).await;
    give(&app, &w.admin, &olga, &ops, json!({"type": "org"})).await;
    let olga = app.login("olga", PASSWORD).await.access_token;
    for change in [json!({"api_access": "grant"}), json!({"allowed_cidrs": ["0.0.0.0/0"]})] {
        let refused = app.patch(&format!("/v1/roles/{ops}"), &olga, change).await.expect(403);
        assert_eq!(refused.problem_type(), "superuser-required");
    }
    let open = json!({"name": "Open", "portal": "admin", "api_access": "grant"});
    app.post("/v1/roles", &olga, open).await.expect(403);

    // An integration kept to loopback addresses, which may create integrations.
    let keeper = custom_role(
        &app,
        &w.admin,
        "Keeper",
        "admin",
        &["integrations:manage", "role-assignments:manage", "sites:view"],
    )
    .await;
    let local = json!({"api_access": "grant", "allowed_cidrs": ["127.0.0.0/8"]});
    app.patch(&format!("/v1/roles/{keeper}"), &w.admin, local).await.expect(200);
    let x = app.post("/v1/integrations", &w.admin, json!({"name": "Keeper", "role_id": keeper})).await.expect(201).body;
    let credentials =
        json!({"grant_type": "client_credentials", "client_id": x["client_id"], "client_secret": x["client_secret"]});
    let token = app.call(Method::POST, "/v1/auth/token", None, Some(credentials)).await.expect(200);
    let token = token.body["access_token"].as_str().unwrap().to_owned();
    let feed = |name: &str, cidrs: Value| json!({"name": name, "portal": "admin", "permissions": ["sites:view"], "api_access": "grant", "allowed_cidrs": cidrs});
    let unrestricted = app.post("/v1/roles", &w.admin, feed("Open feed", json!([]))).await.expect(201).id();
    let narrower = app.post("/v1/roles", &w.admin, feed("Local feed", json!(["127.0.0.1/32"]))).await.expect(201).id();
    let refused =
        app.post("/v1/integrations", &token, json!({"name": "Escape", "role_id": unrestricted})).await.expect(403);
    assert_eq!(refused.problem_type(), "escalation");
    app.post("/v1/integrations", &token, json!({"name": "Inside", "role_id": narrower})).await.expect(201);
}

async fn explain_shows_role_contents_to_superusers_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = world(&app).await;
    let reviewer_role = custom_role(&app, &w.admin, "Reviewer", "admin", &["access:review"]).await;
    let rev = app.create_employee(&w.admin, "R-1", "rex", PASSWORD).await;
    give(&app, &w.admin, &rev, &reviewer_role, json!({"type": "org"})).await;
    let rex = app.login("rex", PASSWORD).await.access_token;
    let path = format!("/v1/access/explain?user_id={}&permission=shifts:create&site_id={}", w.manager_id, w.depot);
    let bearings = |body: &Value| -> Vec<String> {
        body["decision"]["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["bearing"].as_str().unwrap().to_owned())
            .collect()
    };
    let by_superuser = app.get(&path, &w.admin).await.expect(200).body;
    assert!(bearings(&by_superuser).contains(&"grants".to_owned()), "{by_superuser}");
    let by_reviewer = app.get(&path, &rex).await.expect(200).body;
    assert_eq!(by_reviewer["decision"]["allowed"], true, "the decision itself is shown");
    assert!(bearings(&by_reviewer).iter().all(|b| b == "hidden"), "{by_reviewer}");
}
