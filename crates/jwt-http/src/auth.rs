//! Bearer authentication exactly like simplejwt's `JWTAuthentication`, as poem-openapi
//! security-scheme extractors (and, wrapped in [`Plain`], as plain Poem extractors).

use std::future::Future;
use std::sync::Arc;

use jwt_core::authorization::parse_authorization_header;
use jwt_core::{Authenticated, TokenError, TokenService, TokenUser};
use poem::{FromRequest, Request, RequestBody};
use poem_openapi::registry::{MetaSecurityScheme, Registry};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};

use crate::error::{ErrorContext, ErrorResponse, token_error};

/// Name of the security scheme in the OpenAPI document (`components.securitySchemes`).
pub const SECURITY_SCHEME: &str = "JwtBearer";

/// Requires a valid access token (`Authorization: Bearer <token>`, or the configured header
/// and types) and loads its user from the repository, with every check of simplejwt's
/// `JWTAuthentication` (user exists, is active, credentials unchanged).
///
/// Missing or foreign-scheme credentials answer `401 {"detail":"Authentication credentials
/// were not provided."}`; an invalid token answers simplejwt's `401` body with its `code`.
/// Every 401 carries `WWW-Authenticate: Bearer realm="api"`. The request data must hold an
/// `Arc<TokenService>` (`.data(service)`).
#[derive(Debug, Clone)]
pub struct JwtBearer(pub Authenticated);

/// Like [`JwtBearer`], but a request without credentials passes as `None` (anonymous).
/// Credentials that are present but wrong are still refused: "no header" is not "bad token".
#[derive(Debug, Clone)]
pub struct MaybeJwtBearer(pub Option<Authenticated>);

/// Requires a valid access token and trusts it without any database query
/// (simplejwt's `JWTStatelessUserAuthentication`): the user is built from the token's claims,
/// so deleted or deactivated users keep access until their token expires.
#[derive(Debug, Clone)]
pub struct StatelessJwtBearer(pub TokenUser);

fn service(req: &Request) -> Result<&Arc<TokenService>, ErrorResponse> {
    req.data::<Arc<TokenService>>().ok_or_else(|| {
        tracing::error!("no Arc<TokenService> in the request data: add `.data(service)` to the endpoint");
        ErrorResponse::internal()
    })
}

/// The raw token of the request, per the service's settings (`None`: anonymous).
fn raw_token(req: &Request, service: &TokenService) -> Result<Option<String>, TokenError> {
    let engine = service.engine();
    let settings = engine.settings();
    let mut values = req.headers().get_all(settings.auth_header_name.as_str()).iter().peekable();
    if values.peek().is_none() {
        return Ok(None);
    }
    // Repeated headers reach Django joined by commas.
    let header =
        values.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).collect::<Vec<_>>().join(",");
    parse_authorization_header(settings, Some(&header)).map(|t| t.map(str::to_owned))
}

fn refuse(service: &TokenService, e: TokenError) -> poem::Error {
    token_error(e, ErrorContext::Bearer, service.engine().settings()).into_poem()
}

/// Authenticate like `JWTAuthentication`; `Ok(None)` for an anonymous request.
pub(crate) async fn authenticate_optional(req: &Request) -> poem::Result<Option<Authenticated>> {
    let service = service(req).map_err(ErrorResponse::into_poem)?;
    let Some(raw) = raw_token(req, service).map_err(|e| refuse(service, e))? else { return Ok(None) };
    service.authenticate(&raw).await.map(Some).map_err(|e| refuse(service, e))
}

/// Authenticate like `JWTAuthentication` behind `IsAuthenticated`.
pub(crate) async fn authenticate_required(req: &Request) -> poem::Result<Authenticated> {
    match authenticate_optional(req).await? {
        Some(auth) => Ok(auth),
        None => {
            let service = service(req).map_err(ErrorResponse::into_poem)?;
            Err(refuse(service, TokenError::NotAuthenticated))
        }
    }
}

async fn authenticate_stateless(req: &Request) -> poem::Result<TokenUser> {
    let service = service(req).map_err(ErrorResponse::into_poem)?;
    let Some(raw) = raw_token(req, service).map_err(|e| refuse(service, e))? else {
        return Err(refuse(service, TokenError::NotAuthenticated));
    };
    service.authenticate_stateless(&raw).await.map(|(user, _)| user).map_err(|e| refuse(service, e))
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::JwtBearer {}
    impl Sealed for super::MaybeJwtBearer {}
    impl Sealed for super::StatelessJwtBearer {}
}

/// The bearer extractors of this crate: [`JwtBearer`], [`MaybeJwtBearer`],
/// [`StatelessJwtBearer`].
pub trait BearerExtractor: sealed::Sealed + Sized + Send {
    /// Authenticate `req`.
    ///
    /// # Errors
    /// A `poem::Error` carrying simplejwt's 401 response (or 500/503 for infrastructure
    /// failures).
    fn extract(req: &Request) -> impl Future<Output = poem::Result<Self>> + Send;

    /// `true` if anonymous requests pass.
    const OPTIONAL: bool;
}

impl BearerExtractor for JwtBearer {
    const OPTIONAL: bool = false;
    async fn extract(req: &Request) -> poem::Result<Self> {
        authenticate_required(req).await.map(Self)
    }
}

impl BearerExtractor for MaybeJwtBearer {
    const OPTIONAL: bool = true;
    async fn extract(req: &Request) -> poem::Result<Self> {
        authenticate_optional(req).await.map(Self)
    }
}

impl BearerExtractor for StatelessJwtBearer {
    const OPTIONAL: bool = false;
    async fn extract(req: &Request) -> poem::Result<Self> {
        authenticate_stateless(req).await.map(Self)
    }
}

fn register_scheme(registry: &mut Registry) {
    registry.create_security_scheme(
        SECURITY_SCHEME,
        MetaSecurityScheme {
            ty: "http",
            description: Some(
                "An access token from `POST /api/token/`, sent as `Authorization: Bearer <token>`.",
            ),
            name: None,
            key_in: None,
            scheme: Some("bearer"),
            bearer_format: Some("JWT"),
            flows: None,
            openid_connect_url: None,
        },
    );
}

macro_rules! security_extractor {
    ($($ty:ty),*) => {$(
        impl<'a> ApiExtractor<'a> for $ty {
            const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
            type ParamType = ();
            type ParamRawType = ();

            fn register(registry: &mut Registry) {
                register_scheme(registry);
            }

            fn security_schemes() -> Vec<&'static str> {
                vec![SECURITY_SCHEME]
            }

            fn has_security_fallback() -> bool {
                <Self as BearerExtractor>::OPTIONAL
            }

            async fn from_request(
                request: &'a Request,
                _body: &mut RequestBody,
                _param_opts: ExtractParamOptions<Self::ParamType>,
            ) -> poem::Result<Self> {
                <Self as BearerExtractor>::extract(request).await
            }
        }
    )*};
}

security_extractor!(JwtBearer, MaybeJwtBearer, StatelessJwtBearer);

/// Use a bearer extractor in a plain Poem handler (`#[handler]`), outside poem-openapi:
/// `async fn me(Plain(JwtBearer(auth)): Plain<JwtBearer>)`.
///
/// (poem-openapi implements its extractor trait for every Poem extractor, so one type
/// cannot be both a documented security scheme and a Poem extractor; this wrapper is the
/// Poem side.)
#[derive(Debug, Clone)]
pub struct Plain<T>(pub T);

impl<'a, T: BearerExtractor> FromRequest<'a> for Plain<T> {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        T::extract(req).await.map(Plain)
    }
}
