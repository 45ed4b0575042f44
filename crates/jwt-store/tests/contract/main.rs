//! The `jwt-store` contract suite: every port method and contract sentence, run against
//! SQLite always and against PostgreSQL / MariaDB when `JWT_TEST_POSTGRES_URL` /
//! `JWT_TEST_MYSQL_URL` name a server (each test gets a fresh database, dropped afterwards).
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns panic on setup failure

mod concurrency;
mod connect;
mod harness;
mod keys;
mod migrations;
mod service;
mod tokens;
mod users;
