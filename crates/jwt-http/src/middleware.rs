//! The application around the routes: request ids, tracing, metrics, DRF-shaped errors,
//! `405`/`OPTIONS`/`Allow` like DRF views, CORS, the body limit and trailing slashes.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use jwt_core::TokenService;
use jwt_core::ports::SecureRandom;
use jwt_core::system::OsRandom;
use poem::endpoint::{BoxEndpoint, make_sync};
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::middleware::{CatchPanic, Cors, NormalizePath, TrailingSlash};
use poem::web::Html;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get};
use tracing::Instrument;

use crate::api::{View, views};
use crate::auth::authenticate_required;
use crate::body::{BodyLimit, declares_more_than, too_large};
use crate::error::{ErrorResponse, Rejected};
use crate::metrics::Metrics;
use crate::openapi::build_api;
use crate::{HttpConfig, Readiness};

/// Header carrying the request id, both ways.
pub(crate) const REQUEST_ID: &str = "x-request-id";

/// Routes that are not DRF views, for the metrics' `route` label. All of them answer `GET`
/// (and `HEAD`) only.
const OTHER_ROUTES: [&str; 6] =
    ["/openapi.json", "/docs", "/healthz", "/readyz", "/metrics", "/.well-known/jwks.json"];

/// The `Allow` header of a `405` from one of [`OTHER_ROUTES`].
const OTHER_ROUTES_ALLOW: &str = "GET, HEAD";

/// The `Content-Type` of every JSON answer, as simplejwt (Django REST Framework) sends it.
/// RFC 8259 defines no `charset` parameter for `application/json`: JSON is UTF-8.
pub(crate) const JSON: &str = "application/json";

/// What poem-openapi's `Json` payload sends, rewritten to [`JSON`].
pub(crate) const JSON_UTF8: &str = "application/json; charset=utf-8";

/// The `method` label of the request metrics: the standard methods, and `OTHER` for any
/// other (clients choose the method, and every label value is a new time series).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

fn trim_path(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() { "/" } else { trimmed }
}

/// Turn an error that reached the edge into a DRF-shaped JSON response.
pub(crate) fn error_response(e: poem::Error, method: &Method) -> Response {
    if e.is_from_response() {
        return e.into_response();
    }
    let status = e.status();
    let error = match status {
        StatusCode::NOT_FOUND => ErrorResponse::detail(status, "Not found."),
        StatusCode::METHOD_NOT_ALLOWED => {
            ErrorResponse::detail(status, format!("Method \"{method}\" not allowed."))
        }
        s if s.is_server_error() => {
            tracing::error!(error = %e, status = s.as_u16(), "request failed");
            ErrorResponse::internal()
        }
        s => {
            tracing::info!(error = %e, status = s.as_u16(), "request refused");
            ErrorResponse::detail(s, format!("{}.", s.canonical_reason().unwrap_or("Bad request")))
        }
    };
    error.into_response()
}

/// DRF's `APIView` around the API routes: authentication before the method check on
/// protected views, `405` with `Allow`, `OPTIONS` metadata, `Allow` and `Vary: Accept` on
/// every answer.
struct DrfViews<E> {
    inner: E,
    views: Arc<HashMap<&'static str, View>>,
}

impl<E: Endpoint> Endpoint for DrfViews<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let path = trim_path(req.uri().path());
        let method = req.method().clone();
        let Some(view) = self.views.get(path) else {
            let get_only = OTHER_ROUTES.contains(&path);
            let mut resp = match self.inner.call(req).await {
                Ok(r) => r.into_response(),
                Err(e) => error_response(e, &method),
            };
            if get_only && resp.status() == StatusCode::METHOD_NOT_ALLOWED {
                // RFC 9110 §15.5.6: a 405 lists the methods the resource supports.
                resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static(OTHER_ROUTES_ALLOW));
            }
            return Ok(resp);
        };
        let implemented = view.methods.contains(&method.as_str())
            || (method == Method::HEAD && view.methods.contains(&"GET"));
        let mut resp = if implemented {
            match self.inner.call(req).await {
                Ok(r) => r.into_response(),
                Err(e) => error_response(e, &method),
            }
        } else {
            let refused = if view.requires_auth { authenticate_required(&req).await.err() } else { None };
            match refused {
                Some(e) => error_response(e, &method),
                None if method == Method::OPTIONS => {
                    ErrorResponse::new(StatusCode::OK, view.metadata.clone()).into_response()
                }
                None => ErrorResponse::detail(
                    StatusCode::METHOD_NOT_ALLOWED,
                    format!("Method \"{method}\" not allowed."),
                )
                .into_response(),
            }
        };
        resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static(view.allow));
        resp.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept"));
        Ok(resp)
    }
}

/// Request id, tracing span, metrics, and the last conversion of errors into responses.
struct Observe {
    inner: BoxEndpoint<'static>,
    metrics: Arc<Metrics>,
    routes: Arc<HashMap<&'static str, &'static str>>,
    random: OsRandom,
    fallback_ids: AtomicU64,
}

impl Observe {
    fn request_id(&self, req: &Request) -> String {
        let incoming = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok());
        if let Some(id) = incoming.filter(|id| is_sane_request_id(id)) {
            return id.to_owned();
        }
        let mut bytes = [0u8; 16];
        match self.random.fill(&mut bytes) {
            Ok(()) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
            Err(_) => format!("req-{}", self.fallback_ids.fetch_add(1, Ordering::Relaxed)),
        }
    }
}

/// An incoming request id is kept when it is 1 to 64 characters of `[A-Za-z0-9._-]`.
pub(crate) fn is_sane_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl Endpoint for Observe {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let id = self.request_id(&req);
        req.headers_mut()
            .insert(REQUEST_ID, HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("invalid")));
        let method = req.method().clone();
        let route = self.routes.get(trim_path(req.uri().path())).copied().unwrap_or("unmatched");
        let span = tracing::info_span!(
            "http_request",
            method = %method,
            route = %route,
            request_id = %id,
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        let start = Instant::now();
        let result = self.inner.call(req).instrument(span.clone()).await;
        let mut resp = match result {
            Ok(resp) => resp,
            Err(e) => span.in_scope(|| error_response(e, &method)),
        };
        if resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes() == JSON_UTF8.as_bytes()) {
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
        }
        let elapsed = start.elapsed();
        let status = resp.status().as_u16();
        span.record("status", status);
        span.record("latency_ms", (elapsed.as_secs_f64() * 1e6).round() / 1e3);
        span.in_scope(|| tracing::info!("request answered"));
        self.metrics.request(method_label(&method), route, status, elapsed.as_secs_f64());
        if let Some(Rejected(reason)) = resp.data::<Rejected>().copied() {
            self.metrics.rejected(reason);
        }
        if let Ok(value) = HeaderValue::from_str(&id) {
            resp.headers_mut().insert(REQUEST_ID, value);
        }
        Ok(resp)
    }
}

fn cors(config: &HttpConfig, auth_header: &str) -> Cors {
    Cors::new()
        .allow_origins(config.cors_allowed_origins.iter().map(String::as_str))
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers(["authorization", "content-type", auth_header])
        .expose_headers([REQUEST_ID, "www-authenticate", "retry-after"])
}

/// See [`crate::app`].
pub(crate) fn build_app(
    service: Arc<TokenService>,
    readiness: Arc<dyn Readiness>,
    config: &HttpConfig,
) -> BoxEndpoint<'static> {
    let engine = service.engine();
    let settings = engine.settings().clone();
    let built = build_api(&settings, config);
    let metrics = Arc::new(Metrics::new());
    let limit = config.max_body_bytes;

    let views: HashMap<&'static str, View> =
        views(&settings).into_iter().map(|v| (trim_path(v.path), v)).collect();
    let mut routes: HashMap<&'static str, &'static str> =
        views.values().map(|v| (trim_path(v.path), v.path)).collect();
    routes.extend(OTHER_ROUTES.iter().map(|&r| (r, r)));

    let spec = built.spec;
    let html = built.swagger_html;
    let router = Route::new()
        .at(
            "/openapi.json",
            get(make_sync(move |_| Response::builder().content_type(JSON).body(spec.clone()))),
        )
        .at("/docs", get(make_sync(move |_| Html(html.clone()))))
        .nest("/", built.endpoint);

    let app = DrfViews { inner: router, views: Arc::new(views) }
        .with(NormalizePath::new(TrailingSlash::Trim))
        .before(move |req: Request| async move {
            if declares_more_than(&req, limit) { Err(too_large(limit).into_poem()) } else { Ok(req) }
        })
        .with_if(!config.cors_allowed_origins.is_empty(), cors(config, &settings.auth_header_name))
        .data(service)
        .data(metrics.clone())
        .data(readiness)
        .data(BodyLimit { bytes: limit, read_timeout: config.body_read_timeout })
        .with(CatchPanic::new().with_handler(|_| {
            tracing::error!("a request handler panicked");
            ErrorResponse::internal()
        }))
        .boxed();

    Observe {
        inner: app,
        metrics,
        routes: Arc::new(routes),
        random: OsRandom::new(),
        fallback_ids: AtomicU64::new(0),
    }
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_checked() {
        assert!(is_sane_request_id("abc-123_X.y"));
        assert!(is_sane_request_id(&"a".repeat(64)));
        assert!(!is_sane_request_id(&"a".repeat(65)));
        assert!(!is_sane_request_id(""));
        assert!(!is_sane_request_id("a b"));
        assert!(!is_sane_request_id("a\u{e9}"));
    }

    #[test]
    fn errors_become_json() {
        let resp = error_response(poem::error::NotFoundError.into(), &Method::GET);
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        let resp = error_response(poem::Error::from_status(StatusCode::BAD_GATEWAY), &Method::GET);
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
