//! Onsite time keeping as TrackTik's seed describes it: clock in at the scheduled site (or get
//! told where you are scheduled), an unplanned shift when scheduled nowhere, breaks, clock out,
//! and at most one open time entry whatever the concurrency.

use chrono::Duration;
use guardpost_tests::{Backend, TestApp, on_both_stores};
use reqwest::Method;
use serde_json::{Value, json};

on_both_stores!(
    a_guard_clocks_in_for_a_scheduled_shift_takes_a_break_and_clocks_out,
    wrong_transitions_are_refused_with_the_state_they_hit,
    clocking_in_at_another_site_than_scheduled_is_refused,
    clocking_in_unscheduled_makes_an_unplanned_shift,
    only_assigned_employees_clock_in_at_a_site,
    fifty_concurrent_clock_ins_leave_one_open_entry,
    a_retried_clock_in_with_the_same_key_returns_the_first_answer,
    shifts_are_validated_and_listed,
    concurrent_overlapping_shifts_schedule_one,
    an_unscheduled_clock_in_racing_a_scheduler_never_leaves_two_shifts,
);

struct Scene {
    /// Access tokens last 15 minutes: stories that move the clock further log in again.
    app: TestApp,
    admin: String,
    guard: String,
    guard_id: String,
    depot: String,
    mall: String,
}

/// A guard assigned to two sites, Depot and Mall.
async fn scene(backend: Backend) -> Scene {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let region = app.create_region(&admin, "North").await;
    let depot =
        app.create_site(&admin, json!({"name": "Depot", "region_id": region, "time_zone": "America/Toronto"})).await;
    let mall =
        app.create_site(&admin, json!({"name": "Mall", "region_id": region, "time_zone": "America/Toronto"})).await;
    let guard_id = app.create_employee(&admin, "G-1", "guard1", "correct-horse-battery-7").await;
    app.assign(&admin, &depot, &guard_id).await.expect(204);
    app.assign(&admin, &mall, &guard_id).await.expect(204);
    let guard = app.login("guard1", "correct-horse-battery-7").await.access_token;
    Scene { app, admin, guard, guard_id, depot, mall }
}

impl Scene {
    /// Moves the clock and renews both tokens.
    async fn later(&mut self, by: Duration) {
        self.app.advance(by);
        self.admin = self.app.admin().await.access_token;
        self.guard = self.app.login("guard1", "correct-horse-battery-7").await.access_token;
    }
}

fn clock_of(my_sites: &Value, site: &str) -> String {
    let items = my_sites["items"].as_array().unwrap();
    let site = items.iter().find(|s| s["id"] == site).unwrap();
    site["clock"]["status"].as_str().unwrap().to_owned()
}

async fn a_guard_clocks_in_for_a_scheduled_shift_takes_a_break_and_clocks_out(backend: Backend) {
    let mut s = scene(backend).await;
    let shift = s.app.schedule(&s.admin, &s.depot, &s.guard_id, Duration::minutes(30), 8).await.expect(201).id();

    // 30 minutes early is inside the default 60-minute allowance.
    let body = json!({"latitude": 43.64, "longitude": -79.38, "accuracy_m": 10.0, "note": "North gate"});
    let entry = s.app.post(&format!("/v1/sites/{}/clock-in", s.depot), &s.guard, body).await.expect(201).body;
    assert_eq!(entry["shift_id"], shift.as_str());
    assert_eq!(entry["unplanned"], false);
    assert_eq!(entry["clock_in_location"]["latitude"], 43.64);
    let mine = s.app.get("/v1/me/sites", &s.guard).await.expect(200).body;
    assert_eq!((clock_of(&mine, &s.depot), clock_of(&mine, &s.mall)), ("clocked_in".into(), "clocked_out".into()));

    s.later(Duration::hours(2)).await;
    s.app.clock(&s.guard, &s.depot, "breaks/start").await.expect(200);
    assert_eq!(clock_of(&s.app.get("/v1/me/sites", &s.guard).await.body, &s.depot), "on_break");
    let refused = s.app.clock(&s.guard, &s.depot, "clock-out").await.expect(409);
    assert_eq!(refused.problem_type(), "on-break");
    s.later(Duration::minutes(30)).await;
    s.app.clock(&s.guard, &s.depot, "breaks/end").await.expect(200);
    s.later(Duration::hours(5)).await;
    let done = s.app.clock(&s.guard, &s.depot, "clock-out").await.expect(200).body;
    assert!(done["clock_out"].is_string());
    assert_eq!(done["breaks"].as_array().unwrap().len(), 1);
    assert!(done["breaks"][0]["end"].is_string());
    assert_eq!(clock_of(&s.app.get("/v1/me/sites", &s.guard).await.body, &s.depot), "clocked_out");

    let history = s.app.get("/v1/me/time-entries", &s.guard).await.expect(200).body;
    assert_eq!(history["items"].as_array().unwrap().len(), 1);
    let on_site = s.app.get(&format!("/v1/sites/{}/time-entries", s.depot), &s.admin).await.expect(200).body;
    assert_eq!(on_site["items"][0]["employee_id"], s.guard_id.as_str());
    s.app.get(&format!("/v1/sites/{}/time-entries", s.depot), &s.guard).await.expect(403);
}

async fn wrong_transitions_are_refused_with_the_state_they_hit(backend: Backend) {
    let s = scene(backend).await;
    assert_eq!(s.app.clock(&s.guard, &s.depot, "breaks/start").await.expect(409).problem_type(), "not-clocked-in");
    assert_eq!(s.app.clock(&s.guard, &s.depot, "clock-out").await.expect(409).problem_type(), "not-clocked-in");
    s.app.clock(&s.guard, &s.depot, "clock-in").await.expect(201);
    assert_eq!(s.app.clock(&s.guard, &s.depot, "breaks/end").await.expect(409).problem_type(), "not-on-break");
    let twice = s.app.clock(&s.guard, &s.depot, "clock-in").await.expect(409);
    assert_eq!(twice.problem_type(), "already-clocked-in");
    assert_eq!(twice.body["time_entry"]["site_id"], s.depot.as_str());
    assert_eq!(s.app.clock(&s.guard, &s.mall, "clock-in").await.expect(409).problem_type(), "already-clocked-in");
    assert_eq!(s.app.clock(&s.guard, &s.mall, "clock-out").await.expect(409).problem_type(), "clocked-in-elsewhere");
    s.app.clock(&s.guard, &s.depot, "breaks/start").await.expect(200);
    assert_eq!(s.app.clock(&s.guard, &s.depot, "breaks/start").await.expect(409).problem_type(), "already-on-break");
    let bad = s
        .app
        .post(&format!("/v1/sites/{}/clock-in", s.mall), &s.guard, json!({"latitude": 200.0, "longitude": 0.0}))
        .await;
    assert_eq!(bad.status.as_u16(), 422);
    s.app.post(&format!("/v1/sites/{}/clock-in", s.mall), &s.guard, json!({"latitude": 1.0})).await.expect(422);
    s.app.post(&format!("/v1/sites/{}/clock-in", s.mall), &s.guard, json!({"altitude": 1.0})).await.expect(400);
}

async fn clocking_in_at_another_site_than_scheduled_is_refused(backend: Backend) {
    let s = scene(backend).await;
    let shift = s.app.schedule(&s.admin, &s.depot, &s.guard_id, Duration::minutes(-60), 8).await.expect(201).id();
    let refused = s.app.clock(&s.guard, &s.mall, "clock-in").await.expect(409);
    assert_eq!(refused.problem_type(), "scheduled-elsewhere");
    assert_eq!(refused.body["scheduled_site"], json!({"id": s.depot, "name": "Depot"}));
    assert_eq!(refused.body["shift"]["id"], shift.as_str());
    assert!(refused.body["detail"].as_str().unwrap().contains("scheduled at a different location: Depot"));
    let mine = s.app.get("/v1/me/sites", &s.guard).await.body;
    assert_eq!(
        (clock_of(&mine, &s.depot), clock_of(&mine, &s.mall)),
        ("clocked_out".into(), "clocked_out".into()),
        "nothing written"
    );
    assert_eq!(
        s.app.get("/v1/me/shifts", &s.guard).await.body["items"].as_array().unwrap().len(),
        1,
        "no unplanned shift"
    );
    // At the scheduled site it works.
    let entry = s.app.clock(&s.guard, &s.depot, "clock-in").await.expect(201);
    assert_eq!(entry.body["shift_id"], shift.as_str());
}

async fn clocking_in_unscheduled_makes_an_unplanned_shift(backend: Backend) {
    let mut s = scene(backend).await;
    // A shift tomorrow does not count for now.
    s.app.schedule(&s.admin, &s.depot, &s.guard_id, Duration::hours(20), 8).await.expect(201);
    let entry = s.app.clock(&s.guard, &s.mall, "clock-in").await.expect(201).body;
    assert_eq!(entry["unplanned"], true);
    let from = (s.app.now() - Duration::hours(1)).to_rfc3339();
    let to = (s.app.now() + Duration::days(2)).to_rfc3339();
    let query = format!("/v1/me/shifts?from={}&to={}", urlencode(&from), urlencode(&to));
    let shifts = s.app.get(&query, &s.guard).await.expect(200).body;
    let unplanned: Vec<_> =
        shifts["items"].as_array().unwrap().iter().filter(|x| x["kind"] == "unplanned").cloned().collect();
    assert_eq!(unplanned.len(), 1);
    assert_eq!(unplanned[0]["id"], entry["shift_id"]);
    assert_eq!(unplanned[0]["site_id"], s.mall.as_str());
    s.later(Duration::hours(3)).await;
    let out = s.app.clock(&s.guard, &s.mall, "clock-out").await.expect(200).body;
    let site_shifts =
        s.app.get(&format!("/v1/sites/{}/shifts?from={}", s.mall, urlencode(&from)), &s.admin).await.expect(200).body;
    assert_eq!(site_shifts["items"][0]["end"], out["clock_out"], "an unplanned shift ends at clock-out");
}

async fn only_assigned_employees_clock_in_at_a_site(backend: Backend) {
    let s = scene(backend).await;
    let region = s.app.create_region(&s.admin, "South").await;
    let elsewhere = s.app.create_site(&s.admin, json!({"name": "Far", "region_id": region, "time_zone": "UTC"})).await;
    let refused = s.app.clock(&s.guard, &elsewhere, "clock-in").await.expect(403);
    assert_eq!(refused.problem_type(), "not-assigned-to-site");
    assert_eq!(
        s.app.get("/v1/me/shifts", &s.guard).await.body["items"].as_array().unwrap().len(),
        0,
        "no unplanned shift left behind"
    );
    s.app.clock(&s.guard, "01JDQ5X0000000000000000000", "clock-in").await.expect(404);
    s.app.clock(&s.guard, &s.depot, "clock-in").await.expect(201);
}

async fn fifty_concurrent_clock_ins_leave_one_open_entry(backend: Backend) {
    let s = scene(backend).await;
    let path = format!("/v1/sites/{}/clock-in", s.depot);
    let calls = (0..50).map(|_| s.app.call(Method::POST, &path, Some(&s.guard), None));
    let answers = futures::future::join_all(calls).await;
    let created = answers.iter().filter(|a| a.status.as_u16() == 201).count();
    let conflicts = answers.iter().filter(|a| a.status.as_u16() == 409).count();
    assert_eq!((created, conflicts), (1, 49), "{:?}", answers.iter().map(|a| a.status.as_u16()).collect::<Vec<_>>());
    // The same answer on both stores: the guard is clocked in (DynamoDB's conflicts between
    // the racing transactions are run again until their conditions decide).
    let kinds: std::collections::BTreeSet<&str> =
        answers.iter().filter(|a| a.status.as_u16() == 409).map(|a| a.problem_type()).collect();
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["already-clocked-in"]);
    let entries = s.app.get("/v1/me/time-entries", &s.guard).await.expect(200).body;
    assert_eq!(entries["items"].as_array().unwrap().len(), 1, "exactly one open entry");
    let shifts = s
        .app
        .get(&format!("/v1/me/shifts?from={}", urlencode(&(s.app.now() - Duration::hours(1)).to_rfc3339())), &s.guard)
        .await
        .body;
    assert_eq!(shifts["items"].as_array().unwrap().len(), 1, "exactly one unplanned shift");
}

async fn a_retried_clock_in_with_the_same_key_returns_the_first_answer(backend: Backend) {
    let s = scene(backend).await;
    let path = format!("/v1/sites/{}/clock-in", s.depot);
    let key = [("idempotency-key", "clock-in-monday")];
    let first = s.app.call_with(Method::POST, &path, Some(&s.guard), None, &key).await.expect(201);
    let retry = s.app.call_with(Method::POST, &path, Some(&s.guard), None, &key).await.expect(201);
    assert_eq!(first.id(), retry.id());
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    s.app.call(Method::POST, &path, Some(&s.guard), None).await.expect(409);
}

async fn shifts_are_validated_and_listed(backend: Backend) {
    let s = scene(backend).await;
    let start = s.app.now() + Duration::days(1);
    let shift = |start: chrono::DateTime<chrono::Utc>, hours: i64| json!({"employee_id": s.guard_id, "start": start, "end": start + Duration::hours(hours)});
    let path = format!("/v1/sites/{}/shifts", s.depot);
    s.app.post(&path, &s.admin, shift(start, 8)).await.expect(201);
    assert_eq!(
        s.app.post(&path, &s.admin, shift(start + Duration::hours(4), 8)).await.expect(409).problem_type(),
        "shift-overlap"
    );
    s.app.post(&path, &s.admin, shift(start + Duration::hours(10), -2)).await.expect(422);
    s.app.post(&path, &s.admin, shift(start + Duration::hours(10), 25)).await.expect(422);
    let stranger = s.app.create_employee(&s.admin, "G-2", "stranger", "correct-horse-battery-7").await;
    let not_assigned = json!({"employee_id": stranger, "start": start, "end": start + Duration::hours(1)});
    s.app.post(&path, &s.admin, not_assigned).await.expect(422);
    s.app.post(&path, &s.guard, shift(start + Duration::hours(12), 2)).await.expect(403);
    let listed = s.app.get(&path, &s.admin).await.expect(200).body;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    s.app.get(&format!("{path}?from=yesterday"), &s.admin).await.expect(422);
    let mine = s.app.get("/v1/me/shifts", &s.guard).await.expect(200).body;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

async fn concurrent_overlapping_shifts_schedule_one(backend: Backend) {
    let s = scene(backend).await;
    let start = s.app.now() + Duration::days(2);
    let requests: Vec<(String, serde_json::Value)> = (0..8)
        .map(|i| {
            let site = if i % 2 == 0 { &s.depot } else { &s.mall };
            let body = json!({"employee_id": s.guard_id, "start": start + Duration::minutes(i), "end": start + Duration::hours(6)});
            (format!("/v1/sites/{site}/shifts"), body)
        })
        .collect();
    let calls = requests.iter().map(|(path, body)| s.app.post(path, &s.admin, body.clone()));
    let answers = futures::future::join_all(calls).await;
    let created = answers.iter().filter(|a| a.status.as_u16() == 201).count();
    assert_eq!(
        created,
        1,
        "{:?}",
        answers.iter().map(|a| (a.status.as_u16(), a.problem_type().to_owned())).collect::<Vec<_>>()
    );
    assert!(answers.iter().all(|a| matches!(a.status.as_u16(), 201 | 409)));
    let from = urlencode(&(start - Duration::hours(1)).to_rfc3339());
    let mine = s.app.get(&format!("/v1/me/shifts?from={from}"), &s.guard).await.expect(200).body;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
}

/// A manager schedules a shift that starts now while the guard, not yet scheduled, clocks in:
/// either the clock-in finds the shift, or the shift is refused as overlapping the unplanned
/// one, or one of them is told to retry. Never both shifts.
async fn an_unscheduled_clock_in_racing_a_scheduler_never_leaves_two_shifts(backend: Backend) {
    let mut s = scene(backend).await;
    let (mut planned, mut unplanned) = (0, 0);
    for round in 0..100 {
        let start = s.app.now();
        let shift = json!({"employee_id": s.guard_id, "start": start, "end": start + Duration::hours(8)});
        let path = format!("/v1/sites/{}/shifts", s.depot);
        let (made, clocked) =
            tokio::join!(s.app.post(&path, &s.admin, shift), s.app.clock(&s.guard, &s.depot, "clock-in"));
        assert!(matches!(made.status.as_u16(), 201 | 409), "round {round}: {made:?}");
        assert!(matches!(clocked.status.as_u16(), 201 | 409), "round {round}: {clocked:?}");
        let from = urlencode(&(start - Duration::minutes(1)).to_rfc3339());
        let shifts = s.app.get(&format!("/v1/me/shifts?from={from}"), &s.guard).await.expect(200).body;
        let kinds: Vec<&str> =
            shifts["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
        assert!(
            kinds.len() <= 1,
            "round {round}: two shifts at once: {kinds:?} (shift {}, clock-in {})",
            made.status,
            clocked.status
        );
        match (kinds.first().copied(), clocked.status.as_u16()) {
            (Some("scheduled"), 201) => planned += 1,
            (Some("unplanned"), 201) => unplanned += 1,
            _ => {}
        }
        if clocked.status.as_u16() == 201 {
            s.app.clock(&s.guard, &s.depot, "clock-out").await.expect(200);
        }
        s.later(Duration::days(2)).await;
    }
    // Guards did get clocked in: the rounds were not all refusals.
    assert!(planned + unplanned > 0, "no clock-in succeeded in 100 rounds");
    println!("100 rounds: {planned} clock-ins found the new shift, {unplanned} made an unplanned one");
}
