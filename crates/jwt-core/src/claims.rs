//! The payload of a token: an ordered JSON object.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::time::Timestamp;

/// A token's claims, in insertion order (the order simplejwt writes them in).
///
/// Setting an existing claim keeps its position, as a Python dict does, so rotating a
/// refresh token yields the same byte layout simplejwt would produce.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Claims(Map<String, Value>);

impl Claims {
    /// No claims.
    pub fn new() -> Self {
        Self(Map::new())
    }

    /// Set `name` to `value`, keeping its position if it exists.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        self.0.insert(name.into(), value.into());
    }

    /// Remove a claim, returning it.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.0.shift_remove(name)
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// `true` if `name` is present (even as `null`).
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// The claim as a string, if it is one.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    /// A NumericDate claim (`exp`, `iat`, ...): an integer, or a float truncated toward zero,
    /// as PyJWT's `int(payload[...])` does. `None` if absent or not a number.
    pub fn get_timestamp(&self, name: &str) -> Option<Timestamp> {
        numeric_date(self.0.get(name)?).map(Timestamp::from_secs)
    }

    /// Iterate over the claims in order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter()
    }

    /// Number of claims.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `true` if there are no claims.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The underlying JSON object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// Consume into the underlying JSON object.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }
}

impl From<Map<String, Value>> for Claims {
    fn from(map: Map<String, Value>) -> Self {
        Self(map)
    }
}

/// Interpret a JSON value as NumericDate seconds.
pub(crate) fn numeric_date(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            let f = n.as_f64()?;
            // `as` saturates; NaN cannot come out of serde_json.
            f.is_finite().then_some(f.trunc() as i64)
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_keeps_position_like_a_python_dict() {
        let mut c = Claims::new();
        c.set("token_type", "refresh");
        c.set("exp", 10);
        c.set("jti", "a");
        c.set("exp", 20);
        let keys: Vec<_> = c.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["token_type", "exp", "jti"]);
        assert_eq!(c.get_timestamp("exp"), Some(Timestamp::from_secs(20)));
    }

    #[test]
    fn numeric_dates_accept_floats_and_reject_strings() {
        let c: Claims = serde_json::from_value(json!({"a": 1.9, "b": "1", "c": -2.5})).unwrap();
        assert_eq!(c.get_timestamp("a"), Some(Timestamp::from_secs(1)));
        assert_eq!(c.get_timestamp("b"), None);
        assert_eq!(c.get_timestamp("c"), Some(Timestamp::from_secs(-2)));
    }
}
