//! Key generation from the injected [`SecureRandom`] port.
//!
//! Every random byte of a generated key comes from the port, so tests that inject
//! `SeqRandom` get the same key every run, and a server gets the OS generator through
//! `OsRandom`. We cannot hand our port to `ring` (its `SecureRandom` trait is sealed), so
//! generation uses the RustCrypto constructors instead:
//!
//! - HMAC: 64 bytes from the port (at least the hash size for HS256/384/512, RFC 7518 §3.2).
//! - Ed25519: the 32-byte seed from the port (RFC 8032 private keys are exactly that).
//! - ECDSA: a scalar read from the port and accepted if it lies in `[1, n)`, else redrawn
//!   (rejection sampling: for P-256 a redraw happens with probability below 2^-32; the
//!   top 7 bits of a P-521 draw are cleared, since its 66-byte field holds 521 bits).
//! - RSA (2048 bits): `rsa`'s prime generation driven by [`PortRng`], a `rand_core`
//!   adapter over the port.
//!
//! A failing port never panics: [`PortRng`] records the failure, keeps the caller's loop
//! moving with filler bytes, and generation then returns [`ConfigError::Key`], discarding
//! whatever was computed from the filler.

use p256::elliptic_curve::{CurveArithmetic, FieldBytes, SecretKey};
use rsa::RsaPrivateKey;
use zeroize::Zeroizing;

use super::parse::{PrivateKey, key_error};
use crate::algorithm::KeyFamily;
use crate::error::ConfigError;
use crate::ports::SecureRandom;

/// Bits of a generated RSA key.
pub(crate) const RSA_GENERATED_BITS: usize = 2048;
/// Bytes of a generated HMAC secret.
pub(crate) const HMAC_GENERATED_LEN: usize = 64;
/// Redraws allowed before ECDSA generation gives up (each fails with probability < 2^-32).
const MAX_SCALAR_DRAWS: usize = 16;

/// A `rand_core` 0.6 generator that reads the [`SecureRandom`] port.
///
/// `RngCore::fill_bytes` cannot fail, so a port failure is recorded (see
/// [`PortRng::failed`]) and the buffer is filled from a SplitMix64 counter instead, which lets
/// algorithms that loop until they find a good value terminate. Callers MUST check
/// [`PortRng::failed`] and discard the result when it is `true`.
pub(crate) struct PortRng<'a> {
    port: &'a dyn SecureRandom,
    failed: bool,
    filler: u64,
}

impl<'a> PortRng<'a> {
    pub(crate) fn new(port: &'a dyn SecureRandom) -> Self {
        Self { port, failed: false, filler: 0 }
    }

    /// Whether the port failed at least once.
    pub(crate) fn failed(&self) -> bool {
        self.failed
    }

    fn fill_filler(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            self.filler = self.filler.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.filler;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            let bytes = z.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

impl rand_core::RngCore for PortRng<'_> {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        if self.port.fill(dest).is_err() {
            self.failed = true;
            self.fill_filler(dest);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// The port's output is cryptographically secure by the port's contract.
impl rand_core::CryptoRng for PortRng<'_> {}

fn random_failed() -> ConfigError {
    key_error("the secure random source failed while generating a key")
}

/// A fresh HMAC secret.
pub(crate) fn hmac_secret(random: &dyn SecureRandom) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
    let mut secret = Zeroizing::new(vec![0u8; HMAC_GENERATED_LEN]);
    random.fill(&mut secret).map_err(|_| random_failed())?;
    Ok(secret)
}

/// A fresh private key of `family` (not HMAC).
pub(crate) fn private_key(family: KeyFamily, random: &dyn SecureRandom) -> Result<PrivateKey, ConfigError> {
    Ok(match family {
        KeyFamily::Hmac => return Err(key_error("HMAC secrets are not private keys")),
        KeyFamily::Ed25519 => {
            let mut seed = Zeroizing::new([0u8; 32]);
            random.fill(seed.as_mut()).map_err(|_| random_failed())?;
            PrivateKey::Ed25519(Box::new(ed25519_dalek::SigningKey::from_bytes(&seed)))
        }
        KeyFamily::P256 => PrivateKey::P256(scalar::<p256::NistP256>(random, 0xff)?),
        KeyFamily::P384 => PrivateKey::P384(scalar::<p384::NistP384>(random, 0xff)?),
        KeyFamily::P521 => PrivateKey::P521(scalar::<p521::NistP521>(random, 0x01)?),
        KeyFamily::Rsa => {
            // A source that is down fails here, instead of after a whole generation run
            // on filler bytes.
            random.fill(&mut [0u8; 8]).map_err(|_| random_failed())?;
            let mut rng = PortRng::new(random);
            let key = RsaPrivateKey::new(&mut rng, RSA_GENERATED_BITS)
                .map_err(|e| key_error(format!("RSA key generation failed: {e}")))?;
            if rng.failed() {
                return Err(random_failed());
            }
            PrivateKey::Rsa(Box::new(key))
        }
    })
}

/// A secret scalar in `[1, n)` by rejection sampling; `top_mask` clears the unused high bits
/// of the first (most significant) byte.
fn scalar<C: CurveArithmetic>(random: &dyn SecureRandom, top_mask: u8) -> Result<SecretKey<C>, ConfigError> {
    let mut bytes = Zeroizing::new(FieldBytes::<C>::default());
    for _ in 0..MAX_SCALAR_DRAWS {
        random.fill(&mut bytes[..]).map_err(|_| random_failed())?;
        if let Some(first) = bytes.first_mut() {
            *first &= top_mask;
        }
        if let Ok(key) = SecretKey::<C>::from_bytes(&bytes) {
            return Ok(key);
        }
    }
    Err(key_error("the secure random source keeps producing invalid EC scalars"))
}
