//! Load benchmark of the real `jwt-server` binary (not a test): requests per second and
//! latency of each endpoint class, as a ratio to `GET /healthz` measured in the same run —
//! the framework's ceiling on this machine (routing, middleware, JSON, HTTP/1.1 keep-alive).
//!
//! ```sh
//! cargo bench -p jwt-server --bench load
//! LOAD_THREADS=8 LOAD_SECONDS=10 cargo bench -p jwt-server --bench load
//! LOAD_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench cargo bench -p jwt-server --bench load
//! ```
//!
//! The server runs with the tutorial's settings (rotation + blacklist after rotation) and the
//! default Argon2id parameters; clients are `LOAD_THREADS` threads with keep-alive
//! connections on the same machine, so both share its cores: read the ratios, not the
//! absolute numbers.

use std::error::Error;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

const BIN: &str = env!("CARGO_BIN_EXE_jwt-server");
const PASSWORD: &str = "load-test password";

/// The server process, killed on drop.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn command(dir: &std::path::Path, database_url: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .current_dir(dir)
        .env("JWT_DATABASE_URL", database_url)
        .env("JWT_LISTEN", "127.0.0.1:0")
        .env("JWT_ROTATE_REFRESH_TOKENS", "true")
        .env("JWT_BLACKLIST_AFTER_ROTATION", "true")
        .env("JWT_LOG", "warn");
    cmd
}

fn start(dir: &std::path::Path, database_url: &str, username: &str) -> Result<Server> {
    let mut create = command(dir, database_url)
        .args(["users", "create", username, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    create.stdin.take().ok_or("no stdin")?.write_all(PASSWORD.as_bytes())?;
    if !create.wait()?.success() {
        return Err("users create failed".into());
    }
    let mut child = command(dir, database_url).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let base = line.trim().strip_prefix("listening on ").ok_or("no `listening on` line")?.to_owned();
    Ok(Server { child, base })
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// One request; returns the JSON body of a 2xx answer.
fn call(agent: &ureq::Agent, req: &Request, base: &str) -> Result<Value> {
    let url = format!("{base}{}", req.path);
    let mut resp = match &req.body {
        Some(body) => {
            let mut builder = agent.post(&url);
            if let Some(token) = &req.bearer {
                builder = builder.header("Authorization", format!("Bearer {token}"));
            }
            builder.send_json(body)?
        }
        None => {
            let mut builder = agent.get(&url);
            if let Some(token) = &req.bearer {
                builder = builder.header("Authorization", format!("Bearer {token}"));
            }
            builder.call()?
        }
    };
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string()?;
    if !(200..300).contains(&status) {
        return Err(format!("{} answered {status}: {text}", req.path).into());
    }
    Ok(serde_json::from_str(&text)?)
}

struct Request {
    path: &'static str,
    body: Option<Value>,
    bearer: Option<String>,
}

/// A scenario: given the previous answer (for chains such as rotation), the next request.
type Next = fn(&Session, Option<&Value>) -> Request;

/// What each client thread holds: its own login.
struct Session {
    username: String,
    refresh: String,
    access: String,
}

fn healthz(_: &Session, _: Option<&Value>) -> Request {
    Request { path: "/healthz", body: None, bearer: None }
}

fn verify(s: &Session, _: Option<&Value>) -> Request {
    Request { path: "/api/token/verify/", body: Some(json!({"token": s.access})), bearer: None }
}

fn me(s: &Session, _: Option<&Value>) -> Request {
    Request { path: "/api/me/", body: None, bearer: Some(s.access.clone()) }
}

fn refresh(s: &Session, previous: Option<&Value>) -> Request {
    let token = previous.and_then(|v| v["refresh"].as_str()).unwrap_or(&s.refresh).to_owned();
    Request { path: "/api/token/refresh/", body: Some(json!({"refresh": token})), bearer: None }
}

fn login(s: &Session, _: Option<&Value>) -> Request {
    let body = json!({"username": s.username, "password": PASSWORD});
    Request { path: "/api/token/", body: Some(body), bearer: None }
}

struct Outcome {
    requests: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

/// Run `next` from `threads` clients for `seconds`, each chaining on its own answers.
fn run(base: &str, sessions: &[Session], next: Next, seconds: Duration) -> Result<Outcome> {
    let start = Instant::now();
    let per_thread: Vec<Result<Vec<Duration>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = sessions
            .iter()
            .map(|session| {
                scope.spawn(move || -> Result<Vec<Duration>> {
                    let agent = agent();
                    let mut latencies = Vec::new();
                    let mut previous: Option<Value> = None;
                    while start.elapsed() < seconds {
                        let req = next(session, previous.as_ref());
                        let t0 = Instant::now();
                        previous = Some(call(&agent, &req, base)?);
                        latencies.push(t0.elapsed());
                    }
                    Ok(latencies)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("client thread panicked".into())))
            .collect()
    });
    let elapsed = start.elapsed();
    let mut latencies = Vec::new();
    for thread in per_thread {
        latencies.extend(thread?);
    }
    latencies.sort_unstable();
    Ok(Outcome { requests: latencies.len(), elapsed, latencies })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(default)
}

fn main() -> Result<()> {
    // `cargo bench` passes `--bench`; a filter argument selects scenarios by name.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let threads = env_number("LOAD_THREADS", 4) as usize;
    let seconds = Duration::from_secs(env_number("LOAD_SECONDS", 5));
    let dir = tempfile::tempdir()?;
    let database_url = std::env::var("LOAD_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}?mode=rwc", dir.path().join("load.sqlite3").display()));
    let username = format!("load-{}", std::process::id());
    let server = start(dir.path(), &database_url, &username)?;
    let base = server.base.clone();

    let agent = agent();
    let mut sessions = Vec::new();
    for _ in 0..threads {
        let pair = call(&agent, &login(&Session::placeholder(&username), None), &base)?;
        let token = |name: &str| pair[name].as_str().map(str::to_owned).ok_or("no token in the login answer");
        sessions.push(Session {
            username: username.clone(),
            refresh: token("refresh")?,
            access: token("access")?,
        });
    }

    let scenarios: [(&str, &str, Next); 5] = [
        ("healthz", "GET /healthz (baseline: the framework's ceiling)", healthz),
        ("verify", "POST /api/token/verify/ (HS256 + blacklist lookup)", verify),
        ("me", "GET /api/me/ (bearer auth + user lookup)", me),
        ("refresh", "POST /api/token/refresh/ (rotation: 1 write transaction)", refresh),
        ("login", "POST /api/token/ (Argon2id, default parameters)", login),
    ];
    println!(
        "\njwt-server load: {threads} client threads × {}s per scenario, database {}\n",
        seconds.as_secs(),
        database_url.split("://").next().unwrap_or("?")
    );
    println!("| scenario | requests/s | ratio to /healthz | p50 | p99 |");
    println!("|---|---:|---:|---:|---:|");
    let mut baseline = None;
    for (name, label, next) in scenarios {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) && name != "healthz" {
            continue;
        }
        let outcome = run(&base, &sessions, next, seconds)?;
        let rate = outcome.requests as f64 / outcome.elapsed.as_secs_f64();
        let base_rate = *baseline.get_or_insert(rate);
        println!(
            "| {label} | {rate:.0} | {:.3} | {:.2} ms | {:.2} ms |",
            rate / base_rate,
            percentile(&outcome.latencies, 0.50).as_secs_f64() * 1e3,
            percentile(&outcome.latencies, 0.99).as_secs_f64() * 1e3,
        );
    }
    Ok(())
}

impl Session {
    fn placeholder(username: &str) -> Self {
        Self { username: username.to_owned(), refresh: String::new(), access: String::new() }
    }
}
