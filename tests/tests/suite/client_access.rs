//! Client portal access, end to end: a supervisor invites a mall's property manager, who sets a
//! password from the emailed link, logs in and sees the mall and its sub-sites (who is on site,
//! the schedule, the timesheets), until a sub-site is set to "No", the access is revoked, or it
//! is deleted.

use chrono::Duration;
use guardpost_tests::{Backend, TestApp, on_both_stores, unique};
use reqwest::Method;
use serde_json::{Value, json};

on_both_stores!(
    a_supervisor_gives_a_property_manager_portal_access_to_the_mall,
    invitation_links_work_once_expire_and_die_when_a_new_one_is_sent,
    a_client_given_a_password_to_change_can_do_nothing_else_until_they_change_it,
    bad_client_access_requests_are_refused_and_write_nothing,
    a_client_with_maintain_approves_timesheets_and_one_with_view_cannot,
);

/// A mall (master site) with two sub-sites, another client's site, a guard at the north
/// entrance, and a supervisor who may give client access over the mall.
struct Mall {
    admin: String,
    mall: String,
    north: String,
    south: String,
    elsewhere: String,
    guard: String,
    supervisor: String,
}

async fn mall(app: &TestApp) -> Mall {
    let admin = app.admin().await.access_token;
    let region = app.create_region(&admin, "Toronto").await;
    let site = |name: &str, extra: Value| {
        let mut body = json!({"name": name, "time_zone": "America/Toronto"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let mall = app.create_site(&admin, site("Harbour Mall", json!({"kind": "master", "region_id": region}))).await;
    let north = app.create_site(&admin, site("Mall North", json!({"parent_site_id": mall}))).await;
    let south = app.create_site(&admin, site("Mall South", json!({"parent_site_id": mall}))).await;
    let elsewhere = app.create_site(&admin, site("Other Client Tower", json!({"region_id": region}))).await;
    let guard = app.create_employee(&admin, "G-1", "gina", "correct-horse-battery-7").await;
    app.assign(&admin, &north, &guard).await.expect(204);
    let permissions = ["client-access:view", "client-access:create", "client-access:edit", "client-access:revoke"];
    let body = json!({"name": "Portal supervisor", "portal": "staff", "permissions": permissions});
    let role = app.post("/v1/roles", &admin, body).await.expect(201).id();
    let sup = app.create_employee(&admin, "S-1", "sam", "correct-horse-battery-7").await;
    let given = json!({"role_id": role, "scope": {"type": "site", "id": mall}, "reason": "runs the mall's clients"});
    app.post(&format!("/v1/users/{sup}/role-assignments"), &admin, given).await.expect(201);
    let supervisor = app.login("sam", "correct-horse-battery-7").await.access_token;
    Mall { admin, mall, north, south, elsewhere, guard, supervisor }
}

fn names(answer: &Value) -> Vec<String> {
    let items = answer["items"].as_array().unwrap_or_else(|| panic!("no items in {answer}"));
    items.iter().map(|s| s["name"].as_str().unwrap().to_owned()).collect()
}

/// Sends the bytes of a declared file as its ticket says.
async fn upload(ticket: &Value, bytes: Vec<u8>) -> u16 {
    let mut request = reqwest::Client::new().put(ticket["url"].as_str().unwrap()).body(bytes);
    for pair in ticket["headers"].as_array().unwrap().iter().filter(|p| p[0] != "content-length") {
        request = request.header(pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
    }
    request.send().await.unwrap().status().as_u16()
}

async fn invite(app: &TestApp, token: &str, site: &str, email: &str) -> String {
    let body = json!({"first_name": "Priya", "last_name": "Manager", "email": email, "role_id": "client",
        "phone": {"number": "+1 416 555 0188", "sms_enabled": true}});
    app.post(&format!("/v1/sites/{site}/client-accesses"), token, body).await.expect(201).id()
}

async fn set_password(app: &TestApp, token: &str, password: &str) -> u16 {
    let body = json!({"token": token, "password": password});
    app.call(Method::POST, "/v1/auth/set-password", None, Some(body)).await.status.as_u16()
}

async fn a_supervisor_gives_a_property_manager_portal_access_to_the_mall(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let m = mall(&app).await;
    let email = format!("{}@harbourmall.example", unique("pm"));

    let body = json!({"first_name": "Priya", "last_name": "Manager", "email": email, "role_id": "client",
        "phone": {"number": "+1 416 555 0188", "sms_enabled": true},
        "picture": {"name": "priya.png", "content_type": "image/png", "size": 8}});
    let created = app.post(&format!("/v1/sites/{}/client-accesses", m.mall), &m.supervisor, body).await.expect(201);
    let id = created.id();
    // The optional picture: a file of the client user, uploaded through the answer's ticket.
    assert!(upload(&created.body["picture_upload"], b"\x89PNG\r\n\x1a\n".to_vec()).await < 300);
    let picture = created.body["picture_file_id"].as_str().unwrap();
    let file = app.get(&format!("/v1/users/{id}/files/{picture}"), &m.supervisor).await.expect(200).body;
    assert_eq!((file["file"]["kind"].as_str(), file["file"]["status"].as_str()), (Some("picture"), Some("available")));
    let shown = app.get(&format!("/v1/client-accesses/{id}"), &m.supervisor).await.expect(200).body;
    assert!(shown.get("picture_upload").is_none(), "the ticket is given once");
    assert_eq!(shown["status"], "active");
    assert_eq!(shown["invitation_pending"], true);
    assert_eq!(shown["role_name"], "Client");
    assert_eq!(shown["sub_sites"].as_array().unwrap().len(), 2, "{shown}");

    // The invitation: a single-use link, 72 hours.
    let link = app.newest_link_to(&email).await;
    let mail = app.emails_to(&email).await;
    assert!(mail[0].subject.contains("client portal"), "{}", mail[0].subject);
    assert_eq!(set_password(&app, &link, "ferris-wheel-harbour-88").await, 204);
    assert_eq!(set_password(&app, &link, "another-wheel-harbour-99").await, 401, "the link works once");
    let client = app.login(&email, "ferris-wheel-harbour-88").await.access_token;

    // The mall and both sub-sites; the other client's tower is not there.
    let mine = app.get("/v1/me/sites", &client).await.expect(200).body;
    assert_eq!(names(&mine), ["Harbour Mall", "Mall North", "Mall South"]);

    // Who is on site now, the schedule and the timesheets of the north entrance.
    let guard = app.login("gina", "correct-horse-battery-7").await.access_token;
    app.clock(&guard, &m.north, "clock-in").await.expect(201);
    let on_site = app.get(&format!("/v1/client/sites/{}/on-site", m.north), &client).await.expect(200).body;
    assert_eq!(on_site["items"][0]["guard"]["first_name"], "Test", "{on_site}");
    assert_eq!(on_site["items"][0]["on_break"], false);
    let schedule = app.get(&format!("/v1/client/sites/{}/schedule", m.north), &client).await.expect(200).body;
    assert_eq!(schedule["items"][0]["unplanned"], true, "{schedule}");
    assert!(schedule["items"][0].get("employee_id").is_none(), "no staff ids in client views");
    app.advance(Duration::minutes(10));
    app.clock(&guard, &m.north, "clock-out").await.expect(200);
    let sheets = app.get(&format!("/v1/client/sites/{}/timesheets", m.north), &client).await.expect(200).body;
    assert_eq!(sheets["items"][0]["worked_minutes"], 10, "{sheets}");

    // Nothing of staff screens, nor of another client's site.
    app.get(&format!("/v1/sites/{}", m.mall), &client).await.expect(403);
    app.get("/v1/employees", &client).await.expect(403);
    app.get(&format!("/v1/sites/{}/time-entries", m.north), &client).await.expect(403);
    let other = app.get(&format!("/v1/client/sites/{}/schedule", m.elsewhere), &client).await.expect(404);
    let unknown = app.get(&format!("/v1/client/sites/{}/schedule", ulid::Ulid::new()), &client).await.expect(404);
    assert_eq!(other.body, unknown.body, "another client's site looks like no site at all");

    // The supervisor sets the south entrance to "No": hidden on the client's next request.
    let hide = json!({ m.south.clone(): false });
    let subs = app.put(&format!("/v1/client-accesses/{id}/sub-sites"), &m.supervisor, hide).await.expect(200).body;
    let south = subs["items"].as_array().unwrap().iter().find(|s| s["id"] == m.south.as_str()).unwrap();
    assert_eq!(south["visible"], false);
    assert_eq!(names(&app.get("/v1/me/sites", &client).await.expect(200).body), ["Harbour Mall", "Mall North"]);
    let hidden = app.get(&format!("/v1/client/sites/{}/schedule", m.south), &client).await.expect(404);
    assert_eq!(hidden.body, unknown.body, "a hidden sub-site answers like a site that does not exist");
    let listed = app.get(&format!("/v1/sites/{}/client-accesses", m.mall), &m.supervisor).await.expect(200).body;
    let row = &listed["items"][0];
    assert_eq!((row["email"].as_str(), row["phone"]["number"].as_str()), (Some(email.as_str()), Some("+14165550188")));
    assert!(row["last_login_at"].is_string(), "{row}");
    let visible: Vec<_> =
        row["sub_sites"].as_array().unwrap().iter().map(|s| s["visible"].as_bool().unwrap()).collect();
    assert_eq!(visible.iter().filter(|v| **v).count(), 1);

    // Revoked: the token issued before is refused on the next request; the record stays.
    let revoke = json!({"status": "revoked"});
    app.patch(&format!("/v1/client-accesses/{id}"), &m.supervisor, revoke).await.expect(200);
    app.get("/v1/me/sites", &client).await.expect(401);
    app.login_as("acme", &email, "ferris-wheel-harbour-88").await.expect(401);
    let kept = app.get(&format!("/v1/client-accesses/{id}"), &m.supervisor).await.expect(200).body;
    assert_eq!(kept["status"], "revoked");
    // Made active again: a new login works, the old token stays dead.
    app.patch(&format!("/v1/client-accesses/{id}"), &m.supervisor, json!({"status": "active"})).await.expect(200);
    app.get("/v1/me/sites", &client).await.expect(401);
    let again = app.login(&email, "ferris-wheel-harbour-88").await.access_token;
    app.get("/v1/me/sites", &again).await.expect(200);

    // Deleted: out at once, the email is free again, the audit trail keeps the story.
    app.delete(&format!("/v1/client-accesses/{id}"), &m.supervisor).await.expect(204);
    app.get("/v1/me/sites", &again).await.expect(401);
    app.get(&format!("/v1/client-accesses/{id}"), &m.supervisor).await.expect(404);
    invite(&app, &m.supervisor, &m.mall, &email).await;
    let audit = app.get(&format!("/v1/audit?subject={id}"), &m.admin).await.expect(200).body;
    let actions: Vec<_> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in [
        "client-access.create",
        "client-access.sub-sites",
        "client-access.revoke",
        "client-access.restore",
        "client-access.delete",
    ] {
        assert!(actions.contains(&action), "{action} missing from {actions:?}");
    }
    let _ = m.guard;
}

async fn invitation_links_work_once_expire_and_die_when_a_new_one_is_sent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let m = mall(&app).await;
    let email = format!("{}@harbourmall.example", unique("pm"));
    let id = invite(&app, &m.supervisor, &m.mall, &email).await;
    let first = app.newest_link_to(&email).await;
    app.post(&format!("/v1/client-accesses/{id}/resend-invitation"), &m.supervisor, json!(null)).await.expect(200);
    let second = app.newest_link_to(&email).await;
    assert_ne!(first, second);
    assert_eq!(app.emails_to(&email).await.len(), 2);
    assert_eq!(set_password(&app, &first, "ferris-wheel-harbour-88").await, 401, "the old link stopped working");
    assert_eq!(set_password(&app, &second, "ferris-wheel-harbour-88").await, 204);
    assert_eq!(set_password(&app, &second, "ferris-wheel-harbour-88").await, 401, "and the new one works once");
    let shown = app.get(&format!("/v1/client-accesses/{id}"), &m.supervisor).await.expect(200).body;
    assert_eq!(shown["invitation_pending"], false);

    // A link not used within 72 hours has expired.
    let late = format!("{}@harbourmall.example", unique("late"));
    invite(&app, &m.supervisor, &m.mall, &late).await;
    let link = app.newest_link_to(&late).await;
    app.advance(Duration::hours(73));
    assert_eq!(set_password(&app, &link, "ferris-wheel-harbour-88").await, 401);
}

async fn a_client_given_a_password_to_change_can_do_nothing_else_until_they_change_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let m = mall(&app).await;
    let email = format!("{}@harbourmall.example", unique("pm"));
    let url = format!("/v1/sites/{}/client-accesses", m.mall);
    let body = |password: &str, confirmation: &str| {
        json!({"first_name": "Lee", "last_name": "Owner", "email": email, "role_id": "client",
            "password": password, "password_confirmation": confirmation, "force_change": true})
    };
    let mismatch = app.post(&url, &m.supervisor, body("ferris-wheel-harbour-88", "ferris-wheel-harbour-89")).await;
    assert_eq!(mismatch.expect(422).body["errors"][0]["field"], "password_confirmation");
    let guessable = app.post(&url, &m.supervisor, body("password2026", "password2026")).await.expect(422);
    assert_eq!(guessable.body["errors"][0]["field"], "password");
    app.post(&url, &m.supervisor, body("ferris-wheel-harbour-88", "ferris-wheel-harbour-88")).await.expect(201);
    app.deliver_outbox().await;
    assert!(app.emails_to(&email).await.is_empty(), "a typed password sends no invitation");

    let login = app.login_as("acme", &email, "ferris-wheel-harbour-88").await.expect(200).body;
    assert_eq!(login["password_change_required"], true);
    let limited = login["access_token"].as_str().unwrap().to_owned();
    // Every operation that takes a session refuses this one, but the password change.
    for op in guardpost::registry::OPERATIONS.iter().filter(|op| op.access != guardpost::registry::Access::Public) {
        if op.id == "change-my-password" {
            continue;
        }
        let path = op.path.split('/').map(|p| if p.starts_with('{') { m.mall.clone() } else { p.to_owned() });
        let path = path.collect::<Vec<_>>().join("/");
        let method = Method::from_bytes(op.method.as_bytes()).unwrap();
        let refused = app.call(method, &path, Some(&limited), Some(json!({}))).await;
        assert_eq!((refused.status.as_u16(), refused.problem_type()), (403, "password-change-required"), "{}", op.id);
    }
    let change = |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let wrong = app.post("/v1/me/password", &limited, change("not-the-password-1", "lantern-orbit-meadow-5")).await;
    assert_eq!(wrong.expect(403).problem_type(), "wrong-password");
    let same = app.post("/v1/me/password", &limited, change("ferris-wheel-harbour-88", "ferris-wheel-harbour-88"));
    same.await.expect(422);
    let fresh = app.post("/v1/me/password", &limited, change("ferris-wheel-harbour-88", "lantern-orbit-meadow-5"));
    let fresh = fresh.await.expect(200).body;
    assert_eq!(fresh["password_change_required"], false);
    app.get("/v1/me", &limited).await.expect(401);
    app.get("/v1/me", fresh["access_token"].as_str().unwrap()).await.expect(200);
    let next = app.login_as("acme", &email, "lantern-orbit-meadow-5").await.expect(200).body;
    assert_eq!(next["password_change_required"], false);
}

async fn bad_client_access_requests_are_refused_and_write_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let m = mall(&app).await;
    let url = format!("/v1/sites/{}/client-accesses", m.mall);
    let email = format!("{}@harbourmall.example", unique("pm"));
    let with =
        |role: &str, email: &str| json!({"first_name": "Pat", "last_name": "Client", "email": email, "role_id": role});

    let staff_role = app.post(&url, &m.supervisor, with("manager", &email)).await.expect(422);
    assert_eq!(staff_role.body["errors"][0]["field"], "role_id");
    app.post(&url, &m.supervisor, with("nonsense", &email)).await.expect(422);
    let bad = json!({"first_name": "", "last_name": "Client", "email": "not-an-email", "role_id": "client",
        "phone": {"number": "12"}});
    let fields: Vec<_> = app.post(&url, &m.supervisor, bad).await.expect(422).body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["first_name", "email", "phone.number"]);
    // The login is unique in the organisation, an employee's email included.
    let taken = app.post(&url, &m.supervisor, with("client", "gina@acme.example")).await.expect(409);
    assert_eq!(taken.problem_type(), "email-taken");
    // Outside the supervisor's sites: refused.
    app.post(&format!("/v1/sites/{}/client-accesses", m.elsewhere), &m.supervisor, with("client", &email))
        .await
        .expect(403);
    // Two at once with one email: one access.
    let (a, b) = tokio::join!(
        app.post(&url, &m.supervisor, with("client", &email)),
        app.post(&url, &m.supervisor, with("client", &email))
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409]);
    let listed = app.get(&url, &m.supervisor).await.expect(200).body;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    // Sub-sites: only the master's, and only for a master's access.
    let id = listed["items"][0]["id"].as_str().unwrap().to_owned();
    let stranger = json!({ m.elsewhere.clone(): false });
    app.put(&format!("/v1/client-accesses/{id}/sub-sites"), &m.supervisor, stranger).await.expect(422);
    let plain = invite(&app, &m.admin, &m.elsewhere, &format!("{}@tower.example", unique("t"))).await;
    let path = format!("/v1/client-accesses/{plain}/sub-sites");
    let refused = app.put(&path, &m.admin, json!({ m.north.clone(): false })).await.expect(409);
    assert_eq!(refused.problem_type(), "not-a-master-site");
    // Revoking needs client-access:revoke besides edit.
    let editor_role = json!({"name": "Portal editor", "portal": "staff", "permissions": ["client-access:edit"]});
    let editor_role = app.post("/v1/roles", &m.admin, editor_role).await.expect(201).id();
    let editor = app.create_employee(&m.admin, "E-9", "eddie", "correct-horse-battery-7").await;
    let given = json!({"role_id": editor_role, "scope": {"type": "site", "id": m.mall}, "reason": "edits"});
    app.post(&format!("/v1/users/{editor}/role-assignments"), &m.admin, given).await.expect(201);
    let eddie = app.login("eddie", "correct-horse-battery-7").await.access_token;
    app.patch(&format!("/v1/client-accesses/{id}"), &eddie, json!({"status": "revoked"})).await.expect(403);
    app.patch(&format!("/v1/client-accesses/{id}"), &eddie, json!({"last_name": "Renamed"})).await.expect(200);
    let still = app.get(&format!("/v1/client-accesses/{id}"), &m.supervisor).await.expect(200).body;
    assert_eq!((still["status"].as_str(), still["last_name"].as_str()), (Some("active"), Some("Renamed")));
}

async fn a_client_with_maintain_approves_timesheets_and_one_with_view_cannot(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let m = mall(&app).await;
    let guard = app.login("gina", "correct-horse-battery-7").await.access_token;
    app.clock(&guard, &m.north, "clock-in").await.expect(201);
    let permissions = ["client-timesheets:view", "client-timesheets:maintain"];
    let body = json!({"name": "Client approver", "portal": "client", "permissions": permissions});
    let approver_role = app.post("/v1/roles", &m.admin, body).await.expect(201).id();

    let mut tokens = Vec::new();
    for role in ["client", approver_role.as_str()] {
        let email = format!("{}@harbourmall.example", unique("pm"));
        let body = json!({"first_name": "Pat", "last_name": "Client", "email": email, "role_id": role,
            "password": "ferris-wheel-harbour-88", "password_confirmation": "ferris-wheel-harbour-88", "force_change": false});
        app.post(&format!("/v1/sites/{}/client-accesses", m.mall), &m.admin, body).await.expect(201);
        tokens.push(app.login(&email, "ferris-wheel-harbour-88").await.access_token);
    }
    let (viewer, approver) = (&tokens[0], &tokens[1]);
    let sheets = app.get(&format!("/v1/client/sites/{}/timesheets", m.north), approver).await.expect(200).body;
    let entry = sheets["items"][0]["id"].as_str().unwrap().to_owned();
    let approve = format!("/v1/client/sites/{}/timesheets/{entry}/approve", m.north);
    let open = app.post(&approve, approver, json!(null)).await.expect(409);
    assert_eq!(open.problem_type(), "still-clocked-in");
    app.advance(Duration::minutes(10));
    app.clock(&guard, &m.north, "clock-out").await.expect(200);
    app.post(&approve, viewer, json!(null)).await.expect(403);
    let approved = app.post(&approve, approver, json!(null)).await.expect(200).body;
    assert!(approved["approved_at"].is_string(), "{approved}");
    assert_eq!(app.post(&approve, approver, json!(null)).await.expect(409).problem_type(), "already-approved");
    // The approver's role shows nothing else: not the schedule.
    app.get(&format!("/v1/client/sites/{}/schedule", m.north), approver).await.expect(403);
}
