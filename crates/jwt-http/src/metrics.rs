//! Prometheus metrics: HTTP requests and latencies, tokens issued, refreshed, rejected.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    method: String,
    route: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TypeLabels {
    token_type: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms .. ~16 s
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The application's metrics and the registry that exports them.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<LatencyLabels, Histogram, fn() -> Histogram>,
    issued: Family<TypeLabels, Counter>,
    refreshed: Family<TypeLabels, Counter>,
    blacklisted: Counter,
    rejected: Family<ReasonLabels, Counter>,
}

impl Metrics {
    /// Fresh, zeroed metrics.
    pub(crate) fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency =
            Family::<LatencyLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let issued = Family::<TypeLabels, Counter>::default();
        let refreshed = Family::<TypeLabels, Counter>::default();
        let blacklisted = Counter::default();
        let rejected = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests, by method and route",
            latency.clone(),
        );
        registry.register("jwt_tokens_issued", "Tokens issued, by token type", issued.clone());
        registry.register("jwt_tokens_refreshed", "Successful refreshes, by token type", refreshed.clone());
        registry.register(
            "jwt_tokens_blacklisted",
            "Tokens blacklisted through the API",
            blacklisted.clone(),
        );
        registry.register(
            "jwt_tokens_rejected",
            "Tokens or credentials refused, by reason",
            rejected.clone(),
        );
        Self { registry, requests, latency, issued, refreshed, blacklisted, rejected }
    }

    /// Count an answered request.
    pub(crate) fn request(&self, method: &str, route: &'static str, status: u16, seconds: f64) {
        self.requests.get_or_create(&RequestLabels { method: method.to_owned(), route, status }).inc();
        self.latency.get_or_create(&LatencyLabels { method: method.to_owned(), route }).observe(seconds);
    }

    /// Count an issued token.
    pub(crate) fn issued(&self, token_type: &'static str) {
        self.issued.get_or_create(&TypeLabels { token_type }).inc();
    }

    /// Count a successful refresh.
    pub(crate) fn refreshed(&self, token_type: &'static str) {
        self.refreshed.get_or_create(&TypeLabels { token_type }).inc();
    }

    /// Count a blacklisting.
    pub(crate) fn blacklisted(&self, count: u64) {
        self.blacklisted.inc_by(count);
    }

    /// Count a refused token or credentials.
    pub(crate) fn rejected(&self, reason: &'static str) {
        self.rejected.get_or_create(&ReasonLabels { reason }).inc();
    }

    /// The Prometheus text exposition.
    pub(crate) fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "could not encode metrics");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_show_in_the_exposition() {
        let m = Metrics::new();
        m.request("POST", "/api/token/", 200, 0.01);
        m.issued("access");
        m.rejected("expired");
        let text = m.encode();
        assert!(
            text.contains("http_requests_total{method=\"POST\",route=\"/api/token/\",status=\"200\"} 1"),
            "{text}"
        );
        assert!(text.contains("jwt_tokens_issued_total{token_type=\"access\"} 1"), "{text}");
        assert!(text.contains("jwt_tokens_rejected_total{reason=\"expired\"} 1"), "{text}");
        assert!(text.contains("http_request_duration_seconds_bucket"), "{text}");
    }
}
