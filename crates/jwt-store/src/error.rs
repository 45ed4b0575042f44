//! Errors: the one place where `sea_orm::DbErr` is translated into `jwt_core::StoreError`,
//! and the crate's own [`ConnectError`].

use std::fmt;

use jwt_core::StoreError;
use sea_orm::sqlx;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// What kind of [`ConnectError`] happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectErrorKind {
    /// The URL scheme is not `sqlite`, `postgres`/`postgresql` or `mysql`/`mariadb`.
    UnsupportedScheme,
    /// The URL cannot be parsed for its backend.
    InvalidUrl,
    /// The server could not be reached, refused the login, or the file could not be opened.
    Connect,
}

impl ConnectErrorKind {
    /// Stable machine code. Never change a value once released.
    pub fn code(self) -> &'static str {
        match self {
            Self::UnsupportedScheme => "unsupported_database_scheme",
            Self::InvalidUrl => "invalid_database_url",
            Self::Connect => "database_connect_failed",
        }
    }
}

/// Why [`crate::Database::connect`] failed: one sentence for the operator that names the URL
/// scheme or the redacted URL, never the password.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectError {
    kind: ConnectErrorKind,
    message: String,
}

impl ConnectError {
    pub(crate) fn new(kind: ConnectErrorKind, message: String) -> Self {
        Self { kind, message }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ConnectErrorKind {
        self.kind
    }

    /// Stable machine code (see [`ConnectErrorKind::code`]).
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectError").field("kind", &self.kind).field("message", &self.message).finish()
    }
}

impl std::error::Error for ConnectError {}

/// A storage failure found by this crate itself (never a driver error).
#[derive(Debug, thiserror::Error)]
pub(crate) enum Corrupt {
    /// A stored value cannot be turned back into a domain value.
    #[error("stored {what} is invalid: {detail}")]
    Value { what: &'static str, detail: String },
    /// Retries of a transient conflict ran out.
    #[error("gave up after {0} attempts")]
    RetriesExhausted(u32),
}

pub(crate) fn corrupt(what: &'static str, detail: impl fmt::Display) -> StoreError {
    StoreError::backend(Corrupt::Value { what, detail: detail.to_string() })
}

/// Translate a SeaORM error into the port's error, in one place:
/// unique violation → `Conflict`; connection, pool, I/O, busy/locked → `Unavailable`;
/// anything else → `Backend` with the cause as its source.
pub(crate) fn map_db_err(err: DbErr) -> StoreError {
    if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
        return StoreError::Conflict;
    }
    if is_unavailable(&err) {
        return StoreError::unavailable(err);
    }
    StoreError::backend(err)
}

fn sqlx_error(err: &DbErr) -> Option<&sqlx::Error> {
    match err {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => Some(e),
        _ => None,
    }
}

fn is_unavailable(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        _ => {}
    }
    match sqlx_error(err) {
        Some(
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::BeginFailed,
        ) => true,
        Some(sqlx::Error::Database(db)) => {
            let code = db.code().unwrap_or_default();
            if let Some(mysql) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
                // 1040 too many connections, 1205 lock wait timeout, 1927 connection killed,
                // 2006/2013 server gone away / lost connection, 1053 server shutdown.
                return matches!(mysql.number(), 1040 | 1053 | 1205 | 1927 | 2006 | 2013);
            }
            if db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some() {
                // Class 08 connection exceptions, 53 insufficient resources, 57P0x shutdown.
                return code.starts_with("08") || code.starts_with("53") || code.starts_with("57P");
            }
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // SQLITE_BUSY / SQLITE_LOCKED and their extended codes: the busy timeout ran out.
                return sqlite_primary_code(&code).is_some_and(|c| c == 5 || c == 6);
            }
            false
        }
        _ => false,
    }
}

fn sqlite_primary_code(code: &str) -> Option<i64> {
    code.parse::<i64>().ok().map(|c| c & 0xff)
}

/// A conflict between concurrent transactions that is safe to retry from the start:
/// deadlocks and serialization failures (PostgreSQL 40P01/40001, MySQL 1213), and InnoDB's
/// 1467 "failed to read auto-increment value", which is how InnoDB reports a deadlock met
/// while waiting for a table's AUTO-INC lock (taken by `INSERT ... SELECT`).
pub(crate) fn is_retryable(err: &DbErr) -> bool {
    let Some(sqlx::Error::Database(db)) = sqlx_error(err) else { return false };
    if let Some(mysql) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        return matches!(mysql.number(), 1213 | 1467);
    }
    if db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some() {
        return matches!(db.code().as_deref(), Some("40P01" | "40001"));
    }
    false
}

/// How many times a transaction that hit a deadlock is attempted in all.
pub(crate) const MAX_ATTEMPTS: u32 = 8;

pub(crate) fn retries_exhausted(last: DbErr) -> StoreError {
    tracing::warn!(error = %last, "transaction kept deadlocking; giving up");
    StoreError::unavailable(Corrupt::RetriesExhausted(MAX_ATTEMPTS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_level_errors_are_unavailable() {
        assert!(matches!(
            map_db_err(DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout)),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(map_db_err(DbErr::Custom("x".into())), StoreError::Backend(_)));
        assert!(matches!(
            map_db_err(DbErr::Conn(RuntimeErr::Internal("down".into()))),
            StoreError::Unavailable(_)
        ));
    }

    #[test]
    fn sqlite_codes_use_the_primary_byte() {
        assert_eq!(sqlite_primary_code("517"), Some(5));
        assert_eq!(sqlite_primary_code("262"), Some(6));
        assert_eq!(sqlite_primary_code("2067"), Some(19));
    }

    #[test]
    fn connect_error_is_one_sentence_with_a_code() {
        let e = ConnectError::new(ConnectErrorKind::InvalidUrl, "invalid database URL 'x'".into());
        assert_eq!(e.to_string(), "invalid database URL 'x'");
        assert_eq!(e.code(), "invalid_database_url");
    }
}
