//! # jwt-http
//!
//! The HTTP face of jwt-server, on [Poem](https://docs.rs/poem) and
//! [poem-openapi](https://docs.rs/poem-openapi): djangorestframework-simplejwt's endpoints
//! reproduced response for response, a reusable bearer extractor for other Poem apps, the
//! OpenAPI document and Swagger UI, and the operational endpoints.
//!
//! - [`app`] builds the whole application: `POST /api/token/`, `/api/token/refresh/`,
//!   `/api/token/verify/`, `/api/token/blacklist/`, `/api/token/sliding/`,
//!   `/api/token/sliding/refresh/`, `POST /api/logout/`, `GET /api/me/`, `/openapi.json`,
//!   `/docs`, `/healthz`, `/readyz`, `/metrics` and `/.well-known/jwks.json`, behind request
//!   ids, tracing, metrics, CORS and a body size limit. Every path answers with and without its
//!   trailing slash; bodies may be JSON, form-urlencoded or multipart, as in Django REST
//!   Framework; error bodies, status codes and `WWW-Authenticate` headers are simplejwt's.
//! - [`openapi_json`] is exactly the document served at `/openapi.json`.
//! - [`JwtBearer`], [`MaybeJwtBearer`] and [`StatelessJwtBearer`] authenticate requests the
//!   way simplejwt's `JWTAuthentication` does, in your own Poem apps.
//!
//! ## Protecting your own routes
//!
//! Put an `Arc<TokenService>` into the request data, then take one of the extractors as an
//! operation parameter. The operation is documented with the `JwtBearer` HTTP bearer
//! security scheme, and failures answer exactly like simplejwt (`401` with
//! `{"detail":..,"code":..}` and `WWW-Authenticate: Bearer realm="api"`).
//!
//! ```no_run
//! use std::sync::Arc;
//! use jwt_core::TokenService;
//! use jwt_http::{JwtBearer, MaybeJwtBearer, Plain, StatelessJwtBearer};
//! use poem::{EndpointExt, Route, handler, get};
//! use poem_openapi::{OpenApi, OpenApiService, payload::PlainText};
//!
//! struct MyApi;
//!
//! #[OpenApi]
//! impl MyApi {
//!     /// Only for logged-in users; loads the user from the repository.
//!     #[oai(path = "/hello", method = "get")]
//!     async fn hello(&self, auth: JwtBearer) -> PlainText<String> {
//!         PlainText(format!("hello {}", auth.0.user.username))
//!     }
//!
//!     /// Anyone; greets logged-in users by name. A bad token is still a 401.
//!     #[oai(path = "/welcome", method = "get")]
//!     async fn welcome(&self, auth: MaybeJwtBearer) -> PlainText<String> {
//!         let name = auth.0.map_or_else(|| "stranger".to_owned(), |a| a.user.username);
//!         PlainText(format!("welcome {name}"))
//!     }
//!
//!     /// Trusts the token alone: no database query (simplejwt's `JWTStatelessUserAuthentication`).
//!     #[oai(path = "/whoami", method = "get")]
//!     async fn whoami(&self, auth: StatelessJwtBearer) -> PlainText<String> {
//!         PlainText(auth.0.id.to_string())
//!     }
//! }
//!
//! // A plain Poem handler (no OpenAPI) takes the same extractors wrapped in `Plain`.
//! #[handler]
//! async fn plain(Plain(JwtBearer(auth)): Plain<JwtBearer>) -> String {
//!     auth.user.username
//! }
//!
//! fn routes(service: Arc<TokenService>) -> impl poem::Endpoint {
//!     let api = OpenApiService::new(MyApi, "my app", "1.0");
//!     Route::new().nest("/", api).at("/plain", get(plain)).data(service)
//! }
//! ```
#![deny(missing_docs)]

mod api;
mod auth;
mod body;
mod error;
mod json_error;
mod metrics;
mod middleware;
mod openapi;
mod ops;

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use auth::{BearerExtractor, JwtBearer, MaybeJwtBearer, Plain, SECURITY_SCHEME, StatelessJwtBearer};
pub use openapi::openapi_json;

use jwt_core::TokenService;

/// Default for [`HttpConfig::max_body_bytes`]: 64 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// HTTP settings that are not token settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Largest request body accepted, in bytes; a larger one is answered with
    /// `413 {"detail":"Request body exceeded N bytes."}` without being buffered.
    /// Default 65536 (64 KiB).
    pub max_body_bytes: usize,
    /// Origins allowed to call the API from a browser (CORS), such as
    /// `https://app.example.com`. Default empty: no CORS headers are sent.
    pub cors_allowed_origins: Vec<String>,
    /// Public base URL of the server, listed as the OpenAPI `servers` entry (for example
    /// `https://auth.example.com`). Default none: the document has no `servers`, so clients
    /// use the URL they fetched it from.
    pub public_url: Option<String>,
    /// How long a client may take to send a request body once its headers arrived; a slower
    /// one is answered `408` (guards workers against slow-body attacks). Default 10 s.
    #[serde(with = "jwt_core::settings::duration_serde")]
    pub body_read_timeout: std::time::Duration,
}

/// Default for [`HttpConfig::body_read_timeout`]: 10 seconds.
pub const DEFAULT_BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            cors_allowed_origins: Vec::new(),
            public_url: None,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
        }
    }
}

/// Whether the application can serve requests (`GET /readyz`): typically "the database
/// answers".
#[async_trait]
pub trait Readiness: Send + Sync {
    /// `Ok(())` when ready.
    ///
    /// # Errors
    /// A short reason when not ready; it is logged, never sent to the client.
    async fn check(&self) -> Result<(), String>;
}

/// A [`Readiness`] that is always ready (no database to wait for).
#[derive(Debug, Clone, Copy, Default)]
pub struct AlwaysReady;

#[async_trait]
impl Readiness for AlwaysReady {
    async fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

/// The whole application: the API routes (as enabled by the service's settings),
/// `/openapi.json`, `/docs`, `/healthz`, `/readyz`, `/metrics`, `/.well-known/jwks.json`,
/// and the middleware (request ids, tracing, metrics, CORS, body limit, trailing-slash
/// normalisation, simplejwt-shaped errors).
///
/// The routes and the OpenAPI document follow the settings at the time of the call:
/// sliding-token routes exist only with `sliding_tokens_enabled`, blacklist and logout only
/// with `blacklist_enabled`.
pub fn app(
    service: Arc<TokenService>,
    readiness: Arc<dyn Readiness>,
    config: &HttpConfig,
) -> poem::endpoint::BoxEndpoint<'static> {
    middleware::build_app(service, readiness, config)
}
