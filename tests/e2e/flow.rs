//! The tutorial (`shared/seeds/002`): login, /api/me/, refresh with rotation, replay,
//! verify, blacklist, logout, logout all, sliding tokens, restart.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{Sandbox, assert_token_not_valid, decode};

#[test]
fn tutorial_flow_survives_a_restart() {
    let sandbox = Sandbox::tutorial();
    sandbox.create_user("admin", "yourpassword", &["--email", "admin@example.com", "--superuser"]);
    let server = sandbox.start();

    // Login: refresh comes before access, as in simplejwt.
    let reply = server.post("/api/token/", json!({"username": "admin", "password": "yourpassword"}));
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.text.starts_with("{\"refresh\":\"ey"), "{}", reply.text);
    let (refresh1, access1) = (reply.str("refresh"), reply.str("access"));
    let (header, claims) = decode(&access1);
    assert_eq!(header["alg"], "HS256");
    assert!(header["kid"].as_str().is_some_and(|k| k.starts_with("dev-")), "{header}");
    assert_eq!(claims["token_type"], "access");
    assert!(claims["user_id"].is_string(), "{claims}");
    assert_eq!(claims["jti"].as_str().map(str::len), Some(32));
    let (_, refresh_claims) = decode(&refresh1);
    assert_eq!(refresh_claims["token_type"], "refresh");

    let wrong = server.post("/api/token/", json!({"username": "admin", "password": "nope"}));
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json(), json!({"detail": "No active account found with the given credentials"}));
    assert_eq!(wrong.www_authenticate.as_deref(), Some("Bearer realm=\"api\""));

    // The protected resource.
    let me = server.get_auth("/api/me/", &access1);
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json()["username"], "admin");
    assert_eq!(me.json()["is_superuser"], true);
    let anonymous = server.get("/api/me/");
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.json(), json!({"detail": "Authentication credentials were not provided."}));

    // Refresh with rotation, then the replay of the old refresh token.
    let rotated = server.post("/api/token/refresh/", json!({"refresh": refresh1}));
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    assert!(rotated.text.starts_with("{\"access\":"), "{}", rotated.text);
    let (refresh2, access2) = (rotated.str("refresh"), rotated.str("access"));
    assert_ne!(refresh2, refresh1);
    assert_token_not_valid(
        &server.post("/api/token/refresh/", json!({"refresh": refresh1})),
        "Token is blacklisted",
    );

    // Verify: any type; a blacklisted token is a 400, as in simplejwt.
    let ok = server.post("/api/token/verify/", json!({"token": access2}));
    assert_eq!((ok.status, ok.json()), (200, json!({})));
    let blacklisted = server.post("/api/token/verify/", json!({"token": refresh1}));
    assert_eq!(blacklisted.status, 400);
    assert_eq!(blacklisted.json(), json!({"non_field_errors": ["Token is blacklisted"]}));
    assert_token_not_valid(
        &server.post("/api/token/verify/", json!({"token": "not.a.token"})),
        "Token is invalid",
    );

    // Blacklist endpoint.
    let out = server.post("/api/token/blacklist/", json!({"refresh": refresh2}));
    assert_eq!((out.status, out.json()), (200, json!({})));
    assert_token_not_valid(
        &server.post("/api/token/refresh/", json!({"refresh": refresh2})),
        "Token is blacklisted",
    );
    // The access token of a blacklisted pair still works until it expires.
    assert_eq!(server.get_auth("/api/me/", &access2).status, 200);

    // Logout with one refresh token.
    let (refresh3, access3) = server.obtain("admin", "yourpassword");
    let bye = server.post_auth("/api/logout/", &access3, json!({"refresh_token": refresh3}));
    assert_eq!((bye.status, bye.json()), (200, json!({"status": "OK, goodbye"})));
    assert_token_not_valid(
        &server.post("/api/token/refresh/", json!({"refresh": refresh3})),
        "Token is blacklisted",
    );

    // Logout of all devices.
    let (refresh4, access4) = server.obtain("admin", "yourpassword");
    let (refresh5, _) = server.obtain("admin", "yourpassword");
    let all = server.post_auth("/api/logout/", &access4, json!({"all": "1"}));
    assert_eq!(
        (all.status, all.json()),
        (200, json!({"status": "OK, goodbye, all refresh tokens blacklisted"}))
    );
    for token in [&refresh4, &refresh5] {
        assert_token_not_valid(
            &server.post("/api/token/refresh/", json!({"refresh": token})),
            "Token is blacklisted",
        );
    }

    // Sliding tokens: same jti after a sliding refresh.
    let sliding =
        server.post("/api/token/sliding/", json!({"username": "admin", "password": "yourpassword"}));
    assert_eq!(sliding.status, 200, "{}", sliding.text);
    let token = sliding.str("token");
    let (_, claims) = decode(&token);
    assert_eq!(claims["token_type"], "sliding");
    assert!(claims["refresh_exp"].is_i64(), "{claims}");
    let slid = server.post("/api/token/sliding/refresh/", json!({"token": token}));
    assert_eq!(slid.status, 200, "{}", slid.text);
    assert_eq!(decode(&slid.str("token")).1["jti"], claims["jti"]);

    // The logs say the key is a development key and never carry a token or a password.
    let logs = server.stderr();
    assert!(logs.contains("generated a development key"), "{logs}");
    for secret in ["yourpassword", &refresh1, &access1, &refresh3, &token] {
        assert!(!logs.contains(secret), "a secret leaked into the logs:\n{logs}");
    }
    let (status, _) = server.terminate(Duration::from_secs(20));
    assert!(status.success(), "{status}");

    // Restart on the same database: the blacklist holds and the persisted key still verifies.
    let server = sandbox.start();
    for token in [&refresh1, &refresh2, &refresh4] {
        assert_token_not_valid(
            &server.post("/api/token/refresh/", json!({"refresh": token})),
            "Token is blacklisted",
        );
    }
    let me = server.get_auth("/api/me/", &access1);
    assert_eq!(me.status, 200, "old access token after restart: {}", me.text);
    let logs = server.stderr();
    assert!(!logs.contains("generated a development key"), "{logs}");
    assert!(logs.contains("signing with a generated development key"), "{logs}");
}

#[test]
fn a_second_process_on_the_same_database_rejects_a_replayed_refresh() {
    let sandbox = Sandbox::tutorial();
    sandbox.create_user("alice", "correct horse", &[]);
    let first = sandbox.start();
    let second = sandbox.start();
    let (refresh, access) = first.obtain("alice", "correct horse");
    // Both share the persisted key.
    assert_eq!(second.get_auth("/api/me/", &access).status, 200);
    let rotated = first.post("/api/token/refresh/", json!({"refresh": refresh}));
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    assert_token_not_valid(
        &second.post("/api/token/refresh/", json!({"refresh": refresh})),
        "Token is blacklisted",
    );
    // The new refresh token works on the other process.
    let again = second.post("/api/token/refresh/", json!({"refresh": rotated.str("refresh")}));
    assert_eq!(again.status, 200, "{}", again.text);
}
