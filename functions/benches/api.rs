//! Request latency and store round trips of a few operations, driven in-process through the
//! production router (no socket) over SQLite in a temporary directory.
//!
//! Run: `cargo bench -p guardpost --bench api` (BENCH_ITERS overrides the iteration counts).
//! The results are recorded in docs/BENCHMARKS.md.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Method, Request, StatusCode, header};
use guardpost::bootstrap::{NewOrganisation, bootstrap};
use guardpost_shared::auth::TokenKeys;
use guardpost_shared::clock::{Clock, OsRandom, SystemClock};
use guardpost_shared::store::counting::CountingStore;
use guardpost_shared::store::sqlite::SqliteStore;
use guardpost_shared::{AppState, Settings};
use serde_json::{Value, json};
use tower::ServiceExt;

const ORG: &str = "bench";
const ADMIN_EMAIL: &str = "admin@bench.example";
const PASSWORD: &str = "Tr0ubadour-Staple-Horse";
const WARM_UP: usize = 10;

/// Builds the `i`-th request of a measured operation.
type MakeReq<'a> = Box<dyn Fn(usize) -> Req + 'a>;

/// One request: method, path, bearer token, JSON body and any other headers.
struct Req {
    method: Method,
    uri: String,
    token: Option<String>,
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
}

impl Req {
    fn new(method: Method, uri: impl Into<String>, token: Option<&str>, body: Option<Value>) -> Self {
        Self { method, uri: uri.into(), token: token.map(str::to_owned), body, headers: Vec::new() }
    }
    fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
    fn get(uri: &str, token: &str) -> Self {
        Self::new(Method::GET, uri, Some(token), None)
    }
    fn post(uri: &str, token: Option<&str>, body: Value) -> Self {
        Self::new(Method::POST, uri, token, Some(body))
    }
}

/// The router under test and the counter behind its store.
struct Bench {
    app: Router,
    counter: Arc<CountingStore>,
    state: AppState,
}

impl Bench {
    /// Sends a request; answers its status, its JSON body (or null) and its duration, which
    /// covers routing, every layer, the handler and reading the whole response body.
    async fn call(&self, req: Req) -> (StatusCode, Value, Duration) {
        let mut request = Request::builder().method(req.method).uri(&req.uri);
        if let Some(token) = &req.token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        for (name, value) in &req.headers {
            request = request.header(*name, value);
        }
        let body = match &req.body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(json).expect("serialising a request body"))
            }
            None => Body::empty(),
        };
        let request = request.body(body).expect("building a request");
        let start = Instant::now();
        let response = self.app.clone().oneshot(request).await.expect("the router is infallible");
        let status = response.status();
        let bytes = to_bytes(response.into_body(), usize::MAX).await.expect("reading the body");
        let elapsed = start.elapsed();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null), elapsed)
    }

    /// A request that must succeed; answers its JSON body.
    async fn ok(&self, req: Req) -> Value {
        let uri = req.uri.clone();
        let (status, json, _) = self.call(req).await;
        assert!(status.is_success(), "{uri}: {status} {json}");
        json
    }

    async fn login(&self, login: &str) -> String {
        let body = json!({ "org": ORG, "login": login, "password": PASSWORD });
        let answer = self.ok(Req::post("/v1/auth/login", None, body)).await;
        answer["access_token"].as_str().expect("login answers an access_token").to_owned()
    }

    /// Sends `WARM_UP + iters` requests built by `make(i)` one after the other, times the last
    /// `iters`, and checks that each of them makes the same number of store round trips. When
    /// given, `then(i)` is sent untimed after each request (to undo it: clock out after a clock-in).
    async fn measure(&self, name: &str, iters: usize, make: impl Fn(usize) -> Req, then: Option<MakeReq<'_>>) -> Row {
        let mut samples = Vec::with_capacity(iters);
        let mut round_trips = None;
        for i in 0..WARM_UP + iters {
            self.counter.take();
            let (status, json, elapsed) = self.call(make(i)).await;
            let calls = self.counter.take();
            assert!(status.is_success(), "{name}: {status} {json}");
            if let Some(then) = &then {
                self.ok(then(i)).await;
            }
            if i >= WARM_UP {
                let first = *round_trips.get_or_insert(calls);
                assert_eq!(first, calls, "{name}: store round trips vary between requests");
                samples.push(elapsed);
            }
        }
        samples.sort_unstable();
        let micros = |d: Duration| d.as_secs_f64() * 1e6;
        let at = |q: f64| micros(samples[((samples.len() - 1) as f64 * q).round() as usize]);
        let mean = samples.iter().copied().map(micros).sum::<f64>() / samples.len() as f64;
        let round_trips = round_trips.unwrap_or(0);
        Row { name: name.to_owned(), iters, p50: at(0.50), p99: at(0.99), mean, round_trips }
    }
}

struct Row {
    name: String,
    iters: usize,
    p50: f64,
    p99: f64,
    mean: f64,
    round_trips: u64,
}

fn iterations(default: usize) -> usize {
    std::env::var("BENCH_ITERS").ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(default)
}

fn machine() -> (String, String, String) {
    let cores = std::thread::available_parallelism().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    (cores, cpu, commit)
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("creating a temporary directory");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let sqlite = SqliteStore::open(&dir.path().join("guardpost.db"), clock.clone()).expect("opening SQLite");
    let counter = Arc::new(CountingStore::new(Arc::new(sqlite)));
    let state = AppState {
        store: counter.clone(),
        clock,
        random: Arc::new(OsRandom),
        tokens: Arc::new(TokenKeys::from_secret(&[7u8; 32]).expect("token keys")),
        settings: Arc::new(Settings::default()),
        usage: Default::default(),
        files: Arc::new(guardpost_shared::files::local::LocalFiles::new(
            dir.path().join("files"),
            "http://127.0.0.1:1",
            vec![7u8; 32],
            Arc::new(SystemClock),
        )),
        hashing: Default::default(),
    };
    let organisation = NewOrganisation {
        slug: ORG.into(),
        name: "Bench Security".into(),
        admin_email: ADMIN_EMAIL.into(),
        admin_password: PASSWORD.to_owned().into(),
    };
    bootstrap(&state, organisation).await.expect("bootstrapping the organisation");
    // The production router, every layer included; no tracing subscriber, so no log output.
    let bench = Bench { app: guardpost::app::local_app(state.clone()), counter, state };

    // Fixtures: a region with 50 sites, and a guard assigned to 5 of them.
    let admin = bench.login(ADMIN_EMAIL).await;
    let region = bench.ok(Req::post("/v1/regions", Some(&admin), json!({ "name": "North" }))).await;
    let mut sites = Vec::new();
    for i in 0..50 {
        let tz = "America/Toronto";
        let site = json!({ "name": format!("Site {i:02}"), "region_id": region["id"], "time_zone": tz });
        let site = bench.ok(Req::post("/v1/sites", Some(&admin), site)).await;
        sites.push(site["id"].as_str().expect("a site id").to_owned());
    }
    let guard = json!({ "employee_number": "G1", "first_name": "Gina", "last_name": "Guard",
        "username": "gina", "password": PASSWORD, "force_change": false });
    let guard = bench.ok(Req::post("/v1/employees", Some(&admin), guard)).await;
    let guard_id = guard["id"].as_str().expect("an employee id");
    for site in &sites[..5] {
        let uri = format!("/v1/sites/{site}/employees/{guard_id}");
        bench.ok(Req::new(Method::PUT, uri, Some(&admin), None)).await;
    }
    let guard = bench.login("gina").await;
    let count = |v: Value| v["items"].as_array().map(Vec::len);
    assert_eq!(count(bench.ok(Req::get("/v1/me/sites", &guard)).await), Some(5));
    assert_eq!(count(bench.ok(Req::get("/v1/sites", &admin)).await), Some(50), "one default page");

    // Employees with a unique number, username and email per request.
    let admin = admin.as_str();
    let employee = |prefix: &'static str, password: bool| {
        move |i: usize| {
            let mut body = json!({
                "employee_number": format!("{prefix}{i}"), "first_name": "Bench", "last_name": "Employee",
                "username": format!("{prefix}user{i}"), "email": format!("{prefix}{i}@bench.example"),
            });
            if password {
                body["password"] = json!(PASSWORD);
                body["force_change"] = json!(false);
            }
            Req::post("/v1/employees", Some(admin), body)
        }
    };
    let login = json!({ "org": ORG, "login": ADMIN_EMAIL, "password": PASSWORD });
    let (slow, fast) = (iterations(200), iterations(1000));
    let cases: [(&str, usize, MakeReq<'_>); 5] = [
        ("POST /v1/auth/login (admin)", slow, Box::new(|_| Req::post("/v1/auth/login", None, login.clone()))),
        ("POST /v1/employees (no password)", fast, Box::new(employee("n", false))),
        ("POST /v1/employees (with password)", slow, Box::new(employee("p", true))),
        ("GET /v1/sites (50 sites)", fast, Box::new(|_| Req::get("/v1/sites", admin))),
        ("GET /v1/me/sites (5 assigned)", fast, Box::new(|_| Req::get("/v1/me/sites", &guard))),
    ];
    let mut rows = Vec::new();
    for (name, iters, make) in cases {
        rows.push(bench.measure(name, iters, make, None).await);
    }

    // Time keeping at the guard's first site: no shift, so each clock-in makes an unplanned one.
    let site = sites[0].clone();
    let clock = |action: &'static str| {
        let (site, guard) = (site.clone(), guard.clone());
        move |_: usize| Req::new(Method::POST, format!("/v1/sites/{site}/{action}"), Some(&guard), None)
    };
    let name = "POST /v1/sites/{id}/clock-in (unplanned)";
    rows.push(bench.measure(name, fast, clock("clock-in"), Some(Box::new(clock("clock-out")))).await);
    bench.ok(clock("clock-in")(0)).await;
    let name = "POST /v1/sites/{id}/clock-out";
    rows.push(bench.measure(name, fast, clock("clock-out"), Some(Box::new(clock("clock-in")))).await);
    bench.ok(clock("clock-out")(0)).await;

    // Access decisions for a user holding 20 assignments: 19 that do not cover the target (site
    // scopes elsewhere, a custom role without the permission) and one region-wide Manager.
    let roles_body = json!({ "name": "Bench viewer", "portal": "staff", "permissions": ["sites:view"] });
    let viewer = bench.ok(Req::post("/v1/roles", Some(admin), roles_body)).await;
    let many = json!({ "employee_number": "M20", "first_name": "Many", "last_name": "Roles",
        "username": "many", "password": PASSWORD, "force_change": false, "role_id": "supervisor",
        "role_scope": { "type": "site", "id": sites[49] } });
    let many = bench.ok(Req::post("/v1/employees", Some(admin), many)).await;
    let many_id = many["id"].as_str().expect("an employee id").to_owned();
    let mut changes: Vec<Value> = (10..28)
        .map(|i| {
            json!({ "op": "add", "user_id": many_id, "role_id": viewer["id"],
            "scope": { "type": "site", "id": sites[i] }, "reason": "bench" })
        })
        .collect();
    changes.push(json!({ "op": "add", "user_id": many_id, "role_id": "manager",
        "scope": { "type": "region", "id": region["id"] }, "reason": "bench" }));
    bench.ok(Req::post("/v1/role-assignments:bulk", Some(admin), json!({ "changes": changes }))).await;
    let many_token = bench.login("many").await;
    let target_site = sites[0].clone();
    let name = "GET /v1/sites/{id}/shifts (20 assignments)";
    let uri = format!("/v1/sites/{target_site}/shifts");
    rows.push(bench.measure(name, fast, |_| Req::get(&uri, &many_token), None).await);
    let decisions = decision_bench(&bench, &many_token, &target_site, iterations(100_000)).await;
    rows.extend(people_bench(&bench, admin, &region["id"], &sites, &guard, guard_id, fast, slow).await);

    let (cores, cpu, commit) = machine();
    println!("Machine: {cores} cores, {cpu}; commit {commit}; {WARM_UP} warm-up requests per operation\n");
    println!("| Operation | Iterations | p50 (µs) | p99 (µs) | Mean (µs) | Store round trips |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!("| `{}` | {} | {:.0} | {:.0} | {:.0} | {} |", r.name, r.iters, r.p50, r.p99, r.mean, r.round_trips);
    }
    println!("\nAccess decisions, user with 20 assignments:\n");
    println!("| Step | Iterations | p50 (µs) | p99 (µs) | Mean (µs) | Store round trips |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in &decisions {
        println!("| {} | {} | {:.2} | {:.2} | {:.2} | {} |", r.name, r.iters, r.p50, r.p99, r.mean, r.round_trips);
    }
}

fn row(name: &str, mut samples: Vec<Duration>, round_trips: u64) -> Row {
    samples.sort_unstable();
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    let at = |q: f64| micros(samples[((samples.len() - 1) as f64 * q).round() as usize]);
    let mean = samples.iter().copied().map(micros).sum::<f64>() / samples.len() as f64;
    Row { name: name.to_owned(), iters: samples.len(), p50: at(0.50), p99: at(0.99), mean, round_trips }
}

/// The decision function alone (in memory), and `authorize` with its reads (SQLite), for the
/// caller behind `token` on `site`.
async fn decision_bench(bench: &Bench, token: &str, site: &str, iters: usize) -> Vec<Row> {
    use guardpost_shared::access::{Permission, Resource, Subject, authorize, decision, gather};
    let state = bench.state.clone();
    let principal = guardpost_shared::auth::authenticate(&state, token, None).await.expect("a live session");
    assert_eq!(principal.access.assignments.len(), 20);
    let site_id = guardpost_shared::domain::SiteId::parse(site).expect("a site id");
    let (roles, target) =
        gather(state.store.as_ref(), &principal.org, &principal.access.assignments, Resource::Site(site_id))
            .await
            .expect("facts");
    let subject =
        Subject { user: &principal.user, assignments: &principal.access.assignments, roles: &roles, ip: None };
    let now = state.now();
    let mut pure = Vec::with_capacity(iters);
    for _ in 0..iters {
        let start = Instant::now();
        let d = decision::decide(&subject, "shifts:create", &target, now);
        pure.push(start.elapsed());
        assert!(std::hint::black_box(d).allowed);
    }
    let mut denied = Vec::with_capacity(iters);
    for _ in 0..iters {
        let start = Instant::now();
        let d = decision::decide(&subject, "roles:manage", &target, now);
        denied.push(start.elapsed());
        assert!(!std::hint::black_box(d).allowed);
    }
    let mut checks = Vec::with_capacity(iters / 10);
    let mut trips = None;
    for i in 0..iters / 10 + WARM_UP {
        bench.counter.take();
        let start = Instant::now();
        authorize(&state, &principal, Permission::SHIFTS_CREATE, Resource::Site(site_id)).await.expect("allowed");
        let elapsed = start.elapsed();
        let calls = bench.counter.take();
        if i >= WARM_UP {
            assert_eq!(*trips.get_or_insert(calls), calls, "authorize: round trips vary");
            checks.push(elapsed);
        }
    }
    vec![
        row("`decide` allowed (`shifts:create` on a site, in memory)", pure, 0),
        row("`decide` denied (`roles:manage`, in memory)", denied, 0),
        row("`authorize` on a site (reads roles and site, SQLite)", checks, trips.unwrap_or(0)),
    ]
}

/// Client access and the employee lifecycle: creating a client access (with an invitation),
/// the client's own sites, changing an employee against their ETag, and the directory.
#[allow(clippy::too_many_arguments)]
async fn people_bench(
    bench: &Bench,
    admin: &str,
    region: &Value,
    sites: &[String],
    guard: &str,
    guard_id: &str,
    fast: usize,
    slow: usize,
) -> Vec<Row> {
    let mut rows = Vec::new();
    let master = json!({ "name": "Bench Mall", "kind": "master", "region_id": region, "time_zone": "UTC" });
    let master = bench.ok(Req::post("/v1/sites", Some(admin), master)).await["id"].as_str().unwrap().to_owned();
    for i in 0..3 {
        let sub = json!({ "name": format!("Mall wing {i}"), "parent_site_id": master, "time_zone": "UTC" });
        bench.ok(Req::post("/v1/sites", Some(admin), sub)).await;
    }
    let uri = format!("/v1/sites/{master}/client-accesses");
    let invite = |i: usize| {
        let body = json!({ "first_name": "Bench", "last_name": "Client", "email": format!("client{i}@bench.example"),
            "role_id": "client" });
        Req::post(&uri, Some(admin), body)
    };
    rows.push(bench.measure("POST /v1/sites/{id}/client-accesses (invitation)", slow, invite, None).await);

    let body = json!({ "first_name": "Priya", "last_name": "Client", "email": "priya@bench.example", "role_id": "client",
        "password": PASSWORD, "password_confirmation": PASSWORD, "force_change": false });
    bench.ok(Req::post(&uri, Some(admin), body)).await;
    let client = bench.login("priya@bench.example").await;
    let name = "GET /v1/me/sites (client: a master site and 3 sub-sites)";
    rows.push(bench.measure(name, fast, |_| Req::get("/v1/me/sites", &client), None).await);

    // Each change is made against the version the previous one left.
    let uri = format!("/v1/employees/{guard_id}");
    let (status, _, _) = bench.call(Req::get(&uri, admin)).await;
    assert!(status.is_success());
    let first: u64 = {
        let request = Request::builder().uri(&uri).header(header::AUTHORIZATION, format!("Bearer {admin}"));
        let response = bench.app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        response.headers()[header::ETAG].to_str().unwrap().trim_matches('"').parse().unwrap()
    };
    let change = |i: usize| {
        let body = json!({ "job_title": format!("Guard grade {}", i % 7), "hr": { "title": "Guard" } });
        Req::new(Method::PATCH, uri.clone(), Some(admin), Some(body))
            .with_header("if-match", format!("\"{}\"", first + i as u64))
    };
    rows.push(bench.measure("PATCH /v1/employees/{id} (If-Match)", fast, change, None).await);

    // Twenty colleagues at the guard's first site: the guard's directory (shared locations).
    for i in 0..20 {
        let body = json!({ "employee_number": format!("C{i}"), "first_name": "Colleague", "last_name": format!("{i}"),
            "username": format!("colleague{i}") });
        let id = bench.ok(Req::post("/v1/employees", Some(admin), body)).await["id"].as_str().unwrap().to_owned();
        bench.ok(Req::new(Method::PUT, format!("/v1/sites/{}/employees/{id}", sites[0]), Some(admin), None)).await;
    }
    let name = "GET /v1/directory (shared locations: 5 sites, 21 people)";
    rows.push(bench.measure(name, fast, |_| Req::get("/v1/directory", guard), None).await);
    rows
}
