//! The employee lifecycle: a manager edits an employee (with If-Match), resets a password (typed,
//! or generated and emailed), terminates and reactivates them; nobody is ever deleted. Login
//! activity, last logins and the employee directory at each level.

use chrono::Duration;
use guardpost_tests::{Backend, TestApp, on_both_stores, unique};
use reqwest::Method;
use serde_json::{Value, json};

on_both_stores!(
    a_manager_edits_an_employee_against_the_version_read,
    switching_active_or_can_login_off_ends_sessions_and_nothing_is_deleted,
    reporting_lines_never_make_a_cycle,
    passwords_are_reset_typed_or_generated_and_the_forced_change_comes_first,
    terminating_releases_future_shifts_and_reactivating_restores_the_employee,
    login_activity_and_last_logins_are_listed_for_those_in_scope,
    the_directory_shows_what_each_level_allows_and_never_a_private_number,
    changes_that_bear_on_access_are_guarded,
);

const PASSWORD: &str = "correct-horse-battery-7";

/// A site with a manager (the default Manager role over it) and an employee assigned there.
struct Site {
    admin: String,
    site: String,
    manager: String,
    employee: String,
}

async fn site(app: &TestApp) -> Site {
    let admin = app.admin().await.access_token;
    let region = app.create_region(&admin, "North").await;
    let site = app.create_site(&admin, json!({"name": "Depot", "region_id": region, "time_zone": "UTC"})).await;
    let manager = app.create_employee(&admin, "M-1", "maria", PASSWORD).await;
    app.assign(&admin, &site, &manager).await.expect(204);
    let given = json!({"role_id": "manager", "scope": {"type": "site", "id": site}, "reason": "runs the depot"});
    app.post(&format!("/v1/users/{manager}/role-assignments"), &admin, given).await.expect(201);
    let employee = app.create_employee(&admin, "E-1", "eric", PASSWORD).await;
    app.assign(&admin, &site, &employee).await.expect(204);
    let manager = app.login("maria", PASSWORD).await.access_token;
    Site { admin, site, manager, employee }
}

async fn patch(app: &TestApp, token: &str, id: &str, etag: Option<&str>, body: Value) -> guardpost_tests::Answer {
    let headers: Vec<(&str, &str)> = etag.map(|t| ("if-match", t)).into_iter().collect();
    app.call_with(Method::PATCH, &format!("/v1/employees/{id}"), Some(token), Some(body), &headers).await
}

async fn etag(app: &TestApp, token: &str, id: &str) -> String {
    let read = app.get(&format!("/v1/employees/{id}"), token).await.expect(200);
    read.headers["etag"].to_str().unwrap().to_owned()
}

async fn a_manager_edits_an_employee_against_the_version_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = site(&app).await;
    let tag = etag(&app, &s.manager, &s.employee).await;
    let change = json!({
        "job_title": "Senior Guard", "main_phone": {"number": "+1 416 555 0100", "sms_enabled": true, "private": true},
        "can_sms_users": true,
        "hr": {"hire_date": "2025-03-01", "title": "Team lead", "payroll_id": "PAY-77", "reports_to": null},
    });
    let missing = patch(&app, &s.manager, &s.employee, None, change.clone()).await.expect(428);
    assert_eq!(missing.problem_type(), "if-match-required");
    let done = patch(&app, &s.manager, &s.employee, Some(&tag), change.clone()).await.expect(200);
    let new_tag = done.headers["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_tag, tag);
    assert_eq!(done.body["job_title"], "Senior Guard");
    assert_eq!(done.body["main_phone"]["private"], true);
    assert_eq!(done.body["hr"]["title"], "Team lead");
    assert_eq!(done.body["can_sms_users"], true);
    assert!(done.body["hr"]["payroll_id"].is_null(), "payroll ids need employees:view-sensitive");
    let by_admin = app.get(&format!("/v1/employees/{}", s.employee), &s.admin).await.expect(200).body;
    assert_eq!(by_admin["hr"]["payroll_id"], "PAY-77");
    assert_eq!(by_admin["hr"]["hire_date"], "2025-03-01");

    // The version read before the change is stale now.
    let stale = patch(&app, &s.manager, &s.employee, Some(&tag), json!({"job_title": "Other"})).await.expect(412);
    assert_eq!(stale.problem_type(), "stale-version");
    // Two changes against the same version: exactly one wins.
    let (a, b) = tokio::join!(
        patch(&app, &s.manager, &s.employee, Some(&new_tag), json!({"job_title": "A"})),
        patch(&app, &s.admin, &s.employee, Some(&new_tag), json!({"job_title": "B"}))
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412]);

    // Logins move with the email; a taken one is refused and nothing changes.
    let email = format!("{}@acme.example", unique("eric"));
    let tag = etag(&app, &s.manager, &s.employee).await;
    patch(&app, &s.manager, &s.employee, Some(&tag), json!({"email": email})).await.expect(200);
    app.login(&email, PASSWORD).await;
    app.login_as("acme", "eric@acme.example", PASSWORD).await.expect(401);
    let tag = etag(&app, &s.manager, &s.employee).await;
    let taken =
        patch(&app, &s.manager, &s.employee, Some(&tag), json!({"email": "maria@acme.example", "job_title": "X"}));
    assert_eq!(taken.await.expect(409).problem_type(), "email-taken");
    let after = app.get(&format!("/v1/employees/{}", s.employee), &s.manager).await.expect(200).body;
    assert_eq!(after["email"], email.as_str(), "the refused change wrote nothing");
    assert!(after["job_title"] == "A" || after["job_title"] == "B", "{after}");
    // Bad fields are all named; nothing is written.
    let bad = json!({"first_name": "", "main_phone": {"number": "123"}, "hr": {"hire_date": "1800-01-01"}, "email": null, "username": null});
    let refused = patch(&app, &s.manager, &s.employee, Some(&tag), bad).await.expect(422);
    let fields: Vec<_> =
        refused.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["first_name", "main_phone.number", "email", "hr.hire_date"]);
    assert_eq!(etag(&app, &s.manager, &s.employee).await, tag);

    // Out of scope: the manager cannot touch the administrator.
    let admin_id = app.get("/v1/me", &s.admin).await.expect(200).body["user"]["id"].as_str().unwrap().to_owned();
    let admin_tag = etag(&app, &s.admin, &admin_id).await;
    patch(&app, &s.manager, &admin_id, Some(&admin_tag), json!({"email": "mine@acme.example"})).await.expect(403);
    let audit = app.get(&format!("/v1/audit?subject={}", s.employee), &s.admin).await.expect(200).body;
    let updates: Vec<_> = audit["items"].as_array().unwrap().iter().filter(|e| e["action"] == "user.update").collect();
    let email = updates.iter().find(|e| e["after"]["changed_fields"].as_array().unwrap().contains(&json!("email")));
    assert_eq!(email.unwrap()["after"]["email"], after["email"], "{audit}");
    assert!(!audit.to_string().contains("PAY-77"), "HR values stay out of the trail");
}

async fn switching_active_or_can_login_off_ends_sessions_and_nothing_is_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = site(&app).await;
    for (off, on) in
        [(json!({"active": false}), json!({"active": true})), (json!({"can_login": false}), json!({"can_login": true}))]
    {
        let eric = app.login("eric", PASSWORD).await.access_token;
        app.get("/v1/me", &eric).await.expect(200);
        let tag = etag(&app, &s.manager, &s.employee).await;
        patch(&app, &s.manager, &s.employee, Some(&tag), off).await.expect(200);
        app.get("/v1/me", &eric).await.expect(401);
        app.login_as("acme", "eric", PASSWORD).await.expect(401);
        let tag = etag(&app, &s.manager, &s.employee).await;
        patch(&app, &s.manager, &s.employee, Some(&tag), on).await.expect(200);
        app.advance(Duration::seconds(1));
        app.get("/v1/me", &eric).await.expect(401);
        app.login("eric", PASSWORD).await;
    }
    app.call(Method::DELETE, &format!("/v1/employees/{}", s.employee), Some(&s.admin), None).await.expect(405);
}

async fn reporting_lines_never_make_a_cycle(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = site(&app).await;
    let tess = app.create_employee(&s.admin, "E-3", "tess", PASSWORD).await;
    let maria = app.get("/v1/me", &s.manager).await.body["user"]["id"].as_str().unwrap().to_owned();
    let reports = |to: &str| json!({"hr": {"reports_to": to}});
    // maria <- tess <- eric
    for (who, to) in [(&s.employee, &tess), (&tess, &maria)] {
        let tag = etag(&app, &s.admin, who).await;
        patch(&app, &s.admin, who, Some(&tag), reports(to)).await.expect(200);
    }
    let tag = etag(&app, &s.admin, &maria).await;
    for to in [&s.employee, &maria, &ulid::Ulid::new().to_string()] {
        let refused = patch(&app, &s.admin, &maria, Some(&tag), reports(to)).await.expect(422);
        assert_eq!(refused.body["errors"][0]["field"], "hr.reports_to", "{}", refused.body);
    }
    // Two changes at once that would close a circle together (each alone is fine): at most one
    // is made, and no circle is left.
    let p = app.create_employee(&s.admin, "E-4", "pia", PASSWORD).await;
    let q = app.create_employee(&s.admin, "E-5", "quin", PASSWORD).await;
    let (p_tag, q_tag) = (etag(&app, &s.admin, &p).await, etag(&app, &s.admin, &q).await);
    let (a, b) = tokio::join!(
        patch(&app, &s.admin, &p, Some(&p_tag), reports(&q)),
        patch(&app, &s.admin, &q, Some(&q_tag), reports(&p))
    );
    assert!(!(a.status.is_success() && b.status.is_success()), "{} {}", a.body, b.body);
    let pm = app.get(&format!("/v1/employees/{p}"), &s.admin).await.body["hr"]["reports_to"].clone();
    let qm = app.get(&format!("/v1/employees/{q}"), &s.admin).await.body["hr"]["reports_to"].clone();
    assert!(!(pm == json!(q) && qm == json!(p)), "a circle was left: {pm} {qm}");
}

async fn passwords_are_reset_typed_or_generated_and_the_forced_change_comes_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = site(&app).await;
    // Mail to this employee is theirs alone (moto's sent mail is shared by the tests of a run).
    let name = unique("e");
    let id = app.create_employee(&s.admin, "E-2", &name, PASSWORD).await;
    app.assign(&s.admin, &s.site, &id).await.expect(204);
    let url = format!("/v1/employees/{id}/password");
    let eric = app.login(&name, PASSWORD).await.access_token;

    let typed = |p: &str, c: &str| json!({"password": p, "password_confirmation": c, "force_change": true});
    app.post(&url, &s.manager, typed("lantern-orbit-meadow-5", "lantern-orbit-meadow-6")).await.expect(422);
    app.post(&url, &s.manager, typed("password2026", "password2026")).await.expect(422);
    let done = app.post(&url, &s.manager, typed("lantern-orbit-meadow-5", "lantern-orbit-meadow-5")).await.expect(200);
    assert_eq!(done.body["must_change"], true);
    app.get("/v1/me", &eric).await.expect(401);
    app.login_as("acme", &name, PASSWORD).await.expect(401);
    let limited = app.login_as("acme", &name, "lantern-orbit-meadow-5").await.expect(200).body;
    assert_eq!(limited["password_change_required"], true);
    let limited = limited["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/v1/me/sites", &limited).await.expect(403).problem_type(), "password-change-required");
    let change = json!({"current_password": "lantern-orbit-meadow-5", "new_password": "gravel-piano-orbit-12"});
    app.post("/v1/me/password", &limited, change).await.expect(200);

    // Generated: the old password stops at once; the emailed one must be changed first.
    let generated = app.post(&url, &s.manager, json!({"generate": true})).await.expect(200);
    assert_eq!(generated.body["emailed"], true);
    app.login_as("acme", &name, "gravel-piano-orbit-12").await.expect(401);
    app.deliver_outbox().await;
    let mail = app.emails_to(&format!("{name}@acme.example")).await;
    let text = &mail.last().expect("the temporary password email").text;
    let temporary = text.lines().map(str::trim).find(|l| l.len() == 16 && !l.contains(' ')).expect("a password line");
    let limited = app.login_as("acme", &name, temporary).await.expect(200).body;
    assert_eq!(limited["password_change_required"], true);
    let limited = limited["access_token"].as_str().unwrap();
    let change = json!({"current_password": temporary, "new_password": "quiet-harbour-lantern-31"});
    let full = app.post("/v1/me/password", limited, change).await.expect(200).body;
    app.get("/v1/me", full["access_token"].as_str().unwrap()).await.expect(200);
    // The temporary password is in no outbox item and no audit entry.
    let audit = app.get(&format!("/v1/audit?subject={id}"), &s.admin).await.expect(200).body;
    assert!(audit.to_string().contains("user.password-reset") && !audit.to_string().contains(temporary));

    // Not one's own (that is /v1/me/password), not the administrator's, not with Supervisor rights.
    let maria = app.get("/v1/me", &s.manager).await.body["user"]["id"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/employees/{maria}/password"), &s.manager, json!({"generate": true})).await.expect(422);
    let admin_id = app.get("/v1/me", &s.admin).await.expect(200).body["user"]["id"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/employees/{admin_id}/password"), &s.manager, json!({"generate": true})).await.expect(403);
    let sup = app.create_employee(&s.admin, "S-1", "sue", PASSWORD).await;
    let given = json!({"role_id": "supervisor", "scope": {"type": "site", "id": s.site}, "reason": "x"});
    app.post(&format!("/v1/users/{sup}/role-assignments"), &s.admin, given).await.expect(201);
    let sue = app.login("sue", PASSWORD).await.access_token;
    app.post(&url, &sue, json!({"generate": true})).await.expect(403);
}

async fn terminating_releases_future_shifts_and_reactivating_restores_the_employee(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = site(&app).await;
    for days in [1, 2] {
        app.schedule(&s.manager, &s.site, &s.employee, Duration::days(days), 8).await.expect(201);
    }
    let terminated = app
        .post(&format!("/v1/employees/{}/terminate", s.employee), &s.manager, json!({"reason": "left"}))
        .await
        .expect(200)
        .body;
    assert_eq!(terminated["status"], "terminated");
    assert_eq!(terminated["released_shifts"].as_array().unwrap().len(), 2, "{terminated}");
    let shifts = app.get(&format!("/v1/sites/{}/shifts", s.site), &s.manager).await.expect(200).body;
    assert!(shifts["items"].as_array().unwrap().iter().all(|x| x["released_at"].is_string()), "{shifts}");
    let mine = app.get(&format!("/v1/employees/{}", s.employee), &s.manager).await.expect(200).body;
    assert_eq!(mine["status"], "terminated", "kept, not deleted");
    app.login_as("acme", "eric", PASSWORD).await.expect(401);

    let reactivate = format!("/v1/employees/{}/reactivate", s.employee);
    let back = app.post(&reactivate, &s.manager, json!({"reason": "rehired"})).await.expect(200).body;
    assert_eq!(back["status"], "active");
    let eric = app.login("eric", PASSWORD).await.access_token;
    app.get("/v1/me/sites", &eric).await.expect(200);
    assert_eq!(
        app.post(&reactivate, &s.manager, json!({"reason": "again"})).await.expect(409).problem_type(),
        "not-terminated"
    );
    let audit = app.get(&format!("/v1/audit?subject={}", s.employee), &s.admin).await.expect(200).body;
    let actions: Vec<_> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"user.terminate") && actions.contains(&"user.reactivate"), "{actions:?}");
    let roles = app.get(&format!("/v1/users/{}/role-assignments", s.employee), &s.admin).await.expect(200).body;
    assert!(roles["items"].as_array().unwrap().iter().all(|a| a["role_id"] != "terminated"));
}

async fn login_activity_and_last_logins_are_listed_for_those_in_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = site(&app).await;
    app.login_as("acme", "eric", "not-the-password-1").await.expect(401);
    app.advance(Duration::seconds(5));
    let eric = app.login("eric", PASSWORD).await.access_token;
    let url = format!("/v1/users/{}/login-activity", s.employee);
    let activity = app.get(&url, &s.manager).await.expect(200).body;
    let outcomes: Vec<_> =
        activity["items"].as_array().unwrap().iter().map(|a| a["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["success", "wrong_password"], "newest first");
    assert!(activity["items"][0]["ip"].is_string());
    app.get(&url, &eric).await.expect(200);
    let staff = app.get(&format!("/v1/sites/{}/employees", s.site), &s.manager).await.expect(200).body;
    let row = staff["items"].as_array().unwrap().iter().find(|e| e["id"] == s.employee.as_str()).unwrap();
    assert!(row["last_login_at"].is_string(), "{row}");
    let all = app.get("/v1/employees", &s.admin).await.expect(200).body;
    let never = all["items"].as_array().unwrap().iter().filter(|e| e["last_login_at"].is_null()).count();
    assert_eq!(never, 0, "everyone here has logged in");
    // Someone of another site: not theirs to read.
    let outsider = app.create_employee(&s.admin, "O-1", "olga", PASSWORD).await;
    app.get(&format!("/v1/users/{outsider}/login-activity"), &s.manager).await.expect(403);
}

async fn the_directory_shows_what_each_level_allows_and_never_a_private_number(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let region = app.create_region(&admin, "North").await;
    let s1 = app.create_site(&admin, json!({"name": "One", "region_id": region, "time_zone": "UTC"})).await;
    let s2 = app.create_site(&admin, json!({"name": "Two", "region_id": region, "time_zone": "UTC"})).await;
    let mut ids = std::collections::HashMap::new();
    for (n, name) in ["boss", "anna", "peer", "bob", "carl", "dora", "fred"].iter().enumerate() {
        ids.insert(*name, app.create_employee(&admin, &format!("D-{n}"), name, PASSWORD).await);
    }
    for (who, site) in [("anna", &s1), ("bob", &s1), ("carl", &s2)] {
        app.assign(&admin, site, &ids[who]).await.expect(204);
    }
    let set = |who: &'static str, body: Value| {
        let (app, admin, id) = (&app, &admin, ids[who].clone());
        async move {
            let tag = etag(app, admin, &id).await;
            patch(app, admin, &id, Some(&tag), body).await.expect(200);
        }
    };
    set("anna", json!({"hr": {"reports_to": ids["boss"]}})).await;
    set("peer", json!({"hr": {"reports_to": ids["boss"]}})).await;
    set("dora", json!({"hr": {"reports_to": ids["anna"]}})).await;
    set("fred", json!({"hr": {"reports_to": ids["dora"]}})).await;
    set("bob", json!({"main_phone": {"number": "+1 416 555 0101", "private": true}, "other_phone": {"number": "+1 416 555 0102"}})).await;
    // The level is read from the caller's record on each request: no new login needed.
    let anna = app.login("anna", PASSWORD).await.access_token;
    let seen = |level: &'static str| {
        let (app, anna, set) = (&app, &anna, &set);
        async move {
            set("anna", json!({"directory_access": level})).await;
            let answer = app.get("/v1/directory?limit=200", anna).await;
            (answer.status.as_u16(), answer.body)
        }
    };
    let names = |body: &Value| {
        let mut v: Vec<String> =
            body["items"].as_array().unwrap().iter().map(|e| e["last_name"].as_str().unwrap().to_owned()).collect();
        v.sort();
        v
    };
    let (status, none) = seen("none").await;
    assert_eq!((status, none["type"].as_str().unwrap_or_default().ends_with("directory-access-none")), (403, true));
    let (_, shared) = seen("shared_locations").await;
    assert_eq!(names(&shared), ["anna", "bob"]);
    let bob = shared["items"].as_array().unwrap().iter().find(|e| e["last_name"] == "bob").unwrap();
    assert_eq!(bob["phones"], json!(["+14165550102"]), "the private number never shows");
    let (_, hierarchy) = seen("hierarchy").await;
    assert_eq!(names(&hierarchy), ["boss", "dora", "fred", "peer"]);
    let (_, everyone) = seen("everyone").await;
    let all = names(&everyone);
    for name in ["anna", "bob", "boss", "carl", "dora", "fred", "peer"] {
        assert!(all.contains(&name.to_owned()), "{name} missing from {all:?}");
    }
    assert!(everyone.to_string().contains("+14165550102") && !everyone.to_string().contains("+14165550101"));
    // Paged: two at a time, the cursor carries on, nobody twice.
    set("anna", json!({"directory_access": "hierarchy"})).await;
    let first = app.get("/v1/directory?limit=2", &anna).await.expect(200).body;
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app.get(&format!("/v1/directory?limit=2&cursor={cursor}"), &anna).await.expect(200).body;
    let mut both = names(&first);
    both.extend(names(&second));
    both.sort();
    assert_eq!(both, ["boss", "dora", "fred", "peer"]);
    assert!(second.get("next_cursor").is_none());
}

async fn changes_that_bear_on_access_are_guarded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = site(&app).await;
    let maria = app.get("/v1/me", &s.manager).await.body["user"]["id"].as_str().unwrap().to_owned();

    // Nobody widens their own directory, names their own manager or flips their own login flags.
    for change in [
        json!({"directory_access": "everyone"}),
        json!({"hr": {"reports_to": s.employee}}),
        json!({"can_login": false}),
    ] {
        let tag = etag(&app, &s.manager, &maria).await;
        let refused = patch(&app, &s.manager, &maria, Some(&tag), change).await.expect(403);
        assert_eq!(refused.problem_type(), "self-change");
    }
    // The directory level is an administrator's setting: not from a site.
    let tag = etag(&app, &s.manager, &s.employee).await;
    let refused = patch(&app, &s.manager, &s.employee, Some(&tag), json!({"directory_access": "everyone"})).await;
    assert_eq!(refused.expect(403).problem_type(), "administrator-setting");
    patch(&app, &s.admin, &s.employee, Some(&tag), json!({"directory_access": "everyone"})).await.expect(200);
    // Someone's login is changed only by whoever may reset their password.
    let sup = app.create_employee(&s.admin, "S-1", "sue", PASSWORD).await;
    let body = json!({"name": "Editor", "portal": "staff", "permissions": ["employees:view", "employees:modify"]});
    let editor = app.post("/v1/roles", &s.admin, body).await.expect(201).id();
    let given = json!({"role_id": editor, "scope": {"type": "site", "id": s.site}, "reason": "edits"});
    app.post(&format!("/v1/users/{sup}/role-assignments"), &s.admin, given).await.expect(201);
    let sue = app.login("sue", PASSWORD).await.access_token;
    let tag = etag(&app, &sue, &s.employee).await;
    let refused = patch(&app, &sue, &s.employee, Some(&tag), json!({"email": "mine@acme.example"})).await.expect(403);
    assert_eq!(refused.problem_type(), "reset-password-required");
    patch(&app, &sue, &s.employee, Some(&tag), json!({"job_title": "Night guard"})).await.expect(200);

    // One person as manager and recruiter, a case-only change of number: one item each, no 500.
    let tag = etag(&app, &s.admin, &s.employee).await;
    let both = json!({"employee_number": "e-1", "hr": {"reports_to": maria, "recruited_by": maria}});
    patch(&app, &s.admin, &s.employee, Some(&tag), both).await.expect(200);
    let tag = etag(&app, &s.admin, &s.employee).await;
    let own = json!({"hr": {"recruited_by": s.employee}});
    assert_eq!(
        patch(&app, &s.admin, &s.employee, Some(&tag), own).await.expect(422).body["errors"][0]["field"],
        "hr.recruited_by"
    );

    // A manager does not silence a stronger user's alerts.
    let admin_id = app.get("/v1/me", &s.admin).await.body["user"]["id"].as_str().unwrap().to_owned();
    app.assign(&s.admin, &s.site, &admin_id).await.expect(204);
    let quiet = json!({"exception": {"email": false, "sms": false}});
    let refused = app.put(&format!("/v1/users/{admin_id}/notification-preferences"), &s.manager, quiet).await;
    assert_eq!(refused.expect(403).problem_type(), "outranked");

    // A new email retires the links sent to the old one; no link works for a terminated user.
    let email = format!("{}@acme.example", unique("new"));
    let body = json!({"employee_number": "N-1", "first_name": "Nia", "last_name": "New", "email": email});
    let nia = app.post("/v1/employees", &s.admin, body).await.expect(201).id();
    let link = app.newest_link_to(&email).await;
    let tag = etag(&app, &s.admin, &nia).await;
    let fixed = format!("{}@acme.example", unique("fixed"));
    patch(&app, &s.admin, &nia, Some(&tag), json!({"email": fixed})).await.expect(200);
    let set = |token: &str| json!({"token": token, "password": "lantern-orbit-meadow-5"});
    app.call(Method::POST, "/v1/auth/set-password", None, Some(set(&link))).await.expect(401);
    app.call(Method::POST, "/v1/auth/forgot-password", None, Some(json!({"org": "acme", "login": fixed})))
        .await
        .expect(202);
    let reset = app.newest_link_to(&fixed).await;
    app.post(&format!("/v1/employees/{nia}/terminate"), &s.admin, json!({"reason": "left"})).await.expect(200);
    app.call(Method::POST, "/v1/auth/set-password", None, Some(set(&reset))).await.expect(401);
}
