//! Structured logs: one span per request with its id, never a token or a password.

use std::io::Write;
use std::sync::{Arc, Mutex};

use poem::http::Method;
use serde_json::json;

use crate::helpers::*;

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn logs_carry_request_ids_and_no_secrets() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // Global, not thread-local: callsites cached by tests running in parallel on other
    // threads would otherwise stay disabled for this subscriber. Only this test sets it.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let app = TestApp::new();
    let (refresh, access) = app.login_alice().await;
    app.post("/api/token/", json!({"username": "alice", "password": "a wrong password"})).await;
    app.post("/api/token/refresh/", json!({"refresh": refresh})).await;
    app.post("/api/token/refresh/", json!({"refresh": refresh})).await;
    app.me(&access).await;
    app.me(&tampered(&access)).await;
    app.call(Method::POST, "/api/logout/", Req::bearer(&access).with_json(json!({"refresh_token": refresh})))
        .await;
    let r = app.get("/healthz", Req::default().header("X-Request-Id", "trace-me-42")).await;
    assert_eq!(r.status, 200);

    let logs = captured.text();
    assert!(logs.contains("trace-me-42"), "the request id is in the span:\n{logs}");
    assert!(logs.contains("route=/api/token/refresh/"), "{logs}");
    assert!(logs.contains("status=401"), "{logs}");
    for secret in [refresh.as_str(), access.as_str(), ALICE_PASSWORD, "a wrong password"] {
        assert!(!logs.contains(secret), "a secret was logged:\n{logs}");
    }
    // nor any part of a token's signature
    let signature = access.rsplit('.').next().unwrap();
    assert!(!logs.contains(signature));
}
