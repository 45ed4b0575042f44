//! Signing and verifying keys, key sets with `kid`, JWKS export and key generation.
//!
//! Every key is bound to exactly one [`Algorithm`]: a token's header can only select a key
//! (by `kid`), never the algorithm that key is used with (RFC 8725 §3.1). Loading refuses
//! what RFC 8725 warns about: HMAC secrets shorter than the hash, RSA keys under 2048 bits,
//! an EC key on another curve than its algorithm's, and any key of the wrong family.
//!
//! Accepted encodings:
//!
//! | | private ([`SigningKey`]) | public ([`VerifyingKey`]) |
//! |---|---|---|
//! | PEM | `PRIVATE KEY` (PKCS#8), `RSA PRIVATE KEY` (PKCS#1), `EC PRIVATE KEY` (SEC1) | `PUBLIC KEY` (SPKI), `RSA PUBLIC KEY` (PKCS#1) |
//! | DER | the same structures | the same structures |
//! | JWK | `oct`, `RSA`, `EC`, `OKP` with private members | the same without them |
//! | raw | HMAC secret ([`SigningKey::hmac`]) | HMAC secret ([`VerifyingKey::hmac`]) |
//!
//! Key material is parsed, validated and converted once per key into the forms the
//! signature backends take (see `backend`): no PEM, JWK or key check happens per token.
//! Key generation draws from the injected [`SecureRandom`] port (see `generate`).

use std::sync::Arc;

use p256::pkcs8::{EncodePrivateKey as _, LineEnding};
use zeroize::Zeroizing;

use crate::algorithm::{Algorithm, KeyFamily};
use crate::claims::Claims;
use crate::error::{ConfigError, InvalidReason, TokenError};
use crate::jws;
use crate::ports::SecureRandom;

use self::backend::{Signer, Verifier};
use self::jwk::Imported;
use self::parse::{PrivateKey, PublicKey, check_family, check_public_size, key_error};

mod backend;
mod generate;
mod jwk;
mod parse;

/// A private key (or HMAC secret) that signs tokens with one algorithm.
#[derive(Clone)]
pub struct SigningKey {
    algorithm: Algorithm,
    kid: Option<String>,
    /// The encoded JWS header for this algorithm and kid, written in front of every token.
    header: Arc<str>,
    inner: Arc<SigningInner>,
}

struct SigningInner {
    signer: Signer,
    material: KeyMaterial,
    /// The matching verifying key (without kid; [`SigningKey::verifying_key`] adds it).
    public: VerifyingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .field("material", &"[redacted]")
            .finish()
    }
}

impl SigningKey {
    /// An HMAC key from a raw secret.
    ///
    /// # Errors
    /// [`ConfigError::Key`] if `algorithm` is not HMAC or the secret is shorter than the hash
    /// (32, 48 or 64 bytes for HS256, HS384, HS512).
    pub fn hmac(algorithm: Algorithm, secret: &[u8]) -> Result<Self, ConfigError> {
        check_family(algorithm, KeyFamily::Hmac)?;
        let min = algorithm.min_secret_len().unwrap_or(0);
        if secret.len() < min {
            return Err(key_error(format!(
                "an {algorithm} secret must be at least {min} bytes, got {}",
                secret.len()
            )));
        }
        let public = VerifyingKey::new(algorithm, Verifier::hmac(algorithm, secret)?, None);
        let inner = SigningInner {
            signer: Signer::hmac(algorithm, secret)?,
            material: KeyMaterial::Secret(Zeroizing::new(secret.to_vec())),
            public,
        };
        Ok(Self::assemble(algorithm, inner))
    }

    /// A private key from PEM (PKCS#8, or PKCS#1 / SEC1 for RSA / EC).
    ///
    /// # Errors
    /// [`ConfigError::Key`] if the PEM is not a private key of `algorithm`'s family.
    pub fn from_pem(algorithm: Algorithm, pem: &str) -> Result<Self, ConfigError> {
        refuse_hmac(algorithm, "SigningKey::hmac")?;
        Self::from_private(algorithm, parse::private_from_pem(pem)?)
    }

    /// A private key from DER (PKCS#8, or PKCS#1 / SEC1 for RSA / EC).
    ///
    /// # Errors
    /// [`ConfigError::Key`] if the DER is not a private key of `algorithm`'s family.
    pub fn from_der(algorithm: Algorithm, der: &[u8]) -> Result<Self, ConfigError> {
        refuse_hmac(algorithm, "SigningKey::hmac")?;
        Self::from_private(algorithm, parse::private_from_der(der)?)
    }

    /// A private key from a JWK (`kty` `oct`, `RSA`, `EC` or `OKP` with its private members).
    /// The JWK's `alg` must match if present, and its `kid` is kept.
    ///
    /// # Errors
    /// [`ConfigError::Key`] if the JWK is not a private key for `algorithm`.
    pub fn from_jwk(algorithm: Algorithm, jwk: &serde_json::Value) -> Result<Self, ConfigError> {
        let imported = jwk::import(algorithm, jwk)?;
        let key = match imported.key {
            Imported::Secret(secret) => Self::hmac(algorithm, &secret)?,
            Imported::Private(private) => Self::from_private(algorithm, private)?,
            Imported::Public(public) => {
                check_family(algorithm, public.family())?;
                return Err(key_error(
                    "the JWK holds only a public key, but signing needs the private key (member \"d\")",
                ));
            }
        };
        Ok(match imported.kid {
            Some(kid) => key.with_kid(kid),
            None => key,
        })
    }

    /// Export the key material for persistence (the `signing_keys` table): the raw secret
    /// for HMAC, PKCS#8 PEM otherwise. [`SigningKey::import`] reverses it.
    pub fn export(&self) -> KeyMaterial {
        self.inner.material.clone()
    }

    /// Rebuild a key from [`SigningKey::export`]'s output.
    ///
    /// # Errors
    /// [`ConfigError::Key`] if the material does not fit `algorithm`.
    pub fn import(algorithm: Algorithm, material: &KeyMaterial) -> Result<Self, ConfigError> {
        match material {
            KeyMaterial::Secret(secret) => Self::hmac(algorithm, secret),
            KeyMaterial::Pem(pem) => Self::from_pem(algorithm, pem),
        }
    }

    /// Generate a fresh key for `algorithm`: a 64-byte secret for HMAC, a 2048-bit RSA key,
    /// or a key on the algorithm's curve. Every random byte comes from `random`.
    ///
    /// # Errors
    /// [`ConfigError::Key`] if the random source fails.
    pub fn generate(algorithm: Algorithm, random: &dyn SecureRandom) -> Result<Self, ConfigError> {
        match algorithm.family() {
            KeyFamily::Hmac => Self::hmac(algorithm, &generate::hmac_secret(random)?),
            family => Self::from_private(algorithm, generate::private_key(family, random)?),
        }
    }

    /// The same key with a `kid`, written into the header of every token it signs.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        let kid = kid.into();
        self.header = jws::header_b64(self.algorithm, Some(&kid)).into();
        self.kid = Some(kid);
        self
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key id, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The key that verifies this key's signatures (with the same `kid`).
    pub fn verifying_key(&self) -> VerifyingKey {
        let public = self.inner.public.clone();
        match &self.kid {
            Some(kid) => public.with_kid(kid.clone()),
            None => public,
        }
    }

    /// Sign `claims` as a compact JWS, byte for byte as PyJWT's `jwt.encode(claims, key,
    /// algorithm, headers={"kid": ..})` would: header `{"alg":..,"kid":..,"typ":"JWT"}`
    /// with sorted keys, compact JSON, claims in their order, non-ASCII escaped.
    ///
    /// Nothing is added to or checked in `claims`; to mint simplejwt tokens use
    /// [`crate::TokenEngine`].
    ///
    /// # Errors
    /// [`TokenError::Signing`] if the claims cannot be serialised or signing fails.
    pub fn encode(&self, claims: &Claims) -> Result<String, TokenError> {
        jws::encode(claims, self)
    }

    /// The encoded JWS header (`{"alg":..,"kid":..,"typ":"JWT"}` in base64url).
    pub(crate) fn header_b64(&self) -> &str {
        &self.header
    }

    /// Sign `message`, returning the base64url signature.
    pub(crate) fn sign_b64(&self, message: &[u8]) -> Result<String, String> {
        self.inner.signer.sign_b64(message)
    }

    fn from_private(algorithm: Algorithm, private: PrivateKey) -> Result<Self, ConfigError> {
        check_family(algorithm, private.family())?;
        let public = private.public_key();
        check_public_size(&public)?;
        let pem = match &private {
            PrivateKey::Rsa(k) => k.to_pkcs8_pem(LineEnding::LF),
            PrivateKey::P256(k) => k.to_pkcs8_pem(LineEnding::LF),
            PrivateKey::P384(k) => k.to_pkcs8_pem(LineEnding::LF),
            PrivateKey::P521(k) => k.to_pkcs8_pem(LineEnding::LF),
            PrivateKey::Ed25519(k) => k.to_pkcs8_pem(LineEnding::LF),
        }
        .map_err(|e| key_error(format!("the private key could not be encoded as PKCS#8: {e}")))?;
        let inner = SigningInner {
            signer: Signer::private(algorithm, &private)?,
            material: KeyMaterial::Pem(pem),
            public: VerifyingKey::from_public(algorithm, public)?,
        };
        // Prove the pair works with the backend before any token depends on it.
        let probe = b"jwt-core key self-test";
        let signature = inner
            .signer
            .sign_b64(probe)
            .map_err(|e| key_error(format!("the private key cannot sign: {e}")))?;
        if !inner.public.verify_b64(probe, &signature) {
            return Err(key_error("the private key failed a sign-and-verify self-test"));
        }
        Ok(Self::assemble(algorithm, inner))
    }

    fn assemble(algorithm: Algorithm, inner: SigningInner) -> Self {
        Self { algorithm, kid: None, header: jws::header_b64(algorithm, None).into(), inner: Arc::new(inner) }
    }
}

fn refuse_hmac(algorithm: Algorithm, instead: &str) -> Result<(), ConfigError> {
    if algorithm.is_symmetric() {
        Err(key_error(format!("{algorithm} uses a shared secret, not a PEM/DER key; use {instead}")))
    } else {
        Ok(())
    }
}

/// Exported key material, as stored in the `signing_keys` table. Zeroized on drop.
#[derive(Clone, PartialEq, Eq)]
pub enum KeyMaterial {
    /// An HMAC secret.
    Secret(zeroize::Zeroizing<Vec<u8>>),
    /// A PKCS#8 PEM private key.
    Pem(zeroize::Zeroizing<String>),
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Secret(_) => "KeyMaterial::Secret([redacted])",
            Self::Pem(_) => "KeyMaterial::Pem([redacted])",
        })
    }
}

/// A public key (or HMAC secret) that verifies tokens of one algorithm.
#[derive(Clone)]
pub struct VerifyingKey {
    algorithm: Algorithm,
    kid: Option<String>,
    /// Listed by [`KeySet::jwks`]; `false` for keys trusted from another issuer.
    published: bool,
    inner: Arc<VerifyingInner>,
}

struct VerifyingInner {
    verifier: Verifier,
    /// `None` for HMAC secrets.
    public: Option<PublicKey>,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .field("published", &self.published)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// A public key from PEM (SPKI, or PKCS#1 for RSA).
    ///
    /// # Errors
    /// [`ConfigError::Key`] if the PEM is not a public key of `algorithm`'s family.
    pub fn from_pem(algorithm: Algorithm, pem: &str) -> Result<Self, ConfigError> {
        refuse_hmac(algorithm, "VerifyingKey::hmac")?;
        Self::from_public(algorithm, parse::public_from_pem(pem)?)
    }

    /// An HMAC verifying key (the shared secret).
    ///
    /// # Errors
    /// As for [`SigningKey::hmac`].
    pub fn hmac(algorithm: Algorithm, secret: &[u8]) -> Result<Self, ConfigError> {
        SigningKey::hmac(algorithm, secret).map(|k| k.verifying_key())
    }

    /// A public key from DER (SPKI, or PKCS#1 for RSA).
    ///
    /// # Errors
    /// [`ConfigError::Key`] if the DER is not a public key of `algorithm`'s family.
    pub fn from_der(algorithm: Algorithm, der: &[u8]) -> Result<Self, ConfigError> {
        refuse_hmac(algorithm, "VerifyingKey::hmac")?;
        Self::from_public(algorithm, parse::public_from_der(der)?)
    }

    /// A public key from a JWK; its `kid` is kept and its `alg`, if present, must match.
    /// A `kty: oct` JWK gives an HMAC verifying key.
    ///
    /// # Errors
    /// [`ConfigError::Key`] if the JWK is not a key for `algorithm`, or holds private
    /// members (verifiers must not be given private keys).
    pub fn from_jwk(algorithm: Algorithm, jwk: &serde_json::Value) -> Result<Self, ConfigError> {
        let imported = jwk::import(algorithm, jwk)?;
        let key = match imported.key {
            Imported::Secret(secret) => Self::hmac(algorithm, &secret)?,
            Imported::Public(public) => Self::from_public(algorithm, public)?,
            Imported::Private(private) => {
                check_family(algorithm, private.family())?;
                return Err(key_error(
                    "the JWK holds a private key (member \"d\"); verifiers need only the public JWK",
                ));
            }
        };
        Ok(match imported.kid {
            Some(kid) => key.with_kid(kid),
            None => key,
        })
    }

    /// The same key with a `kid`.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The same key, left out of [`KeySet::jwks`]: for keys this issuer accepts but does not
    /// own (another issuer's published keys), which it must not advertise as its own.
    #[must_use]
    pub fn unpublished(mut self) -> Self {
        self.published = false;
        self
    }

    /// Whether [`KeySet::jwks`] lists this key (see [`VerifyingKey::unpublished`]).
    pub fn is_published(&self) -> bool {
        self.published
    }

    /// The public JWK (with `kid`, `alg`, `use: "sig"`); `None` for HMAC secrets, which are
    /// never published.
    pub fn to_jwk(&self) -> Option<serde_json::Value> {
        let public = self.inner.public.as_ref()?;
        Some(jwk::export(self.algorithm, self.kid.as_deref(), public))
    }

    /// The RFC 7638 JWK thumbprint (SHA-256, base64url): a stable id derived from the key
    /// itself, suitable as the `kid` of a generated key.
    ///
    /// For an HMAC secret it is the thumbprint of its `oct` JWK, a hash of the secret: it
    /// reveals no more than any token's MAC already does, but only publish it (as a `kid`)
    /// for high-entropy secrets such as generated ones.
    pub fn thumbprint(&self) -> String {
        match &self.inner.public {
            Some(public) => jwk::thumbprint(public),
            None => jwk::secret_thumbprint(self.inner.verifier.secret().unwrap_or_default()),
        }
    }

    /// The algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key id, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Check the base64url `signature` over `message`.
    pub(crate) fn verify_b64(&self, message: &[u8], signature: &str) -> bool {
        self.inner.verifier.verify_b64(message, signature)
    }

    fn new(algorithm: Algorithm, verifier: Verifier, public: Option<PublicKey>) -> Self {
        Self { algorithm, kid: None, published: true, inner: Arc::new(VerifyingInner { verifier, public }) }
    }

    fn from_public(algorithm: Algorithm, public: PublicKey) -> Result<Self, ConfigError> {
        check_family(algorithm, public.family())?;
        check_public_size(&public)?;
        let verifier = Verifier::public(algorithm, &public)?;
        Ok(Self::new(algorithm, verifier, Some(public)))
    }
}

/// The signing key plus every key currently accepted for verification.
#[derive(Debug, Clone)]
pub struct KeySet {
    signing: SigningKey,
    verifying: Vec<VerifyingKey>,
}

impl KeySet {
    /// A key set that signs with `signing` and verifies with its public half.
    pub fn new(signing: SigningKey) -> Self {
        let verifying = vec![signing.verifying_key()];
        Self { signing, verifying }
    }

    /// An HS256 key set from a shared secret.
    ///
    /// # Errors
    /// [`ConfigError::Key`] if the secret is shorter than 32 bytes.
    pub fn hs256(secret: &[u8]) -> Result<Self, ConfigError> {
        SigningKey::hmac(Algorithm::HS256, secret).map(Self::new)
    }

    /// Also accept tokens verified by `key` (a previous key during rotation).
    ///
    /// # Errors
    /// [`ConfigError::Key`] if another key already has the same `kid`, or if neither key has
    /// a `kid` (tokens could not say which one signed them).
    pub fn with_verifying_key(mut self, key: VerifyingKey) -> Result<Self, ConfigError> {
        if self.verifying.iter().any(|k| k.kid() == key.kid()) {
            return Err(ConfigError::Key(format!(
                "two verifying keys share the kid {:?}",
                key.kid().unwrap_or("(none)")
            )));
        }
        self.verifying.push(key);
        Ok(self)
    }

    /// The JWKS document (`{"keys": [...]}`) of the public verifying keys, without the
    /// [unpublished](VerifyingKey::unpublished) ones.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<_> =
            self.verifying.iter().filter(|k| k.published).filter_map(VerifyingKey::to_jwk).collect();
        serde_json::json!({ "keys": keys })
    }

    /// The key that signs new tokens.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The key that verifies a token whose header carries `kid` and `alg`.
    ///
    /// A `kid` selects the verifying key with that kid ([`InvalidReason::UnknownKey`] if
    /// none has it). Without a `kid`, the first verifying key without one is used, else the
    /// signing key's own. The header's `alg` must then be exactly that key's algorithm
    /// ([`InvalidReason::Algorithm`] otherwise): the header never chooses the algorithm.
    pub(crate) fn select(&self, kid: Option<&str>, alg: &str) -> Result<&VerifyingKey, InvalidReason> {
        let key = match kid {
            Some(kid) => {
                self.verifying.iter().find(|k| k.kid() == Some(kid)).ok_or(InvalidReason::UnknownKey)?
            }
            None => self.verifying.iter().find(|k| k.kid().is_none()).unwrap_or(&self.signing.inner.public),
        };
        if key.algorithm().as_str() == alg { Ok(key) } else { Err(InvalidReason::Algorithm) }
    }

    /// The verifying keys.
    pub fn verifying_keys(&self) -> &[VerifyingKey] {
        &self.verifying
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;
    use crate::error::RandomError;

    /// A deterministic source for unit tests: byte `i` of the stream is `i * 7 + seed`.
    #[derive(Debug)]
    struct Counter(std::sync::atomic::AtomicU8);

    impl SecureRandom for Counter {
        fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
            for b in buf {
                *b = self.0.fetch_add(7, std::sync::atomic::Ordering::SeqCst);
            }
            Ok(())
        }
    }

    #[derive(Debug)]
    struct Broken;

    impl SecureRandom for Broken {
        fn fill(&self, _: &mut [u8]) -> Result<(), RandomError> {
            Err(RandomError)
        }
    }

    fn counter(seed: u8) -> Counter {
        Counter(std::sync::atomic::AtomicU8::new(seed))
    }

    fn ed(seed: u8) -> SigningKey {
        SigningKey::generate(Algorithm::EdDSA, &counter(seed)).unwrap()
    }

    #[test]
    fn a_kid_selects_its_key_and_an_unknown_kid_is_refused() {
        let keys = KeySet::new(ed(1).with_kid("new"))
            .with_verifying_key(ed(2).verifying_key().with_kid("old"))
            .unwrap();
        assert_eq!(keys.select(Some("old"), "EdDSA").unwrap().kid(), Some("old"));
        assert_eq!(keys.select(Some("new"), "EdDSA").unwrap().kid(), Some("new"));
        assert_eq!(keys.select(Some("other"), "EdDSA").unwrap_err(), InvalidReason::UnknownKey);
        assert_eq!(keys.select(Some(""), "EdDSA").unwrap_err(), InvalidReason::UnknownKey);
    }

    #[test]
    fn unpublished_keys_verify_but_are_left_out_of_the_jwks() {
        let keys = KeySet::new(ed(1).with_kid("own"))
            .with_verifying_key(ed(2).verifying_key().with_kid("theirs").unpublished())
            .unwrap();
        assert!(keys.select(Some("theirs"), "EdDSA").is_ok());
        let listed: Vec<_> =
            keys.jwks()["keys"].as_array().unwrap().iter().map(|k| k["kid"].clone()).collect();
        assert_eq!(listed, vec![serde_json::json!("own")]);
    }

    #[test]
    fn without_a_kid_the_first_kidless_key_else_the_signing_key_is_used() {
        let signer = ed(1).with_kid("new");
        let kidless = ed(2).verifying_key();
        let keys = KeySet::new(signer.clone()).with_verifying_key(kidless.clone()).unwrap();
        assert_eq!(keys.select(None, "EdDSA").unwrap().thumbprint(), kidless.thumbprint());
        let only_kids = KeySet::new(signer.clone());
        assert_eq!(
            only_kids.select(None, "EdDSA").unwrap().thumbprint(),
            signer.verifying_key().thumbprint()
        );
    }

    #[test]
    fn the_header_alg_must_be_exactly_the_keys() {
        let keys = KeySet::hs256(&[1; 32]).unwrap();
        assert!(keys.select(None, "HS256").is_ok());
        for alg in ["none", "None", "hs256", "HS512", "RS256", "HS256\0", ""] {
            assert_eq!(keys.select(None, alg).unwrap_err(), InvalidReason::Algorithm, "{alg:?}");
        }
    }

    #[test]
    fn es512_signatures_are_66_byte_r_then_s_and_verify_with_p521() {
        use p521::ecdsa::signature::Verifier as _;
        let key = SigningKey::generate(Algorithm::ES512, &counter(3)).unwrap();
        let signature = key.sign_b64(b"message").unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(&signature).unwrap();
        assert_eq!(bytes.len(), 132);
        let public = match key.verifying_key().to_jwk() {
            Some(jwk) => {
                let coordinate = |c: &str| URL_SAFE_NO_PAD.decode(jwk[c].as_str().unwrap()).unwrap();
                [vec![4u8], coordinate("x"), coordinate("y")].concat()
            }
            None => unreachable!(),
        };
        let verifier = p521::ecdsa::VerifyingKey::from_sec1_bytes(&public).unwrap();
        let parsed = p521::ecdsa::Signature::from_slice(&bytes).unwrap();
        assert!(verifier.verify(b"message", &parsed).is_ok());
        assert!(key.verifying_key().verify_b64(b"message", &signature));
        assert!(!key.verifying_key().verify_b64(b"massage", &signature));
        assert!(!key.verifying_key().verify_b64(b"message", &signature[..signature.len() - 2]));
        assert!(!key.verifying_key().verify_b64(b"message", &format!("{signature}AA")));
        // Randomized nonces: two signatures of one message differ.
        assert_ne!(key.sign_b64(b"message").unwrap(), signature);
    }

    #[test]
    fn port_rng_reports_failures_and_keeps_producing_bytes() {
        use rand_core::RngCore as _;
        let source = counter(0);
        let mut rng = generate::PortRng::new(&source);
        let mut buf = [0u8; 4];
        rng.fill_bytes(&mut buf);
        assert_eq!(buf, [0, 7, 14, 21]);
        assert!(!rng.failed());
        let mut rng = generate::PortRng::new(&Broken);
        let (a, b) = (rng.next_u64(), rng.next_u64());
        assert!(rng.failed());
        assert_ne!(a, b);
    }

    #[test]
    fn generation_takes_every_byte_from_the_port() {
        assert_eq!(ed(5).export(), ed(5).export());
        assert_ne!(ed(5).export(), ed(6).export());
        assert!(SigningKey::generate(Algorithm::ES384, &Broken).is_err());
        assert!(SigningKey::generate(Algorithm::HS256, &Broken).is_err());
        let p256 = SigningKey::generate(Algorithm::ES256, &counter(9)).unwrap();
        assert_eq!(p256.algorithm(), Algorithm::ES256);
    }

    #[test]
    fn rsa_size_bounds_are_inclusive() {
        use rsa::BigUint;
        assert!(parse::check_rsa_size(&(BigUint::from(1u8) << 2047)).is_ok());
        assert!(parse::check_rsa_size(&(BigUint::from(1u8) << 4095)).is_ok());
        assert!(parse::check_rsa_size(&(BigUint::from(1u8) << 2046)).is_err());
        assert!(parse::check_rsa_size(&(BigUint::from(1u8) << 4096)).is_err());
    }
}
