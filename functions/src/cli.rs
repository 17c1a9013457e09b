//! The `guardpost` command: serve, bootstrap, openapi, template, create-table, migrate,
//! sms-settings.

use std::io::IsTerminal;
use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};
use guardpost_shared::AppState;

use crate::bootstrap::{NewOrganisation, bootstrap};
use crate::config::{Config, StoreKind, build_state, write_private};

#[derive(Debug, Parser)]
#[command(name = "guardpost", version, about = "Open-source backend for security-guard companies")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve every operation in one process (the local server).
    Serve,
    /// Create an organisation and its first superuser administrator. The password comes from
    /// GUARDPOST_ADMIN_PASSWORD or is asked for.
    Bootstrap {
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin_email: String,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Regenerate the per-operation functions, log groups and alarms of a SAM template
    /// (infra/template.yaml) from the operation registry.
    Template { path: std::path::PathBuf },
    /// Create the DynamoDB table (GUARDPOST_TABLE) with its indexes, TTL and stream.
    CreateTable,
    /// Bring data written by earlier versions up to date (idempotent; `serve` runs it at start).
    Migrate,
    /// Set the AWS account's SMS settings (spend limit, delivery-status logging), which the SAM
    /// template cannot hold; uses the usual AWS credentials and region.
    SmsSettings {
        /// USD a month after which SNS sends no more SMS.
        #[arg(long)]
        monthly_spend_limit: u32,
        /// The stack's SmsDeliveryStatusRoleArn output.
        #[arg(long)]
        delivery_status_role: Option<String>,
        /// Percent of successful deliveries logged (failures are always logged).
        #[arg(long, default_value_t = 100)]
        success_sampling_percent: u8,
    },
}

pub const DEMO_ORG: &str = "demo";
pub const DEMO_ADMIN: &str = "admin@demo.example";

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Openapi => {
            println!("{}", crate::app::openapi().to_pretty_json()?);
            Ok(())
        }
        Command::Template { path } => {
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            std::fs::write(&path, crate::template::render(&text)?)?;
            println!("{}: {} operations generated", path.display(), crate::registry::OPERATIONS.len());
            Ok(())
        }
        Command::Serve => serve(Config::from_env()?).await,
        Command::Bootstrap { org, name, admin_email } => {
            let config = Config::from_env()?;
            let state = build_state(&config).await?;
            let admin_password = match std::env::var("GUARDPOST_ADMIN_PASSWORD") {
                Ok(p) if !p.is_empty() => p,
                _ => rpassword::prompt_password("Administrator password: ").context("reading the password")?,
            };
            let id = bootstrap(
                &state,
                NewOrganisation {
                    slug: org.clone(),
                    name,
                    admin_email: admin_email.clone(),
                    admin_password: admin_password.into(),
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
            println!("Created organisation {org} with superuser administrator {admin_email} (user {id}).");
            Ok(())
        }
        Command::CreateTable => create_table(Config::from_env()?).await,
        Command::SmsSettings { monthly_spend_limit, delivery_status_role, success_sampling_percent } => {
            sms_settings(monthly_spend_limit, delivery_status_role, success_sampling_percent).await
        }
        Command::Migrate => {
            let state = build_state(&Config::from_env()?).await?;
            let report = crate::migrate::migrate(&state).await.map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
            println!(
                "Migrated {} organisation(s): {} last-login record(s) added.",
                report.organisations, report.last_logins_added
            );
            Ok(())
        }
    }
}

fn describe(e: &guardpost_shared::AppError) -> String {
    match e {
        guardpost_shared::AppError::Invalid(errors) => {
            errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    }
}

#[cfg(feature = "aws")]
async fn sms_settings(limit: u32, role: Option<String>, sampling: u8) -> anyhow::Result<()> {
    let settings = crate::sms_settings::SmsSettings {
        monthly_spend_limit_usd: limit,
        delivery_status_role: role,
        success_sampling_percent: sampling,
    };
    let shared = crate::config::aws_shared().await?;
    let region = shared.region().map_or_else(|| "(none)".to_owned(), ToString::to_string);
    // SMS settings are per region: they must be the stack's.
    println!("SMS settings of region {region}:");
    let sns = aws_sdk_sns::Client::new(shared);
    for (name, value) in crate::sms_settings::apply(&sns, &settings).await? {
        println!("{name} = {value}");
    }
    Ok(())
}

#[cfg(not(feature = "aws"))]
async fn sms_settings(_: u32, _: Option<String>, _: u8) -> anyhow::Result<()> {
    anyhow::bail!("this build has no AWS support; build with --features aws")
}

#[cfg(feature = "aws")]
async fn create_table(config: Config) -> anyhow::Result<()> {
    use guardpost_shared::store::dynamo::{client_from_env, create_table};
    let table = config.table.context("set GUARDPOST_TABLE to the table name")?;
    create_table(&client_from_env().await, &table).await?;
    println!("Table {table} is ready (GSI1, GSI2, TTL on expires_at, stream NEW_IMAGE).");
    Ok(())
}

#[cfg(not(feature = "aws"))]
async fn create_table(_: Config) -> anyhow::Result<()> {
    anyhow::bail!("this build has no DynamoDB support: run with `cargo run --features aws -- create-table`")
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let fresh = config.store == StoreKind::Sqlite && !config.data_dir.join("guardpost.db").exists();
    let state = build_state(&config).await?;
    if fresh {
        seed_demo(&state, &config).await?;
    } else {
        let report =
            crate::migrate::migrate(&state).await.map_err(|e| anyhow::anyhow!("migrating: {}", describe(&e)))?;
        tracing::info!(?report, "data brought up to date");
    }
    let notifier = crate::config::build_notifier(&config, &state).await?;
    guardpost_shared::notify::dispatcher::spawn(std::sync::Arc::new(notifier), std::time::Duration::from_secs(1));
    spawn_purge(state.clone(), std::time::Duration::from_secs(600));
    if config.sender == crate::config::SenderKind::Mailbox {
        println!("Emails and SMS go to {} (.eml files and sms.jsonl)", config.data_dir.join("mailbox").display());
    }
    let listener =
        tokio::net::TcpListener::bind(&config.addr).await.with_context(|| format!("binding {}", config.addr))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, store = ?config.store, "guardpost listening");
    println!("guardpost is listening on http://{addr}  (API docs: http://{addr}/docs)");
    let app = crate::app::local_app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown()).await?;
    Ok(())
}

/// Removes expired items (idempotency answers, used links, rate-limit buckets) at start and
/// then every `every`: DynamoDB's TTL does this on AWS.
fn spawn_purge(state: AppState, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match state.store.purge_expired().await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "expired items purged"),
                Err(e) => tracing::warn!(error = %e, "purging expired items failed; trying again later"),
            }
        }
    });
}

/// The demo organisation, so a new user can log in at once. The administrator password is
/// GUARDPOST_ADMIN_PASSWORD if set, else generated and kept in the data directory.
async fn seed_demo(state: &AppState, config: &Config) -> anyhow::Result<()> {
    let password = match std::env::var("GUARDPOST_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let bytes = state.random.bytes(12);
            let p: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let path = config.data_dir.join("demo-admin-password");
            write_private(&path, &format!("{p}\n"))?;
            p
        }
    };
    let request = NewOrganisation {
        slug: DEMO_ORG.into(),
        name: "Demo Security".into(),
        admin_email: DEMO_ADMIN.into(),
        admin_password: password.clone().into(),
    };
    bootstrap(state, request).await.map_err(|e| anyhow::anyhow!("seeding the demo organisation: {}", describe(&e)))?;
    let shown = if std::io::stdout().is_terminal() {
        password
    } else {
        format!("(in {})", config.data_dir.join("demo-admin-password").display())
    };
    println!("Seeded the demo organisation. Log in with org \"{DEMO_ORG}\", login \"{DEMO_ADMIN}\", password {shown}");
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

/// Logs: human-readable locally, JSON lines on Lambda (`GUARDPOST_LOG_FORMAT=json`).
pub fn init_logging(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().with_current_span(true).init();
    } else {
        builder.compact().init();
    }
}
