//! End-to-end tests: the real `jwt-server` binary on port 0 with a fresh SQLite file per
//! test, driven over HTTP and through its command line.
//!
//! Run with `cargo test -p jwt-server --test e2e`.

// A test harness: a failed expectation is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod flow;
mod helpers;
mod jwks;
mod misconfig;
mod ops;
