//! The notification pipeline end to end: the write puts an outbox item in its own transaction,
//! delivery reads it back and sends through the real senders (mailbox files on SQLite, SES and
//! SNS on moto with DynamoDB), and what arrives is checked by recipient and content.

use chrono::Duration;
use guardpost_shared::domain::OrgSlug;
use guardpost_shared::notify::deliver::{NotifySettings, Outcome, STALE_CLAIM_SECS, deliver};
use guardpost_shared::notify::{OutboxItem, outbox_pk};
use guardpost_shared::store::Query;
use guardpost_tests::faults::Fault;
use guardpost_tests::{Backend, TestApp, on_both_stores, token_in, unique};
use reqwest::Method;
use serde_json::{Value, json};

on_both_stores!(
    a_new_employee_receives_a_working_single_use_set_password_link,
    forgot_password_answers_alike_and_mails_a_reset_link_that_ends_sessions,
    set_password_links_expire,
    an_unplanned_clock_in_alerts_the_site_managers_by_sms_or_email,
    notification_preferences_choose_how_an_alert_arrives,
    sms_are_capped_per_number_and_the_excess_is_listed_as_failed,
    a_replayed_stream_batch_sends_nothing_twice,
    an_email_whose_sent_record_failed_once_is_sent_once,
    a_message_whose_deliveries_keep_stopping_is_given_up_with_the_reason,
    the_sweep_reaches_every_organisation_oldest_first_a_deadline_at_a_time,
    an_alert_interrupted_halfway_tells_the_same_managers_each_once,
);

async fn create(app: &TestApp, token: &str, body: Value) -> String {
    app.post("/v1/employees", token, body).await.expect(201).id()
}

async fn a_new_employee_receives_a_working_single_use_set_password_link(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let email = format!("{}@acme.example", unique("ada"));
    create(&app, &admin, json!({"employee_number": "W-1", "first_name": "Ada", "last_name": "New", "email": email}))
        .await;
    assert!(app.emails_to(&email).await.is_empty(), "nothing is sent inside the request");
    app.deliver_outbox().await;

    let mail = app.emails_to(&email).await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(mail[0].subject.contains("set your password"), "{}", mail[0].subject);
    assert!(mail[0].text.contains("https://portal.acme.example/set-password?token=acme."), "{}", mail[0].text);
    assert!(mail[0].text.contains("Hello Ada"));
    let token = token_in(&mail[0].text);
    assert!(token.len() >= 5 + 43, "a 256-bit secret after the org");

    // The stored outbox item holds no token: only the user it is for.
    let org = OrgSlug::parse("acme").unwrap();
    let outbox = app.state.store.query(&Query::table(outbox_pk(&org))).await.unwrap();
    assert!(outbox.items.iter().all(|i| !i.data.text().unwrap().contains(&token[5..])));

    let set = |password: &str| json!({"token": token, "password": password});
    app.call(Method::POST, "/v1/auth/set-password", None, Some(set("short"))).await.expect(422);
    app.call(Method::POST, "/v1/auth/set-password", None, Some(set("a-fine-new-passphrase-1"))).await.expect(204);
    app.login(&email, "a-fine-new-passphrase-1").await;
    let again =
        app.call(Method::POST, "/v1/auth/set-password", None, Some(set("another-passphrase-22"))).await.expect(401);
    assert_eq!(again.problem_type(), "unauthenticated");
    app.call(
        Method::POST,
        "/v1/auth/set-password",
        None,
        Some(json!({"token": "acme.forged", "password": "x-passphrase-123"})),
    )
    .await
    .expect(401);
    // Delivering again sends nothing more.
    app.deliver_outbox().await;
    assert_eq!(app.emails_to(&email).await.len(), 1);
}

async fn forgot_password_answers_alike_and_mails_a_reset_link_that_ends_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let email = format!("{}@acme.example", unique("bo"));
    let body = json!({"employee_number": "R-1", "first_name": "Bo", "last_name": "Reset", "email": email, "password": "original-passphrase-1", "force_change": false});
    create(&app, &admin, body).await;
    app.deliver_outbox().await;
    let session = app.login(&email, "original-passphrase-1").await;

    let known = app
        .call(Method::POST, "/v1/auth/forgot-password", None, Some(json!({"org": "acme", "login": email})))
        .await
        .expect(202);
    let unknown = app
        .call(
            Method::POST,
            "/v1/auth/forgot-password",
            None,
            Some(json!({"org": "acme", "login": "nobody@acme.example"})),
        )
        .await
        .expect(202);
    let no_org = app
        .call(Method::POST, "/v1/auth/forgot-password", None, Some(json!({"org": "nope", "login": email})))
        .await
        .expect(202);
    assert_eq!((known.body.clone(), known.body), (unknown.body, no_org.body));
    app.deliver_outbox().await;
    let mail = app.emails_to(&email).await;
    let reset: Vec<_> = mail.iter().filter(|m| m.subject.contains("Reset")).collect();
    assert_eq!(reset.len(), 1, "{mail:?}");
    assert!(app.emails_to("nobody@acme.example").await.is_empty());

    let token = token_in(&reset[0].text);
    app.advance(Duration::seconds(1));
    app.call(
        Method::POST,
        "/v1/auth/set-password",
        None,
        Some(json!({"token": token, "password": "replacement-passphrase-2"})),
    )
    .await
    .expect(204);
    app.get("/v1/me", &session.access_token).await.expect(401);
    app.login_as("acme", &email, "original-passphrase-1").await.expect(401);
    app.login(&email, "replacement-passphrase-2").await;
}

async fn set_password_links_expire(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let email = format!("{}@acme.example", unique("cy"));
    create(&app, &admin, json!({"employee_number": "X-1", "first_name": "Cy", "last_name": "Late", "email": email}))
        .await;
    app.deliver_outbox().await;
    let token = token_in(&app.emails_to(&email).await[0].text);
    app.advance(Duration::hours(72) + Duration::minutes(1));
    app.call(
        Method::POST,
        "/v1/auth/set-password",
        None,
        Some(json!({"token": token, "password": "too-late-passphrase-3"})),
    )
    .await
    .expect(401);
}

struct Site {
    app: TestApp,
    admin: String,
    site: String,
    site_name: String,
}

/// A site with a guard and two managers: one with an SMS phone, one with only an email.
async fn staffed_site(backend: Backend, sms_number: &str) -> (Site, String, String) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let region = app.create_region(&admin, "North").await;
    let site_name = unique("Depot ");
    let site =
        app.create_site(&admin, json!({"name": site_name, "region_id": region, "time_zone": "America/Toronto"})).await;
    let guard = app.create_employee(&admin, "G-1", "guard1", "correct-horse-battery-7").await;
    let texting = create(&app, &admin, json!({"employee_number": "M-1", "first_name": "Mia", "last_name": "Manager", "role_id": "manager", "username": "mia",
        "main_phone": {"number": sms_number, "sms_enabled": true}})).await;
    let manager_email = format!("{}@acme.example", unique("max"));
    let emailing = create(
        &app,
        &admin,
        json!({"employee_number": "M-2", "first_name": "Max", "last_name": "Super", "role_id": "supervisor",
        "email": manager_email, "main_phone": {"number": "+14165550100", "sms_enabled": false}}),
    )
    .await;
    for user in [&guard, &texting, &emailing] {
        app.assign(&admin, &site, user).await.expect(204);
    }
    app.deliver_outbox().await;
    (Site { app, admin, site, site_name }, manager_email, "guard1".into())
}

async fn an_unplanned_clock_in_alerts_the_site_managers_by_sms_or_email(backend: Backend) {
    let number = "+14165550142";
    let (s, manager_email, _) = staffed_site(backend, number).await;
    let before = s.app.sms_to(number).await.len();
    let guard = s.app.login("guard1", "correct-horse-battery-7").await.access_token;
    s.app.clock(&guard, &s.site, "clock-in").await.expect(201);
    s.app.deliver_outbox().await;

    let texts = s.app.sms_to(number).await;
    assert_eq!(texts.len(), before + 1, "{texts:?}");
    let text = texts.last().unwrap();
    assert!(
        text.contains("Test guard1 clocked in at") && text.contains(&s.site_name) && text.contains("unplanned"),
        "{text}"
    );
    let mails: Vec<_> =
        s.app.emails_to(&manager_email).await.into_iter().filter(|m| m.subject.starts_with("Unplanned")).collect();
    assert_eq!(mails.len(), 1, "the supervisor without an SMS phone gets an email");
    assert!(mails[0].subject.contains(&s.site_name));
    assert!(
        s.app.emails_to("guard1@acme.example").await.iter().all(|m| !m.subject.contains("Unplanned")),
        "not the guard"
    );
}

async fn sms_are_capped_per_number_and_the_excess_is_listed_as_failed(backend: Backend) {
    let number = "+14165550177".to_owned();
    let (s, _, _) = staffed_site(backend, &number).await;
    // moto keeps what earlier runs sent: count from here.
    let before = s.app.sms_to(&number).await.len();
    let guard = s.app.login("guard1", "correct-horse-battery-7").await.access_token;
    for _ in 0..4 {
        s.app.clock(&guard, &s.site, "clock-in").await.expect(201);
        s.app.clock(&guard, &s.site, "clock-out").await.expect(200);
    }
    s.app.deliver_outbox().await;
    assert_eq!(s.app.sms_to(&number).await.len() - before, 3, "3 SMS per number per hour");
    let failed = s.app.get("/v1/notifications?status=failed", &s.admin).await.expect(200).body;
    let items = failed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{failed}");
    assert!(items[0]["last_error"].as_str().unwrap().contains("SMS limit"), "{failed}");
    let sent = s.app.get("/v1/notifications?status=sent&limit=200", &s.admin).await.expect(200).body;
    assert!(sent["items"].as_array().unwrap().len() >= 3);
    s.app.get("/v1/notifications?status=lost", &s.admin).await.expect(400);
    // An hour later the number may receive again.
    s.app.advance(Duration::minutes(61));
    let guard = s.app.login("guard1", "correct-horse-battery-7").await.access_token;
    s.app.clock(&guard, &s.site, "clock-in").await.expect(201);
    s.app.deliver_outbox().await;
    assert_eq!(s.app.sms_to(&number).await.len() - before, 4);
}

async fn a_replayed_stream_batch_sends_nothing_twice(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let email = format!("{}@acme.example", unique("di"));
    create(&app, &admin, json!({"employee_number": "S-1", "first_name": "Di", "last_name": "Stream", "email": email}))
        .await;
    let org = OrgSlug::parse("acme").unwrap();
    let outbox = app.state.store.query(&Query::table(outbox_pk(&org))).await.unwrap();
    let item: OutboxItem = outbox.items[0].parse().unwrap();

    let sample = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../events/notifier.json")).unwrap();
    let event: Value = serde_json::from_str(
        &sample.replace("REPLACE_WITH_OUTBOX_PK", &outbox_pk(&org)).replace("REPLACE_WITH_OUTBOX_SK", &item.id),
    )
    .unwrap();
    let first = guardpost::notifier::handle_batch(&app.notifier, event.clone(), None).await.unwrap();
    let replay = guardpost::notifier::handle_batch(&app.notifier, event, None).await.unwrap();
    assert_eq!(first, json!({"batchItemFailures": []}));
    assert_eq!(replay, json!({"batchItemFailures": []}));
    assert_eq!(app.emails_to(&email).await.len(), 1, "sent once");
    assert_eq!(deliver(&app.notifier, &org, &item.id).await.unwrap(), Outcome::Skipped);
}

/// A server on SQLite whose notifier sends email through SES at an address where nothing
/// listens (every send fails for now, at once), and the outbox id of a new employee's welcome.
async fn welcome_with_ses_unreachable() -> (TestApp, guardpost_shared::notify::deliver::Notifier, OrgSlug, String) {
    use aws_sdk_sesv2::config::retry::RetryConfig;
    use guardpost_shared::notify::aws::SesMailer;

    let app = TestApp::spawn(Backend::Sqlite).await;
    let (ses, _) = guardpost_tests::aws_senders("http://127.0.0.1:9").await;
    let ses = aws_sdk_sesv2::Client::from_conf(ses.config().to_builder().retry_config(RetryConfig::disabled()).build());
    let mut notifier = app.notifier.clone();
    notifier.mailer = std::sync::Arc::new(SesMailer::new(ses, guardpost_tests::SENDER, None));
    let admin = app.admin().await.access_token;
    create(
        &app,
        &admin,
        json!({"employee_number": "F-1", "first_name": "Fay", "last_name": "Fail", "email": "fay@acme.example"}),
    )
    .await;
    let org = OrgSlug::parse("acme").unwrap();
    let id = app.state.store.query(&Query::table(outbox_pk(&org))).await.unwrap().items[0].key.sk.clone();
    (app, notifier, org, id)
}

/// SES unreachable (nothing listens on the port): each attempt fails for now and the next is
/// due after a doubling wait, capped at 15 minutes, for the six hours an account email is worth
/// trying; then the item is kept as failed, listed, and an administrator may send it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_failures_are_retried_with_backoff_for_the_messages_window_then_kept_as_failed() {
    use guardpost_shared::notify::Status;

    let (app, notifier, org, id) = welcome_with_ses_unreachable().await;
    let queued = app.now();

    let mut waits = Vec::new();
    for attempt in 1..=100 {
        let outcome = deliver(&notifier, &org, &id).await.unwrap();
        let item: OutboxItem = app
            .state
            .store
            .get(&guardpost_shared::notify::outbox_key(&org, &id))
            .await
            .unwrap()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(item.attempts, attempt);
        match outcome {
            Outcome::Retrying(at) => {
                assert_eq!(item.status, Status::Pending);
                assert_eq!(deliver(&notifier, &org, &id).await.unwrap(), Outcome::Skipped, "not due yet");
                let wait = at - item.claimed_at.unwrap();
                waits.push(wait.num_seconds());
                app.advance(wait);
            }
            Outcome::Failed => {
                assert_eq!(item.status, Status::Failed);
                assert!(item.last_error.as_deref().unwrap().starts_with("gave up after"), "{item:?}");
                break;
            }
            other => panic!("attempt {attempt}: {other:?}"),
        }
    }
    assert_eq!(waits[..10], [2, 4, 8, 16, 32, 64, 128, 256, 512, 900], "doubling, then capped");
    assert!(waits[10..].iter().all(|w| *w == 900), "{waits:?}");
    let tried_for = app.now() - queued;
    assert!(tried_for <= Duration::hours(6) && tried_for > Duration::hours(5), "tried for {tried_for}");
    let admin = app.admin().await.access_token;
    let failed = app.get("/v1/notifications?status=failed", &admin).await.expect(200).body;
    assert_eq!(failed["items"][0]["id"], id.as_str());
    let error = failed["items"][0]["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("dispatch failure") || error.contains("connect"), "the transport error is kept: {error}");
}

async fn notification_preferences_choose_how_an_alert_arrives(backend: Backend) {
    let number = "+14165550166";
    let (s, manager_email, _) = staffed_site(backend, number).await;
    let staff = s.app.get("/v1/employees", &s.admin).await.expect(200).body;
    let id_of = |field: &str, value: &str| {
        staff["items"].as_array().unwrap().iter().find(|e| e[field] == value).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (mia, max) = (id_of("username", "mia"), id_of("email", &manager_email));
    let guard = s.app.login("guard1", "correct-horse-battery-7").await.access_token;

    // The defaults, as the guard sees their own; account emails cannot be switched off.
    let mine = s.app.get("/v1/me/notification-preferences", &guard).await.expect(200).body;
    assert_eq!(mine["exception"], json!({"email": true, "sms": true}));
    assert_eq!(mine["account"]["email"], true);
    let off = json!({"account": {"email": false, "sms": false}});
    s.app.put("/v1/me/notification-preferences", &guard, off).await.expect(422);
    // Only a manager in scope sets someone else's.
    let quiet = json!({"exception": {"email": false, "sms": false}});
    s.app.put(&format!("/v1/users/{mia}/notification-preferences"), &guard, quiet.clone()).await.expect(403);

    // Mia wants alerts by email only (she has no email: she hears nothing); Max wants none.
    let email_only = json!({"exception": {"email": true, "sms": false}});
    let set = s.app.put(&format!("/v1/users/{mia}/notification-preferences"), &s.admin, email_only).await.expect(200);
    assert_eq!(set.body["exception"], json!({"email": true, "sms": false}));
    assert_eq!(set.body["broadcast"], json!({"email": true, "sms": false}), "topics left out keep their setting");
    s.app.put(&format!("/v1/users/{max}/notification-preferences"), &s.admin, quiet).await.expect(200);
    let read = s.app.get(&format!("/v1/users/{max}/notification-preferences"), &s.admin).await.expect(200).body;
    assert_eq!(read["exception"], json!({"email": false, "sms": false}));

    let (sms_before, mail_before) = (s.app.sms_to(number).await.len(), s.app.emails_to(&manager_email).await.len());
    s.app.clock(&guard, &s.site, "clock-in").await.expect(201);
    s.app.deliver_outbox().await;
    assert_eq!(s.app.sms_to(number).await.len(), sms_before, "Mia switched SMS alerts off");
    assert_eq!(s.app.emails_to(&manager_email).await.len(), mail_before, "Max switched every alert off");

    // Max turns email back on: the next alert reaches him by email.
    let back = json!({"exception": {"email": true, "sms": true}});
    s.app.put(&format!("/v1/users/{max}/notification-preferences"), &s.admin, back).await.expect(200);
    s.app.clock(&guard, &s.site, "clock-out").await.expect(200);
    s.app.clock(&guard, &s.site, "clock-in").await.expect(201);
    s.app.deliver_outbox().await;
    assert_eq!(s.app.emails_to(&manager_email).await.len(), mail_before + 1, "his number does not take SMS: email");
}

/// The write that records a delivered message as `sent`.
fn recording_sent(item: &guardpost_shared::store::Item) -> bool {
    item.kind == guardpost_shared::notify::KIND && item.data.value().is_ok_and(|data| data["status"] == "sent")
}

async fn an_email_whose_sent_record_failed_once_is_sent_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let email = format!("{}@acme.example", unique("once"));
    // SES (or the mailbox) takes the email; writing down that it was sent fails once.
    app.faults.arm_where(Fault::BeforeCommit, 1, recording_sent);
    create(&app, &admin, json!({"employee_number": "O-1", "first_name": "Ona", "last_name": "Once", "email": email}))
        .await;
    app.deliver_outbox().await;
    assert!(!app.faults.is_armed(), "the fault struck");
    assert_eq!(app.emails_to(&email).await.len(), 1);
    // Long after the claim would have gone stale, sweeps find nothing to send again.
    app.advance(Duration::seconds(STALE_CLAIM_SECS + 60));
    app.deliver_outbox().await;
    assert_eq!(app.emails_to(&email).await.len(), 1, "sent once");
    let admin = app.admin().await.access_token;
    let sent = app.get("/v1/notifications?status=sent&limit=200", &admin).await.expect(200).body;
    assert!(sent["items"].as_array().unwrap().iter().any(|i| i["message"]["type"] == "welcome"), "{sent}");
}

async fn a_message_whose_deliveries_keep_stopping_is_given_up_with_the_reason(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let email = format!("{}@acme.example", unique("stops"));
    // Every delivery stops after the send, before its outcome is written (as a deliverer that
    // is killed each time would).
    app.faults.arm_where(Fault::BeforeCommit, usize::MAX, recording_sent);
    create(&app, &admin, json!({"employee_number": "K-1", "first_name": "Kit", "last_name": "Killed", "email": email}))
        .await;
    let max_stale = NotifySettings::default().max_stale_claims;
    for _ in 0..max_stale + 5 {
        app.deliver_outbox().await;
        app.advance(Duration::seconds(STALE_CLAIM_SECS + 1));
    }
    app.faults.disarm();
    let sends = app.emails_to(&email).await.len();
    assert_eq!(sends, usize::try_from(max_stale).unwrap(), "bounded: one send per claim before giving up");
    let admin = app.admin().await.access_token;
    let failed = app.get("/v1/notifications?status=failed", &admin).await.expect(200).body;
    let items = failed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{failed}");
    assert!(
        items[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("given up after 3 deliveries stopped before their outcome was recorded"),
        "{failed}"
    );
}

/// 40 organisations with 3 due emails each, the oldest in the organisations swept last by
/// name: sweeps cut short by a deadline reach the oldest messages first, whichever
/// organisation holds them, and together deliver every one.
async fn the_sweep_reaches_every_organisation_oldest_first_a_deadline_at_a_time(backend: Backend) {
    use guardpost_shared::notify::dispatcher::run_once;
    use guardpost_shared::notify::{Message, Status, enqueue};
    let app = TestApp::spawn(backend).await;
    let now = app.now();
    let orgs: Vec<OrgSlug> = (0..40).map(|i| OrgSlug::parse(&format!("sweep-{i:03}")).unwrap()).collect();
    for (i, org) in orgs.iter().enumerate() {
        // sweep-039's are the oldest: due 40 minutes ago; sweep-000's 1 minute ago.
        let due = now - Duration::minutes(i64::try_from(i).unwrap() + 1);
        let ops = (0..3)
            .map(|j| {
                let to = format!("ops{j}@{org}.example");
                let message = Message::Email { to, subject: "Sweep".into(), text: "hello".into() };
                enqueue(org, format!("{}-{j}", ulid::Ulid::new()), message, due).unwrap()
            })
            .collect();
        app.state.store.transact(ops).await.unwrap();
    }
    let statuses = |org: OrgSlug| {
        let store = app.state.store.clone();
        async move {
            let items = store.query(&Query::table(outbox_pk(&org))).await.unwrap().items;
            items.iter().map(|i| i.parse::<OutboxItem>().unwrap().status).collect::<Vec<_>>()
        }
    };
    let first = run_once(&app.notifier, Some(std::time::Instant::now() + std::time::Duration::from_secs(1))).await;
    assert!(first.unwrap() > 0);
    let oldest = statuses(orgs[39].clone()).await;
    assert!(oldest.contains(&Status::Sent), "the oldest messages went first: {oldest:?}");
    let mut runs = 1;
    while run_once(&app.notifier, Some(std::time::Instant::now() + std::time::Duration::from_secs(1))).await.unwrap()
        > 0
    {
        runs += 1;
        assert!(runs < 1000, "the sweeps end");
    }
    for org in &orgs {
        assert_eq!(statuses(org.clone()).await, vec![Status::Sent; 3], "{org} after {runs} sweeps");
    }
}

/// SES unreachable: the stream's record of a new message gets one attempt, which fails for
/// now; the record is reported handled (the message waits in the outbox for the sweep), so it
/// does not hold up the shard or go back to the stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_record_waiting_for_its_retry_is_handled_not_handed_back() {
    use guardpost_shared::notify::Status;

    let (app, notifier, org, id) = welcome_with_ses_unreachable().await;
    let sample = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../events/notifier.json")).unwrap();
    let event: Value = serde_json::from_str(
        &sample.replace("REPLACE_WITH_OUTBOX_PK", &outbox_pk(&org)).replace("REPLACE_WITH_OUTBOX_SK", &id),
    )
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let answer = guardpost::notifier::handle_batch(&notifier, event, Some(deadline)).await.unwrap();
    assert_eq!(answer, json!({"batchItemFailures": []}));
    let item: OutboxItem =
        app.state.store.get(&guardpost_shared::notify::outbox_key(&org, &id)).await.unwrap().unwrap().parse().unwrap();
    assert_eq!((item.status, item.attempts), (Status::Pending, 1), "one attempt, then waiting for the sweep");
}

/// An alert to the site's managers stops halfway: the SMS manager's message is queued, the
/// email manager's is not. A third manager joins the site before the next attempt, which tells
/// the managers of the first attempt, each once: who is told was decided once, by name.
async fn an_alert_interrupted_halfway_tells_the_same_managers_each_once(backend: Backend) {
    let number = "+14165550163";
    let (s, manager_email, _) = staffed_site(backend, number).await;
    let texts_before = s.app.sms_to(number).await.len();
    s.app.faults.arm_where(Fault::BeforeCommit, 1, |item| {
        item.kind == guardpost_shared::notify::KIND && item.key.sk.ends_with("-email") && item.version == 1
    });
    let guard = s.app.login("guard1", "correct-horse-battery-7").await.access_token;
    s.app.clock(&guard, &s.site, "clock-in").await.expect(201);
    s.app.deliver_outbox().await;
    assert!(!s.app.faults.is_armed(), "the fan-out stopped halfway");
    let newcomer_email = format!("{}@acme.example", unique("nora"));
    let newcomer = create(
        &s.app,
        &s.admin,
        json!({"employee_number": "M-3", "first_name": "Nora", "last_name": "New",
        "role_id": "manager", "email": newcomer_email}),
    )
    .await;
    s.app.assign(&s.admin, &s.site, &newcomer).await.expect(204);
    s.app.advance(Duration::seconds(10));
    s.app.deliver_outbox().await;

    assert_eq!(s.app.sms_to(number).await.len() - texts_before, 1, "the SMS manager, once");
    let alerts =
        |mails: Vec<guardpost_tests::Received>| mails.iter().filter(|m| m.subject.starts_with("Unplanned")).count();
    assert_eq!(alerts(s.app.emails_to(&manager_email).await), 1, "the email manager, once, on the next attempt");
    assert_eq!(alerts(s.app.emails_to(&newcomer_email).await), 0, "not who joined after the alert was resolved");
}

/// What no template can hold is set by `guardpost sms-settings` through SNS itself (moto here):
/// the spend limit, transactional delivery and delivery-status logging are what SNS reports
/// afterwards.
#[tokio::test]
async fn the_accounts_sms_settings_are_what_sns_reports_afterwards() {
    use guardpost::sms_settings::{SmsSettings, apply};
    let (_, sns) = guardpost_tests::aws_senders(&guardpost_tests::moto_endpoint()).await;
    let role = "arn:aws:iam::123456789012:role/guardpost-sms-status";
    let settings = SmsSettings {
        monthly_spend_limit_usd: 75,
        delivery_status_role: Some(role.into()),
        success_sampling_percent: 20,
    };
    let reported = apply(&sns, &settings).await.unwrap();
    let get = |name: &str| reported.get(name).map(String::as_str);
    assert_eq!(get("MonthlySpendLimit"), Some("75"));
    assert_eq!(get("DefaultSMSType"), Some("Transactional"));
    assert_eq!(get("DeliveryStatusIAMRole"), Some(role));
    assert_eq!(get("DeliveryStatusSuccessSamplingRate"), Some("20"));
}
