//! The administration subcommands: users, tokens, keys.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{Sandbox, assert_token_not_valid, decode, stderr_of};

#[test]
fn users_commands() {
    let sandbox = Sandbox::new();
    sandbox.create_user("alice", "alice-pass", &["--email", "alice@example.com", "--superuser"]);
    sandbox.create_user("bob", "bob-pass", &[]);

    let dup = sandbox.run_with_stdin(&["users", "create", "alice", "--password-stdin"], "x\n");
    assert_eq!(dup.status.code(), Some(1));
    assert_eq!(stderr_of(&dup).trim_end(), "error: a user named \"alice\" already exists");
    let empty = sandbox.run_with_stdin(&["users", "create", "carol", "--password-stdin"], "\n");
    assert_eq!(stderr_of(&empty).trim_end(), "error: refusing an empty password");
    let no_tty = sandbox.run(&["users", "create", "carol"]);
    assert!(!no_tty.status.success());
    assert!(stderr_of(&no_tty).contains("--password-stdin"), "{}", stderr_of(&no_tty));

    let list = sandbox.run_ok(&["users", "list"]);
    let lines: Vec<&str> = list.lines().collect();
    assert!(lines[0].starts_with("ID") && lines[0].contains("USERNAME"), "{list}");
    assert!(lines.iter().any(|l| l.contains("alice") && l.contains("alice@example.com")), "{list}");
    assert_eq!(lines.len(), 3, "{list}");

    let server = sandbox.start();
    sandbox.run_ok(&["users", "deactivate", "bob"]);
    let refused = server.post("/api/token/", json!({"username": "bob", "password": "bob-pass"}));
    assert_eq!(refused.status, 401, "{}", refused.text);
    sandbox.run_ok(&["users", "activate", "bob"]);
    server.obtain("bob", "bob-pass");

    let out = sandbox.run_with_stdin(&["users", "set-password", "alice", "--password-stdin"], "new-pass\n");
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        server.post("/api/token/", json!({"username": "alice", "password": "alice-pass"})).status,
        401
    );
    server.obtain("alice", "new-pass");

    let missing = sandbox.run(&["users", "deactivate", "nobody"]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(stderr_of(&missing).trim_end(), "error: no user named \"nobody\"");

    // A deleted user's refresh token is refused (simplejwt 5.5.1 answered 500 here).
    let (refresh, _) = server.obtain("bob", "bob-pass");
    assert_eq!(sandbox.run_ok(&["users", "delete", "bob"]).trim_end(), "deleted bob");
    let gone = server.post("/api/token/refresh/", json!({"refresh": refresh}));
    assert_eq!(gone.status, 401, "{}", gone.text);
    assert_eq!(gone.text, r#"{"detail":"No active account found for the given token."}"#);
    assert_eq!(sandbox.run(&["users", "delete", "bob"]).status.code(), Some(1));
}

#[test]
fn tokens_revoke_user_logs_out_everywhere() {
    let sandbox = Sandbox::new();
    sandbox.create_user("dave", "dave-pass", &[]);
    let server = sandbox.start();
    let (first, _) = server.obtain("dave", "dave-pass");
    let (second, _) = server.obtain("dave", "dave-pass");
    let out = sandbox.run_ok(&["tokens", "revoke-user", "dave"]);
    assert_eq!(out.trim_end(), "blacklisted 2 tokens of dave");
    for token in [first, second] {
        assert_token_not_valid(
            &server.post("/api/token/refresh/", json!({"refresh": token})),
            "Token is blacklisted",
        );
    }
}

#[test]
fn tokens_flush_expired_deletes_expired_tokens() {
    // Independent of how slow the machine is: two tokens that expire after a second, one
    // that lives an hour; after the short ones have certainly expired, exactly they go.
    let mut sandbox = Sandbox::new().env("JWT_REFRESH_TOKEN_LIFETIME", "1s");
    sandbox.create_user("erin", "erin-pass", &[]);
    let server = sandbox.start();
    server.obtain("erin", "erin-pass");
    server.obtain("erin", "erin-pass");
    drop(server);
    sandbox.set_env("JWT_REFRESH_TOKEN_LIFETIME", "1h");
    let server = sandbox.start();
    let (long_lived, _) = server.obtain("erin", "erin-pass");
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(
        sandbox.run_ok(&["tokens", "flush-expired", "--batch-size", "1"]).trim_end(),
        "deleted 2 expired tokens"
    );
    assert_eq!(sandbox.run_ok(&["tokens", "flush-expired"]).trim_end(), "deleted 0 expired tokens");
    let refreshed = server.post("/api/token/refresh/", json!({"refresh": long_lived}));
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
}

#[test]
fn keys_generate_makes_a_usable_key_file() {
    let sandbox = Sandbox::new();
    let secret = sandbox.run_ok(&["keys", "generate"]);
    assert_eq!(secret.trim_end().len(), 128, "{secret}");
    assert!(secret.trim_end().bytes().all(|b| b.is_ascii_hexdigit()));

    let pem = sandbox.run_ok(&["keys", "generate", "--algorithm", "ES256"]);
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");
    let key_file = sandbox.file("signing.pem");
    std::fs::write(&key_file, &pem).expect("write key");
    let sandbox =
        sandbox.env("JWT_ALGORITHM", "ES256").env("JWT_SIGNING_KEY_FILE", key_file.to_str().expect("utf-8"));
    sandbox.create_user("frank", "frank-pass", &[]);
    let server = sandbox.start();
    let (_, access) = server.obtain("frank", "frank-pass");
    let (header, _) = decode(&access);
    assert_eq!(header, json!({"alg": "ES256", "typ": "JWT"}), "a configured key has no kid, like simplejwt");
    assert_eq!(server.get_auth("/api/me/", &access).status, 200);
    assert!(!server.stderr().contains("development key"), "{}", server.stderr());

    let bad = sandbox.run(&["keys", "generate", "--algorithm", "none"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn keys_rotate_and_retire_reach_a_running_server() {
    let sandbox = Sandbox::new().env("JWT_KEY_REFRESH_INTERVAL", "2s");
    sandbox.create_user("gina", "gina-pass", &[]);
    let server = sandbox.start();
    let (_, old_access) = server.obtain("gina", "gina-pass");
    let old_kid = decode(&old_access).0["kid"].as_str().expect("kid").to_owned();

    let rotated = sandbox.run_ok(&["keys", "rotate"]);
    let new_kid = rotated.lines().next().expect("kid line").to_owned();
    assert_ne!(new_kid, old_kid);
    // Staged: the new key only verifies until its activation (2 refresh intervals later),
    // so every replica knows it before any replica signs with it.
    let list = sandbox.run_ok(&["keys", "list"]);
    assert!(list.lines().any(|l| l.starts_with(&new_kid) && l.ends_with("pending")), "{list}");
    assert!(list.lines().any(|l| l.starts_with(&old_kid) && l.ends_with("signing")), "{list}");

    // The running server starts signing with the new key; the old token still verifies.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, access) = server.obtain("gina", "gina-pass");
        if decode(&access).0["kid"] == new_kid.as_str() {
            break;
        }
        assert!(Instant::now() < deadline, "the server never picked up the rotated key");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(server.get_auth("/api/me/", &old_access).status, 200);
    let list = sandbox.run_ok(&["keys", "list"]);
    assert!(list.lines().any(|l| l.starts_with(&new_kid) && l.ends_with("signing")), "{list}");
    assert!(list.lines().any(|l| l.starts_with(&old_kid) && l.ends_with("verifying")), "{list}");

    let refused = sandbox.run(&["keys", "retire", &new_kid]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr_of(&refused).contains("is the current signing key"), "{}", stderr_of(&refused));
    sandbox.run_ok(&["keys", "retire", &old_kid]);
    let deadline = Instant::now() + Duration::from_secs(15);
    while server.get_auth("/api/me/", &old_access).status != 401 {
        assert!(Instant::now() < deadline, "the retired key kept verifying");
        std::thread::sleep(Duration::from_millis(200));
    }
}
