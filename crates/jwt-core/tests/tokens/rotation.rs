//! Key rotation, JWKS, key generation from the random port, and export/import.

use std::sync::atomic::{AtomicUsize, Ordering};

use jwt_core::error::RandomError;
use jwt_core::memory::SeqRandom;
use jwt_core::ports::SecureRandom;
use jwt_core::system::OsRandom;
use jwt_core::{
    Access, Algorithm, ConfigError, InvalidReason, KeyMaterial, KeySet, SigningKey, TokenError, UserId,
    VerifyingKey,
};
use serde_json::json;

use crate::helpers::{T0, access_claims, engine_at, settings, signing_key};

/// A random source that works for `budget` bytes, then fails.
#[derive(Debug)]
struct FailingAfter {
    budget: AtomicUsize,
    inner: OsRandom,
}

impl FailingAfter {
    fn new(budget: usize) -> Self {
        Self { budget: AtomicUsize::new(budget), inner: OsRandom::new() }
    }
}

impl SecureRandom for FailingAfter {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        let left = self.budget.load(Ordering::SeqCst);
        if left < buf.len() {
            return Err(RandomError);
        }
        self.budget.store(left - buf.len(), Ordering::SeqCst);
        self.inner.fill(buf)
    }
}

/// A generated key with its thumbprint as kid, as the server makes them.
fn generated(alg: Algorithm, random: &dyn SecureRandom) -> SigningKey {
    let key = SigningKey::generate(alg, random).unwrap();
    let kid = key.verifying_key().thumbprint();
    key.with_kid(kid)
}

#[test]
fn the_new_key_signs_and_the_old_key_still_verifies() {
    let seq = SeqRandom::starting_at(7);
    let a = generated(Algorithm::ES256, seq.as_ref());
    let b = generated(Algorithm::ES256, seq.as_ref());
    assert_ne!(a.kid(), b.kid());
    let user = UserId::parse("42").unwrap();

    let (old_engine, _) = engine_at(settings(Algorithm::ES256), KeySet::new(a.clone()), T0);
    let old_token = old_engine.refresh_for(&user, &Default::default()).unwrap();
    let old_access = old_engine.access_from(&old_token).unwrap();

    let rotated = KeySet::new(b.clone()).with_verifying_key(a.verifying_key()).unwrap();
    let engine = old_engine.with_keys(rotated).unwrap();
    assert!(engine.verify::<Access>(old_access.as_str()).is_ok());
    let new_access = engine.access_from(&old_token).unwrap();
    let (header, _) = jwt_core::dangerous::decode_unverified(new_access.as_str()).unwrap();
    assert_eq!(header.get("kid"), Some(&json!(b.kid().unwrap())));
    assert!(engine.verify::<Access>(new_access.as_str()).is_ok());

    // Once A is retired, its tokens name an unknown key.
    let retired = engine.with_keys(KeySet::new(b)).unwrap();
    assert!(matches!(
        retired.verify::<Access>(old_access.as_str()),
        Err(TokenError::Invalid(InvalidReason::UnknownKey))
    ));
    assert!(retired.verify::<Access>(new_access.as_str()).is_ok());
}

#[test]
fn key_sets_refuse_ambiguous_kids() {
    let a = signing_key(Algorithm::EdDSA);
    let err = KeySet::new(a.clone()).with_verifying_key(a.verifying_key()).unwrap_err();
    assert_eq!(err, ConfigError::Key("two verifying keys share the kid \"(none)\"".into()));
    let err =
        KeySet::new(a.clone().with_kid("x")).with_verifying_key(a.verifying_key().with_kid("x")).unwrap_err();
    assert_eq!(err, ConfigError::Key("two verifying keys share the kid \"x\"".into()));
    assert!(KeySet::new(a.clone().with_kid("x")).with_verifying_key(a.verifying_key()).is_ok());
}

#[test]
fn jwks_lists_public_keys_with_kids_and_never_hmac_secrets() {
    let rs = signing_key(Algorithm::RS256).with_kid("rs-1");
    let es = signing_key(Algorithm::ES384).verifying_key().with_kid("es-0");
    let hs = VerifyingKey::hmac(Algorithm::HS256, &[3; 32]).unwrap().with_kid("hs-0");
    let keys =
        KeySet::new(rs.clone()).with_verifying_key(es.clone()).unwrap().with_verifying_key(hs).unwrap();
    let jwks = keys.jwks();
    let listed = jwks["keys"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0], rs.verifying_key().to_jwk().unwrap());
    assert_eq!(listed[0]["kid"], json!("rs-1"));
    assert_eq!(listed[1]["kid"], json!("es-0"));
    assert_eq!(listed[1]["alg"], json!("ES384"));
    assert!(!jwks.to_string().contains("\"oct\""));
    assert!(!jwks.to_string().contains("\"d\""));
    // An HMAC-only key set publishes nothing.
    let hmac_only = KeySet::hs256(&[5; 32]).unwrap();
    assert_eq!(hmac_only.jwks(), json!({"keys": []}));
    // Each listed JWK imports back as the same verifying key.
    let back = VerifyingKey::from_jwk(Algorithm::ES384, &listed[1]).unwrap();
    assert_eq!(back.thumbprint(), es.thumbprint());
}

#[test]
fn generated_keys_sign_and_verify_for_every_algorithm() {
    let os = OsRandom::new();
    // RSA generation is slow in debug builds: one generated RSA key serves all six RSA
    // algorithms (through export/import, as the server reloads keys).
    let rsa = SigningKey::generate(Algorithm::RS256, &os).unwrap().export();
    for alg in Algorithm::ALL {
        let key = if alg.family() == jwt_core::KeyFamily::Rsa {
            let key = SigningKey::import(alg, &rsa).unwrap();
            let kid = key.verifying_key().thumbprint();
            key.with_kid(kid)
        } else {
            generated(alg, &os)
        };
        assert_eq!(key.algorithm(), alg);
        let (engine, _) = engine_at(settings(alg), KeySet::new(key.clone()), T0);
        let refresh = engine.refresh_for(&UserId::parse("7").unwrap(), &Default::default()).unwrap();
        let access = engine.access_from(&refresh).unwrap();
        assert!(engine.verify::<Access>(access.as_str()).is_ok(), "{alg}");
        // Another key of the same algorithm does not verify it.
        let other = if alg.family() == jwt_core::KeyFamily::Rsa {
            signing_key(alg)
        } else {
            SigningKey::generate(alg, &os).unwrap()
        };
        let (stranger, _) = engine_at(settings(alg), KeySet::new(other.with_kid(key.kid().unwrap())), T0);
        assert!(
            matches!(
                stranger.verify::<Access>(access.as_str()),
                Err(TokenError::Invalid(InvalidReason::Signature))
            ),
            "{alg}"
        );
    }
}

#[test]
fn generation_is_deterministic_under_an_injected_source() {
    // RSA generation is slow in debug builds; the EC, Ed25519 and HMAC paths are cheap.
    for alg in [
        Algorithm::HS256,
        Algorithm::HS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::EdDSA,
        Algorithm::RS256,
    ] {
        let one = SigningKey::generate(alg, SeqRandom::starting_at(100).as_ref()).unwrap();
        let two = SigningKey::generate(alg, SeqRandom::starting_at(100).as_ref()).unwrap();
        let three = SigningKey::generate(alg, SeqRandom::starting_at(200).as_ref()).unwrap();
        assert_eq!(one.export(), two.export(), "{alg}");
        assert_ne!(one.export(), three.export(), "{alg}");
    }
    match SigningKey::generate(Algorithm::HS384, SeqRandom::starting_at(1).as_ref()).unwrap().export() {
        KeyMaterial::Secret(secret) => assert_eq!(secret.len(), 64),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_failing_random_source_is_an_error_not_a_panic() {
    for alg in Algorithm::ALL {
        let err = SigningKey::generate(alg, &FailingAfter::new(0)).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Key("the secure random source failed while generating a key".into()),
            "{alg}"
        );
    }
    // Failing in the middle of RSA prime generation.
    let err = SigningKey::generate(Algorithm::RS256, &FailingAfter::new(300)).unwrap_err();
    assert_eq!(err, ConfigError::Key("the secure random source failed while generating a key".into()));
}

#[test]
fn export_then_import_round_trips_every_algorithm() {
    let os = OsRandom::new();
    for alg in Algorithm::ALL {
        let key =
            if alg.family() == jwt_core::KeyFamily::Rsa { signing_key(alg) } else { generated(alg, &os) };
        let material = key.export();
        match (&material, alg.is_symmetric()) {
            (KeyMaterial::Secret(_), true) => {}
            (KeyMaterial::Pem(pem), false) => {
                assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{alg}")
            }
            (other, _) => panic!("{alg}: {other:?}"),
        }
        let back = SigningKey::import(alg, &material).unwrap();
        assert_eq!(back.export(), material, "{alg}");
        assert_eq!(back.verifying_key().thumbprint(), key.verifying_key().thumbprint(), "{alg}");
        // A token of the imported key verifies with the original key's public half.
        let token = back.encode(&access_claims()).unwrap();
        let (engine, _) = engine_at(settings(alg), KeySet::new(key), T0);
        assert!(engine.verify::<Access>(&token).is_ok(), "{alg}");
    }
    // Material of another family is refused.
    let ed = signing_key(Algorithm::EdDSA).export();
    assert_eq!(
        SigningKey::import(Algorithm::ES256, &ed).unwrap_err(),
        ConfigError::Key("ES256 needs a P-256 key, but this is an Ed25519 key".into())
    );
    let secret = KeyMaterial::Secret(zeroize::Zeroizing::new(vec![1; 16]));
    assert!(SigningKey::import(Algorithm::HS256, &secret).is_err());
}

#[test]
fn the_engine_refuses_a_key_set_of_another_algorithm() {
    let err =
        jwt_core::TokenEngine::new(settings(Algorithm::RS256), KeySet::new(signing_key(Algorithm::PS256)))
            .unwrap_err();
    assert_eq!(err.to_string(), "the signing key is a PS256 key but the algorithm setting is RS256");
}
