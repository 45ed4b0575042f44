//! Error responses: simplejwt's three body shapes, and the one place where a
//! [`TokenError`] becomes an HTTP response.

use std::marker::PhantomData;

use jwt_core::error::TypeFailure;
use jwt_core::{Settings, StoreError, TokenError};
use poem::http::{HeaderValue, StatusCode, header};
use poem::{IntoResponse, Response};
use poem_openapi::registry::{
    MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::types::{ToJSON, Type};
use poem_openapi::{ApiResponse, Object};
use serde_json::{Map, Value, json};

/// Body of `503` answers while the database is unreachable.
pub(crate) const UNAVAILABLE_DETAIL: &str = "Service temporarily unavailable, try again later.";
/// Body of `500` answers.
pub(crate) const INTERNAL_DETAIL: &str = "A server error occurred.";
/// Seconds a client should wait before retrying after a `503`.
pub(crate) const RETRY_AFTER_SECS: &str = "5";

/// Where a token error happened; simplejwt renders some errors differently in each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorContext {
    /// A token view (obtain, refresh, blacklist, sliding, logout body).
    TokenView,
    /// The verify view: a blacklisted token is a `400`.
    Verify,
    /// Bearer authentication of a protected resource (`JWTAuthentication`).
    Bearer,
}

/// A ready-to-send error response: status, JSON body, headers.
#[derive(Debug, Clone)]
pub(crate) struct ErrorResponse {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
    pub(crate) www_authenticate: Option<String>,
    pub(crate) retry_after: bool,
    /// Label for the "tokens rejected" metric, when the client's token or credentials were refused.
    pub(crate) rejected: Option<&'static str>,
}

impl ErrorResponse {
    /// An error with a JSON body and no special header.
    pub(crate) fn new(status: StatusCode, body: Value) -> Self {
        Self { status, body, www_authenticate: None, retry_after: false, rejected: None }
    }

    /// `{"detail": msg}` with `status`.
    pub(crate) fn detail(status: StatusCode, msg: impl Into<String>) -> Self {
        Self::new(status, json!({ "detail": msg.into() }))
    }

    /// `400 {"field": ["msg"], ...}` (DRF validation errors).
    pub(crate) fn fields(errors: Map<String, Value>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Value::Object(errors))
    }

    /// `400 {"non_field_errors": [msg]}`.
    pub(crate) fn non_field(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, json!({ "non_field_errors": [msg.into()] }))
    }

    /// `500 {"detail":"A server error occurred.","code":"internal_error"}`.
    pub(crate) fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "detail": INTERNAL_DETAIL, "code": "internal_error" }),
        )
    }

    /// `503 {"detail":..., "code":"service_unavailable"}` with `Retry-After`.
    pub(crate) fn unavailable() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "detail": UNAVAILABLE_DETAIL, "code": "service_unavailable" }),
        );
        e.retry_after = true;
        e
    }

    /// A `401` with `WWW-Authenticate: <first header type> realm="api"`.
    fn unauthorized(body: Value, settings: &Settings) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, body);
        e.www_authenticate = Some(www_authenticate(settings));
        e
    }

    /// Convert into a `poem::Error` carrying this response.
    pub(crate) fn into_poem(self) -> poem::Error {
        let rejected = self.rejected;
        let mut error = poem::Error::from_response(self.into_response());
        // `Error::into_response` replaces the response's extensions with the error's.
        if let Some(reason) = rejected {
            error.set_data(Rejected(reason));
        }
        error
    }
}

impl IntoResponse for ErrorResponse {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.body).unwrap_or_default();
        let mut resp =
            Response::builder().status(self.status).content_type(crate::middleware::JSON).body(body);
        if let Some(value) = self.www_authenticate.and_then(|v| HeaderValue::from_str(&v).ok()) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        if self.retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
        }
        if let Some(reason) = self.rejected {
            resp.set_data(Rejected(reason));
        }
        resp
    }
}

/// Marks a response that refused a client's token or credentials, for the metrics.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rejected(pub(crate) &'static str);

/// `WWW-Authenticate` of every 401: the first configured header type with `realm="api"`.
pub(crate) fn www_authenticate(settings: &Settings) -> String {
    let scheme = settings.auth_header_types.first().map_or("Bearer", String::as_str);
    format!("{scheme} realm=\"api\"")
}

fn shape_a(e: &TokenError) -> Value {
    json!({ "detail": e.to_string(), "code": e.code() })
}

fn shape_b(e: &TokenError) -> Value {
    json!({ "detail": e.to_string() })
}

fn failures_json(failures: &[TypeFailure]) -> Value {
    failures
        .iter()
        .map(|f| json!({ "token_class": f.token_class, "token_type": f.token_type.as_str(), "message": f.message }))
        .collect()
}

/// The cause chain of an error, `outer: inner: ...`, for logs.
pub(crate) fn cause_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// THE mapping from [`TokenError`] to an HTTP response. Exhaustive on purpose: a new
/// variant in jwt-core does not compile until it is mapped here.
pub(crate) fn token_error(e: TokenError, ctx: ErrorContext, settings: &Settings) -> ErrorResponse {
    let reason = e.reason();
    let mut response = match &e {
        TokenError::Invalid(_)
        | TokenError::Expired
        | TokenError::NoId
        | TokenError::NoType
        | TokenError::WrongType
        | TokenError::MissingClaim(_)
        | TokenError::ClaimExpired(_)
        | TokenError::NoUserId
        | TokenError::UserNotFound
        | TokenError::UserInactive
        | TokenError::BadAuthorizationHeader
        | TokenError::AuthenticationFailed => ErrorResponse::unauthorized(shape_a(&e), settings),
        TokenError::Blacklisted => match ctx {
            // simplejwt's TokenVerifySerializer raises a ValidationError here.
            ErrorContext::Verify => ErrorResponse::non_field(e.to_string()),
            ErrorContext::TokenView | ErrorContext::Bearer => {
                ErrorResponse::unauthorized(shape_a(&e), settings)
            }
        },
        TokenError::NotValidForAnyType(failures) => {
            let mut body = shape_a(&e);
            if let Value::Object(map) = &mut body {
                map.insert("messages".to_owned(), failures_json(failures));
            }
            ErrorResponse::unauthorized(body, settings)
        }
        TokenError::PasswordChanged => match ctx {
            ErrorContext::Bearer => ErrorResponse::unauthorized(shape_a(&e), settings),
            ErrorContext::TokenView | ErrorContext::Verify => {
                ErrorResponse::unauthorized(shape_b(&e), settings)
            }
        },
        TokenError::NotAuthenticated | TokenError::BadCredentials | TokenError::NoActiveAccountForToken => {
            ErrorResponse::unauthorized(shape_b(&e), settings)
        }
        TokenError::Store(StoreError::Unavailable(source)) => {
            tracing::warn!(error = %cause_chain(source.as_ref()), code = e.code(), "storage unavailable");
            return ErrorResponse::unavailable();
        }
        TokenError::Store(StoreError::Conflict | StoreError::Backend(_))
        | TokenError::Hasher(_)
        | TokenError::Signing(_) => {
            tracing::error!(error = %cause_chain(&e), code = e.code(), "internal error");
            return ErrorResponse::internal();
        }
    };
    response.rejected = Some(reason);
    response
}

/// The error half of an operation's result: an [`ErrorResponse`], documented in the
/// OpenAPI document with the statuses `D` lists.
pub(crate) struct ApiError<D> {
    response: ErrorResponse,
    _docs: PhantomData<fn() -> D>,
}

impl<D> From<ErrorResponse> for ApiError<D> {
    fn from(response: ErrorResponse) -> Self {
        Self { response, _docs: PhantomData }
    }
}

impl<D> IntoResponse for ApiError<D> {
    fn into_response(self) -> Response {
        self.response.into_response()
    }
}

impl<D> From<ApiError<D>> for poem::Error {
    fn from(e: ApiError<D>) -> Self {
        e.response.into_poem()
    }
}

/// The error statuses an operation documents.
pub(crate) trait ErrorDocs: 'static {
    /// Statuses, ascending.
    const STATUSES: &'static [u16];
}

macro_rules! error_docs {
    ($($name:ident => [$($status:literal),*];)*) => {$(
        /// Documented error statuses of one group of operations.
        pub(crate) enum $name {}
        impl ErrorDocs for $name {
            const STATUSES: &'static [u16] = &[$($status),*];
        }
    )*};
}

error_docs! {
    BodyTokenErrors => [400, 401, 413, 415, 500, 503];
    BearerErrors => [401, 500, 503];
    BearerBodyErrors => [400, 401, 413, 415, 500, 503];
}

fn error_meta(status: u16) -> MetaResponse {
    let detail_ref = || MetaSchemaRef::Reference(<ErrorDetail as Type>::name().into_owned());
    let (description, schema, headers) = match status {
        400 => (
            "Invalid request: field errors `{\"<field>\":[\"<message>\"]}`, `{\"non_field_errors\":[...]}` \
             (a JSON body that is not an object; on verify, a blacklisted token), or \
             `{\"detail\":\"JSON parse error - ...\"}`.",
            MetaSchemaRef::Inline(Box::new(MetaSchema {
                one_of: vec![
                    MetaSchemaRef::Reference(<FieldErrors as Type>::name().into_owned()),
                    detail_ref(),
                ],
                ..MetaSchema::ANY
            })),
            vec![],
        ),
        401 => (
            "Authentication failed. Token errors carry `detail` and `code` (and `messages` when no \
             token type accepted the bearer token); bad credentials, inactive accounts and missing \
             credentials carry `detail` only.",
            detail_ref(),
            vec![MetaHeader {
                name: "WWW-Authenticate".to_owned(),
                description: Some("`Bearer realm=\"api\"` (the first configured header type).".to_owned()),
                required: true,
                deprecated: false,
                schema: String::schema_ref(),
            }],
        ),
        413 => ("The request body exceeds the configured limit.", detail_ref(), vec![]),
        415 => ("The body is not JSON, form-urlencoded or multipart.", detail_ref(), vec![]),
        503 => (
            "The database is unreachable; retry later.",
            detail_ref(),
            vec![MetaHeader {
                name: "Retry-After".to_owned(),
                description: Some("Seconds to wait before retrying.".to_owned()),
                required: true,
                deprecated: false,
                schema: String::schema_ref(),
            }],
        ),
        _ => ("Unexpected server error (details are logged, never sent).", detail_ref(), vec![]),
    };
    MetaResponse {
        description,
        status: Some(status),
        status_range: None,
        content: vec![MetaMediaType { content_type: "application/json", schema }],
        headers,
    }
}

impl<D: ErrorDocs> ApiResponse for ApiError<D> {
    fn meta() -> MetaResponses {
        MetaResponses { responses: D::STATUSES.iter().map(|&s| error_meta(s)).collect() }
    }

    fn register(registry: &mut Registry) {
        ErrorDetail::register(registry);
        FieldErrors::register(registry);
    }
}

/// An error body: `detail` always; `code` for token errors; `messages` when no token type
/// accepted a bearer token.
#[derive(Debug, Clone, Object)]
#[oai(example)]
pub(crate) struct ErrorDetail {
    /// Human-readable message (simplejwt's English text).
    detail: String,
    /// Stable machine code, such as `token_not_valid`, `user_inactive`,
    /// `bad_authorization_header`, `service_unavailable`.
    #[oai(skip_serializing_if_is_none)]
    code: Option<String>,
    /// Why each accepted token type refused the token.
    #[oai(skip_serializing_if_is_none)]
    messages: Option<Vec<TokenTypeFailure>>,
}

impl poem_openapi::types::Example for ErrorDetail {
    fn example() -> Self {
        Self {
            detail: "Token is invalid".to_owned(),
            code: Some("token_not_valid".to_owned()),
            messages: None,
        }
    }
}

/// Why one token type refused a bearer token.
#[derive(Debug, Clone, Object)]
pub(crate) struct TokenTypeFailure {
    /// simplejwt's class name, such as `AccessToken`.
    token_class: String,
    /// The token type tried: `access`, `refresh` or `sliding`.
    token_type: String,
    /// The message it failed with, such as `Token is expired`.
    message: String,
}

/// Field errors: each invalid field with its messages, in field order
/// (`non_field_errors` for errors about the whole body).
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldErrors(pub(crate) Map<String, Value>);

impl FieldErrors {
    /// Add a message for `field`.
    pub(crate) fn add(&mut self, field: &str, message: &str) {
        let entry = self.0.entry(field.to_owned()).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = entry {
            list.push(Value::String(message.to_owned()));
        }
    }

    /// `true` if no field failed.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `400` response.
    pub(crate) fn into_response(self) -> ErrorResponse {
        ErrorResponse::fields(self.0)
    }
}

impl Type for FieldErrors {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> std::borrow::Cow<'static, str> {
        "FieldErrors".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference(Self::name().into_owned())
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>(Self::name().into_owned(), |_| MetaSchema {
            description: Some(
                "Each invalid field with its messages, in field order, as Django REST Framework \
                 renders a ValidationError.",
            ),
            additional_properties: Some(Box::new(MetaSchemaRef::Inline(Box::new(MetaSchema {
                items: Some(Box::new(String::schema_ref())),
                ..MetaSchema::new("array")
            })))),
            example: Some(json!({
                "username": ["This field is required."],
                "password": ["This field may not be blank."]
            })),
            ..MetaSchema::new("object")
        });
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ToJSON for FieldErrors {
    fn to_json(&self) -> Option<Value> {
        Some(Value::Object(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwt_core::InvalidReason;
    use jwt_core::token::TokenType;

    #[test]
    fn shapes_follow_simplejwt() {
        let s = Settings::default();
        let e = token_error(TokenError::Expired, ErrorContext::TokenView, &s);
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
        assert_eq!(e.body.to_string(), r#"{"detail":"Token is expired","code":"token_not_valid"}"#);
        assert_eq!(e.www_authenticate.as_deref(), Some("Bearer realm=\"api\""));
        assert_eq!(e.rejected, Some("expired"));

        let e = token_error(TokenError::BadCredentials, ErrorContext::TokenView, &s);
        assert_eq!(e.body.to_string(), r#"{"detail":"No active account found with the given credentials"}"#);

        let e = token_error(TokenError::Blacklisted, ErrorContext::Verify, &s);
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.body.to_string(), r#"{"non_field_errors":["Token is blacklisted"]}"#);
        assert_eq!(e.www_authenticate, None);

        let e = token_error(TokenError::PasswordChanged, ErrorContext::TokenView, &s);
        assert_eq!(e.body.to_string(), r#"{"detail":"The user's password has been changed."}"#);
        let e = token_error(TokenError::AuthenticationFailed, ErrorContext::Bearer, &s);
        assert_eq!(
            e.body.to_string(),
            r#"{"detail":"Incorrect authentication credentials.","code":"authentication_failed"}"#
        );
        let e = token_error(TokenError::PasswordChanged, ErrorContext::Bearer, &s);
        assert_eq!(
            e.body.to_string(),
            r#"{"detail":"The user's password has been changed.","code":"password_changed"}"#
        );

        let failures = vec![TypeFailure {
            token_class: "AccessToken",
            token_type: TokenType::Access,
            message: TokenError::Invalid(InvalidReason::Signature).to_string(),
        }];
        let e = token_error(TokenError::NotValidForAnyType(failures), ErrorContext::Bearer, &s);
        assert_eq!(
            e.body.to_string(),
            r#"{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is invalid"}]}"#
        );
    }

    #[test]
    fn infrastructure_errors_hide_their_cause() {
        let s = Settings { auth_header_types: vec!["JWT".into()], ..Settings::default() };
        let e = token_error(
            TokenError::Store(StoreError::unavailable("db down at 10.0.0.1")),
            ErrorContext::Bearer,
            &s,
        );
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(e.retry_after);
        assert!(!e.body.to_string().contains("10.0.0.1"));
        assert_eq!(e.rejected, None);
        let e = token_error(TokenError::Signing("secret detail".into()), ErrorContext::TokenView, &s);
        assert_eq!(e.body.to_string(), r#"{"detail":"A server error occurred.","code":"internal_error"}"#);
        let e = token_error(TokenError::NotAuthenticated, ErrorContext::Bearer, &s);
        assert_eq!(e.www_authenticate.as_deref(), Some("JWT realm=\"api\""));
    }
}
