//! Compact JWS encoding and decoding, byte-compatible with PyJWT.
//!
//! PyJWT 2.x writes the header with `json.dumps(header, separators=(",", ":"),
//! sort_keys=True)` and the payload with `json.dumps(payload, separators=(",", ":"))`, both
//! with Python's default `ensure_ascii=True`. [`write_py_json`] reproduces that output:
//! compact separators, every character outside printable ASCII escaped as
//! lowercase `\uXXXX` (astral characters as surrogate pairs, DEL included), `/` left alone,
//! and floats written as Python's `repr` writes them. The claims keep their insertion order,
//! so a token minted here is byte for byte the one simplejwt would mint.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::algorithm::Algorithm;
use crate::claims::Claims;
use crate::error::{InvalidReason, TokenError};
use crate::keys::{KeySet, SigningKey};

/// Encode `claims` signed by `key`, with header `{"alg":..,"kid":..,"typ":"JWT"}` (keys
/// sorted, compact JSON, non-ASCII escaped, as PyJWT writes it).
pub(crate) fn encode(claims: &Claims, key: &SigningKey) -> Result<String, TokenError> {
    // The claims JSON goes through a per-thread buffer: minting is a hot path and the buffer
    // would otherwise be allocated and freed for every token.
    JSON_BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut json) => {
            json.clear();
            let token = encode_with(claims, key, &mut json);
            if json.capacity() > MAX_KEPT_BUFFER {
                *json = Vec::new();
            }
            token
        }
        Err(_) => encode_with(claims, key, &mut Vec::new()),
    })
}

thread_local! {
    static JSON_BUFFER: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(512));
}

/// Buffers that grew past this (a huge token) are released rather than kept per thread.
const MAX_KEPT_BUFFER: usize = 16 * 1024;

fn encode_with(claims: &Claims, key: &SigningKey, json: &mut Vec<u8>) -> Result<String, TokenError> {
    write_py_object(json, claims.as_map());
    let header = key.header_b64();
    let payload_len = base64::encoded_len(json.len(), false)
        .ok_or_else(|| TokenError::Signing("the claims are too large".to_owned()))?;
    // header . payload . signature: room for every signature but RSA's (ES512's 176
    // characters at most; an RSA token grows once, next to a millisecond of signing).
    let mut token = Vec::with_capacity(header.len() + payload_len + 2 + 176);
    token.extend_from_slice(header.as_bytes());
    token.push(b'.');
    let start = token.len();
    token.resize(start + payload_len, 0);
    URL_SAFE_NO_PAD
        .encode_slice(&*json, &mut token[start..])
        .map_err(|e| TokenError::Signing(format!("the claims could not be encoded: {e}")))?;
    let signature = key.sign_b64(&token).map_err(TokenError::Signing)?;
    token.push(b'.');
    token.extend_from_slice(signature.as_bytes());
    // Every byte is base64url or '.': always valid UTF-8.
    String::from_utf8(token).map_err(|e| TokenError::Signing(e.to_string()))
}

/// Check structure, size, algorithm, `kid` and signature of `raw`; return its payload
/// (which must be a JSON object). No claim is checked here.
pub(crate) fn decode_verified(raw: &str, keys: &KeySet, max_len: usize) -> Result<Claims, InvalidReason> {
    if raw.len() > max_len {
        return Err(InvalidReason::TooLarge);
    }
    let parts = split(raw)?;
    let header_json = b64_decode(parts.header)?;
    let header: Header<'_> = serde_json::from_slice(&header_json).map_err(|_| InvalidReason::Malformed)?;
    // Structure first (the decoding is needed anyway), crypto next, and only a payload
    // whose signature verified is parsed as JSON.
    let payload = b64_decode(parts.payload)?;
    if !is_canonical_b64url(parts.signature) {
        return Err(InvalidReason::Malformed);
    }
    let key = keys.select(header.kid.as_deref(), &header.alg)?;
    if !key.verify_b64(parts.signed.as_bytes(), parts.signature) {
        return Err(InvalidReason::Signature);
    }
    serde_json::from_slice(&payload).map_err(|_| InvalidReason::Malformed)
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
    let parts = split(raw)?;
    let header = serde_json::from_slice(&b64_decode(parts.header)?).map_err(|_| InvalidReason::Malformed)?;
    let claims = serde_json::from_slice(&b64_decode(parts.payload)?).map_err(|_| InvalidReason::Malformed)?;
    Ok((header, claims))
}

/// The encoded JWS header for `algorithm` and `kid`, exactly as PyJWT writes it.
pub(crate) fn header_b64(algorithm: Algorithm, kid: Option<&str>) -> String {
    let mut json = Vec::with_capacity(48);
    json.extend_from_slice(b"{\"alg\":\"");
    json.extend_from_slice(algorithm.as_str().as_bytes());
    json.push(b'"');
    if let Some(kid) = kid {
        json.extend_from_slice(b",\"kid\":\"");
        write_py_string_contents(&mut json, kid);
        json.push(b'"');
    }
    json.extend_from_slice(b",\"typ\":\"JWT\"}");
    URL_SAFE_NO_PAD.encode(json)
}

/// The three segments of a compact JWS.
struct Parts<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
    /// `header.payload`, the signing input.
    signed: &'a str,
}

fn split(raw: &str) -> Result<Parts<'_>, InvalidReason> {
    let (signed, signature) = raw.rsplit_once('.').ok_or(InvalidReason::Malformed)?;
    let (header, payload) = signed.split_once('.').ok_or(InvalidReason::Malformed)?;
    if payload.contains('.') {
        return Err(InvalidReason::Malformed);
    }
    Ok(Parts { header, payload, signature, signed })
}

/// Strict base64url: no padding, no whitespace, no non-zero trailing bits.
fn b64_decode(segment: &str) -> Result<Vec<u8>, InvalidReason> {
    URL_SAFE_NO_PAD.decode(segment).map_err(|_| InvalidReason::Malformed)
}

/// What [`b64_decode`] would accept, without decoding.
fn is_canonical_b64url(segment: &str) -> bool {
    fn sextet(c: u8) -> Option<u8> {
        match c {
            b'A'..=b'Z' => Some(c - b'A'),
            b'a'..=b'z' => Some(c - b'a' + 26),
            b'0'..=b'9' => Some(c - b'0' + 52),
            b'-' => Some(62),
            b'_' => Some(63),
            _ => None,
        }
    }
    let bytes = segment.as_bytes();
    if bytes.len() % 4 == 1 || !bytes.iter().all(|&c| sextet(c).is_some()) {
        return false;
    }
    let unused_bits_mask = match bytes.len() % 4 {
        2 => 0x0f,
        3 => 0x03,
        _ => 0,
    };
    bytes.last().and_then(|&c| sextet(c)).is_none_or(|v| v & unused_bits_mask == 0)
}

/// The header members we act on. Parsing fails (→ malformed) unless the header is a JSON
/// object with a string `alg`, a string `kid` if any, no `crit`, and no `b64` other than
/// `true` (RFC 7797 unencoded payloads are not supported). Duplicate `alg`/`kid` fail too.
struct Header<'a> {
    alg: Cow<'a, str>,
    kid: Option<Cow<'a, str>>,
}

impl<'de> Deserialize<'de> for Header<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(HeaderVisitor)
    }
}

struct HeaderVisitor;

impl<'de> Visitor<'de> for HeaderVisitor {
    type Value = Header<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JWS header object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Header<'de>, A::Error> {
        let mut alg = None;
        let mut kid = None;
        while let Some(Text(name)) = map.next_key::<Text<'de>>()? {
            match name.as_ref() {
                "alg" => {
                    if alg.replace(map.next_value::<Text<'de>>()?.0).is_some() {
                        return Err(de::Error::duplicate_field("alg"));
                    }
                }
                "kid" => {
                    if kid.replace(map.next_value::<Text<'de>>()?.0).is_some() {
                        return Err(de::Error::duplicate_field("kid"));
                    }
                }
                "crit" => return Err(de::Error::custom("critical header extensions are not supported")),
                "b64" => {
                    if map.next_value::<serde_json::Value>()? != serde_json::Value::Bool(true) {
                        return Err(de::Error::custom("unencoded payloads (b64) are not supported"));
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let alg = alg.ok_or_else(|| de::Error::missing_field("alg"))?;
        Ok(Header { alg, kid })
    }
}

/// A JSON string, borrowed from the input when it has no escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// Write `value` as Python's `json.dumps(value, separators=(",", ":"))` would.
///
/// A direct writer rather than a serde_json `Formatter`: minting is a hot path, and this
/// scans each string once (serde_json plus a formatter scan it twice).
pub(crate) fn write_py_json(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                write_integer(out, i < 0, i.unsigned_abs());
            } else if let Some(u) = n.as_u64() {
                write_integer(out, false, u);
            } else {
                out.extend_from_slice(python_float_repr(n.as_f64().unwrap_or(f64::NAN)).as_bytes());
            }
        }
        Value::String(text) => write_py_string(out, text),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_py_json(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => write_py_object(out, map),
    }
}

/// [`write_py_json`] of an object, members in their order.
pub(crate) fn write_py_object(out: &mut Vec<u8>, map: &Map<String, Value>) {
    out.push(b'{');
    for (i, (name, value)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_py_string(out, name);
        out.push(b':');
        write_py_json(out, value);
    }
    out.push(b'}');
}

fn write_integer(out: &mut Vec<u8>, negative: bool, mut magnitude: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        // `magnitude % 10` is below 10.
        digits[at] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    if negative {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[at..]);
}

/// A quoted JSON string as Python writes it with `ensure_ascii`.
fn write_py_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    if text.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\') {
        out.extend_from_slice(text.as_bytes());
    } else {
        write_py_string_contents(out, text);
    }
    out.push(b'"');
}

/// The contents of a JSON string (without quotes) as Python writes them with `ensure_ascii`.
fn write_py_string_contents(out: &mut Vec<u8>, text: &str) {
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        let escape: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0x08 => Some(b"\\b"),
            0x0c => Some(b"\\f"),
            _ => None,
        };
        if let Some(escape) = escape {
            write_escaped_non_ascii(out, &text[start..i]);
            out.extend_from_slice(escape);
            start = i + 1;
        } else if b < 0x20 {
            write_escaped_non_ascii(out, &text[start..i]);
            push_u_escape(out, u16::from(b));
            start = i + 1;
        }
    }
    write_escaped_non_ascii(out, &text[start..]);
}

/// Copy `text`, escaping DEL and every non-ASCII character as `\uXXXX` (UTF-16 units).
fn write_escaped_non_ascii(out: &mut Vec<u8>, text: &str) {
    let mut plain_from = 0;
    for (i, c) in text.char_indices() {
        if c < '\u{7f}' {
            continue;
        }
        out.extend_from_slice(&text.as_bytes()[plain_from..i]);
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            push_u_escape(out, *unit);
        }
        plain_from = i + c.len_utf8();
    }
    out.extend_from_slice(&text.as_bytes()[plain_from..]);
}

fn push_u_escape(out: &mut Vec<u8>, unit: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"\\u");
    for shift in [12u16, 8, 4, 0] {
        out.push(HEX[usize::from((unit >> shift) & 0xf)]);
    }
}

/// A float as Python's `repr` writes it: the shortest round-tripping digits, positional
/// when the decimal exponent is in `-4 < e <= 16` (with `.0` for integral values), else
/// `d.ddde±XX` with at least two exponent digits.
fn python_float_repr(value: f64) -> String {
    if !value.is_finite() {
        // Not reachable from serde_json values; Python would write a non-JSON token.
        return "null".to_owned();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "-1.2345e-7".
    let sci = format!("{value:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let decpt = exponent + 1;
    let mut out = String::with_capacity(digits.len() + 8);
    out.push_str(sign);
    if decpt <= -4 || decpt > 16 {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let e = decpt - 1;
        out.push('e');
        out.push(if e < 0 { '-' } else { '+' });
        let magnitude = e.unsigned_abs();
        if magnitude < 10 {
            out.push('0');
        }
        out.push_str(&magnitude.to_string());
    } else if decpt <= 0 {
        out.push_str("0.");
        for _ in 0..decpt.unsigned_abs() {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let point = usize::try_from(decpt).unwrap_or(0);
        if point >= digits.len() {
            out.push_str(&digits);
            for _ in digits.len()..point {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn py(value: &serde_json::Value) -> String {
        let mut out = Vec::new();
        write_py_json(&mut out, value);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn floats_are_written_as_python_repr() {
        // Expected strings are Python 3's repr() of the same values.
        let cases: [(f64, &str); 16] = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (100.0, "100.0"),
            (0.1, "0.1"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.2345e20, "1.2345e+20"),
            (1767225600.5, "1767225600.5"),
            (1e100, "1e+100"),
            (5e-324, "5e-324"),
        ];
        for (value, expected) in cases {
            assert_eq!(python_float_repr(value), expected, "{value:e}");
        }
    }

    #[test]
    fn strings_are_escaped_as_python_ensure_ascii() {
        let value = json!({"k\u{e9}y": "caf\u{e9} \u{1f600} \u{7f} a/b \"q\" \\ \n\t\u{1}\u{8}\u{c}"});
        assert_eq!(py(&value), r#"{"k\u00e9y":"caf\u00e9 \ud83d\ude00 \u007f a/b \"q\" \\ \n\t\u0001\b\f"}"#);
        assert_eq!(py(&json!([1, -2, true, null, 1.5, {"a": []}])), r#"[1,-2,true,null,1.5,{"a":[]}]"#);
        assert_eq!(
            py(&json!([0, -1, i64::MIN, i64::MAX, u64::MAX, -0.0, 1e300])),
            "[0,-1,-9223372036854775808,9223372036854775807,18446744073709551615,-0.0,1e+300]"
        );
        assert_eq!(py(&json!({"a\"b": {"\u{7f}": "x\\y"}})), r#"{"a\"b":{"\u007f":"x\\y"}}"#);
    }

    #[test]
    fn header_strings_use_the_same_escaping() {
        let mut out = Vec::new();
        write_py_string_contents(&mut out, "k\u{e9}\"\\\n\u{1}\u{1f600}\u{7f}/");
        assert_eq!(String::from_utf8(out).unwrap(), r#"k\u00e9\"\\\n\u0001\ud83d\ude00\u007f/"#);
        let decoded = URL_SAFE_NO_PAD.decode(header_b64(Algorithm::ES256, Some("k1"))).unwrap();
        assert_eq!(decoded, br#"{"alg":"ES256","kid":"k1","typ":"JWT"}"#);
        assert_eq!(header_b64(Algorithm::HS256, None), "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
    }

    #[test]
    fn canonical_base64url_check_matches_the_decoder() {
        for s in ["", "AA", "AB", "AAA", "AAB", "AAAA", "A", "AA==", "A+B/", "-_-_", "AQ", "AR", "AAE", "AAF"]
        {
            assert_eq!(is_canonical_b64url(s), URL_SAFE_NO_PAD.decode(s).is_ok(), "{s:?}");
        }
    }

    #[test]
    fn split_requires_exactly_three_segments() {
        assert!(split("a.b.c").is_ok());
        assert!(split("a.b").is_err());
        assert!(split("a.b.c.d").is_err());
        assert!(split("abc").is_err());
        let parts = split("h.p.s").unwrap();
        assert_eq!((parts.header, parts.payload, parts.signature, parts.signed), ("h", "p", "s", "h.p"));
    }

    #[test]
    fn header_parsing_rejects_what_it_must() {
        let parse = |s: &str| {
            serde_json::from_str::<Header<'_>>(s).map(|h| (h.alg.into_owned(), h.kid.map(Cow::into_owned)))
        };
        assert_eq!(parse(r#"{"alg":"HS256","typ":"JWT"}"#).unwrap(), ("HS256".into(), None));
        assert_eq!(
            parse(r#"{"kid":"a\"b","alg":"ES256","b64":true}"#).unwrap(),
            ("ES256".into(), Some("a\"b".into()))
        );
        for bad in [
            r#"{"typ":"JWT"}"#,
            r#"{"alg":null}"#,
            r#"{"alg":256}"#,
            r#"{"alg":"HS256","kid":7}"#,
            r#"{"alg":"HS256","kid":null}"#,
            r#"{"alg":"HS256","crit":["exp"]}"#,
            r#"{"alg":"HS256","b64":false}"#,
            r#"{"alg":"HS256","alg":"none"}"#,
            r#"["alg","HS256"]"#,
            r#""HS256""#,
            r#"{"alg":"HS256"} x"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
