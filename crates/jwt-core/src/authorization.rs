//! Parsing the authorization header exactly as simplejwt's `JWTAuthentication` does.

use crate::error::TokenError;
use crate::settings::Settings;

/// Extract the raw token from an authorization header value.
///
/// - no header, an empty one, or a first word that is not one of `auth_header_types`
///   (compared case-sensitively) → `Ok(None)`: the request is anonymous;
/// - the right scheme but not exactly two whitespace-separated words →
///   [`TokenError::BadAuthorizationHeader`];
/// - otherwise the second word.
///
/// # Errors
/// [`TokenError::BadAuthorizationHeader`] as above.
pub fn parse_authorization_header<'h>(
    settings: &Settings,
    header: Option<&'h str>,
) -> Result<Option<&'h str>, TokenError> {
    let Some(header) = header else { return Ok(None) };
    let mut parts = header.split_ascii_whitespace();
    let Some(scheme) = parts.next() else { return Ok(None) };
    if !settings.auth_header_types.iter().any(|t| t == scheme) {
        return Ok(None);
    }
    match (parts.next(), parts.next()) {
        (Some(token), None) => Ok(Some(token)),
        _ => Err(TokenError::BadAuthorizationHeader),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_simplejwt() {
        let s = Settings::default();
        let parse = |h| parse_authorization_header(&s, h);
        assert_eq!(parse(None).unwrap(), None);
        assert_eq!(parse(Some("")).unwrap(), None);
        assert_eq!(parse(Some("   ")).unwrap(), None);
        assert_eq!(parse(Some("Token abc")).unwrap(), None);
        assert_eq!(parse(Some("bearer abc")).unwrap(), None);
        assert_eq!(parse(Some("Bearer abc")).unwrap(), Some("abc"));
        assert_eq!(parse(Some("Bearer   abc  ")).unwrap(), Some("abc"));
        assert_eq!(parse(Some("Bearer\tabc")).unwrap(), Some("abc"));
        assert!(matches!(parse(Some("Bearer")), Err(TokenError::BadAuthorizationHeader)));
        assert!(matches!(parse(Some("Bearer a b")), Err(TokenError::BadAuthorizationHeader)));
    }

    #[test]
    fn custom_header_types() {
        let s = Settings { auth_header_types: vec!["JWT".into(), "Bearer".into()], ..Settings::default() };
        assert_eq!(parse_authorization_header(&s, Some("JWT x")).unwrap(), Some("x"));
        assert_eq!(parse_authorization_header(&s, Some("Bearer y")).unwrap(), Some("y"));
    }
}
