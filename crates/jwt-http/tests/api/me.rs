//! The observed cases of `GET /api/me/` (JWTAuthentication + IsAuthenticated).

use poem::http::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn me_ok() {
    let app = TestApp::new();
    let (_, access) = app.login_alice().await;
    let r = app.me(&access).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.starts_with(r#"{"id":1,"username":"alice","#), "{}", r.text);
    let body = r.json();
    assert_eq!(body["email"], "alice@example.com");
    assert_eq!(body["is_active"], true);
    assert_eq!(body["is_staff"], false);
    assert_eq!(body["is_superuser"], false);
    assert_eq!(body["last_login"], json!(null));
    assert_eq!(body["claims"], payload(&access));
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
    r.assert_no_challenge();
}

#[tokio::test]
async fn me_reports_last_login() {
    let settings = jwt_core::Settings { update_last_login: true, ..peer_settings() };
    let app = TestApp::with(settings, jwt_http::HttpConfig::default());
    let (_, access) = app.login_alice().await;
    assert_eq!(app.me(&access).await.json()["last_login"], "2026-11-24T12:24:43Z");
}

#[tokio::test]
async fn me_without_credentials() {
    let app = TestApp::new();
    let (_, access) = app.login_alice().await;
    let cases = [
        Req::default(),
        Req::default().header("Authorization", ""),
        Req::default().header("Authorization", &format!("Token {access}")),
        Req::default().header("Authorization", &format!("bearer {access}")),
        // a header without a scheme is anonymous too
        Req::default().header("Authorization", &access),
    ];
    for req in cases {
        let r = app.get("/api/me/", req).await;
        r.assert_401(NOT_PROVIDED);
        assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
    }
}

#[tokio::test]
async fn me_bad_authorization_header() {
    let app = TestApp::new();
    let (_, access) = app.login_alice().await;
    for header in ["Bearer".to_owned(), format!("Bearer {access} extra"), format!("Bearer {access} {access}")]
    {
        app.get("/api/me/", Req::default().header("Authorization", &header)).await.assert_401(BAD_HEADER);
    }
    // two Authorization headers reach Django joined by a comma: not two words
    let r = app
        .get(
            "/api/me/",
            Req::default()
                .header("Authorization", &format!("Bearer {access}"))
                .header("Authorization", "Bearer x y"),
        )
        .await;
    r.assert_401(BAD_HEADER);
}

#[tokio::test]
async fn me_extra_spaces() {
    let app = TestApp::new();
    let (_, access) = app.login_alice().await;
    let r = app.get("/api/me/", Req::default().header("Authorization", &format!("Bearer    {access}"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.starts_with(r#"{"id":1,"username":"alice""#));
}

#[tokio::test]
async fn me_token_not_valid_for_any_type() {
    let app = TestApp::new();
    let (refresh, access) = app.login_alice().await;
    let sliding = app.sliding_alice().await;
    let cases = [
        (refresh, "Token has wrong type"),
        (sliding, "Token has wrong type"),
        (sign(&claims("access", -1)), "Token is expired"),
        ("not-a-jwt".to_owned(), "Token is invalid"),
        (tampered(&access), "Token is invalid"),
        (sign(&without(claims("access", 60), "jti")), "Token has no id"),
        (sign(&without(claims("access", 60), "token_type")), "Token has no type"),
        (unsigned(&claims("access", 60)), "Token is invalid"),
        ("a".repeat(9000), "Token is invalid"),
    ];
    for (token, message) in cases {
        app.me(&token).await.assert_401(&not_valid_for_any(message));
    }
}

#[tokio::test]
async fn me_user_checks() {
    let app = TestApp::new();
    app.me(&sign(&without(claims("access", 60), "user_id"))).await.assert_401(
        r#"{"detail":"Token contained no recognizable user identification","code":"token_not_valid"}"#,
    );
    let r = app.me(&sign(&with(claims("access", 60), "user_id", json!(1)))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.starts_with(r#"{"id":1,"username":"alice""#));
    let (_, bob_access) = app.pair_for("2").await;
    app.me(&bob_access).await.assert_401(r#"{"detail":"User is inactive","code":"user_inactive"}"#);
    let (_, carol_access, _) = app.deleted_carol().await;
    app.me(&carol_access).await.assert_401(r#"{"detail":"User not found","code":"user_not_found"}"#);
}

#[tokio::test]
async fn me_methods() {
    let app = TestApp::new();
    let (_, access) = app.login_alice().await;
    let r = app.call(Method::POST, "/api/me/", Req::bearer(&access).with_json(json!({}))).await;
    r.assert(405, r#"{"detail":"Method \"POST\" not allowed."}"#);
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
    // DRF authenticates before it checks the method
    app.call(Method::POST, "/api/me/", Req::json(json!({}))).await.assert_401(NOT_PROVIDED);
    let r = app.call(Method::OPTIONS, "/api/me", Req::bearer(&access)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["name"], "Me");
    let r = app.call(Method::HEAD, "/api/me/", Req::bearer(&access)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text, "");
}
