//! Configuration from the environment, and building the application state from it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use guardpost_shared::auth::TokenKeys;
use guardpost_shared::clock::{Clock, OsRandom, Random, SystemClock};
use guardpost_shared::files::FileStore;
use guardpost_shared::files::local::LocalFiles;
use guardpost_shared::notify::deliver::{Notifier, NotifySettings};
use guardpost_shared::notify::mailbox::{LocalMailbox, MailboxSms};
use guardpost_shared::notify::{Mailer, SmsSender};
use guardpost_shared::store::Store;
use guardpost_shared::store::sqlite::SqliteStore;
use guardpost_shared::{AppState, Settings};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    Sqlite,
    DynamoDb,
}

#[derive(Clone, Debug)]
pub struct Config {
    /// `GUARDPOST_ADDR`, default 127.0.0.1:8080.
    pub addr: String,
    /// `GUARDPOST_DATA_DIR`, default ./.guardpost: the SQLite file, the local signing key, the
    /// mailbox.
    pub data_dir: PathBuf,
    /// `GUARDPOST_STORE`: sqlite (default) or dynamodb.
    pub store: StoreKind,
    /// `GUARDPOST_TABLE`, for dynamodb.
    pub table: Option<String>,
    /// `GUARDPOST_LOG_FORMAT=json` for structured logs (set on Lambda).
    pub json_logs: bool,
    /// `GUARDPOST_SENDER`: `mailbox` (files under the data directory; default with SQLite) or
    /// `aws` (SES and SNS; default with DynamoDB).
    pub sender: SenderKind,
    /// `GUARDPOST_EMAIL_FROM`, the sender address of emails.
    pub email_from: String,
    /// `GUARDPOST_SES_CONFIGURATION_SET`, optional.
    pub ses_configuration_set: Option<String>,
    /// `GUARDPOST_PUBLIC_URL`: where links in emails point; default the local server.
    pub public_url: String,
    /// `GUARDPOST_SMS_PER_NUMBER_PER_HOUR` (default 3) and `GUARDPOST_SMS_PER_ORG_PER_DAY`
    /// (default 500).
    pub sms_per_number_per_hour: u32,
    pub sms_per_org_per_day: u32,
    /// `GUARDPOST_EARLY_CLOCK_IN_MINUTES` (default 60).
    pub early_clock_in_minutes: i64,
    /// `GUARDPOST_FILES_BUCKET`: users' files go to this S3 bucket; without it, under
    /// `<data dir>/files`, served by the local server.
    pub files_bucket: Option<String>,
    /// `GUARDPOST_ADDRESS_ATTEMPTS_BURST` (default 30) and `GUARDPOST_ADDRESS_ATTEMPTS_PER_MINUTE`
    /// (default 30): the password attempts one client address may make at once and per minute
    /// after that (docs/SECURITY.md). Raise them where many people log in from behind one
    /// address (a site's shared connection at shift change).
    pub address_attempts_burst: u32,
    pub address_attempts_per_minute: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SenderKind {
    Mailbox,
    Aws,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let store = match get("GUARDPOST_STORE").as_deref().unwrap_or("sqlite") {
            "sqlite" => StoreKind::Sqlite,
            "dynamodb" => StoreKind::DynamoDb,
            other => bail!("GUARDPOST_STORE must be sqlite or dynamodb, not {other:?}"),
        };
        let table = get("GUARDPOST_TABLE").filter(|t| !t.is_empty());
        if store == StoreKind::DynamoDb && table.is_none() {
            bail!("GUARDPOST_STORE=dynamodb needs GUARDPOST_TABLE");
        }
        let sender = match get("GUARDPOST_SENDER").as_deref() {
            None | Some("") => {
                if store == StoreKind::DynamoDb {
                    SenderKind::Aws
                } else {
                    SenderKind::Mailbox
                }
            }
            Some("mailbox") => SenderKind::Mailbox,
            Some("aws") => SenderKind::Aws,
            Some(other) => bail!("GUARDPOST_SENDER must be mailbox or aws, not {other:?}"),
        };
        let number = |name: &str, default: i64| -> anyhow::Result<i64> {
            match get(name).filter(|v| !v.is_empty()) {
                None => Ok(default),
                Some(v) => v
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .with_context(|| format!("{name} must be a whole number, not {v:?}")),
            }
        };
        let addr = get("GUARDPOST_ADDR").unwrap_or_else(|| "127.0.0.1:8080".into());
        Ok(Self {
            public_url: get("GUARDPOST_PUBLIC_URL")
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| format!("http://{addr}")),
            addr,
            data_dir: PathBuf::from(get("GUARDPOST_DATA_DIR").unwrap_or_else(|| ".guardpost".into())),
            store,
            table,
            json_logs: get("GUARDPOST_LOG_FORMAT").is_some_and(|f| f == "json"),
            sender,
            email_from: get("GUARDPOST_EMAIL_FROM")
                .filter(|f| !f.is_empty())
                .unwrap_or_else(|| "guardpost <no-reply@guardpost.local>".into()),
            ses_configuration_set: get("GUARDPOST_SES_CONFIGURATION_SET").filter(|c| !c.is_empty()),
            sms_per_number_per_hour: u32::try_from(number("GUARDPOST_SMS_PER_NUMBER_PER_HOUR", 3)?)?,
            sms_per_org_per_day: u32::try_from(number("GUARDPOST_SMS_PER_ORG_PER_DAY", 500)?)?,
            early_clock_in_minutes: number("GUARDPOST_EARLY_CLOCK_IN_MINUTES", 60)?,
            files_bucket: get("GUARDPOST_FILES_BUCKET").filter(|b| !b.is_empty()),
            address_attempts_burst: u32::try_from(number("GUARDPOST_ADDRESS_ATTEMPTS_BURST", 30)?)?,
            address_attempts_per_minute: u32::try_from(number("GUARDPOST_ADDRESS_ATTEMPTS_PER_MINUTE", 30)?)?,
        })
    }
}

/// Where the token signing key comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signing {
    /// `GUARDPOST_JWT_SECRET_ARN` (read from Secrets Manager at start-up), else
    /// `GUARDPOST_JWT_SECRET`, else (outside Lambda) a key kept in the data directory.
    Configured,
    /// A random key for this process: for functions that never sign or verify a token (health,
    /// the notifier), so they need no access to the real one.
    Ephemeral,
}

/// Builds the state: the store chosen by the configuration, the wall clock, the OS random
/// source and the signing key.
pub async fn build_state(config: &Config) -> anyhow::Result<AppState> {
    build_state_with(config, Signing::Configured).await
}

pub async fn build_state_with(config: &Config, signing: Signing) -> anyhow::Result<AppState> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let random: Arc<dyn Random> = Arc::new(OsRandom);
    let store = open_store(config, clock.clone()).await?;
    let secret = match signing {
        Signing::Ephemeral => random.bytes(64),
        Signing::Configured => signing_key(config, random.as_ref()).await?,
    };
    let settings = Settings {
        early_clock_in_minutes: config.early_clock_in_minutes,
        address_attempts_burst: config.address_attempts_burst,
        address_attempts_per_minute: config.address_attempts_per_minute,
        ..Settings::default()
    };
    let files = file_store(config, &secret, clock.clone()).await?;
    Ok(AppState {
        store,
        clock,
        random,
        tokens: Arc::new(TokenKeys::from_secret(&secret)?),
        settings: Arc::new(settings),
        usage: Default::default(),
        files,
        hashing: Default::default(),
    })
}

/// S3 when a bucket is configured; else the data directory, with upload and download tickets
/// signed by a key derived from the token signing key.
async fn file_store(config: &Config, secret: &[u8], clock: Arc<dyn Clock>) -> anyhow::Result<Arc<dyn FileStore>> {
    match &config.files_bucket {
        Some(bucket) => s3_files(bucket).await,
        None => {
            use sha2::Digest;
            let key =
                sha2::Sha256::new().chain_update(b"guardpost-file-tickets").chain_update(secret).finalize().to_vec();
            Ok(Arc::new(LocalFiles::new(config.data_dir.join("files"), config.public_url.clone(), key, clock)))
        }
    }
}

/// The AWS configuration (region, credentials, HTTP client), loaded once per process and shared
/// by every client built from it.
#[cfg(feature = "aws")]
pub async fn aws_shared() -> anyhow::Result<&'static aws_config::SdkConfig> {
    static AWS: tokio::sync::OnceCell<aws_config::SdkConfig> = tokio::sync::OnceCell::const_new();
    AWS.get_or_try_init(|| async {
        let loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        anyhow::Ok(crate::aws_http::with_compiled_in_roots(loader)?.load().await)
    })
    .await
}

#[cfg(feature = "aws")]
async fn s3_files(bucket: &str) -> anyhow::Result<Arc<dyn FileStore>> {
    let shared = aws_shared().await?;
    // An emulator behind AWS_ENDPOINT_URL(_S3) serves buckets by path, not by host name.
    let emulated =
        ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"].iter().any(|v| std::env::var(v).is_ok_and(|e| !e.is_empty()));
    let s3 = aws_sdk_s3::config::Builder::from(shared).force_path_style(emulated).build();
    Ok(Arc::new(guardpost_shared::files::s3::S3Files::new(aws_sdk_s3::Client::from_conf(s3), bucket)))
}

#[cfg(not(feature = "aws"))]
async fn s3_files(_: &str) -> anyhow::Result<Arc<dyn FileStore>> {
    bail!("this build has no S3 support: build with `--features aws`, or unset GUARDPOST_FILES_BUCKET")
}

async fn signing_key(config: &Config, random: &dyn Random) -> anyhow::Result<Vec<u8>> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(arn) = var("GUARDPOST_JWT_SECRET_ARN") {
        return secret_from_aws(&arn).await;
    }
    if let Some(secret) = var("GUARDPOST_JWT_SECRET") {
        return Ok(secret.into_bytes());
    }
    if var("AWS_LAMBDA_FUNCTION_NAME").is_some() {
        bail!("no signing key: set GUARDPOST_JWT_SECRET_ARN (or GUARDPOST_JWT_SECRET)");
    }
    local_secret(&config.data_dir, random)
}

#[cfg(feature = "aws")]
async fn secret_from_aws(arn: &str) -> anyhow::Result<Vec<u8>> {
    let output = aws_sdk_secretsmanager::Client::new(aws_shared().await?)
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .context("reading the signing key from Secrets Manager")?;
    output.secret_string().map(|s| s.as_bytes().to_vec()).context("the signing key secret has no string value")
}

#[cfg(not(feature = "aws"))]
async fn secret_from_aws(_: &str) -> anyhow::Result<Vec<u8>> {
    bail!("GUARDPOST_JWT_SECRET_ARN needs a build with `--features aws`")
}

/// The deliverer of outbox items, with the senders the configuration names.
pub async fn build_notifier(config: &Config, state: &AppState) -> anyhow::Result<Notifier> {
    let (mailer, sms): (Arc<dyn Mailer>, Arc<dyn SmsSender>) = match config.sender {
        SenderKind::Mailbox => {
            let mailbox = LocalMailbox::new(config.data_dir.join("mailbox"), config.email_from.clone());
            (Arc::new(mailbox.clone()), Arc::new(MailboxSms(mailbox)))
        }
        SenderKind::Aws => aws_senders(config).await?,
    };
    let settings = NotifySettings {
        public_url: config.public_url.clone(),
        sms_per_number_per_hour: config.sms_per_number_per_hour,
        sms_per_org_per_day: config.sms_per_org_per_day,
        ..NotifySettings::default()
    };
    Ok(Notifier {
        store: state.store.clone(),
        clock: state.clock.clone(),
        random: state.random.clone(),
        mailer,
        sms,
        settings,
    })
}

#[cfg(feature = "aws")]
async fn aws_senders(config: &Config) -> anyhow::Result<(Arc<dyn Mailer>, Arc<dyn SmsSender>)> {
    use guardpost_shared::notify::aws::{SesMailer, SnsSms};
    let shared = aws_shared().await?;
    let ses = SesMailer::new(
        aws_sdk_sesv2::Client::new(shared),
        config.email_from.clone(),
        config.ses_configuration_set.clone(),
    );
    Ok((Arc::new(ses), Arc::new(SnsSms::new(aws_sdk_sns::Client::new(shared)))))
}

#[cfg(not(feature = "aws"))]
async fn aws_senders(_: &Config) -> anyhow::Result<(Arc<dyn Mailer>, Arc<dyn SmsSender>)> {
    bail!("this build has no AWS support for GUARDPOST_SENDER=aws: build with `--features aws`")
}

pub async fn open_store(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Arc<dyn Store>> {
    match config.store {
        StoreKind::Sqlite => {
            std::fs::create_dir_all(&config.data_dir)
                .with_context(|| format!("creating {}", config.data_dir.display()))?;
            Ok(Arc::new(SqliteStore::open(&config.data_dir.join("guardpost.db"), clock)?))
        }
        StoreKind::DynamoDb => dynamo(config, clock).await,
    }
}

#[cfg(feature = "aws")]
async fn dynamo(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Arc<dyn Store>> {
    use guardpost_shared::store::dynamo::{DynamoStore, client};
    use guardpost_shared::store::lazy::LazyStore;
    let table = config.table.clone().context("GUARDPOST_TABLE is not set")?;
    // Opened on first use: a function that never touches the table (health) never loads the
    // AWS configuration.
    Ok(Arc::new(LazyStore::new(move || {
        let (table, clock) = (table.clone(), clock.clone());
        Box::pin(async move {
            let store: Arc<dyn Store> = Arc::new(DynamoStore::new(client(aws_shared().await?), table, clock));
            Ok(store)
        })
    })))
}

#[cfg(not(feature = "aws"))]
async fn dynamo(_: &Config, _: Arc<dyn Clock>) -> anyhow::Result<Arc<dyn Store>> {
    bail!("this build has no DynamoDB support: build with `--features aws`")
}

/// The local signing key: 64 random bytes, hex, created on first start with owner-only access.
fn local_secret(dir: &Path, random: &dyn Random) -> anyhow::Result<Vec<u8>> {
    let path = dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(existing.trim().as_bytes().to_vec());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let secret: String = random.bytes(64).iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, &secret)?;
    Ok(secret.into_bytes())
}

/// Writes a file only its owner can read.
pub fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| format!("writing {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_local_server() {
        let c = Config::from_lookup(|_| None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (c.addr.as_str(), c.store, c.data_dir.as_path()),
            ("127.0.0.1:8080", StoreKind::Sqlite, Path::new(".guardpost"))
        );
    }

    #[test]
    fn dynamodb_needs_a_table_and_unknown_stores_are_refused() {
        assert!(Config::from_lookup(|k| (k == "GUARDPOST_STORE").then(|| "dynamodb".to_owned())).is_err());
        assert!(Config::from_lookup(|k| (k == "GUARDPOST_STORE").then(|| "postgres".to_owned())).is_err());
        let c = Config::from_lookup(|k| match k {
            "GUARDPOST_STORE" => Some("dynamodb".into()),
            "GUARDPOST_TABLE" => Some("guardpost".into()),
            _ => None,
        });
        assert_eq!(c.map(|c| c.table).ok().flatten().as_deref(), Some("guardpost"));
    }
}
