//! A soak of the outbox: thousands of messages delivered through the real senders (the mailbox
//! on SQLite, SES on moto with DynamoDB) while sends are refused, state writes fail and a
//! deliverer is killed in the middle of its batch. Every message must end `sent` (received
//! exactly once) or `failed` with its reason (received never).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::Duration;
use guardpost_shared::domain::OrgSlug;
use guardpost_shared::notify::deliver::{Notifier, NotifySettings, STALE_CLAIM_SECS};
use guardpost_shared::notify::dispatcher::{CONCURRENCY, run_once};
use guardpost_shared::notify::{KIND, Message, OutboxItem, Status, enqueue, outbox_pk};
use guardpost_shared::store::{MAX_TRANSACT_OPS, Query, read_all};
use guardpost_tests::faults::{Fault, FaultyMailer};
use guardpost_tests::{Backend, TestApp, on_both_stores, unique};

on_both_stores!(ten_thousand_messages_under_faults_each_end_sent_once_or_failed_with_a_reason);

/// The same senders and store as the app's notifier, sending through `mailer`.
fn notifier_with(app: &TestApp, mailer: Arc<FaultyMailer>) -> Notifier {
    let n = &app.notifier;
    Notifier {
        store: n.store.clone(),
        clock: n.clock.clone(),
        random: n.random.clone(),
        mailer,
        sms: n.sms.clone(),
        settings: n.settings.clone(),
    }
}

async fn ten_thousand_messages_under_faults_each_end_sent_once_or_failed_with_a_reason(backend: Backend) {
    // DynamoDB Local answers a call in milliseconds where SQLite answers in microseconds: the
    // DynamoDB run soaks a tenth as many messages, to keep the suite's time.
    let messages = match backend {
        Backend::Sqlite => 10_000,
        Backend::DynamoDb => 1_000,
    };
    let app = TestApp::spawn(backend).await;
    let tag = unique("soak");
    let orgs: Vec<OrgSlug> = (0..10).map(|i| OrgSlug::parse(&format!("soak-{i}")).unwrap()).collect();
    let address = |i: usize| format!("{tag}-{i}@{}.example", orgs[i % orgs.len()]);
    let now = app.now();
    let mut ops = Vec::new();
    for i in 0..messages {
        let message = Message::Email { to: address(i), subject: format!("Soak {i}"), text: "soak".into() };
        ops.push(enqueue(&orgs[i % orgs.len()], ulid::Ulid::new().to_string(), message, now).unwrap());
        if ops.len() == MAX_TRANSACT_OPS {
            app.state.store.transact(std::mem::take(&mut ops)).await.unwrap();
        }
    }

    // From now on 1% of the outbox's state writes (claims, outcomes) fail, before they are made.
    let state_writes = Arc::new(AtomicUsize::new(0));
    let counted = state_writes.clone();
    app.faults.arm_where(Fault::BeforeCommit, usize::MAX, move |item| {
        item.kind == KIND && counted.fetch_add(1, Ordering::SeqCst) % 100 == 99
    });

    // A deliverer is killed mid-batch: after a twentieth of the messages, its sends hang; once
    // every one of its deliveries hangs in a send, it is stopped. Its claims are left behind,
    // unsent.
    let hanging = Arc::new(FaultyMailer::new(app.notifier.mailer.clone(), usize::MAX, messages / 20));
    let killed = notifier_with(&app, hanging.clone());
    let sweep = tokio::spawn(async move { run_once(&killed, None).await });
    let waited = std::time::Instant::now();
    while hanging.hanging() < CONCURRENCY {
        assert!(waited.elapsed() < std::time::Duration::from_secs(120), "the deliverer's sends hang");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    sweep.abort();
    assert!(sweep.await.unwrap_err().is_cancelled());

    // Every tenth send is refused for now (a throttle); sweeps go on, time passing between them
    // past the longest backoff and the killed deliverer's claims.
    let between = Duration::seconds(NotifySettings::default().max_backoff_secs.max(STALE_CLAIM_SECS) + 1);
    let throttled = Arc::new(FaultyMailer::new(app.notifier.mailer.clone(), 10, usize::MAX));
    let sweeper = notifier_with(&app, throttled.clone());
    let mut sweeps = 0;
    while run_once(&sweeper, None).await.unwrap() > 0 {
        sweeps += 1;
        assert!(sweeps < 100, "the sweeps end");
        app.advance(between);
    }
    app.faults.disarm();
    assert!(throttled.calls() > messages / 2, "the sweeps sent most messages: {}", throttled.calls());
    assert_eq!(throttled.refused(), throttled.calls() / 10, "every tenth send was refused");
    assert!(state_writes.load(Ordering::SeqCst) >= 2 * messages, "state writes were counted");

    // Every message ended sent or failed with a reason; what was received matches exactly.
    let mut outcomes = Vec::new();
    for org in &orgs {
        for item in read_all(app.state.store.as_ref(), &Query::table(outbox_pk(org))).await.unwrap() {
            outcomes.push(item.parse::<OutboxItem>().unwrap());
        }
    }
    assert_eq!(outcomes.len(), messages);
    let mut received: HashMap<String, usize> = HashMap::new();
    for email in app.emails_sent().await.into_iter().filter(|e| e.to.starts_with(&tag)) {
        *received.entry(email.to).or_default() += 1;
    }
    let mut sent = 0;
    for out in &outcomes {
        let Message::Email { to, .. } = &out.message else { panic!("only emails were queued") };
        let times = received.get(to).copied().unwrap_or_default();
        match out.status {
            Status::Sent => {
                sent += 1;
                assert_eq!(times, 1, "{to} was sent {times} times");
            }
            Status::Failed => {
                assert_eq!(times, 0, "{to} failed but was received");
                assert!(out.last_error.as_deref().is_some_and(|e| !e.is_empty()), "{to} failed without a reason");
            }
            other => panic!("{to} ended {other:?}"),
        }
    }
    assert!(sent >= messages * 99 / 100, "{sent} of {messages} sent");
    assert_eq!(received.values().sum::<usize>(), sent, "nothing was received but the messages sent");
}
