//! SeaORM entities of the tables created by `jwt-migrations` (kept in step with them by the
//! contract tests, which run every query against the migrated schema).
#![allow(missing_docs, unreachable_pub)] // field-per-column models, private to the crate

pub(crate) mod blacklisted_token;
pub(crate) mod outstanding_token;
pub(crate) mod signing_key;
pub(crate) mod user;
