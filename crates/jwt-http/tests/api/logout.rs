//! `POST /api/logout/` from the tutorial: one refresh token, or every token of the user.

use poem::http::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn logout(app: &TestApp, access: &str, body: Value) -> Reply {
    app.call(Method::POST, "/api/logout/", Req::bearer(access).with_json(body)).await
}

#[tokio::test]
async fn logout_one_refresh_token() {
    let app = TestApp::new();
    let (refresh, access) = app.login_alice().await;
    let (other_refresh, _) = app.login_alice().await;
    let r = logout(&app, &access, json!({"refresh_token": refresh})).await;
    r.assert(200, r#"{"status":"OK, goodbye"}"#);
    app.post("/api/token/refresh/", json!({"refresh": refresh})).await.assert_401(BLACKLISTED);
    // the other device is still logged in
    assert_eq!(app.post("/api/token/refresh/", json!({"refresh": other_refresh})).await.status, 200);
    // `refresh` is accepted too; a token already blacklisted answers as on /api/token/blacklist/
    logout(&app, &access, json!({"refresh": refresh})).await.assert_401(BLACKLISTED);
}

#[tokio::test]
async fn logout_all_devices() {
    let app = TestApp::new();
    let (refresh1, access) = app.login_alice().await;
    let (refresh2, _) = app.login_alice().await;
    let sliding = app.sliding_alice().await;
    let (bob_refresh, _) = app.pair_for("2").await;
    let r = logout(&app, &access, json!({"all": "1"})).await;
    r.assert(200, r#"{"status":"OK, goodbye, all refresh tokens blacklisted"}"#);
    for refresh in [refresh1, refresh2] {
        app.post("/api/token/refresh/", json!({"refresh": refresh})).await.assert_401(BLACKLISTED);
    }
    app.post("/api/token/sliding/refresh/", json!({"token": sliding})).await.assert_401(BLACKLISTED);
    // other users are untouched
    app.post("/api/token/verify/", json!({"token": bob_refresh})).await.assert(200, "{}");
}

#[tokio::test]
async fn logout_all_is_python_truthiness() {
    for truthy in [json!(true), json!(1), json!("0"), json!("yes"), json!([1])] {
        let app = TestApp::new();
        let (_, access) = app.login_alice().await;
        let r = logout(&app, &access, json!({"all": truthy})).await;
        r.assert(200, r#"{"status":"OK, goodbye, all refresh tokens blacklisted"}"#);
    }
    let app = TestApp::new();
    let (refresh, access) = app.login_alice().await;
    for falsy in [json!(false), json!(0), json!(""), json!(null)] {
        logout(&app, &access, json!({"all": falsy}))
            .await
            .assert(400, r#"{"refresh_token":["This field is required."]}"#);
    }
    logout(&app, &access, json!({"all": false, "refresh_token": refresh}))
        .await
        .assert(200, r#"{"status":"OK, goodbye"}"#);
    // form bodies: "all=1"
    let (_, access) = app.login_alice().await;
    let r = app
        .call(
            Method::POST,
            "/api/logout",
            Req::bearer(&access).header("Content-Type", "application/x-www-form-urlencoded"),
        )
        .await;
    r.assert(400, r#"{"refresh_token":["This field is required."]}"#);
    let mut req = Req::raw("application/x-www-form-urlencoded", "all=1");
    req.headers.push(("Authorization".into(), format!("Bearer {access}")));
    app.call(Method::POST, "/api/logout/", req)
        .await
        .assert(200, r#"{"status":"OK, goodbye, all refresh tokens blacklisted"}"#);
}

#[tokio::test]
async fn logout_failures() {
    let app = TestApp::new();
    let (refresh, access) = app.login_alice().await;
    // authentication comes first
    app.post("/api/logout/", json!({"refresh_token": refresh})).await.assert_401(NOT_PROVIDED);
    app.call(Method::POST, "/api/logout/", Req::bearer(&refresh).with_json(json!({"all": 1})))
        .await
        .assert_401(&not_valid_for_any("Token has wrong type"));
    logout(&app, &access, json!({})).await.assert(400, r#"{"refresh_token":["This field is required."]}"#);
    logout(&app, &access, json!({"refresh_token": ""}))
        .await
        .assert(400, r#"{"refresh_token":["This field may not be blank."]}"#);
    logout(&app, &access, json!({"refresh_token": access})).await.assert_401(WRONG_TYPE);
    logout(&app, &access, json!({"refresh_token": "garbage"})).await.assert_401(TOKEN_INVALID);
    let r = app.get("/api/logout/", Req::bearer(&access)).await;
    r.assert(405, r#"{"detail":"Method \"GET\" not allowed."}"#);
    assert_eq!(r.header("allow"), Some("POST, OPTIONS"));
    app.get("/api/logout/", Req::default()).await.assert_401(NOT_PROVIDED);
}
