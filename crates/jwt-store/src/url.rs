//! Database URLs: the backend they name, and a form safe to print.

use crate::database::Backend;
use crate::error::{ConnectError, ConnectErrorKind};

/// `url` with its password replaced by `***`, safe for errors and logs.
///
/// Handles the user-info password (`postgres://user:secret@host/db`) and any query
/// parameter whose name contains `password` (`?password=secret`). A URL with no password
/// is returned unchanged. A password that should have been percent-encoded but was not
/// (`/`, `?`, `#` or `@` in it, as in base64 passwords) is masked all the same: the user
/// info runs up to the URL's last `@`.
///
/// ```
/// assert_eq!(
///     jwt_store::redact_url("postgres://app:s3cret@db:5432/jwt?sslmode=require"),
///     "postgres://app:***@db:5432/jwt?sslmode=require"
/// );
/// assert_eq!(jwt_store::redact_url("sqlite://jwt.db?mode=rwc"), "sqlite://jwt.db?mode=rwc");
/// ```
pub fn redact_url(url: &str) -> String {
    let (mut out, rest) = match userinfo_span(url) {
        Some((start, at)) => {
            let userinfo = &url[start..at];
            let user = match userinfo.find(':') {
                Some(colon) => format!("{}:***", &userinfo[..colon]),
                None => userinfo.to_owned(),
            };
            (format!("{}{user}", &url[..start]), &url[at..])
        }
        None => (String::with_capacity(url.len()), url),
    };
    let (head, fragment) = match rest.find('#') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match head.split_once('?') {
        Some((before_query, query)) => {
            out.push_str(before_query);
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
        None => out.push_str(head),
    }
    out.push_str(fragment);
    out
}

/// Where the user info of `url` lies: from after `://` to the URL's last `@` (a password
/// may hold unencoded `/`, `?`, `#` or `@`, so the user info cannot end before it).
fn userinfo_span(url: &str) -> Option<(usize, usize)> {
    let start = url.find("://")? + 3;
    let at = start + url[start..].rfind('@')?;
    Some((start, at))
}

/// Every secret in `url` (user-info password and password query parameters), raw and
/// percent-decoded, so they can be scrubbed from driver messages.
pub(crate) fn secrets_of(url: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    let rest = match userinfo_span(url) {
        Some((start, at)) => {
            if let Some((_, password)) = url[start..at].split_once(':') {
                secrets.push(password.to_owned());
            }
            &url[at..]
        }
        None => url,
    };
    let head = rest.split('#').next().unwrap_or_default();
    let query = head.split_once('?').map(|(_, q)| q);
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
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
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

    /// Generated (base64) passwords hold `/` and `+`; people paste them unencoded.
    #[test]
    fn unencoded_special_characters_in_passwords_are_masked_too() {
        for (url, redacted) in [
            ("postgres://app:Zm9v/YmFy+cXV4@db:5432/jwt", "postgres://app:***@db:5432/jwt"),
            ("mysql://root:a/b?c#d@h/db?ssl-mode=required", "mysql://root:***@h/db?ssl-mode=required"),
            ("postgres://u:p/w@h/db?password=x/y", "postgres://u:***@h/db?password=***"),
        ] {
            assert_eq!(redact_url(url), redacted, "{url}");
        }
        let url = "postgres://app:Zm9v/YmFy+cXV4@db:notaport/jwt";
        let message = format!("invalid URL {url}: invalid port in Zm9v/YmFy+cXV4");
        let scrubbed = scrub(&message, url);
        assert!(!scrubbed.contains("Zm9v") && !scrubbed.contains("cXV4"), "{scrubbed}");
        // Nothing to mask: unchanged, even with an `@` elsewhere.
        for url in
            ["postgres://h/db?application_name=a@b", "sqlite:///data/@x.db?mode=rwc", "sqlite::memory:"]
        {
            assert_eq!(redact_url(url), url);
        }
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
