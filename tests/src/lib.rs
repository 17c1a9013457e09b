//! The test harness: a guardpost server on a free loopback port, on SQLite (a temp file) or on
//! DynamoDB (a fresh table on the moto server the test script starts), with one organisation
//! bootstrapped, and typed helpers so tests read as stories.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::missing_panics_doc)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{Duration, Utc};
use guardpost::bootstrap::{NewOrganisation, bootstrap};
use guardpost_shared::auth::TokenKeys;
use guardpost_shared::clock::{ManualClock, OsRandom};
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
    pub base: String,
    pub http: reqwest::Client,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
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
    /// A server with organisation `acme` and its superuser administrator.
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, Settings::default()).await
    }

    pub async fn spawn_with(backend: Backend, settings: Settings) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let store = store_for(backend, dir.path(), clock.clone()).await;
        let state = AppState {
            store,
            clock: clock.clone(),
            random: Arc::new(OsRandom),
            tokens: Arc::new(TokenKeys::from_secret(b"an-e2e-test-signing-key-of-32-bytes-or-more").expect("key")),
            settings: Arc::new(settings),
        };
        let app = Self::serve(state.clone()).await;
        let mut app = Self {
            base: app,
            http: reqwest::Client::new(),
            state,
            clock,
            org: "acme".into(),
            admin_email: "chief@acme.example".into(),
            _dir: dir,
        };
        app.add_org("acme", "chief@acme.example").await;
        app.org = "acme".into();
        app
    }

    async fn serve(state: AppState) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
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
