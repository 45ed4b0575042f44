//! Property tests: nothing panics on hostile input, and encode → decode is the identity on
//! claims (content and order) for HS256 and EdDSA.

use std::sync::LazyLock;

use jwt_core::{Algorithm, Claims, KeySet, SigningKey, TokenEngine, Untyped, VerifyingKey};
use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::helpers::{
    T0, VECTOR_SECRET, b64, engine_at, hs256_engine, hs256_token, keys_of, settings, signing_key,
};

/// Claims the engine checks on decode, left out so that any value round-trips.
const REGISTERED: [&str; 7] = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"];

/// Engines of every asymmetric family, built once (RSA key loading runs a self-test).
static ASYMMETRIC: LazyLock<Vec<TokenEngine>> = LazyLock::new(|| {
    [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::EdDSA,
    ]
    .into_iter()
    .map(|alg| engine_at(settings(alg), KeySet::new(signing_key(alg)), T0).0)
    .collect()
});

fn claim_name() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z_]{1,10}", "\\PC{1,6}", any::<String>()]
        .prop_filter("registered claim", |k| !REGISTERED.contains(&k.as_str()))
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Floats with short exact decimal forms (serde_json's default float parser is only
        // guaranteed exact for those); includes Python's exponent forms (1e-05, 1e+16).
        (-1_000_000_000i64..1_000_000_000, -12i32..24)
            .prop_map(|(m, e)| Value::from(m as f64 * 10f64.powi(e) / 8.0)),
        "\\PC*".prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
            prop::collection::vec((claim_name(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn claims() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((claim_name(), json_value()), 0..8).prop_map(|kv| kv.into_iter().collect())
}

fn b64url_segment() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{0,80}"
}

fn round_trip(key: &SigningKey, engine: &TokenEngine, map: &Map<String, Value>) -> Result<(), TestCaseError> {
    let token = key.encode(&Claims::from(map.clone())).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(token.is_ascii());
    let decoded = engine.decode(&token).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
    prop_assert_eq!(decoded.as_map(), map);
    prop_assert_eq!(keys_of(decoded.as_map()), keys_of(map));
    Ok(())
}

proptest! {
    #[test]
    fn verify_never_panics_on_arbitrary_strings(raw in any::<String>()) {
        let engine = hs256_engine();
        prop_assert!(engine.verify::<Untyped>(&raw).is_err());
        let _ = jwt_core::dangerous::decode_unverified(&raw);
    }

    #[test]
    fn verify_never_panics_on_three_base64url_segments(h in b64url_segment(), p in b64url_segment(), s in b64url_segment()) {
        let raw = format!("{h}.{p}.{s}");
        prop_assert!(hs256_engine().verify::<Untyped>(&raw).is_err());
        let _ = jwt_core::dangerous::decode_unverified(&raw);
    }

    #[test]
    fn verify_never_panics_on_signed_arbitrary_headers_and_payloads(
        header in prop_oneof![any::<String>(), json_value().prop_map(|v| v.to_string()),
            (any::<String>(), json_value()).prop_map(|(alg, kid)| serde_json::json!({"alg": alg, "kid": kid}).to_string())],
        payload in prop_oneof![any::<Vec<u8>>(), json_value().prop_map(|v| v.to_string().into_bytes())],
    ) {
        // Validly signed, so every check after the signature runs too.
        let token = hs256_token(header.as_bytes(), &payload);
        let _ = hs256_engine().verify::<Untyped>(&token);
        // Every key family behind the kid lookup, with garbage signatures.
        let garbage = format!("{}.{}.{}", b64(header.as_bytes()), b64(&payload), b64(&payload));
        for engine in ASYMMETRIC.iter() {
            let _ = engine.verify::<Untyped>(&garbage);
        }
    }

    #[test]
    fn key_loading_never_panics(text in any::<String>(), bytes in any::<Vec<u8>>(), value in json_value()) {
        let body = b64(&bytes).replace('-', "+").replace('_', "/");
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n");
        let public_pem = pem.replace("PRIVATE", "PUBLIC");
        for alg in Algorithm::ALL {
            let _ = SigningKey::from_pem(alg, &text);
            let _ = SigningKey::from_pem(alg, &pem);
            let _ = SigningKey::from_der(alg, &bytes);
            let _ = SigningKey::from_jwk(alg, &value);
            let _ = SigningKey::hmac(alg, &bytes);
            let _ = VerifyingKey::from_pem(alg, &public_pem);
            let _ = VerifyingKey::from_der(alg, &bytes);
            let _ = VerifyingKey::from_jwk(alg, &value);
        }
    }

    #[test]
    fn jwk_loading_never_panics_on_plausible_jwks(
        kty in prop_oneof![Just("RSA"), Just("EC"), Just("OKP"), Just("oct")],
        crv in prop_oneof![Just("P-256"), Just("P-384"), Just("P-521"), Just("Ed25519")],
        members in prop::collection::vec((prop_oneof![Just("n"), Just("e"), Just("d"), Just("p"), Just("q"), Just("x"), Just("y"), Just("k")], any::<Vec<u8>>()), 0..7),
    ) {
        let mut jwk = serde_json::json!({"kty": kty, "crv": crv});
        for (name, value) in members {
            jwk[name] = Value::from(b64(&value));
        }
        for alg in Algorithm::ALL {
            let _ = SigningKey::from_jwk(alg, &jwk);
            let _ = VerifyingKey::from_jwk(alg, &jwk);
        }
    }

    #[test]
    fn hs256_encode_then_decode_is_the_identity(map in claims()) {
        let key = SigningKey::hmac(Algorithm::HS256, VECTOR_SECRET).unwrap();
        round_trip(&key, &hs256_engine(), &map)?;
    }

    #[test]
    fn eddsa_encode_then_decode_is_the_identity(map in claims()) {
        let key = signing_key(Algorithm::EdDSA).with_kid("\u{e9}d");
        let (engine, _) = engine_at(settings(Algorithm::EdDSA), KeySet::new(key.clone()), T0);
        round_trip(&key, &engine, &map)?;
    }
}
