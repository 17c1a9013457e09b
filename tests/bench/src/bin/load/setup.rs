//! Making the world the load runs in: a region, sites, guards assigned to them, their tokens.

use anyhow::{Context, bail};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};

use crate::Args;

#[derive(Clone, Debug)]
pub struct Guard {
    pub token: String,
    pub site: String,
}

#[derive(Clone, Debug)]
pub struct World {
    pub url: String,
    pub admin: String,
    pub sites: Vec<String>,
    pub guards: Vec<Guard>,
}

/// How many setup requests run at once (creating and logging in hash passwords).
const SETUP_CONCURRENCY: usize = 16;

impl World {
    pub async fn make(http: &reqwest::Client, args: &Args) -> anyhow::Result<Self> {
        let admin = login(http, args, &args.login, &args.password).await?;
        let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis();
        let region = post(http, args, &admin, "/v1/regions", json!({"name": format!("Load {run}")})).await?;
        let region = id(&region)?;
        let sites: Vec<String> = futures::stream::iter(0..args.sites)
            .map(|n| {
                let body = json!({"name": format!("Load {run} site {n}"), "region_id": region, "time_zone": "America/Toronto"});
                let admin = &admin;
                async move { id(&post(http, args, admin, "/v1/sites", body).await?) }
            })
            .buffered(SETUP_CONCURRENCY)
            .try_collect()
            .await?;
        let guards: Vec<Guard> = futures::stream::iter(0..args.guards)
            .map(|n| make_guard(http, args, &admin, &sites[n % sites.len()], run, n))
            .buffer_unordered(SETUP_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(Self { url: args.url.clone(), admin, sites, guards })
    }
}

async fn make_guard(
    http: &reqwest::Client,
    args: &Args,
    admin: &str,
    site: &str,
    run: u128,
    n: usize,
) -> anyhow::Result<Guard> {
    let username = format!("load{run}g{n}");
    let password = format!("load-guard-{run}-{n}-pass");
    let body = json!({
        "employee_number": format!("L{run}-{n}"), "first_name": "Load", "last_name": format!("Guard {n}"),
        "username": username, "password": password, "force_change": false,
    });
    let guard = id(&post(http, args, admin, "/v1/employees", body).await?)?;
    let assigned =
        http.put(format!("{}/v1/sites/{site}/employees/{guard}", args.url)).bearer_auth(admin).send().await?;
    if !assigned.status().is_success() {
        bail!("assigning a guard: {} {}", assigned.status(), assigned.text().await?);
    }
    if !args.unplanned {
        // A shift from an hour ago for eight hours: every clock-in of the run is on schedule.
        let now = chrono::Utc::now();
        let at = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let shift = json!({"employee_id": guard, "start": at(now - chrono::Duration::hours(1)), "end": at(now + chrono::Duration::hours(8))});
        post(http, args, admin, &format!("/v1/sites/{site}/shifts"), shift).await?;
    }
    Ok(Guard { token: login(http, args, &username, &password).await?, site: site.to_owned() })
}

async fn login(http: &reqwest::Client, args: &Args, login: &str, password: &str) -> anyhow::Result<String> {
    let body = json!({"org": args.org, "login": login, "password": password});
    let answer = http.post(format!("{}/v1/auth/login", args.url)).json(&body).send().await?;
    let status = answer.status();
    let value: Value = answer.json().await?;
    if !status.is_success() {
        bail!("login as {login}: {status} {value}");
    }
    Ok(value["access_token"].as_str().context("no access_token")?.to_owned())
}

pub async fn post(http: &reqwest::Client, args: &Args, token: &str, path: &str, body: Value) -> anyhow::Result<Value> {
    let answer = http.post(format!("{}{path}", args.url)).bearer_auth(token).json(&body).send().await?;
    let status = answer.status();
    let value: Value = answer.json().await?;
    if !status.is_success() {
        bail!("POST {path}: {status} {value}");
    }
    Ok(value)
}

fn id(value: &Value) -> anyhow::Result<String> {
    Ok(value["id"].as_str().with_context(|| format!("no id in {value}"))?.to_owned())
}
