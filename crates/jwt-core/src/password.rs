//! Django-compatible PBKDF2 password hashes (`pbkdf2_sha256$<iterations>$<salt>$<hash>`).
//!
//! Users imported from a Django database keep their passwords: these functions verify
//! Django's default hash format with `ring::pbkdf2`. They are CPU-bound and synchronous;
//! async callers run them off the executor (as `jwt-store`'s hasher does).

use std::num::NonZeroU32;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::pbkdf2;

use crate::error::RandomError;
use crate::ports::SecureRandom;

/// The algorithm prefix of Django's default hasher.
pub const DJANGO_PBKDF2_PREFIX: &str = "pbkdf2_sha256$";

/// Iterations Django 5.1+ uses for new hashes.
pub const DJANGO_DEFAULT_ITERATIONS: u32 = 870_000;

/// Largest iteration count accepted from a stored hash (a bound on work per login attempt).
pub const MAX_ITERATIONS: u32 = 10_000_000;

/// `true` if `encoded` looks like a Django PBKDF2-SHA256 hash.
pub fn is_django_pbkdf2(encoded: &str) -> bool {
    encoded.starts_with(DJANGO_PBKDF2_PREFIX)
}

/// Check `password` against a Django `pbkdf2_sha256$...` hash in constant time.
///
/// Returns `false` for a wrong password and for any hash that cannot be parsed.
pub fn verify_django_pbkdf2(password: &str, encoded: &str) -> bool {
    let Some(rest) = encoded.strip_prefix(DJANGO_PBKDF2_PREFIX) else {
        return false;
    };
    let mut parts = rest.splitn(3, '$');
    let (Some(iterations), Some(salt), Some(hash)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Some(iterations) =
        iterations.parse::<u32>().ok().filter(|i| *i <= MAX_ITERATIONS).and_then(NonZeroU32::new)
    else {
        return false;
    };
    let Ok(expected) = STANDARD.decode(hash) else {
        return false;
    };
    if expected.is_empty() || expected.len() > 64 {
        return false;
    }
    pbkdf2::verify(pbkdf2::PBKDF2_HMAC_SHA256, iterations, salt.as_bytes(), password.as_bytes(), &expected)
        .is_ok()
}

/// Hash `password` in Django's format with a random 22-character salt.
///
/// # Errors
/// [`RandomError`] if the random source fails.
pub fn hash_django_pbkdf2(
    password: &str,
    iterations: NonZeroU32,
    random: &dyn SecureRandom,
) -> Result<String, RandomError> {
    const SALT_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut bytes = [0u8; 22];
    random.fill(&mut bytes)?;
    let salt: String =
        bytes.iter().map(|b| char::from(SALT_CHARS[usize::from(*b) % SALT_CHARS.len()])).collect();
    let mut out = [0u8; 32];
    pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, iterations, salt.as_bytes(), password.as_bytes(), &mut out);
    Ok(format!("{DJANGO_PBKDF2_PREFIX}{iterations}${salt}${}", STANDARD.encode(out)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::OsRandom;

    #[test]
    fn round_trips_its_own_hashes() {
        let encoded = hash_django_pbkdf2("s3cret", NonZeroU32::new(1000).unwrap(), &OsRandom::new()).unwrap();
        assert!(verify_django_pbkdf2("s3cret", &encoded));
        assert!(!verify_django_pbkdf2("s3cret ", &encoded));
    }

    #[test]
    fn known_django_vector() {
        // Django's PBKDF2PasswordHasher.encode("lètmein", "seasalt", 870000), computed with
        // Python's hashlib.pbkdf2_hmac (the function Django calls).
        let encoded = "pbkdf2_sha256$870000$seasalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac=";
        assert!(verify_django_pbkdf2("lètmein", encoded));
        assert!(!verify_django_pbkdf2("letmein", encoded));
    }

    #[test]
    fn garbage_never_verifies() {
        for encoded in [
            "",
            "pbkdf2_sha256$",
            "pbkdf2_sha256$0$s$aGFzaA==",
            "pbkdf2_sha256$x$s$h",
            "pbkdf2_sha256$99999999999$s$aGFzaA==",
            "argon2$...",
        ] {
            assert!(!verify_django_pbkdf2("x", encoded), "{encoded}");
        }
    }
}
