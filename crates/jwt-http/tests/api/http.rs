//! Routing, trailing slashes, bad input, disabled endpoints, custom headers, CORS, request ids.

use jwt_core::Settings;
use jwt_http::HttpConfig;
use poem::http::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn every_reference_path_answers_with_and_without_its_slash() {
    let app = TestApp::new();
    let (refresh, access) = app.login_alice().await;
    for path in ["/api/token/verify/", "/api/token/verify", "/api/token/verify//"] {
        app.post(path, json!({"token": access})).await.assert(200, "{}");
    }
    for path in ["/api/me/", "/api/me"] {
        assert_eq!(app.me(&access).await.status, 200, "{path}");
        assert_eq!(app.get(path, Req::bearer(&access)).await.status, 200, "{path}");
    }
    for path in ["/api/token/refresh/", "/api/token/refresh"] {
        assert_eq!(app.post(path, json!({})).await.status, 400, "{path}");
    }
    for path in ["/api/token/blacklist", "/api/token/sliding", "/api/token/sliding/refresh", "/api/logout"] {
        let r = app.post(path, json!({})).await;
        assert!(matches!(r.status, 400 | 401), "{path}: {}", r.status);
        let r = app.post(&format!("{path}/"), json!({})).await;
        assert!(matches!(r.status, 400 | 401), "{path}/: {}", r.status);
    }
    app.post("/api/token/blacklist", json!({"refresh": refresh})).await.assert(200, "{}");
}

#[tokio::test]
async fn unknown_paths_are_json_404s() {
    let app = TestApp::new();
    for path in ["/api/nope/", "/api/token/nope", "/", "/api"] {
        let r = app.get(path, Req::default()).await;
        r.assert(404, r#"{"detail":"Not found."}"#);
    }
    app.post("/nope", json!({})).await.assert(404, r#"{"detail":"Not found."}"#);
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let app = TestApp::new();
    let big = json!({"username": "alice", "password": "x".repeat(70_000)});
    // with Content-Length
    let r = app
        .call(
            Method::POST,
            "/api/token/",
            Req::json(big.clone()).header("Content-Length", &big.to_string().len().to_string()),
        )
        .await;
    r.assert(413, r#"{"detail":"Request body exceeded 65536 bytes."}"#);
    // without Content-Length: read with a limit
    let r = app.call(Method::POST, "/api/token/", Req::json(big)).await;
    r.assert(413, r#"{"detail":"Request body exceeded 65536 bytes."}"#);

    let small = TestApp::with(peer_settings(), HttpConfig { max_body_bytes: 100, ..HttpConfig::default() });
    small
        .post("/api/token/verify/", json!({"token": "x".repeat(200)}))
        .await
        .assert(413, r#"{"detail":"Request body exceeded 100 bytes."}"#);
    small.post("/api/token/verify/", json!({"token": "x".repeat(50)})).await.assert_401(TOKEN_INVALID);
}

#[tokio::test]
async fn a_body_that_never_arrives_is_a_408_not_a_stuck_worker() {
    let config =
        HttpConfig { body_read_timeout: std::time::Duration::from_millis(200), ..HttpConfig::default() };
    let app = TestApp::with(peer_settings(), config);
    // The writer stays open and silent: the client announced a body and never sends it.
    let (_writer, reader) = tokio::io::duplex(64);
    let resp = app
        .cli
        .post("/api/token/")
        .content_type("application/json")
        .body(poem::Body::from_async_read(reader))
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::REQUEST_TIMEOUT);
    resp.assert_text(r#"{"detail":"The request body was not received in time."}"#).await;
}

#[tokio::test]
async fn bad_multipart_is_a_400() {
    let app = TestApp::new();
    app.call(Method::POST, "/api/token/", Req::raw("multipart/form-data", "garbage"))
        .await
        .assert(400, r#"{"detail":"Multipart form parse error - Invalid boundary in multipart: None"}"#);
}

#[tokio::test]
async fn a_body_without_content_type_is_415() {
    let app = TestApp::new();
    let req = Req { body: Some((String::new(), b"{}".to_vec())), ..Req::default() };
    let r = app.call(Method::POST, "/api/token/", req).await;
    r.assert(415, r#"{"detail":"Unsupported media type \"\" in request."}"#);
}

#[tokio::test]
async fn disabled_endpoints_are_absent() {
    let settings =
        Settings { sliding_tokens_enabled: false, blacklist_enabled: false, ..Settings::default() };
    let app = TestApp::with(settings.clone(), HttpConfig::default());
    for path in
        ["/api/token/sliding/", "/api/token/sliding/refresh/", "/api/token/blacklist/", "/api/logout/"]
    {
        app.post(path, json!({})).await.assert(404, r#"{"detail":"Not found."}"#);
        app.call(Method::OPTIONS, path, Req::default()).await.assert(404, r#"{"detail":"Not found."}"#);
    }
    let (refresh, access) = app.login_alice().await;
    assert_eq!(app.me(&access).await.status, 200);
    assert_eq!(app.post("/api/token/refresh/", json!({"refresh": refresh})).await.status, 200);
    let doc: serde_json::Value =
        serde_json::from_str(&jwt_http::openapi_json(&settings, &HttpConfig::default())).unwrap();
    let paths: Vec<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    for absent in
        ["/api/token/sliding/", "/api/token/sliding/refresh/", "/api/token/blacklist/", "/api/logout/"]
    {
        assert!(!paths.contains(&absent), "{absent} in {paths:?}");
    }
    assert!(paths.contains(&"/api/token/refresh/"));

    // each switch alone
    let only_sliding_off = Settings { sliding_tokens_enabled: false, ..peer_settings() };
    let app = TestApp::with(only_sliding_off, HttpConfig::default());
    assert_eq!(app.post("/api/token/sliding/", json!({})).await.status, 404);
    assert_eq!(app.post("/api/token/blacklist/", json!({})).await.status, 400);
    let only_blacklist_off = Settings { blacklist_enabled: false, ..Settings::default() };
    let app = TestApp::with(only_blacklist_off, HttpConfig::default());
    assert_eq!(app.post("/api/token/sliding/", json!({})).await.status, 400);
    assert_eq!(app.post("/api/token/blacklist/", json!({})).await.status, 404);
}

#[tokio::test]
async fn custom_header_name_and_types() {
    let settings = Settings {
        auth_header_name: "X-Access-Token".into(),
        auth_header_types: vec!["JWT".into(), "Bearer".into()],
        ..peer_settings()
    };
    let app = TestApp::with(settings.clone(), HttpConfig::default());
    let (_, access) = app.login_alice().await;
    for scheme in ["JWT", "Bearer"] {
        let r =
            app.get("/api/me/", Req::default().header("X-Access-Token", &format!("{scheme} {access}"))).await;
        assert_eq!(r.status, 200, "{scheme}: {}", r.text);
    }
    let r = app.me(&access).await; // in Authorization: ignored
    r.assert(401, NOT_PROVIDED);
    assert_eq!(r.header("www-authenticate"), Some("JWT realm=\"api\""));
    let r = app.post("/api/token/refresh/", json!({"refresh": "garbage"})).await;
    assert_eq!(r.header("www-authenticate"), Some("JWT realm=\"api\""));

    let doc: serde_json::Value =
        serde_json::from_str(&jwt_http::openapi_json(&settings, &HttpConfig::default())).unwrap();
    let scheme = &doc["components"]["securitySchemes"][jwt_http::SECURITY_SCHEME];
    assert_eq!(scheme["type"], "apiKey");
    assert_eq!(scheme["in"], "header");
    assert_eq!(scheme["name"], "X-Access-Token");
}

#[tokio::test]
async fn request_ids() {
    let app = TestApp::new();
    let r = app.get("/healthz", Req::default().header("X-Request-Id", "abc-123.DEF_4")).await;
    assert_eq!(r.header("x-request-id"), Some("abc-123.DEF_4"));
    for bad in ["has space", &"x".repeat(65), "semi;colon"] {
        let r = app.get("/healthz", Req::default().header("X-Request-Id", bad)).await;
        let id = r.header("x-request-id").unwrap();
        assert_ne!(id, bad);
        assert_eq!(id.len(), 32);
    }
    let a = app.get("/healthz", Req::default()).await;
    let b = app.post("/api/token/", json!({})).await;
    assert_ne!(a.header("x-request-id"), b.header("x-request-id"));
    assert_eq!(b.header("x-request-id").unwrap().len(), 32);
}

#[tokio::test]
async fn cors_for_configured_origins() {
    let config =
        HttpConfig { cors_allowed_origins: vec!["https://app.example.com".into()], ..HttpConfig::default() };
    let app = TestApp::with(peer_settings(), config);
    let r = app
        .call(
            Method::OPTIONS,
            "/api/token/",
            Req::default()
                .header("Origin", "https://app.example.com")
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "content-type"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("access-control-allow-origin"), Some("https://app.example.com"));
    let r = app
        .call(
            Method::POST,
            "/api/token/",
            Req::json(json!({"username": "alice", "password": ALICE_PASSWORD}))
                .header("Origin", "https://app.example.com"),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), Some("https://app.example.com"));
    let r = app.get("/healthz", Req::default().header("Origin", "https://evil.example.com")).await;
    assert_ne!(r.header("access-control-allow-origin"), Some("https://evil.example.com"));

    // no origins configured: no CORS headers
    let app = TestApp::new();
    let r = app.get("/healthz", Req::default().header("Origin", "https://app.example.com")).await;
    assert_eq!(r.header("access-control-allow-origin"), None);
}

/// Every JSON answer says `application/json`, exactly as simplejwt: successes (poem-openapi's
/// `Json` would add `; charset=utf-8`) and errors alike.
#[tokio::test]
async fn json_answers_are_application_json_without_charset() {
    let app = TestApp::new();
    let (refresh, access) = app.login_alice().await;
    let sliding = app.sliding_alice().await;
    let answers = [
        app.post("/api/token/", json!({"username": "alice", "password": ALICE_PASSWORD})).await,
        app.post("/api/token/refresh/", json!({"refresh": refresh})).await,
        app.post("/api/token/verify/", json!({"token": access})).await,
        app.post("/api/token/sliding/refresh/", json!({"token": sliding})).await,
        app.me(&access).await,
        app.post("/api/token/", json!({})).await,
        app.post("/api/token/verify/", json!({"token": "garbage"})).await,
        app.call(Method::OPTIONS, "/api/token/", Req::default()).await,
        app.get("/api/token/", Req::default()).await,
        app.get("/nope", Req::default()).await,
        app.get("/healthz", Req::default()).await,
        app.get("/readyz", Req::default()).await,
        app.get("/.well-known/jwks.json", Req::default()).await,
        app.get("/openapi.json", Req::default()).await,
    ];
    for r in answers {
        assert_eq!(r.header("content-type"), Some("application/json"), "{} {}", r.status, r.text);
    }
    assert!(app.get("/docs", Req::default()).await.header("content-type").unwrap().starts_with("text/html"));
}

/// A 405 from the operational routes lists the allowed methods (RFC 9110 §15.5.6), like the
/// DRF views do.
#[tokio::test]
async fn method_not_allowed_on_operational_routes_lists_allow() {
    let app = TestApp::new();
    for path in ["/healthz", "/readyz/", "/metrics", "/.well-known/jwks.json", "/openapi.json", "/docs"] {
        for method in [Method::POST, Method::DELETE, Method::TRACE, Method::OPTIONS] {
            let r = app.call(method.clone(), path, Req::default()).await;
            assert_eq!(r.status, 405, "{method} {path}: {}", r.text);
            assert_eq!(r.header("allow"), Some("GET, HEAD"), "{method} {path}");
            assert_eq!(r.json()["detail"], format!("Method \"{method}\" not allowed."));
        }
        assert_eq!(app.call(Method::HEAD, path, Req::default()).await.status, 200, "HEAD {path}");
    }
    // unknown paths stay 404 without Allow
    let r = app.call(Method::POST, "/nope", Req::default()).await;
    assert_eq!((r.status, r.header("allow")), (404, None));
}
