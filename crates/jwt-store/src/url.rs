//! Database URLs: the backend they name, and a form safe to print.

use crate::database::Backend;
use crate::error::{ConnectError, ConnectErrorKind};

/// `url` with its password replaced by `***`, safe for errors and logs.
///
/// Handles the user-info password (`postgres://user:secret@host/db`) and any query
/// parameter whose name contains `password` (`?password=secret`). A URL with no password
/// is returned unchanged.
///
/// ```
/// assert_eq!(
///     jwt_store::redact_url("postgres://app:s3cret@db:5432/jwt?sslmode=require"),
///     "postgres://app:***@db:5432/jwt?sslmode=require"
/// );
/// assert_eq!(jwt_store::redact_url("sqlite://jwt.db?mode=rwc"), "sqlite://jwt.db?mode=rwc");
/// ```
pub fn redact_url(url: &str) -> String {
    let (head, fragment) = match url.find('#') {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let (before_query, query) = match head.find('?') {
        Some(i) => (&head[..i], Some(&head[i + 1..])),
        None => (head, None),
    };
    let mut out = String::with_capacity(url.len());
    match before_query.find("://") {
        Some(i) => {
            let (scheme, rest) = before_query.split_at(i + 3);
            out.push_str(scheme);
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            match authority.rfind('@') {
                Some(at) => {
                    let userinfo = &authority[..at];
                    match userinfo.find(':') {
                        Some(colon) => {
                            out.push_str(&userinfo[..colon]);
                            out.push_str(":***");
                        }
                        None => out.push_str(userinfo),
                    }
                    out.push_str(&authority[at..]);
                }
                None => out.push_str(authority),
            }
            out.push_str(path);
        }
        None => out.push_str(before_query),
    }
    if let Some(query) = query {
        out.push('?');
        let redacted: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.to_ascii_lowercase().contains("password") => format!("{key}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out.push_str(&redacted.join("&"));
    }
    out.push_str(fragment);
    out
}

/// Every secret in `url` (user-info password and password query parameters), raw and
/// percent-decoded, so they can be scrubbed from driver messages.
pub(crate) fn secrets_of(url: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    let head = url.split('#').next().unwrap_or_default();
    let (before_query, query) = match head.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (head, None),
    };
    if let Some((_, rest)) = before_query.split_once("://") {
        let authority = rest.split('/').next().unwrap_or_default();
        if let Some((_, password)) = authority.rfind('@').and_then(|at| authority[..at].split_once(':')) {
            secrets.push(password.to_owned());
        }
    }
    for pair in query.unwrap_or_default().split('&') {
        if let Some((_, value)) =
            pair.split_once('=').filter(|(key, _)| key.to_ascii_lowercase().contains("password"))
        {
            secrets.push(value.to_owned());
        }
    }
    let decoded: Vec<String> = secrets.iter().map(|s| percent_decode(s)).collect();
    secrets.extend(decoded);
    secrets.retain(|s| !s.is_empty());
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    secrets
}

/// `message` with `url` and every secret in it replaced by their redacted forms.
pub(crate) fn scrub(message: &str, url: &str) -> String {
    let mut out = message.replace(url, &redact_url(url));
    for secret in secrets_of(url) {
        out = out.replace(&secret, "***");
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Which backend a URL names, and the URL the driver should get (`mariadb://` is
/// rewritten to `mysql://`).
pub(crate) fn classify(url: &str) -> Result<(Backend, String), ConnectError> {
    let Some((scheme, _)) = url.split_once(':') else {
        return Err(ConnectError::new(
            ConnectErrorKind::InvalidUrl,
            format!(
                "invalid database URL '{}': expected sqlite://path, postgres://host/db or mysql://host/db",
                redact_url(url)
            ),
        ));
    };
    let scheme_lower = scheme.to_ascii_lowercase();
    match scheme_lower.as_str() {
        "sqlite" => Ok((Backend::Sqlite, url.to_owned())),
        "postgres" | "postgresql" => Ok((Backend::Postgres, url.to_owned())),
        "mysql" => Ok((Backend::MySql, url.to_owned())),
        "mariadb" => Ok((Backend::MySql, format!("mysql{}", &url[scheme.len()..]))),
        _ => Err(ConnectError::new(
            ConnectErrorKind::UnsupportedScheme,
            format!(
                "unsupported database URL scheme '{}' (use sqlite://, postgres:// or mysql://)",
                scrub(scheme, url)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_userinfo_and_query_passwords() {
        assert_eq!(redact_url("mysql://root:pw@127.0.0.1:3306/test"), "mysql://root:***@127.0.0.1:3306/test");
        assert_eq!(redact_url("mysql://root@127.0.0.1/test"), "mysql://root@127.0.0.1/test");
        assert_eq!(
            redact_url("postgres://u:p%40ss@h/db?password=x&sslmode=disable"),
            "postgres://u:***@h/db?password=***&sslmode=disable"
        );
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(redact_url("postgres://u:a@b@h/db"), "postgres://u:***@h/db");
    }

    #[test]
    fn scrub_removes_raw_and_decoded_secrets() {
        let url = "postgres://u:p%40ss@h/db";
        let message = format!("could not connect to {url} with p@ss or p%40ss");
        let scrubbed = scrub(&message, url);
        assert!(!scrubbed.contains("p@ss") && !scrubbed.contains("p%40ss"), "{scrubbed}");
    }

    #[test]
    fn classifies_schemes() {
        assert_eq!(classify("sqlite::memory:").map(|c| c.0).ok(), Some(Backend::Sqlite));
        assert_eq!(classify("postgresql://h/db").map(|c| c.0).ok(), Some(Backend::Postgres));
        assert_eq!(classify("mariadb://h/db").map(|c| c.1).ok().as_deref(), Some("mysql://h/db"));
        let err = classify("mongodb://u:secret@h/db").unwrap_err();
        assert_eq!(err.kind(), ConnectErrorKind::UnsupportedScheme);
        assert_eq!(
            err.to_string(),
            "unsupported database URL scheme 'mongodb' (use sqlite://, postgres:// or mysql://)"
        );
        assert!(!classify("no-scheme-here").unwrap_err().to_string().is_empty());
    }
}
