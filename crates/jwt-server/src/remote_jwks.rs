//! simplejwt's `JWK_URL` (`jwk_url`): tokens may also be verified with the keys of another
//! issuer's JWK set, selected by the token header's `kid`.
//!
//! The set is fetched before the server listens and again every `jwk_cache_ttl` (until the
//! first success, every [`RETRY_INTERVAL`]). A fetch that fails keeps the last good keys; a
//! token whose `kid` no key has is refused as invalid, exactly like any unknown `kid`.
//! Only asymmetric public keys with a `kid` are taken; the keys only verify (see
//! [`crate::live_keys`]).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use jwt_core::{Algorithm, VerifyingKey};
use poem::http::Uri;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::live_keys::LiveKeys;

/// Default for `jwk_cache_ttl`: the JWK set is fetched again every 300 s, as in simplejwt.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(300);

/// How long one fetch may take in total (connect, TLS, headers and body), as in simplejwt.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest JWK set accepted, in bytes; a larger response is refused.
pub const MAX_JWKS_BYTES: u64 = 1024 * 1024;

/// How soon a fetch is tried again while no fetch has succeeded yet.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(10);

/// A validated `jwk_url`: `http` or `https` with a host. Userinfo, if any, is sent as HTTP
/// Basic authentication and never shown.
#[derive(Clone)]
pub struct JwksUrl {
    /// The URL without userinfo: what is requested.
    target: String,
    /// The URL without userinfo or query: what is logged.
    shown: String,
    /// `Basic ...` from the userinfo.
    authorization: Option<SecretString>,
}

impl std::fmt::Debug for JwksUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("JwksUrl").field(&self.shown).finish()
    }
}

impl std::fmt::Display for JwksUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl JwksUrl {
    /// Parse and check a `jwk_url`.
    ///
    /// # Errors
    /// A reason (that never repeats the URL's credentials) if `url` is not an absolute
    /// `http`/`https` URL with a host.
    pub fn parse(url: &str) -> Result<Self, String> {
        const EXPECTED: &str = "expected an http:// or https:// URL such as \
                                https://issuer.example.com/.well-known/jwks.json";
        let uri: Uri = url.trim().parse().map_err(|_| format!("not a URL; {EXPECTED}"))?;
        let scheme = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("http") => "http",
            Some(s) if s.eq_ignore_ascii_case("https") => "https",
            Some(_) => return Err(format!("unsupported scheme; {EXPECTED}")),
            None => return Err(format!("not an absolute URL; {EXPECTED}")),
        };
        let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo), host_port),
            None => (None, authority),
        };
        if uri.host().is_none_or(str::is_empty) || host_port.is_empty() {
            return Err(format!("the URL has no host; {EXPECTED}"));
        }
        let path = uri.path();
        let target = match uri.query() {
            Some(query) => format!("{scheme}://{host_port}{path}?{query}"),
            None => format!("{scheme}://{host_port}{path}"),
        };
        let shown = match uri.query() {
            Some(_) => format!("{scheme}://{host_port}{path}?..."),
            None => format!("{scheme}://{host_port}{path}"),
        };
        let authorization = userinfo.map(basic_authorization).transpose()?;
        Ok(Self { target, shown, authorization })
    }
}

/// `Basic base64(user:password)` from percent-encoded URL userinfo.
fn basic_authorization(userinfo: &str) -> Result<SecretString, String> {
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let mut credentials = percent_decode(user)?;
    credentials.push(b':');
    credentials.extend(percent_decode(password)?);
    // Zeroized when dropped.
    let credentials = secrecy::SecretBox::new(Box::new(credentials));
    let encoded = base64::engine::general_purpose::STANDARD.encode(credentials.expose_secret());
    Ok(SecretString::from(format!("Basic {encoded}")))
}

/// Decode `%XX` escapes; a `%` not followed by two hex digits is an error.
fn percent_decode(text: &str) -> Result<Vec<u8>, String> {
    let well_formed =
        text.split('%').skip(1).all(|rest| rest.bytes().take(2).filter(u8::is_ascii_hexdigit).count() == 2);
    if !well_formed {
        return Err("the URL's userinfo has an invalid %-escape".to_owned());
    }
    Ok(percent_encoding::percent_decode_str(text).collect())
}

/// The keys read from a JWK set, and what was skipped.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The usable keys, in document order, each [unpublished](VerifyingKey::unpublished).
    pub keys: Vec<VerifyingKey>,
    /// One sentence per skipped key: its position, its `kid` and why (never key material).
    pub skipped: Vec<String>,
}

/// Why a JWK set could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// The HTTP request failed.
    #[error("cannot fetch the JWK set: {0}")]
    Fetch(String),
    /// The body is not JSON.
    #[error("the response is not JSON: {0}")]
    NotJson(String),
    /// The JSON is not `{"keys": [...]}`.
    #[error("the response is not a JWK set (an object with a \"keys\" array)")]
    NotAJwkSet,
    /// No key could be used.
    #[error("the JWK set has no usable key ({0} skipped)")]
    NoUsableKey(usize),
}

/// Read a JWK set (`{"keys": [...]}`). A key is taken when it is an asymmetric public key
/// (`kty` `RSA`, `EC` or `OKP`) with a non-empty `kid`, `use` absent or `sig`, and an
/// algorithm its type supports: its `alg` member, else `configured`. Of keys sharing a
/// `kid`, the first is taken. Every other key is skipped with a reason in
/// [`Parsed::skipped`].
///
/// # Errors
/// [`JwksError::NotJson`] or [`JwksError::NotAJwkSet`] for a malformed document,
/// [`JwksError::NoUsableKey`] if no key can be used.
pub fn parse(body: &[u8], configured: Algorithm) -> Result<Parsed, JwksError> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| JwksError::NotJson(e.to_string()))?;
    let jwks = doc.get("keys").and_then(Value::as_array).ok_or(JwksError::NotAJwkSet)?;
    let mut parsed = Parsed::default();
    for (index, jwk) in jwks.iter().enumerate() {
        let kid = jwk.get("kid").and_then(Value::as_str).unwrap_or_default();
        let skip = |reason: &str| format!("key #{index} (kid {kid:?}): {reason}");
        match import(jwk, configured) {
            Ok(key) if parsed.keys.iter().any(|k| k.kid() == key.kid()) => {
                parsed.skipped.push(skip("another key with the same kid comes first"));
            }
            Ok(key) => parsed.keys.push(key.unpublished()),
            Err(reason) => parsed.skipped.push(skip(&reason)),
        }
    }
    if parsed.keys.is_empty() {
        return Err(JwksError::NoUsableKey(parsed.skipped.len()));
    }
    Ok(parsed)
}

/// One JWK as a verifying key, or why not.
fn import(jwk: &Value, configured: Algorithm) -> Result<VerifyingKey, String> {
    let obj = jwk.as_object().ok_or("not a JSON object")?;
    match obj.get("kty").and_then(Value::as_str) {
        Some("RSA" | "EC" | "OKP") => {}
        Some("oct") => {
            return Err("a symmetric key (kty \"oct\"): shared secrets are never taken from a URL".into());
        }
        Some(_) => return Err("unsupported kty".into()),
        None => return Err("no \"kty\" member".into()),
    }
    match obj.get("kid") {
        Some(Value::String(kid)) if !kid.is_empty() => {}
        _ => return Err("no \"kid\" member: tokens could not select it".into()),
    }
    if obj.get("use").is_some_and(|u| u.as_str() != Some("sig")) {
        return Err("its \"use\" is not \"sig\"".into());
    }
    let algorithm = match obj.get("alg") {
        None => configured,
        Some(Value::String(alg)) => {
            alg.parse::<Algorithm>().map_err(|_| format!("unsupported alg {alg:?}"))?
        }
        Some(_) => return Err("its \"alg\" is not a string".into()),
    };
    if algorithm.is_symmetric() {
        return Err(format!("alg {algorithm} is symmetric"));
    }
    // RFC 8725 §3.1: the accepted algorithm is pinned by configuration, for remote keys too.
    if algorithm != configured {
        return Err(format!("alg {algorithm} is not the configured algorithm {configured}"));
    }
    VerifyingKey::from_jwk(algorithm, jwk).map_err(|e| format!("not a usable {algorithm} public key: {e}"))
}

/// Fetches one JWK set over HTTP(S).
#[derive(Clone)]
pub struct Fetcher {
    url: JwksUrl,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Fetcher {
    /// A fetcher for `url` with the [`FETCH_TIMEOUT`].
    pub fn new(url: JwksUrl) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(FETCH_TIMEOUT))
            // An https URL never follows a redirect to plain http.
            .https_only(url.target.starts_with("https://"))
            .http_status_as_error(false)
            .user_agent(concat!("jwt-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Self { url, agent }
    }

    /// The URL, for logs (no credentials, no query).
    pub fn url(&self) -> &JwksUrl {
        &self.url
    }

    /// Fetch and [`parse`] the JWK set (the blocking request runs on Tokio's blocking pool).
    ///
    /// # Errors
    /// [`JwksError::Fetch`] if the request fails, times out, is not answered `2xx`, or
    /// the body exceeds [`MAX_JWKS_BYTES`]; otherwise as for [`parse`].
    pub async fn fetch(&self, configured: Algorithm) -> Result<Parsed, JwksError> {
        let this = self.clone();
        let body = tokio::task::spawn_blocking(move || this.get())
            .await
            .map_err(|e| JwksError::Fetch(format!("the fetch task failed: {e}")))??;
        parse(&body, configured)
    }

    fn get(&self) -> Result<Vec<u8>, JwksError> {
        let failed = |e: ureq::Error| match e {
            ureq::Error::BodyExceedsLimit(_) => {
                JwksError::Fetch(format!("the response is larger than {MAX_JWKS_BYTES} bytes"))
            }
            ureq::Error::Timeout(_) => {
                JwksError::Fetch(format!("no complete answer within {}s", FETCH_TIMEOUT.as_secs()))
            }
            other => JwksError::Fetch(crate::error::one_line(&other.to_string())),
        };
        let mut request = self.agent.get(&self.url.target).header("Accept", "application/json");
        if let Some(authorization) = &self.url.authorization {
            request = request.header("Authorization", authorization.expose_secret());
        }
        let mut response = request.call().map_err(failed)?;
        let status = response.status();
        if !status.is_success() {
            return Err(JwksError::Fetch(format!("the server answered HTTP {}", status.as_u16())));
        }
        response.body_mut().with_config().limit(MAX_JWKS_BYTES).read_to_vec().map_err(failed)
    }
}

/// Log what was skipped: as warnings when it differs from the previous fetch, else at
/// debug level (a JWK set with an encryption key would otherwise warn every refresh).
fn report_skipped(parsed: &Parsed, previous: &mut Vec<String>, url: &JwksUrl) {
    let changed = *previous != parsed.skipped;
    for reason in &parsed.skipped {
        if changed {
            tracing::warn!(jwk_url = %url, "skipping a key of jwk_url: {reason}");
        } else {
            tracing::debug!(jwk_url = %url, "skipping a key of jwk_url: {reason}");
        }
    }
    previous.clone_from(&parsed.skipped);
}

/// What identifies a remote key list: every kid, algorithm and thumbprint.
fn fingerprint(keys: &[VerifyingKey]) -> Vec<(String, Algorithm, String)> {
    keys.iter().map(|k| (k.kid().unwrap_or_default().to_owned(), k.algorithm(), k.thumbprint())).collect()
}

/// The remote JWK set's refresher: call [`Remote::first_fetch`] before listening, then
/// [`Remote::spawn`].
#[derive(Debug)]
pub struct Remote {
    fetcher: Fetcher,
    algorithm: Algorithm,
    ttl: Duration,
    installed: Option<Vec<(String, Algorithm, String)>>,
    skipped: Vec<String>,
}

impl Remote {
    /// A refresher for `url`, fetched every `ttl`, for a server configured with `algorithm`.
    pub fn new(url: JwksUrl, algorithm: Algorithm, ttl: Duration) -> Self {
        Self { fetcher: Fetcher::new(url), algorithm, ttl, installed: None, skipped: Vec::new() }
    }

    /// Whether a fetch has succeeded.
    pub fn has_keys(&self) -> bool {
        self.installed.is_some()
    }

    /// Fetch once and install the keys in `live`; a failure is logged as a warning (the
    /// server starts anyway and keeps trying).
    pub async fn first_fetch(&mut self, live: &LiveKeys) {
        if !self.refresh(live).await {
            tracing::warn!(
                jwk_url = %self.fetcher.url(),
                "no keys from jwk_url yet: tokens of that issuer are refused until a fetch succeeds \
                 (retrying every {}s)",
                self.retry_interval().as_secs()
            );
        }
    }

    /// Fetch, and install the keys in `live` if they changed. Returns whether the fetch
    /// succeeded; failures are logged, and the last good keys stay.
    async fn refresh(&mut self, live: &LiveKeys) -> bool {
        let url = self.fetcher.url().clone();
        let parsed = match self.fetcher.fetch(self.algorithm).await {
            Ok(parsed) => parsed,
            Err(e) => {
                let kept = if self.has_keys() { "keeping the last keys fetched" } else { "no keys yet" };
                tracing::warn!(jwk_url = %url, error = %e, "cannot load the JWK set of jwk_url; {kept}");
                return false;
            }
        };
        report_skipped(&parsed, &mut self.skipped, &url);
        let next = fingerprint(&parsed.keys);
        if self.installed.as_ref() == Some(&next) {
            tracing::debug!(jwk_url = %url, "the JWK set of jwk_url is unchanged");
            return true;
        }
        let count = parsed.keys.len();
        match live.set_remote(parsed.keys) {
            Ok(()) => {
                tracing::info!(jwk_url = %url, keys = count, "keys of jwk_url loaded");
                self.installed = Some(next);
                true
            }
            Err(e) => {
                tracing::warn!(jwk_url = %url, error = %e, "cannot install the keys of jwk_url");
                false
            }
        }
    }

    fn retry_interval(&self) -> Duration {
        RETRY_INTERVAL.min(self.ttl)
    }

    /// Keep fetching in the background: every [`RETRY_INTERVAL`] until a fetch succeeds,
    /// then every `ttl`.
    pub fn spawn(mut self, live: Arc<LiveKeys>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                let wait = if self.has_keys() { self.ttl } else { self.retry_interval() };
                tokio::time::sleep(wait).await;
                self.refresh(&live).await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use jwt_core::SigningKey;
    use jwt_core::memory::SeqRandom;
    use serde_json::json;

    use super::*;

    fn seeded(seed: u8) -> Arc<SeqRandom> {
        SeqRandom::starting_at(u64::from(seed) << 32)
    }

    fn public_jwk(alg: Algorithm, seed: u8, kid: Option<&str>) -> Value {
        let key = SigningKey::generate(alg, &*seeded(seed)).unwrap();
        let key = match kid {
            Some(kid) => key.with_kid(kid),
            None => key,
        };
        key.verifying_key().to_jwk().unwrap()
    }

    fn without(mut jwk: Value, member: &str) -> Value {
        jwk.as_object_mut().unwrap().remove(member);
        jwk
    }

    fn with(mut jwk: Value, member: &str, value: Value) -> Value {
        jwk.as_object_mut().unwrap().insert(member.to_owned(), value);
        jwk
    }

    fn parse_keys(keys: Vec<Value>, configured: Algorithm) -> Result<Parsed, JwksError> {
        parse(json!({ "keys": keys }).to_string().as_bytes(), configured)
    }

    fn kids(parsed: &Parsed) -> Vec<&str> {
        parsed.keys.iter().filter_map(VerifyingKey::kid).collect()
    }

    #[test]
    fn asymmetric_keys_with_a_kid_are_taken_unpublished() {
        let parsed = parse_keys(
            vec![public_jwk(Algorithm::ES256, 1, Some("a")), public_jwk(Algorithm::ES256, 2, Some("b"))],
            Algorithm::ES256,
        )
        .unwrap();
        assert_eq!(kids(&parsed), ["a", "b"]);
        assert!(parsed.skipped.is_empty());
        assert!(parsed.keys.iter().all(|k| !k.is_published()));
        assert!(parsed.keys.iter().all(|k| k.algorithm() == Algorithm::ES256));
    }

    #[test]
    fn symmetric_kidless_and_encryption_keys_are_skipped() {
        let oct = json!({"kty": "oct", "kid": "s", "alg": "HS256", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"});
        let parsed = parse_keys(
            vec![
                oct,
                public_jwk(Algorithm::ES256, 1, None),
                with(public_jwk(Algorithm::ES256, 2, Some("")), "kid", json!("")),
                with(public_jwk(Algorithm::ES256, 3, Some("enc")), "use", json!("enc")),
                with(public_jwk(Algorithm::ES256, 4, Some("hs")), "alg", json!("HS256")),
                with(public_jwk(Algorithm::ES256, 5, Some("rsa-oaep")), "alg", json!("RSA-OAEP")),
                json!("not an object"),
                public_jwk(Algorithm::ES256, 6, Some("good")),
            ],
            Algorithm::ES256,
        )
        .unwrap();
        assert_eq!(kids(&parsed), ["good"]);
        let reasons = parsed.skipped.join("\n");
        assert_eq!(parsed.skipped.len(), 7, "{reasons}");
        assert!(parsed.skipped[0].contains("symmetric"), "{reasons}");
        assert!(parsed.skipped[1].contains("no \"kid\""), "{reasons}");
        assert!(parsed.skipped[2].contains("no \"kid\""), "{reasons}");
        assert!(parsed.skipped[3].contains("\"use\""), "{reasons}");
        assert!(parsed.skipped[4].contains("HS256 is symmetric"), "{reasons}");
        assert!(parsed.skipped[5].contains("unsupported alg"), "{reasons}");
        assert!(parsed.skipped[6].contains("not a JSON object"), "{reasons}");
        // No key material in the reasons.
        assert!(!reasons.contains("c2VjcmV0"), "{reasons}");
    }

    #[test]
    fn only_the_configured_algorithm_is_accepted() {
        let rsa_free = without(public_jwk(Algorithm::ES384, 1, Some("p384")), "alg");
        let parsed = parse_keys(vec![rsa_free.clone()], Algorithm::ES384).unwrap();
        assert_eq!(parsed.keys[0].algorithm(), Algorithm::ES384);
        // Without alg, a P-384 key cannot serve an ES256 server.
        let err = parse_keys(vec![rsa_free], Algorithm::ES256).unwrap_err();
        assert!(matches!(err, JwksError::NoUsableKey(1)), "{err}");
        // A key announcing another algorithm is skipped: the header never widens the allow-list.
        let parsed = parse_keys(
            vec![public_jwk(Algorithm::ES384, 1, Some("p384")), public_jwk(Algorithm::ES256, 3, Some("y"))],
            Algorithm::ES256,
        )
        .unwrap();
        assert_eq!(kids(&parsed), ["y"]);
        assert!(
            parsed.skipped[0].contains("alg ES384 is not the configured algorithm ES256"),
            "{:?}",
            parsed.skipped
        );
        // An alg the key type does not support.
        let wrong = with(public_jwk(Algorithm::ES256, 2, Some("x")), "alg", json!("RS256"));
        let err = parse_keys(vec![wrong], Algorithm::RS256).unwrap_err();
        assert!(matches!(err, JwksError::NoUsableKey(1)), "{err}");
    }

    #[test]
    fn of_keys_sharing_a_kid_the_first_is_kept() {
        let first = public_jwk(Algorithm::ES256, 1, Some("same"));
        let second = public_jwk(Algorithm::ES256, 2, Some("same"));
        let parsed = parse_keys(vec![first.clone(), second], Algorithm::ES256).unwrap();
        assert_eq!(kids(&parsed), ["same"]);
        assert_eq!(parsed.keys[0].to_jwk().map(|j| j["x"].clone()), Some(first["x"].clone()));
        assert_eq!(parsed.skipped.len(), 1);
        assert!(parsed.skipped[0].contains("same kid"), "{:?}", parsed.skipped);
    }

    #[test]
    fn private_keys_are_skipped() {
        let key = SigningKey::generate(Algorithm::EdDSA, &*seeded(1)).unwrap();
        let mut jwk = key.verifying_key().to_jwk().unwrap();
        jwk["kid"] = json!("priv");
        jwk["d"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        let err = parse_keys(vec![jwk], Algorithm::EdDSA).unwrap_err();
        assert!(matches!(err, JwksError::NoUsableKey(1)), "{err}");
    }

    #[test]
    fn malformed_documents_are_errors() {
        assert!(matches!(parse(b"<html>nope</html>", Algorithm::ES256), Err(JwksError::NotJson(_))));
        assert!(matches!(parse(b"", Algorithm::ES256), Err(JwksError::NotJson(_))));
        for doc in [json!({}), json!([]), json!({"keys": {}}), json!({"keys": "x"}), json!(null)] {
            let err = parse(doc.to_string().as_bytes(), Algorithm::ES256).unwrap_err();
            assert!(matches!(err, JwksError::NotAJwkSet), "{doc}: {err}");
        }
        assert!(matches!(parse(br#"{"keys":[]}"#, Algorithm::ES256), Err(JwksError::NoUsableKey(0))));
    }

    /// Serve one HTTP response on a local port; returns the URL and the request received.
    fn serve_once(status: &str, body: Vec<u8>) -> (String, std::thread::JoinHandle<String>) {
        use std::io::{Read as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://svc:p%40ss@{}/jwks.json", listener.local_addr().unwrap());
        let status = status.to_owned();
        let handle = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.ends_with(b"\r\n\r\n") {
                let n = stream.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
            }
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
            String::from_utf8_lossy(&request).into_owned()
        });
        (url, handle)
    }

    #[tokio::test]
    async fn a_fetch_sends_basic_auth_and_reads_the_keys() {
        let body = json!({ "keys": [public_jwk(Algorithm::ES256, 1, Some("a"))] }).to_string();
        let (url, server) = serve_once("200 OK", body.into_bytes());
        let fetcher = Fetcher::new(JwksUrl::parse(&url).unwrap());
        let parsed = fetcher.fetch(Algorithm::ES256).await.unwrap();
        assert_eq!(kids(&parsed), ["a"]);
        let request = server.join().unwrap().to_ascii_lowercase();
        let expected = base64::engine::general_purpose::STANDARD.encode("svc:p@ss").to_ascii_lowercase();
        assert!(request.starts_with("get /jwks.json http/1.1\r\n"), "{request}");
        assert!(request.contains(&format!("authorization: basic {expected}\r\n")), "{request}");
    }

    #[tokio::test]
    async fn error_statuses_and_oversized_sets_are_fetch_errors() {
        let (url, server) = serve_once("404 Not Found", b"{}".to_vec());
        let err = Fetcher::new(JwksUrl::parse(&url).unwrap()).fetch(Algorithm::ES256).await.unwrap_err();
        assert_eq!(err.to_string(), "cannot fetch the JWK set: the server answered HTTP 404");
        server.join().unwrap();

        let mut huge = br#"{"keys":[],"padding":""#.to_vec();
        huge.resize(usize::try_from(MAX_JWKS_BYTES).unwrap() + 10, b'x');
        huge.extend_from_slice(br#""}"#);
        let (url, server) = serve_once("200 OK", huge);
        let err = Fetcher::new(JwksUrl::parse(&url).unwrap()).fetch(Algorithm::ES256).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("cannot fetch the JWK set: the response is larger than {MAX_JWKS_BYTES} bytes")
        );
        let _ = server.join();
    }

    #[tokio::test]
    async fn https_is_spoken_and_a_plain_http_answer_is_a_fetch_error() {
        // A plain-HTTP server behind an https:// URL: the TLS handshake fails cleanly (rustls
        // is built in and has its crypto provider), and nothing is taken from the answer.
        use std::io::Write as _;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("https://svc:p%40ss@{}/jwks.json", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
        });
        let err = Fetcher::new(JwksUrl::parse(&url).unwrap()).fetch(Algorithm::ES256).await.unwrap_err();
        // rustls itself rejects the plain-text answer (without TLS support the error would
        // be about a missing TLS implementation instead).
        assert!(err.to_string().starts_with("cannot fetch the JWK set: "), "{err}");
        assert!(err.to_string().contains("corrupt message"), "{err}");
        assert!(!err.to_string().contains("p%40ss") && !err.to_string().contains("p@ss"), "{err}");
        server.join().unwrap();
    }

    #[test]
    fn urls_must_be_http_or_https_with_a_host() {
        let url = JwksUrl::parse("https://issuer.example.com/.well-known/jwks.json").unwrap();
        assert_eq!(url.to_string(), "https://issuer.example.com/.well-known/jwks.json");
        assert!(url.authorization.is_none());
        assert!(JwksUrl::parse("http://127.0.0.1:8000/jwks").is_ok());
        for bad in [
            "",
            "jwks.json",
            "/jwks.json",
            "ftp://example.com/jwks",
            "file:///etc/jwks",
            "https://",
            "not a url",
        ] {
            assert!(JwksUrl::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn credentials_become_basic_auth_and_are_never_shown() {
        let url = JwksUrl::parse("https://us%3Aer:p%40ss@issuer.example.com:8443/jwks?token=abc").unwrap();
        assert_eq!(url.to_string(), "https://issuer.example.com:8443/jwks?...");
        assert_eq!(url.target, "https://issuer.example.com:8443/jwks?token=abc");
        assert!(!format!("{url:?}").contains("p%40ss"));
        let expected = base64::engine::general_purpose::STANDARD.encode("us:er:p@ss");
        assert_eq!(
            url.authorization.as_ref().map(|a| a.expose_secret().to_owned()),
            Some(format!("Basic {expected}"))
        );
        assert!(JwksUrl::parse("https://user:%+1@example.com/").is_err());
        assert!(JwksUrl::parse("https://user:%4@example.com/").is_err());
        let err = JwksUrl::parse("ftp://user:secret@example.com/").unwrap_err();
        assert!(!err.contains("secret"), "{err}");
    }
}
