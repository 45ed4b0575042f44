//! The observed cases of `/api/token/`, `/api/token/refresh/`, `/api/token/verify/` and
//! `/api/token/blacklist/` (simplejwt-observed.md), plus our deliberate fixes.

use jsonwebtoken::Algorithm;
use poem::http::Method;
use serde_json::json;

use crate::helpers::*;

// ---- obtain ---------------------------------------------------------------------------

#[tokio::test]
async fn obtain_ok() {
    let app = TestApp::new();
    let r = app.post("/api/token/", json!({"username": "alice", "password": ALICE_PASSWORD})).await;
    assert_eq!(r.status, 200);
    r.assert_no_challenge();
    assert!(r.text.starts_with(r#"{"refresh":"eyJ"#), "refresh comes first: {}", r.text);
    let keys: Vec<String> = r.json().as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["refresh", "access"]);
    let refresh = payload(&r.str("refresh"));
    let access = payload(&r.str("access"));
    assert_eq!(refresh["token_type"], "refresh");
    assert_eq!(refresh["user_id"], "1");
    assert_eq!(refresh["exp"], NOW + 86_400);
    assert_eq!(access["token_type"], "access");
    assert_eq!(access["exp"], NOW + 300);
    assert_eq!(access["jti"].as_str().unwrap().len(), 32);
    assert_eq!(r.header("allow"), Some("POST, OPTIONS"));
    assert_eq!(r.header("vary"), Some("Accept"));
    // simplejwt's exact header (poem-openapi's own would add `; charset=utf-8`)
    assert_eq!(r.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn obtain_missing_fields() {
    let app = TestApp::new();
    app.post("/api/token/", json!({}))
        .await
        .assert(400, r#"{"username":["This field is required."],"password":["This field is required."]}"#);
    app.post("/api/token/", json!({"username": "alice"}))
        .await
        .assert(400, r#"{"password":["This field is required."]}"#);
    app.post("/api/token/", json!({"password": "x"}))
        .await
        .assert(400, r#"{"username":["This field is required."]}"#);
}

#[tokio::test]
async fn obtain_blank_null_and_non_strings() {
    let app = TestApp::new();
    let r = app.post("/api/token/", json!({"username": "", "password": null})).await;
    r.assert(
        400,
        r#"{"username":["This field may not be blank."],"password":["This field may not be null."]}"#,
    );
    r.assert_no_challenge();
    app.post("/api/token/", json!({"username": ["alice"], "password": true}))
        .await
        .assert(400, r#"{"username":["Not a valid string."],"password":["Not a valid string."]}"#);
    app.post("/api/token/", json!({"username": {"a": 1}, "password": "   "}))
        .await
        .assert(400, r#"{"username":["Not a valid string."],"password":["This field may not be blank."]}"#);
    app.post("/api/token/", json!({"username": "ali\u{0}ce", "password": "x"}))
        .await
        .assert(400, r#"{"username":["Null characters are not allowed."]}"#);
    // numbers are accepted as strings (DRF's CharField): an unknown user, so 401
    app.post("/api/token/", json!({"username": 42, "password": 1.5})).await.assert_401(BAD_CREDENTIALS);
}

#[tokio::test]
async fn obtain_failures_are_indistinguishable() {
    let app = TestApp::new();
    for (username, password) in [("alice", "wrong"), ("nobody", "x"), ("bob", BOB_PASSWORD)] {
        let r = app.post("/api/token/", json!({"username": username, "password": password})).await;
        r.assert_401(BAD_CREDENTIALS);
        assert_eq!(r.header("allow"), Some("POST, OPTIONS"));
    }
}

#[tokio::test]
async fn obtain_trims_username_and_password() {
    let app = TestApp::new();
    let r = app
        .post("/api/token/", json!({"username": " alice ", "password": "  correct horse battery staple  "}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(payload(&r.str("access"))["user_id"], "1");
}

#[tokio::test]
async fn obtain_form_and_multipart() {
    let app = TestApp::new();
    let r = app
        .call(
            Method::POST,
            "/api/token/",
            Req::raw(
                "application/x-www-form-urlencoded",
                "username=alice&password=correct+horse+battery+staple",
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json()["refresh"].is_string());

    let form = poem::test::TestForm::new().text("username", "alice").text("password", ALICE_PASSWORD);
    let r = app.call(Method::POST, "/api/token/", Req { multipart: Some(form), ..Req::default() }).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json()["access"].is_string());

    // form fields follow the same CharField rules; the last value of a repeated key wins
    app.call(Method::POST, "/api/token/", Req::raw("application/x-www-form-urlencoded", "username=&x=1"))
        .await
        .assert(
            400,
            r#"{"username":["This field may not be blank."],"password":["This field is required."]}"#,
        );
    let r = app
        .call(
            Method::POST,
            "/api/token/",
            Req::raw(
                "application/x-www-form-urlencoded",
                "username=bob&username=alice&password=correct%20horse%20battery%20staple",
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // a file part is not a string
    let form = poem::test::TestForm::new()
        .field(poem::test::TestFormField::bytes(b"alice".to_vec()).name("username").filename("u.txt"))
        .text("password", ALICE_PASSWORD);
    app.call(Method::POST, "/api/token/", Req { multipart: Some(form), ..Req::default() })
        .await
        .assert(400, r#"{"username":["Not a valid string."]}"#);
}

#[tokio::test]
async fn obtain_malformed_json() {
    let app = TestApp::new();
    let r =
        app.call(Method::POST, "/api/token/", Req::raw("application/json", r#"{"username": "alice","#)).await;
    r.assert(
        400,
        r#"{"detail":"JSON parse error - Expecting property name enclosed in double quotes: line 1 column 22 (char 21)"}"#,
    );
    r.assert_no_challenge();
    app.call(Method::POST, "/api/token/", Req::raw("application/json", "{\"username\": }"))
        .await
        .assert(400, r#"{"detail":"JSON parse error - Expecting value: line 1 column 14 (char 13)"}"#);
    app.call(Method::POST, "/api/token/", Req::raw("application/json", vec![b'{', 0xff, b'}']))
        .await
        .assert(
            400,
            r#"{"detail":"JSON parse error - 'utf-8' codec can't decode byte 0xff in position 1: invalid start byte"}"#,
        );
}

#[tokio::test]
async fn obtain_unsupported_media_type() {
    let app = TestApp::new();
    let r = app.call(Method::POST, "/api/token/", Req::raw("text/plain", "hello")).await;
    r.assert(415, r#"{"detail":"Unsupported media type \"text/plain\" in request."}"#);
    assert_eq!(r.header("allow"), Some("POST, OPTIONS"));
    app.call(Method::POST, "/api/token/", Req::raw("application/xml", "<a/>"))
        .await
        .assert(415, r#"{"detail":"Unsupported media type \"application/xml\" in request."}"#);
    // an empty body is empty data whatever its type, as in DRF
    app.call(Method::POST, "/api/token/", Req::raw("text/plain", ""))
        .await
        .assert(400, r#"{"username":["This field is required."],"password":["This field is required."]}"#);
}

#[tokio::test]
async fn obtain_json_that_is_not_an_object() {
    let app = TestApp::new();
    app.call(Method::POST, "/api/token/", Req::raw("application/json", r#"["alice"]"#))
        .await
        .assert(400, r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}"#);
    for (body, ty) in [(r#""alice""#, "str"), ("42", "int"), ("4.2", "float"), ("true", "bool")] {
        app.call(Method::POST, "/api/token/", Req::raw("application/json", body)).await.assert(
            400,
            &format!(r#"{{"non_field_errors":["Invalid data. Expected a dictionary, but got {ty}."]}}"#),
        );
    }
    app.call(Method::POST, "/api/token/", Req::raw("application/json", "null"))
        .await
        .assert(400, r#"{"non_field_errors":["This field may not be null."]}"#);
}

#[tokio::test]
async fn obtain_get_and_options() {
    let app = TestApp::new();
    let r = app.get("/api/token/", Req::default()).await;
    r.assert(405, r#"{"detail":"Method \"GET\" not allowed."}"#);
    assert_eq!(r.header("allow"), Some("POST, OPTIONS"));
    r.assert_no_challenge();
    let r = app.call(Method::PUT, "/api/token/refresh/", Req::json(json!({}))).await;
    r.assert(405, r#"{"detail":"Method \"PUT\" not allowed."}"#);

    let r = app.call(Method::OPTIONS, "/api/token/", Req::default()).await;
    r.assert(
        200,
        r#"{"name":"Token Obtain Pair","description":"Takes a set of user credentials and returns an access and refresh JSON web\ntoken pair to prove the authentication of those credentials.","renders":["application/json","text/html"],"parses":["application/json","application/x-www-form-urlencoded","multipart/form-data"],"actions":{"POST":{"username":{"type":"string","required":true,"read_only":false,"label":"Username"},"password":{"type":"string","required":true,"read_only":false,"label":"Password"}}}}"#,
    );
    assert_eq!(r.header("allow"), Some("POST, OPTIONS"));
    let r = app.call(Method::OPTIONS, "/api/token/refresh", Req::default()).await;
    assert_eq!(r.json()["name"], "Token Refresh");
    assert_eq!(r.json()["actions"]["POST"]["access"]["read_only"], true);
}

#[tokio::test]
async fn obtain_without_trailing_slash_answers_directly() {
    // simplejwt answers 301 to /api/token/; we serve both paths.
    let app = TestApp::new();
    let r = app.post("/api/token", json!({"username": "alice", "password": ALICE_PASSWORD})).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

// ---- refresh --------------------------------------------------------------------------

#[tokio::test]
async fn refresh_ok_rotates_and_reuse_is_blacklisted() {
    let app = TestApp::new();
    let (refresh, _) = app.login_alice().await;
    app.advance(2);
    let r = app.post("/api/token/refresh/", json!({"refresh": refresh})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let keys: Vec<String> = r.json().as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["access", "refresh"]);
    let old = payload(&refresh);
    let new = payload(&r.str("refresh"));
    assert_ne!(old["jti"], new["jti"]);
    assert_eq!(new["exp"], NOW + 2 + 86_400);
    assert_eq!(new["iat"], NOW + 2);
    assert_eq!(payload(&r.str("access"))["exp"], NOW + 2 + 300);

    let r = app.post("/api/token/refresh/", json!({"refresh": refresh})).await;
    r.assert_401(BLACKLISTED);
    assert_eq!(r.header("allow"), Some("POST, OPTIONS"));
}

#[tokio::test]
async fn refresh_without_rotation_returns_access_only() {
    let app = TestApp::with(jwt_core::Settings::default(), jwt_http::HttpConfig::default());
    let (refresh, _) = app.login_alice().await;
    let r = app.post("/api/token/refresh", json!({"refresh": refresh})).await;
    assert_eq!(r.status, 200);
    assert!(r.text.starts_with(r#"{"access":""#) && !r.text.contains("refresh"), "{}", r.text);
}

#[tokio::test]
async fn refresh_missing() {
    let app = TestApp::new();
    app.post("/api/token/refresh/", json!({}))
        .await
        .assert(400, r#"{"refresh":["This field is required."]}"#);
}

#[tokio::test]
async fn refresh_token_errors() {
    let app = TestApp::new();
    let (refresh, access) = app.login_alice().await;
    let cases = [
        (access.clone(), WRONG_TYPE),
        (sign(&claims("refresh", -10)), TOKEN_EXPIRED),
        ("not-a-jwt".to_owned(), TOKEN_INVALID),
        (tampered(&refresh), TOKEN_INVALID),
        (
            sign(&without(claims("refresh", 3600), "exp")),
            r#"{"detail":"Token has no 'exp' claim","code":"token_not_valid"}"#,
        ),
        (
            sign(&without(claims("refresh", 3600), "token_type")),
            r#"{"detail":"Token has no type","code":"token_not_valid"}"#,
        ),
        // simplejwt 5.5.1 answers HTML 500 here; we answer 401 "Token has no id"
        (
            sign(&without(claims("refresh", 3600), "jti")),
            r#"{"detail":"Token has no id","code":"token_not_valid"}"#,
        ),
        (app.sliding_alice().await, WRONG_TYPE),
        ("x".repeat(9000), TOKEN_INVALID),
    ];
    for (token, body) in cases {
        app.post("/api/token/refresh/", json!({"refresh": token})).await.assert_401(body);
    }
}

#[tokio::test]
async fn refresh_of_inactive_and_deleted_users() {
    let app = TestApp::new();
    let (bob_refresh, _) = app.pair_for("2").await;
    app.post("/api/token/refresh/", json!({"refresh": bob_refresh})).await.assert_401(NO_ACCOUNT_FOR_TOKEN);
    // simplejwt 5.5.1 answers HTML 500 for a deleted user; we answer like master
    let (carol_refresh, _, _) = app.deleted_carol().await;
    app.post("/api/token/refresh/", json!({"refresh": carol_refresh})).await.assert_401(NO_ACCOUNT_FOR_TOKEN);
}

// ---- verify ---------------------------------------------------------------------------

#[tokio::test]
async fn verify_accepts_any_valid_token() {
    let app = TestApp::new();
    let (refresh, access) = app.login_alice().await;
    for token in
        [access, refresh, sign(&claims("fake_type", 60)), sign(&without(claims("x", 60), "token_type"))]
    {
        let r = app.post("/api/token/verify/", json!({"token": token})).await;
        r.assert(200, "{}");
        r.assert_no_challenge();
    }
}

#[tokio::test]
async fn verify_blacklisted_is_a_400() {
    let app = TestApp::new();
    let (refresh, _) = app.login_alice().await;
    assert_eq!(app.post("/api/token/refresh/", json!({"refresh": refresh})).await.status, 200);
    let r = app.post("/api/token/verify/", json!({"token": refresh})).await;
    r.assert(400, r#"{"non_field_errors":["Token is blacklisted"]}"#);
    r.assert_no_challenge();
}

#[tokio::test]
async fn verify_failures() {
    let app = TestApp::new();
    let (_, access) = app.login_alice().await;
    let mut future = claims("access", 7200);
    future["iat"] = json!(NOW + 3600);
    let cases = [
        (sign(&claims("access", -1)), TOKEN_EXPIRED),
        ("abc.def.ghi".to_owned(), TOKEN_INVALID),
        (tampered(&access), TOKEN_INVALID),
        (
            sign_with(&claims("access", 60), b"another HS256 key, also 32 bytes long!", Algorithm::HS256),
            TOKEN_INVALID,
        ),
        (sign_with(&claims("access", 60), SECRET, Algorithm::HS512), TOKEN_INVALID),
        (unsigned(&claims("access", 60)), TOKEN_INVALID),
        (sign(&future), TOKEN_INVALID),
        (
            sign(&without(claims("access", 60), "jti")),
            r#"{"detail":"Token has no id","code":"token_not_valid"}"#,
        ),
        (
            sign(&without(claims("access", 60), "exp")),
            r#"{"detail":"Token has no 'exp' claim","code":"token_not_valid"}"#,
        ),
    ];
    for (token, body) in cases {
        app.post("/api/token/verify/", json!({"token": token})).await.assert_401(body);
    }
}

#[tokio::test]
async fn verify_missing_and_blank() {
    let app = TestApp::new();
    app.post("/api/token/verify/", json!({})).await.assert(400, r#"{"token":["This field is required."]}"#);
    app.post("/api/token/verify/", json!({"token": ""}))
        .await
        .assert(400, r#"{"token":["This field may not be blank."]}"#);
}

#[tokio::test]
async fn verify_ignores_users() {
    let app = TestApp::new();
    let (_, carol_access, _) = app.deleted_carol().await;
    let (_, bob_access) = app.pair_for("2").await;
    app.post("/api/token/verify/", json!({"token": carol_access})).await.assert(200, "{}");
    app.post("/api/token/verify/", json!({"token": bob_access})).await.assert(200, "{}");
}

// ---- blacklist ------------------------------------------------------------------------

#[tokio::test]
async fn blacklist_flow() {
    let app = TestApp::new();
    let (refresh, access) = app.login_alice().await;
    app.post("/api/token/blacklist/", json!({"refresh": refresh})).await.assert(200, "{}");
    app.post("/api/token/blacklist/", json!({"refresh": refresh})).await.assert_401(BLACKLISTED);
    app.post("/api/token/refresh/", json!({"refresh": refresh})).await.assert_401(BLACKLISTED);
    // the access token of the blacklisted pair stays valid
    let r = app.me(&access).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.starts_with(r#"{"id":1,"username":"alice""#), "{}", r.text);
}

#[tokio::test]
async fn blacklist_failures() {
    let app = TestApp::new();
    let (_, access) = app.login_alice().await;
    app.post("/api/token/blacklist/", json!({"refresh": access})).await.assert_401(WRONG_TYPE);
    app.post("/api/token/blacklist/", json!({"refresh": sign(&claims("refresh", -5))}))
        .await
        .assert_401(TOKEN_EXPIRED);
    app.post("/api/token/blacklist/", json!({}))
        .await
        .assert(400, r#"{"refresh":["This field is required."]}"#);
    app.post("/api/token/blacklist/", json!({"refresh": sign(&without(claims("refresh", 60), "jti"))}))
        .await
        .assert_401(r#"{"detail":"Token has no id","code":"token_not_valid"}"#);
}

#[tokio::test]
async fn blacklist_of_a_deleted_users_token() {
    let app = TestApp::new();
    let (carol_refresh, _, _) = app.deleted_carol().await;
    app.post("/api/token/blacklist/", json!({"refresh": carol_refresh})).await.assert(200, "{}");
}
