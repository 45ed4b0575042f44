//! The observed cases of `/api/token/sliding/` and `/api/token/sliding/refresh/`.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn sliding_obtain() {
    let app = TestApp::new();
    let r = app.post("/api/token/sliding/", json!({"username": "alice", "password": ALICE_PASSWORD})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.starts_with(r#"{"token":"eyJ"#));
    let claims = payload(&r.str("token"));
    let keys: Vec<&str> = claims.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["token_type", "exp", "iat", "jti", "refresh_exp", "user_id"]);
    assert_eq!(claims["exp"], NOW + 300);
    assert_eq!(claims["refresh_exp"], NOW + 86_400);
}

#[tokio::test]
async fn sliding_obtain_failures() {
    let app = TestApp::new();
    app.post("/api/token/sliding/", json!({"username": "alice", "password": "nope"}))
        .await
        .assert_401(BAD_CREDENTIALS);
    app.post("/api/token/sliding/", json!({"username": "bob", "password": BOB_PASSWORD}))
        .await
        .assert_401(BAD_CREDENTIALS);
    app.post("/api/token/sliding/", json!({}))
        .await
        .assert(400, r#"{"username":["This field is required."],"password":["This field is required."]}"#);
}

#[tokio::test]
async fn sliding_refresh_keeps_jti_and_old_copies_stay_usable() {
    let app = TestApp::new();
    let original = app.sliding_alice().await;
    app.advance(2);
    let r = app.post("/api/token/sliding/refresh/", json!({"token": original})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (old, new) = (payload(&original), payload(&r.str("token")));
    assert_eq!(new["jti"], old["jti"]);
    assert_eq!(new["refresh_exp"], old["refresh_exp"]);
    assert_eq!(new["exp"], NOW + 2 + 300);
    assert_eq!(new["iat"], NOW + 2);
    // refreshing the ORIGINAL again works and gives the same token at the same instant
    let again = app.post("/api/token/sliding/refresh/", json!({"token": original})).await;
    again.assert(200, &r.text);
}

#[tokio::test]
async fn sliding_refresh_failures() {
    let app = TestApp::new();
    let (_, access) = app.login_alice().await;
    let cases = [
        (
            sign(&with(claims("sliding", 300), "refresh_exp", json!(NOW - 1))),
            r#"{"detail":"Token 'refresh_exp' claim has expired","code":"token_not_valid"}"#,
        ),
        (
            sign(&claims("sliding", 300)),
            r#"{"detail":"Token has no 'refresh_exp' claim","code":"token_not_valid"}"#,
        ),
        (sign(&with(claims("sliding", -1), "refresh_exp", json!(NOW + 3600))), TOKEN_EXPIRED),
        (access, WRONG_TYPE),
    ];
    for (token, body) in cases {
        app.post("/api/token/sliding/refresh/", json!({"token": token})).await.assert_401(body);
    }
    app.post("/api/token/sliding/refresh/", json!({}))
        .await
        .assert(400, r#"{"token":["This field is required."]}"#);
}

#[tokio::test]
async fn sliding_refresh_of_a_blacklisted_token() {
    let app = TestApp::new();
    let sliding = app.sliding_alice().await;
    let (_, access) = app.login_alice().await;
    let r = app
        .call(poem::http::Method::POST, "/api/logout/", Req::bearer(&access).with_json(json!({"all": true})))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.post("/api/token/sliding/refresh/", json!({"token": sliding})).await.assert_401(BLACKLISTED);
}

#[tokio::test]
async fn sliding_refresh_checks_the_user() {
    // simplejwt 5.5.1 refreshes these (200); we refuse them, as its master does.
    let app = TestApp::new();
    let bob = app.sliding_for("2").await;
    app.post("/api/token/sliding/refresh/", json!({"token": bob})).await.assert_401(NO_ACCOUNT_FOR_TOKEN);
    let (_, _, carol) = app.deleted_carol().await;
    app.post("/api/token/sliding/refresh/", json!({"token": carol})).await.assert_401(NO_ACCOUNT_FOR_TOKEN);
}
