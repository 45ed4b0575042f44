//! The signature primitives behind a key, built once when the key is loaded.
//!
//! HMAC and RSA verification go through `jsonwebtoken::crypto::{sign, verify}` (its
//! `rust_crypto` provider) with an [`EncodingKey`] / [`DecodingKey`] in the exact form that
//! provider expects (the secret; RSA `(n, e)` big-endian).
//!
//! ES256, ES384 and EdDSA call the same RustCrypto crates that provider uses (`p256`, `p384`,
//! `ed25519-dalek`) the same way (deterministic RFC 6979 ECDSA, `Signature::from_slice`,
//! non-strict Ed25519 verification), so signatures are byte-identical; but the keys are parsed
//! once, when loaded, instead of from DER on every token (the provider re-parses each time:
//! 2–3× slower signing).
//!
//! jsonwebtoken has no ES512; it is implemented here with `p521` (ECDSA P-521 + SHA-512,
//! signature = 66-byte `r` || 66-byte `s`). Its nonces come from the OS random source
//! ([`OsRandom`]); a failing source yields an error, never a signature.
//!
//! RSA *signing* (RS*/PS*) goes through `ring` instead of jsonwebtoken's `rust_crypto`
//! provider: that provider signs with the `rsa` crate, whose private-key operation is not
//! constant time (RUSTSEC-2023-0071, the "Marvin" timing side channel), while `ring`'s is.
//! The signatures are the same (PKCS#1 v1.5 is deterministic and byte-identical; PSS uses a
//! random salt either way) and verification, which uses only the public key, stays on
//! jsonwebtoken.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use p521::ecdsa::signature::RandomizedSigner as _;
use p521::ecdsa::signature::Signer as _;
use p521::ecdsa::signature::Verifier as _;
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;

use super::generate::PortRng;
use super::parse::{PrivateKey, PublicKey, key_error};
use crate::algorithm::Algorithm;
use crate::error::ConfigError;
use crate::system::OsRandom;

/// Length of an ES512 signature: `r` and `s`, 66 bytes each.
const ES512_SIGNATURE_LEN: usize = 132;

/// The jsonwebtoken algorithm, or `None` for ES512 (which jsonwebtoken lacks).
fn jwt_algorithm(algorithm: Algorithm) -> Option<jsonwebtoken::Algorithm> {
    use jsonwebtoken::Algorithm as J;
    Some(match algorithm {
        Algorithm::HS256 => J::HS256,
        Algorithm::HS384 => J::HS384,
        Algorithm::HS512 => J::HS512,
        Algorithm::RS256 => J::RS256,
        Algorithm::RS384 => J::RS384,
        Algorithm::RS512 => J::RS512,
        Algorithm::PS256 => J::PS256,
        Algorithm::PS384 => J::PS384,
        Algorithm::PS512 => J::PS512,
        Algorithm::ES256 => J::ES256,
        Algorithm::ES384 => J::ES384,
        Algorithm::EdDSA => J::EdDSA,
        Algorithm::ES512 => return None,
    })
}

/// Produces signatures for one algorithm.
pub(crate) enum Signer {
    /// Through jsonwebtoken's crypto provider.
    Jwt { algorithm: jsonwebtoken::Algorithm, key: EncodingKey },
    /// ES256 through `p256`, key parsed once.
    Es256(Box<p256::ecdsa::SigningKey>),
    /// ES384 through `p384`, key parsed once.
    Es384(Box<p384::ecdsa::SigningKey>),
    /// ES512 through `p521`.
    Es512(Box<p521::ecdsa::SigningKey>),
    /// EdDSA through `ed25519-dalek`, key parsed once.
    Ed25519(Box<ed25519_dalek::SigningKey>),
    /// RS*/PS* through `ring` (constant-time private-key operation).
    Rsa { padding: &'static dyn ring::signature::RsaEncoding, key: Box<ring::signature::RsaKeyPair> },
}

/// `ring`'s padding scheme for an RSA algorithm.
fn rsa_padding(algorithm: Algorithm) -> Option<&'static dyn ring::signature::RsaEncoding> {
    use ring::signature as r;
    Some(match algorithm {
        Algorithm::RS256 => &r::RSA_PKCS1_SHA256,
        Algorithm::RS384 => &r::RSA_PKCS1_SHA384,
        Algorithm::RS512 => &r::RSA_PKCS1_SHA512,
        Algorithm::PS256 => &r::RSA_PSS_SHA256,
        Algorithm::PS384 => &r::RSA_PSS_SHA384,
        Algorithm::PS512 => &r::RSA_PSS_SHA512,
        _ => return None,
    })
}

impl Signer {
    /// An HMAC signer. The caller has checked the algorithm and the secret length.
    pub(crate) fn hmac(algorithm: Algorithm, secret: &[u8]) -> Result<Self, ConfigError> {
        let algorithm =
            jwt_algorithm(algorithm).ok_or_else(|| key_error("ES512 is not an HMAC algorithm"))?;
        Ok(Self::Jwt { algorithm, key: EncodingKey::from_secret(secret) })
    }

    /// A signer for `key`. The caller has checked that `key` is of `algorithm`'s family.
    pub(crate) fn private(algorithm: Algorithm, key: &PrivateKey) -> Result<Self, ConfigError> {
        Ok(match key {
            PrivateKey::P256(secret) => Self::Es256(Box::new(secret.into())),
            PrivateKey::P384(secret) => Self::Es384(Box::new(secret.into())),
            PrivateKey::P521(secret) => {
                let signing = p521::ecdsa::SigningKey::from_bytes(&secret.to_bytes())
                    .map_err(|_| key_error("invalid P-521 private key"))?;
                Self::Es512(Box::new(signing))
            }
            PrivateKey::Ed25519(k) => Self::Ed25519(k.clone()),
            PrivateKey::Rsa(k) => {
                let padding =
                    rsa_padding(algorithm).ok_or_else(|| key_error("an RSA key needs RS* or PS*"))?;
                let der = k
                    .to_pkcs1_der()
                    .map_err(|e| key_error(format!("the private key could not be re-encoded: {e}")))?;
                let key = ring::signature::RsaKeyPair::from_der(der.as_bytes())
                    .map_err(|e| key_error(format!("the RSA private key is not usable: {e}")))?;
                Self::Rsa { padding, key: Box::new(key) }
            }
        })
    }

    /// Sign `message` and return the base64url signature.
    pub(crate) fn sign_b64(&self, message: &[u8]) -> Result<String, String> {
        match self {
            Self::Jwt { algorithm, key } => {
                jsonwebtoken::crypto::sign(message, key, *algorithm).map_err(|e| e.to_string())
            }
            // RFC 6979: the same signature as jsonwebtoken's `sign_recoverable`, without
            // its trial key recovery.
            Self::Es256(key) => {
                let signature: p256::ecdsa::Signature = key.try_sign(message).map_err(|e| e.to_string())?;
                Ok(URL_SAFE_NO_PAD.encode(signature.to_bytes()))
            }
            Self::Es384(key) => {
                let signature: p384::ecdsa::Signature = key.try_sign(message).map_err(|e| e.to_string())?;
                Ok(URL_SAFE_NO_PAD.encode(signature.to_bytes()))
            }
            Self::Ed25519(key) => {
                let signature = ed25519_dalek::Signer::sign(key.as_ref(), message);
                Ok(URL_SAFE_NO_PAD.encode(signature.to_bytes()))
            }
            Self::Es512(key) => {
                let os = OsRandom::new();
                let mut rng = PortRng::new(&os);
                let signature: p521::ecdsa::Signature =
                    key.try_sign_with_rng(&mut rng, message).map_err(|e| e.to_string())?;
                if rng.failed() {
                    return Err("the random source failed while signing".to_owned());
                }
                Ok(URL_SAFE_NO_PAD.encode(signature.to_bytes()))
            }
            Self::Rsa { padding, key } => {
                let mut signature = vec![0u8; key.public().modulus_len()];
                key.sign(*padding, &ring::rand::SystemRandom::new(), message, &mut signature)
                    .map_err(|_| "RSA signing failed".to_owned())?;
                Ok(URL_SAFE_NO_PAD.encode(signature))
            }
        }
    }
}

/// Checks signatures for one algorithm.
#[derive(Clone)]
pub(crate) enum Verifier {
    /// Through jsonwebtoken's crypto provider.
    Jwt { algorithm: jsonwebtoken::Algorithm, key: DecodingKey },
    /// ES256 through `p256`, key parsed once.
    Es256(Box<p256::ecdsa::VerifyingKey>),
    /// ES384 through `p384`, key parsed once.
    Es384(Box<p384::ecdsa::VerifyingKey>),
    /// ES512 through `p521`.
    Es512(Box<p521::ecdsa::VerifyingKey>),
    /// EdDSA through `ed25519-dalek`, key parsed once.
    Ed25519(Box<ed25519_dalek::VerifyingKey>),
}

impl Verifier {
    /// An HMAC verifier. The caller has checked the algorithm and the secret length.
    pub(crate) fn hmac(algorithm: Algorithm, secret: &[u8]) -> Result<Self, ConfigError> {
        let algorithm =
            jwt_algorithm(algorithm).ok_or_else(|| key_error("ES512 is not an HMAC algorithm"))?;
        Ok(Self::Jwt { algorithm, key: DecodingKey::from_secret(secret) })
    }

    /// A verifier for `key`. The caller has checked that `key` is of `algorithm`'s family.
    pub(crate) fn public(algorithm: Algorithm, key: &PublicKey) -> Result<Self, ConfigError> {
        Ok(match key {
            PublicKey::P256(k) => Self::Es256(Box::new(k.into())),
            PublicKey::P384(k) => Self::Es384(Box::new(k.into())),
            PublicKey::P521(k) => {
                let verifying = p521::ecdsa::VerifyingKey::from_affine(*k.as_affine())
                    .map_err(|_| key_error("invalid P-521 public key"))?;
                Self::Es512(Box::new(verifying))
            }
            PublicKey::Ed25519(k) => Self::Ed25519(Box::new(*k)),
            PublicKey::Rsa(k) => {
                let algorithm =
                    jwt_algorithm(algorithm).ok_or_else(|| key_error("an RSA key needs RS* or PS*"))?;
                let key = DecodingKey::from_rsa_raw_components(&k.n().to_bytes_be(), &k.e().to_bytes_be());
                Self::Jwt { algorithm, key }
            }
        })
    }

    /// Check the base64url `signature` over `message`. Malformed signatures are `false`.
    pub(crate) fn verify_b64(&self, message: &[u8], signature: &str) -> bool {
        match self {
            Self::Jwt { algorithm, key } => {
                jsonwebtoken::crypto::verify(signature, message, key, *algorithm).unwrap_or(false)
            }
            Self::Es256(key) => decode_fixed::<64>(signature)
                .and_then(|b| p256::ecdsa::Signature::from_slice(&b).ok())
                .is_some_and(|sig| key.verify(message, &sig).is_ok()),
            Self::Es384(key) => decode_fixed::<96>(signature)
                .and_then(|b| p384::ecdsa::Signature::from_slice(&b).ok())
                .is_some_and(|sig| key.verify(message, &sig).is_ok()),
            Self::Es512(key) => decode_fixed::<ES512_SIGNATURE_LEN>(signature)
                .and_then(|b| p521::ecdsa::Signature::from_slice(&b).ok())
                .is_some_and(|sig| key.verify(message, &sig).is_ok()),
            Self::Ed25519(key) => decode_fixed::<64>(signature)
                .is_some_and(|b| key.verify(message, &ed25519_dalek::Signature::from_bytes(&b)).is_ok()),
        }
    }

    /// The HMAC secret, for the thumbprint of an HMAC key.
    pub(crate) fn secret(&self) -> Option<&[u8]> {
        match self {
            Self::Jwt { key, .. } if key.family() == jsonwebtoken::AlgorithmFamily::Hmac => {
                key.try_get_as_bytes().ok()
            }
            _ => None,
        }
    }
}

/// The base64url `signature` decoded to exactly `N` bytes, else `None`.
fn decode_fixed<const N: usize>(signature: &str) -> Option<[u8; N]> {
    let mut bytes = [0u8; N];
    match URL_SAFE_NO_PAD.decode_slice(signature, &mut bytes) {
        Ok(n) if n == N => Some(bytes),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::parse::private_from_pem;

    const RSA_PEM: &str = include_str!("../../tests/data/rsa2048-pkcs1.pem");

    #[test]
    fn rsa_keys_sign_with_ring_not_the_rsa_crate() {
        let key = private_from_pem(RSA_PEM).unwrap();
        for algorithm in [Algorithm::RS256, Algorithm::RS512, Algorithm::PS256, Algorithm::PS384] {
            let signer = Signer::private(algorithm, &key).unwrap();
            assert!(matches!(signer, Signer::Rsa { .. }), "{algorithm}");
            let verifier = Verifier::public(algorithm, &key.public_key()).unwrap();
            let signature = signer.sign_b64(b"header.payload").unwrap();
            assert!(verifier.verify_b64(b"header.payload", &signature), "{algorithm}");
            assert!(!verifier.verify_b64(b"header.payloaD", &signature), "{algorithm}");
        }
        // PKCS#1 v1.5 is deterministic: ring's signature is the one the rsa crate would make.
        let ring = Signer::private(Algorithm::RS256, &key).unwrap().sign_b64(b"m").unwrap();
        let PrivateKey::Rsa(k) = &key else { unreachable!() };
        let der = k.to_pkcs1_der().unwrap();
        let rust_crypto = jsonwebtoken::crypto::sign(
            b"m",
            &EncodingKey::from_rsa_der(der.as_bytes()),
            jsonwebtoken::Algorithm::RS256,
        )
        .unwrap();
        assert_eq!(ring, rust_crypto);
    }
}

#[cfg(test)]
mod parsed_key_tests {
    use jsonwebtoken::crypto as jwt;
    use p256::pkcs8::EncodePrivateKey as _;

    use super::*;

    /// Fixed ES256, ES384 and EdDSA keys, with jsonwebtoken's encoding key for each.
    fn keys() -> Vec<(Algorithm, PrivateKey, EncodingKey)> {
        let p256 = p256::SecretKey::from_slice(&[7u8; 32]).unwrap();
        let p384 = p384::SecretKey::from_slice(&[7u8; 48]).unwrap();
        let ed = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        vec![
            (Algorithm::ES256, PrivateKey::P256(p256.clone()), {
                EncodingKey::from_ec_der(p256.to_pkcs8_der().unwrap().as_bytes())
            }),
            (Algorithm::ES384, PrivateKey::P384(p384.clone()), {
                EncodingKey::from_ec_der(p384.to_pkcs8_der().unwrap().as_bytes())
            }),
            (Algorithm::EdDSA, PrivateKey::Ed25519(Box::new(ed.clone())), {
                EncodingKey::from_ed_der(ed.to_pkcs8_der().unwrap().as_bytes())
            }),
        ]
    }

    #[test]
    fn parsed_keys_sign_exactly_like_jsonwebtoken_and_verify_its_signatures() {
        for (algorithm, private, encoding) in keys() {
            let signer = Signer::private(algorithm, &private).unwrap();
            let verifier = Verifier::public(algorithm, &private.public_key()).unwrap();
            let ours = signer.sign_b64(b"header.payload").unwrap();
            let theirs = jwt::sign(b"header.payload", &encoding, jwt_algorithm(algorithm).unwrap()).unwrap();
            assert_eq!(ours, theirs, "{algorithm}: deterministic signatures must match");
            assert!(verifier.verify_b64(b"header.payload", &theirs), "{algorithm}");
            assert!(!verifier.verify_b64(b"header.payloaD", &ours), "{algorithm}");
        }
    }

    #[test]
    fn signatures_of_the_wrong_length_or_encoding_are_refused() {
        for (algorithm, private, _) in keys() {
            let signer = Signer::private(algorithm, &private).unwrap();
            let verifier = Verifier::public(algorithm, &private.public_key()).unwrap();
            let good = signer.sign_b64(b"m").unwrap();
            let bytes = URL_SAFE_NO_PAD.decode(&good).unwrap();
            let mut longer = bytes.clone();
            longer.push(0);
            for bad in [
                URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() - 1]),
                URL_SAFE_NO_PAD.encode(&longer),
                format!("{good}="),
                good.replace(['-', '_'], "+"),
                String::new(),
                "!".repeat(good.len()),
            ] {
                if bad != good {
                    assert!(!verifier.verify_b64(b"m", &bad), "{algorithm}: {bad:?}");
                }
            }
            assert!(verifier.verify_b64(b"m", &good), "{algorithm}");
        }
    }
}
