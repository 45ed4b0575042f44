//! The OpenAPI document and the poem-openapi service behind the API routes.
//!
//! poem-openapi drops the trailing slash of every operation path, so operations are served
//! at `/api/token` (and reached with the slash through path normalisation); the document is
//! post-processed to list the reference paths with their slash, as simplejwt clients call them.

use jwt_core::Settings;
use poem::IntoEndpoint;
use poem::endpoint::BoxEndpoint;
use poem_openapi::{OpenApi, OpenApiService};
use serde_json::{Map, Value, json};

use crate::HttpConfig;
use crate::api::{BlacklistApi, MeApi, SlidingApi, TokenApi};
use crate::auth::SECURITY_SCHEME;
use crate::ops::OpsApi;

const DESCRIPTION: &str = "JSON web token authentication compatible with djangorestframework-simplejwt: \
the same paths, request fields, response bodies, status codes, error messages and codes. \
Request bodies may be JSON, form-urlencoded or multipart. Every path also answers without its trailing slash.";

/// The API routes, the document served at `/openapi.json`, and the Swagger UI page.
pub(crate) struct BuiltApi {
    pub(crate) endpoint: BoxEndpoint<'static>,
    pub(crate) spec: String,
    pub(crate) swagger_html: String,
}

fn build<S: OpenApi + 'static, B: OpenApi + 'static>(
    sliding: S,
    blacklist: B,
    settings: &Settings,
    config: &HttpConfig,
) -> BuiltApi {
    let mut service = OpenApiService::new(
        (TokenApi, blacklist, sliding, MeApi, OpsApi),
        "jwt-server",
        env!("CARGO_PKG_VERSION"),
    )
    .description(DESCRIPTION);
    if let Some(url) = &config.public_url {
        service = service.server(url.clone());
    }
    let raw = service.spec();
    let spec = postprocess(&raw, settings);
    let html = service.swagger_ui_html();
    // The page embeds the document verbatim: show the post-processed one.
    let swagger_html = if html.contains(&raw) { html.replacen(&raw, &spec, 1) } else { html };
    BuiltApi { endpoint: service.into_endpoint(), spec, swagger_html }
}

/// Build the API for `settings`: sliding routes only with `sliding_tokens_enabled`,
/// blacklist and logout only with `blacklist_enabled`.
pub(crate) fn build_api(settings: &Settings, config: &HttpConfig) -> BuiltApi {
    match (settings.sliding_tokens_enabled, settings.blacklist_enabled) {
        (true, true) => build(SlidingApi, BlacklistApi, settings, config),
        (true, false) => build(SlidingApi, (), settings, config),
        (false, true) => build((), BlacklistApi, settings, config),
        (false, false) => build((), (), settings, config),
    }
}

/// The OpenAPI document served at `/openapi.json` for these settings: pretty-printed JSON
/// with a trailing newline. Commit it as `docs/openapi.json`.
pub fn openapi_json(settings: &Settings, config: &HttpConfig) -> String {
    build_api(settings, config).spec
}

/// Rename the `application/json; charset=utf-8` media type of poem-openapi's `Json` responses
/// to [`crate::middleware::JSON`], the `Content-Type` the application actually sends.
fn json_without_charset(doc: &mut Value) {
    let Some(Value::Object(paths)) = doc.get_mut("paths") else { return };
    for operation in paths.values_mut().filter_map(Value::as_object_mut).flat_map(|item| item.values_mut()) {
        let Some(Value::Object(responses)) = operation.get_mut("responses") else { continue };
        for response in responses.values_mut() {
            let Some(Value::Object(content)) = response.get_mut("content") else { continue };
            if content.contains_key(crate::middleware::JSON_UTF8) {
                let old = std::mem::take(content);
                *content = old
                    .into_iter()
                    .map(|(media, v)| {
                        if media == crate::middleware::JSON_UTF8 {
                            (crate::middleware::JSON.to_owned(), v)
                        } else {
                            (media, v)
                        }
                    })
                    .collect();
            }
        }
    }
}

/// The logout body is valid when `all` is truthy (Python's truthiness; the token fields are
/// then ignored), or else when `refresh_token`, or in its absence `refresh`, is a valid
/// `CharField` (the rules of `TokenRequest.token`).
fn logout_alternatives(doc: &mut Value) {
    let Some(char_field) = doc.pointer("/components/schemas/TokenRequest/properties/token").map(|token| {
        let mut rules = Map::new();
        for key in ["type", "minLength", "pattern"] {
            if let Some(v) = token.get(key) {
                rules.insert(key.to_owned(), v.clone());
            }
        }
        Value::Object(rules)
    }) else {
        return;
    };
    if let Some(Value::Object(schema)) = doc.pointer_mut("/components/schemas/LogoutRequest") {
        schema.insert(
            "anyOf".to_owned(),
            json!([
                {"required": ["all"], "properties": {"all": {"not": {"enum": [null, false, 0, "", [], {}]}}}},
                {"required": ["refresh_token"], "properties": {"refresh_token": char_field}},
                {"required": ["refresh"], "not": {"required": ["refresh_token"]}, "properties": {"refresh": char_field}},
            ]),
        );
    }
}

/// Reference paths with their trailing slash, JSON media types without `charset`, request
/// examples with their write-only fields, the logout body's alternatives, and the security
/// scheme per the header settings.
fn postprocess(raw: &str, settings: &Settings) -> String {
    let mut doc: Value = match serde_json::from_str(raw) {
        Ok(doc) => doc,
        Err(e) => {
            tracing::error!(error = %e, "poem-openapi produced an unreadable document");
            return format!("{raw}\n");
        }
    };
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        let old = std::mem::take(paths);
        *paths = old
            .into_iter()
            .map(
                |(path, item)| {
                    if path.starts_with("/api/") { (format!("{path}/"), item) } else { (path, item) }
                },
            )
            .collect::<Map<String, Value>>();
    }
    json_without_charset(&mut doc);
    if let Some(example) = doc.pointer_mut("/components/schemas/TokenObtainRequest/example") {
        // poem-openapi leaves write-only fields out of examples; Swagger UI's "Try it out"
        // would then send no password and get a 400.
        *example = crate::api::obtain_example();
    }
    logout_alternatives(&mut doc);
    let standard = settings.auth_header_name.eq_ignore_ascii_case("authorization")
        && settings.auth_header_types.iter().map(String::as_str).eq(["Bearer"]);
    if let Some(scheme) =
        doc.pointer_mut(&format!("/components/securitySchemes/{SECURITY_SCHEME}")).filter(|_| !standard)
    {
        let types = settings
            .auth_header_types
            .iter()
            .map(|t| format!("`{t} <token>`"))
            .collect::<Vec<_>>()
            .join(" or ");
        *scheme = json!({
            "type": "apiKey",
            "description": format!("An access token from `POST /api/token/`, sent in the `{}` header as {types}.", settings.auth_header_name),
            "name": settings.auth_header_name,
            "in": "header",
        });
    }
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| raw.to_owned());
    out.push('\n');
    out
}
