//! Structured logs with `tracing`, to standard error (standard output is reserved for the
//! `listening on` line and for subcommand output).
//!
//! Nothing in this crate logs a token, a password or key material; values that could
//! carry one (the database URL) are redacted before they reach a log field.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, ServerConfig};
use crate::error::Error;

/// The filter used when neither `log` (`JWT_LOG`) nor `RUST_LOG` is set.
pub const DEFAULT_FILTER: &str = "info";

/// The filter used for subcommands other than `serve` when nothing is set: they only
/// report problems.
pub const DEFAULT_COMMAND_FILTER: &str = "warn";

/// The effective filter directives: `log` (file or `JWT_LOG`), else `RUST_LOG`, else `fallback`.
pub fn filter_directives(config: &ServerConfig, fallback: &str) -> String {
    config
        .log
        .clone()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| std::env::var("RUST_LOG").ok().filter(|s| !s.trim().is_empty()))
        .unwrap_or_else(|| fallback.to_owned())
}

/// Install the global subscriber. Calling it twice keeps the first one.
///
/// # Errors
/// [`Error::Config`] if the filter directives cannot be parsed.
pub fn init(directives: &str, format: LogFormat) -> Result<(), Error> {
    let filter = EnvFilter::builder().parse(directives).map_err(|e| {
        Error::config(format!(
            "invalid value for JWT_LOG (log filter {directives:?}): {}",
            crate::error::one_line(&e.to_string())
        ))
    })?;
    // Colours only for a person at a terminal (and never with NO_COLOR set).
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    // `try_init` fails only if a subscriber is already installed (tests): keep that one.
    let _ = match format {
        LogFormat::Text => builder.with_target(true).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_directives_are_one_sentence() {
        let err = init("info,[bad", LogFormat::Text).unwrap_err();
        assert!(err.to_string().starts_with("invalid value for JWT_LOG"), "{err}");
        assert!(!err.to_string().contains('\n'));
    }

    #[test]
    fn configured_filter_wins() {
        let config = ServerConfig { log: Some("debug".into()), ..ServerConfig::default() };
        assert_eq!(filter_directives(&config, "warn"), "debug");
    }
}
