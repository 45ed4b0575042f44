//! Signing and verifying keys, key sets with `kid`, JWKS export and key generation.
//!
//! Every key is bound to exactly one [`Algorithm`]: a token's header can only select a key
//! (by `kid`), never the algorithm that key is used with (RFC 8725 §3.1).

use crate::algorithm::Algorithm;
use crate::error::{ConfigError, InvalidReason};
use crate::ports::SecureRandom;

/// A private key (or HMAC secret) that signs tokens with one algorithm.
#[derive(Clone)]
pub struct SigningKey {
    algorithm: Algorithm,
    kid: Option<String>,
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
    /// [`ConfigError::Key`] if `algorithm` is not HMAC or the secret is shorter than the hash.
    pub fn hmac(algorithm: Algorithm, secret: &[u8]) -> Result<Self, ConfigError> {
        let _ = secret;
        todo!("{algorithm}")
    }

    /// A private key from PEM (PKCS#8, or PKCS#1 / SEC1 for RSA / EC).
    ///
    /// # Errors
    /// [`ConfigError::Key`] if the PEM is not a private key of `algorithm`'s family.
    pub fn from_pem(algorithm: Algorithm, pem: &str) -> Result<Self, ConfigError> {
        let _ = pem;
        todo!("{algorithm}")
    }

    /// A private key from DER (PKCS#8, or PKCS#1 / SEC1 for RSA / EC).
    ///
    /// # Errors
    /// [`ConfigError::Key`] if the DER is not a private key of `algorithm`'s family.
    pub fn from_der(algorithm: Algorithm, der: &[u8]) -> Result<Self, ConfigError> {
        let _ = der;
        todo!("{algorithm}")
    }

    /// A private key from a JWK (`kty` `oct`, `RSA`, `EC` or `OKP` with its private members).
    /// The JWK's `alg` must match if present, and its `kid` is kept.
    ///
    /// # Errors
    /// [`ConfigError::Key`] if the JWK is not a private key for `algorithm`.
    pub fn from_jwk(algorithm: Algorithm, jwk: &serde_json::Value) -> Result<Self, ConfigError> {
        let _ = jwk;
        todo!("{algorithm}")
    }

    /// Export the key material for persistence (the `signing_keys` table): the raw secret
    /// for HMAC, PKCS#8 PEM otherwise. [`SigningKey::import`] reverses it.
    pub fn export(&self) -> KeyMaterial {
        todo!()
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

    /// Generate a fresh key for `algorithm`.
    ///
    /// # Errors
    /// [`ConfigError::Key`] if generation fails.
    pub fn generate(algorithm: Algorithm, random: &dyn SecureRandom) -> Result<Self, ConfigError> {
        let _ = random;
        todo!("{algorithm}")
    }

    /// The same key with a `kid`, written into the header of every token it signs.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
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

    /// The key that verifies this key's signatures.
    pub fn verifying_key(&self) -> VerifyingKey {
        todo!()
    }

    /// Sign `message`, returning the raw signature bytes.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let _ = message;
        todo!()
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
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// A public key from PEM (SPKI, or PKCS#1 for RSA).
    ///
    /// # Errors
    /// [`ConfigError::Key`] if the PEM is not a public key of `algorithm`'s family.
    pub fn from_pem(algorithm: Algorithm, pem: &str) -> Result<Self, ConfigError> {
        let _ = pem;
        todo!("{algorithm}")
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
        let _ = der;
        todo!("{algorithm}")
    }

    /// A public key from a JWK; its `kid` is kept and its `alg`, if present, must match.
    ///
    /// # Errors
    /// [`ConfigError::Key`] if the JWK is not a key for `algorithm`.
    pub fn from_jwk(algorithm: Algorithm, jwk: &serde_json::Value) -> Result<Self, ConfigError> {
        let _ = jwk;
        todo!("{algorithm}")
    }

    /// The same key with a `kid`.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The public JWK (with `kid`, `alg`, `use: "sig"`); `None` for HMAC secrets, which are
    /// never published.
    pub fn to_jwk(&self) -> Option<serde_json::Value> {
        todo!()
    }

    /// The algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key id, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Check `signature` over `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let _ = (message, signature);
        todo!()
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

    /// The JWKS document (`{"keys": [...]}`) of the public verifying keys.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<_> = self.verifying.iter().filter_map(VerifyingKey::to_jwk).collect();
        serde_json::json!({ "keys": keys })
    }

    /// The key that signs new tokens.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The key that verifies a token whose header carries `kid` and `alg`.
    pub(crate) fn select(&self, kid: Option<&str>, alg: &str) -> Result<&VerifyingKey, InvalidReason> {
        let _ = (kid, alg);
        todo!()
    }

    /// The verifying keys.
    pub fn verifying_keys(&self) -> &[VerifyingKey] {
        &self.verifying
    }
}
