//! Known answers: a fixed key, `FixedClock` and `SeqRandom` give exact token strings.
//!
//! The expected strings come from `tests/data/kat.py`, an independent re-implementation of
//! PyJWT's encoder in Python (stdlib `json`/`hmac` and `cryptography`), so they check our
//! JSON layout, escaping, float format, header and signature against Python itself.

use jwt_core::{Algorithm, Issued, KeySet, Refresh, Settings, TokenClaims as _, UserId};
use serde_json::json;

use crate::helpers::{T0, VECTOR_SECRET, engine_at, signing_key};

const HS256_REFRESH: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsImV4cCI6MTc2NzMxMjAwMCwiaWF0IjoxNzY3MjI1NjAwLCJqdGkiOiIwMDAwMDAwMDAwMDA0MDAxODAwMDAwMDAwMDAwMDAwMiIsInVzZXJfaWQiOiI0MiIsIm5hbWUiOiJab1x1MDBlYiBcdWQ4M2RcdWRlMDAiLCJyb2xlcyI6WyJhZG1pbiIsIm9wcyJdLCJyYXRpbyI6MWUtMDV9.V0klXW3ib8jDET7YA1RNi5sTPhUQHU1dpcbI0e3-8ao";
const HS256_ACCESS: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzY3MjI1OTAwLCJpYXQiOjE3NjcyMjU2MDAsImp0aSI6IjAwMDAwMDAwMDAwMDQwMDM4MDAwMDAwMDAwMDAwMDA0IiwidXNlcl9pZCI6IjQyIiwibmFtZSI6IlpvXHUwMGViIFx1ZDgzZFx1ZGUwMCIsInJvbGVzIjpbImFkbWluIiwib3BzIl0sInJhdGlvIjoxZS0wNX0.gAsqdcZnJp6twwnlr9STBQ4GwDo1vZt974nntKmtcvA";
const EDDSA_REFRESH: &str = "eyJhbGciOiJFZERTQSIsImtpZCI6ImtcdTAwZTl5LzEiLCJ0eXAiOiJKV1QifQ.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsImV4cCI6MTc2NzMxMjAwMCwiaWF0IjoxNzY3MjI1NjAwLCJqdGkiOiIwMDAwMDAwMDAwMDA0MDAxODAwMDAwMDAwMDAwMDAwMiIsInVzZXJfaWQiOiI0MiIsIm5hbWUiOiJab1x1MDBlYiBcdWQ4M2RcdWRlMDAiLCJyb2xlcyI6WyJhZG1pbiIsIm9wcyJdLCJyYXRpbyI6MWUtMDV9.8PA50Di_LhzzN1ekifp2cw6UMD5Mg5NPcmtU-1dYmLg0KPkdpCnyozaKGDeRWRheGDTXqBmK_w2HGnhm_CeLAg";
const EDDSA_ACCESS: &str = "eyJhbGciOiJFZERTQSIsImtpZCI6ImtcdTAwZTl5LzEiLCJ0eXAiOiJKV1QifQ.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzY3MjI1OTAwLCJpYXQiOjE3NjcyMjU2MDAsImp0aSI6IjAwMDAwMDAwMDAwMDQwMDM4MDAwMDAwMDAwMDAwMDA0IiwidXNlcl9pZCI6IjQyIiwibmFtZSI6IlpvXHUwMGViIFx1ZDgzZFx1ZGUwMCIsInJvbGVzIjpbImFkbWluIiwib3BzIl0sInJhdGlvIjoxZS0wNX0.FogEoq2EIZnub-l124kSUwN3Ajdzq-x_Cltpx6vd-ZI3vAsuJ9Pm2ocCrvm-obw_NN79Lf3h172ZvvbK9z10Dg";

/// Custom claims with non-ASCII text (a Latin-1 letter and an astral emoji) and a float
/// Python writes in exponent form.
fn extra() -> serde_json::Map<String, serde_json::Value> {
    match json!({"name": "Zo\u{eb} \u{1f600}", "roles": ["admin", "ops"], "ratio": 0.00001}) {
        serde_json::Value::Object(map) => map,
        _ => unreachable!(),
    }
}

fn mint(settings: Settings, keys: KeySet) -> (Issued<Refresh>, String) {
    let (engine, _clock) = engine_at(settings, keys, T0);
    let refresh = engine.refresh_for(&UserId::parse("42").unwrap(), &extra()).unwrap();
    let access = engine.access_from(&refresh).unwrap();
    (refresh, access.into_string())
}

#[test]
fn hs256_refresh_and_access_tokens_are_exact() {
    let (refresh, access) = mint(Settings::default(), KeySet::hs256(VECTOR_SECRET).unwrap());
    assert_eq!(refresh.as_str(), HS256_REFRESH);
    assert_eq!(access, HS256_ACCESS);
    assert_eq!(refresh.jti().unwrap().as_str(), "00000000000040018000000000000002");
    assert_eq!(refresh.expiry().as_secs(), T0 + 86_400);
}

#[test]
fn eddsa_tokens_with_a_non_ascii_kid_are_exact() {
    let settings = Settings { algorithm: Algorithm::EdDSA, ..Settings::default() };
    let keys = KeySet::new(signing_key(Algorithm::EdDSA).with_kid("k\u{e9}y/1"));
    let (refresh, access) = mint(settings, keys);
    assert_eq!(refresh.as_str(), EDDSA_REFRESH);
    assert_eq!(access, EDDSA_ACCESS);
}

#[test]
fn known_answer_tokens_verify_and_decode_to_their_claims() {
    let (engine, _clock) = engine_at(Settings::default(), KeySet::hs256(VECTOR_SECRET).unwrap(), T0 + 1);
    let verified = engine.verify::<jwt_core::Access>(HS256_ACCESS).unwrap();
    assert_eq!(verified.claims().get_str("name"), Some("Zo\u{eb} \u{1f600}"));
    assert_eq!(verified.claims().get("ratio"), Some(&json!(0.00001)));
    let keys: Vec<_> = verified.claims().iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["token_type", "exp", "iat", "jti", "user_id", "name", "roles", "ratio"]);
    let (header, _) = jwt_core::dangerous::decode_unverified(EDDSA_ACCESS).unwrap();
    assert_eq!(header.get("kid"), Some(&json!("k\u{e9}y/1")));
}

#[test]
fn es256_header_carries_the_kid_in_sorted_order() {
    let key = signing_key(Algorithm::ES256).with_kid("k1");
    let token = key.encode(&crate::helpers::access_claims()).unwrap();
    let header = token.split('.').next().unwrap();
    assert_eq!(crate::helpers::b64(r#"{"alg":"ES256","kid":"k1","typ":"JWT"}"#), header);
    // ECDSA signatures may be randomized (aws-lc) or deterministic (RFC 6979, RustCrypto):
    // only the signed part is a known answer; the signature is checked by verifying.
    let again = key.encode(&crate::helpers::access_claims()).unwrap();
    assert_eq!(token.rsplit_once('.').unwrap().0, again.rsplit_once('.').unwrap().0);
    let (engine, _clock) =
        engine_at(Settings { algorithm: Algorithm::ES256, ..Settings::default() }, KeySet::new(key), T0);
    assert!(engine.verify::<jwt_core::Access>(&token).is_ok());
    assert!(engine.verify::<jwt_core::Access>(&again).is_ok());
}
