//! The harness: a sandbox (temp dir + fresh SQLite file + environment) and the real
//! `jwt-server` binary started on port 0, killed on drop.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary under test, built by cargo for this test target.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_jwt-server");

/// How long a server may take to print its `listening on` line.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A temporary directory with its own SQLite database and environment.
pub(crate) struct Sandbox {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Sandbox {
    /// A sandbox whose database is `<tmp>/jwt.sqlite3`, with cheap Argon2 parameters.
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("jwt.sqlite3");
        let env = vec![
            ("JWT_DATABASE_URL".to_owned(), format!("sqlite://{}?mode=rwc", db.display())),
            ("JWT_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            ("JWT_ARGON2_MEMORY_KIB".to_owned(), "64".to_owned()),
            ("JWT_ARGON2_ITERATIONS".to_owned(), "1".to_owned()),
        ];
        Self { dir, env }
    }

    /// The tutorial's settings: rotation with blacklist after rotation.
    pub(crate) fn tutorial() -> Self {
        Self::new().env("JWT_ROTATE_REFRESH_TOKENS", "true").env("JWT_BLACKLIST_AFTER_ROTATION", "true")
    }

    /// Set (or replace) an environment variable for every process of this sandbox.
    pub(crate) fn env(mut self, key: &str, value: &str) -> Self {
        self.set_env(key, value);
        self
    }

    /// Set (or replace) an environment variable in place.
    pub(crate) fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
    }

    /// Remove an environment variable.
    pub(crate) fn unset_env(&mut self, key: &str) {
        self.env.retain(|(k, _)| k != key);
    }

    /// A file path inside the sandbox.
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The binary with a clean environment (nothing of the caller's `JWT_*`), this
    /// sandbox's variables, running in the sandbox directory.
    pub(crate) fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env_clear().current_dir(self.dir.path());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Run a subcommand to completion.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.run_with_stdin(args, "")
    }

    /// Run a subcommand with `stdin` as its standard input.
    pub(crate) fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn jwt-server");
        let mut input = child.stdin.take().expect("stdin");
        input.write_all(stdin.as_bytes()).expect("write stdin");
        drop(input);
        child.wait_with_output().expect("wait for jwt-server")
    }

    /// Run a subcommand that must succeed; returns its standard output.
    pub(crate) fn run_ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_success(&out, args);
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// `users create NAME --password-stdin` (plus `extra` flags).
    pub(crate) fn create_user(&self, name: &str, password: &str, extra: &[&str]) {
        let mut args = vec!["users", "create", name, "--password-stdin"];
        args.extend_from_slice(extra);
        let out = self.run_with_stdin(&args, &format!("{password}\n"));
        assert_success(&out, &args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.starts_with(&format!("created user {name} (id ")), "{stdout}");
    }

    /// Start `serve` and wait for its `listening on` line.
    pub(crate) fn start(&self) -> Server {
        Server::spawn_command(self.command())
    }
}

/// Panic with the command's output unless it succeeded.
pub(crate) fn assert_success(out: &Output, args: &[&str]) {
    assert!(
        out.status.success(),
        "jwt-server {args:?} failed with {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running `jwt-server serve`.
pub(crate) struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<std::thread::JoinHandle<()>>,
    agent: ureq::Agent,
}

/// A response: status, headers we care about, and the body.
#[derive(Debug)]
pub(crate) struct Reply {
    /// Status code.
    pub(crate) status: u16,
    /// `WWW-Authenticate`, if any.
    pub(crate) www_authenticate: Option<String>,
    /// `Content-Type`, if any.
    pub(crate) content_type: Option<String>,
    /// Raw body.
    pub(crate) text: String,
}

impl Reply {
    /// The body as JSON (panics with the body if it is not).
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// A string field of the JSON body.
    pub(crate) fn str(&self, key: &str) -> String {
        self.json()[key].as_str().unwrap_or_else(|| panic!("no string {key:?} in {}", self.text)).to_owned()
    }
}

impl Server {
    /// Start `cmd` (a `serve`) and wait for its `listening on` line.
    pub(crate) fn spawn_command(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn jwt-server");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().expect("stderr");
        let sink = stderr.clone();
        let stderr_reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let (tx, rx) = mpsc::channel();
        let out_pipe = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out_pipe).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let first = rx.recv_timeout(START_TIMEOUT);
        let mut server =
            Self { child, base: String::new(), stderr, stderr_reader: Some(stderr_reader), agent };
        let line = match first {
            Ok(line) => line,
            Err(_) => {
                let status = server.child.try_wait().ok().flatten();
                panic!(
                    "jwt-server did not print its address (exit: {status:?}); stderr:\n{}",
                    server.stderr()
                );
            }
        };
        let base = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        assert!(base.starts_with("http://127.0.0.1:") && !base.ends_with(":0"), "{base}");
        let second = rx.recv_timeout(Duration::from_secs(5)).expect("second line");
        assert_eq!(second, format!("Swagger UI: {base}/docs"));
        server.base = base;
        server
    }

    /// Everything the server wrote to standard error so far.
    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn reply(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
        let mut resp = result.expect("HTTP request");
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let www_authenticate = header("www-authenticate");
        let content_type = header("content-type");
        let text = resp.body_mut().read_to_string().expect("body");
        Reply { status: resp.status().as_u16(), www_authenticate, content_type, text }
    }

    /// `GET path`.
    pub(crate) fn get(&self, path: &str) -> Reply {
        Self::reply(self.agent.get(format!("{}{path}", self.base)).call())
    }

    /// `GET path` with `Authorization: Bearer token`.
    pub(crate) fn get_auth(&self, path: &str, token: &str) -> Reply {
        Self::reply(
            self.agent
                .get(format!("{}{path}", self.base))
                .header("Authorization", format!("Bearer {token}"))
                .call(),
        )
    }

    /// `POST path` with a JSON body.
    pub(crate) fn post(&self, path: &str, body: Value) -> Reply {
        Self::reply(self.agent.post(format!("{}{path}", self.base)).send_json(body))
    }

    /// `POST path` with a JSON body and `Authorization: Bearer token`.
    pub(crate) fn post_auth(&self, path: &str, token: &str, body: Value) -> Reply {
        Self::reply(
            self.agent
                .post(format!("{}{path}", self.base))
                .header("Authorization", format!("Bearer {token}"))
                .send_json(body),
        )
    }

    /// Log in: `POST /api/token/`, which must succeed; returns (refresh, access).
    pub(crate) fn obtain(&self, username: &str, password: &str) -> (String, String) {
        let reply = self.post("/api/token/", serde_json::json!({"username": username, "password": password}));
        assert_eq!(reply.status, 200, "{}", reply.text);
        (reply.str("refresh"), reply.str("access"))
    }

    /// Send SIGTERM and wait for the exit (at most `timeout`); returns the exit status and
    /// everything written to standard error.
    pub(crate) fn terminate(mut self, timeout: Duration) -> (ExitStatus, String) {
        let status =
            Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                if let Some(reader) = self.stderr_reader.take() {
                    let _ = reader.join();
                }
                return (status, self.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "jwt-server did not stop after SIGTERM; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The decoded JSON header and payload of a JWT (no verification).
pub(crate) fn decode(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut part = || {
        let text = parts.next().expect("JWT part");
        serde_json::from_slice(&base64url(text)).expect("JSON part")
    };
    (part(), part())
}

fn base64url(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|a| *a == c).expect("base64url") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// Assert the body is simplejwt's `{"detail": .., "code": "token_not_valid"}` with `detail`.
pub(crate) fn assert_token_not_valid(reply: &Reply, detail: &str) {
    assert_eq!(reply.status, 401, "{}", reply.text);
    assert_eq!(
        reply.json(),
        serde_json::json!({"detail": detail, "code": "token_not_valid"}),
        "{}",
        reply.text
    );
    assert_eq!(reply.www_authenticate.as_deref(), Some("Bearer realm=\"api\""));
}

/// Standard error of a finished command.
pub(crate) fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
