//! Request bodies parsed the way Django REST Framework parses them: JSON, form-urlencoded
//! or multipart, read with a size limit, with `CharField` validation and DRF's error bodies.

use poem::http::{StatusCode, header};
use poem::web::{Form, Multipart};
use poem::{Body, FromRequest, Request, RequestBody};
use poem_openapi::registry::{MetaMediaType, MetaRequest, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use serde_json::{Map, Value};

use crate::error::{ErrorResponse, FieldErrors};
use crate::json_error::{python_json_error, python_utf8_error};

/// The body size and time limits, as request data (set by the app; the defaults when absent).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimit {
    /// Largest body in bytes.
    pub(crate) bytes: usize,
    /// Longest time to receive it.
    pub(crate) read_timeout: std::time::Duration,
}

impl Default for BodyLimit {
    fn default() -> Self {
        Self { bytes: crate::DEFAULT_MAX_BODY_BYTES, read_timeout: crate::DEFAULT_BODY_READ_TIMEOUT }
    }
}

/// `413 {"detail":"Request body exceeded N bytes."}`.
pub(crate) fn too_large(limit: usize) -> ErrorResponse {
    ErrorResponse::detail(StatusCode::PAYLOAD_TOO_LARGE, format!("Request body exceeded {limit} bytes."))
}

/// `true` if the request's `Content-Length` exceeds `limit`.
pub(crate) fn declares_more_than(req: &Request, limit: usize) -> bool {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|len| len > limit as u64)
}

fn unsupported(content_type: &str) -> ErrorResponse {
    ErrorResponse::detail(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!("Unsupported media type \"{content_type}\" in request."),
    )
}

/// The parsers DRF tries, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parser {
    Json,
    Form,
    Multipart,
}

/// Which parser accepts `content_type` (DRF's `media_type_matches`: type and subtype equal,
/// `*` on the request side matching anything).
fn select_parser(content_type: &str) -> Option<Parser> {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let (main, sub) = essence.split_once('/')?;
    let matches = |m: &str, s: &str| (main == "*" || main == m) && (sub == "*" || sub == s);
    if matches("application", "json") {
        Some(Parser::Json)
    } else if matches("application", "x-www-form-urlencoded") {
        Some(Parser::Form)
    } else if matches("multipart", "form-data") {
        Some(Parser::Multipart)
    } else {
        None
    }
}

/// Python's type name of a JSON value, for "Expected a dictionary, but got list.".
fn python_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Read and parse the request body into DRF's `request.data`: a JSON object, or the fields
/// of a form (last value wins; file parts become objects, which no `CharField` accepts).
///
/// # Errors
/// The DRF-shaped response: 413 over the limit, 415 for other content types, 400 for
/// malformed JSON or multipart and for a JSON body that is not an object.
pub(crate) async fn read_data(
    req: &Request,
    body: &mut RequestBody,
) -> Result<Map<String, Value>, ErrorResponse> {
    let BodyLimit { bytes: limit, read_timeout } = req.data::<BodyLimit>().copied().unwrap_or_default();
    if declares_more_than(req, limit) {
        return Err(too_large(limit));
    }
    let body = body.take().map_err(|e| {
        tracing::error!(error = %e, "request body already taken");
        ErrorResponse::internal()
    })?;
    let read = tokio::time::timeout(read_timeout, body.into_bytes_limit(limit)).await;
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Err(_elapsed) => {
            return Err(ErrorResponse::detail(
                StatusCode::REQUEST_TIMEOUT,
                "The request body was not received in time.",
            ));
        }
        Ok(Err(poem::error::ReadBodyError::PayloadTooLarge)) => return Err(too_large(limit)),
        Ok(Err(e)) => {
            tracing::info!(error = %e, "could not read request body");
            return Err(ErrorResponse::detail(StatusCode::BAD_REQUEST, "Could not read the request body."));
        }
    };
    if bytes.is_empty() {
        // DRF answers an empty body with empty data whatever the content type.
        return Ok(Map::new());
    }
    let content_type =
        req.headers().get(header::CONTENT_TYPE).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let content_type = content_type.unwrap_or_default();
    match select_parser(&content_type) {
        None => Err(unsupported(&content_type)),
        Some(Parser::Json) => parse_json(&bytes),
        Some(Parser::Form) => {
            let mut rb = RequestBody::new(Body::from_bytes(bytes));
            let Form(pairs) =
                <Form<Vec<(String, String)>> as FromRequest>::from_request(req, &mut rb).await.map_err(
                    |e| ErrorResponse::detail(StatusCode::BAD_REQUEST, format!("Form parse error - {e}")),
                )?;
            Ok(pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
        }
        Some(Parser::Multipart) => parse_multipart(req, Body::from_bytes(bytes)).await,
    }
}

fn parse_json(bytes: &[u8]) -> Result<Map<String, Value>, ErrorResponse> {
    let parse_error =
        |msg: String| ErrorResponse::detail(StatusCode::BAD_REQUEST, format!("JSON parse error - {msg}"));
    let text = std::str::from_utf8(bytes).map_err(|e| parse_error(python_utf8_error(bytes, &e)))?;
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => return Err(parse_error(python_json_error(text).unwrap_or_else(|| e.to_string()))),
    };
    match value {
        Value::Object(map) => Ok(map),
        // DRF's Serializer refuses `None` before looking at its type.
        Value::Null => Err(ErrorResponse::non_field("This field may not be null.")),
        other => Err(ErrorResponse::non_field(format!(
            "Invalid data. Expected a dictionary, but got {}.",
            python_type(&other)
        ))),
    }
}

async fn parse_multipart(req: &Request, body: Body) -> Result<Map<String, Value>, ErrorResponse> {
    let parse_error = |msg: String| {
        ErrorResponse::detail(StatusCode::BAD_REQUEST, format!("Multipart form parse error - {msg}"))
    };
    let mut rb = RequestBody::new(body);
    let mut multipart = <Multipart as FromRequest>::from_request(req, &mut rb)
        .await
        .map_err(|_| parse_error("Invalid boundary in multipart: None".to_owned()))?;
    let mut data = Map::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(parse_error(e.to_string())),
        };
        let Some(name) = field.name().map(str::to_owned) else { continue };
        let value = match field.file_name().map(str::to_owned) {
            Some(file_name) => {
                let _ = field.bytes().await.map_err(|e| parse_error(e.to_string()))?;
                Value::Object(Map::from_iter([("file_name".to_owned(), Value::String(file_name))]))
            }
            None => {
                let raw = field.bytes().await.map_err(|e| parse_error(e.to_string()))?;
                Value::String(String::from_utf8_lossy(&raw).into_owned())
            }
        };
        data.insert(name, value);
    }
    Ok(data)
}

/// Validate a DRF `CharField` (required, not null, not blank, trimmed, no NUL; numbers are
/// accepted as their Python `str`).
///
/// # Errors
/// DRF's message for the first rule broken.
pub(crate) fn char_field(data: &Map<String, Value>, name: &str) -> Result<String, &'static str> {
    let text = match data.get(name) {
        None => return Err("This field is required."),
        Some(Value::Null) => return Err("This field may not be null."),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(_) | Value::Array(_) | Value::Object(_)) => return Err("Not a valid string."),
    };
    if text.is_empty() {
        return Err("This field may not be blank.");
    }
    if text.contains('\0') {
        return Err("Null characters are not allowed.");
    }
    Ok(text)
}

/// A request DTO that can be built from DRF request data.
pub(crate) trait FromData: Sized {
    /// Validate every field, in declaration order.
    ///
    /// # Errors
    /// The errors of every invalid field.
    fn from_data(data: &Map<String, Value>) -> Result<Self, FieldErrors>;
}

/// Collects `CharField` values and their errors in declaration order.
#[derive(Default)]
pub(crate) struct Validator {
    errors: FieldErrors,
}

impl Validator {
    /// A required `CharField`; `String::new()` if it failed (the error is recorded).
    pub(crate) fn char(&mut self, data: &Map<String, Value>, name: &str) -> String {
        char_field(data, name).unwrap_or_else(|msg| {
            self.errors.add(name, msg);
            String::new()
        })
    }

    /// `value` if no field failed.
    ///
    /// # Errors
    /// The collected errors.
    pub(crate) fn finish<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.errors.is_empty() { Ok(value) } else { Err(self.errors) }
    }
}

/// A request body accepted as `application/json`, `application/x-www-form-urlencoded` or
/// `multipart/form-data`, validated like a DRF serializer, and documented in OpenAPI with
/// `T`'s schema under all three media types.
pub(crate) struct DrfBody<T>(pub(crate) T);

impl<T> std::ops::Deref for DrfBody<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// The media types DRF parses, in its order.
pub(crate) const PARSES: [&str; 3] =
    ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"];

impl<'a, T: FromData + Type + Send> ApiExtractor<'a> for DrfBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: PARSES
                .iter()
                .map(|&content_type| MetaMediaType { content_type, schema: T::schema_ref() })
                .collect(),
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let data = read_data(request, body).await.map_err(ErrorResponse::into_poem)?;
        T::from_data(&data).map(Self).map_err(|e| e.into_response().into_poem())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn char_field_follows_drf() {
        let d = data(
            json!({"a": "  x  ", "b": "", "c": null, "d": true, "e": [1], "f": 12, "g": 1.5, "h": " \t ", "i": "a\u{0}b", "j": {}}),
        );
        assert_eq!(char_field(&d, "a"), Ok("x".to_owned()));
        assert_eq!(char_field(&d, "b"), Err("This field may not be blank."));
        assert_eq!(char_field(&d, "c"), Err("This field may not be null."));
        assert_eq!(char_field(&d, "d"), Err("Not a valid string."));
        assert_eq!(char_field(&d, "e"), Err("Not a valid string."));
        assert_eq!(char_field(&d, "f"), Ok("12".to_owned()));
        assert_eq!(char_field(&d, "g"), Ok("1.5".to_owned()));
        assert_eq!(char_field(&d, "h"), Err("This field may not be blank."));
        assert_eq!(char_field(&d, "i"), Err("Null characters are not allowed."));
        assert_eq!(char_field(&d, "j"), Err("Not a valid string."));
        assert_eq!(char_field(&d, "zz"), Err("This field is required."));
    }

    #[test]
    fn parsers_are_selected_like_drf() {
        assert_eq!(select_parser("application/json"), Some(Parser::Json));
        assert_eq!(select_parser("Application/JSON; charset=utf-8"), Some(Parser::Json));
        assert_eq!(select_parser("application/x-www-form-urlencoded"), Some(Parser::Form));
        assert_eq!(select_parser("multipart/form-data; boundary=x"), Some(Parser::Multipart));
        assert_eq!(select_parser("text/plain"), None);
        assert_eq!(select_parser("application/vnd.api+json"), None);
        assert_eq!(select_parser(""), None);
    }

    #[test]
    fn json_bodies_must_be_objects() {
        let e = parse_json(b"[\"alice\"]").unwrap_err();
        assert_eq!(
            e.body,
            json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
        );
        for (text, ty) in [("\"x\"", "str"), ("1", "int"), ("1.5", "float"), ("true", "bool")] {
            let e = parse_json(text.as_bytes()).unwrap_err();
            assert_eq!(
                e.body["non_field_errors"][0],
                format!("Invalid data. Expected a dictionary, but got {ty}.")
            );
        }
        let e = parse_json(b"{\"username\": \"alice\",").unwrap_err();
        assert_eq!(
            e.body["detail"],
            "JSON parse error - Expecting property name enclosed in double quotes: line 1 column 22 (char 21)"
        );
    }
}
