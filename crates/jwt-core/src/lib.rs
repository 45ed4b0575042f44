//! # jwt-core
//!
//! Issue, verify, refresh, rotate and revoke JSON Web Tokens exactly the way
//! djangorestframework-simplejwt does, with no database, HTTP server or async runtime of
//! its own. Storage plugs in through the [`ports`]; `jwt-store` provides SeaORM adapters,
//! and the `memory` feature provides in-memory ones.
//!
//! - [`TokenEngine`]: synchronous and pure — mint, sign, verify, claim rules.
//! - [`TokenService`]: the engine plus the ports — login, refresh with atomic rotation,
//!   verify, blacklist, bearer authentication, revoke everything of a user.
//!
//! ```
//! # #[cfg(feature = "memory")] {
//! use jwt_core::{KeySet, Settings, TokenEngine, TokenService, Ports, TokenError, TokenClaims};
//! use jwt_core::memory::{InMemoryTokenStore, InMemoryUsers, Pbkdf2Hasher};
//! # futures_executor::block_on(async {
//! let settings = Settings { rotate_refresh_tokens: true, blacklist_after_rotation: true, ..Settings::default() };
//! let engine = TokenEngine::new(settings, KeySet::hs256(b"a-secret-of-at-least-32-bytes!!!")?)?;
//! let users = InMemoryUsers::new();
//! let ports = Ports { store: InMemoryTokenStore::new(), users: users.clone(),
//!     hasher: Pbkdf2Hasher::new(1000.try_into()?), claims: std::sync::Arc::new(jwt_core::ports::StoredUserClaims) };
//! let service = TokenService::new(engine, ports);
//! let alice = jwt_core::memory::example_user("1", "alice");
//! users.insert(alice.clone());
//! let pair = service.issue_pair_for(&alice).await?;
//! assert_eq!(service.authenticate(pair.access.as_str()).await?.user.username, "alice");
//! let rotated = service.refresh(pair.refresh.as_str()).await?;
//! assert!(rotated.refresh.is_some());
//! let replay = service.refresh(pair.refresh.as_str()).await.unwrap_err();
//! assert_eq!(replay.to_string(), "Token is blacklisted");
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap(); }
//! ```
#![deny(missing_docs)]

pub mod algorithm;
pub mod authorization;
pub mod claims;
pub mod engine;
pub mod error;
pub mod ids;
mod jws;
pub mod keys;
#[cfg(feature = "memory")]
pub mod memory;
pub mod password;
pub mod ports;
pub mod service;
pub mod settings;
pub mod system;
pub mod time;
pub mod token;
pub mod user;

pub use algorithm::{Algorithm, KeyFamily};
pub use claims::Claims;
pub use engine::TokenEngine;
pub use error::{ConfigError, InvalidReason, StoreError, TokenError};
pub use ids::{FamilyId, Jti, UserId};
pub use keys::{KeyMaterial, KeySet, SigningKey, VerifyingKey};
pub use service::Ports;
pub use service::{AuthToken, Authenticated, Credentials, Refreshed, TokenService};
pub use settings::Settings;
pub use time::Timestamp;
pub use token::{Access, Issued, Refresh, Sliding, TokenClaims, TokenPair, TokenType, Untyped, Verified};
pub use user::{TokenUser, User};

/// Escape hatches that skip verification. Audit every use.
pub mod dangerous {
    pub use crate::jws::decode_unverified;
}
