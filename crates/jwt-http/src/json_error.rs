//! The messages Python's `json` module gives for malformed documents, so that
//! `{"detail":"JSON parse error - ..."}` reads like Django REST Framework's.
//!
//! This runs only after `serde_json` rejected a body: it re-scans the text the way CPython's
//! scanner does and reports the first error Python would report, with Python's
//! `line L column C (char N)` position (counted in characters).

/// Deepest nesting of arrays and objects accepted: `serde_json`'s limit, which is what
/// actually refuses a document. Deeper documents are reported like Python's recursion error
/// (Python's own limit is higher, but the message must explain why we refused).
const MAX_DEPTH: usize = 127;

/// Why a scan stopped.
enum Fail {
    /// Python's `JSONDecodeError` message and its character position.
    At(&'static str, usize),
    /// A `ValueError` without position (DRF's strict float constants).
    Plain(String),
}

/// The error Python's `json.loads` would raise for `text`, rendered as `str(exc)`, or `None`
/// if Python would accept it.
pub(crate) fn python_json_error(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let scanner = Scanner { s: &chars };
    if chars.first() == Some(&'\u{feff}') {
        return Some(render(&chars, "Unexpected UTF-8 BOM (decode using utf-8-sig)", 0));
    }
    let start = scanner.skip_ws(0);
    let result = scanner.scan_once(start, 0).and_then(|end| {
        let end = scanner.skip_ws(end);
        if end == chars.len() { Ok(()) } else { Err(Fail::At("Extra data", end)) }
    });
    match result {
        Ok(()) => None,
        Err(Fail::At(msg, pos)) => Some(render(&chars, msg, pos)),
        Err(Fail::Plain(msg)) => Some(msg),
    }
}

/// The message of Python's `'utf-8' codec can't decode` error for bytes that are not UTF-8.
pub(crate) fn python_utf8_error(bytes: &[u8], err: &std::str::Utf8Error) -> String {
    let pos = err.valid_up_to();
    let byte = bytes.get(pos).copied().unwrap_or_default();
    let reason = match err.error_len() {
        None => "unexpected end of data",
        Some(_) if !(0xc2..=0xf4).contains(&byte) => "invalid start byte",
        Some(_) => "invalid continuation byte",
    };
    format!("'utf-8' codec can't decode byte 0x{byte:02x} in position {pos}: {reason}")
}

fn render(chars: &[char], msg: &str, pos: usize) -> String {
    let before = &chars[..pos.min(chars.len())];
    let line = before.iter().filter(|&&c| c == '\n').count() + 1;
    let column = match before.iter().rposition(|&c| c == '\n') {
        Some(nl) => pos - nl,
        None => pos + 1,
    };
    format!("{msg}: line {line} column {column} (char {pos})")
}

struct Scanner<'a> {
    s: &'a [char],
}

impl Scanner<'_> {
    fn at(&self, idx: usize) -> Option<char> {
        self.s.get(idx).copied()
    }

    fn skip_ws(&self, mut idx: usize) -> usize {
        while matches!(self.at(idx), Some(' ' | '\t' | '\n' | '\r')) {
            idx += 1;
        }
        idx
    }

    fn starts_with(&self, idx: usize, word: &str) -> bool {
        word.chars().enumerate().all(|(i, c)| self.at(idx + i) == Some(c))
    }

    /// One JSON value starting exactly at `idx`; returns the index after it.
    fn scan_once(&self, idx: usize, depth: usize) -> Result<usize, Fail> {
        let nested = |depth: usize| {
            if depth > MAX_DEPTH {
                Err(Fail::Plain("maximum recursion depth exceeded while decoding a JSON document".into()))
            } else {
                Ok(depth)
            }
        };
        match self.at(idx) {
            None => Err(Fail::At("Expecting value", idx)),
            Some('"') => self.scan_string(idx + 1),
            Some('{') => self.scan_object(idx + 1, nested(depth + 1)?),
            Some('[') => self.scan_array(idx + 1, nested(depth + 1)?),
            Some('n') if self.starts_with(idx, "null") => Ok(idx + 4),
            Some('t') if self.starts_with(idx, "true") => Ok(idx + 4),
            Some('f') if self.starts_with(idx, "false") => Ok(idx + 5),
            Some('N') if self.starts_with(idx, "NaN") => Err(constant("'NaN'")),
            Some('I') if self.starts_with(idx, "Infinity") => Err(constant("'Infinity'")),
            Some('-') if self.starts_with(idx, "-Infinity") => Err(constant("'-Infinity'")),
            Some(_) => self.scan_number(idx).ok_or(Fail::At("Expecting value", idx)),
        }
    }

    /// `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`
    fn scan_number(&self, start: usize) -> Option<usize> {
        let digit = |i: usize| self.at(i).is_some_and(|c| c.is_ascii_digit());
        let mut idx = start;
        if self.at(idx) == Some('-') {
            idx += 1;
        }
        match self.at(idx) {
            Some('0') => idx += 1,
            Some('1'..='9') => {
                while digit(idx) {
                    idx += 1;
                }
            }
            _ => return None,
        }
        if self.at(idx) == Some('.') && digit(idx + 1) {
            idx += 1;
            while digit(idx) {
                idx += 1;
            }
        }
        if matches!(self.at(idx), Some('e' | 'E')) {
            let mut exp = idx + 1;
            if matches!(self.at(exp), Some('+' | '-')) {
                exp += 1;
            }
            if digit(exp) {
                while digit(exp) {
                    exp += 1;
                }
                idx = exp;
            }
        }
        Some(idx)
    }

    /// A string whose opening quote is at `idx - 1`.
    fn scan_string(&self, mut idx: usize) -> Result<usize, Fail> {
        let begin = idx - 1;
        loop {
            match self.at(idx) {
                None => return Err(Fail::At("Unterminated string starting at", begin)),
                Some('"') => return Ok(idx + 1),
                Some('\\') => match self.at(idx + 1) {
                    None => return Err(Fail::At("Unterminated string starting at", begin)),
                    Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') => idx += 2,
                    Some('u') => {
                        let hex =
                            (idx + 2..idx + 6).all(|i| self.at(i).is_some_and(|c| c.is_ascii_hexdigit()));
                        if !hex {
                            return Err(Fail::At("Invalid \\uXXXX escape", idx + 1));
                        }
                        idx += 6;
                    }
                    Some(_) => return Err(Fail::At("Invalid \\escape", idx)),
                },
                Some(c) if u32::from(c) < 0x20 => return Err(Fail::At("Invalid control character at", idx)),
                Some(_) => idx += 1,
            }
        }
    }

    /// An object whose `{` is at `idx - 1`.
    fn scan_object(&self, idx: usize, depth: usize) -> Result<usize, Fail> {
        let mut idx = self.skip_ws(idx);
        if self.at(idx) == Some('}') {
            return Ok(idx + 1);
        }
        loop {
            if self.at(idx) != Some('"') {
                return Err(Fail::At("Expecting property name enclosed in double quotes", idx));
            }
            idx = self.skip_ws(self.scan_string(idx + 1)?);
            if self.at(idx) != Some(':') {
                return Err(Fail::At("Expecting ':' delimiter", idx));
            }
            idx = self.skip_ws(idx + 1);
            idx = self.skip_ws(self.scan_once(idx, depth)?);
            match self.at(idx) {
                Some('}') => return Ok(idx + 1),
                Some(',') => idx = self.skip_ws(idx + 1),
                _ => return Err(Fail::At("Expecting ',' delimiter", idx)),
            }
        }
    }

    /// An array whose `[` is at `idx - 1`.
    fn scan_array(&self, idx: usize, depth: usize) -> Result<usize, Fail> {
        let mut idx = self.skip_ws(idx);
        if self.at(idx) == Some(']') {
            return Ok(idx + 1);
        }
        loop {
            idx = self.skip_ws(self.scan_once(idx, depth)?);
            match self.at(idx) {
                Some(']') => return Ok(idx + 1),
                Some(',') => idx = self.skip_ws(idx + 1),
                _ => return Err(Fail::At("Expecting ',' delimiter", idx)),
            }
        }
    }
}

fn constant(repr: &str) -> Fail {
    Fail::Plain(format!("Out of range float values are not JSON compliant: {repr}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        python_json_error(text).unwrap_or_else(|| panic!("{text:?} should be rejected"))
    }

    #[test]
    fn messages_match_python() {
        assert_eq!(
            err(r#"{"username": "alice","#),
            "Expecting property name enclosed in double quotes: line 1 column 22 (char 21)"
        );
        assert_eq!(err(""), "Expecting value: line 1 column 1 (char 0)");
        assert_eq!(err("   "), "Expecting value: line 1 column 4 (char 3)");
        assert_eq!(err("hello"), "Expecting value: line 1 column 1 (char 0)");
        assert_eq!(err(r#"{"a" 1}"#), "Expecting ':' delimiter: line 1 column 6 (char 5)");
        assert_eq!(err(r#"{"a": 1 "b": 2}"#), "Expecting ',' delimiter: line 1 column 9 (char 8)");
        assert_eq!(err(r#"{"a": }"#), "Expecting value: line 1 column 7 (char 6)");
        assert_eq!(err(r#"{"a": "x"#), "Unterminated string starting at: line 1 column 7 (char 6)");
        assert_eq!(err("{}\n{}"), "Extra data: line 2 column 1 (char 3)");
        assert_eq!(err("[1, 2"), "Expecting ',' delimiter: line 1 column 6 (char 5)");
        assert_eq!(err("{\n  \"a\": tru\n}"), "Expecting value: line 2 column 8 (char 9)");
        assert_eq!(err("\"a\u{1}\""), "Invalid control character at: line 1 column 3 (char 2)");
        assert_eq!(err(r#""\x""#), "Invalid \\escape: line 1 column 2 (char 1)");
        assert_eq!(
            err("\u{feff}{}"),
            "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)"
        );
        assert_eq!(err("NaN"), "Out of range float values are not JSON compliant: 'NaN'");
        assert_eq!(err("[-Infinity]"), "Out of range float values are not JSON compliant: '-Infinity'");
        assert_eq!(err("01"), "Extra data: line 1 column 2 (char 1)");
        // positions count characters, not bytes
        assert_eq!(err(r#"{"é": }"#), "Expecting value: line 1 column 7 (char 6)");
    }

    #[test]
    fn valid_documents_pass_and_deep_nesting_does_not_overflow() {
        for ok in ["{}", " [1, -2.5e3, \"x\\u00e9\", true, false, null, {\"a\": []}] ", "0", "\"\""] {
            assert_eq!(python_json_error(ok), None, "{ok}");
        }
        let deep = "[".repeat(100_000);
        assert!(err(&deep).contains("recursion"));
    }

    /// A document that `serde_json` refuses for its nesting gets Python's recursion message,
    /// never serde's wording; one it accepts is not reported.
    #[test]
    fn nesting_limit_is_serde_jsons() {
        for depth in 100..140 {
            let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            let with_scalar = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
            let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
            let mixed = format!("{}[]{}", "{\"a\":[".repeat(depth / 2), "]}".repeat(depth / 2));
            for doc in [arrays, with_scalar, objects, mixed] {
                let serde_ok = serde_json::from_str::<serde_json::Value>(&doc).is_ok();
                match python_json_error(&doc) {
                    None => assert!(serde_ok, "depth {depth}: serde refuses what the scanner accepts"),
                    Some(msg) => {
                        assert!(!serde_ok, "depth {depth}: {msg}");
                        assert_eq!(msg, "maximum recursion depth exceeded while decoding a JSON document");
                    }
                }
            }
        }
    }

    #[test]
    fn utf8_errors_read_like_python_codecs() {
        let bytes: &[u8] = &[b'{', b'"', b'a', b'"', b':', b' ', b'"', 0xff, b'"', b'}'];
        let e = std::str::from_utf8(std::hint::black_box(bytes)).unwrap_err();
        assert_eq!(
            python_utf8_error(bytes, &e),
            "'utf-8' codec can't decode byte 0xff in position 7: invalid start byte"
        );
        let bytes: &[u8] = &[0xc3];
        let e = std::str::from_utf8(std::hint::black_box(bytes)).unwrap_err();
        assert_eq!(
            python_utf8_error(bytes, &e),
            "'utf-8' codec can't decode byte 0xc3 in position 0: unexpected end of data"
        );
    }
}
