//! Shared fixtures: test data files, the simplejwt vectors, engines on a fixed clock.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_core::memory::{FixedClock, SeqRandom};
use jwt_core::{Algorithm, Claims, KeySet, Settings, SigningKey, TokenEngine};
use serde::Deserialize;

/// The HMAC secret of the simplejwt vectors.
pub(crate) const VECTOR_SECRET: &[u8] = b"simplejwt-peer-test-signing-key-0123456789abcdef0123456789abcdef";

/// 2026-01-01T00:00:00Z, the `iat` of the vectors.
pub(crate) const T0: i64 = 1_767_225_600;

/// A file of `tests/data`.
pub(crate) fn data(name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "data", name].iter().collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One token minted by simplejwt 5.5.1 / PyJWT 2.15.1.
#[derive(Debug, Deserialize)]
pub(crate) struct Vector {
    pub(crate) name: String,
    pub(crate) algorithm: Algorithm,
    pub(crate) signing_key: String,
    pub(crate) verifying_key: Option<String>,
    pub(crate) token: String,
    pub(crate) claims: serde_json::Map<String, serde_json::Value>,
    pub(crate) verify_at: i64,
    pub(crate) expect: String,
}

#[derive(Deserialize)]
struct VectorFile {
    vectors: Vec<Vector>,
}

/// The 50 vectors of `tests/data/vectors.json`.
pub(crate) fn vectors() -> Vec<Vector> {
    let file: VectorFile = serde_json::from_str(&data("vectors.json")).unwrap();
    file.vectors
}

/// The first vector with this name.
pub(crate) fn vector(name: &str) -> Vector {
    vectors().into_iter().find(|v| v.name == name).unwrap_or_else(|| panic!("no vector {name}"))
}

/// The signing key of a vector.
pub(crate) fn vector_signing_key(alg: Algorithm, signing_key: &str) -> SigningKey {
    if alg.is_symmetric() {
        SigningKey::hmac(alg, signing_key.as_bytes()).unwrap()
    } else {
        SigningKey::from_pem(alg, signing_key).unwrap()
    }
}

/// The signing key of the first vector of `alg`.
pub(crate) fn signing_key(alg: Algorithm) -> SigningKey {
    let v = vectors().into_iter().find(|v| v.algorithm == alg).unwrap();
    vector_signing_key(alg, &v.signing_key)
}

/// The public key PEM of the first vector of `alg` (asymmetric algorithms only).
pub(crate) fn public_pem(alg: Algorithm) -> String {
    let v = vectors().into_iter().find(|v| v.algorithm == alg).unwrap();
    v.verifying_key.unwrap()
}

/// Leeway 0 and `alg`, otherwise simplejwt's defaults.
pub(crate) fn settings(alg: Algorithm) -> Settings {
    Settings { algorithm: alg, leeway: Duration::ZERO, ..Settings::default() }
}

/// An engine on a clock stopped at `at`, with the counter "random" source.
pub(crate) fn engine_at(settings: Settings, keys: KeySet, at: i64) -> (TokenEngine, Arc<FixedClock>) {
    let clock = FixedClock::at(at);
    let engine = TokenEngine::with_details(settings, keys, clock.clone(), SeqRandom::starting_at(1)).unwrap();
    (engine, clock)
}

/// An HS256 engine on the vector secret at [`T0`].
pub(crate) fn hs256_engine() -> TokenEngine {
    engine_at(settings(Algorithm::HS256), KeySet::hs256(VECTOR_SECRET).unwrap(), T0).0
}

/// Claims from a JSON object literal.
pub(crate) fn claims(value: serde_json::Value) -> Claims {
    match value {
        serde_json::Value::Object(map) => Claims::from(map),
        other => panic!("not an object: {other}"),
    }
}

/// Valid simplejwt access-token claims around [`T0`].
pub(crate) fn access_claims() -> Claims {
    claims(serde_json::json!({
        "token_type": "access",
        "exp": T0 + 300,
        "iat": T0,
        "jti": "0123456789abcdef0123456789abcdef",
        "user_id": "42",
    }))
}

/// base64url without padding.
pub(crate) fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token with exactly these header and payload bytes, HMAC-SHA256-signed with `secret`
/// (through jsonwebtoken, independently of our encoder).
pub(crate) fn hs256_raw(secret: &[u8], header: impl AsRef<[u8]>, payload: impl AsRef<[u8]>) -> String {
    let signed = format!("{}.{}", b64(header), b64(payload));
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    let signature =
        jsonwebtoken::crypto::sign(signed.as_bytes(), &key, jsonwebtoken::Algorithm::HS256).unwrap();
    format!("{signed}.{signature}")
}

/// [`hs256_raw`] with the vector secret.
pub(crate) fn hs256_token(header: impl AsRef<[u8]>, payload: impl AsRef<[u8]>) -> String {
    hs256_raw(VECTOR_SECRET, header, payload)
}

/// The claims' keys in order, to compare order as well as content.
pub(crate) fn keys_of(map: &serde_json::Map<String, serde_json::Value>) -> Vec<&str> {
    map.keys().map(String::as_str).collect()
}
