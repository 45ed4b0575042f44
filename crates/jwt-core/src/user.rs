//! Users as the engine sees them.

use std::fmt;

use serde_json::{Map, Value};

use crate::claims::Claims;
use crate::ids::UserId;
use crate::time::Timestamp;

/// A user account, as returned by a [`crate::ports::UserRepository`].
#[derive(Clone, PartialEq)]
pub struct User {
    /// Primary key, written into tokens as the user id claim.
    pub id: UserId,
    /// Unique login name.
    pub username: String,
    /// E-mail address (may be empty).
    pub email: String,
    /// Encoded password hash (`$argon2id$...` or Django's `pbkdf2_sha256$...`); empty if the
    /// user cannot log in with a password.
    pub password_hash: String,
    /// Inactive users cannot log in, refresh or authenticate (with `check_user_is_active`).
    pub is_active: bool,
    /// Django's `is_staff`.
    pub is_staff: bool,
    /// Django's `is_superuser`.
    pub is_superuser: bool,
    /// Extra claims to put in this user's tokens (roles, groups, ...).
    pub claims: Map<String, Value>,
    /// Changes on password change or "log out everywhere"; tokens carry a digest of it when
    /// `check_revoke_token` is on.
    pub credential_stamp: String,
    /// When the account was created.
    pub date_joined: Timestamp,
    /// Last successful login, if recorded.
    pub last_login: Option<Timestamp>,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("email", &self.email)
            .field("password_hash", &"[redacted]")
            .field("is_active", &self.is_active)
            .field("is_staff", &self.is_staff)
            .field("is_superuser", &self.is_superuser)
            .field("claims", &self.claims)
            .field("credential_stamp", &"[redacted]")
            .field("date_joined", &self.date_joined)
            .field("last_login", &self.last_login)
            .finish()
    }
}

/// A user known only from a verified token, with no database lookup
/// (simplejwt's `TokenUser`, returned by stateless authentication).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenUser {
    /// The user id claim.
    pub id: UserId,
    /// The `username` claim, or empty.
    pub username: String,
    /// The `is_staff` claim, or `false`.
    pub is_staff: bool,
    /// The `is_superuser` claim, or `false`.
    pub is_superuser: bool,
    /// Every claim of the token, for custom ones.
    pub claims: Claims,
}

impl TokenUser {
    pub(crate) fn from_claims(id: UserId, claims: Claims) -> Self {
        let flag = |name: &str| claims.get(name).and_then(Value::as_bool).unwrap_or(false);
        Self {
            username: claims.get_str("username").unwrap_or_default().to_owned(),
            is_staff: flag("is_staff"),
            is_superuser: flag("is_superuser"),
            id,
            claims,
        }
    }
}
