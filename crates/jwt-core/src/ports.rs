//! The ports: traits the engine needs from the outside world, implemented by adapters
//! (`jwt-store` for databases, [`crate::system`] for the OS, `crate::memory` — the `memory`
//! feature — for tests).
//!
//! Every port is object safe and `Send + Sync`, so services hold them as `Arc<dyn Port>`.

use std::fmt;

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::algorithm::Algorithm;
use crate::error::{HashError, RandomError, StoreError};
use crate::ids::{FamilyId, Jti, UserId};
use crate::keys::KeyMaterial;
use crate::time::Timestamp;
use crate::token::TokenType;
use crate::user::User;

/// The source of "now". Nothing in the engine reads the system clock directly.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The source of randomness for token ids and key generation.
pub trait SecureRandom: Send + Sync + fmt::Debug {
    /// Fill `buf` with cryptographically secure random bytes.
    ///
    /// # Errors
    /// [`RandomError`] if the source is unavailable.
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError>;
}

/// Where user accounts live.
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// The user with this exact username.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails; a missing user is `Ok(None)`.
    async fn find_by_username(&self, username: &str) -> Result<Option<User>, StoreError>;

    /// The user with this id.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails; a missing user (or an id that cannot be one,
    /// such as a non-numeric id for integer keys) is `Ok(None)`.
    async fn find_by_id(&self, id: &UserId) -> Result<Option<User>, StoreError>;

    /// Record a successful login at `at`.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails. Updating a deleted user is not an error.
    async fn record_login(&self, id: &UserId, at: Timestamp) -> Result<(), StoreError>;

    /// Replace the stored password hash (after a successful login with an outdated scheme).
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    async fn update_password_hash(&self, id: &UserId, hash: &str) -> Result<(), StoreError>;

    /// Replace the credential stamp, invalidating tokens issued under the old one when
    /// `check_revoke_token` is on.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    async fn set_credential_stamp(&self, id: &UserId, stamp: &str) -> Result<(), StoreError>;
}

/// A recorded refresh or sliding token (simplejwt's `OutstandingToken`, plus its family).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutstandingToken {
    /// The token's jti (unique).
    pub jti: Jti,
    /// Refresh or sliding.
    pub token_type: TokenType,
    /// The user it was issued to, if the token names one.
    pub user_id: Option<UserId>,
    /// The login this token descends from.
    pub family_id: FamilyId,
    /// The refresh token it was rotated from, if any.
    pub parent_jti: Option<Jti>,
    /// SHA-256 of the encoded token (the token itself is never stored).
    pub token_digest: [u8; 32],
    /// When it was issued.
    pub created_at: Timestamp,
    /// Its `exp`; for a sliding token, the last moment a refreshed copy (same jti) can
    /// still be valid: `refresh_exp` plus leeway plus the sliding lifetime.
    pub expires_at: Timestamp,
}

/// What the store knows about a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The token as recorded.
    pub token: OutstandingToken,
    /// The token it was rotated into, once rotated.
    pub replaced_by: Option<Jti>,
    /// When it was rotated.
    pub used_at: Option<Timestamp>,
    /// When it was blacklisted, if it is.
    pub blacklisted_at: Option<Timestamp>,
}

/// One rotation: `old` is exchanged for `new`, atomically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The token being rotated. If it was never recorded (minted elsewhere with the same key),
    /// the store records it first, as simplejwt's `get_or_create` does.
    pub old: OutstandingToken,
    /// The token replacing it; `new.parent_jti` is `old.jti` and the family is the same.
    pub new: OutstandingToken,
    /// When the rotation happens.
    pub at: Timestamp,
    /// Also blacklist `old` in the same transaction (`blacklist_after_rotation`).
    pub blacklist_old: bool,
}

/// How a [`Rotation`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationOutcome {
    /// `old` was marked used and `new` recorded (and `old` blacklisted if asked).
    Rotated,
    /// Another rotation of `old` won first; nothing was written.
    AlreadyRotated {
        /// The token the winner rotated `old` into.
        replaced_by: Jti,
        /// When the winner rotated it.
        used_at: Timestamp,
    },
    /// `old` is blacklisted (and was not rotated); nothing was written.
    Blacklisted,
}

/// How a blacklisting ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlacklistOutcome {
    /// The token is now blacklisted.
    Blacklisted,
    /// It already was.
    AlreadyBlacklisted,
}

/// Where issued refresh/sliding tokens, their families and the blacklist are kept.
///
/// Implementations must make [`TokenStore::rotate`] a single atomic compare-and-set: of any
/// number of concurrent rotations of one token, exactly one returns
/// [`RotationOutcome::Rotated`], on every backend, across processes sharing the store.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Record a newly issued token.
    ///
    /// # Errors
    /// MUST return [`StoreError::Conflict`] if `token.jti` is already recorded.
    async fn record_outstanding(&self, token: &OutstandingToken) -> Result<(), StoreError>;

    /// Everything known about the token `jti`.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails; an unknown jti is `Ok(None)`.
    async fn find(&self, jti: &Jti) -> Result<Option<TokenRecord>, StoreError>;

    /// Whether `jti` is blacklisted (the hot-path check).
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    async fn is_blacklisted(&self, jti: &Jti) -> Result<bool, StoreError>;

    /// Blacklist `token`, recording it first if it was never recorded.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    async fn blacklist(
        &self,
        token: &OutstandingToken,
        at: Timestamp,
    ) -> Result<BlacklistOutcome, StoreError>;

    /// Exchange `rotation.old` for `rotation.new` atomically (see the trait docs).
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails; then nothing was written.
    async fn rotate(&self, rotation: &Rotation) -> Result<RotationOutcome, StoreError>;

    /// Blacklist, as of `at`, every token of a family that expires after `still_valid_at`
    /// (the service passes now minus leeway: a token inside the leeway still verifies, so it
    /// must be revoked too). Returns how many were newly blacklisted.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    async fn revoke_family(
        &self,
        family: &FamilyId,
        at: Timestamp,
        still_valid_at: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Blacklist, as of `at`, every token of a user that expires after `still_valid_at`
    /// ("log out everywhere"). Returns how many were newly blacklisted.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    async fn revoke_user(
        &self,
        user: &UserId,
        at: Timestamp,
        still_valid_at: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Delete tokens (and their blacklist entries) that expired at or before `now`, at most
    /// `batch_size` per statement until none are left. Returns how many were deleted.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails; batches already deleted stay deleted.
    async fn flush_expired(&self, now: Timestamp, batch_size: u32) -> Result<u64, StoreError>;
}

/// Result of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    /// Wrong password (or no stored hash).
    Mismatch,
    /// Right password; the hash is current.
    Match,
    /// Right password; the hash uses an outdated scheme or parameters and should be replaced.
    MatchNeedsRehash,
}

/// Hashes and checks passwords.
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// Hash `password` with the current scheme.
    ///
    /// # Errors
    /// [`HashError`] if hashing fails.
    async fn hash(&self, password: &str) -> Result<String, HashError>;

    /// Check `password` against `encoded`. With `encoded = None` (unknown user), MUST do
    /// the same work as a real check and return [`PasswordCheck::Mismatch`], so response
    /// times do not reveal which usernames exist.
    ///
    /// # Errors
    /// [`HashError`] if the hasher fails; an unparseable hash is a `Mismatch`.
    async fn verify(&self, password: &str, encoded: Option<&str>) -> Result<PasswordCheck, HashError>;
}

/// Adds custom claims to a user's tokens (simplejwt's `get_token` override).
///
/// The claims go into refresh and sliding tokens and are copied into access tokens derived
/// from them. Registered claims (`exp`, `iat`, `jti`, the type and user id claims) are
/// ignored if returned.
#[async_trait]
pub trait ClaimsProvider: Send + Sync {
    /// Claims for `user`'s new tokens.
    ///
    /// # Errors
    /// [`StoreError`] if a lookup the provider does fails.
    async fn claims_for(&self, user: &User) -> Result<Map<String, Value>, StoreError>;
}

/// The default [`ClaimsProvider`]: the user's stored `claims`, nothing else.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoredUserClaims;

#[async_trait]
impl ClaimsProvider for StoredUserClaims {
    async fn claims_for(&self, user: &User) -> Result<Map<String, Value>, StoreError> {
        Ok(user.claims.clone())
    }
}

/// A signing key as persisted, so tokens survive restarts and keys rotate without downtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// Key id, written into token headers.
    pub kid: String,
    /// The algorithm the key is bound to.
    pub algorithm: Algorithm,
    /// The private material.
    pub material: KeyMaterial,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it became the signing key (`None`: not yet, or a verify-only key).
    pub activated_at: Option<Timestamp>,
    /// When it stopped verifying (`None`: still accepted).
    pub retired_at: Option<Timestamp>,
}

/// Where signing keys are kept.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Every key not retired, newest activation first.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    async fn live_keys(&self) -> Result<Vec<StoredKey>, StoreError>;

    /// Add a key.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if the kid exists.
    async fn insert_key(&self, key: &StoredKey) -> Result<(), StoreError>;

    /// Make `kid` the signing key from `at` on (the previous one keeps verifying).
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    async fn activate_key(&self, kid: &str, at: Timestamp) -> Result<(), StoreError>;

    /// Stop accepting tokens signed by `kid` from `at` on.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    async fn retire_key(&self, kid: &str, at: Timestamp) -> Result<(), StoreError>;
}
