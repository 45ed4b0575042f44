//! Operational endpoints: liveness, readiness, metrics, public keys.

use std::sync::Arc;

use jwt_core::TokenService;
use poem::web::Data;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::types::Example;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::Value;

use crate::Readiness;
use crate::api::ApiTags;
use crate::metrics::Metrics;

/// `{"status": "..."}`.
#[derive(Debug, Object)]
#[oai(example)]
pub(crate) struct StatusBody {
    /// `ok`, or `unavailable`.
    status: String,
}

impl Example for StatusBody {
    fn example() -> Self {
        Self { status: "ok".into() }
    }
}

#[derive(ApiResponse)]
pub(crate) enum HealthResponse {
    /// The process is up.
    #[oai(status = 200)]
    Ok(Json<StatusBody>),
}

#[derive(ApiResponse)]
pub(crate) enum ReadyResponse {
    /// Ready: the database answers.
    #[oai(status = 200)]
    Ready(Json<StatusBody>),
    /// Not ready (the reason is logged).
    #[oai(status = 503)]
    NotReady(Json<StatusBody>, #[oai(header = "Retry-After")] String),
}

#[derive(ApiResponse)]
pub(crate) enum MetricsResponse {
    /// Prometheus text exposition (version 0.0.4).
    #[oai(status = 200, content_type = "text/plain; version=0.0.4; charset=utf-8")]
    Ok(PlainText<String>),
}

#[derive(ApiResponse)]
pub(crate) enum JwksResponse {
    /// The public verifying keys as a JWK set (`{"keys": [...]}`; empty for HMAC keys,
    /// which are never published).
    #[oai(status = 200)]
    Ok(Json<Value>),
}

/// The operational endpoints.
pub(crate) struct OpsApi;

#[OpenApi]
impl OpsApi {
    /// Liveness
    ///
    /// `200 {"status":"ok"}` while the process runs.
    #[oai(path = "/healthz", method = "get", tag = "ApiTags::Operations", operation_id = "healthz")]
    async fn healthz(&self) -> HealthResponse {
        HealthResponse::Ok(Json(StatusBody { status: "ok".into() }))
    }

    /// Readiness
    ///
    /// `200` when the database answers, `503` otherwise.
    #[oai(path = "/readyz", method = "get", tag = "ApiTags::Operations", operation_id = "readyz")]
    async fn readyz(&self, readiness: Data<&Arc<dyn Readiness>>) -> ReadyResponse {
        match readiness.check().await {
            Ok(()) => ReadyResponse::Ready(Json(StatusBody { status: "ok".into() })),
            Err(reason) => {
                tracing::warn!(%reason, "not ready");
                ReadyResponse::NotReady(
                    Json(StatusBody { status: "unavailable".into() }),
                    crate::error::RETRY_AFTER_SECS.to_owned(),
                )
            }
        }
    }

    /// Metrics
    ///
    /// Requests and latencies by route, tokens issued, refreshed, blacklisted and rejected
    /// (by reason), in the Prometheus text format.
    #[oai(path = "/metrics", method = "get", tag = "ApiTags::Operations", operation_id = "metrics")]
    async fn metrics(&self, metrics: Data<&Arc<Metrics>>) -> MetricsResponse {
        MetricsResponse::Ok(PlainText(metrics.encode()))
    }

    /// Public keys (JWKS)
    ///
    /// The keys that verify tokens signed with an asymmetric algorithm, for other services
    /// to verify access tokens themselves.
    #[oai(
        path = "/.well-known/jwks.json",
        method = "get",
        tag = "ApiTags::Operations",
        operation_id = "jwks"
    )]
    async fn jwks(&self, service: Data<&Arc<TokenService>>) -> JwksResponse {
        JwksResponse::Ok(Json(service.engine().keys().jwks()))
    }
}
