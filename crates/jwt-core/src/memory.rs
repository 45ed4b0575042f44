//! In-memory adapters: the whole engine without a database, for tests and quick starts.
//!
//! Enabled by the `memory` feature. Everything is deterministic when built with
//! [`FixedClock`] and [`SeqRandom`].

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;

use crate::error::{HashError, RandomError, StoreError};
use crate::ids::{FamilyId, Jti, UserId};
use crate::password::{hash_django_pbkdf2, verify_django_pbkdf2};
use crate::ports::{
    BlacklistOutcome, Clock, OutstandingToken, PasswordCheck, PasswordHasher, Rotation, RotationOutcome,
    SecureRandom, TokenRecord, TokenStore, UserRepository,
};
use crate::system::OsRandom;
use crate::time::Timestamp;
use crate::user::User;

/// A clock that only moves when told to.
#[derive(Debug, Default)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    /// A clock stopped at `secs` since the epoch.
    pub fn at(secs: i64) -> Arc<Self> {
        Arc::new(Self(AtomicI64::new(secs)))
    }

    /// Move the clock forward.
    pub fn advance(&self, by: Duration) {
        let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        self.0.fetch_add(secs, Ordering::SeqCst);
    }

    /// Set the clock.
    pub fn set(&self, secs: i64) {
        self.0.store(secs, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_secs(self.0.load(Ordering::SeqCst))
    }
}

/// A predictable "random" source: each call yields the next bytes of a counter stream.
/// Never use it outside tests.
#[derive(Debug, Default)]
pub struct SeqRandom(AtomicU64);

impl SeqRandom {
    /// A stream starting at `seed`.
    pub fn starting_at(seed: u64) -> Arc<Self> {
        Arc::new(Self(AtomicU64::new(seed)))
    }
}

impl SecureRandom for SeqRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        for chunk in buf.chunks_mut(8) {
            let n = self.0.fetch_add(1, Ordering::SeqCst).to_be_bytes();
            chunk.copy_from_slice(&n[..chunk.len()]);
        }
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Users in a map, keyed by id.
#[derive(Debug, Default)]
pub struct InMemoryUsers {
    users: Mutex<HashMap<UserId, User>>,
}

impl InMemoryUsers {
    /// An empty repository.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Add or replace a user.
    pub fn insert(&self, user: User) {
        lock(&self.users).insert(user.id.clone(), user);
    }

    /// Remove a user (their tokens stay recorded, as in simplejwt).
    pub fn remove(&self, id: &UserId) -> Option<User> {
        lock(&self.users).remove(id)
    }

    /// A copy of a user.
    pub fn get(&self, id: &UserId) -> Option<User> {
        lock(&self.users).get(id).cloned()
    }

    /// Change a user in place.
    pub fn update(&self, id: &UserId, change: impl FnOnce(&mut User)) {
        if let Some(user) = lock(&self.users).get_mut(id) {
            change(user);
        }
    }
}

#[async_trait]
impl UserRepository for InMemoryUsers {
    async fn find_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(lock(&self.users).values().find(|u| u.username == username).cloned())
    }

    async fn find_by_id(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        Ok(lock(&self.users).get(id).cloned())
    }

    async fn record_login(&self, id: &UserId, at: Timestamp) -> Result<(), StoreError> {
        self.update(id, |u| u.last_login = Some(at));
        Ok(())
    }

    async fn update_password_hash(&self, id: &UserId, hash: &str) -> Result<(), StoreError> {
        self.update(id, |u| u.password_hash = hash.to_owned());
        Ok(())
    }

    async fn set_credential_stamp(&self, id: &UserId, stamp: &str) -> Result<(), StoreError> {
        self.update(id, |u| u.credential_stamp = stamp.to_owned());
        Ok(())
    }
}

/// Outstanding tokens and the blacklist in a map; rotation is atomic under one lock.
#[derive(Debug, Default)]
pub struct InMemoryTokenStore {
    tokens: Mutex<HashMap<Jti, TokenRecord>>,
}

impl InMemoryTokenStore {
    /// An empty store.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Every record, for assertions.
    pub fn records(&self) -> Vec<TokenRecord> {
        lock(&self.tokens).values().cloned().collect()
    }
}

fn new_record(token: &OutstandingToken) -> TokenRecord {
    TokenRecord { token: token.clone(), replaced_by: None, used_at: None, blacklisted_at: None }
}

#[async_trait]
impl TokenStore for InMemoryTokenStore {
    async fn record_outstanding(&self, token: &OutstandingToken) -> Result<(), StoreError> {
        let mut tokens = lock(&self.tokens);
        if tokens.contains_key(&token.jti) {
            return Err(StoreError::Conflict);
        }
        tokens.insert(token.jti.clone(), new_record(token));
        Ok(())
    }

    async fn find(&self, jti: &Jti) -> Result<Option<TokenRecord>, StoreError> {
        Ok(lock(&self.tokens).get(jti).cloned())
    }

    async fn is_blacklisted(&self, jti: &Jti) -> Result<bool, StoreError> {
        Ok(lock(&self.tokens).get(jti).is_some_and(|r| r.blacklisted_at.is_some()))
    }

    async fn blacklist(
        &self,
        token: &OutstandingToken,
        at: Timestamp,
    ) -> Result<BlacklistOutcome, StoreError> {
        let mut tokens = lock(&self.tokens);
        let record = tokens.entry(token.jti.clone()).or_insert_with(|| new_record(token));
        if record.blacklisted_at.is_some() {
            return Ok(BlacklistOutcome::AlreadyBlacklisted);
        }
        record.blacklisted_at = Some(at);
        Ok(BlacklistOutcome::Blacklisted)
    }

    async fn rotate(&self, rotation: &Rotation) -> Result<RotationOutcome, StoreError> {
        let mut tokens = lock(&self.tokens);
        if tokens.contains_key(&rotation.new.jti) {
            return Err(StoreError::Conflict);
        }
        let old = tokens.entry(rotation.old.jti.clone()).or_insert_with(|| new_record(&rotation.old));
        if let (Some(replaced_by), Some(used_at)) = (&old.replaced_by, old.used_at) {
            return Ok(RotationOutcome::AlreadyRotated { replaced_by: replaced_by.clone(), used_at });
        }
        if old.blacklisted_at.is_some() {
            return Ok(RotationOutcome::Blacklisted);
        }
        old.replaced_by = Some(rotation.new.jti.clone());
        old.used_at = Some(rotation.at);
        if rotation.blacklist_old {
            old.blacklisted_at = Some(rotation.at);
        }
        tokens.insert(rotation.new.jti.clone(), new_record(&rotation.new));
        Ok(RotationOutcome::Rotated)
    }

    async fn revoke_family(
        &self,
        family: &FamilyId,
        at: Timestamp,
        still_valid_at: Timestamp,
    ) -> Result<u64, StoreError> {
        Ok(revoke_where(&mut lock(&self.tokens), at, still_valid_at, |t| &t.family_id == family))
    }

    async fn revoke_user(
        &self,
        user: &UserId,
        at: Timestamp,
        still_valid_at: Timestamp,
    ) -> Result<u64, StoreError> {
        Ok(revoke_where(&mut lock(&self.tokens), at, still_valid_at, |t| t.user_id.as_ref() == Some(user)))
    }

    async fn flush_expired(&self, now: Timestamp, _batch_size: u32) -> Result<u64, StoreError> {
        let mut tokens = lock(&self.tokens);
        let before = tokens.len();
        tokens.retain(|_, r| r.token.expires_at > now);
        Ok((before - tokens.len()) as u64)
    }
}

fn revoke_where(
    tokens: &mut HashMap<Jti, TokenRecord>,
    at: Timestamp,
    still_valid_at: Timestamp,
    matches: impl Fn(&OutstandingToken) -> bool,
) -> u64 {
    let mut count = 0;
    for record in tokens.values_mut() {
        if matches(&record.token)
            && record.blacklisted_at.is_none()
            && record.token.expires_at > still_valid_at
        {
            record.blacklisted_at = Some(at);
            count += 1;
        }
    }
    count
}

/// A failure to inject into a [`FaultyStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    /// Every call goes through.
    #[default]
    None,
    /// Every call fails with [`StoreError::Unavailable`], as when the database is down.
    Unavailable,
    /// Every call fails with [`StoreError::Backend`], as on an unexpected database error.
    Backend,
    /// Every call panics, as a bug in an adapter would.
    Panic,
}

/// Wraps a token store and fails every call while a [`Fault`] is set: outage and error
/// tests without a real database.
pub struct FaultyStore {
    inner: Arc<dyn TokenStore>,
    fault: Mutex<Fault>,
}

impl std::fmt::Debug for FaultyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultyStore").field("fault", &*lock(&self.fault)).finish_non_exhaustive()
    }
}

impl FaultyStore {
    /// `inner`, working until a fault is set.
    pub fn new(inner: Arc<dyn TokenStore>) -> Arc<Self> {
        Arc::new(Self { inner, fault: Mutex::new(Fault::None) })
    }

    /// Inject `fault` into every following call ([`Fault::None`] heals the store).
    pub fn set(&self, fault: Fault) {
        *lock(&self.fault) = fault;
    }

    /// What the next call would do: `Ok` or the injected error.
    ///
    /// # Errors
    /// The injected [`StoreError`].
    ///
    /// # Panics
    /// With [`Fault::Panic`], on purpose.
    pub fn check(&self) -> Result<(), StoreError> {
        match *lock(&self.fault) {
            Fault::None => Ok(()),
            Fault::Unavailable => Err(StoreError::unavailable("connection refused (db.internal:5432)")),
            Fault::Backend => Err(StoreError::backend("syntax error near SELECT secret_column")),
            Fault::Panic => panic!("injected store panic"),
        }
    }
}

#[async_trait]
impl TokenStore for FaultyStore {
    async fn record_outstanding(&self, token: &OutstandingToken) -> Result<(), StoreError> {
        self.check()?;
        self.inner.record_outstanding(token).await
    }
    async fn find(&self, jti: &Jti) -> Result<Option<TokenRecord>, StoreError> {
        self.check()?;
        self.inner.find(jti).await
    }
    async fn is_blacklisted(&self, jti: &Jti) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.is_blacklisted(jti).await
    }
    async fn blacklist(
        &self,
        token: &OutstandingToken,
        at: Timestamp,
    ) -> Result<BlacklistOutcome, StoreError> {
        self.check()?;
        self.inner.blacklist(token, at).await
    }
    async fn rotate(&self, rotation: &Rotation) -> Result<RotationOutcome, StoreError> {
        self.check()?;
        self.inner.rotate(rotation).await
    }
    async fn revoke_family(
        &self,
        family: &FamilyId,
        at: Timestamp,
        still_valid_at: Timestamp,
    ) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.revoke_family(family, at, still_valid_at).await
    }
    async fn revoke_user(
        &self,
        user: &UserId,
        at: Timestamp,
        still_valid_at: Timestamp,
    ) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.revoke_user(user, at, still_valid_at).await
    }
    async fn flush_expired(&self, now: Timestamp, batch_size: u32) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.flush_expired(now, batch_size).await
    }
}

/// Django-compatible PBKDF2-SHA256 hashing, computed inline on the calling task.
///
/// Meant for tests and examples (choose few iterations there); servers use `jwt-store`'s
/// Argon2id hasher, which runs off the async executor.
#[derive(Debug)]
pub struct Pbkdf2Hasher {
    iterations: NonZeroU32,
    random: OsRandom,
}

impl Pbkdf2Hasher {
    /// A hasher using `iterations` rounds for new hashes.
    pub fn new(iterations: NonZeroU32) -> Arc<Self> {
        Arc::new(Self { iterations, random: OsRandom::new() })
    }

    /// Hash synchronously (to seed test users).
    ///
    /// # Errors
    /// [`HashError`] if the random source fails.
    pub fn hash_now(&self, password: &str) -> Result<String, HashError> {
        hash_django_pbkdf2(password, self.iterations, &self.random).map_err(|e| HashError(e.to_string()))
    }
}

#[async_trait]
impl PasswordHasher for Pbkdf2Hasher {
    async fn hash(&self, password: &str) -> Result<String, HashError> {
        self.hash_now(password)
    }

    async fn verify(&self, password: &str, encoded: Option<&str>) -> Result<PasswordCheck, HashError> {
        let dummy;
        let encoded = match encoded {
            Some(e) => e,
            None => {
                dummy = format!(
                    "pbkdf2_sha256${}$dummysalt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                    self.iterations
                );
                let _ = verify_django_pbkdf2(password, &dummy);
                return Ok(PasswordCheck::Mismatch);
            }
        };
        Ok(if verify_django_pbkdf2(password, encoded) {
            PasswordCheck::Match
        } else {
            PasswordCheck::Mismatch
        })
    }
}

/// An active user with no password and no custom claims, for examples and tests.
pub fn example_user(id: &str, username: &str) -> User {
    User {
        id: UserId::parse(id).unwrap_or_else(|_| UserId::from(0)),
        username: username.to_owned(),
        email: String::new(),
        password_hash: String::new(),
        is_active: true,
        is_staff: false,
        is_superuser: false,
        claims: serde_json::Map::new(),
        credential_stamp: String::new(),
        date_joined: Timestamp::EPOCH,
        last_login: None,
    }
}
