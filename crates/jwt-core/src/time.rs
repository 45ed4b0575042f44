//! Points in time as JWT NumericDate values.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Whole seconds since the Unix epoch (UTC), the unit of the `exp`, `iat`, `nbf` claims.
///
/// Fractions are truncated on purpose, as simplejwt does (`exp = floor(now) + lifetime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// A timestamp `secs` seconds after the epoch.
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs)
    }

    /// Seconds since the epoch.
    pub const fn as_secs(self) -> i64 {
        self.0
    }

    /// `self + duration`, saturating at the representable range.
    #[must_use]
    pub fn plus(self, duration: Duration) -> Self {
        Self(self.0.saturating_add(duration_secs(duration)))
    }

    /// `self - duration`, saturating at the representable range.
    #[must_use]
    pub fn minus(self, duration: Duration) -> Self {
        Self(self.0.saturating_sub(duration_secs(duration)))
    }

    /// Seconds from `earlier` to `self` (negative if `earlier` is later).
    pub fn seconds_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Whole seconds of a duration, saturating at `i64::MAX`.
pub(crate) fn duration_secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_and_truncates() {
        let t = Timestamp::from_secs(100);
        assert_eq!(t.plus(Duration::from_millis(1999)).as_secs(), 101);
        assert_eq!(t.minus(Duration::from_secs(300)).as_secs(), -200);
        assert_eq!(Timestamp::from_secs(i64::MAX).plus(Duration::from_secs(5)).as_secs(), i64::MAX);
        assert_eq!(Timestamp::from_secs(5).seconds_since(Timestamp::from_secs(2)), 3);
    }
}
