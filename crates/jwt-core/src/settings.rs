//! Token settings: simplejwt's `SIMPLE_JWT` dictionary, same names in snake_case, same defaults.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::algorithm::Algorithm;
use crate::error::ConfigError;
use crate::token::TokenType;

/// Every setting that concerns tokens.
///
/// Defaults are simplejwt 5.5's. Build with [`Settings::default`] and struct update syntax,
/// or deserialize (durations accept `"5m"`, `"1day"`, `"300s"` or a number of seconds), then
/// call [`Settings::validate`] (the engine does it for you).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Lifetime of access tokens. Default 5 minutes.
    #[serde(with = "duration_serde")]
    pub access_token_lifetime: Duration,
    /// Lifetime of refresh tokens, also the new `exp` on rotation. Default 1 day.
    #[serde(with = "duration_serde")]
    pub refresh_token_lifetime: Duration,
    /// Lifetime (`exp`) of sliding tokens, renewed by each sliding refresh. Default 5 minutes.
    #[serde(with = "duration_serde")]
    pub sliding_token_lifetime: Duration,
    /// How long a sliding token can keep being refreshed (`refresh_exp`). Default 1 day.
    #[serde(with = "duration_serde")]
    pub sliding_token_refresh_lifetime: Duration,
    /// Refresh also returns a new refresh token. Default `false`.
    pub rotate_refresh_tokens: bool,
    /// Blacklist the submitted refresh token when rotating; also makes verify check the
    /// blacklist. Default `false`.
    pub blacklist_after_rotation: bool,
    /// Record refresh/sliding tokens and honour the blacklist (simplejwt's `token_blacklist`
    /// app being installed). Default `true`.
    pub blacklist_enabled: bool,
    /// Enable the sliding-token operations. Default `true`.
    pub sliding_tokens_enabled: bool,
    /// Update the user's last login time on every successful obtain. Default `false`.
    pub update_last_login: bool,
    /// Signing algorithm. Default `HS256`.
    pub algorithm: Algorithm,
    /// When set, added as `aud` to every token and required on verification. Default none.
    pub audience: Option<String>,
    /// When set, added as `iss` to every token and required on verification. Default none.
    pub issuer: Option<String>,
    /// Tolerance for `exp`, `nbf`, `iat` and `refresh_exp`. Default 0.
    #[serde(with = "duration_serde")]
    pub leeway: Duration,
    /// Accepted authorization header schemes, matched case-sensitively; the first builds
    /// `WWW-Authenticate`. Default `["Bearer"]`.
    pub auth_header_types: Vec<String>,
    /// HTTP header carrying the token. Default `Authorization`.
    pub auth_header_name: String,
    /// Claim holding the user id (always written as a string). Default `user_id`.
    pub user_id_claim: String,
    /// Claim holding the token type; `None` disables the type check. Default `token_type`.
    pub token_type_claim: Option<String>,
    /// Claim holding the token id; `None` disables the "has no id" check. Default `jti`.
    pub jti_claim: Option<String>,
    /// Claim holding the end of a sliding token's refresh window. Default `refresh_exp`.
    pub sliding_token_refresh_exp_claim: String,
    /// Token types accepted for authentication, tried in order. Default `[access]`.
    pub auth_token_classes: Vec<TokenType>,
    /// Embed a digest of the user's credential stamp and reject tokens whose stamp changed
    /// (password change, logout everywhere). Default `false`.
    pub check_revoke_token: bool,
    /// Claim holding that digest. Default `hash_password`.
    pub revoke_token_claim: String,
    /// Refuse inactive users at login, refresh and authentication. Default `true`.
    pub check_user_is_active: bool,
    /// Longest token accepted, in bytes; longer ones are invalid without being parsed.
    /// Default 8192.
    pub max_token_bytes: usize,
    /// When two requests rotate the same refresh token within this interval, both get the
    /// same new token instead of one being treated as reuse, unless that new token has been
    /// blacklisted meanwhile. Default 0 (exactly one wins).
    #[serde(with = "duration_serde")]
    pub rotation_grace_period: Duration,
    /// On reuse of an already rotated refresh token, revoke every token of its family
    /// (RFC 9700 §4.14). Needs `rotate_refresh_tokens` and `blacklist_after_rotation`.
    /// Default `false` (simplejwt only rejects the reused token).
    pub revoke_family_on_reuse: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            access_token_lifetime: Duration::from_secs(5 * 60),
            refresh_token_lifetime: Duration::from_secs(24 * 60 * 60),
            sliding_token_lifetime: Duration::from_secs(5 * 60),
            sliding_token_refresh_lifetime: Duration::from_secs(24 * 60 * 60),
            rotate_refresh_tokens: false,
            blacklist_after_rotation: false,
            blacklist_enabled: true,
            sliding_tokens_enabled: true,
            update_last_login: false,
            algorithm: Algorithm::HS256,
            audience: None,
            issuer: None,
            leeway: Duration::ZERO,
            auth_header_types: vec!["Bearer".to_owned()],
            auth_header_name: "Authorization".to_owned(),
            user_id_claim: "user_id".to_owned(),
            token_type_claim: Some("token_type".to_owned()),
            jti_claim: Some("jti".to_owned()),
            sliding_token_refresh_exp_claim: "refresh_exp".to_owned(),
            auth_token_classes: vec![TokenType::Access],
            check_revoke_token: false,
            revoke_token_claim: "hash_password".to_owned(),
            check_user_is_active: true,
            max_token_bytes: 8192,
            rotation_grace_period: Duration::ZERO,
            revoke_family_on_reuse: false,
        }
    }
}

/// Largest accepted `max_token_bytes` (64 KiB): beyond that a token is a denial-of-service vector.
pub const MAX_TOKEN_BYTES_LIMIT: usize = 64 * 1024;

impl Settings {
    /// Check the settings for values that cannot work.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the setting and what is wrong with it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |msg: &str| Err(ConfigError::Invalid(msg.to_owned()));
        for (name, lifetime) in [
            ("access_token_lifetime", self.access_token_lifetime),
            ("refresh_token_lifetime", self.refresh_token_lifetime),
            ("sliding_token_lifetime", self.sliding_token_lifetime),
            ("sliding_token_refresh_lifetime", self.sliding_token_refresh_lifetime),
        ] {
            if lifetime.as_secs() == 0 {
                return Err(ConfigError::Invalid(format!("{name} must be at least one second")));
            }
        }
        if self.auth_header_types.is_empty() {
            return invalid("auth_header_types must name at least one scheme");
        }
        if self
            .auth_header_types
            .iter()
            .any(|t| t.is_empty() || t.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return invalid("auth_header_types entries must be single non-empty words");
        }
        if self.auth_header_name.is_empty()
            || !self.auth_header_name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return invalid("auth_header_name must be an HTTP header name");
        }
        if self.auth_token_classes.is_empty() {
            return invalid("auth_token_classes must name at least one token type");
        }
        if self.auth_token_classes.contains(&TokenType::Sliding) && !self.sliding_tokens_enabled {
            return invalid("auth_token_classes lists sliding tokens but sliding_tokens_enabled is false");
        }
        if self.user_id_claim.is_empty() {
            return invalid("user_id_claim must not be empty");
        }
        if self.rotate_refresh_tokens && !self.blacklist_enabled {
            return invalid(
                "rotate_refresh_tokens needs blacklist_enabled: without recording tokens, rotated refresh tokens could never be revoked",
            );
        }
        if self.blacklist_after_rotation && !self.blacklist_enabled {
            return invalid("blacklist_after_rotation needs blacklist_enabled");
        }
        if self.revoke_family_on_reuse && !(self.rotate_refresh_tokens && self.blacklist_after_rotation) {
            return invalid(
                "revoke_family_on_reuse needs rotate_refresh_tokens and blacklist_after_rotation: without them a rotated refresh token stays valid, so no reuse is ever detected",
            );
        }
        if self.blacklist_enabled && self.jti_claim.is_none() {
            return invalid("the blacklist needs a jti_claim");
        }
        if self.max_token_bytes < 64 || self.max_token_bytes > MAX_TOKEN_BYTES_LIMIT {
            return Err(ConfigError::Invalid(format!(
                "max_token_bytes must be between 64 and {MAX_TOKEN_BYTES_LIMIT}"
            )));
        }
        Ok(())
    }
}

/// Serde for durations: `"5m"`, `"1 day"`, `"300s"` (humantime), or a number of seconds.
pub mod duration_serde {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Write as a humantime string such as `"5m"`.
    ///
    /// # Errors
    /// Only those of the serializer.
    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&humantime::format_duration(*value).to_string())
    }

    /// Read a humantime string or a non-negative number of seconds.
    ///
    /// # Errors
    /// A message naming the accepted forms.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u64),
            Float(f64),
            Text(String),
        }
        let err = |what: &str| {
            serde::de::Error::custom(format!(
                "invalid duration {what}: use a number of seconds or a value like \"5m\", \"1h 30m\", \"7days\""
            ))
        };
        match Raw::deserialize(deserializer)? {
            Raw::Int(secs) => Ok(Duration::from_secs(secs)),
            Raw::Float(secs) => Duration::try_from_secs_f64(secs).map_err(|_| err(&secs.to_string())),
            Raw::Text(text) => parse(&text).ok_or_else(|| err(&format!("{text:?}"))),
        }
    }

    /// Parse a duration string: humantime syntax or plain seconds.
    pub fn parse(text: &str) -> Option<Duration> {
        let text = text.trim();
        if let Ok(secs) = text.parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        humantime::parse_duration(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_simplejwt_defaults() {
        let s = Settings::default();
        assert_eq!(s.access_token_lifetime, Duration::from_secs(300));
        assert_eq!(s.refresh_token_lifetime, Duration::from_secs(86_400));
        assert_eq!(s.leeway, Duration::ZERO);
        assert_eq!(s.algorithm, Algorithm::HS256);
        assert_eq!(s.auth_header_types, ["Bearer"]);
        assert_eq!(s.jti_claim.as_deref(), Some("jti"));
        assert!(s.validate().is_ok());
    }

    #[test]
    fn durations_parse_from_text_and_numbers() {
        let s: Settings = serde_json::from_str(
            r#"{"access_token_lifetime":"30m","refresh_token_lifetime":259200,"leeway":1.5}"#,
        )
        .unwrap();
        assert_eq!(s.access_token_lifetime, Duration::from_secs(1800));
        assert_eq!(s.refresh_token_lifetime, Duration::from_secs(259_200));
        assert_eq!(s.leeway, Duration::from_millis(1500));
        let bad = serde_json::from_str::<Settings>(r#"{"leeway":"soon"}"#).unwrap_err();
        assert!(bad.to_string().contains("invalid duration"), "{bad}");
    }

    #[test]
    fn unknown_settings_are_rejected() {
        assert!(serde_json::from_str::<Settings>(r#"{"acess_token_lifetime":"5m"}"#).is_err());
    }

    #[test]
    fn reuse_detection_without_blacklisting_rotated_tokens_is_refused() {
        let rotating =
            Settings { rotate_refresh_tokens: true, blacklist_after_rotation: true, ..Settings::default() };
        assert!(Settings { revoke_family_on_reuse: true, ..rotating.clone() }.validate().is_ok());
        for silent in [
            Settings { revoke_family_on_reuse: true, blacklist_after_rotation: false, ..rotating.clone() },
            Settings { revoke_family_on_reuse: true, rotate_refresh_tokens: false, ..rotating },
        ] {
            let err = silent.validate().unwrap_err().to_string();
            assert!(err.starts_with("revoke_family_on_reuse needs"), "{err}");
        }
    }

    #[test]
    fn impossible_combinations_are_refused() {
        let rotate_without_record =
            Settings { rotate_refresh_tokens: true, blacklist_enabled: false, ..Settings::default() };
        assert!(rotate_without_record.validate().unwrap_err().to_string().contains("rotate_refresh_tokens"));
        let zero = Settings { access_token_lifetime: Duration::ZERO, ..Settings::default() };
        assert!(zero.validate().is_err());
        let huge = Settings { max_token_bytes: 1 << 20, ..Settings::default() };
        assert!(huge.validate().is_err());
        let header = Settings { auth_header_types: vec!["Bear er".into()], ..Settings::default() };
        assert!(header.validate().is_err());
    }
}
