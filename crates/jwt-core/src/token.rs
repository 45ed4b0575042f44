//! Token types and their states: a token is only ever *issued* (minted here) or *verified*.

use std::fmt;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::claims::Claims;
use crate::ids::{Jti, UserId};
use crate::time::Timestamp;

/// The value of the token type claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    /// Short-lived token that authenticates requests.
    Access,
    /// Long-lived token exchanged for access tokens.
    Refresh,
    /// One token that both authenticates and can be refreshed until `refresh_exp`.
    Sliding,
}

impl TokenType {
    /// The claim value: `access`, `refresh` or `sliding`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
            Self::Sliding => "sliding",
        }
    }

    /// The simplejwt class name, used in authentication failure messages.
    pub fn class_name(self) -> &'static str {
        match self {
            Self::Access => "AccessToken",
            Self::Refresh => "RefreshToken",
            Self::Sliding => "SlidingToken",
        }
    }

    /// Parse a claim value.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "access" => Some(Self::Access),
            "refresh" => Some(Self::Refresh),
            "sliding" => Some(Self::Sliding),
            _ => None,
        }
    }

    /// Whether tokens of this type are recorded and checked against the blacklist.
    pub fn is_blacklistable(self) -> bool {
        matches!(self, Self::Refresh | Self::Sliding)
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A kind of token at the type level: [`Access`], [`Refresh`], [`Sliding`] or [`Untyped`].
pub trait TokenKind: sealed::Sealed + Send + Sync + 'static {
    /// The type claim this kind requires; `None` accepts any type (simplejwt's `UntypedToken`).
    const TYPE: Option<TokenType>;
}

/// Marker: an access token.
#[derive(Debug, Clone, Copy)]
pub enum Access {}
/// Marker: a refresh token.
#[derive(Debug, Clone, Copy)]
pub enum Refresh {}
/// Marker: a sliding token.
#[derive(Debug, Clone, Copy)]
pub enum Sliding {}
/// Marker: a token of any type (what the verify endpoint accepts).
#[derive(Debug, Clone, Copy)]
pub enum Untyped {}

impl sealed::Sealed for Access {}
impl sealed::Sealed for Refresh {}
impl sealed::Sealed for Sliding {}
impl sealed::Sealed for Untyped {}
impl TokenKind for Access {
    const TYPE: Option<TokenType> = Some(TokenType::Access);
}
impl TokenKind for Refresh {
    const TYPE: Option<TokenType> = Some(TokenType::Refresh);
}
impl TokenKind for Sliding {
    const TYPE: Option<TokenType> = Some(TokenType::Sliding);
}
impl TokenKind for Untyped {
    const TYPE: Option<TokenType> = None;
}

/// The claims every state exposes.
pub trait TokenClaims {
    /// All claims, in order.
    fn claims(&self) -> &Claims;

    /// The `exp` claim.
    fn expires_at(&self) -> Option<Timestamp> {
        self.claims().get_timestamp("exp")
    }
}

/// A token whose signature and claims passed every check for kind `K`.
///
/// Only the engine makes these, so a function taking `Verified<Refresh>` cannot be handed
/// an unchecked string or an access token.
#[derive(Debug, Clone)]
pub struct Verified<K: TokenKind> {
    claims: Claims,
    jti: Option<Jti>,
    user_id: Option<UserId>,
    token_type: Option<TokenType>,
    _kind: PhantomData<K>,
}

impl<K: TokenKind> Verified<K> {
    pub(crate) fn new(
        claims: Claims,
        jti: Option<Jti>,
        user_id: Option<UserId>,
        token_type: Option<TokenType>,
    ) -> Self {
        Self { claims, jti, user_id, token_type, _kind: PhantomData }
    }

    /// The `jti` (always present when a jti claim is configured).
    pub fn jti(&self) -> Option<&Jti> {
        self.jti.as_ref()
    }

    /// The user id claim, if the token carries one (strings and integers are accepted).
    pub fn user_id(&self) -> Option<&UserId> {
        self.user_id.as_ref()
    }

    /// The token type claim, if it names a known type.
    pub fn token_type(&self) -> Option<TokenType> {
        self.token_type
    }

    /// Consume into the claims.
    pub fn into_claims(self) -> Claims {
        self.claims
    }
}

impl<K: TokenKind> TokenClaims for Verified<K> {
    fn claims(&self) -> &Claims {
        &self.claims
    }
}

/// A token just minted: its encoded form and the claims inside it.
///
/// `Debug` shows the claims but never the encoded token (a bearer credential); `Display`
/// and [`Issued::as_str`] give the token itself.
#[derive(Clone)]
pub struct Issued<K: TokenKind> {
    encoded: String,
    claims: Claims,
    jti: Option<Jti>,
    expires_at: Timestamp,
    _kind: PhantomData<K>,
}

impl<K: TokenKind> Issued<K> {
    pub(crate) fn new(encoded: String, claims: Claims, jti: Option<Jti>, expires_at: Timestamp) -> Self {
        Self { encoded, claims, jti, expires_at, _kind: PhantomData }
    }

    /// The compact JWS (`header.payload.signature`).
    pub fn as_str(&self) -> &str {
        &self.encoded
    }

    /// The token's jti (`None` only when the jti claim is disabled).
    pub fn jti(&self) -> Option<&Jti> {
        self.jti.as_ref()
    }

    /// When the token expires.
    pub fn expiry(&self) -> Timestamp {
        self.expires_at
    }

    /// Consume into the encoded string.
    pub fn into_string(self) -> String {
        self.encoded
    }
}

impl<K: TokenKind> fmt::Debug for Issued<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issued")
            .field("encoded", &"[redacted]")
            .field("claims", &self.claims)
            .field("jti", &self.jti)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl<K: TokenKind> TokenClaims for Issued<K> {
    fn claims(&self) -> &Claims {
        &self.claims
    }
}

impl<K: TokenKind> fmt::Display for Issued<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encoded)
    }
}

/// An access token and the refresh token it was derived from.
#[derive(Debug, Clone)]
pub struct TokenPair {
    /// The refresh token.
    pub refresh: Issued<Refresh>,
    /// The access token.
    pub access: Issued<Access>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_encoded_token() {
        let mut claims = Claims::new();
        claims.set("user_id", "1");
        let refresh = Issued::<Refresh>::new("hdr.payload.signature".into(), claims, None, Timestamp::EPOCH);
        let access =
            Issued::<Access>::new("hdr2.payload2.sig2".into(), Claims::new(), None, Timestamp::EPOCH);
        let pair = TokenPair { refresh, access };
        let debug = format!("{pair:?}");
        assert!(!debug.contains("signature") && !debug.contains("sig2"), "{debug}");
        assert!(debug.contains("user_id"), "claims stay visible: {debug}");
        assert_eq!(pair.refresh.to_string(), "hdr.payload.signature");
    }
}
