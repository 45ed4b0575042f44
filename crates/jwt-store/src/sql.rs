//! Hand-written SQL for the paths where the exact statements matter (rotation, blacklist,
//! revocation, flush): written once with `?` placeholders, numbered for PostgreSQL.

use std::future::Future;
use std::time::Duration;

use jwt_core::StoreError;
use sea_orm::{DbBackend, DbErr, Statement, Value};

use crate::database::Database;
use crate::error::{MAX_ATTEMPTS, is_retryable, map_db_err, retries_exhausted};

/// A statement for `backend` from SQL written with `?` placeholders.
pub(crate) fn stmt(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => number_placeholders(sql),
        _ => sql.to_owned(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// `?` → `$1`, `$2`, ... (our SQL has no string literals, so every `?` is a placeholder).
fn number_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// `?, ?, ?` for `n` values.
pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// The clause that turns an `INSERT` into "insert unless the unique `column` exists",
/// without aborting the transaction on PostgreSQL.
///
/// On MySQL the caller uses `INSERT IGNORE` instead (see [`insert_ignore`]) when it needs
/// the affected-row count: sqlx sets `CLIENT_FOUND_ROWS`, so a no-op
/// `ON DUPLICATE KEY UPDATE` reports one row.
pub(crate) fn on_conflict_do_nothing(backend: DbBackend, column: &str) -> String {
    match backend {
        DbBackend::MySql => String::new(),
        _ => format!(" ON CONFLICT ({column}) DO NOTHING"),
    }
}

/// `INSERT IGNORE INTO` on MySQL, `INSERT INTO` elsewhere (paired with
/// [`on_conflict_do_nothing`]).
pub(crate) fn insert_ignore(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::MySql => "INSERT IGNORE INTO",
        _ => "INSERT INTO",
    }
}

/// Run `op` (one whole transaction) again when it hit a deadlock or serialization failure,
/// up to [`MAX_ATTEMPTS`] times with a short growing pause; map the final error.
pub(crate) async fn with_retry<T, F, Fut>(db: &Database, mut op: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, DbErr>>,
{
    let mut attempt = 1;
    loop {
        match op().await {
            Err(e) if is_retryable(&e) => {
                if attempt >= MAX_ATTEMPTS {
                    return Err(retries_exhausted(e));
                }
                tracing::debug!(attempt, error = %e, "transaction conflict; retrying");
                db.count_retry();
                tokio::time::sleep(Duration::from_millis(2 * u64::from(attempt) * u64::from(attempt))).await;
                attempt += 1;
            }
            other => return other.map_err(map_db_err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_only() {
        assert_eq!(number_placeholders("a = ? AND b IN (?, ?)"), "a = $1 AND b IN ($2, $3)");
        let s = stmt(DbBackend::MySql, "x = ?", vec![1i64.into()]);
        assert_eq!(s.sql, "x = ?");
        assert_eq!(placeholders(3), "?, ?, ?");
    }
}
