//! Loading keys: every accepted encoding works, and every unusable key is refused with one
//! clear `ConfigError::Key` sentence (never a panic).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jwt_core::{Algorithm, ConfigError, KeySet, SigningKey, Untyped, VerifyingKey};
use p256::pkcs8::DecodePrivateKey as _;
use rsa::traits::{PrivateKeyParts as _, PublicKeyParts as _};
use serde_json::{Value, json};

use crate::helpers::{T0, access_claims, b64, data, engine_at, public_pem, settings, signing_key, vector};

/// The `ConfigError::Key` message of a failed load.
fn key_error<T: std::fmt::Debug>(result: Result<T, ConfigError>) -> String {
    match result {
        Err(ConfigError::Key(message)) => message,
        other => panic!("expected ConfigError::Key, got {other:?}"),
    }
}

/// DER of the single block of a PEM file.
fn der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

/// `signing` signs a token that `verifying` accepts: the token names `verifying` by kid in
/// a key set whose own signing key is unrelated.
fn pair_works(signing: SigningKey, verifying: VerifyingKey) {
    let alg = signing.algorithm();
    let token = signing.with_kid("pair").encode(&access_claims()).unwrap();
    let unrelated = SigningKey::hmac(Algorithm::HS256, &[9; 32]).unwrap().with_kid("unrelated");
    let keys = KeySet::new(unrelated).with_verifying_key(verifying.with_kid("pair")).unwrap();
    let (engine, _) = engine_at(settings(Algorithm::HS256), keys, T0);
    engine.verify::<Untyped>(&token).unwrap_or_else(|e| panic!("{alg}: {e:?}"));
}

#[test]
fn hmac_secrets_shorter_than_the_hash_are_refused() {
    assert_eq!(
        key_error(SigningKey::hmac(Algorithm::HS256, &[1; 31])),
        "an HS256 secret must be at least 32 bytes, got 31"
    );
    assert_eq!(
        key_error(SigningKey::hmac(Algorithm::HS384, &[1; 47])),
        "an HS384 secret must be at least 48 bytes, got 47"
    );
    assert_eq!(
        key_error(SigningKey::hmac(Algorithm::HS512, &[1; 63])),
        "an HS512 secret must be at least 64 bytes, got 63"
    );
    assert_eq!(key_error(KeySet::hs256(b"")), "an HS256 secret must be at least 32 bytes, got 0");
    assert!(SigningKey::hmac(Algorithm::HS256, &[1; 32]).is_ok());
    assert!(VerifyingKey::hmac(Algorithm::HS512, &[1; 64]).is_ok());
}

#[test]
fn hmac_constructors_refuse_asymmetric_algorithms_and_vice_versa() {
    assert_eq!(
        key_error(SigningKey::hmac(Algorithm::RS256, &[1; 64])),
        "RS256 needs an RSA key, but this is an HMAC secret"
    );
    assert_eq!(
        key_error(VerifyingKey::hmac(Algorithm::EdDSA, &[1; 64])),
        "EdDSA needs an Ed25519 key, but this is an HMAC secret"
    );
    let pem = vector("RS256-access").signing_key;
    assert_eq!(
        key_error(SigningKey::from_pem(Algorithm::HS256, &pem)),
        "HS256 uses a shared secret, not a PEM/DER key; use SigningKey::hmac"
    );
    assert_eq!(
        key_error(VerifyingKey::from_pem(Algorithm::HS256, &public_pem(Algorithm::RS256))),
        "HS256 uses a shared secret, not a PEM/DER key; use VerifyingKey::hmac"
    );
}

#[test]
fn rsa_keys_under_2048_bits_are_refused() {
    assert_eq!(
        key_error(SigningKey::from_pem(Algorithm::RS256, &data("rsa1024.pem"))),
        "RSA keys must be at least 2048 bits, got 1024"
    );
    assert_eq!(
        key_error(VerifyingKey::from_pem(Algorithm::PS256, &data("rsa1024.pub.pem"))),
        "RSA keys must be at least 2048 bits, got 1024"
    );
    assert_eq!(
        key_error(SigningKey::from_der(Algorithm::RS512, &der(&data("rsa1024.pem")))),
        "RSA keys must be at least 2048 bits, got 1024"
    );
}

#[test]
fn rsa_keys_over_4096_bits_are_refused_clearly() {
    // A 4104-bit odd modulus: enough for the public-key checks that run before ours.
    let mut n = vec![0xffu8; 513];
    n[0] = 0x80;
    let jwk = json!({"kty": "RSA", "n": b64(&n), "e": "AQAB"});
    assert_eq!(
        key_error(VerifyingKey::from_jwk(Algorithm::RS256, &jwk)),
        "RSA keys larger than 4096 bits are not supported, got 4104"
    );
}

#[test]
fn keys_of_the_wrong_family_or_curve_are_refused() {
    let es256 = vector("ES256-access").signing_key;
    let es384 = vector("ES384-access").signing_key;
    let rsa = vector("RS256-access").signing_key;
    let ed = vector("EdDSA-access").signing_key;
    let cases: [(Algorithm, &str, &str); 7] = [
        (Algorithm::RS256, &es256, "RS256 needs an RSA key, but this is a P-256 key"),
        (Algorithm::PS384, &ed, "PS384 needs an RSA key, but this is an Ed25519 key"),
        (Algorithm::ES256, &es384, "ES256 needs a P-256 key, but this is a P-384 key"),
        (Algorithm::ES384, &es256, "ES384 needs a P-384 key, but this is a P-256 key"),
        (Algorithm::ES512, &es256, "ES512 needs a P-521 key, but this is a P-256 key"),
        (Algorithm::EdDSA, &rsa, "EdDSA needs an Ed25519 key, but this is an RSA key"),
        (Algorithm::ES256, &rsa, "ES256 needs a P-256 key, but this is an RSA key"),
    ];
    for (alg, pem, message) in cases {
        assert_eq!(key_error(SigningKey::from_pem(alg, pem)), message);
        assert_eq!(key_error(SigningKey::from_der(alg, &der(pem))), message);
    }
    // The same for public keys and the SEC1 form.
    assert_eq!(
        key_error(VerifyingKey::from_pem(Algorithm::ES256, &public_pem(Algorithm::ES384))),
        "ES256 needs a P-256 key, but this is a P-384 key"
    );
    assert_eq!(
        key_error(VerifyingKey::from_pem(Algorithm::EdDSA, &public_pem(Algorithm::RS256))),
        "EdDSA needs an Ed25519 key, but this is an RSA key"
    );
    assert_eq!(
        key_error(SigningKey::from_pem(Algorithm::ES256, &data("p384-sec1.pem"))),
        "ES256 needs a P-256 key, but this is a P-384 key"
    );
    assert_eq!(
        key_error(SigningKey::from_pem(Algorithm::ES384, &data("p521-sec1.pem"))),
        "ES384 needs a P-384 key, but this is a P-521 key"
    );
}

#[test]
fn public_keys_cannot_sign_and_private_keys_are_not_given_to_verifiers() {
    assert_eq!(
        key_error(SigningKey::from_pem(Algorithm::RS256, &public_pem(Algorithm::RS256))),
        "the PEM holds a public key (\"PUBLIC KEY\"), but signing needs the private key"
    );
    assert_eq!(
        key_error(SigningKey::from_pem(Algorithm::RS256, &data("rsa2048-pkcs1.pub.pem"))),
        "the PEM holds a public key (\"RSA PUBLIC KEY\"), but signing needs the private key"
    );
    assert_eq!(
        key_error(SigningKey::from_der(Algorithm::ES256, &der(&public_pem(Algorithm::ES256)))),
        "the DER holds a public key, but signing needs the private key"
    );
    assert_eq!(
        key_error(VerifyingKey::from_pem(Algorithm::ES256, &vector("ES256-access").signing_key)),
        "the PEM holds a private key (\"PRIVATE KEY\"); verifiers need only the public key (\"PUBLIC KEY\")"
    );
    assert_eq!(
        key_error(VerifyingKey::from_der(Algorithm::RS256, &der(&data("rsa2048-pkcs1.pem")))),
        "the DER holds a private key; verifiers need only the public key (SubjectPublicKeyInfo)"
    );
}

#[test]
fn garbage_and_unsupported_pem_get_clear_messages() {
    let cases: [(&str, &str); 9] = [
        ("", "the key is not PEM: no \"-----BEGIN ...-----\" line found"),
        ("secret", "the key is not PEM: no \"-----BEGIN ...-----\" line found"),
        ("-----BEGIN PRIVATE KEY-----\nMIIE\n", "the PEM block \"PRIVATE KEY\" has no END line"),
        (
            "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n",
            "the PEM block \"PRIVATE KEY\" is not valid base64",
        ),
        (
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            "the PEM block \"PRIVATE KEY\" ends with a mismatched END line \"PUBLIC KEY\"",
        ),
        (
            "-----BEGIN SOMETHING-----\nAAAA\n-----END SOMETHING-----\n",
            "unsupported PEM block \"SOMETHING\"; expected PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY",
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n",
            "encrypted PEM keys are not supported; decrypt the key first (openssl pkey -in key.pem -out plain.pem)",
        ),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
            "OpenSSH private keys are not supported; convert the key to PKCS#8 (ssh-keygen -p -m PKCS8 -f key)",
        ),
        (
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "the PEM holds a certificate, but signing needs the private key",
        ),
    ];
    for (pem, message) in cases {
        assert_eq!(key_error(SigningKey::from_pem(Algorithm::RS256, pem)), message, "{pem:?}");
    }
    let garbage_der = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    assert!(
        key_error(SigningKey::from_pem(Algorithm::RS256, garbage_der))
            .starts_with("the key is not a valid PKCS#8")
    );
    assert_eq!(
        key_error(SigningKey::from_pem(Algorithm::ES256, &data("p256-encrypted.pem"))),
        "encrypted PEM keys are not supported; decrypt the key first (openssl pkey -in key.pem -out plain.pem)"
    );
    assert_eq!(
        key_error(VerifyingKey::from_pem(Algorithm::ES256, &data("p256-cert.pem"))),
        "certificates are not supported; extract the public key (openssl x509 -pubkey -noout -in cert.pem)"
    );
    assert_eq!(
        key_error(SigningKey::from_pem(Algorithm::EdDSA, &data("ed448.pem"))),
        "Ed448 keys are not supported; EdDSA here means Ed25519"
    );
    assert_eq!(
        key_error(SigningKey::from_pem(Algorithm::ES256, &data("secp256k1.pem"))),
        "secp256k1 (ES256K) keys are not supported; use P-256, P-384 or P-521"
    );
    let two = format!("{}{}", public_pem(Algorithm::ES256), public_pem(Algorithm::ES256));
    assert_eq!(
        key_error(VerifyingKey::from_pem(Algorithm::ES256, &two)),
        "the PEM document holds 2 keys; give exactly one"
    );
    assert_eq!(
        key_error(SigningKey::from_der(Algorithm::RS256, b"\x30\x03\x02\x01")),
        "the DER is not a private key in PKCS#8, PKCS#1 or SEC1 form"
    );
    assert_eq!(
        key_error(VerifyingKey::from_der(Algorithm::RS256, &[])),
        "the DER is not a public key in SubjectPublicKeyInfo or PKCS#1 form"
    );
}

#[test]
fn every_accepted_encoding_loads_the_same_key() {
    // PKCS#1 private / public, RSA.
    let pkcs1 = SigningKey::from_pem(Algorithm::RS256, &data("rsa2048-pkcs1.pem")).unwrap();
    assert_eq!(pkcs1.verifying_key().to_jwk(), signing_key(Algorithm::RS256).verifying_key().to_jwk());
    let pkcs1_public = VerifyingKey::from_pem(Algorithm::RS256, &data("rsa2048-pkcs1.pub.pem")).unwrap();
    pair_works(signing_key(Algorithm::RS256), pkcs1_public);
    pair_works(pkcs1, VerifyingKey::from_pem(Algorithm::RS256, &public_pem(Algorithm::RS256)).unwrap());
    // SEC1, with OpenSSL's EC PARAMETERS block in front.
    for (alg, file) in [
        (Algorithm::ES256, "p256-sec1-with-params.pem"),
        (Algorithm::ES384, "p384-sec1.pem"),
        (Algorithm::ES512, "p521-sec1.pem"),
    ] {
        let sec1 = SigningKey::from_pem(alg, &data(file)).unwrap();
        pair_works(sec1, VerifyingKey::from_pem(alg, &public_pem(alg)).unwrap());
    }
    // DER of every vector key, and CRLF / indented PEM.
    for alg in [
        Algorithm::RS256,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::EdDSA,
    ] {
        let v = crate::helpers::vectors().into_iter().find(|v| v.algorithm == alg).unwrap();
        let from_der = SigningKey::from_der(alg, &der(&v.signing_key)).unwrap();
        let public_der = VerifyingKey::from_der(alg, &der(&public_pem(alg))).unwrap();
        pair_works(from_der, public_der);
        let crlf: String = v.signing_key.lines().map(|l| format!("  {l}  \r\n")).collect();
        let key = SigningKey::from_pem(alg, &format!("comment line\r\n{crlf}trailing text")).unwrap();
        pair_works(key, VerifyingKey::from_pem(alg, &public_pem(alg)).unwrap());
    }
}

/// Private JWKs of the vector keys, built from their components with the RustCrypto crates.
fn private_jwk(alg: Algorithm) -> Value {
    let v = crate::helpers::vectors().into_iter().find(|v| v.algorithm == alg).unwrap();
    let mut public = VerifyingKey::from_pem(alg, &public_pem(alg)).unwrap().to_jwk().unwrap();
    let obj = public.as_object_mut().unwrap();
    match alg.family() {
        jwt_core::KeyFamily::Rsa => {
            let k = rsa::RsaPrivateKey::from_pkcs8_pem(&v.signing_key).unwrap();
            obj.insert("d".into(), json!(b64(k.d().to_bytes_be())));
            obj.insert("p".into(), json!(b64(k.primes()[0].to_bytes_be())));
            obj.insert("q".into(), json!(b64(k.primes()[1].to_bytes_be())));
            assert_eq!(obj["n"], json!(b64(k.n().to_bytes_be())));
        }
        jwt_core::KeyFamily::P256 => {
            let k = p256::SecretKey::from_pkcs8_pem(&v.signing_key).unwrap();
            obj.insert("d".into(), json!(b64(k.to_bytes())));
        }
        jwt_core::KeyFamily::P521 => {
            let k = p521::SecretKey::from_pkcs8_pem(&v.signing_key).unwrap();
            obj.insert("d".into(), json!(b64(k.to_bytes())));
        }
        jwt_core::KeyFamily::Ed25519 => {
            let k = ed25519_dalek::SigningKey::from_pkcs8_pem(&v.signing_key).unwrap();
            obj.insert("d".into(), json!(b64(k.to_bytes())));
        }
        other => panic!("no private JWK fixture for {other:?}"),
    }
    public
}

#[test]
fn private_and_public_jwks_import_and_keep_their_kid() {
    for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::ES512, Algorithm::EdDSA] {
        let mut jwk = private_jwk(alg);
        jwk["kid"] = json!("from-jwk");
        let signing = SigningKey::from_jwk(alg, &jwk).unwrap();
        assert_eq!(signing.kid(), Some("from-jwk"));
        let mut public = signing.verifying_key().to_jwk().unwrap();
        assert_eq!(public["kid"], json!("from-jwk"));
        public["kid"] = json!("public");
        let verifying = VerifyingKey::from_jwk(alg, &public).unwrap();
        assert_eq!(verifying.kid(), Some("public"));
        pair_works(signing, VerifyingKey::from_pem(alg, &public_pem(alg)).unwrap());
        pair_works(signing_key(alg), verifying);
    }
    // RSA without p and q: the primes are recovered from d.
    let mut jwk = private_jwk(Algorithm::RS256);
    let obj = jwk.as_object_mut().unwrap();
    obj.remove("p");
    obj.remove("q");
    pair_works(
        SigningKey::from_jwk(Algorithm::RS256, &jwk).unwrap(),
        signing_key(Algorithm::RS256).verifying_key(),
    );
    // oct: an HMAC secret, never exported.
    let oct = json!({"kty": "oct", "k": b64([7u8; 32]), "alg": "HS256", "kid": "h"});
    let hmac = SigningKey::from_jwk(Algorithm::HS256, &oct).unwrap();
    assert_eq!(hmac.verifying_key().to_jwk(), None);
    pair_works(hmac, VerifyingKey::from_jwk(Algorithm::HS256, &oct).unwrap());
}

#[test]
fn bad_jwks_are_refused_clearly() {
    let rsa = private_jwk(Algorithm::RS256);
    let es = private_jwk(Algorithm::ES256);
    let ed = private_jwk(Algorithm::EdDSA);
    let with = |base: &Value, name: &str, value: Value| {
        let mut jwk = base.clone();
        jwk[name] = value;
        jwk
    };
    let without = |base: &Value, name: &str| {
        let mut jwk = base.clone();
        jwk.as_object_mut().unwrap().remove(name);
        jwk
    };
    let cases: Vec<(Algorithm, Value, &str)> = vec![
        (Algorithm::RS256, json!("RSA"), "the JWK is not a JSON object"),
        (Algorithm::RS384, rsa.clone(), "the JWK is for RS256, but the key is configured for RS384"),
        (
            Algorithm::RS256,
            with(&rsa, "use", json!("enc")),
            "the JWK's \"use\" is \"enc\", but signing keys need \"sig\"",
        ),
        (Algorithm::RS256, with(&rsa, "kid", json!(1)), "the JWK member \"kid\" is not a string"),
        (Algorithm::RS256, without(&rsa, "kty"), "the JWK has no \"kty\" member"),
        (Algorithm::RS256, with(&rsa, "kty", json!("DSA")), "unsupported JWK key type \"DSA\""),
        (
            Algorithm::RS256,
            with(&rsa, "n", json!("n+/=")),
            "the JWK member \"n\" is not base64url without padding",
        ),
        (Algorithm::RS256, without(&rsa, "q"), "the RSA JWK has only one of \"p\" and \"q\""),
        (Algorithm::RS256, with(&rsa, "d", json!("AQAB")), "invalid RSA private JWK: invalid exponent"),
        (Algorithm::ES256, with(&es, "crv", json!("P-192")), "unsupported JWK curve \"P-192\" for kty EC"),
        (
            Algorithm::ES256,
            with(&es, "x", json!(b64([1u8; 31]))),
            "the JWK member \"x\" must be 32 bytes, got 31",
        ),
        (
            Algorithm::ES256,
            with(&es, "y", json!(b64([1u8; 32]))),
            "the JWK's x and y are not a point on P-256",
        ),
        (
            Algorithm::ES256,
            with(&es, "d", json!(b64([0u8; 32]))),
            "the JWK member \"d\" is not a valid P-256 private key",
        ),
        (
            Algorithm::ES256,
            with(&es, "d", json!(b64([1u8; 32]))),
            "the JWK's public members do not match its private key",
        ),
        (
            Algorithm::EdDSA,
            with(&ed, "crv", json!("Ed448")),
            "Ed448 keys are not supported; EdDSA here means Ed25519",
        ),
        (
            Algorithm::EdDSA,
            with(&ed, "d", json!(b64([1u8; 32]))),
            "the JWK's public members do not match its private key",
        ),
        (
            Algorithm::EdDSA,
            with(&ed, "x", json!(b64([1u8; 33]))),
            "the JWK member \"x\" must be 32 bytes, got 33",
        ),
        (Algorithm::ES256, ed.clone(), "the JWK is for EdDSA, but the key is configured for ES256"),
        (Algorithm::ES256, without(&ed, "alg"), "ES256 needs a P-256 key, but this is an Ed25519 key"),
        (
            Algorithm::EdDSA,
            without(&ed, "d"),
            "the JWK holds only a public key, but signing needs the private key (member \"d\")",
        ),
    ];
    for (alg, jwk, message) in cases {
        let got = key_error(SigningKey::from_jwk(alg, &jwk));
        assert_eq!(got, message, "{jwk}");
    }
    assert_eq!(
        key_error(VerifyingKey::from_jwk(Algorithm::ES256, &es)),
        "the JWK holds a private key (member \"d\"); verifiers need only the public JWK"
    );
}

#[test]
fn rfc_7638_and_rfc_8037_thumbprints() {
    // RFC 7638 §3.1.
    let rsa = json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29"
    });
    let key = VerifyingKey::from_jwk(Algorithm::RS256, &rsa).unwrap();
    assert_eq!(key.thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    // RFC 8037 §A.3.
    let ed = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
    let key = VerifyingKey::from_jwk(Algorithm::EdDSA, &ed).unwrap();
    assert_eq!(key.thumbprint(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    // The kid does not change the thumbprint; private and public halves agree.
    let es = signing_key(Algorithm::ES384);
    assert_eq!(es.verifying_key().thumbprint(), es.with_kid("x").verifying_key().thumbprint());
    // HMAC: the oct JWK's thumbprint, different per secret.
    let a = VerifyingKey::hmac(Algorithm::HS256, &[1; 32]).unwrap().thumbprint();
    let b = VerifyingKey::hmac(Algorithm::HS256, &[2; 32]).unwrap().thumbprint();
    assert_ne!(a, b);
    assert_eq!(a.len(), 43);
}

#[test]
fn public_jwks_have_the_rfc_7518_members() {
    let rsa = signing_key(Algorithm::PS256).with_kid("r").verifying_key().to_jwk().unwrap();
    let names: Vec<_> = rsa.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(names, ["kty", "use", "alg", "kid", "n", "e"]);
    assert_eq!(
        (&rsa["kty"], &rsa["use"], &rsa["alg"], &rsa["e"]),
        (&json!("RSA"), &json!("sig"), &json!("PS256"), &json!("AQAB"))
    );
    for (alg, crv, len) in
        [(Algorithm::ES256, "P-256", 43), (Algorithm::ES384, "P-384", 64), (Algorithm::ES512, "P-521", 88)]
    {
        let ec = signing_key(alg).verifying_key().to_jwk().unwrap();
        let names: Vec<_> = ec.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(names, ["kty", "use", "alg", "crv", "x", "y"]);
        assert_eq!((&ec["kty"], &ec["crv"]), (&json!("EC"), &json!(crv)));
        assert_eq!((ec["x"].as_str().unwrap().len(), ec["y"].as_str().unwrap().len()), (len, len));
    }
    let ed = signing_key(Algorithm::EdDSA).verifying_key().to_jwk().unwrap();
    assert_eq!(
        ed,
        json!({"kty": "OKP", "use": "sig", "alg": "EdDSA", "crv": "Ed25519", "x": ed["x"].clone()})
    );
    assert_eq!(ed["x"].as_str().unwrap().len(), 43);
}

#[test]
fn debug_output_never_shows_key_material() {
    let secret = b"super-secret-value-that-must-not-leak!!";
    let key = SigningKey::hmac(Algorithm::HS256, secret).unwrap();
    let keys = KeySet::new(key.clone());
    for text in [
        format!("{key:?}"),
        format!("{keys:?}"),
        format!("{:?}", key.export()),
        format!("{:?}", key.verifying_key()),
    ] {
        assert!(!text.contains("super-secret"), "{text}");
        assert!(!text.contains(&b64(secret)), "{text}");
    }
    let rsa = signing_key(Algorithm::RS256);
    let pem = match rsa.export() {
        jwt_core::KeyMaterial::Pem(pem) => pem,
        other => panic!("{other:?}"),
    };
    let body_line = pem.lines().nth(1).unwrap().to_owned();
    assert!(!format!("{rsa:?} {:?}", rsa.export()).contains(&body_line));
}
