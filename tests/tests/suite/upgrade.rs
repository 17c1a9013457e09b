//! Data written by the landed version stays readable and usable after an upgrade, on both
//! stores. `tests/fixtures/landed-v1.json` holds every item the landed commit (ee7a25d) wrote
//! while the README walkthrough and a few more operations ran against it (see
//! `tests/fixtures/make-landed-fixture.sh`); it is loaded as it is into a fresh store, and
//! today's code works on it: people log in, records written before new fields existed read with
//! their defaults, and the new operations act on old records.

use chrono::{DateTime, Duration, Utc};
use guardpost_shared::store::{IndexKey, Item, Key};
use guardpost_tests::{Backend, TestApp, on_both_stores};
use serde_json::{Value, json};

on_both_stores!(the_landed_versions_data_is_read_and_used_by_todays_code);

struct Fixture {
    admin: String,
    admin_password: String,
}

/// Loads the fixture into the app's store and sets the clock to just after it was made, so its
/// sessions and links are as live as they were then.
async fn load(app: &TestApp) -> Fixture {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/landed-v1.json");
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let made_at: DateTime<Utc> = fixture["made_at"].as_str().unwrap().parse().unwrap();
    app.clock.set(made_at + Duration::minutes(1));
    let index = |v: &Value| v.as_array().map(|p| IndexKey::new(p[0].as_str().unwrap(), p[1].as_str().unwrap()));
    for it in fixture["items"].as_array().unwrap() {
        let item = Item {
            key: Key::new(it["pk"].as_str().unwrap(), it["sk"].as_str().unwrap()),
            kind: it["kind"].as_str().unwrap().to_owned(),
            gsi1: index(&it["gsi1"]),
            gsi2: index(&it["gsi2"]),
            expires_at: it["expires_at"].as_i64(),
            version: it["version"].as_u64().unwrap(),
            data: it["data"].clone().into(),
        };
        app.state.store.put(item, guardpost_shared::store::Condition::None).await.unwrap();
    }
    Fixture {
        admin: fixture["admin"].as_str().unwrap().to_owned(),
        admin_password: fixture["admin_password"].as_str().unwrap().to_owned(),
    }
}

/// One of the fixture's sent welcome emails, queued again as the landed version stored a
/// waiting message: pending, due now, listed by status (GSI2) and in no due index (GSI1).
async fn waiting_message_as_the_landed_version_wrote_it(app: &TestApp) -> Key {
    let org = guardpost_shared::domain::OrgSlug::parse("demo").unwrap();
    let query = guardpost_shared::store::Query::table(guardpost_shared::notify::outbox_pk(&org));
    let outbox = app.state.store.query(&query).await.unwrap();
    let sent = outbox.items.into_iter().next().expect("the fixture has outbox items");
    let mut out: guardpost_shared::notify::OutboxItem = sent.parse().unwrap();
    out.id = format!("{}-again", out.id);
    out.status = guardpost_shared::notify::Status::Pending;
    out.next_attempt_at = app.now();
    let mut item = out.item(&org, 1).unwrap();
    item.gsi1 = None;
    let key = item.key.clone();
    app.state.store.put(item, guardpost_shared::store::Condition::NotExists).await.unwrap();
    key
}

fn find<'a>(items: &'a Value, field: &str, value: &str) -> &'a Value {
    items["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i[field] == value)
        .unwrap_or_else(|| panic!("no {value} in {items}"))
}

async fn the_landed_versions_data_is_read_and_used_by_todays_code(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let fixture = load(&app).await;
    app.org = "demo".into();

    // A message the landed version queued and had not sent yet (it wrote no due-index entry).
    let waiting = waiting_message_as_the_landed_version_wrote_it(&app).await;

    // The migration gives users who logged in before last-login records existed one, once,
    // and puts the waiting message in the due index the sweep reads.
    let report = guardpost::migrate::migrate(&app.state).await.unwrap();
    assert_eq!((report.organisations, report.last_logins_added, report.outbox_indexed), (2, 3, 1), "{report:?}");
    let again = guardpost::migrate::migrate(&app.state).await.unwrap();
    assert_eq!((again.last_logins_added, again.outbox_indexed), (0, 0), "idempotent");
    app.deliver_outbox().await;
    let delivered: guardpost_shared::notify::OutboxItem =
        app.state.store.get(&waiting).await.unwrap().unwrap().parse().unwrap();
    assert_eq!(delivered.status, guardpost_shared::notify::Status::Sent, "{delivered:?}");

    // Everyone logs in with the password they had; records read with the new fields' defaults.
    let admin = app.login(&fixture.admin, &fixture.admin_password).await.access_token;
    let ada = app.login("ada", "correct-horse-battery-7").await.access_token;
    let me = app.get("/v1/me", &ada).await.expect(200).body;
    assert_eq!(me["user"]["main_phone"]["private"], false, "phones from before the private flag are not private");
    let staff = app.get("/v1/employees", &admin).await.expect(200).body;
    let gone = find(&staff, "username", "gone");
    assert_eq!(gone["status"], "terminated");
    let ada_row = find(&staff, "username", "ada");
    assert!(ada_row["last_login_at"].is_string(), "her login under the landed version counts: {ada_row}");
    let ada_id = ada_row["id"].as_str().unwrap().to_owned();
    let sites = app.get("/v1/me/sites", &ada).await.expect(200).body;
    assert_eq!(sites["items"][0]["name"], "Harbour Mall - North Entrance");

    // Old assignments (no hidden sub-sites) still decide; the roles are all there.
    let roles = app.get("/v1/roles", &admin).await.expect(200).body;
    find(&roles, "name", "Night desk");
    let all = app.get("/v1/sites", &admin).await.expect(200).body;
    let mall = find(&all, "name", "Harbour Mall")["id"].as_str().unwrap().to_owned();

    // The new operations act on old records: a client access at the old mall sees its old
    // sub-site, and the old time entry shows in the client's timesheets.
    let body = json!({"first_name": "Priya", "last_name": "Manager", "email": "priya@harbourmall.example",
        "role_id": "client", "password": "ferris-wheel-harbour-88", "password_confirmation": "ferris-wheel-harbour-88",
        "force_change": false});
    app.post(&format!("/v1/sites/{mall}/client-accesses"), &admin, body).await.expect(201);
    let client = app.login("priya@harbourmall.example", "ferris-wheel-harbour-88").await.access_token;
    let visible = app.get("/v1/me/sites", &client).await.expect(200).body;
    let entrance = find(&visible, "name", "Harbour Mall - North Entrance")["id"].as_str().unwrap().to_owned();
    let sheets = app.get(&format!("/v1/client/sites/{entrance}/timesheets"), &client).await.expect(200).body;
    assert_eq!(sheets["items"].as_array().unwrap().len(), 1, "the landed version's time entry: {sheets}");
    assert!(sheets["items"][0]["approved_at"].is_null());

    // Grace set her password through the old welcome link; she changes it with today's code.
    let grace = app.login("grace@demo.example", "lighthouse-keeper-88").await.access_token;
    let change = json!({"current_password": "lighthouse-keeper-88", "new_password": "quiet-harbour-lantern-31"});
    app.post("/v1/me/password", &grace, change).await.expect(200);

    // The employee lifecycle on old records: edit against the ETag, reactivate the employee the
    // landed version terminated, and terminate Ada, whose shift scheduled then is released.
    let read = app.get(&format!("/v1/employees/{ada_id}"), &admin).await.expect(200);
    let tag = read.headers["etag"].to_str().unwrap().to_owned();
    let change = json!({"job_title": "Lead Guard", "hr": {"title": "Lead"}});
    let path = format!("/v1/employees/{ada_id}");
    app.call_with(reqwest::Method::PATCH, &path, Some(&admin), Some(change), &[("if-match", &tag)]).await.expect(200);
    let gone_id = gone["id"].as_str().unwrap();
    app.post(&format!("/v1/employees/{gone_id}/reactivate"), &admin, json!({"reason": "back"})).await.expect(200);
    app.login("gone", "paper-boat-river-31").await;
    let ended = app.post(&format!("/v1/employees/{ada_id}/terminate"), &admin, json!({"reason": "moved on"})).await;
    assert_eq!(ended.expect(200).body["released_shifts"].as_array().unwrap().len(), 1, "the landed version's shift");
}
