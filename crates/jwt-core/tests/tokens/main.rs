//! jwt-core's token tests: simplejwt vectors, known answers, every verification failure,
//! key loading and validation, rotation, and property tests of the JWS codec.
//!
//! One binary (see the style guide): each concern is a module.
#![cfg(test)]

mod failures;
mod helpers;
mod key_loading;
mod known_answers;
mod properties;
mod rotation;
mod vectors;
