//! The signature primitives behind a key, built once when the key is loaded.
//!
//! Every algorithm jsonwebtoken supports goes through `jsonwebtoken::crypto::{sign, verify}`
//! (its `rust_crypto` provider) with an [`EncodingKey`] / [`DecodingKey`] in the exact form
//! that provider expects:
//!
//! | family  | `EncodingKey`           | `DecodingKey`                         |
//! |---------|-------------------------|---------------------------------------|
//! | HMAC    | the secret              | the secret                            |
//! | RSA     | PKCS#1 DER              | `(n, e)` big-endian                   |
//! | P-256/384 | PKCS#8 DER            | SEC1 uncompressed point               |
//! | Ed25519 | PKCS#8 DER              | the raw 32-byte public key            |
//!
//! The Ed25519 decoding key is always built from exactly 32 bytes: the provider slices
//! `[..32]` and would panic on anything shorter.
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
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::pkcs8::EncodePrivateKey as _;
use p521::ecdsa::signature::RandomizedSigner as _;
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
    /// ES512 through `p521`.
    Es512(Box<p521::ecdsa::SigningKey>),
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
        let encode_error =
            |e: &dyn std::fmt::Display| key_error(format!("the private key could not be re-encoded: {e}"));
        let encoding_key = match key {
            PrivateKey::P521(secret) => {
                let signing = p521::ecdsa::SigningKey::from_bytes(&secret.to_bytes())
                    .map_err(|_| key_error("invalid P-521 private key"))?;
                return Ok(Self::Es512(Box::new(signing)));
            }
            PrivateKey::Rsa(k) => {
                let padding =
                    rsa_padding(algorithm).ok_or_else(|| key_error("an RSA key needs RS* or PS*"))?;
                let der = k.to_pkcs1_der().map_err(|e| encode_error(&e))?;
                let key = ring::signature::RsaKeyPair::from_der(der.as_bytes())
                    .map_err(|e| key_error(format!("the RSA private key is not usable: {e}")))?;
                return Ok(Self::Rsa { padding, key: Box::new(key) });
            }
            PrivateKey::P256(k) => {
                EncodingKey::from_ec_der(k.to_pkcs8_der().map_err(|e| encode_error(&e))?.as_bytes())
            }
            PrivateKey::P384(k) => {
                EncodingKey::from_ec_der(k.to_pkcs8_der().map_err(|e| encode_error(&e))?.as_bytes())
            }
            PrivateKey::Ed25519(k) => {
                EncodingKey::from_ed_der(k.to_pkcs8_der().map_err(|e| encode_error(&e))?.as_bytes())
            }
        };
        let algorithm = jwt_algorithm(algorithm).ok_or_else(|| key_error("ES512 needs a P-521 key"))?;
        Ok(Self::Jwt { algorithm, key: encoding_key })
    }

    /// Sign `message` and return the base64url signature.
    pub(crate) fn sign_b64(&self, message: &[u8]) -> Result<String, String> {
        match self {
            Self::Jwt { algorithm, key } => {
                jsonwebtoken::crypto::sign(message, key, *algorithm).map_err(|e| e.to_string())
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
    /// ES512 through `p521`.
    Es512(Box<p521::ecdsa::VerifyingKey>),
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
        let decoding_key = match key {
            PublicKey::P521(k) => {
                let verifying = p521::ecdsa::VerifyingKey::from_affine(*k.as_affine())
                    .map_err(|_| key_error("invalid P-521 public key"))?;
                return Ok(Self::Es512(Box::new(verifying)));
            }
            PublicKey::Rsa(k) => {
                DecodingKey::from_rsa_raw_components(&k.n().to_bytes_be(), &k.e().to_bytes_be())
            }
            PublicKey::P256(k) => DecodingKey::from_ec_der(k.to_encoded_point(false).as_bytes()),
            PublicKey::P384(k) => DecodingKey::from_ec_der(k.to_encoded_point(false).as_bytes()),
            // Exactly 32 bytes: see the module docs.
            PublicKey::Ed25519(k) => DecodingKey::from_ed_der(k.as_bytes()),
        };
        let algorithm = jwt_algorithm(algorithm).ok_or_else(|| key_error("ES512 needs a P-521 key"))?;
        Ok(Self::Jwt { algorithm, key: decoding_key })
    }

    /// Check the base64url `signature` over `message`. Malformed signatures are `false`.
    pub(crate) fn verify_b64(&self, message: &[u8], signature: &str) -> bool {
        match self {
            Self::Jwt { algorithm, key } => {
                jsonwebtoken::crypto::verify(signature, message, key, *algorithm).unwrap_or(false)
            }
            Self::Es512(key) => {
                let mut bytes = [0u8; ES512_SIGNATURE_LEN];
                match URL_SAFE_NO_PAD.decode_slice(signature, &mut bytes) {
                    Ok(ES512_SIGNATURE_LEN) => {}
                    _ => return false,
                }
                p521::ecdsa::Signature::from_slice(&bytes).is_ok_and(|sig| key.verify(message, &sig).is_ok())
            }
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
