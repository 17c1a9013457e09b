//! The test harness: a guardpost server on a free loopback port, on SQLite (a temp file) or on
//! DynamoDB (a fresh table on the moto server the test script starts), with one organisation
//! bootstrapped, and typed helpers so tests read as stories.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::missing_panics_doc)]

pub mod faults;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{Duration, Utc};
use guardpost::bootstrap::{NewOrganisation, bootstrap};
use guardpost_shared::auth::TokenKeys;
use guardpost_shared::clock::{ManualClock, OsRandom};
use guardpost_shared::files::local::LocalFiles;
use guardpost_shared::notify::aws::{SesMailer, SnsSms};
use guardpost_shared::notify::deliver::{Notifier, NotifySettings};
use guardpost_shared::notify::mailbox::{LocalMailbox, MailboxSms};
use guardpost_shared::notify::{Mailer, SmsSender};
use guardpost_shared::store::Store;
use guardpost_shared::store::sqlite::SqliteStore;
use guardpost_shared::{AppState, Settings};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    /// Amazon's DynamoDB Local, the reference implementation. The end-to-end stories run on it
    /// rather than on moto because moto's transactions are not isolated from each other: a
    /// failing transaction restores a copy of every table taken before it began, undoing
    /// concurrent writes (seen as duplicate employees under concurrent creates). moto still runs
    /// the store conformance suite and, later, the SES and SNS checks.
    DynamoDb,
}

pub const ADMIN_PASSWORD: &str = "tower-lantern-harbour-42";

pub struct TestApp {
    pub backend: Backend,
    /// Delivers the outbox: to a mailbox folder on SQLite, to SES and SNS on moto with DynamoDB.
    pub notifier: Notifier,
    pub base: String,
    pub http: reqwest::Client,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    /// The server's store: the real one, with a fault a test may arm (`faults.arm(..)`).
    pub faults: Arc<faults::FaultyStore>,
    pub org: String,
    pub admin_email: String,
    _dir: tempfile::TempDir,
}

/// A logged-in caller.
#[derive(Clone, Debug)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
}

/// An answer: status and JSON body (Null when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    pub fn problem_type(&self) -> &str {
        self.body["type"].as_str().unwrap_or_default().trim_start_matches("https://guardpost.dev/problems/")
    }
    pub fn id(&self) -> String {
        self.body["id"].as_str().unwrap_or_else(|| panic!("no id in {:?}: {}", self.status, self.body)).to_owned()
    }
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "unexpected answer: {}", self.body);
        self
    }
}

static TABLES: AtomicU64 = AtomicU64::new(0);

/// The moto endpoint the test script exported; its absence is a failure, not a skip.
pub fn moto_endpoint() -> String {
    std::env::var("GUARDPOST_TEST_MOTO_ENDPOINT")
        .expect("GUARDPOST_TEST_MOTO_ENDPOINT is not set: run the suite with tests/run-all.sh, which starts moto")
}

/// The DynamoDB Local endpoint the test script exported; its absence is a failure, not a skip.
pub fn dynamodb_local_endpoint() -> String {
    std::env::var("GUARDPOST_TEST_DDBLOCAL_ENDPOINT").expect(
        "GUARDPOST_TEST_DDBLOCAL_ENDPOINT is not set: run the suite with tests/run-all.sh, which starts DynamoDB Local",
    )
}

pub async fn dynamo_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

pub async fn store_for(backend: Backend, dir: &std::path::Path, clock: Arc<ManualClock>) -> Arc<dyn Store> {
    match backend {
        Backend::Sqlite => Arc::new(SqliteStore::open(&dir.join("guardpost.db"), clock).expect("open sqlite")),
        Backend::DynamoDb => {
            let client = dynamo_client(&dynamodb_local_endpoint()).await;
            let n = TABLES.fetch_add(1, Ordering::SeqCst);
            let table =
                format!("guardpost-e2e-{}-{n}-{}", std::process::id(), ulid::Ulid::new().to_string().to_lowercase());
            guardpost_shared::store::dynamo::create_table(&client, &table).await.expect("create table on moto");
            Arc::new(guardpost_shared::store::dynamo::DynamoStore::new(client, table, clock))
        }
    }
}

impl TestApp {
    /// A server with organisation `acme` and its superuser administrator. Every request of a test
    /// comes from one address, so the per-address login limit is raised out of the stories' way
    /// (the security stories test it with the defaults, through `spawn_with`).
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, Settings { address_attempts_burst: 100_000, ..Settings::default() }).await
    }

    pub async fn spawn_with(backend: Backend, settings: Settings) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let faults = Arc::new(faults::FaultyStore::new(store_for(backend, dir.path(), clock.clone()).await));
        let store: Arc<dyn Store> = faults.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let files = files_for(backend, dir.path(), &base, clock.clone()).await;
        let state = AppState {
            store,
            clock: clock.clone(),
            random: Arc::new(OsRandom),
            tokens: Arc::new(TokenKeys::from_secret(b"an-e2e-test-signing-key-of-32-bytes-or-more").expect("key")),
            settings: Arc::new(settings),
            usage: Default::default(),
            files,
            hashing: Default::default(),
        };
        let notifier = notifier_for(backend, &state, dir.path()).await;
        let app = Self::serve(listener, state.clone()).await;
        let mut app = Self {
            backend,
            notifier,
            base: app,
            http: reqwest::Client::new(),
            state,
            clock,
            faults,
            org: "acme".into(),
            admin_email: "chief@acme.example".into(),
            _dir: dir,
        };
        app.add_org("acme", "chief@acme.example").await;
        app.org = "acme".into();
        app
    }

    async fn serve(listener: tokio::net::TcpListener, state: AppState) -> String {
        let addr = listener.local_addr().expect("addr");
        let app = guardpost::app::local_app(state).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        format!("http://{addr}")
    }

    /// Another organisation on the same server and store.
    pub async fn add_org(&self, slug: &str, admin_email: &str) {
        let request = NewOrganisation {
            slug: slug.into(),
            name: format!("{slug} security"),
            admin_email: admin_email.into(),
            admin_password: ADMIN_PASSWORD.to_owned().into(),
        };
        bootstrap(&self.state, request).await.expect("bootstrap");
    }

    /// Another organisation, `globex`, and its superuser administrator's access token.
    pub async fn other_org_admin(&self) -> String {
        self.add_org("globex", "boss@globex.example").await;
        let globex = self.login_as("globex", "boss@globex.example", ADMIN_PASSWORD).await.expect(200);
        globex.body["access_token"].as_str().expect("access token").to_owned()
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        self.call_with(method, path, token, body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(b) = body {
            request = request.json(&b);
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Answer { status, body, headers }
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(token), Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Answer {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// The token of the newest emailed link to `to` (after delivering the outbox).
    pub async fn newest_link_to(&self, to: &str) -> String {
        self.deliver_outbox().await;
        let mail = self.emails_to(to).await;
        let last = mail.last().unwrap_or_else(|| panic!("no email to {to}"));
        token_in(&last.text)
    }

    pub async fn login_as(&self, org: &str, login: &str, password: &str) -> Answer {
        self.call(Method::POST, "/v1/auth/login", None, Some(json!({"org": org, "login": login, "password": password})))
            .await
    }

    pub async fn login(&self, login: &str, password: &str) -> Session {
        let answer = self.login_as(&self.org, login, password).await.expect(200);
        Session {
            access_token: answer.body["access_token"].as_str().expect("access token").to_owned(),
            refresh_token: answer.body["refresh_token"].as_str().expect("refresh token").to_owned(),
        }
    }

    pub async fn admin(&self) -> Session {
        self.login(&self.admin_email.clone(), ADMIN_PASSWORD).await
    }

    pub async fn create_region(&self, token: &str, name: &str) -> String {
        self.post("/v1/regions", token, json!({"name": name})).await.expect(201).id()
    }

    pub async fn create_site(&self, token: &str, body: Value) -> String {
        self.post("/v1/sites", token, body).await.expect(201).id()
    }

    /// An employee who can log in with `username` / `password`.
    pub async fn create_employee(&self, token: &str, number: &str, username: &str, password: &str) -> String {
        let body = json!({
            "employee_number": number, "first_name": "Test", "last_name": username,
            "username": username, "email": format!("{username}@acme.example"), "password": password,
            // The administrator lets the test's people keep the password set for them.
            "force_change": false,
        });
        self.post("/v1/employees", token, body).await.expect(201).id()
    }

    pub fn now(&self) -> chrono::DateTime<Utc> {
        use guardpost_shared::clock::Clock;
        self.clock.now()
    }

    /// A shift for `employee` at `site` starting `starts_in` from now and lasting `hours`.
    pub async fn schedule(&self, token: &str, site: &str, employee: &str, starts_in: Duration, hours: i64) -> Answer {
        let start = self.now() + starts_in;
        let body = json!({"employee_id": employee, "start": start, "end": start + Duration::hours(hours)});
        self.post(&format!("/v1/sites/{site}/shifts"), token, body).await
    }

    pub async fn clock(&self, token: &str, site: &str, action: &str) -> Answer {
        self.call(Method::POST, &format!("/v1/sites/{site}/{action}"), Some(token), None).await
    }

    pub async fn assign(&self, token: &str, site: &str, employee: &str) -> Answer {
        self.call(Method::PUT, &format!("/v1/sites/{site}/employees/{employee}"), Some(token), None).await
    }
}

pub const SENDER: &str = "guardpost@guardpost.test";

/// Where users' files go: the data directory, served by the test server, on SQLite; a fresh
/// bucket on moto's S3 with DynamoDB.
pub async fn files_for(
    backend: Backend,
    dir: &std::path::Path,
    base: &str,
    clock: Arc<ManualClock>,
) -> Arc<dyn guardpost_shared::files::FileStore> {
    match backend {
        Backend::Sqlite => {
            Arc::new(LocalFiles::new(dir.join("files"), base, b"a-test-key-for-file-tickets-32-bytes".to_vec(), clock))
        }
        Backend::DynamoDb => {
            let client = s3_client(&moto_endpoint());
            let bucket = format!("guardpost-files-{}", ulid::Ulid::new().to_string().to_lowercase());
            client.create_bucket().bucket(&bucket).send().await.expect("create a bucket on moto");
            Arc::new(guardpost_shared::files::s3::S3Files::new(client, bucket))
        }
    }
}

pub fn s3_client(endpoint: &str) -> aws_sdk_s3::Client {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// A name no other test uses (moto's sent mail is shared by every test of a run).
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{}", ulid::Ulid::new().to_string().to_lowercase())
}

/// The token in an emailed link.
pub fn token_in(text: &str) -> String {
    let start = text.find("token=").expect("a link with a token") + "token=".len();
    text[start..].split_whitespace().next().expect("a token").to_owned()
}

/// The senders of a backend: files on SQLite; SES v2 and SNS on moto (with the sender identity
/// verified) on DynamoDB.
pub async fn notifier_for(backend: Backend, state: &AppState, dir: &std::path::Path) -> Notifier {
    let (mailer, sms): (Arc<dyn Mailer>, Arc<dyn SmsSender>) = match backend {
        Backend::Sqlite => {
            let mailbox = LocalMailbox::new(dir.join("mailbox"), SENDER);
            (Arc::new(mailbox.clone()), Arc::new(MailboxSms(mailbox)))
        }
        Backend::DynamoDb => {
            let (ses, sns) = aws_senders(&moto_endpoint()).await;
            ses.create_email_identity().email_identity(SENDER).send().await.expect("verify the sender on moto");
            (Arc::new(SesMailer::new(ses, SENDER, None)), Arc::new(SnsSms::new(sns)))
        }
    };
    Notifier {
        store: state.store.clone(),
        clock: state.clock.clone(),
        random: state.random.clone(),
        mailer,
        sms,
        settings: NotifySettings { public_url: "https://portal.acme.example".into(), ..NotifySettings::default() },
    }
}

pub async fn aws_senders(endpoint: &str) -> (aws_sdk_sesv2::Client, aws_sdk_sns::Client) {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let creds = Credentials::new("testing", "testing", None, None, "tests");
    let ses = aws_sdk_sesv2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(creds.clone())
        .build();
    let sns = aws_sdk_sns::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(creds)
        .build();
    (aws_sdk_sesv2::Client::from_conf(ses), aws_sdk_sns::Client::from_conf(sns))
}

/// An email as received.
#[derive(Clone, Debug)]
pub struct Received {
    pub to: String,
    pub subject: String,
    pub text: String,
}

impl TestApp {
    /// Delivers everything due, including what a fan-out adds; answers how many were handled.
    pub async fn deliver_outbox(&self) -> usize {
        let mut total = 0;
        for _ in 0..5 {
            let n = guardpost_shared::notify::dispatcher::run_once(&self.notifier, None).await.expect("dispatch");
            total += n;
            if n == 0 {
                break;
            }
        }
        total
    }

    /// Emails sent to `to`: read from the mailbox folder (SQLite) or moto's record (DynamoDB).
    pub async fn emails_to(&self, to: &str) -> Vec<Received> {
        self.emails_sent().await.into_iter().filter(|m| m.to == to).collect()
    }

    /// Every email sent: the mailbox folder's (SQLite) or moto's, of every test (DynamoDB).
    pub async fn emails_sent(&self) -> Vec<Received> {
        match self.backend {
            Backend::Sqlite => mailbox_emails(&self._dir.path().join("mailbox")),
            Backend::DynamoDb => {
                let data = moto_data().await;
                data["ses"]["Message"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|m| {
                        let to = m["destinations"]["ToAddresses"][0].as_str()?.to_owned();
                        Some(Received {
                            to,
                            subject: m["subject"].as_str()?.to_owned(),
                            text: m["body"].as_str()?.to_owned(),
                        })
                    })
                    .collect()
            }
        }
    }

    /// SMS texts sent to `to`.
    pub async fn sms_to(&self, to: &str) -> Vec<String> {
        let all: Vec<(String, String)> = match self.backend {
            Backend::Sqlite => std::fs::read_to_string(self._dir.path().join("mailbox/sms.jsonl"))
                .unwrap_or_default()
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter_map(|v| Some((v["to"].as_str()?.to_owned(), v["text"].as_str()?.to_owned())))
                .collect(),
            Backend::DynamoDb => moto_data().await["sns"]["SMS"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter_map(|m| Some((m["phone_number"].as_str()?.to_owned(), m["message"].as_str()?.to_owned())))
                .collect(),
        };
        all.into_iter().filter(|(n, _)| n == to).map(|(_, t)| t).collect()
    }
}

async fn moto_data() -> Value {
    let url = format!("{}/moto-api/data.json", moto_endpoint());
    reqwest::get(url).await.expect("moto data").json().await.expect("moto json")
}

/// Reads the `.eml` files of a mailbox folder (bodies are written as they are).
pub fn mailbox_emails(dir: &std::path::Path) -> Vec<Received> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out = Vec::new();
    // File names start with the time they were written: sorted, oldest first.
    let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.extension().is_none_or(|e| e != "eml") {
            continue;
        }
        let raw = std::fs::read_to_string(&path).unwrap_or_default();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let header = |name: &str| {
            head.lines().find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned)).unwrap_or_default()
        };
        let text = body.replace('\r', "");
        out.push(Received { to: header("To"), subject: header("Subject"), text });
    }
    out
}

/// Runs a story on each store: `on_both_stores!(name);` for `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn dynamodb() {
                super::$name($crate::Backend::DynamoDb).await
            }
        }
    )*};
}
