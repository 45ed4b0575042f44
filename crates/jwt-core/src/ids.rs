//! Identifiers: token ids, user ids, token families.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// Longest identifier we accept (the width of the `jti` column).
pub const MAX_ID_LEN: usize = 255;

/// A token's unique id, the `jti` claim.
///
/// Tokens minted here carry 32 lowercase hex characters shaped like a UUID v4
/// (simplejwt's `uuid4().hex`); tokens minted elsewhere may carry any non-empty string
/// of at most [`MAX_ID_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Jti(String);

impl Jti {
    /// Parse a `jti` claim value.
    ///
    /// # Errors
    /// [`IdError`] if the value is empty or longer than [`MAX_ID_LEN`].
    pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
        let value = value.into();
        check_id(&value)?;
        Ok(Self(value))
    }

    /// Build a jti from 16 random bytes: UUID v4 bits set, rendered as 32 hex chars.
    pub fn from_random_bytes(mut bytes: [u8; 16]) -> Self {
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Self(hex_lower(&bytes))
    }

    /// The jti as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Jti {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Jti {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<Jti> for String {
    fn from(value: Jti) -> Self {
        value.0
    }
}

/// A user's id as it appears in the user id claim (always a string, as simplejwt 5.5 writes it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(String);

impl UserId {
    /// Parse a user id.
    ///
    /// # Errors
    /// [`IdError`] if the value is empty or longer than [`MAX_ID_LEN`].
    pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
        let value = value.into();
        check_id(&value)?;
        Ok(Self(value))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<i64> for UserId {
    fn from(value: i64) -> Self {
        Self(value.to_string())
    }
}

impl TryFrom<String> for UserId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<UserId> for String {
    fn from(value: UserId) -> Self {
        value.0
    }
}

/// One login: every refresh token rotated from the same original token shares a family.
///
/// The family id is the `jti` of the family's first refresh token.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FamilyId(Jti);

impl FamilyId {
    /// The family started by the token `root`.
    pub fn rooted_at(root: &Jti) -> Self {
        Self(root.clone())
    }

    /// The family id as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Parse a stored family id.
    ///
    /// # Errors
    /// [`IdError`] as for [`Jti::parse`].
    pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
        Jti::parse(value).map(Self)
    }
}

impl fmt::Display for FamilyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A value that cannot be an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The value is empty.
    #[error("identifier is empty")]
    Empty,
    /// The value is longer than [`MAX_ID_LEN`] bytes.
    #[error("identifier is longer than {MAX_ID_LEN} bytes")]
    TooLong,
    /// The value contains a control character (NUL, newline, ...), which no database column
    /// or log line should ever carry.
    #[error("identifier contains a control character")]
    ControlCharacter,
}

impl From<IdError> for ConfigError {
    fn from(e: IdError) -> Self {
        ConfigError::Invalid(e.to_string())
    }
}

fn check_id(value: &str) -> Result<(), IdError> {
    if value.is_empty() {
        Err(IdError::Empty)
    } else if value.len() > MAX_ID_LEN {
        Err(IdError::TooLong)
    } else if value.chars().any(char::is_control) {
        Err(IdError::ControlCharacter)
    } else {
        Ok(())
    }
}

/// Lowercase hex of `bytes` (jti values, credential stamps, token digests).
pub fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_jti_is_uuid4_hex() {
        let jti = Jti::from_random_bytes([0xff; 16]);
        assert_eq!(jti.as_str().len(), 32);
        assert_eq!(&jti.as_str()[12..13], "4");
        assert!(matches!(&jti.as_str()[16..17], "8" | "9" | "a" | "b"));
        assert!(jti.as_str().bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }

    #[test]
    fn ids_reject_empty_and_oversized() {
        assert_eq!(Jti::parse(""), Err(IdError::Empty));
        assert_eq!(UserId::parse("x".repeat(256)), Err(IdError::TooLong));
        assert!(UserId::parse("42").is_ok());
        assert_eq!(Jti::parse("abc\0def"), Err(IdError::ControlCharacter));
        assert_eq!(UserId::parse("1\n2"), Err(IdError::ControlCharacter));
        assert!(Jti::parse("üñí-cödé").is_ok());
    }
}
