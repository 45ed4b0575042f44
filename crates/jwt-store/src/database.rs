//! Connecting, migrating and sharing one connection pool.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jwt_core::StoreError;
use jwt_migrations::Migrator;
use jwt_migrations::MigratorTrait;
use sea_orm::sqlx::mysql::MySqlConnectOptions;
use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::error::{ConnectError, ConnectErrorKind, map_db_err};
use crate::keys::SeaOrmKeyStore;
use crate::tokens::SeaOrmTokenStore;
use crate::url::{classify, redact_url, scrub};
use crate::users::SeaOrmUserRepository;

/// Pool and timeout settings for [`Database::connect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbOptions {
    /// Largest number of pooled connections. Default 10 (always 1 for `sqlite::memory:`).
    pub max_connections: u32,
    /// Connections kept open when idle. Default 1.
    pub min_connections: u32,
    /// How long opening one connection may take. Default 10 s.
    pub connect_timeout: Duration,
    /// How long a query may wait for a free pooled connection. Default 10 s.
    pub acquire_timeout: Duration,
    /// SQLite only: how long a writer waits for the write lock before giving up with
    /// [`StoreError::Unavailable`]. Default 5 s.
    pub sqlite_busy_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            min_connections: 1,
            connect_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(10),
            sqlite_busy_timeout: Duration::from_secs(5),
        }
    }
}

/// The database product behind a [`Database`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite (embedded; the default).
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
}

impl Backend {
    /// `sqlite`, `postgres` or `mysql`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
        }
    }

    pub(crate) fn db_backend(self) -> DbBackend {
        match self {
            Self::Sqlite => DbBackend::Sqlite,
            Self::Postgres => DbBackend::Postgres,
            Self::MySql => DbBackend::MySql,
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Counters of the work done through one [`Database`] (and its clones) since it connected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DbStats {
    /// SQL statements sent, excluding `BEGIN`/`COMMIT`/`ROLLBACK`.
    pub statements: u64,
    /// Transactions begun (retries included).
    pub transactions: u64,
    /// Transactions run again after a deadlock or serialization failure.
    pub retries: u64,
}

#[derive(Debug, Default)]
struct Counters {
    statements: AtomicU64,
    transactions: AtomicU64,
    retries: AtomicU64,
}

/// A connection pool to one database, and the factory of the port adapters over it.
///
/// Cheap to clone; clones share the pool. Several processes (server replicas) may connect
/// to the same PostgreSQL or MySQL database: every guarantee of the ports holds across them.
#[derive(Clone)]
pub struct Database {
    conn: DatabaseConnection,
    backend: Backend,
    url: Arc<str>,
    counters: Arc<Counters>,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database").field("backend", &self.backend).field("url", &self.url).finish()
    }
}

impl Database {
    /// Open a pool to `url`: `sqlite://path?mode=rwc` (or `sqlite::memory:`),
    /// `postgres://user:pass@host/db`, `mysql://user:pass@host/db` (`mariadb://` works too).
    ///
    /// SQLite connections use WAL journaling, `synchronous=NORMAL`, foreign keys on and a
    /// busy timeout of [`DbOptions::sqlite_busy_timeout`]. An in-memory SQLite database is
    /// private to its single connection.
    ///
    /// # Errors
    /// [`ConnectError`] naming the scheme or the redacted URL (never the password) if the
    /// scheme is unsupported, the URL is malformed, or the first connection fails.
    pub async fn connect(url: &str, options: &DbOptions) -> Result<Database, ConnectError> {
        let (backend, url) = classify(url)?;
        let invalid = |e: &dyn fmt::Display| {
            ConnectError::new(
                ConnectErrorKind::InvalidUrl,
                format!(
                    "invalid {backend} database URL '{}': {}",
                    redact_url(&url),
                    scrub(&e.to_string(), &url)
                ),
            )
        };
        let mut opts = ConnectOptions::new(url.clone());
        opts.max_connections(options.max_connections.max(1))
            .min_connections(options.min_connections.min(options.max_connections.max(1)))
            .connect_timeout(options.connect_timeout)
            .acquire_timeout(options.acquire_timeout)
            .sqlx_logging(false);
        match backend {
            Backend::Sqlite => {
                SqliteConnectOptions::from_str(&url).map_err(|e| invalid(&e))?;
                if is_sqlite_memory(&url) {
                    // The database lives only as long as a connection to it, and several
                    // connections would share it through SQLite's table-locking shared
                    // cache: keep exactly one connection, forever.
                    opts.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None);
                }
                let busy = options.sqlite_busy_timeout;
                opts.map_sqlx_sqlite_opts(move |o| {
                    o.journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal)
                        .foreign_keys(true)
                        .busy_timeout(busy)
                });
            }
            Backend::Postgres => {
                PgConnectOptions::from_str(&url).map_err(|e| invalid(&e))?;
            }
            Backend::MySql => {
                MySqlConnectOptions::from_str(&url).map_err(|e| invalid(&e))?;
                // READ COMMITTED, as PostgreSQL: no gap locks, so rotations of different
                // tokens never deadlock on the gaps of `blacklisted_tokens.token_id` that
                // REPEATABLE READ's locking subqueries take (see docs/storage.md).
                opts.map_sqlx_mysql_pool_opts(|pool| {
                    pool.after_connect(|conn, _| {
                        Box::pin(async move {
                            sea_orm::sqlx::query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                                .execute(&mut *conn)
                                .await
                                .map(drop)
                        })
                    })
                });
            }
        }
        let mut conn = match sea_orm::Database::connect(opts).await {
            Ok(conn) => conn,
            Err(e) => {
                // The pool retries refused connections until its timeout and then reports only
                // "pool timed out": one direct attempt recovers the actual cause.
                let cause = match direct_attempt(backend, &url, options.connect_timeout).await {
                    Some(direct) => direct,
                    None => describe(&e),
                };
                return Err(ConnectError::new(
                    ConnectErrorKind::Connect,
                    format!(
                        "cannot connect to the {backend} database at '{}': {}",
                        redact_url(&url),
                        scrub(&cause, &url)
                    ),
                ));
            }
        };
        let counters = Arc::new(Counters::default());
        let seen = counters.clone();
        conn.set_metric_callback(move |_| {
            seen.statements.fetch_add(1, Ordering::Relaxed);
        });
        tracing::debug!(backend = backend.as_str(), url = %redact_url(&url), "database connected");
        Ok(Database { conn, backend, url: redact_url(&url).into(), counters })
    }

    /// Apply every pending migration ([`Migrator`]'s `up`); a no-op when up to date.
    ///
    /// Safe to call from several replicas starting at once: the migration runs in one
    /// transaction that first takes a database-wide lock (`pg_advisory_xact_lock` on
    /// PostgreSQL, `GET_LOCK` on MySQL, `BEGIN IMMEDIATE` on SQLite), so the others wait and
    /// then find nothing to do.
    ///
    /// # Errors
    /// [`StoreError`] if a migration fails (nothing of that migration is applied on
    /// PostgreSQL and SQLite, whose DDL is transactional).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        // MySQL's named locks are server-wide: the name includes the database (at most 64 chars).
        const RELEASE_MIGRATION_LOCK: &str =
            "SELECT RELEASE_LOCK(CONCAT('jwt_migrations.', LEFT(DATABASE(), 49)))";
        const LOCK_KEY: i64 = 0x6a77_745f_6d69_6772; // "jwt_migr"
        let txn = self.begin_write().await.map_err(map_db_err)?;
        let result: Result<(), DbErr> = async {
            match self.backend {
                Backend::Postgres => {
                    txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({LOCK_KEY})")).await?;
                }
                Backend::MySql => {
                    let locked = txn
                        .query_one_raw(sea_orm::Statement::from_string(
                            DbBackend::MySql,
                            "SELECT GET_LOCK(CONCAT('jwt_migrations.', LEFT(DATABASE(), 49)), 60)",
                        ))
                        .await?
                        .map(|row| row.try_get_by_index::<Option<i64>>(0))
                        .transpose()?
                        .flatten();
                    if locked != Some(1) {
                        return Err(DbErr::Migration(
                            "another process held the migration lock for 60 s".to_owned(),
                        ));
                    }
                }
                Backend::Sqlite => {}
            }
            Migrator::up(&txn, None).await?;
            if self.backend == Backend::MySql {
                txn.execute_unprepared(RELEASE_MIGRATION_LOCK).await?;
            }
            Ok(())
        }
        .await;
        match result {
            Ok(()) => txn.commit().await.map_err(map_db_err),
            Err(e) => {
                if self.backend == Backend::MySql {
                    // GET_LOCK belongs to the session, not the transaction: release it before
                    // the connection goes back to the pool (a no-op if it was never taken).
                    let _ = txn.execute_unprepared(RELEASE_MIGRATION_LOCK).await;
                }
                let _ = txn.rollback().await;
                Err(map_db_err(e))
            }
        }
    }

    /// Check that the database answers (for readiness probes).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] if it does not.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.conn.ping().await.map_err(StoreError::unavailable)
    }

    /// The backend this database runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL connected to, with its password redacted.
    pub fn redacted_url(&self) -> &str {
        &self.url
    }

    /// Users, over this pool.
    pub fn users(&self) -> SeaOrmUserRepository {
        SeaOrmUserRepository::new(self.clone())
    }

    /// Outstanding tokens, families and the blacklist, over this pool.
    pub fn tokens(&self) -> SeaOrmTokenStore {
        SeaOrmTokenStore::new(self.clone())
    }

    /// Signing keys, over this pool.
    pub fn keys(&self) -> SeaOrmKeyStore {
        SeaOrmKeyStore::new(self.clone())
    }

    /// The underlying SeaORM connection, for tools and tests (migrations down, raw queries).
    pub fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Statements and transactions sent through this pool so far (benchmarks, metrics).
    pub fn stats(&self) -> DbStats {
        DbStats {
            statements: self.counters.statements.load(Ordering::Relaxed),
            transactions: self.counters.transactions.load(Ordering::Relaxed),
            retries: self.counters.retries.load(Ordering::Relaxed),
        }
    }

    /// Close every connection of the pool (clones stop working too).
    ///
    /// # Errors
    /// [`StoreError`] if closing fails.
    pub async fn close(self) -> Result<(), StoreError> {
        self.conn.close().await.map_err(map_db_err)
    }

    /// Begin a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`: it takes the
    /// single write lock up front (waiting up to the busy timeout), so a read inside it can
    /// never be invalidated by another writer.
    pub(crate) async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        self.counters.transactions.fetch_add(1, Ordering::Relaxed);
        match self.backend {
            Backend::Sqlite => {
                self.conn
                    .begin_with_options(TransactionOptions {
                        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                        ..TransactionOptions::default()
                    })
                    .await
            }
            _ => self.conn.begin().await,
        }
    }

    pub(crate) fn count_retry(&self) {
        self.counters.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn db_backend(&self) -> DbBackend {
        self.backend.db_backend()
    }
}

/// Open one connection without a pool; the error text if that fails.
async fn direct_attempt(backend: Backend, url: &str, timeout: Duration) -> Option<String> {
    use sea_orm::sqlx::{ConnectOptions as _, Connection as _};
    let attempt = async {
        match backend {
            Backend::Sqlite => SqliteConnectOptions::from_str(url)?.connect().await?.close().await,
            Backend::Postgres => PgConnectOptions::from_str(url)?.connect().await?.close().await,
            Backend::MySql => MySqlConnectOptions::from_str(url)?.connect().await?.close().await,
        }
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Err(e)) => Some(describe(&e)),
        Ok(Ok(())) => None,
        Err(_) => Some(format!("no answer within {}s", timeout.as_secs_f32())),
    }
}

fn is_sqlite_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// The error and its causes on one line.
fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}
