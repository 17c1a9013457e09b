//! Credentials and password guessing (issue 15, points 9 to 12): passwords set for someone are
//! changed first, used links end the others, failures count per account with growing delays a
//! known device passes, each address has a budget, hashing is bounded, and dates are bounded at
//! the boundary. Every story failed before its fix. docs/SECURITY.md lists them.

use chrono::Duration;
use guardpost_tests::{Backend, TestApp, on_both_stores};
use reqwest::Method;
use serde_json::json;

use super::security::{PASSWORD, world};

on_both_stores!(
    a_password_set_for_someone_is_changed_at_first_login,
    a_used_link_ends_every_other_link,
    extreme_and_malformed_dates_never_answer_a_server_error,
    failures_count_against_the_account_whichever_login_is_typed,
    a_device_that_logged_in_before_is_not_held_up_and_delays_grow,
    spraying_one_password_from_one_address_runs_dry,
    a_shift_change_behind_one_address_logs_everyone_in,
);

async fn a_password_set_for_someone_is_changed_at_first_login(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = world(&app).await;
    let body = |number: &str, name: &str, waive: Option<bool>| {
        let mut b = json!({"employee_number": number, "first_name": "New", "last_name": name, "username": name,
            "password": "lantern-orbit-meadow-5", "site_id": w.depot});
        if let Some(f) = waive {
            b["force_change"] = json!(f);
        }
        b
    };
    // Set by a manager: changed at first login; the manager cannot waive it.
    app.post("/v1/employees", &w.manager, body("N-1", "nora", None)).await.expect(201);
    let first = app.login_as("acme", "nora", "lantern-orbit-meadow-5").await.expect(200).body;
    assert_eq!(first["password_change_required"], true);
    let refused = app.post("/v1/employees", &w.manager, body("N-2", "ned", Some(false))).await.expect(403);
    assert_eq!(refused.problem_type(), "administrator-setting");
    // An administrator may, per user.
    app.post("/v1/employees", &w.admin, body("N-3", "nat", Some(false))).await.expect(201);
    let kept = app.login_as("acme", "nat", "lantern-orbit-meadow-5").await.expect(200).body;
    assert_eq!(kept["password_change_required"], false);
    // A manager's reset is changed at the next login too.
    let nat = app.get("/v1/employees?limit=200", &w.admin).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["username"] == "nat")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reset = json!({"password": "gravel-piano-orbit-12", "password_confirmation": "gravel-piano-orbit-12"});
    let done = app.post(&format!("/v1/employees/{nat}/password"), &w.manager, reset).await.expect(200);
    assert_eq!(done.body["must_change"], true);
}

async fn a_used_link_ends_every_other_link(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = world(&app).await;
    let email = format!("{}@acme.example", guardpost_tests::unique("lena"));
    let body = json!({"employee_number": "L-1", "first_name": "Lena", "last_name": "Link", "email": email});
    app.post("/v1/employees", &w.admin, body).await.expect(201);
    let welcome = app.newest_link_to(&email).await;
    let forgot = json!({"org": "acme", "login": email});
    app.call(Method::POST, "/v1/auth/forgot-password", None, Some(forgot)).await.expect(202);
    let reset = app.newest_link_to(&email).await;
    assert_ne!(welcome, reset);
    let set = |token: &str| json!({"token": token, "password": "lantern-orbit-meadow-5"});
    app.call(Method::POST, "/v1/auth/set-password", None, Some(set(&reset))).await.expect(204);
    // The welcome link, made before the password was set, is dead (72 hours or not).
    app.call(Method::POST, "/v1/auth/set-password", None, Some(set(&welcome))).await.expect(401);
}

/// Times and days no client should send, and some at the edges of what chrono accepts.
fn nasty_instants(rng: &mut u64) -> Vec<String> {
    let mut out: Vec<String> = [
        "-262143-01-01T00:00:00Z",
        "+262142-12-31T23:59:59Z",
        "262142-12-31T23:59:59.999999999Z",
        "9999-12-31T23:59:59Z",
        "0000-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "2200-12-31T23:59:59-23:59",
        "2026-02-30T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-11-22T25:00:00Z",
        "2026-11-22T08:00:00",
        "2026-11-22",
        "now",
        "",
        "2026-11-22T08:00:00+99:00",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for _ in 0..40 {
        // xorshift: random years across chrono's whole range, and odd offsets.
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        let year = (*rng % 524_285) as i64 - 262_142;
        let offset = (*rng >> 20) % 24;
        let sign = if year < 0 {
            "-"
        } else if year > 9999 {
            "+"
        } else {
            ""
        };
        out.push(format!("{sign}{:04}-12-31T23:59:59-{offset:02}:00", year.abs()));
    }
    out
}

fn query_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '+' => "%2B".to_owned(),
            ' ' => "%20".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

async fn extreme_and_malformed_dates_never_answer_a_server_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = world(&app).await;
    let guard = app.create_employee(&w.admin, "G-1", "gwen", PASSWORD).await;
    app.assign(&w.admin, &w.depot, &guard).await.expect(204);
    let mut rng =
        std::env::var("GUARDPOST_PROPERTY_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x9E37_79B9_7F4A_7C15u64);
    println!("GUARDPOST_PROPERTY_SEED={rng}");
    let values = nasty_instants(&mut rng);
    let mut calls = 0;
    for (i, v) in values.iter().enumerate() {
        let other = &values[(i * 7 + 3) % values.len()];
        let day = v.split('T').next().unwrap_or_default().to_owned();
        let mut answers = Vec::new();
        // A shift of eight hours from the odd start, where chrono can say what that is.
        let eight_later = chrono::DateTime::parse_from_rfc3339(v)
            .ok()
            .and_then(|t| t.checked_add_signed(Duration::hours(8)))
            .map_or_else(|| other.clone(), |t| t.to_rfc3339());
        for end in [&eight_later, other] {
            let shift = json!({"employee_id": guard, "start": v, "end": end});
            answers.push(("create-shift", app.post(&format!("/v1/sites/{}/shifts", w.depot), &w.admin, shift).await));
        }
        let given = json!({"role_id": "supervisor", "scope": {"type": "org"}, "reason": "x", "valid_from": v, "valid_until": other});
        answers.push((
            "create-role-assignment",
            app.post(&format!("/v1/users/{guard}/role-assignments"), &w.admin, given).await,
        ));
        let bulk = json!({"changes": [{"op": "add", "user_id": guard, "role_id": "supervisor", "scope": {"type": "org"}, "reason": "x", "valid_until": v}]});
        answers.push(("bulk", app.post("/v1/role-assignments:bulk", &w.admin, bulk).await));
        for path in [
            format!("/v1/sites/{}/shifts", w.depot),
            format!("/v1/sites/{}/time-entries", w.depot),
            "/v1/me/shifts".to_owned(),
            "/v1/me/time-entries".to_owned(),
            "/v1/audit".to_owned(),
            format!("/v1/client/sites/{}/schedule", w.depot),
            format!("/v1/client/sites/{}/timesheets", w.depot),
        ] {
            let (v, other) = (query_escape(v), query_escape(other));
            for query in [format!("from={v}&to={other}"), format!("to={v}"), format!("from={v}")] {
                answers.push(("listing", app.get(&format!("{path}?{query}"), &w.admin).await));
            }
        }
        let file = json!({"kind": "licence", "name": "l.pdf", "content_type": "application/pdf", "size": 10, "expires_on": day});
        answers.push(("create-user-file", app.post(&format!("/v1/users/{guard}/files"), &w.admin, file).await));
        let person = json!({"employee_number": format!("D-{i}"), "first_name": "D", "last_name": "Ates",
            "username": format!("dates{i}"), "birthday": day, "employment_date": day});
        answers.push(("create-employee", app.post("/v1/employees", &w.admin, person).await));
        let tag =
            app.get(&format!("/v1/employees/{guard}"), &w.admin).await.headers["etag"].to_str().unwrap().to_owned();
        let hr = json!({"hr": {"hire_date": day, "last_day": day}, "birthday": day});
        let path = format!("/v1/employees/{guard}");
        answers.push((
            "update-employee",
            app.call_with(Method::PATCH, &path, Some(&w.admin), Some(hr), &[("if-match", &tag)]).await,
        ));
        for (op, answer) in answers {
            calls += 1;
            assert!(answer.status.as_u16() < 500, "{op} with {v:?} / {other:?}: {} {}", answer.status, answer.body);
        }
    }
    println!("{calls} requests with {} odd dates: no server error", values.len());
}

async fn failures_count_against_the_account_whichever_login_is_typed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_employee(&app.admin().await.access_token, "E-1", "erin", PASSWORD).await;
    for login in ["erin", "erin@acme.example"].iter().cycle().take(10) {
        app.login_as("acme", login, "not-the-password-1").await.expect(401);
    }
    let held = app.login_as("acme", "erin", PASSWORD).await.expect(429);
    assert_eq!(held.problem_type(), "too-many-login-attempts");
}

async fn a_device_that_logged_in_before_is_not_held_up_and_delays_grow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app.login_as("acme", &app.admin_email, guardpost_tests::ADMIN_PASSWORD).await.expect(200).body;
    let device = first["device_token"].as_str().expect("a device token").to_owned();
    // Someone else keeps guessing: the account is held up for devices not seen before...
    for _ in 0..10 {
        app.login_as("acme", &app.admin_email, "not-the-password-1").await.expect(401);
    }
    let held = app.login_as("acme", &app.admin_email, guardpost_tests::ADMIN_PASSWORD).await.expect(429);
    assert_eq!(held.headers["retry-after"].to_str().unwrap(), "60");
    // The delay doubles with each failure after it: 1 minute, then 2.
    app.advance(Duration::seconds(61));
    app.login_as("acme", &app.admin_email, "not-the-password-1").await.expect(401);
    let longer = app.login_as("acme", &app.admin_email, "not-the-password-1").await.expect(429);
    assert_eq!(longer.headers["retry-after"].to_str().unwrap(), "120");
    // ...but the administrator's own device is not held up.
    let body = json!({"org": "acme", "login": app.admin_email, "password": guardpost_tests::ADMIN_PASSWORD, "device_token": device});
    let own = app.call(Method::POST, "/v1/auth/login", None, Some(body)).await.expect(200).body;
    assert_eq!(own["device_token"], device.as_str(), "the same device keeps its token");
}

async fn spraying_one_password_from_one_address_runs_dry(backend: Backend) {
    let app = TestApp::spawn_with(backend, guardpost_shared::Settings::default()).await;
    // One password tried on thirty-one accounts (known or not): the address's burst is thirty.
    for n in 0..30 {
        app.login_as("acme", &format!("person{n}"), "Summer2026!").await.expect(401);
    }
    let dry = app.login_as("acme", "person30", "Summer2026!").await.expect(429);
    assert_eq!(dry.problem_type(), "too-many-attempts-from-address");
    assert_eq!(dry.headers["retry-after"].to_str().unwrap(), "2", "one attempt every 2 seconds after the burst");
    app.advance(Duration::seconds(2));
    app.login_as("acme", "person30", "Summer2026!").await.expect(401);
}

/// Twenty guards behind a site's one connection log in at the same moment: they race for the
/// address's bucket, and every one of them gets in (before, the races lost were refused as if
/// the address were attacking).
async fn a_shift_change_behind_one_address_logs_everyone_in(backend: Backend) {
    let app = TestApp::spawn_with(backend, guardpost_shared::Settings::default()).await;
    let admin = app.admin().await.access_token;
    let logins: Vec<String> = (0..20).map(|n| format!("shift{n}")).collect();
    for (n, login) in logins.iter().enumerate() {
        app.create_employee(&admin, &format!("S-{n}"), login, PASSWORD).await;
    }
    let answers = futures::future::join_all(logins.iter().map(|l| app.login_as("acme", l, PASSWORD))).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

/// Peak resident memory of this process (nextest runs each test in its own process).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The local server's promise (issue 15, point 10): it runs on SQLite, the store `serve` uses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_logins_at_once_keep_memory_bounded_and_the_server_answering() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin = app.admin().await.access_token;
    let permits = app.state.hashing.size();
    let before = peak_rss_kib();
    // Five hundred guesses at once, each at another login (no account's lock stops them early).
    let logins: Vec<String> = (0..500).map(|n| format!("storm{n}")).collect();
    let storm = futures::future::join_all(logins.iter().map(|l| app.login_as("acme", l, "not-the-password-1")));
    let during = async {
        // While it rages, other routes answer, and fast.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let started = std::time::Instant::now();
        let health = app.call(Method::GET, "/health", None, None).await.status.as_u16();
        let me = app.get("/v1/me", &admin).await.status.as_u16();
        (health, me, started.elapsed())
    };
    let (answers, (health, me, took)) = tokio::join!(storm, during);
    let grown_mib = peak_rss_kib().saturating_sub(before) / 1024;
    let mut statuses = std::collections::BTreeMap::new();
    for a in &answers {
        *statuses.entry(a.status.as_u16()).or_insert(0) += 1;
    }
    println!(
        "{permits} hashing permits; answers {statuses:?}; peak memory grew {grown_mib} MiB; /health and /v1/me took {took:?}"
    );
    assert!(statuses.keys().all(|s| matches!(s, 401 | 429 | 503)), "{statuses:?}");
    let busy = answers.iter().filter(|a| a.status.as_u16() == 503);
    assert!(busy.clone().all(|a| a.headers.contains_key("retry-after")), "503s say when to retry");
    assert_eq!((health, me), (200, 200));
    assert!(took < std::time::Duration::from_secs(3), "other routes answered within 3 s: {took:?}");
    // 19 MiB per hash at most `permits` at once (at most 25): the stated cap is 768 MiB.
    assert!(grown_mib < 768, "peak memory grew {grown_mib} MiB with {permits} permits");
}
