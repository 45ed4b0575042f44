//! Zero config, the OpenAPI document, check-config, graceful shutdown.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{Sandbox, assert_success};

#[test]
fn zero_config_serves_swagger_ui_and_persists_its_key() {
    // No environment at all: only a free port instead of 8000.
    let mut sandbox = Sandbox::new();
    for key in ["JWT_DATABASE_URL", "JWT_LISTEN", "JWT_ARGON2_MEMORY_KIB", "JWT_ARGON2_ITERATIONS"] {
        sandbox.unset_env(key);
    }
    let out = sandbox.run_with_stdin(&["users", "create", "zero", "--password-stdin"], "zero-config-pass\n");
    assert_success(&out, &["users", "create"]);
    assert!(sandbox.file("jwt-server.db").is_file(), "the SQLite file is created in the working directory");

    let mut cmd = sandbox.command();
    cmd.args(["--listen", "127.0.0.1:0"]);
    let server = crate::helpers::Server::spawn_command(cmd);
    let docs = server.get("/docs");
    assert_eq!(docs.status, 200);
    assert!(docs.content_type.as_deref().is_some_and(|t| t.starts_with("text/html")), "{docs:?}");
    assert!(docs.text.to_lowercase().contains("swagger"), "{}", docs.text);
    assert_eq!(server.get("/healthz").status, 200);
    assert_eq!(server.get("/readyz").status, 200);
    let (_, access) = server.obtain("zero", "zero-config-pass");
    assert!(server.stderr().contains("generated a development key"), "{}", server.stderr());
    drop(server);

    let mut cmd = sandbox.command();
    cmd.args(["--listen", "127.0.0.1:0"]);
    let server = crate::helpers::Server::spawn_command(cmd);
    assert_eq!(server.get_auth("/api/me/", &access).status, 200, "the key survived the restart");
}

#[test]
fn openapi_command_prints_the_served_document() {
    let sandbox = Sandbox::tutorial();
    let printed: Value = serde_json::from_str(&sandbox.run_ok(&["openapi"])).expect("JSON");
    let server = sandbox.start();
    let served = server.get("/openapi.json");
    assert_eq!(served.status, 200);
    assert_eq!(served.json(), printed);
    assert!(printed["paths"].as_object().is_some_and(|p| p.contains_key("/api/token/")), "{printed}");
}

#[test]
fn check_config_masks_secrets() {
    let secret = "check-config-secret-0123456789abcdef-XYZ";
    let sandbox = Sandbox::new()
        .env("JWT_SIGNING_KEY", secret)
        .env("JWT_DATABASE_URL", "postgres://app:db-pass-123@db.example:5432/auth")
        .env("JWT_ACCESS_TOKEN_LIFETIME", "10m");
    let out = sandbox.run_ok(&["check-config"]);
    assert!(!out.contains(secret) && !out.contains("db-pass-123"), "{out}");
    assert!(out.contains("signing_key = \"********\""), "{out}");
    assert!(out.contains("access_token_lifetime = \"10m\""), "{out}");
    assert!(out.contains("db.example:5432/auth"), "{out}");
    assert!(out.contains("# signing key: configured"), "{out}");
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let sandbox = Sandbox::new();
    let server = sandbox.start();
    assert_eq!(server.get("/healthz").status, 200);
    let (status, logs) = server.terminate(Duration::from_secs(20));
    assert!(status.success(), "exit status {status}\n{logs}");
    assert!(logs.contains("SIGTERM received"), "{logs}");
    assert!(logs.contains("jwt-server stopped"), "{logs}");
}

#[test]
fn sigterm_right_after_the_listening_line_is_still_graceful() {
    // The handlers are installed before the line is printed: no "killed by signal 15".
    let sandbox = Sandbox::new();
    for _ in 0..3 {
        let (status, logs) = sandbox.start().terminate(Duration::from_secs(20));
        assert!(status.success(), "exit status {status}\n{logs}");
    }
}
