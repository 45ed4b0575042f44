//! Compact JWS encoding and decoding, byte-compatible with PyJWT.

use crate::claims::Claims;
use crate::error::{InvalidReason, TokenError};
use crate::keys::{KeySet, SigningKey};

/// Encode `claims` signed by `key`, with header `{"alg":..,"kid":..,"typ":"JWT"}` (keys
/// sorted, compact JSON, non-ASCII escaped, as PyJWT writes it).
pub(crate) fn encode(claims: &Claims, key: &SigningKey) -> Result<String, TokenError> {
    let _ = (claims, key);
    todo!()
}

/// Check structure, size, algorithm, `kid` and signature of `raw`; return its payload
/// (which must be a JSON object). No claim is checked here.
pub(crate) fn decode_verified(raw: &str, keys: &KeySet, max_len: usize) -> Result<Claims, InvalidReason> {
    let _ = (raw, keys, max_len);
    todo!()
}

/// Decode header and payload of `raw` WITHOUT checking the signature or any claim.
///
/// Only for inspecting tokens (debugging, logging a `kid`); never for authentication.
///
/// # Errors
/// [`InvalidReason::Malformed`] if `raw` is not a compact JWS with JSON object parts.
pub fn decode_unverified(
    raw: &str,
) -> Result<(serde_json::Map<String, serde_json::Value>, Claims), InvalidReason> {
    let _ = raw;
    todo!()
}
