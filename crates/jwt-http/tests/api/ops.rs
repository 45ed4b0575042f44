//! `/healthz`, `/readyz`, `/metrics`, `/.well-known/jwks.json`, `/openapi.json`, `/docs`,
//! and the 503 answers of a database outage.

use std::sync::Arc;

use async_trait::async_trait;
use jwt_core::memory::{Fault, FaultyStore, InMemoryTokenStore};
use jwt_http::{HttpConfig, Readiness};
use poem::http::Method;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn healthz() {
    let app = TestApp::new();
    app.get("/healthz", Req::default()).await.assert(200, r#"{"status":"ok"}"#);
    app.get("/healthz/", Req::default()).await.assert(200, r#"{"status":"ok"}"#);
}

/// Readiness that follows the faulty store: the database is "down" with it.
struct StoreReadiness(Arc<FaultyStore>);

#[async_trait]
impl Readiness for StoreReadiness {
    async fn check(&self) -> Result<(), String> {
        self.0.check().map_err(|e| e.to_string())
    }
}

fn faulty_app() -> (TestApp, Arc<FaultyStore>) {
    let store = FaultyStore::new(InMemoryTokenStore::new());
    let app = TestApp::with_store(
        peer_settings(),
        HttpConfig::default(),
        store.clone(),
        Arc::new(StoreReadiness(store.clone())),
    );
    (app, store)
}

const UNAVAILABLE: &str =
    r#"{"detail":"Service temporarily unavailable, try again later.","code":"service_unavailable"}"#;

#[tokio::test]
async fn database_outage_is_503_and_recovers_by_itself() {
    let (app, switch) = faulty_app();
    let (refresh, access) = app.login_alice().await;
    app.get("/readyz", Req::default()).await.assert(200, r#"{"status":"ok"}"#);

    switch.set(Fault::Unavailable);
    let r = app.post("/api/token/", json!({"username": "alice", "password": ALICE_PASSWORD})).await;
    r.assert(503, UNAVAILABLE);
    assert_eq!(r.header("retry-after"), Some("5"));
    r.assert_no_challenge();
    assert!(!r.text.contains("db.internal"));
    app.post("/api/token/refresh/", json!({"refresh": refresh})).await.assert(503, UNAVAILABLE);
    app.post("/api/token/blacklist/", json!({"refresh": refresh})).await.assert(503, UNAVAILABLE);
    let r = app.get("/readyz", Req::default()).await;
    r.assert(503, r#"{"status":"unavailable"}"#);
    assert!(r.header("retry-after").is_some());
    // access tokens need no store: /api/me/ keeps working
    assert_eq!(app.me(&access).await.status, 200);
    // a bad token is still a 401, not a 503
    app.post("/api/token/verify/", json!({"token": "garbage"})).await.assert_401(TOKEN_INVALID);

    switch.set(Fault::None);
    assert_eq!(app.post("/api/token/refresh/", json!({"refresh": refresh})).await.status, 200);
    app.login_alice().await;
    app.get("/readyz", Req::default()).await.assert(200, r#"{"status":"ok"}"#);
}

#[tokio::test]
async fn internal_failures_are_json_500s_without_details() {
    let (app, switch) = faulty_app();
    let (refresh, _) = app.login_alice().await;
    for mode in [Fault::Backend, Fault::Panic] {
        switch.set(mode);
        for r in [
            app.post("/api/token/", json!({"username": "alice", "password": ALICE_PASSWORD})).await,
            app.post("/api/token/refresh/", json!({"refresh": refresh})).await,
        ] {
            r.assert(500, r#"{"detail":"A server error occurred.","code":"internal_error"}"#);
            assert!(r.header("x-request-id").is_some());
        }
    }
    switch.set(Fault::None);
    assert_eq!(app.post("/api/token/refresh/", json!({"refresh": refresh})).await.status, 200);
    assert!(
        app.metrics()
            .await
            .contains(r#"http_requests_total{method="POST",route="/api/token/",status="500"} 2"#)
    );
}

#[tokio::test]
async fn metrics_count_requests_and_tokens() {
    let app = TestApp::new();
    let (refresh, _) = app.login_alice().await;
    app.post("/api/token/refresh/", json!({"refresh": refresh})).await;
    app.post("/api/token/refresh/", json!({"refresh": refresh})).await; // reuse: blacklisted
    app.post("/api/token/verify/", json!({"token": sign(&claims("access", -1))})).await; // expired
    app.post("/api/token/", json!({"username": "alice", "password": "wrong"})).await;
    app.post("/api/token/sliding/", json!({"username": "alice", "password": ALICE_PASSWORD})).await;
    app.post("/api/token/blacklist/", json!({"refresh": app.login_alice().await.0})).await;
    app.get("/api/me/", Req::default()).await;
    app.get("/nope/", Req::default()).await;

    let text = app.metrics().await;
    for line in [
        r#"http_requests_total{method="POST",route="/api/token/",status="200"} 2"#,
        r#"http_requests_total{method="POST",route="/api/token/",status="401"} 1"#,
        r#"http_requests_total{method="POST",route="/api/token/refresh/",status="401"} 1"#,
        r#"http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        r#"jwt_tokens_issued_total{token_type="access"} 3"#,
        r#"jwt_tokens_issued_total{token_type="refresh"} 3"#,
        r#"jwt_tokens_issued_total{token_type="sliding"} 1"#,
        r#"jwt_tokens_refreshed_total{token_type="refresh"} 1"#,
        r#"jwt_tokens_blacklisted_total 1"#,
        r#"jwt_tokens_rejected_total{reason="blacklisted"} 1"#,
        r#"jwt_tokens_rejected_total{reason="expired"} 1"#,
        r#"jwt_tokens_rejected_total{reason="no_active_account"} 1"#,
        r#"jwt_tokens_rejected_total{reason="not_authenticated"} 1"#,
        r#"http_request_duration_seconds_count{method="POST",route="/api/token/refresh/"} 2"#,
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    let r = app.get("/metrics", Req::default()).await;
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
}

#[tokio::test]
async fn jwks_lists_no_secret_for_hmac() {
    let app = TestApp::new();
    let r = app.get("/.well-known/jwks.json", Req::default()).await;
    r.assert(200, r#"{"keys":[]}"#);
}

#[tokio::test]
async fn jwks_publishes_asymmetric_keys() {
    use jwt_core::{Algorithm, KeySet, SigningKey, TokenEngine, TokenService};
    let (service, _, _) = service_with(peer_settings(), InMemoryTokenStore::new());
    let random = jwt_core::memory::SeqRandom::starting_at(7);
    let key = SigningKey::generate(Algorithm::ES256, random.as_ref()).unwrap().with_kid("k1");
    let settings = jwt_core::Settings { algorithm: Algorithm::ES256, ..peer_settings() };
    let engine = TokenEngine::new(settings, KeySet::new(key)).unwrap();
    let service = Arc::new(TokenService::new(engine, service.ports().clone()));
    let cli = poem::test::TestClient::new(jwt_http::app(
        service,
        Arc::new(jwt_http::AlwaysReady),
        &HttpConfig::default(),
    ));
    let resp = cli.get("/.well-known/jwks.json").send().await;
    resp.assert_status_is_ok();
    let body: Value = serde_json::from_str(&resp.0.into_body().into_string().await.unwrap()).unwrap();
    let keys = body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kid"], "k1");
    assert_eq!(keys[0]["kty"], "EC");
    assert!(keys[0].get("d").is_none(), "no private part");
}

#[tokio::test]
async fn docs_and_document_are_served() {
    let app = TestApp::new();
    let r = app.get("/openapi.json", Req::default()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text, jwt_http::openapi_json(&app.settings, &HttpConfig::default()));
    let r = app.get("/docs", Req::default()).await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("SwaggerUIBundle"));
    assert!(r.text.contains("\"/api/token/verify/\""), "Swagger UI shows the reference paths");
    assert_eq!(app.get("/docs/", Req::default()).await.status, 200);
    assert_eq!(app.call(Method::POST, "/openapi.json", Req::default()).await.status, 405);
}

/// Clients choose the method: any non-standard one is counted as `OTHER`, so that a scan with
/// made-up methods cannot add time series without bound.
#[tokio::test]
async fn metrics_method_labels_are_bounded() {
    let app = TestApp::new();
    for i in 0..20 {
        let method = Method::from_bytes(format!("MADEUP{i}").as_bytes()).unwrap();
        assert_eq!(app.call(method, "/api/token/", Req::default()).await.status, 405);
    }
    app.call(Method::PUT, "/api/token/", Req::default()).await;
    let text = app.metrics().await;
    assert!(!text.contains("MADEUP"), "{text}");
    assert!(
        text.contains(r#"http_requests_total{method="OTHER",route="/api/token/",status="405"} 20"#),
        "{text}"
    );
    assert!(
        text.contains(r#"http_requests_total{method="PUT",route="/api/token/",status="405"} 1"#),
        "{text}"
    );
}
