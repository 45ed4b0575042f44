#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // test helpers panic on purpose
//! In-process tests of the HTTP API over the in-memory adapters: every case of
//! `shared/spec/simplejwt-observed.md`, bad input, routing, the extractors, the OpenAPI
//! document and the operational endpoints.

mod extractor;
mod helpers;
mod http;
mod logging;
mod logout;
mod me;
mod openapi;
mod ops;
mod sliding;
mod tokens;
