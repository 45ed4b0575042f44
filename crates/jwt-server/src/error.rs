//! The server's one error enum: every failure is one sentence for the operator, with a
//! stable machine code and an exit code.

use std::process::ExitCode;

/// Why the server or a subcommand stopped.
///
/// The `Display` text is one sentence meant for the person running the binary; it never
/// contains a secret (passwords, tokens, key material, database passwords).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration (file, `JWT_*` environment, flags, key material) cannot work.
    #[error("{0}")]
    Config(String),
    /// The database could not be reached or migrated.
    #[error("{0}")]
    Database(String),
    /// The listen address could not be bound.
    #[error("{0}")]
    Bind(String),
    /// A subcommand was asked to do something impossible (unknown user, duplicate name, ...).
    #[error("{0}")]
    Command(String),
    /// Anything else that went wrong at runtime.
    #[error("{0}")]
    Runtime(String),
}

impl Error {
    /// Stable machine code. Never change a value once released.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Config(_) => "config_invalid",
            Self::Database(_) => "database_unavailable",
            Self::Bind(_) => "bind_failed",
            Self::Command(_) => "command_failed",
            Self::Runtime(_) => "runtime_error",
        }
    }

    /// The process exit code: 2 for configuration errors, 1 for everything else.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Self::Config(_) => ExitCode::from(2),
            _ => ExitCode::from(1),
        }
    }

    /// Shorthand for [`Error::Config`].
    pub fn config(message: impl Into<String>) -> Self {
        Self::Config(message.into())
    }

    /// Shorthand for [`Error::Command`].
    pub fn command(message: impl Into<String>) -> Self {
        Self::Command(message.into())
    }

    /// Shorthand for [`Error::Runtime`].
    pub fn runtime(message: impl Into<String>) -> Self {
        Self::Runtime(message.into())
    }
}

/// Render an error and its `source` chain as one line: `outer: inner: innermost`, skipping
/// causes whose text the outer message already contains.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    one_line(&out)
}

/// Collapse whitespace runs (including newlines) into single spaces, so a message stays
/// on one line.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer failed")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn chain_joins_causes_on_one_line() {
        let e = Outer(std::io::Error::other("disk\nfull"));
        assert_eq!(chain(&e), "outer failed: disk full");
    }

    #[test]
    fn exit_codes_and_codes() {
        assert_eq!(Error::config("x").exit_code(), ExitCode::from(2));
        assert_eq!(Error::runtime("x").exit_code(), ExitCode::from(1));
        assert_eq!(Error::Database("x".into()).code(), "database_unavailable");
    }
}
