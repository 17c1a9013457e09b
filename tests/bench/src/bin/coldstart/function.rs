//! The functions under test: how each is started, the data they need in DynamoDB Local, the
//! events they are served.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::Args;
use crate::runtime::Runtime;

/// One thing to time: a binary, its environment and the event it serves.
#[derive(Clone, Debug)]
pub struct Case {
    pub name: String,
    pub operation: String,
    binary: PathBuf,
    env: Vec<(String, String)>,
    pub event: String,
}

pub struct Function {
    hello: PathBuf,
    lambda: PathBuf,
    events: PathBuf,
    env: Vec<(String, String)>,
    token: String,
    site: String,
    admin: String,
    logs: PathBuf,
}

const PASSWORD: &str = "cold-start-bench-password-1";

impl Function {
    /// A fresh table with the demo organisation, a region, a site the administrator is
    /// assigned to, and the administrator's access token, all made through the binaries.
    pub async fn prepare(args: &Args) -> anyhow::Result<Self> {
        let table =
            format!("coldstart-{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis());
        let env: Vec<(String, String)> = [
            ("AWS_LAMBDA_FUNCTION_NAME", "bench".into()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".into()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".into()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "bench".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "bench".into()),
            ("AWS_SECRET_ACCESS_KEY", "bench".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_ENDPOINT_URL", args.dynamodb.clone()),
            ("GUARDPOST_STORE", "dynamodb".into()),
            ("GUARDPOST_TABLE", table),
            ("GUARDPOST_JWT_SECRET", "cold-start-bench-signing-key-0123456789abcdef".into()),
            ("GUARDPOST_LOG_FORMAT", "json".into()),
            ("GUARDPOST_SENDER", "mailbox".into()),
            ("RUST_LOG", "info".into()),
            ("GUARDPOST_ADMIN_PASSWORD", PASSWORD.into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let logs = std::env::temp_dir().join("guardpost-coldstart");
        std::fs::create_dir_all(&logs)?;
        for command in [
            vec!["create-table"],
            vec!["bootstrap", "--org", "demo", "--name", "Demo", "--admin-email", "admin@demo.example"],
        ] {
            let status =
                Command::new(&args.cli).args(&command).envs(env.iter().cloned()).stdout(Stdio::null()).status()?;
            if !status.success() {
                bail!("guardpost {} failed", command.join(" "));
            }
        }
        let mut me = Self {
            hello: args.hello.clone(),
            lambda: args.lambda.clone(),
            events: args.events.clone(),
            env,
            token: String::new(),
            site: String::new(),
            admin: String::new(),
            logs,
        };
        let login = me.call("login", &[("REPLACE_WITH_PASSWORD", PASSWORD)]).await?;
        me.token = login["access_token"].as_str().context("no access token")?.to_owned();
        let admin = me.call("get-me", &[]).await?["user"]["id"].as_str().context("no user id")?.to_owned();
        let region = me.call("create-region", &[]).await?["id"].as_str().context("no region id")?.to_owned();
        me.site = me.call("create-site", &[("REPLACE_WITH_REGION_ID", &region)]).await?["id"]
            .as_str()
            .context("no site id")?
            .to_owned();
        me.call("assign-site-employee", &[("REPLACE_WITH_EMPLOYEE_ID", &admin)]).await?;
        me.admin = admin;
        Ok(me)
    }

    /// hello first: every ratio is against it.
    pub fn cases(&self) -> Vec<Case> {
        let mut cases = vec![Case {
            name: "hello-lambda (reference)".into(),
            operation: "hello".into(),
            binary: self.hello.clone(),
            env: self.env.clone(),
            event: self.event("health", &[]).unwrap_or_default(),
        }];
        cases.extend(["health", "get-me", "clock-in", "clock-out"].map(|op| self.case(op)));
        cases
    }

    pub fn case(&self, op: &str) -> Case {
        Case {
            name: format!("guardpost-lambda {op}"),
            operation: op.into(),
            binary: self.lambda.clone(),
            env: self.with_operation(op),
            event: self.event(op, &[]).unwrap_or_default(),
        }
    }

    /// A shift for the administrator at the bench's site from an hour ago to seven hours
    /// from now, so that clock-ins are the planned kind a working day is made of.
    pub async fn schedule_the_administrator(&self) -> anyhow::Result<()> {
        let now = chrono::Utc::now();
        let (start, end) =
            ((now - chrono::Duration::hours(1)).to_rfc3339(), (now + chrono::Duration::hours(7)).to_rfc3339());
        let admin = self.admin.clone();
        self.call(
            "create-shift",
            &[
                ("REPLACE_WITH_EMPLOYEE_ID", &admin),
                ("REPLACE_WITH_SHIFT_START", &start),
                ("REPLACE_WITH_SHIFT_END", &end),
            ],
        )
        .await?;
        Ok(())
    }

    fn with_operation(&self, op: &str) -> Vec<(String, String)> {
        let mut env = self.env.clone();
        env.push(("GUARDPOST_OPERATION".into(), op.into()));
        env
    }

    /// The operation's sample event with the placeholders filled in.
    fn event(&self, op: &str, more: &[(&str, &str)]) -> anyhow::Result<String> {
        let path = self.events.join(format!("{op}.json"));
        let mut text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        for (placeholder, value) in
            [("REPLACE_WITH_ACCESS_TOKEN", self.token.as_str()), ("REPLACE_WITH_SITE_ID", self.site.as_str())]
                .iter()
                .chain(more)
        {
            text = text.replace(placeholder, value);
        }
        Ok(text)
    }

    /// Serves one event to a fresh instance of the operation and returns its API answer body.
    async fn call(&self, op: &str, more: &[(&str, &str)]) -> anyhow::Result<Value> {
        let case = Case {
            name: op.into(),
            operation: op.into(),
            binary: self.lambda.clone(),
            env: self.with_operation(op),
            event: self.event(op, more)?,
        };
        let (_, _, body) = self.run(&case).await?;
        Ok(body)
    }

    /// Exec to posted answer of a fresh instance, and its peak memory (KiB).
    pub async fn cold(&self, case: &Case) -> anyhow::Result<(Duration, u64)> {
        let (took, peak, _) = self.run(case).await?;
        Ok((took, peak))
    }

    /// One instance serving `n` events one after another: its memory after the first and
    /// after the last (KiB), and the median time of an answer once warm.
    pub async fn warm(&self, case: &Case, n: usize) -> anyhow::Result<(u64, u64, Duration)> {
        let runtime = Runtime::start().await?;
        let mut child = self.spawn(case, &runtime, &[])?;
        let mut first = 0;
        let mut took = Vec::with_capacity(n);
        for i in 0..n {
            let sent = Instant::now();
            let answer = tokio::time::timeout(Duration::from_secs(10), runtime.invoke(case.event.clone())).await??;
            check(case, &answer.body, answer.error)?;
            if i == 0 {
                first = rss_kib(child.id(), "VmRSS:");
            } else {
                took.push(answer.at - sent);
            }
        }
        let after = rss_kib(child.id(), "VmRSS:");
        let _ = child.kill();
        let _ = child.wait();
        took.sort_unstable();
        Ok((first, after, took.get(took.len() / 2).copied().unwrap_or_default()))
    }

    async fn run(&self, case: &Case) -> anyhow::Result<(Duration, u64, Value)> {
        let runtime = Runtime::start().await?;
        let answer = runtime.invoke(case.event.clone());
        let started = Instant::now();
        let mut child = self.spawn(case, &runtime, &[])?;
        let answer = tokio::time::timeout(Duration::from_secs(20), answer).await;
        let peak = rss_kib(child.id(), "VmHWM:");
        let _ = child.kill();
        let _ = child.wait();
        let answer = answer.with_context(|| format!("no answer in 20 s; see {}", self.log_of(case).display()))??;
        let body = check(case, &answer.body, answer.error)?;
        Ok((answer.at - started, peak, body))
    }

    /// An instance that logs the capacity and partitions of its every DynamoDB call.
    pub fn spawn_logging_capacity(&self, case: &Case, runtime: &Runtime) -> anyhow::Result<std::process::Child> {
        self.spawn(case, runtime, &[("RUST_LOG", "warn,guardpost::capacity=debug")])
    }

    fn spawn(&self, case: &Case, runtime: &Runtime, env: &[(&str, &str)]) -> anyhow::Result<std::process::Child> {
        let log = std::fs::File::create(self.log_of(case))?;
        Command::new(&case.binary)
            .env_clear()
            .envs(case.env.iter().cloned())
            .envs(env.iter().copied())
            .env("AWS_LAMBDA_RUNTIME_API", runtime.addr.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", case.binary.display()))
    }

    pub fn log_of(&self, case: &Case) -> PathBuf {
        self.logs.join(format!("{}.log", case.name.replace(' ', "-")))
    }
}

/// The answer must be a 2xx API response; its body, parsed.
fn check(case: &Case, answer: &Value, error: bool) -> anyhow::Result<Value> {
    let status = answer["statusCode"].as_u64().unwrap_or(0);
    if error || !(200..300).contains(&status) {
        bail!("{} answered {answer}", case.name);
    }
    Ok(answer["body"].as_str().and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null))
}

/// A memory figure of a live process from /proc (KiB).
fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
