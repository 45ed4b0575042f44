//! [`Argon2Hasher`]: Argon2id password hashes, Django PBKDF2 hashes of imported users, and
//! the same work for unknown usernames. All hashing runs on Tokio's blocking pool.

use std::fmt;
use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use jwt_core::error::HashError;
use jwt_core::password::{is_django_pbkdf2, verify_django_pbkdf2};
use jwt_core::ports::{PasswordCheck, PasswordHasher, SecureRandom};
use jwt_core::system::OsRandom;
use zeroize::Zeroizing;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB (`m`).
    pub memory_kib: u32,
    /// Passes over the memory (`t`).
    pub iterations: u32,
    /// Lanes (`p`).
    pub parallelism: u32,
}

impl Default for Argon2Params {
    /// OWASP's recommendation for Argon2id: 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        Self { memory_kib: 19_456, iterations: 2, parallelism: 1 }
    }
}

struct Inner {
    params: Params,
    random: Arc<dyn SecureRandom>,
    /// A hash of a random password with the current parameters, verified against when the
    /// user does not exist (made on first use).
    dummy: OnceLock<Result<String, String>>,
}

/// Hashes passwords with Argon2id and verifies Argon2 and Django `pbkdf2_sha256$` hashes.
///
/// - A correct password whose hash is Django's, another Argon2 variant, or Argon2id with
///   other parameters answers [`PasswordCheck::MatchNeedsRehash`], so the service re-hashes
///   it with the current parameters.
/// - `verify(password, None)` verifies against a dummy hash with the current parameters:
///   unknown usernames cost the same time as known ones.
/// - An unparseable hash is a [`PasswordCheck::Mismatch`] (after the same dummy work).
#[derive(Clone)]
pub struct Argon2Hasher {
    inner: Arc<Inner>,
}

impl fmt::Debug for Argon2Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Argon2Hasher")
            .field("memory_kib", &self.inner.params.m_cost())
            .field("iterations", &self.inner.params.t_cost())
            .field("parallelism", &self.inner.params.p_cost())
            .finish()
    }
}

impl Argon2Hasher {
    /// A hasher with `params`, salting from the OS random source.
    ///
    /// # Errors
    /// [`HashError`] if the parameters are out of Argon2's range (for example less memory
    /// than 8 KiB per lane, or zero iterations).
    pub fn new(params: Argon2Params) -> Result<Self, HashError> {
        Self::with_random(params, Arc::new(OsRandom::new()))
    }

    /// A hasher with `params`, salting from `random`.
    ///
    /// # Errors
    /// As for [`Argon2Hasher::new`].
    pub fn with_random(params: Argon2Params, random: Arc<dyn SecureRandom>) -> Result<Self, HashError> {
        let params = Params::new(params.memory_kib, params.iterations, params.parallelism, None)
            .map_err(|e| HashError(format!("invalid Argon2 parameters: {e}")))?;
        Ok(Self { inner: Arc::new(Inner { params, random, dummy: OnceLock::new() }) })
    }

    /// The parameters of new hashes.
    pub fn params(&self) -> Argon2Params {
        Argon2Params {
            memory_kib: self.inner.params.m_cost(),
            iterations: self.inner.params.t_cost(),
            parallelism: self.inner.params.p_cost(),
        }
    }
}

impl Inner {
    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    fn hash_now(&self, password: &[u8]) -> Result<String, HashError> {
        let mut salt = [0u8; 16];
        self.random.fill(&mut salt).map_err(|e| HashError(e.to_string()))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| HashError(e.to_string()))?;
        let hash = self.argon2().hash_password(password, &salt).map_err(|e| HashError(e.to_string()))?;
        Ok(hash.to_string())
    }

    fn dummy_hash(&self) -> Result<&str, HashError> {
        let dummy = self.dummy.get_or_init(|| {
            let mut password = [0u8; 16];
            self.random.fill(&mut password).map_err(|e| e.to_string())?;
            self.hash_now(&password).map_err(|e| e.0)
        });
        dummy.as_deref().map_err(|e| HashError(e.clone()))
    }

    /// The same work as checking a real Argon2id hash with the current parameters.
    fn dummy_work(&self, password: &[u8]) -> Result<PasswordCheck, HashError> {
        let dummy = self.dummy_hash()?;
        if let Ok(parsed) = PasswordHash::new(dummy) {
            let _ = self.argon2().verify_password(password, &parsed);
        }
        Ok(PasswordCheck::Mismatch)
    }

    fn verify_now(&self, password: &str, encoded: Option<&str>) -> Result<PasswordCheck, HashError> {
        let Some(encoded) = encoded else { return self.dummy_work(password.as_bytes()) };
        if is_django_pbkdf2(encoded) {
            return Ok(if verify_django_pbkdf2(password, encoded) {
                PasswordCheck::MatchNeedsRehash
            } else {
                PasswordCheck::Mismatch
            });
        }
        let Ok(parsed) = PasswordHash::new(encoded) else { return self.dummy_work(password.as_bytes()) };
        let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
            return self.dummy_work(password.as_bytes());
        };
        let Ok(stored_params) = Params::try_from(&parsed) else {
            return self.dummy_work(password.as_bytes());
        };
        // Verifies with the hash's own algorithm, version and parameters.
        if self.argon2().verify_password(password.as_bytes(), &parsed).is_err() {
            return Ok(PasswordCheck::Mismatch);
        }
        let current = algorithm == Algorithm::Argon2id
            && parsed.version == Some(Version::V0x13.into())
            && stored_params.m_cost() == self.params.m_cost()
            && stored_params.t_cost() == self.params.t_cost()
            && stored_params.p_cost() == self.params.p_cost();
        Ok(if current { PasswordCheck::Match } else { PasswordCheck::MatchNeedsRehash })
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, HashError> + Send + 'static,
) -> Result<T, HashError> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work))
        .await
        .map_err(|e| HashError(format!("password hashing task failed: {e}")))?
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &str) -> Result<String, HashError> {
        let inner = self.inner.clone();
        let password = Zeroizing::new(password.to_owned());
        blocking(move || inner.hash_now(password.as_bytes())).await
    }

    async fn verify(&self, password: &str, encoded: Option<&str>) -> Result<PasswordCheck, HashError> {
        let inner = self.inner.clone();
        let password = Zeroizing::new(password.to_owned());
        let encoded = encoded.map(|e| Zeroizing::new(e.to_owned()));
        blocking(move || inner.verify_now(&password, encoded.as_deref().map(String::as_str))).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Argon2Hasher {
        Argon2Hasher::new(Argon2Params { memory_kib: 1024, iterations: 1, parallelism: 1 }).unwrap()
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_the_configured_params() {
        let hasher = small();
        let hash = hasher.hash("correct horse").await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
        assert_eq!(hasher.verify("correct horse", Some(&hash)).await.unwrap(), PasswordCheck::Match);
        assert_eq!(hasher.verify("wrong", Some(&hash)).await.unwrap(), PasswordCheck::Mismatch);
        assert_ne!(hash, hasher.hash("correct horse").await.unwrap(), "salted");
    }

    #[tokio::test]
    async fn outdated_params_or_variant_need_rehash() {
        let old =
            Argon2Hasher::new(Argon2Params { memory_kib: 2048, iterations: 1, parallelism: 1 }).unwrap();
        let hash = old.hash("pw").await.unwrap();
        assert_eq!(small().verify("pw", Some(&hash)).await.unwrap(), PasswordCheck::MatchNeedsRehash);
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::new(1024, 1, 1, None).unwrap())
            .hash_password(b"pw", &SaltString::encode_b64(b"0123456789abcdef").unwrap())
            .unwrap()
            .to_string();
        assert_eq!(small().verify("pw", Some(&argon2i)).await.unwrap(), PasswordCheck::MatchNeedsRehash);
    }

    #[tokio::test]
    async fn unknown_users_and_garbage_never_match() {
        let hasher = small();
        assert!(hasher.inner.dummy.get().is_none());
        assert_eq!(hasher.verify("pw", None).await.unwrap(), PasswordCheck::Mismatch);
        // The unknown-user path did real Argon2id work with the current parameters.
        let dummy = hasher.inner.dummy.get().unwrap().as_ref().unwrap();
        assert!(dummy.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{dummy}");
        for garbage in ["", "$argon2id$", "plaintext", "$scrypt$ln=1$x$y", "pbkdf2_sha256$1$salt$bad"] {
            assert_eq!(
                hasher.verify("pw", Some(garbage)).await.unwrap(),
                PasswordCheck::Mismatch,
                "{garbage}"
            );
        }
    }

    #[tokio::test]
    async fn django_hashes_match_and_need_rehash() {
        let encoded = "pbkdf2_sha256$870000$seasalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac=";
        assert_eq!(small().verify("lètmein", Some(encoded)).await.unwrap(), PasswordCheck::MatchNeedsRehash);
        assert_eq!(small().verify("letmein", Some(encoded)).await.unwrap(), PasswordCheck::Mismatch);
    }

    #[test]
    fn default_params_are_owasp_and_invalid_ones_are_refused() {
        assert_eq!(
            Argon2Params::default(),
            Argon2Params { memory_kib: 19_456, iterations: 2, parallelism: 1 }
        );
        assert!(Argon2Hasher::new(Argon2Params { memory_kib: 1024, iterations: 0, parallelism: 1 }).is_err());
        assert!(format!("{:?}", small()).contains("1024"));
    }
}
