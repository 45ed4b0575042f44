//! Adapters to the operating system: the real clock and the OS random source.

use ring::rand::SecureRandom as _;

use crate::error::RandomError;
use crate::ports::{Clock, SecureRandom};
use crate::time::Timestamp;

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place allowed to read the system clock
    fn now(&self) -> Timestamp {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Timestamp::from_secs(secs)
    }
}

/// The operating system's CSPRNG (through `ring`).
#[derive(Debug)]
pub struct OsRandom(ring::rand::SystemRandom);

impl OsRandom {
    /// The OS random source.
    pub fn new() -> Self {
        Self(ring::rand::SystemRandom::new())
    }
}

impl Default for OsRandom {
    fn default() -> Self {
        Self::new()
    }
}

impl SecureRandom for OsRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        self.0.fill(buf).map_err(|_| RandomError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_random_fills_and_clock_is_after_2020() {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        OsRandom::new().fill(&mut a).unwrap();
        OsRandom::new().fill(&mut b).unwrap();
        assert_ne!(a, b);
        assert!(SystemClock.now().as_secs() > 1_577_836_800);
    }
}
