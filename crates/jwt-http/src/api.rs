//! The simplejwt endpoints, `/api/logout/` and `/api/me/`.

use std::sync::Arc;

use jwt_core::{Credentials, TokenClaims, TokenError, TokenService, UserId};
use poem::{FromRequest, Request, RequestBody};
use poem_openapi::payload::Json;
use poem_openapi::types::Example;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde_json::{Map, Value, json};

use crate::auth::JwtBearer;
use crate::body::{DrfBody, FromData, Validator};
use crate::error::{
    ApiError, BearerBodyErrors, BearerErrors, BodyTokenErrors, ErrorContext, ErrorResponse, token_error,
};
use crate::metrics::Metrics;

/// Operation groups in the document.
#[derive(Tags)]
pub(crate) enum ApiTags {
    /// Obtain, refresh, verify and blacklist JSON web tokens (djangorestframework-simplejwt's views).
    Tokens,
    /// Sliding tokens: one token that both authenticates and refreshes itself.
    #[oai(rename = "Sliding tokens")]
    SlidingTokens,
    /// The authenticated user's account.
    Account,
    /// Health, readiness, metrics and public keys.
    Operations,
}

/// What every operation needs: the service and the metrics.
pub(crate) struct ApiCtx<'a> {
    service: &'a Arc<TokenService>,
    metrics: Option<&'a Arc<Metrics>>,
}

impl<'a> FromRequest<'a> for ApiCtx<'a> {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let service = req.data::<Arc<TokenService>>().ok_or_else(|| {
            tracing::error!("no Arc<TokenService> in the request data");
            ErrorResponse::internal().into_poem()
        })?;
        Ok(Self { service, metrics: req.data::<Arc<Metrics>>() })
    }
}

impl ApiCtx<'_> {
    fn fail<D>(&self, e: TokenError, ctx: ErrorContext) -> ApiError<D> {
        token_error(e, ctx, self.service.engine().settings()).into()
    }

    fn count(&self, f: impl FnOnce(&Metrics)) {
        if let Some(m) = self.metrics {
            f(m);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Request bodies
// ---------------------------------------------------------------------------------------

/// Credentials (`TokenObtainPairSerializer`). Both fields are whitespace-trimmed.
#[derive(Debug, Object)]
#[oai(example)]
pub(crate) struct TokenObtainRequest {
    /// The username.
    #[oai(validator(min_length = 1, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$"))]
    username: String,
    /// The password (leading and trailing whitespace is ignored, as in Django REST Framework).
    #[oai(write_only, validator(min_length = 1, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$"))]
    password: String,
}

impl Example for TokenObtainRequest {
    fn example() -> Self {
        Self { username: "alice".into(), password: "correct horse battery staple".into() }
    }
}

impl FromData for TokenObtainRequest {
    fn from_data(data: &Map<String, Value>) -> Result<Self, crate::error::FieldErrors> {
        let mut v = Validator::default();
        let username = v.char(data, "username");
        let password = v.char(data, "password");
        v.finish(Self { username, password })
    }
}

/// The complete example of [`TokenObtainRequest`], password included (the derived one leaves
/// write-only fields out).
pub(crate) fn obtain_example() -> Value {
    let TokenObtainRequest { username, password } = TokenObtainRequest::example();
    json!({ "username": username, "password": password })
}

/// A refresh token (`TokenRefreshSerializer`, `TokenBlacklistSerializer`).
#[derive(Debug, Object)]
#[oai(example)]
pub(crate) struct RefreshRequest {
    /// The refresh token.
    #[oai(validator(min_length = 1, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$"))]
    refresh: String,
}

impl Example for RefreshRequest {
    fn example() -> Self {
        Self { refresh: EXAMPLE_REFRESH.into() }
    }
}

impl FromData for RefreshRequest {
    fn from_data(data: &Map<String, Value>) -> Result<Self, crate::error::FieldErrors> {
        let mut v = Validator::default();
        let refresh = v.char(data, "refresh");
        v.finish(Self { refresh })
    }
}

/// A token of any type (`TokenVerifySerializer`, `TokenRefreshSlidingSerializer`).
#[derive(Debug, Object)]
#[oai(example)]
pub(crate) struct TokenRequest {
    /// The token.
    #[oai(validator(min_length = 1, pattern = r"^[^\x00]*[^\s\x00][^\x00]*$"))]
    token: String,
}

impl Example for TokenRequest {
    fn example() -> Self {
        Self { token: EXAMPLE_ACCESS.into() }
    }
}

impl FromData for TokenRequest {
    fn from_data(data: &Map<String, Value>) -> Result<Self, crate::error::FieldErrors> {
        let mut v = Validator::default();
        let token = v.char(data, "token");
        v.finish(Self { token })
    }
}

/// Logout: one refresh token, or every token of the user.
#[derive(Debug, Object)]
#[oai(example)]
pub(crate) struct LogoutRequest {
    /// The refresh token to blacklist (not blank). Ignored when `all` is truthy.
    #[oai(skip_serializing_if_is_none)]
    refresh_token: Option<String>,
    /// Accepted instead of `refresh_token` when that is absent.
    #[oai(skip_serializing_if_is_none)]
    refresh: Option<String>,
    /// Any truthy value (`true`, `1`, `"1"`, any non-empty string) blacklists every refresh
    /// and sliding token of the user: "log out of all devices".
    #[oai(skip_serializing_if_is_none)]
    all: Option<Value>,
}

impl Example for LogoutRequest {
    fn example() -> Self {
        Self { refresh_token: Some(EXAMPLE_REFRESH.into()), refresh: None, all: None }
    }
}

/// Python truthiness of a JSON value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// What a logout asks for.
enum Logout {
    All,
    One(String),
}

impl FromData for Logout {
    fn from_data(data: &Map<String, Value>) -> Result<Self, crate::error::FieldErrors> {
        if data.get("all").is_some_and(truthy) {
            return Ok(Self::All);
        }
        let name = if data.contains_key("refresh_token") || !data.contains_key("refresh") {
            "refresh_token"
        } else {
            "refresh"
        };
        let mut v = Validator::default();
        let token = v.char(data, name);
        v.finish(Self::One(token))
    }
}

/// Wraps [`LogoutRequest`]'s schema around the [`Logout`] parser.
pub(crate) struct LogoutBody(Logout);

impl poem_openapi::types::Type for LogoutBody {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> std::borrow::Cow<'static, str> {
        LogoutRequest::name()
    }

    fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
        LogoutRequest::schema_ref()
    }

    fn register(registry: &mut poem_openapi::registry::Registry) {
        LogoutRequest::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl FromData for LogoutBody {
    fn from_data(data: &Map<String, Value>) -> Result<Self, crate::error::FieldErrors> {
        Logout::from_data(data).map(Self)
    }
}

// ---------------------------------------------------------------------------------------
// Response bodies
// ---------------------------------------------------------------------------------------

const EXAMPLE_REFRESH: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsImV4cCI6MTc5NTYwOTQ4MywiaWF0IjoxNzk1NTIzMDgzLCJqdGkiOiJhYjM0MjU2YmJkNTc0YTFmYTQxMTViYzRlYmJmNmYxNCIsInVzZXJfaWQiOiIxIn0.oGrZRL25qyOQjIs188dpIr5FWtoIb7R7dhvbn7qOkQA";
const EXAMPLE_ACCESS: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NTIzMzgzLCJpYXQiOjE3OTU1MjMwODMsImp0aSI6ImRjYmFkOTUzZmI0NDRlMzk4ZGIzZjcyNTVlMzg2MWE2IiwidXNlcl9pZCI6IjEifQ.wfwrw9Mhe1A81FtF6uCRiHeA0k8orSv7lwcc_EdoRPw";
const EXAMPLE_SLIDING: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoic2xpZGluZyIsImV4cCI6MTc5NTUyMzM4NSwiaWF0IjoxNzk1NTIzMDg1LCJqdGkiOiI1ZmJlNjAzNTA0YzE0NDQyYTUwZjJiODg2MTY1NjY2NyIsInJlZnJlc2hfZXhwIjoxNzk1NjA5NDg1LCJ1c2VyX2lkIjoiMSJ9.LC_7TQiBR22nVN0Dv3RPy3Nn4adq_aV9-P1Or0tgeWk";

/// A refresh/access pair (`refresh` first, as simplejwt writes it).
#[derive(Debug, Object)]
#[oai(example)]
pub(crate) struct TokenPairBody {
    /// The refresh token: exchange it at `/api/token/refresh/`.
    refresh: String,
    /// The access token: send it as `Authorization: Bearer <access>`.
    access: String,
}

impl Example for TokenPairBody {
    fn example() -> Self {
        Self { refresh: EXAMPLE_REFRESH.into(), access: EXAMPLE_ACCESS.into() }
    }
}

/// A new access token, and a new refresh token when rotation is on.
#[derive(Debug, Object)]
#[oai(example)]
pub(crate) struct RefreshedBody {
    /// The new access token.
    access: String,
    /// The new refresh token (only with `rotate_refresh_tokens`); the old one is blacklisted
    /// when `blacklist_after_rotation` is on.
    #[oai(skip_serializing_if_is_none)]
    refresh: Option<String>,
}

impl Example for RefreshedBody {
    fn example() -> Self {
        Self { access: EXAMPLE_ACCESS.into(), refresh: Some(EXAMPLE_REFRESH.into()) }
    }
}

/// An empty object, `{}`.
#[derive(Debug, Object)]
pub(crate) struct EmptyBody {}

/// A sliding token.
#[derive(Debug, Object)]
#[oai(example)]
pub(crate) struct SlidingBody {
    /// The sliding token: authenticates requests and refreshes itself at
    /// `/api/token/sliding/refresh/` until its `refresh_exp`.
    token: String,
}

impl Example for SlidingBody {
    fn example() -> Self {
        Self { token: EXAMPLE_SLIDING.into() }
    }
}

/// Logout confirmation.
#[derive(Debug, Object)]
#[oai(example)]
pub(crate) struct LogoutBodyResponse {
    /// `OK, goodbye`, or `OK, goodbye, all refresh tokens blacklisted`.
    status: String,
}

impl Example for LogoutBodyResponse {
    fn example() -> Self {
        Self { status: "OK, goodbye".into() }
    }
}

/// The authenticated user.
#[derive(Debug, Object)]
#[oai(example)]
pub(crate) struct MeBody {
    /// The user id: a JSON number when it is numeric, a string otherwise.
    id: Value,
    /// The username.
    username: String,
    /// The e-mail address (may be empty).
    email: String,
    /// Whether the account is active.
    is_active: bool,
    /// Django's `is_staff`.
    is_staff: bool,
    /// Django's `is_superuser`.
    is_superuser: bool,
    /// Last successful login (RFC 3339, UTC), or `null`.
    #[oai(nullable)]
    last_login: Option<String>,
    /// Every claim of the access token that authenticated the request.
    claims: Value,
}

impl Example for MeBody {
    fn example() -> Self {
        Self {
            id: json!(1),
            username: "alice".into(),
            email: "alice@example.com".into(),
            is_active: true,
            is_staff: false,
            is_superuser: false,
            last_login: Some("2026-11-24T12:24:43Z".into()),
            claims: json!({"token_type":"access","exp":1795523383,"iat":1795523083,"jti":"dcbad953fb444e398db3f7255e3861a6","user_id":"1"}),
        }
    }
}

/// The user id as JSON: a number when it is one, as Django renders an integer primary key.
fn id_json(id: &UserId) -> Value {
    let s = id.as_str();
    let canonical = s.parse::<i64>().ok().filter(|n| n.to_string() == s);
    canonical.map_or_else(|| Value::String(s.to_owned()), Value::from)
}

/// RFC 3339 (UTC, whole seconds) of seconds since the epoch.
pub(crate) fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

// ---------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------

#[derive(ApiResponse)]
pub(crate) enum PairResponse {
    /// A new refresh/access pair.
    #[oai(status = 200)]
    Ok(Json<TokenPairBody>),
}

#[derive(ApiResponse)]
pub(crate) enum RefreshedResponse {
    /// A new access token (and refresh token, with rotation).
    #[oai(status = 200)]
    Ok(Json<RefreshedBody>),
}

#[derive(ApiResponse)]
pub(crate) enum EmptyResponse {
    /// Done: `{}`.
    #[oai(status = 200)]
    Ok(Json<EmptyBody>),
}

#[derive(ApiResponse)]
pub(crate) enum SlidingResponse {
    /// A sliding token.
    #[oai(status = 200)]
    Ok(Json<SlidingBody>),
}

#[derive(ApiResponse)]
pub(crate) enum LogoutResponse {
    /// Logged out.
    #[oai(status = 200)]
    Ok(Json<LogoutBodyResponse>),
}

#[derive(ApiResponse)]
pub(crate) enum MeResponse {
    /// The authenticated user.
    #[oai(status = 200)]
    Ok(Json<MeBody>),
}

// ---------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------

/// Obtain, refresh and verify: always present.
pub(crate) struct TokenApi;

#[OpenApi]
impl TokenApi {
    /// Obtain a token pair
    ///
    /// Takes a set of user credentials and returns an access and refresh JSON web token pair
    /// to prove the authentication of those credentials. Wrong password, unknown user and
    /// inactive user all answer the same `401`.
    #[oai(path = "/api/token", method = "post", tag = "ApiTags::Tokens", operation_id = "token_obtain_pair")]
    async fn obtain(
        &self,
        ctx: ApiCtx<'_>,
        body: DrfBody<TokenObtainRequest>,
    ) -> Result<PairResponse, ApiError<BodyTokenErrors>> {
        let credentials = Credentials { username: &body.username, password: &body.password };
        match ctx.service.obtain_pair(credentials).await {
            Ok(pair) => {
                ctx.count(|m| {
                    m.issued("refresh");
                    m.issued("access");
                });
                Ok(PairResponse::Ok(Json(TokenPairBody {
                    refresh: pair.refresh.into_string(),
                    access: pair.access.into_string(),
                })))
            }
            Err(e) => Err(ctx.fail(e, ErrorContext::TokenView)),
        }
    }

    /// Refresh an access token
    ///
    /// Takes a refresh type JSON web token and returns an access type JSON web token if the
    /// refresh token is valid. With rotation on, also returns a new refresh token; with
    /// `blacklist_after_rotation`, the submitted one is blacklisted (reusing it answers
    /// `401 Token is blacklisted`).
    #[oai(
        path = "/api/token/refresh",
        method = "post",
        tag = "ApiTags::Tokens",
        operation_id = "token_refresh"
    )]
    async fn refresh(
        &self,
        ctx: ApiCtx<'_>,
        body: DrfBody<RefreshRequest>,
    ) -> Result<RefreshedResponse, ApiError<BodyTokenErrors>> {
        match ctx.service.refresh(&body.refresh).await {
            Ok(refreshed) => {
                ctx.count(|m| {
                    m.refreshed("refresh");
                    m.issued("access");
                    if refreshed.refresh.is_some() {
                        m.issued("refresh");
                    }
                });
                Ok(RefreshedResponse::Ok(Json(RefreshedBody {
                    access: refreshed.access.into_string(),
                    refresh: refreshed.refresh.map(jwt_core::Issued::into_string),
                })))
            }
            Err(e) => Err(ctx.fail(e, ErrorContext::TokenView)),
        }
    }

    /// Verify a token
    ///
    /// Takes a token and indicates if it is valid. This view provides no information about a
    /// token's fitness for a particular use: any token type is accepted and the user is not
    /// looked at. A blacklisted token answers `400 {"non_field_errors":["Token is
    /// blacklisted"]}` when `blacklist_after_rotation` is on.
    #[oai(
        path = "/api/token/verify",
        method = "post",
        tag = "ApiTags::Tokens",
        operation_id = "token_verify"
    )]
    async fn verify(
        &self,
        ctx: ApiCtx<'_>,
        body: DrfBody<TokenRequest>,
    ) -> Result<EmptyResponse, ApiError<BodyTokenErrors>> {
        match ctx.service.verify(&body.token).await {
            Ok(_) => Ok(EmptyResponse::Ok(Json(EmptyBody {}))),
            Err(e) => Err(ctx.fail(e, ErrorContext::Verify)),
        }
    }
}

/// Blacklist and logout: present when `blacklist_enabled`.
pub(crate) struct BlacklistApi;

#[OpenApi]
impl BlacklistApi {
    /// Blacklist a refresh token
    ///
    /// Takes a token and blacklists it. Access tokens derived from it stay valid until they
    /// expire.
    #[oai(
        path = "/api/token/blacklist",
        method = "post",
        tag = "ApiTags::Tokens",
        operation_id = "token_blacklist"
    )]
    async fn blacklist(
        &self,
        ctx: ApiCtx<'_>,
        body: DrfBody<RefreshRequest>,
    ) -> Result<EmptyResponse, ApiError<BodyTokenErrors>> {
        match ctx.service.blacklist(&body.refresh).await {
            Ok(_) => {
                ctx.count(|m| m.blacklisted(1));
                Ok(EmptyResponse::Ok(Json(EmptyBody {})))
            }
            Err(e) => Err(ctx.fail(e, ErrorContext::TokenView)),
        }
    }

    /// Log out
    ///
    /// Blacklists the given refresh token (`{"refresh_token": "..."}`, or `{"refresh": "..."}`),
    /// or, with `{"all": "1"}` (any truthy value), every refresh and sliding token of the
    /// authenticated user: "log out of all devices". Requires an access token.
    #[oai(path = "/api/logout", method = "post", tag = "ApiTags::Account", operation_id = "logout")]
    async fn logout(
        &self,
        auth: JwtBearer,
        ctx: ApiCtx<'_>,
        body: DrfBody<LogoutBody>,
    ) -> Result<LogoutResponse, ApiError<BearerBodyErrors>> {
        let DrfBody(LogoutBody(request)) = body;
        let status = match request {
            Logout::All => match ctx.service.revoke_all_for_user(&auth.0.user.id).await {
                Ok(count) => {
                    ctx.count(|m| m.blacklisted(count));
                    "OK, goodbye, all refresh tokens blacklisted"
                }
                Err(e) => return Err(ctx.fail(e, ErrorContext::TokenView)),
            },
            Logout::One(raw) => match ctx.service.blacklist(&raw).await {
                Ok(_) => {
                    ctx.count(|m| m.blacklisted(1));
                    "OK, goodbye"
                }
                Err(e) => return Err(ctx.fail(e, ErrorContext::TokenView)),
            },
        };
        Ok(LogoutResponse::Ok(Json(LogoutBodyResponse { status: status.to_owned() })))
    }
}

/// Sliding tokens: present when `sliding_tokens_enabled`.
pub(crate) struct SlidingApi;

#[OpenApi]
impl SlidingApi {
    /// Obtain a sliding token
    ///
    /// Takes a set of user credentials and returns a sliding JSON web token to prove the
    /// authentication of those credentials.
    #[oai(
        path = "/api/token/sliding",
        method = "post",
        tag = "ApiTags::SlidingTokens",
        operation_id = "token_obtain_sliding"
    )]
    async fn obtain_sliding(
        &self,
        ctx: ApiCtx<'_>,
        body: DrfBody<TokenObtainRequest>,
    ) -> Result<SlidingResponse, ApiError<BodyTokenErrors>> {
        let credentials = Credentials { username: &body.username, password: &body.password };
        match ctx.service.obtain_sliding(credentials).await {
            Ok(token) => {
                ctx.count(|m| m.issued("sliding"));
                Ok(SlidingResponse::Ok(Json(SlidingBody { token: token.into_string() })))
            }
            Err(e) => Err(ctx.fail(e, ErrorContext::TokenView)),
        }
    }

    /// Refresh a sliding token
    ///
    /// Takes a sliding JSON web token and returns a new, refreshed version if the token's
    /// refresh period has not expired. The token must itself be unexpired; its `jti` and
    /// `refresh_exp` are kept.
    #[oai(
        path = "/api/token/sliding/refresh",
        method = "post",
        tag = "ApiTags::SlidingTokens",
        operation_id = "token_refresh_sliding"
    )]
    async fn refresh_sliding(
        &self,
        ctx: ApiCtx<'_>,
        body: DrfBody<TokenRequest>,
    ) -> Result<SlidingResponse, ApiError<BodyTokenErrors>> {
        match ctx.service.refresh_sliding(&body.token).await {
            Ok(token) => {
                ctx.count(|m| m.refreshed("sliding"));
                Ok(SlidingResponse::Ok(Json(SlidingBody { token: token.into_string() })))
            }
            Err(e) => Err(ctx.fail(e, ErrorContext::TokenView)),
        }
    }
}

/// `GET /api/me/`: always present.
pub(crate) struct MeApi;

#[OpenApi]
impl MeApi {
    /// The authenticated user
    ///
    /// The user the access token belongs to, and the token's claims.
    #[oai(path = "/api/me", method = "get", tag = "ApiTags::Account", operation_id = "me")]
    async fn me(&self, auth: JwtBearer) -> Result<MeResponse, ApiError<BearerErrors>> {
        let JwtBearer(auth) = auth;
        let user = auth.user;
        Ok(MeResponse::Ok(Json(MeBody {
            id: id_json(&user.id),
            username: user.username,
            email: user.email,
            is_active: user.is_active,
            is_staff: user.is_staff,
            is_superuser: user.is_superuser,
            last_login: user.last_login.map(|t| rfc3339(t.as_secs())),
            claims: Value::Object(auth.token.claims().as_map().clone()),
        })))
    }
}

// ---------------------------------------------------------------------------------------
// DRF views: methods, `Allow`, OPTIONS metadata
// ---------------------------------------------------------------------------------------

/// A DRF view as its `OPTIONS` metadata and `Allow` header describe it.
#[derive(Debug, Clone)]
pub(crate) struct View {
    /// The reference path, with its trailing slash.
    pub(crate) path: &'static str,
    /// The methods the view implements (besides `OPTIONS`, and `HEAD` with `GET`).
    pub(crate) methods: &'static [&'static str],
    /// The `Allow` header.
    pub(crate) allow: &'static str,
    /// `IsAuthenticated`: authentication runs before the method check.
    pub(crate) requires_auth: bool,
    /// DRF's `SimpleMetadata` body.
    pub(crate) metadata: Value,
}

/// A field of DRF's `actions.POST` metadata: `(name, label, read_only)`.
type FieldInfo = (&'static str, &'static str, bool);

fn metadata(name: &str, description: &str, post_fields: Option<&[FieldInfo]>) -> Value {
    let mut meta = json!({
        "name": name,
        "description": description,
        "renders": ["application/json", "text/html"],
        "parses": crate::body::PARSES,
    });
    if let (Some(fields), Value::Object(map)) = (post_fields, &mut meta) {
        let fields: Map<String, Value> = fields
            .iter()
            .map(|&(field, label, read_only)| {
                (
                    field.to_owned(),
                    json!({"type": "string", "required": !read_only, "read_only": read_only, "label": label}),
                )
            })
            .collect();
        map.insert("actions".to_owned(), json!({ "POST": fields }));
    }
    meta
}

fn token_view(path: &'static str, name: &str, description: &str, fields: &[FieldInfo]) -> View {
    View {
        path,
        methods: &["POST"],
        allow: "POST, OPTIONS",
        requires_auth: false,
        metadata: metadata(name, description, Some(fields)),
    }
}

const CREDENTIALS: [FieldInfo; 2] = [("username", "Username", false), ("password", "Password", false)];

/// The views enabled by `settings`, in document order.
pub(crate) fn views(settings: &jwt_core::Settings) -> Vec<View> {
    let mut views = vec![
        token_view(
            "/api/token/",
            "Token Obtain Pair",
            "Takes a set of user credentials and returns an access and refresh JSON web\ntoken pair to prove the authentication of those credentials.",
            &CREDENTIALS,
        ),
        token_view(
            "/api/token/refresh/",
            "Token Refresh",
            "Takes a refresh type JSON web token and returns an access type JSON web\ntoken if the refresh token is valid.",
            &[("refresh", "Refresh", false), ("access", "Access", true)],
        ),
        token_view(
            "/api/token/verify/",
            "Token Verify",
            "Takes a token and indicates if it is valid.  This view provides no\ninformation about a token's fitness for a particular use.",
            &[("token", "Token", false)],
        ),
    ];
    if settings.blacklist_enabled {
        views.push(token_view(
            "/api/token/blacklist/",
            "Token Blacklist",
            "Takes a token and blacklists it. Must be used with the\n`rest_framework_simplejwt.token_blacklist` app installed.",
            &[("refresh", "Refresh", false)],
        ));
    }
    if settings.sliding_tokens_enabled {
        views.push(token_view(
            "/api/token/sliding/",
            "Token Obtain Sliding",
            "Takes a set of user credentials and returns a sliding JSON web token to\nprove the authentication of those credentials.",
            &CREDENTIALS,
        ));
        views.push(token_view(
            "/api/token/sliding/refresh/",
            "Token Refresh Sliding",
            "Takes a sliding JSON web token and returns a new, refreshed version if the\ntoken's refresh period has not expired.",
            &[("token", "Token", false)],
        ));
    }
    if settings.blacklist_enabled {
        views.push(View {
            path: "/api/logout/",
            methods: &["POST"],
            allow: "POST, OPTIONS",
            requires_auth: true,
            metadata: metadata("Logout", "Blacklist one refresh token, or every token of the user.", None),
        });
    }
    views.push(View {
        path: "/api/me/",
        methods: &["GET"],
        allow: "GET, HEAD, OPTIONS",
        requires_auth: true,
        metadata: metadata("Me", "The authenticated user.", None),
    });
    views
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_render_like_django() {
        assert_eq!(id_json(&UserId::parse("1").unwrap()), json!(1));
        assert_eq!(id_json(&UserId::parse("01").unwrap()), json!("01"));
        assert_eq!(id_json(&UserId::parse("a-uuid").unwrap()), json!("a-uuid"));
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_523_083), "2026-11-24T12:24:43Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn truthiness_is_pythons() {
        for v in [json!(true), json!(1), json!("0"), json!("1"), json!([0]), json!({"a": 1}), json!(-0.5)] {
            assert!(truthy(&v), "{v}");
        }
        for v in [json!(false), json!(0), json!(""), json!(null), json!([]), json!({}), json!(0.0)] {
            assert!(!truthy(&v), "{v}");
        }
    }

    #[test]
    fn obtain_options_metadata_is_drfs() {
        let views = views(&jwt_core::Settings::default());
        assert_eq!(
            views[0].metadata.to_string(),
            r#"{"name":"Token Obtain Pair","description":"Takes a set of user credentials and returns an access and refresh JSON web\ntoken pair to prove the authentication of those credentials.","renders":["application/json","text/html"],"parses":["application/json","application/x-www-form-urlencoded","multipart/form-data"],"actions":{"POST":{"username":{"type":"string","required":true,"read_only":false,"label":"Username"},"password":{"type":"string","required":true,"read_only":false,"label":"Password"}}}}"#
        );
    }
}
