//! The token service: the engine plus the ports, implementing every simplejwt operation.

use std::sync::{Arc, RwLock};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::claims::Claims;
use crate::engine::TokenEngine;
use crate::error::{ConfigError, TokenError, TypeFailure};
use crate::ids::{FamilyId, Jti, UserId, hex_lower};
use crate::keys::KeySet;
use crate::ports::{
    BlacklistOutcome, ClaimsProvider, OutstandingToken, PasswordCheck, PasswordHasher, Rotation,
    RotationOutcome, TokenRecord, TokenStore, UserRepository,
};
use crate::time::Timestamp;
use crate::token::{Access, Issued, Refresh, Sliding, TokenClaims, TokenPair, TokenType, Untyped, Verified};
use crate::user::{TokenUser, User};

/// The adapters a [`TokenService`] runs on.
#[derive(Clone)]
pub struct Ports {
    /// Outstanding tokens, families and the blacklist.
    pub store: Arc<dyn TokenStore>,
    /// User accounts.
    pub users: Arc<dyn UserRepository>,
    /// Password checks.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Custom claims for new tokens ([`crate::ports::StoredUserClaims`] by default).
    pub claims: Arc<dyn ClaimsProvider>,
}

/// A login attempt. Both fields arrive already trimmed (DRF's `CharField` trims them).
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    /// The username.
    pub username: &'a str,
    /// The password.
    pub password: &'a str,
}

impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"********")
            .finish()
    }
}

/// The result of a refresh: a new access token and, with rotation, a new refresh token.
#[derive(Debug, Clone)]
pub struct Refreshed {
    /// The new access token.
    pub access: Issued<Access>,
    /// The new refresh token when `rotate_refresh_tokens` is on.
    pub refresh: Option<Issued<Refresh>>,
}

/// A token accepted for authentication (one of `auth_token_classes`).
#[derive(Debug, Clone)]
pub enum AuthToken {
    /// An access token.
    Access(Verified<Access>),
    /// A refresh token (only if listed in `auth_token_classes`).
    Refresh(Verified<Refresh>),
    /// A sliding token (checked against the blacklist).
    Sliding(Verified<Sliding>),
}

impl AuthToken {
    /// The token's type.
    pub fn token_type(&self) -> TokenType {
        match self {
            Self::Access(_) => TokenType::Access,
            Self::Refresh(_) => TokenType::Refresh,
            Self::Sliding(_) => TokenType::Sliding,
        }
    }

    /// The token's user id claim.
    pub fn user_id(&self) -> Option<&UserId> {
        match self {
            Self::Access(t) => t.user_id(),
            Self::Refresh(t) => t.user_id(),
            Self::Sliding(t) => t.user_id(),
        }
    }
}

impl TokenClaims for AuthToken {
    fn claims(&self) -> &Claims {
        match self {
            Self::Access(t) => t.claims(),
            Self::Refresh(t) => t.claims(),
            Self::Sliding(t) => t.claims(),
        }
    }
}

/// A request authenticated by a bearer token, with the user loaded from the repository.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The user.
    pub user: User,
    /// The token that authenticated them.
    pub token: AuthToken,
}

/// Issues, refreshes, verifies and revokes tokens over the [`Ports`].
///
/// Cheap to share: hold it in an `Arc`. The key set can be swapped at runtime
/// ([`TokenService::set_keys`]) for key rotation.
pub struct TokenService {
    engine: RwLock<Arc<TokenEngine>>,
    ports: Ports,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService").field("engine", &self.engine()).finish_non_exhaustive()
    }
}

impl TokenService {
    /// A service over `engine` and `ports`.
    pub fn new(engine: TokenEngine, ports: Ports) -> Self {
        Self { engine: RwLock::new(Arc::new(engine)), ports }
    }

    /// The current engine (settings, keys, clock).
    pub fn engine(&self) -> Arc<TokenEngine> {
        self.engine.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Replace the key set (key rotation); tokens signed before stay valid as long as the
    /// new set still holds their verifying key.
    ///
    /// # Errors
    /// [`ConfigError::Key`] if the new signing key does not match the algorithm setting.
    pub fn set_keys(&self, keys: KeySet) -> Result<(), ConfigError> {
        let next = Arc::new(self.engine().with_keys(keys)?);
        *self.engine.write().unwrap_or_else(std::sync::PoisonError::into_inner) = next;
        Ok(())
    }

    /// The ports.
    pub fn ports(&self) -> &Ports {
        &self.ports
    }

    /// Log in: check credentials and issue a refresh/access pair (`POST /api/token/`).
    ///
    /// # Errors
    /// - [`TokenError::BadCredentials`] for an unknown user, a wrong password or an inactive
    ///   user, all alike and in the same time.
    /// - [`TokenError::Store`] / [`TokenError::Hasher`] on infrastructure failure.
    pub async fn obtain_pair(&self, credentials: Credentials<'_>) -> Result<TokenPair, TokenError> {
        let user = self.authenticate_credentials(credentials).await?;
        let pair = self.issue_pair_for(&user).await?;
        self.after_login(&user).await?;
        Ok(pair)
    }

    /// Log in and issue a sliding token (`POST /api/token/sliding/`).
    ///
    /// # Errors
    /// As for [`TokenService::obtain_pair`].
    pub async fn obtain_sliding(&self, credentials: Credentials<'_>) -> Result<Issued<Sliding>, TokenError> {
        let user = self.authenticate_credentials(credentials).await?;
        let token = self.issue_sliding_for(&user).await?;
        self.after_login(&user).await?;
        Ok(token)
    }

    /// Issue a pair for `user` without checking a password (simplejwt's `for_user`).
    /// The refresh token is recorded as the root of a new family.
    ///
    /// # Errors
    /// [`TokenError::Store`] if recording fails (then no token is returned).
    pub async fn issue_pair_for(&self, user: &User) -> Result<TokenPair, TokenError> {
        let engine = self.engine();
        let extra = self.extra_claims(user).await?;
        let refresh = engine.refresh_for(&user.id, &extra)?;
        if engine.settings().blacklist_enabled {
            let record = issued_record(&engine, &refresh, TokenType::Refresh, &user.id)?;
            self.ports.store.record_outstanding(&record).await?;
        }
        let access = engine.access_from(&refresh)?;
        Ok(TokenPair { refresh, access })
    }

    /// Issue a sliding token for `user` without checking a password.
    ///
    /// # Errors
    /// [`TokenError::Store`] if recording fails.
    pub async fn issue_sliding_for(&self, user: &User) -> Result<Issued<Sliding>, TokenError> {
        let engine = self.engine();
        let extra = self.extra_claims(user).await?;
        let token = engine.sliding_for(&user.id, &extra)?;
        if engine.settings().blacklist_enabled {
            let record = issued_record(&engine, &token, TokenType::Sliding, &user.id)?;
            self.ports.store.record_outstanding(&record).await?;
        }
        Ok(token)
    }

    /// Exchange a refresh token for a new access token, rotating the refresh token when
    /// `rotate_refresh_tokens` is on (`POST /api/token/refresh/`).
    ///
    /// With `blacklist_after_rotation`, rotation is one atomic compare-and-set in the store:
    /// of concurrent refreshes of one token exactly one succeeds, unless they fall within
    /// `rotation_grace_period`, in which case all get the same new refresh token (while that
    /// token is live: once it is rotated on, logged out or revoked, replays are refused).
    ///
    /// # Errors
    /// - Any verification error of the token (invalid, expired, wrong type, no id, ...).
    /// - [`TokenError::Blacklisted`] if blacklisted or already rotated (reuse); with
    ///   `revoke_family_on_reuse` the whole family is revoked first.
    /// - [`TokenError::NoActiveAccountForToken`] if the user is missing or inactive.
    /// - [`TokenError::PasswordChanged`] (after blacklisting the token) if the credential
    ///   stamp changed and `check_revoke_token` is on.
    /// - [`TokenError::Store`] on infrastructure failure.
    pub async fn refresh(&self, raw: &str) -> Result<Refreshed, TokenError> {
        let engine = self.engine();
        let settings = engine.settings();
        let claims = engine.decode(raw)?;
        let mut record = None;
        let mut grace_child = None;
        if settings.blacklist_enabled {
            let jti = engine.jti_of(&claims)?;
            record = self.ports.store.find(&jti).await?;
            if let Some(rec) = record.as_ref().filter(|r| r.blacklisted_at.is_some()) {
                match (&rec.replaced_by, rec.used_at) {
                    (Some(child), Some(used_at)) if within_grace(&engine, used_at) => {
                        grace_child = Some((child.clone(), used_at));
                    }
                    _ => return Err(self.reused(rec, &engine).await),
                }
            }
        }
        let token: Verified<Refresh> = engine.check(claims)?;
        self.check_token_user(&engine, &token, TokenType::Refresh, raw).await?;
        if let Some((child, used_at)) = grace_child {
            self.check_grace_child(&child).await?;
            let access = engine.access_from(&token)?;
            let refresh = engine.rotated(&token, &child, used_at)?;
            return Ok(Refreshed { access, refresh: Some(refresh) });
        }
        let access = engine.access_from(&token)?;
        if !settings.rotate_refresh_tokens {
            return Ok(Refreshed { access, refresh: None });
        }
        let now = engine.now();
        let mut old = verified_record(&engine, &token, TokenType::Refresh, raw)?;
        if let Some(rec) = record {
            old.family_id = rec.token.family_id;
        }
        let new_jti = engine.new_jti()?;
        let refresh = engine.rotated(&token, &new_jti, now)?;
        let new = OutstandingToken {
            jti: new_jti,
            token_type: TokenType::Refresh,
            user_id: old.user_id.clone(),
            family_id: old.family_id.clone(),
            parent_jti: Some(old.jti.clone()),
            token_digest: digest(refresh.as_str()),
            created_at: now,
            expires_at: refresh.expiry(),
        };
        if !settings.blacklist_after_rotation {
            // simplejwt semantics: the old token stays valid; only the new one is recorded.
            self.ports.store.record_outstanding(&new).await?;
            return Ok(Refreshed { access, refresh: Some(refresh) });
        }
        let rotation = Rotation { old, new, at: now, blacklist_old: true };
        match self.ports.store.rotate(&rotation).await? {
            RotationOutcome::Rotated => Ok(Refreshed { access, refresh: Some(refresh) }),
            RotationOutcome::AlreadyRotated { replaced_by, used_at } if within_grace(&engine, used_at) => {
                self.check_grace_child(&replaced_by).await?;
                let refresh = engine.rotated(&token, &replaced_by, used_at)?;
                Ok(Refreshed { access, refresh: Some(refresh) })
            }
            RotationOutcome::AlreadyRotated { .. } => {
                if settings.revoke_family_on_reuse {
                    self.ports
                        .store
                        .revoke_family(&rotation.old.family_id, now, still_valid_at(&engine))
                        .await?;
                }
                Err(TokenError::Blacklisted)
            }
            RotationOutcome::Blacklisted => Err(TokenError::Blacklisted),
        }
    }

    /// Extend a sliding token (`POST /api/token/sliding/refresh/`): same `jti`, new
    /// `exp`/`iat`, while `refresh_exp` has not passed.
    ///
    /// # Errors
    /// Verification errors, [`TokenError::Blacklisted`], [`TokenError::ClaimExpired`] /
    /// [`TokenError::MissingClaim`] for `refresh_exp`, the user errors of
    /// [`TokenService::refresh`], [`TokenError::Store`].
    pub async fn refresh_sliding(&self, raw: &str) -> Result<Issued<Sliding>, TokenError> {
        let engine = self.engine();
        let token: Verified<Sliding> = self.verify_recorded(&engine, raw).await?;
        self.check_token_user(&engine, &token, TokenType::Sliding, raw).await?;
        engine.slid(&token)
    }

    /// Verify a token of any type (`POST /api/token/verify/`). Checks the blacklist only
    /// when `blacklist_after_rotation` is on, as simplejwt does.
    ///
    /// # Errors
    /// Verification errors; [`TokenError::Blacklisted`] (which the HTTP layer answers with
    /// 400, as simplejwt does); [`TokenError::Store`].
    pub async fn verify(&self, raw: &str) -> Result<Verified<Untyped>, TokenError> {
        let engine = self.engine();
        let token: Verified<Untyped> = engine.verify(raw)?;
        let settings = engine.settings();
        if settings.blacklist_enabled
            && settings.blacklist_after_rotation
            && let Some(jti) = token.jti()
            && self.ports.store.is_blacklisted(jti).await?
        {
            return Err(TokenError::Blacklisted);
        }
        Ok(token)
    }

    /// Blacklist a refresh token (`POST /api/token/blacklist/`, logout). Recording it first
    /// if it never was. Without `blacklist_enabled` this verifies and does nothing.
    ///
    /// # Errors
    /// Verification errors; [`TokenError::Blacklisted`] if it already was; [`TokenError::Store`].
    pub async fn blacklist(&self, raw: &str) -> Result<Verified<Refresh>, TokenError> {
        let engine = self.engine();
        let token: Verified<Refresh> = self.verify_recorded(&engine, raw).await?;
        if !engine.settings().blacklist_enabled {
            return Ok(token);
        }
        let record = verified_record(&engine, &token, TokenType::Refresh, raw)?;
        match self.ports.store.blacklist(&record, engine.now()).await? {
            BlacklistOutcome::Blacklisted => Ok(token),
            BlacklistOutcome::AlreadyBlacklisted => Err(TokenError::Blacklisted),
        }
    }

    /// Blacklist every refresh and sliding token of a user ("log out of all devices"); with
    /// `check_revoke_token` also replace the credential stamp so access tokens stop working.
    /// Returns how many tokens were newly blacklisted.
    ///
    /// # Errors
    /// [`TokenError::Store`].
    pub async fn revoke_all_for_user(&self, user_id: &UserId) -> Result<u64, TokenError> {
        let engine = self.engine();
        let count = self.ports.store.revoke_user(user_id, engine.now(), still_valid_at(&engine)).await?;
        if engine.settings().check_revoke_token {
            let mut bytes = [0u8; 16];
            engine.random().fill(&mut bytes).map_err(|e| TokenError::Signing(e.to_string()))?;
            self.ports.users.set_credential_stamp(user_id, &hex_lower(&bytes)).await?;
        }
        Ok(count)
    }

    /// Delete expired outstanding tokens and their blacklist entries, `batch_size` at a time.
    ///
    /// A token counts as expired once it is past `exp` plus `leeway`: until then it still
    /// verifies, so its blacklist entry must stay.
    ///
    /// # Errors
    /// [`TokenError::Store`].
    pub async fn flush_expired(&self, batch_size: u32) -> Result<u64, TokenError> {
        let engine = self.engine();
        let expired_before = still_valid_at(&engine);
        Ok(self.ports.store.flush_expired(expired_before, batch_size).await?)
    }

    /// Validate a bearer token against `auth_token_classes` in order (no user lookup).
    ///
    /// # Errors
    /// [`TokenError::NotValidForAnyType`] listing why each type rejected it;
    /// [`TokenError::Store`] if a blacklist lookup fails.
    pub async fn validate_bearer(&self, raw: &str) -> Result<AuthToken, TokenError> {
        let engine = self.engine();
        let mut failures = Vec::new();
        for &token_type in &engine.settings().auth_token_classes {
            let result = match token_type {
                TokenType::Access => engine.verify::<Access>(raw).map(AuthToken::Access),
                TokenType::Refresh => self.verify_recorded(&engine, raw).await.map(AuthToken::Refresh),
                TokenType::Sliding => self.verify_recorded(&engine, raw).await.map(AuthToken::Sliding),
            };
            match result {
                Ok(token) => return Ok(token),
                Err(e) if e.is_internal() => return Err(e),
                Err(e) => failures.push(TypeFailure {
                    token_class: token_type.class_name(),
                    token_type,
                    message: e.to_string(),
                }),
            }
        }
        Err(TokenError::NotValidForAnyType(failures))
    }

    /// Authenticate a bearer token and load its user (`JWTAuthentication`).
    ///
    /// # Errors
    /// Those of [`TokenService::validate_bearer`], then [`TokenError::NoUserId`],
    /// [`TokenError::UserNotFound`], [`TokenError::UserInactive`],
    /// [`TokenError::PasswordChanged`], [`TokenError::Store`].
    pub async fn authenticate(&self, raw: &str) -> Result<Authenticated, TokenError> {
        let engine = self.engine();
        let token = self.validate_bearer(raw).await?;
        let user_id = self.bearer_user_id(&engine, &token)?;
        let user = self.ports.users.find_by_id(&user_id).await?.ok_or(TokenError::UserNotFound)?;
        if engine.settings().check_user_is_active && !user.is_active {
            return Err(TokenError::UserInactive);
        }
        if engine.settings().check_revoke_token && !revoke_claim_matches(&engine, &token, &user) {
            return Err(TokenError::PasswordChanged);
        }
        Ok(Authenticated { user, token })
    }

    /// Authenticate a bearer token without any user lookup (`JWTStatelessUserAuthentication`):
    /// the user is built from the token's claims.
    ///
    /// # Errors
    /// Those of [`TokenService::validate_bearer`], then [`TokenError::NoUserId`].
    pub async fn authenticate_stateless(&self, raw: &str) -> Result<(TokenUser, AuthToken), TokenError> {
        let engine = self.engine();
        let token = self.validate_bearer(raw).await?;
        let user_id = engine.user_id_of(token.claims()).ok_or(TokenError::NoUserId)?;
        Ok((TokenUser::from_claims(user_id, token.claims().clone()), token))
    }

    async fn authenticate_credentials(&self, credentials: Credentials<'_>) -> Result<User, TokenError> {
        let user = self.ports.users.find_by_username(credentials.username).await?;
        let hash = user.as_ref().map(|u| u.password_hash.as_str()).filter(|h| !h.is_empty());
        let check = self.ports.hasher.verify(credentials.password, hash).await?;
        let user = match (user, check) {
            (Some(user), PasswordCheck::Match | PasswordCheck::MatchNeedsRehash) => user,
            _ => return Err(TokenError::BadCredentials),
        };
        if self.engine().settings().check_user_is_active && !user.is_active {
            return Err(TokenError::BadCredentials);
        }
        if check == PasswordCheck::MatchNeedsRehash {
            let hash = self.ports.hasher.hash(credentials.password).await?;
            self.ports.users.update_password_hash(&user.id, &hash).await?;
        }
        Ok(user)
    }

    async fn after_login(&self, user: &User) -> Result<(), TokenError> {
        let engine = self.engine();
        if engine.settings().update_last_login {
            self.ports.users.record_login(&user.id, engine.now()).await?;
        }
        Ok(())
    }

    async fn extra_claims(&self, user: &User) -> Result<Map<String, Value>, TokenError> {
        let engine = self.engine();
        let settings = engine.settings();
        let mut extra = Map::new();
        if settings.check_revoke_token {
            extra.insert(
                settings.revoke_token_claim.clone(),
                TokenEngine::revoke_claim_value(&user.id, &user.credential_stamp).into(),
            );
        }
        for (name, value) in self.ports.claims.claims_for(user).await? {
            extra.entry(name).or_insert(value);
        }
        Ok(extra)
    }

    /// Decode, check the blacklist (before the claim checks, as simplejwt does), then check.
    async fn verify_recorded<K: crate::token::TokenKind>(
        &self,
        engine: &TokenEngine,
        raw: &str,
    ) -> Result<Verified<K>, TokenError> {
        let claims = engine.decode(raw)?;
        if engine.settings().blacklist_enabled {
            let jti = engine.jti_of(&claims)?;
            if self.ports.store.is_blacklisted(&jti).await? {
                return Err(TokenError::Blacklisted);
            }
        }
        engine.check(claims)
    }

    /// simplejwt master's refresh user checks; only when the token names a user.
    async fn check_token_user<T: TokenClaims>(
        &self,
        engine: &TokenEngine,
        token: &T,
        token_type: TokenType,
        raw: &str,
    ) -> Result<(), TokenError> {
        let settings = engine.settings();
        let user_id = match engine.user_id_of(token.claims()) {
            Some(id) => id,
            // simplejwt only checks users when the token names one...
            None if !claim_is_truthy(token.claims().get(&settings.user_id_claim)) => return Ok(()),
            // ...and a user id claim that cannot name any user names no active account.
            None => return Err(TokenError::NoActiveAccountForToken),
        };
        let user = self.ports.users.find_by_id(&user_id).await?.ok_or(TokenError::NoActiveAccountForToken)?;
        if settings.check_user_is_active && !user.is_active {
            return Err(TokenError::NoActiveAccountForToken);
        }
        if settings.check_revoke_token
            && token.claims().get_str(&settings.revoke_token_claim)
                != Some(TokenEngine::revoke_claim_value(&user.id, &user.credential_stamp).as_str())
        {
            if settings.blacklist_enabled {
                let record = verified_record(engine, token, token_type, raw)?;
                self.ports.store.blacklist(&record, engine.now()).await?;
            }
            return Err(TokenError::PasswordChanged);
        }
        Ok(())
    }

    /// Within the grace period a rotated token gets its child again, but only while that
    /// child is live: once it is blacklisted (rotated on, logged out, or revoked with its
    /// family or user) the session is over and the replay gets nothing, not even an access
    /// token.
    async fn check_grace_child(&self, child: &Jti) -> Result<(), TokenError> {
        if self.ports.store.is_blacklisted(child).await? { Err(TokenError::Blacklisted) } else { Ok(()) }
    }

    /// A refresh token already rotated or blacklisted came back.
    async fn reused(&self, record: &TokenRecord, engine: &TokenEngine) -> TokenError {
        if record.replaced_by.is_some()
            && engine.settings().revoke_family_on_reuse
            && let Err(e) = self
                .ports
                .store
                .revoke_family(&record.token.family_id, engine.now(), still_valid_at(engine))
                .await
        {
            return e.into();
        }
        TokenError::Blacklisted
    }

    fn bearer_user_id(&self, engine: &TokenEngine, token: &AuthToken) -> Result<UserId, TokenError> {
        match engine.user_id_of(token.claims()) {
            Some(id) => Ok(id),
            None if token.claims().contains(&engine.settings().user_id_claim) => {
                Err(TokenError::UserNotFound)
            }
            None => Err(TokenError::NoUserId),
        }
    }
}

/// Python truthiness of a claim value, as simplejwt's `if user_id:` sees it.
fn claim_is_truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::Bool(true)) => true,
    }
}

fn within_grace(engine: &TokenEngine, used_at: Timestamp) -> bool {
    let grace = engine.settings().rotation_grace_period;
    !grace.is_zero() && engine.now() <= used_at.plus(grace)
}

/// The instant a token must outlive to still verify: now minus `leeway`.
fn still_valid_at(engine: &TokenEngine) -> Timestamp {
    engine.now().minus(engine.settings().leeway)
}

fn revoke_claim_matches(engine: &TokenEngine, token: &AuthToken, user: &User) -> bool {
    let expected = TokenEngine::revoke_claim_value(&user.id, &user.credential_stamp);
    let found = token.claims().get_str(&engine.settings().revoke_token_claim).unwrap_or_default();
    subtle::ConstantTimeEq::ct_eq(found.as_bytes(), expected.as_bytes()).into()
}

/// SHA-256 of an encoded token: what the store keeps instead of the token.
pub fn digest(raw: &str) -> [u8; 32] {
    Sha256::digest(raw.as_bytes()).into()
}

/// The record of a token just issued to `user_id`.
fn issued_record<K: crate::token::TokenKind>(
    engine: &TokenEngine,
    token: &Issued<K>,
    token_type: TokenType,
    user_id: &UserId,
) -> Result<OutstandingToken, TokenError> {
    let jti = token.jti().cloned().ok_or(TokenError::NoId)?;
    Ok(OutstandingToken {
        family_id: FamilyId::rooted_at(&jti),
        jti,
        token_type,
        user_id: Some(user_id.clone()),
        parent_jti: None,
        token_digest: digest(token.as_str()),
        created_at: engine.now(),
        expires_at: recorded_expiry(engine, token, token_type, token.expiry()),
    })
}

/// Until when the store must keep a token (and its blacklist entry): its `exp`, but for a
/// sliding token the last moment a refreshed copy can still be valid. Every copy shares the
/// jti, and one refreshed just before `refresh_exp` (plus leeway) lives one sliding lifetime
/// more; recording the first copy's `exp` would let "log out everywhere" miss refreshed
/// copies and a flush forget that they are blacklisted.
fn recorded_expiry<T: TokenClaims>(
    engine: &TokenEngine,
    token: &T,
    token_type: TokenType,
    exp: Timestamp,
) -> Timestamp {
    let settings = engine.settings();
    let refresh_exp = token.claims().get_timestamp(&settings.sliding_token_refresh_exp_claim);
    match refresh_exp {
        Some(refresh_exp) if token_type == TokenType::Sliding => {
            exp.max(refresh_exp.plus(settings.leeway).plus(settings.sliding_token_lifetime))
        }
        _ => exp,
    }
}

/// The record of a verified token, used when the store must create it (get-or-create).
fn verified_record<T: TokenClaims>(
    engine: &TokenEngine,
    token: &T,
    token_type: TokenType,
    raw: &str,
) -> Result<OutstandingToken, TokenError> {
    let jti = engine.jti_of(token.claims())?;
    let now = engine.now();
    Ok(OutstandingToken {
        family_id: FamilyId::rooted_at(&jti),
        jti,
        token_type,
        user_id: engine.user_id_of(token.claims()),
        parent_jti: None,
        token_digest: digest(raw),
        created_at: token.claims().get_timestamp("iat").unwrap_or(now),
        expires_at: recorded_expiry(engine, token, token_type, token.expires_at().unwrap_or(now)),
    })
}

#[cfg(test)]
#[cfg(feature = "memory")]
mod tests;
