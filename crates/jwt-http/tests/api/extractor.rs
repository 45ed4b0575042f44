//! The bearer extractors embedded in another Poem app: required, optional, stateless,
//! and as plain Poem extractors.

use std::sync::Arc;

use jwt_core::TokenService;
use jwt_core::memory::InMemoryTokenStore;
use jwt_http::{JwtBearer, MaybeJwtBearer, Plain, StatelessJwtBearer};
use poem::endpoint::BoxEndpoint;
use poem::test::TestClient;
use poem::{EndpointExt, Route, get, handler};
use poem_openapi::payload::PlainText;
use poem_openapi::{OpenApi, OpenApiService};
use serde_json::Value;

use crate::helpers::*;

struct OtherApi;

#[OpenApi]
impl OtherApi {
    /// Required.
    #[oai(path = "/hello", method = "get")]
    async fn hello(&self, auth: JwtBearer) -> PlainText<String> {
        PlainText(format!("hello {}", auth.0.user.username))
    }

    /// Optional.
    #[oai(path = "/welcome", method = "get")]
    async fn welcome(&self, auth: MaybeJwtBearer) -> PlainText<String> {
        PlainText(
            auth.0.map_or_else(|| "welcome stranger".to_owned(), |a| format!("welcome {}", a.user.username)),
        )
    }

    /// Stateless.
    #[oai(path = "/whoami", method = "get")]
    async fn whoami(&self, auth: StatelessJwtBearer) -> PlainText<String> {
        PlainText(format!("user {}", auth.0.id))
    }
}

#[handler]
async fn plain(Plain(JwtBearer(auth)): Plain<JwtBearer>) -> String {
    format!("plain {}", auth.user.username)
}

#[handler]
async fn plain_stateless(Plain(StatelessJwtBearer(user)): Plain<StatelessJwtBearer>) -> String {
    format!("plain user {}", user.id)
}

fn other_app(service: Arc<TokenService>) -> (TestClient<BoxEndpoint<'static>>, Value) {
    let api = OpenApiService::new(OtherApi, "other", "1.0");
    let spec: Value = serde_json::from_str(&api.spec()).unwrap();
    let ep = Route::new()
        .nest("/", api)
        .at("/plain", get(plain))
        .at("/plain-stateless", get(plain_stateless))
        .data(service)
        .boxed();
    (TestClient::new(ep), spec)
}

async fn text(cli: &TestClient<BoxEndpoint<'static>>, path: &str, token: Option<&str>) -> Reply {
    let mut req = cli.get(path);
    if let Some(token) = token {
        req = req.header("Authorization", format!("Bearer {token}"));
    }
    let resp = req.send().await.0;
    Reply {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        text: resp.into_body().into_string().await.unwrap(),
    }
}

#[tokio::test]
async fn extractors_in_another_app() {
    let app = TestApp::new();
    let (_, access) = app.login_alice().await;
    let (_, _, carol) = app.deleted_carol().await;
    let (_, carol_access) = {
        // a fresh pair for carol, minted before her deletion
        app.users.insert(user("4", "carol", "pw", true));
        let pair = app.pair_for("4").await;
        app.users.remove(&jwt_core::UserId::parse("4").unwrap());
        pair
    };
    let _ = carol;
    let (cli, spec) = other_app(app.service.clone());

    text(&cli, "/hello", Some(&access)).await.assert(200, "hello alice");
    text(&cli, "/hello", None).await.assert_401(NOT_PROVIDED);
    text(&cli, "/hello", Some(&carol_access))
        .await
        .assert_401(r#"{"detail":"User not found","code":"user_not_found"}"#);
    text(&cli, "/hello", Some("garbage")).await.assert_401(&not_valid_for_any("Token is invalid"));

    text(&cli, "/welcome", None).await.assert(200, "welcome stranger");
    text(&cli, "/welcome", Some(&access)).await.assert(200, "welcome alice");
    // "no header" is not "bad token"
    text(&cli, "/welcome", Some("garbage")).await.assert_401(&not_valid_for_any("Token is invalid"));

    // stateless: no user lookup, so a deleted user's token still passes
    text(&cli, "/whoami", Some(&carol_access)).await.assert(200, "user 4");
    text(&cli, "/whoami", None).await.assert_401(NOT_PROVIDED);
    text(&cli, "/whoami", Some(&sign(&without(claims("access", 60), "user_id")))).await.assert_401(
        r#"{"detail":"Token contained no recognizable user identification","code":"token_not_valid"}"#,
    );

    text(&cli, "/plain", Some(&access)).await.assert(200, "plain alice");
    text(&cli, "/plain", None).await.assert_401(NOT_PROVIDED);
    text(&cli, "/plain-stateless", Some(&carol_access)).await.assert(200, "plain user 4");

    // documented with the bearer scheme; the optional form also allows anonymous calls
    let scheme = &spec["components"]["securitySchemes"][jwt_http::SECURITY_SCHEME];
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(spec["paths"]["/hello"]["get"]["security"], serde_json::json!([{"JwtBearer": []}]));
    assert_eq!(spec["paths"]["/welcome"]["get"]["security"], serde_json::json!([{"JwtBearer": []}, {}]));
}

#[tokio::test]
async fn a_missing_service_is_a_500_not_a_panic() {
    let api = OpenApiService::new(OtherApi, "other", "1.0");
    let cli = TestClient::new(Route::new().nest("/", api));
    let resp = cli.get("/hello").header("Authorization", "Bearer x").send().await;
    resp.assert_status(poem::http::StatusCode::INTERNAL_SERVER_ERROR);
    resp.assert_text(r#"{"detail":"A server error occurred.","code":"internal_error"}"#).await;
    let _ = InMemoryTokenStore::new();
}
