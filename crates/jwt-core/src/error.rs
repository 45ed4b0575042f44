//! Errors of the token engine, with simplejwt's machine codes and English messages.

use std::error::Error as StdError;

use crate::token::TokenType;

/// Why a token failed verification (never shown to clients: they see "Token is invalid").
///
/// Kept for logs and metrics ("tokens rejected by reason").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvalidReason {
    /// Not three base64url segments of JSON, or longer than the configured limit.
    Malformed,
    /// Longer than `max_token_bytes`.
    TooLarge,
    /// The header names an algorithm that the selected key does not allow (including `none`).
    Algorithm,
    /// The header's `kid` names no key of the key set.
    UnknownKey,
    /// The signature does not match.
    Signature,
    /// `iat` or `nbf` lies in the future.
    NotYetValid,
    /// `aud` does not match the configured audience.
    Audience,
    /// `iss` does not match the configured issuer.
    Issuer,
    /// A registered claim has the wrong JSON type (`exp` not a number, `sub` not a string, ...).
    ClaimType,
}

impl InvalidReason {
    /// Stable label for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::TooLarge => "too_large",
            Self::Algorithm => "algorithm",
            Self::UnknownKey => "unknown_kid",
            Self::Signature => "signature",
            Self::NotYetValid => "not_yet_valid",
            Self::Audience => "audience",
            Self::Issuer => "issuer",
            Self::ClaimType => "claim_type",
        }
    }
}

/// Why one token type rejected a token, for the `messages` list of a failed authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeFailure {
    /// The simplejwt class name (`AccessToken`, `SlidingToken`, ...).
    pub token_class: &'static str,
    /// The token type tried.
    pub token_type: TokenType,
    /// The message of the error it failed with.
    pub message: String,
}

/// Everything that can go wrong when issuing, verifying, refreshing or revoking tokens.
///
/// `Display` is the exact English message of simplejwt; [`TokenError::code`] is the stable
/// machine code clients branch on.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Bad signature, wrong algorithm, malformed, future `iat`/`nbf`, wrong `aud`/`iss`.
    #[error("Token is invalid")]
    Invalid(InvalidReason),
    /// `exp` has passed.
    #[error("Token is expired")]
    Expired,
    /// The jti claim is missing.
    #[error("Token has no id")]
    NoId,
    /// The token type claim is missing.
    #[error("Token has no type")]
    NoType,
    /// The token type claim names another type.
    #[error("Token has wrong type")]
    WrongType,
    /// A required claim (`exp`, `refresh_exp`) is missing.
    #[error("Token has no '{0}' claim")]
    MissingClaim(String),
    /// A time claim other than `exp` (such as `refresh_exp`) has passed.
    #[error("Token '{0}' claim has expired")]
    ClaimExpired(String),
    /// The token was blacklisted (logout, rotation, revocation).
    #[error("Token is blacklisted")]
    Blacklisted,
    /// No configured token type accepts the token (bearer authentication).
    #[error("Given token not valid for any token type")]
    NotValidForAnyType(Vec<TypeFailure>),
    /// The token carries no user id claim.
    #[error("Token contained no recognizable user identification")]
    NoUserId,
    /// The token's user does not exist.
    #[error("User not found")]
    UserNotFound,
    /// The token's user is inactive.
    #[error("User is inactive")]
    UserInactive,
    /// The user's credentials changed since the token was issued (`check_revoke_token`).
    #[error("The user's password has been changed.")]
    PasswordChanged,
    /// The authorization header is not exactly `<type> <token>`.
    #[error("Authorization header must contain two space-delimited values")]
    BadAuthorizationHeader,
    /// No credentials were sent.
    #[error("Authentication credentials were not provided.")]
    NotAuthenticated,
    /// Credentials were refused for a reason of the application's own (DRF's default
    /// `AuthenticationFailed`). The engine never raises it; adapters and embedding apps may.
    #[error("Incorrect authentication credentials.")]
    AuthenticationFailed,
    /// Login failed: unknown user, wrong password or inactive user (indistinguishable on purpose).
    #[error("No active account found with the given credentials")]
    BadCredentials,
    /// A refresh token's user is missing or inactive.
    #[error("No active account found for the given token.")]
    NoActiveAccountForToken,
    /// The token store or user repository failed.
    #[error("token store failed")]
    Store(#[source] StoreError),
    /// The password hasher failed.
    #[error("password hashing failed")]
    Hasher(#[source] HashError),
    /// A token could not be signed (bad key material, randomness failure).
    #[error("token could not be signed")]
    Signing(String),
}

impl TokenError {
    /// Stable machine code. Never change a value once released.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_)
            | Self::Expired
            | Self::NoId
            | Self::NoType
            | Self::WrongType
            | Self::MissingClaim(_)
            | Self::ClaimExpired(_)
            | Self::Blacklisted
            | Self::NotValidForAnyType(_)
            | Self::NoUserId => "token_not_valid",
            Self::UserNotFound => "user_not_found",
            Self::UserInactive => "user_inactive",
            Self::PasswordChanged => "password_changed",
            Self::BadAuthorizationHeader => "bad_authorization_header",
            Self::NotAuthenticated => "not_authenticated",
            Self::AuthenticationFailed => "authentication_failed",
            Self::BadCredentials | Self::NoActiveAccountForToken => "no_active_account",
            Self::Store(StoreError::Unavailable(_)) => "service_unavailable",
            Self::Store(_) | Self::Hasher(_) | Self::Signing(_) => "internal_error",
        }
    }

    /// Label for the "rejected tokens by reason" metric.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Invalid(reason) => reason.as_str(),
            Self::Expired => "expired",
            Self::NoId => "no_id",
            Self::NoType => "no_type",
            Self::WrongType => "wrong_type",
            Self::MissingClaim(_) => "missing_claim",
            Self::ClaimExpired(_) => "claim_expired",
            Self::Blacklisted => "blacklisted",
            Self::NotValidForAnyType(_) => "no_valid_type",
            _ => self.code(),
        }
    }

    /// `true` for failures of our own infrastructure rather than of the caller's input.
    pub fn is_internal(&self) -> bool {
        matches!(self, Self::Store(_) | Self::Hasher(_) | Self::Signing(_))
    }
}

impl From<StoreError> for TokenError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<HashError> for TokenError {
    fn from(e: HashError) -> Self {
        Self::Hasher(e)
    }
}

/// A boxed error from an adapter, kept as the `source` for logs.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Failure of a [`crate::ports::TokenStore`] or [`crate::ports::UserRepository`].
///
/// Adapters translate their own errors (database, network) into these; nothing
/// infrastructure-specific crosses a port.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value (jti, username) is already taken.
    #[error("record already exists")]
    Conflict,
    /// The backend cannot be reached right now; retrying later may succeed.
    #[error("storage unavailable")]
    Unavailable(#[source] BoxError),
    /// Any other backend failure.
    #[error("storage backend failed")]
    Backend(#[source] BoxError),
}

impl StoreError {
    /// Wrap a backend error.
    pub fn backend(e: impl Into<BoxError>) -> Self {
        Self::Backend(e.into())
    }

    /// Wrap a connectivity error.
    pub fn unavailable(e: impl Into<BoxError>) -> Self {
        Self::Unavailable(e.into())
    }
}

/// Failure of a [`crate::ports::PasswordHasher`] (not a wrong password, which is a normal outcome).
#[derive(Debug, thiserror::Error)]
#[error("password hasher failed: {0}")]
pub struct HashError(pub String);

/// Failure of a [`crate::ports::SecureRandom`].
#[derive(Debug, Clone, thiserror::Error)]
#[error("secure random source failed")]
pub struct RandomError;

/// A setting, key or key set that cannot work. The message is one sentence for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A setting has a value outside its domain.
    #[error("{0}")]
    Invalid(String),
    /// An algorithm name is not one we support.
    #[error("Unrecognized algorithm type '{0}'")]
    UnknownAlgorithm(String),
    /// Key material cannot be parsed or does not fit the algorithm.
    #[error("{0}")]
    Key(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_simplejwt_catalogue() {
        assert_eq!(TokenError::Invalid(InvalidReason::Signature).to_string(), "Token is invalid");
        assert_eq!(TokenError::MissingClaim("exp".into()).to_string(), "Token has no 'exp' claim");
        assert_eq!(
            TokenError::ClaimExpired("refresh_exp".into()).to_string(),
            "Token 'refresh_exp' claim has expired"
        );
        assert_eq!(TokenError::PasswordChanged.to_string(), "The user's password has been changed.");
        assert_eq!(TokenError::BadAuthorizationHeader.code(), "bad_authorization_header");
        assert_eq!(TokenError::AuthenticationFailed.code(), "authentication_failed");
        assert_eq!(TokenError::AuthenticationFailed.to_string(), "Incorrect authentication credentials.");
        assert_eq!(TokenError::NoUserId.code(), "token_not_valid");
        assert_eq!(TokenError::Store(StoreError::unavailable("down")).code(), "service_unavailable");
    }
}
