//! The synchronous token engine: mint, sign, verify and apply claim rules. No I/O.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::algorithm::Algorithm;
use crate::claims::{Claims, numeric_date};
use crate::error::{ConfigError, InvalidReason, TokenError};
use crate::ids::{Jti, UserId, hex_lower};
use crate::jws;
use crate::keys::KeySet;
use crate::ports::{Clock, SecureRandom};
use crate::settings::Settings;
use crate::system::{OsRandom, SystemClock};
use crate::time::{Timestamp, duration_secs};
use crate::token::{Issued, Refresh, Sliding, TokenClaims, TokenKind, TokenType, Verified};

/// Claims never copied from a refresh token into the access token derived from it, besides
/// the configured type and jti claims (simplejwt's `no_copy_claims`).
const NO_COPY_CLAIMS: [&str; 3] = ["exp", "jti", "iat"];

/// Registered claims a [`crate::ports::ClaimsProvider`] cannot override.
const RESERVED_CLAIMS: [&str; 5] = ["exp", "iat", "jti", "nbf", "refresh_exp"];

/// Mints and verifies tokens under one [`Settings`] and [`KeySet`].
///
/// Everything here is synchronous and deterministic given the injected [`Clock`] and
/// [`SecureRandom`]; storage-dependent steps (blacklist, users) live in
/// [`crate::TokenService`].
#[derive(Debug)]
pub struct TokenEngine {
    settings: Settings,
    keys: KeySet,
    clock: Arc<dyn Clock>,
    random: Arc<dyn SecureRandom>,
}

impl TokenEngine {
    /// An engine on the system clock and the OS random source.
    ///
    /// # Errors
    /// [`ConfigError`] if the settings are invalid or the signing key does not match
    /// `settings.algorithm`.
    pub fn new(settings: Settings, keys: KeySet) -> Result<Self, ConfigError> {
        Self::with_details(settings, keys, Arc::new(SystemClock), Arc::new(OsRandom::new()))
    }

    /// An engine with every source of non-determinism injected.
    ///
    /// # Errors
    /// As for [`TokenEngine::new`].
    pub fn with_details(
        settings: Settings,
        keys: KeySet,
        clock: Arc<dyn Clock>,
        random: Arc<dyn SecureRandom>,
    ) -> Result<Self, ConfigError> {
        settings.validate()?;
        let key_alg = keys.signing_key().algorithm();
        if key_alg != settings.algorithm {
            return Err(ConfigError::Key(format!(
                "the signing key is a {key_alg} key but the algorithm setting is {}",
                settings.algorithm
            )));
        }
        Ok(Self { settings, keys, clock, random })
    }

    /// The same engine with another key set (key rotation).
    ///
    /// # Errors
    /// [`ConfigError::Key`] if the new signing key does not match the algorithm setting.
    pub fn with_keys(&self, keys: KeySet) -> Result<Self, ConfigError> {
        Self::with_details(self.settings.clone(), keys, self.clock.clone(), self.random.clone())
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The keys.
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// The signing algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.settings.algorithm
    }

    /// The injected clock's time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The injected random source.
    pub fn random(&self) -> &dyn SecureRandom {
        self.random.as_ref()
    }

    /// A fresh token id.
    ///
    /// # Errors
    /// [`TokenError::Signing`] if the random source fails.
    pub fn new_jti(&self) -> Result<Jti, TokenError> {
        let mut bytes = [0u8; 16];
        self.random.fill(&mut bytes).map_err(|e| TokenError::Signing(e.to_string()))?;
        Ok(Jti::from_random_bytes(bytes))
    }

    /// A new refresh token for `user_id` carrying `extra` claims (simplejwt's
    /// `RefreshToken.for_user` plus `get_token` customisations).
    ///
    /// # Errors
    /// [`TokenError::Signing`] if signing or the random source fails.
    pub fn refresh_for(
        &self,
        user_id: &UserId,
        extra: &Map<String, Value>,
    ) -> Result<Issued<Refresh>, TokenError> {
        let now = self.now();
        let (mut claims, jti) =
            self.base_claims(TokenType::Refresh, now, self.settings.refresh_token_lifetime)?;
        self.add_user_claims(&mut claims, user_id, extra);
        self.issue(claims, jti)
    }

    /// A new sliding token for `user_id` carrying `extra` claims.
    ///
    /// # Errors
    /// [`TokenError::Signing`] if signing or the random source fails.
    pub fn sliding_for(
        &self,
        user_id: &UserId,
        extra: &Map<String, Value>,
    ) -> Result<Issued<Sliding>, TokenError> {
        let now = self.now();
        let (mut claims, jti) =
            self.base_claims(TokenType::Sliding, now, self.settings.sliding_token_lifetime)?;
        claims.set(
            self.settings.sliding_token_refresh_exp_claim.clone(),
            now.plus(self.settings.sliding_token_refresh_lifetime).as_secs(),
        );
        self.add_user_claims(&mut claims, user_id, extra);
        self.issue(claims, jti)
    }

    /// An access token derived from a refresh token: fresh `exp`/`iat`/`jti`, every other
    /// claim copied (simplejwt's `RefreshToken.access_token`).
    ///
    /// # Errors
    /// [`TokenError::Signing`] if signing or the random source fails.
    pub fn access_from<R: DerivesAccess>(
        &self,
        refresh: &R,
    ) -> Result<Issued<crate::token::Access>, TokenError> {
        let now = self.now();
        let (mut claims, jti) =
            self.base_claims(TokenType::Access, now, self.settings.access_token_lifetime)?;
        let type_claim = self.settings.token_type_claim.as_deref();
        let jti_claim = self.settings.jti_claim.as_deref();
        for (name, value) in refresh.claims().iter() {
            let name = name.as_str();
            if NO_COPY_CLAIMS.contains(&name) || Some(name) == type_claim || Some(name) == jti_claim {
                continue;
            }
            claims.set(name, value.clone());
        }
        self.issue(claims, jti)
    }

    /// The refresh token that replaces `old` on rotation: same claims, new `jti`, and
    /// `exp`/`iat` counted from `at`.
    ///
    /// # Errors
    /// [`TokenError::Signing`] if signing fails.
    pub fn rotated(
        &self,
        old: &Verified<Refresh>,
        jti: &Jti,
        at: Timestamp,
    ) -> Result<Issued<Refresh>, TokenError> {
        let mut claims = old.claims().clone();
        let jti = self.settings.jti_claim.as_ref().map(|name| {
            claims.set(name.clone(), jti.as_str());
            jti.clone()
        });
        claims.set("exp", at.plus(self.settings.refresh_token_lifetime).as_secs());
        claims.set("iat", at.as_secs());
        self.issue(claims, jti)
    }

    /// Extend a sliding token: new `exp`/`iat`, same `jti`, provided `refresh_exp` has not
    /// passed (simplejwt's sliding refresh).
    ///
    /// # Errors
    /// - [`TokenError::MissingClaim`] without a `refresh_exp` claim.
    /// - [`TokenError::ClaimExpired`] once `refresh_exp` has passed.
    /// - [`TokenError::Signing`] if signing fails.
    pub fn slid(&self, old: &Verified<Sliding>) -> Result<Issued<Sliding>, TokenError> {
        let name = &self.settings.sliding_token_refresh_exp_claim;
        let now = self.now();
        let refresh_exp = match old.claims().get(name) {
            None => return Err(TokenError::MissingClaim(name.clone())),
            Some(value) => numeric_date(value).ok_or(TokenError::Invalid(InvalidReason::ClaimType))?,
        };
        if refresh_exp <= now.minus(self.settings.leeway).as_secs() {
            return Err(TokenError::ClaimExpired(name.clone()));
        }
        let mut claims = old.claims().clone();
        claims.set("exp", now.plus(self.settings.sliding_token_lifetime).as_secs());
        claims.set("iat", now.as_secs());
        self.issue(claims, old.jti().cloned())
    }

    /// Verify `raw` as a token of kind `K`, without consulting the blacklist.
    ///
    /// # Errors
    /// Every verification failure of [`TokenEngine::decode`], then of simplejwt's own claim
    /// checks (`exp` present, `jti` present, type claim equal to `K`'s).
    pub fn verify<K: TokenKind>(&self, raw: &str) -> Result<Verified<K>, TokenError> {
        self.decode(raw).and_then(|claims| self.check(claims))
    }

    /// Check signature, algorithm, key, and the registered claims PyJWT checks (`iat` and
    /// `nbf` not in the future, `exp` not passed, `iss`, `aud`, `sub`/`jti` types).
    ///
    /// # Errors
    /// [`TokenError::Expired`] if `exp` has passed; [`TokenError::Invalid`] for all else.
    pub fn decode(&self, raw: &str) -> Result<Claims, TokenError> {
        let claims = jws::decode_verified(raw, &self.keys, self.settings.max_token_bytes)
            .map_err(TokenError::Invalid)?;
        self.check_registered_claims(&claims)?;
        Ok(claims)
    }

    /// Apply simplejwt's own checks to decoded claims: `exp` present and not passed, `jti`
    /// present, type claim present and equal to `K`'s. Crate-private: only claims that came
    /// out of [`TokenEngine::decode`] may become a [`Verified`] token.
    ///
    /// # Errors
    /// [`TokenError::MissingClaim`], [`TokenError::Expired`], [`TokenError::NoId`],
    /// [`TokenError::NoType`], [`TokenError::WrongType`], or [`TokenError::Invalid`] for an
    /// id claim of the wrong type.
    pub(crate) fn check<K: TokenKind>(&self, claims: Claims) -> Result<Verified<K>, TokenError> {
        let exp = match claims.get("exp") {
            None => return Err(TokenError::MissingClaim("exp".to_owned())),
            Some(value) => numeric_date(value).ok_or(TokenError::Invalid(InvalidReason::ClaimType))?,
        };
        if exp <= self.now().minus(self.settings.leeway).as_secs() {
            return Err(TokenError::ClaimExpired("exp".to_owned()));
        }
        let jti = match &self.settings.jti_claim {
            None => None,
            Some(name) => match claims.get(name) {
                None => return Err(TokenError::NoId),
                Some(Value::String(s)) => {
                    Some(Jti::parse(s.as_str()).map_err(|_| TokenError::Invalid(InvalidReason::ClaimType))?)
                }
                Some(_) => return Err(TokenError::Invalid(InvalidReason::ClaimType)),
            },
        };
        let token_type = match &self.settings.token_type_claim {
            None => None,
            Some(name) => {
                let found = claims.get(name);
                if let Some(expected) = K::TYPE {
                    match found {
                        None => return Err(TokenError::NoType),
                        Some(value) if value.as_str() != Some(expected.as_str()) => {
                            return Err(TokenError::WrongType);
                        }
                        Some(_) => {}
                    }
                }
                found.and_then(Value::as_str).and_then(TokenType::parse)
            }
        };
        let user_id = self.user_id_of(&claims);
        Ok(Verified::new(claims, jti, user_id, token_type))
    }

    /// The jti of decoded claims, for the blacklist check that simplejwt runs before its own
    /// claim checks.
    ///
    /// # Errors
    /// [`TokenError::NoId`] if missing; [`TokenError::Invalid`] if not a usable string.
    pub fn jti_of(&self, claims: &Claims) -> Result<Jti, TokenError> {
        let name = self.settings.jti_claim.as_deref().ok_or(TokenError::NoId)?;
        match claims.get(name) {
            None => Err(TokenError::NoId),
            Some(Value::String(s)) => {
                Jti::parse(s.as_str()).map_err(|_| TokenError::Invalid(InvalidReason::ClaimType))
            }
            Some(_) => Err(TokenError::Invalid(InvalidReason::ClaimType)),
        }
    }

    /// The user id claim: a string, or an integer written as one.
    pub fn user_id_of(&self, claims: &Claims) -> Option<UserId> {
        match claims.get(&self.settings.user_id_claim)? {
            Value::String(s) => UserId::parse(s.as_str()).ok(),
            Value::Number(n) if n.is_i64() || n.is_u64() => UserId::parse(n.to_string()).ok(),
            _ => None,
        }
    }

    /// The value of the revoke claim for a user's credential stamp: an HMAC-SHA256 keyed
    /// by the stamp over the user id, as 32 uppercase hex characters. Changing the stamp
    /// (password change, logout everywhere) changes it.
    pub fn revoke_claim_value(user_id: &UserId, credential_stamp: &str) -> String {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(credential_stamp.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(user_id.as_str().as_bytes());
        let digest = mac.finalize().into_bytes();
        hex_lower(&digest[..16]).to_ascii_uppercase()
    }

    fn check_registered_claims(&self, claims: &Claims) -> Result<(), TokenError> {
        let invalid = |reason| Err(TokenError::Invalid(reason));
        let now = self.now().as_secs();
        let leeway = duration_secs(self.settings.leeway);
        let date = |name: &str| -> Result<Option<i64>, TokenError> {
            match claims.get(name) {
                None => Ok(None),
                Some(v) => numeric_date(v).map(Some).ok_or(TokenError::Invalid(InvalidReason::ClaimType)),
            }
        };
        if let Some(iat) = date("iat")?
            && iat > now.saturating_add(leeway)
        {
            return invalid(InvalidReason::NotYetValid);
        }
        if let Some(nbf) = date("nbf")?
            && nbf > now.saturating_add(leeway)
        {
            return invalid(InvalidReason::NotYetValid);
        }
        if let Some(exp) = date("exp")?
            && exp <= now.saturating_sub(leeway)
        {
            return Err(TokenError::Expired);
        }
        if let Some(issuer) = &self.settings.issuer
            && claims.get_str("iss") != Some(issuer.as_str())
        {
            return invalid(InvalidReason::Issuer);
        }
        if let Some(audience) = &self.settings.audience {
            let ok = match claims.get("aud") {
                Some(Value::String(aud)) => aud == audience,
                Some(Value::Array(auds)) => {
                    auds.iter().all(Value::is_string) && auds.iter().any(|a| a.as_str() == Some(audience))
                }
                _ => false,
            };
            if !ok {
                return invalid(InvalidReason::Audience);
            }
        }
        for name in ["sub", "jti"] {
            if claims.get(name).is_some_and(|v| !v.is_string()) {
                return invalid(InvalidReason::ClaimType);
            }
        }
        Ok(())
    }

    fn base_claims(
        &self,
        token_type: TokenType,
        now: Timestamp,
        lifetime: std::time::Duration,
    ) -> Result<(Claims, Option<Jti>), TokenError> {
        // Room for the usual claims, so that minting never regrows the map (hot path).
        let mut claims = Claims::from(Map::with_capacity(8));
        if let Some(name) = &self.settings.token_type_claim {
            claims.set(name.clone(), token_type.as_str());
        }
        claims.set("exp", now.plus(lifetime).as_secs());
        claims.set("iat", now.as_secs());
        let jti = match &self.settings.jti_claim {
            Some(name) => {
                let jti = self.new_jti()?;
                claims.set(name.clone(), jti.as_str());
                Some(jti)
            }
            None => None,
        };
        Ok((claims, jti))
    }

    fn add_user_claims(&self, claims: &mut Claims, user_id: &UserId, extra: &Map<String, Value>) {
        claims.set(self.settings.user_id_claim.clone(), user_id.as_str());
        for (name, value) in extra {
            let reserved = RESERVED_CLAIMS.contains(&name.as_str())
                || *name == self.settings.user_id_claim
                || self.settings.token_type_claim.as_ref() == Some(name)
                || self.settings.jti_claim.as_ref() == Some(name)
                || *name == self.settings.sliding_token_refresh_exp_claim;
            if !reserved {
                claims.set(name.clone(), value.clone());
            }
        }
    }

    /// Sign `claims` (whose jti claim, if configured, holds `jti`).
    fn issue<K: TokenKind>(&self, mut claims: Claims, jti: Option<Jti>) -> Result<Issued<K>, TokenError> {
        if let Some(aud) = &self.settings.audience {
            claims.set("aud", aud.as_str());
        }
        if let Some(iss) = &self.settings.issuer {
            claims.set("iss", iss.as_str());
        }
        let encoded = jws::encode(&claims, self.keys.signing_key())?;
        let expires_at = claims.get_timestamp("exp").unwrap_or(Timestamp::EPOCH);
        Ok(Issued::new(encoded, claims, jti, expires_at))
    }
}

mod sealed {
    pub trait Sealed {}
}

/// Tokens an access token can be derived from: a refresh token, issued or verified.
pub trait DerivesAccess: TokenClaims + sealed::Sealed {}
impl sealed::Sealed for Verified<Refresh> {}
impl sealed::Sealed for Issued<Refresh> {}
impl DerivesAccess for Verified<Refresh> {}
impl DerivesAccess for Issued<Refresh> {}
