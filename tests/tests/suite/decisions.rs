//! The decision function against a literal table, and the HTTP layer against the decision
//! function.
//!
//! - The table: every default role x every permission of the catalogue x every scope relation
//!   (the same site, a sub-site of the assigned master site, another site of the same region,
//!   another region, another organisation), for assignments over a site, a region and the
//!   organisation. The expected answer is read from a literal coverage table and the role's
//!   permissions as the API shows them, not from the decision code.
//! - The property: random roles, assignments (some expired, some not yet valid) and site
//!   assignments; then at least 10,000 random requests through HTTP, each compared with what the
//!   decision function says for a model the test keeps itself. Zero disagreements.

use std::collections::BTreeMap;

use chrono::Duration;
use futures::StreamExt;
use guardpost_shared::access::catalogue::{CATALOGUE, Portal, ScopeLevel};
use guardpost_shared::access::decision::{coverage, decide};
use guardpost_shared::access::{Resource, SiteFacts, Subject, Target, gather};
use guardpost_shared::domain::{OrgSlug, RegionId, RoleId, SiteId, UserId};
use guardpost_shared::records::role::{Assignment, Role, Scope, Validity};
use guardpost_shared::records::user::{self, User, UserKind};
use guardpost_tests::{Backend, TestApp, on_both_stores};
use serde_json::{Value, json};

on_both_stores!(every_default_role_permission_and_scope_relation_decides_as_the_table_says);
on_both_stores!(http_answers_agree_with_the_decision_function_over_ten_thousand_random_requests);

/// Two regions; in the first a master site with a sub-site and a plain site; in the second a
/// plain site. Another organisation has a site too.
struct World {
    org: OrgSlug,
    r1: RegionId,
    r2: RegionId,
    master: SiteFacts,
    sub: SiteFacts,
    same_region: SiteFacts,
    other_region: SiteFacts,
    foreign_site: SiteId,
    foreign_user: UserId,
}

fn id<T>(s: &str, parse: impl Fn(&str) -> Result<T, guardpost_shared::domain::IdError>) -> T {
    parse(s).unwrap()
}

async fn world(app: &TestApp, admin: &str) -> World {
    let r1 = app.create_region(admin, "North").await;
    let r2 = app.create_region(admin, "South").await;
    let mk = |name: &str, extra: Value| {
        let mut body = json!({"name": name, "time_zone": "UTC"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let master = app.create_site(admin, mk("Mall", json!({"kind": "master", "region_id": r1}))).await;
    let sub = app.create_site(admin, mk("Mall entrance", json!({"parent_site_id": master}))).await;
    let same = app.create_site(admin, mk("Dockyard", json!({"region_id": r1}))).await;
    let other = app.create_site(admin, mk("Airport", json!({"region_id": r2}))).await;
    let g = app.other_org_admin().await;
    let gr = app.create_region(&g, "Globex").await;
    let foreign_site = app.create_site(&g, mk("Globex HQ", json!({"region_id": gr}))).await;
    let foreign_user = app.create_employee(&g, "G-1", "gguard", "correct-horse-battery-7").await;
    let (r1, r2) = (id(&r1, RegionId::parse), id(&r2, RegionId::parse));
    let facts = |s: &str, region, parent| SiteFacts { id: id(s, SiteId::parse), region, parent };
    World {
        org: OrgSlug::parse(&app.org).unwrap(),
        r1,
        r2,
        master: facts(&master, r1, None),
        sub: facts(&sub, r1, Some(id(&master, SiteId::parse))),
        same_region: facts(&same, r1, None),
        other_region: facts(&other, r2, None),
        foreign_site: id(&foreign_site, SiteId::parse),
        foreign_user: id(&foreign_user, UserId::parse),
    }
}

/// The roles as the API shows them to a superuser (the permission matrix).
async fn roles(app: &TestApp, admin: &str) -> Vec<Role> {
    let listed = app.get("/v1/roles?limit=200", admin).await.expect(200).body;
    listed["items"].as_array().unwrap().iter().map(|r| serde_json::from_value(r.clone()).unwrap()).collect()
}

fn synthetic_user(kind: UserKind, template: &User) -> User {
    User { id: UserId::from_ulid(ulid::Ulid::new()), kind, is_superuser: false, ..template.clone() }
}

fn assignment(role: &RoleId, scope: Scope, now: chrono::DateTime<chrono::Utc>, by: UserId) -> Assignment {
    Assignment::new(
        guardpost_shared::domain::AssignmentId::from_ulid(ulid::Ulid::new()),
        role.clone(),
        scope,
        "table",
        now,
        by,
    )
}

async fn every_default_role_permission_and_scope_relation_decides_as_the_table_says(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let w = world(&app, &admin).await;
    let roles = roles(&app, &admin).await;
    let store = app.state.store.as_ref();
    let me = app.get("/v1/me", &admin).await.expect(200).body;
    let admin_id = id(me["user"]["id"].as_str().unwrap(), UserId::parse);
    let template = user::load(store, &w.org, &admin_id).await.unwrap().record;
    let now = app.now();

    // Which relations each scope covers: same site, sub-site of the assigned master, another
    // site of the same region, another region. (Another organisation: never; see below.)
    let table: [(Scope, ScopeLevel, [bool; 4]); 3] = [
        (Scope::Site(w.master.id), ScopeLevel::Site, [true, true, false, false]),
        (Scope::Region(w.r1), ScopeLevel::Region, [true, true, true, false]),
        (Scope::Org, ScopeLevel::Org, [true, true, true, true]),
    ];
    let relations = [w.master, w.sub, w.same_region, w.other_region];
    let mut targets = Vec::new();
    for site in relations {
        let (_, target) = gather(store, &w.org, &[], Resource::Site(site.id)).await.unwrap();
        assert_eq!(target, Target::Site(site), "the store gives the facts the table assumes");
        targets.push(target);
    }
    let mut checked = 0;
    for role in roles.iter().filter(|r| r.default) {
        let kind = if role.portal == Portal::Client { UserKind::Client } else { UserKind::Employee };
        let user = synthetic_user(kind, &template);
        for (scope, level, covered) in &table {
            let assignments = vec![assignment(&role.id, scope.clone(), now, admin_id)];
            let subject = Subject { user: &user, assignments: &assignments, roles: &roles, ip: None };
            for permission in CATALOGUE {
                for (relation, target) in targets.iter().enumerate() {
                    let expected = role.permissions.iter().any(|p| p == permission.name)
                        && permission.scopes.contains(level)
                        && covered[relation];
                    let decision = decide(&subject, permission.name, target, now);
                    assert_eq!(
                        decision.allowed, expected,
                        "{} over {scope} -> {} on relation {relation}: {:?}",
                        role.name, permission.name, decision
                    );
                    checked += 1;
                }
                // Another organisation's site: its facts cannot be read from this one.
                let foreign = gather(store, &w.org, &assignments, Resource::Site(w.foreign_site)).await;
                assert!(matches!(foreign, Err(guardpost_shared::AppError::NotFound("site"))), "{foreign:?}");
                checked += 1;
            }
        }
    }
    // 6 default roles x 3 scope kinds x every permission x 5 relations.
    assert_eq!(checked, 6 * 3 * CATALOGUE.len() * 5);
}

/// A small seeded generator (xorshift64*): the seed is printed, and `GUARDPOST_PROPERTY_SEED`
/// replays a run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Permissions some GET endpoint checks, so that custom roles made of them are visible.
const PROBED: &[&str] = &[
    "sites:view",
    "site-employees:view",
    "shifts:view",
    "time-entries:view",
    "regions:view",
    "employees:view",
    "notifications:view",
    "roles:view",
    "audit:view",
    "access:review",
    "self:read",
    "client-access:view",
];

struct Person {
    id: UserId,
    user: User,
    token: String,
    assignments: Vec<Assignment>,
    sites: Vec<SiteFacts>,
}

async fn http_answers_agree_with_the_decision_function_over_ten_thousand_random_requests(backend: Backend) {
    let seed = std::env::var("GUARDPOST_PROPERTY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| ulid::Ulid::new().random() as u64 | 1);
    println!("GUARDPOST_PROPERTY_SEED={seed}");
    let mut rng = Rng(seed);
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let w = world(&app, &admin).await;
    let sites = [w.master, w.sub, w.same_region, w.other_region];

    // Random custom roles (admin portal, so they may hold any of the probed permissions).
    for n in 0..8 {
        let permissions: Vec<&str> = PROBED.iter().copied().filter(|_| rng.chance(50)).collect();
        let body = json!({"name": format!("Random {n}"), "portal": "admin", "permissions": permissions});
        app.post("/v1/roles", &admin, body).await.expect(201);
    }
    let random_roles = roles(&app, &admin).await;
    let custom: Vec<&Role> = random_roles.iter().filter(|r| !r.default).collect();
    let defaults: Vec<&Role> = random_roles.iter().filter(|r| r.default && r.portal != Portal::Client).collect();
    let scopes = [
        Scope::Org,
        Scope::Region(w.r1),
        Scope::Region(w.r2),
        Scope::Site(w.master.id),
        Scope::Site(w.sub.id),
        Scope::Site(w.same_region.id),
        Scope::Site(w.other_region.id),
    ];

    // People: random site assignments and role assignments, some expiring in ten minutes, some
    // starting in a day.
    let now = app.now();
    let mut people = Vec::new();
    for n in 0..14 {
        let username = format!("person{n}");
        let uid = app.create_employee(&admin, &format!("P-{n}"), &username, "correct-horse-battery-7").await;
        let mut assigned = Vec::new();
        for site in &sites {
            if rng.chance(35) {
                app.assign(&admin, &site.id.to_string(), &uid).await.expect(204);
                assigned.push(*site);
            }
        }
        let mut changes = Vec::new();
        for _ in 0..=rng.below(4) {
            // Mostly the random roles: the default ones are coarse.
            let role = if rng.chance(70) { rng.pick(&custom) } else { rng.pick(&defaults) };
            if role.id.as_str() == "terminated" && !rng.chance(30) {
                continue;
            }
            // The Terminated role is given over the organisation only.
            let scope = if role.id.as_str() == "terminated" { &Scope::Org } else { rng.pick(&scopes) };
            let mut change =
                json!({"op": "add", "user_id": uid, "role_id": role.id, "scope": scope, "reason": "random"});
            match rng.below(4) {
                0 => change["valid_until"] = json!(now + Duration::minutes(10)),
                1 => change["valid_from"] = json!(now + Duration::days(1)),
                _ => {}
            }
            changes.push(change);
        }
        let mut assignments: Vec<Assignment> = Vec::new();
        let listed = app.get(&format!("/v1/users/{uid}/role-assignments"), &admin).await.expect(200).body;
        for a in listed["items"].as_array().unwrap() {
            assignments.push(serde_json::from_value(a.clone()).unwrap());
        }
        if !changes.is_empty() {
            let answer = app.post("/v1/role-assignments:bulk", &admin, json!({"changes": changes})).await;
            if answer.status == 200 {
                for a in answer.body["added"].as_array().unwrap() {
                    assignments.push(serde_json::from_value(a.clone()).unwrap());
                }
            } else {
                assert_eq!(answer.status, 409, "only a repeated role and scope may be refused: {}", answer.body);
            }
        }
        let id = id(&uid, UserId::parse);
        let user = user::load(app.state.store.as_ref(), &w.org, &id).await.unwrap().record;
        people.push(Person { id, user, token: String::new(), assignments, sites: assigned });
    }
    // Client users: portal access to the mall (a random sub-site set to "No") or to the dockyard,
    // with the default Client role or one that shows only the timesheets.
    let body = json!({"name": "Timesheets only", "portal": "client", "permissions": ["client-timesheets:view"]});
    let timesheets_only = app.post("/v1/roles", &admin, body).await.expect(201).id();
    let every_role = roles(&app, &admin).await;
    for n in 0..4 {
        let email = format!("client{n}@acme.example");
        let role = if rng.chance(50) { "client".to_owned() } else { timesheets_only.clone() };
        let site = if rng.chance(70) { w.master } else { w.same_region };
        let body = json!({"first_name": "Client", "last_name": format!("{n}"), "email": email, "role_id": role,
            "password": "correct-horse-battery-7", "password_confirmation": "correct-horse-battery-7", "force_change": false});
        let uid = app.post(&format!("/v1/sites/{}/client-accesses", site.id), &admin, body).await.expect(201).id();
        if site == w.master && rng.chance(50) {
            let hide = json!({ w.sub.id.to_string(): false });
            app.put(&format!("/v1/client-accesses/{uid}/sub-sites"), &admin, hide).await.expect(200);
        }
        let listed = app.get(&format!("/v1/users/{uid}/role-assignments"), &admin).await.expect(200).body;
        let assignments =
            listed["items"].as_array().unwrap().iter().map(|a| serde_json::from_value(a.clone()).unwrap());
        let id = id(&uid, UserId::parse);
        let user = user::load(app.state.store.as_ref(), &w.org, &id).await.unwrap().record;
        people.push(Person { id, user, token: String::new(), assignments: assignments.collect(), sites: vec![] });
    }
    // Ten minutes later some assignments have expired; log everyone in now.
    app.advance(Duration::minutes(11));
    for (n, p) in people.iter_mut().enumerate() {
        let login = if n < 14 { format!("person{n}") } else { format!("client{}@acme.example", n - 14) };
        p.token = app.login(&login, "correct-horse-battery-7").await.access_token;
    }
    let now = app.now();

    // The requests, with what the decision function says of each.
    enum Expect {
        Decide(&'static str, Target),
        Listing(&'static str),
        NotFound,
        ForeignUser(&'static str),
        /// A screen of one site: a client user hears "not found" of a site none of their
        /// accesses reaches, "forbidden" of one it reaches without the screen's permission.
        SiteScreen(&'static str, SiteFacts),
    }
    let site_targets =
        |rng: &mut Rng| -> Option<SiteFacts> { if rng.chance(10) { None } else { Some(*rng.pick(&sites)) } };
    let mut requests = Vec::new();
    const CASES: usize = 10_000;
    while requests.len() < CASES {
        let who = rng.below(people.len());
        let (path, expect) = match rng.below(15) {
            k @ 0..=4 => {
                let (suffix, permission) = [
                    ("", "sites:view"),
                    ("/employees", "site-employees:view"),
                    ("/shifts", "shifts:view"),
                    ("/time-entries", "time-entries:view"),
                    ("/client-accesses", "client-access:view"),
                ][k];
                match site_targets(&mut rng) {
                    Some(site) => (format!("/v1/sites/{}{suffix}", site.id), Expect::SiteScreen(permission, site)),
                    None => (format!("/v1/sites/{}{suffix}", w.foreign_site), Expect::NotFound),
                }
            }
            13 => ("/v1/regions".to_owned(), Expect::Decide("regions:view", Target::Org)),
            5 => ("/v1/notifications".to_owned(), Expect::Decide("notifications:view", Target::Org)),
            6 => ("/v1/roles".to_owned(), Expect::Decide("roles:view", Target::Org)),
            7 => ("/v1/audit".to_owned(), Expect::Decide("audit:view", Target::Org)),
            8 => ("/v1/access/review?limit=5".to_owned(), Expect::Decide("access:review", Target::Org)),
            9 => ("/v1/sites".to_owned(), Expect::Listing("sites:view")),
            k @ 10..=11 => {
                let (screen, permission) =
                    [("schedule", "client-schedule:view"), ("timesheets", "client-timesheets:view")][k - 10];
                match site_targets(&mut rng) {
                    Some(site) => {
                        (format!("/v1/client/sites/{}/{screen}", site.id), Expect::SiteScreen(permission, site))
                    }
                    None => (format!("/v1/client/sites/{}/{screen}", w.foreign_site), Expect::NotFound),
                }
            }
            12 => {
                let other = &people[rng.below(people.len())];
                let expect = if other.id == people[who].id {
                    Expect::Decide("self:read", Target::Org)
                } else if other.user.kind == UserKind::Client {
                    // A client's activity: client-access:view over the site of their access.
                    let anchor = other.assignments.first().map(|a| a.scope.clone());
                    let site = sites.iter().find(|s| anchor == Some(Scope::Site(s.id))).copied().unwrap();
                    Expect::SiteScreen("client-access:view", site)
                } else {
                    Expect::Decide("employees:view", Target::User { id: other.id, sites: other.sites.clone() })
                };
                (format!("/v1/users/{}/login-activity", other.id), expect)
            }
            _ => {
                if rng.chance(10) {
                    (format!("/v1/employees/{}", w.foreign_user), Expect::ForeignUser("employees:view"))
                } else {
                    let other = &people[rng.below(people.len())];
                    let expect = if other.id == people[who].id {
                        Expect::Decide("self:read", Target::Org)
                    } else {
                        Expect::Decide("employees:view", Target::User { id: other.id, sites: other.sites.clone() })
                    };
                    (format!("/v1/employees/{}", other.id), expect)
                }
            }
        };
        let p = &people[who];
        let subject = Subject { user: &p.user, assignments: &p.assignments, roles: &every_role, ip: None };
        let expected: u16 = match expect {
            Expect::Decide(permission, target) => {
                if decide(&subject, permission, &target, now).allowed {
                    200
                } else {
                    403
                }
            }
            Expect::Listing(permission) => {
                if coverage(&subject, permission, now).is_empty() {
                    403
                } else {
                    200
                }
            }
            Expect::NotFound => 404,
            Expect::SiteScreen(permission, site) => {
                let target = Target::Site(site);
                let reaches = p.assignments.iter().any(|a| a.validity(now) == Validity::InEffect && a.covers(&target));
                if decide(&subject, permission, &target, now).allowed {
                    200
                } else if p.user.kind == UserKind::Client && !reaches {
                    404
                } else {
                    403
                }
            }
            Expect::ForeignUser(permission) => {
                let nowhere = Target::User { id: w.foreign_user, sites: vec![] };
                if decide(&subject, permission, &nowhere, now).allowed { 404 } else { 403 }
            }
        };
        requests.push((who, path, expected));
    }

    let answers: Vec<(usize, String, u16, u16)> = futures::stream::iter(requests)
        .map(|(who, path, expected)| {
            let (app, token) = (&app, people[who].token.clone());
            async move {
                let got = app.get(&path, &token).await.status.as_u16();
                (who, path, expected, got)
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let disagreements: Vec<_> = answers.iter().filter(|(_, _, e, g)| e != g).collect();
    let mut tally: BTreeMap<u16, usize> = BTreeMap::new();
    for (_, _, _, got) in &answers {
        *tally.entry(*got).or_default() += 1;
    }
    println!("{} requests, answers by status {tally:?}, {} disagreements", answers.len(), disagreements.len());
    assert!(answers.len() >= 10_000);
    assert!(tally.get(&200).is_some_and(|n| *n > 100) && tally.get(&403).is_some_and(|n| *n > 100), "{tally:?}");
    assert!(
        disagreements.is_empty(),
        "seed {seed}: {} disagreements, first: {:?}",
        disagreements.len(),
        disagreements
            .iter()
            .take(5)
            .map(|(w, p, e, g)| format!("p{w} GET {p}: expected {e}, got {g}"))
            .collect::<Vec<_>>()
    );
}
