//! `jwk_url` (simplejwt's `JWK_URL`): a resource server that also accepts the tokens of
//! another jwt-server, whose keys it fetches from that server's `/.well-known/jwks.json`.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::helpers::{Sandbox, Server, assert_token_not_valid, decode};

/// A free local port (bound, then released).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `token` with one character of its signature changed.
fn tampered(token: &str) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let i = chars.len() - 10;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// `token` with its header replaced by `header` (the signature no longer matters).
fn with_header(token: &str, header: &Value) -> String {
    let (_, rest) = token.split_once('.').unwrap();
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()))
}

/// The kids a server publishes.
fn published_kids(server: &Server) -> Vec<String> {
    let reply = server.get("/.well-known/jwks.json");
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

fn verify(server: &Server, token: &str) -> crate::helpers::Reply {
    server.post("/api/token/verify/", json!({ "token": token }))
}

/// Poll `check` every 200 ms until it holds, for at most `timeout`.
fn eventually(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    check()
}

#[test]
fn a_resource_server_accepts_the_issuers_tokens_by_kid() {
    let issuer_box = Sandbox::new().env("JWT_ALGORITHM", "ES256");
    issuer_box.create_user("alice", "pw-alice", &[]);
    let issuer = issuer_box.start();
    let (_, access_a) = issuer.obtain("alice", "pw-alice");
    let issuer_kid = decode(&access_a).0["kid"].as_str().unwrap().to_owned();
    assert_eq!(published_kids(&issuer), [issuer_kid.as_str()]);

    let resource_box = Sandbox::new()
        .env("JWT_ALGORITHM", "ES256")
        .env("JWT_JWK_URL", &format!("{}/.well-known/jwks.json", issuer.base))
        .env("JWT_KEY_REFRESH_INTERVAL", "1s");
    // The bearer extractor loads the token's user_id from the resource server's own
    // database: here the same account exists on both sides with the same id.
    resource_box.create_user("alice", "another-password", &[]);
    resource_box.create_user("bob", "pw-bob", &[]);
    let resource = resource_box.start();
    assert!(resource.stderr().contains("keys of jwk_url loaded"), "{}", resource.stderr());

    // The issuer's token verifies on the resource server; a tampered one does not.
    let ok = verify(&resource, &access_a);
    assert_eq!((ok.status, ok.json()), (200, json!({})), "{}", resource.stderr());
    assert_token_not_valid(&verify(&resource, &tampered(&access_a)), "Token is invalid");
    // Through the bearer extractor too.
    let me = resource.get_auth("/api/me/", &access_a);
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json()["username"], "alice", "{}", me.text);
    assert_eq!(resource.get_auth("/api/me/", &tampered(&access_a)).status, 401);

    // A kid that neither server knows is invalid, as is a kid-less token of the issuer's key.
    let (header, _) = decode(&access_a);
    let mut unknown = header.clone();
    unknown["kid"] = json!("no-such-kid");
    assert_token_not_valid(&verify(&resource, &with_header(&access_a, &unknown)), "Token is invalid");
    let mut kidless = header;
    kidless.as_object_mut().unwrap().remove("kid");
    assert_token_not_valid(&verify(&resource, &with_header(&access_a, &kidless)), "Token is invalid");

    // The resource server's own tokens still work, and it publishes only its own key.
    let (_, access_b) = resource.obtain("bob", "pw-bob");
    let own_kid = decode(&access_b).0["kid"].as_str().unwrap().to_owned();
    assert_ne!(own_kid, issuer_kid);
    assert_eq!(verify(&resource, &access_b).status, 200);
    assert_eq!(resource.get_auth("/api/me/", &access_b).json()["username"], "bob");
    assert_eq!(published_kids(&resource), [own_kid.as_str()]);
    // The issuer knows nothing of the resource server's key.
    assert_token_not_valid(&verify(&issuer, &access_b), "Token is invalid");

    // A rotation of the resource server's own keys keeps the issuer's key.
    resource_box.run_ok(&["keys", "rotate", "--activate-in", "0s"]);
    assert!(
        eventually(Duration::from_secs(15), || {
            let (_, access) = resource.obtain("bob", "pw-bob");
            decode(&access).0["kid"] != json!(own_kid)
        }),
        "the rotated key never started signing"
    );
    assert_eq!(verify(&resource, &access_a).status, 200, "{}", resource.stderr());
    assert_eq!(verify(&resource, &access_b).status, 200);
    assert_eq!(published_kids(&resource).len(), 2);
    assert!(!published_kids(&resource).contains(&issuer_kid));
}

#[test]
fn an_unreachable_jwk_url_is_a_warning_and_is_retried() {
    let port = free_port();
    let resource_box = Sandbox::new()
        .env("JWT_ALGORITHM", "ES256")
        .env("JWT_JWK_URL", &format!("http://svc:hunter2-pw@127.0.0.1:{port}/.well-known/jwks.json"))
        .env("JWT_JWK_CACHE_TTL", "1s");
    resource_box.create_user("bob", "pw-bob", &[]);
    let resource = resource_box.start();
    let log = resource.stderr();
    assert!(log.contains("no keys from jwk_url yet"), "{log}");
    assert!(log.contains(&format!("http://127.0.0.1:{port}/.well-known/jwks.json")), "{log}");
    assert!(!log.contains("hunter2") && !log.contains("svc:"), "{log}");
    // The server works with its own keys meanwhile.
    let (_, access_b) = resource.obtain("bob", "pw-bob");
    assert_eq!(verify(&resource, &access_b).status, 200);

    // The issuer comes up at that address: its tokens are accepted after the next retry.
    let issuer_box =
        Sandbox::new().env("JWT_ALGORITHM", "ES256").env("JWT_LISTEN", &format!("127.0.0.1:{port}"));
    issuer_box.create_user("alice", "pw-alice", &[]);
    let issuer = issuer_box.start();
    let (_, access_a) = issuer.obtain("alice", "pw-alice");
    assert!(
        eventually(Duration::from_secs(15), || verify(&resource, &access_a).status == 200),
        "the issuer's token was never accepted:\n{}",
        resource.stderr()
    );
    assert!(!resource.stderr().contains("hunter2"));
}
