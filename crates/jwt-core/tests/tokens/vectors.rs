//! The 50 tokens minted by simplejwt: each verifies (or fails) exactly as simplejwt says, and
//! our encoder reproduces the deterministic ones byte for byte.

use jwt_core::{Algorithm, KeySet, Settings, TokenClaims as _, Untyped};

use crate::helpers::{Vector, engine_at, keys_of, settings, vector_signing_key, vectors};

/// The audience and issuer a vector asks for, and the outcome with and without them:
/// `valid (with audience A and issuer I configured); Token is invalid otherwise`.
fn configured(expect: &str) -> Option<(String, String, String)> {
    let rest = expect.strip_prefix("valid (with audience ")?;
    let (audience, rest) = rest.split_once(" and issuer ")?;
    let (issuer, otherwise) = rest.split_once(" configured); ")?;
    Some((audience.to_owned(), issuer.to_owned(), otherwise.strip_suffix(" otherwise")?.to_owned()))
}

/// The key set of a vector: the signing key, plus the vector's own public key, which is the
/// one that verifies (tokens carry no kid, and the signing key gets one so that it is not
/// chosen).
fn key_set(v: &Vector) -> KeySet {
    let signing = vector_signing_key(v.algorithm, &v.signing_key);
    match &v.verifying_key {
        None => KeySet::new(signing),
        Some(pem) => {
            let verifying = jwt_core::VerifyingKey::from_pem(v.algorithm, pem).unwrap();
            assert_eq!(verifying.to_jwk(), signing.verifying_key().to_jwk(), "{}: key pair mismatch", v.name);
            KeySet::new(signing.with_kid("signer")).with_verifying_key(verifying).unwrap()
        }
    }
}

fn check(v: &Vector, settings: Settings, expect: &str) {
    let (engine, _clock) = engine_at(settings, key_set(v), v.verify_at);
    let outcome = engine.verify::<Untyped>(&v.token);
    if expect == "valid" {
        let verified = outcome.unwrap_or_else(|e| panic!("{}: expected valid, got {e}", v.name));
        let got = verified.claims().as_map();
        assert_eq!(got, &v.claims, "{}", v.name);
        assert_eq!(keys_of(got), keys_of(&v.claims), "{}: claim order", v.name);
    } else {
        match outcome {
            Ok(_) => panic!("{}: expected {expect:?}, but it verified", v.name),
            Err(e) => assert_eq!(e.to_string(), expect, "{}", v.name),
        }
    }
}

#[test]
fn there_are_fifty_vectors_covering_every_algorithm() {
    let all = vectors();
    assert_eq!(all.len(), 50);
    for alg in Algorithm::ALL {
        assert!(all.iter().any(|v| v.algorithm == alg && v.expect == "valid"), "{alg}");
    }
}

#[test]
fn every_vector_verifies_or_fails_as_simplejwt_says() {
    for v in vectors() {
        match configured(&v.expect) {
            None => check(&v, settings(v.algorithm), &v.expect),
            Some((audience, issuer, otherwise)) => {
                let with =
                    Settings { audience: Some(audience), issuer: Some(issuer), ..settings(v.algorithm) };
                check(&v, with, "valid");
                check(&v, settings(v.algorithm), "valid");
                let wrong_aud =
                    Settings { audience: Some("other-api".into()), issuer: None, ..settings(v.algorithm) };
                check(&v, wrong_aud, &otherwise);
                let wrong_iss = Settings {
                    audience: None,
                    issuer: Some("https://evil.example".into()),
                    ..settings(v.algorithm)
                };
                check(&v, wrong_iss, &otherwise);
            }
        }
    }
}

#[test]
fn our_encoder_reproduces_every_deterministic_vector_byte_for_byte() {
    let mut reproduced = 0;
    for v in vectors() {
        let deterministic = v.algorithm.is_symmetric()
            || matches!(
                v.algorithm,
                Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 | Algorithm::EdDSA
            );
        // Only tokens simplejwt signed with the vector's own key and algorithm: the others
        // (a foreign key, alg none, a forged HS512 or HS256 token) were made on purpose.
        let header = jwt_core::dangerous::decode_unverified(&v.token).unwrap().0;
        let foreign = header.get("alg").and_then(|a| a.as_str()) != Some(v.algorithm.as_str())
            || v.name.contains("wrong-key");
        if !deterministic || foreign {
            continue;
        }
        let key = vector_signing_key(v.algorithm, &v.signing_key);
        let token = key.encode(&v.claims.clone().into()).unwrap();
        assert_eq!(token, v.token, "{}", v.name);
        reproduced += 1;
    }
    // 9 HS + 9 RS + 3 EdDSA + 6 special HS256 (expired, custom claims, aud/iss, no jti,
    // no exp, future iat, nbf)
    assert_eq!(reproduced, 28);
}
