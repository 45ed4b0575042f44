//! # jwt-store
//!
//! SeaORM adapters for every `jwt-core` port, on SQLite (the zero-setup default),
//! PostgreSQL and MySQL/MariaDB:
//!
//! - [`SeaOrmUserRepository`]: users ([`jwt_core::ports::UserRepository`]) plus the admin
//!   methods the CLI uses (create, set password, activate, list, delete);
//! - [`SeaOrmTokenStore`]: outstanding tokens, token families and the blacklist
//!   ([`jwt_core::ports::TokenStore`]), with rotation as one compare-and-set transaction;
//! - [`SeaOrmKeyStore`]: persisted signing keys ([`jwt_core::ports::KeyStore`]);
//! - [`Argon2Hasher`]: Argon2id password hashing off the async executor, accepting Django's
//!   `pbkdf2_sha256$...` hashes of imported users ([`jwt_core::ports::PasswordHasher`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use jwt_store::{Database, DbOptions};
//! let db = Database::connect("sqlite://jwt.sqlite3?mode=rwc", &DbOptions::default()).await?;
//! db.migrate().await?;
//! let (users, tokens, keys) = (db.users(), db.tokens(), db.keys());
//! # let _ = (users, tokens, keys);
//! # Ok(()) }
//! ```
//!
//! No `sea_orm::DbErr` crosses a port: every failure becomes a
//! [`jwt_core::StoreError`] (unique violation → `Conflict`, connection trouble →
//! `Unavailable`, anything else → `Backend` with the cause as its source).
#![deny(missing_docs)]

mod database;
mod entity;
mod error;
mod keys;
mod password;
mod sql;
mod tokens;
mod url;
mod users;

pub use database::{Backend, Database, DbOptions, DbStats};
pub use error::{ConnectError, ConnectErrorKind};
pub use keys::SeaOrmKeyStore;
pub use password::{Argon2Hasher, Argon2Params};
pub use tokens::{MAX_FLUSH_BATCH, SeaOrmTokenStore};
pub use url::redact_url;
pub use users::{NewUser, SeaOrmUserRepository};

/// The migrations this crate's schema comes from, and their `up`/`down`/`status` trait
/// (re-exported for tests and tools).
pub use jwt_migrations::{Migrator, MigratorTrait};
