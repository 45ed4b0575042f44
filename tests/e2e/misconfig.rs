//! A misconfiguration exits non-zero with one sentence on standard error, never a panic.

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::helpers::Sandbox;

/// Run `serve` (or `args`), which must fail within 30 s; returns (exit code, stderr).
fn fail(sandbox: &Sandbox, args: &[&str]) -> (i32, String) {
    let mut child = sandbox
        .command()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("jwt-server {args:?} kept running although its configuration is wrong");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("read stderr");
    assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "exactly one error line expected:\n{stderr}");
    assert_eq!(stderr.lines().last(), Some(errors[0]), "the error is the last line:\n{stderr}");
    (status.code().expect("exit code"), errors[0].to_owned())
}

#[test]
fn bad_duration() {
    let sandbox = Sandbox::new().env("JWT_ACCESS_TOKEN_LIFETIME", "5parsecs");
    let (code, line) = fail(&sandbox, &[]);
    assert_eq!(code, 2);
    assert!(
        line.starts_with("error: invalid value for JWT_ACCESS_TOKEN_LIFETIME: invalid duration \"5parsecs\""),
        "{line}"
    );
}

#[test]
fn unknown_algorithm() {
    let sandbox = Sandbox::new().env("JWT_ALGORITHM", "HS257");
    let (code, line) = fail(&sandbox, &[]);
    assert_eq!(code, 2);
    assert!(
        line.starts_with("error: invalid value for JWT_ALGORITHM: Unrecognized algorithm type 'HS257'"),
        "{line}"
    );
}

#[test]
fn rs256_with_an_hmac_secret() {
    let secret = "an-hmac-secret-that-is-long-enough-0123456789";
    let sandbox = Sandbox::new().env("JWT_ALGORITHM", "RS256").env("JWT_SIGNING_KEY", secret);
    let (code, line) = fail(&sandbox, &[]);
    assert_eq!(code, 2);
    assert!(line.contains("must be a PEM private key for RS256"), "{line}");
    assert!(!line.contains(secret), "{line}");
    // check-config finds it too, without touching the database
    let (code, line) = fail(&sandbox, &["check-config"]);
    assert_eq!(code, 2, "{line}");
}

#[test]
fn short_hmac_secret() {
    let sandbox = Sandbox::new().env("JWT_SIGNING_KEY", "tooshort");
    let (code, line) = fail(&sandbox, &[]);
    assert_eq!(code, 2);
    assert!(line.starts_with("error: signing_key (JWT_SIGNING_KEY) is not a usable HS256 secret"), "{line}");
    assert!(!line.contains("tooshort"), "{line}");
}

#[test]
fn unreachable_database() {
    let sandbox = Sandbox::new()
        .env("JWT_DATABASE_URL", "postgres://jwt:hunter2@127.0.0.1:1/jwt")
        .env("JWT_DB_CONNECT_TIMEOUT", "5s");
    let (code, line) = fail(&sandbox, &[]);
    assert_eq!(code, 1);
    assert!(line.starts_with("error: cannot connect to the postgres database at"), "{line}");
    assert!(!line.contains("hunter2"), "{line}");
}

#[test]
fn unsupported_database_scheme_and_bad_listen_address() {
    let sandbox = Sandbox::new().env("JWT_DATABASE_URL", "redis://127.0.0.1/0");
    let (code, line) = fail(&sandbox, &[]);
    assert_eq!(code, 2, "{line}");
    let sandbox = Sandbox::new().env("JWT_LISTEN", "localhost-ish");
    let (code, line) = fail(&sandbox, &[]);
    assert_eq!(code, 2);
    assert!(line.starts_with("error: invalid value for JWT_LISTEN: "), "{line}");
}

#[test]
fn address_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let sandbox = Sandbox::new();
    let (code, line) = fail(&sandbox, &["--listen", &addr]);
    assert_eq!(code, 1);
    assert!(line.starts_with(&format!("error: cannot listen on {addr}: ")), "{line}");
}

#[test]
fn unknown_key_in_the_config_file() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.file("jwt-server.toml"), "rotate_refresh_token = true\n").expect("write");
    let (code, line) = fail(&sandbox, &[]);
    assert_eq!(code, 2);
    assert_eq!(
        line,
        "error: unknown key `rotate_refresh_token` in jwt-server.toml (did you mean `rotate_refresh_tokens`?)"
    );
}

#[test]
fn jwk_url_with_an_hmac_algorithm() {
    let sandbox = Sandbox::new().env("JWT_JWK_URL", "https://issuer.example.com/.well-known/jwks.json");
    let (code, line) = fail(&sandbox, &[]);
    assert_eq!(code, 2);
    assert!(line.starts_with("error: jwk_url (JWT_JWK_URL) only applies to asymmetric algorithms"), "{line}");
}
