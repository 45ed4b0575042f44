//! The OpenAPI document: reference paths, every documented operation served, security.

use jwt_core::Settings;
use jwt_http::HttpConfig;
use poem::http::Method;
use serde_json::{Value, json};

use crate::helpers::*;

fn document(settings: &Settings, config: &HttpConfig) -> Value {
    let text = jwt_http::openapi_json(settings, config);
    assert!(text.ends_with("}\n"), "pretty-printed with a trailing newline");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn documented_operations_are_served_and_reference_paths_listed() {
    for settings in [
        peer_settings(),
        Settings { sliding_tokens_enabled: false, ..peer_settings() },
        Settings { blacklist_enabled: false, ..Settings::default() },
    ] {
        let app = TestApp::with(settings.clone(), HttpConfig::default());
        let doc = document(&settings, &HttpConfig::default());
        let paths = doc["paths"].as_object().unwrap();
        let mut expected = vec!["/api/token/", "/api/token/refresh/", "/api/token/verify/"];
        if settings.blacklist_enabled {
            expected.push("/api/token/blacklist/");
            expected.push("/api/logout/");
        }
        if settings.sliding_tokens_enabled {
            expected.extend(["/api/token/sliding/", "/api/token/sliding/refresh/"]);
        }
        expected.extend(["/api/me/", "/healthz", "/readyz", "/metrics", "/.well-known/jwks.json"]);
        let mut listed: Vec<&str> = paths.keys().map(String::as_str).collect();
        listed.sort_unstable();
        expected.sort_unstable();
        assert_eq!(listed, expected);

        for (path, item) in paths {
            for method in item.as_object().unwrap().keys() {
                let method: Method = method.to_uppercase().parse().unwrap();
                let r = app.call(method.clone(), path, Req::default()).await;
                assert!(!matches!(r.status, 404 | 405), "{method} {path}: {} {}", r.status, r.text);
            }
        }
    }
}

#[test]
fn operations_are_documented() {
    let doc = document(&peer_settings(), &HttpConfig::default());
    assert_eq!(doc["openapi"], "3.0.0");
    let obtain = &doc["paths"]["/api/token/"]["post"];
    assert_eq!(obtain["operationId"], "token_obtain_pair");
    assert_eq!(obtain["tags"][0], "Tokens");
    let content = obtain["requestBody"]["content"].as_object().unwrap();
    let media: Vec<&str> = content.keys().map(String::as_str).collect();
    assert_eq!(media, ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]);
    for status in ["200", "400", "401", "413", "415", "500", "503"] {
        assert!(obtain["responses"].get(status).is_some(), "obtain documents {status}");
    }
    assert!(obtain["responses"]["401"]["headers"].get("WWW-Authenticate").is_some());
    assert!(obtain["responses"]["503"]["headers"].get("Retry-After").is_some());
    assert!(obtain.get("security").is_none(), "token views need no credentials");

    let me = &doc["paths"]["/api/me/"]["get"];
    assert_eq!(me["security"][0][jwt_http::SECURITY_SCHEME], serde_json::json!([]));
    let scheme = &doc["components"]["securitySchemes"][jwt_http::SECURITY_SCHEME];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(scheme["bearerFormat"], "JWT");
    assert!(doc["paths"]["/api/logout/"]["post"]["security"].is_array());

    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in
        ["TokenObtainRequest", "TokenPairBody", "ErrorDetail", "FieldErrors", "RefreshedBody", "MeBody"]
    {
        assert!(schemas.contains_key(name), "{name}");
    }
    assert!(schemas["TokenPairBody"].get("example").is_some());
    assert_eq!(schemas["TokenObtainRequest"]["properties"]["password"]["writeOnly"], true);
    assert_eq!(doc["servers"], serde_json::json!([]));

    let with_url = document(
        &peer_settings(),
        &HttpConfig { public_url: Some("https://auth.example.com".into()), ..HttpConfig::default() },
    );
    assert_eq!(with_url["servers"][0]["url"], "https://auth.example.com");
}

#[test]
fn the_document_is_deterministic() {
    let a = jwt_http::openapi_json(&peer_settings(), &HttpConfig::default());
    let b = jwt_http::openapi_json(&peer_settings(), &HttpConfig::default());
    assert_eq!(a, b);
}

/// The request fields are DRF `CharField`s: the document says which strings are refused
/// (blank after trimming, or with a NUL character), so that a request valid for the schema is
/// never a 400 (schemathesis' "schema-valid request rejected").
#[tokio::test]
async fn request_fields_document_what_is_refused() {
    use poem_openapi::validation::{Pattern, Validator};

    let doc = document(&peer_settings(), &HttpConfig::default());
    let schemas = &doc["components"]["schemas"];
    let fields = [
        ("TokenObtainRequest", "username"),
        ("TokenObtainRequest", "password"),
        ("RefreshRequest", "refresh"),
        ("TokenRequest", "token"),
        ("LogoutRequest", "refresh_token"),
        ("LogoutRequest", "refresh"),
    ];
    let app = TestApp::new();
    let samples = ["x", " x ", "", " ", "\t\n", "\u{3000}", "a\u{0}b", "\u{0}", "  \u{0}  ", "ünï 🔑", "a b"];
    for (schema, field) in fields {
        let prop = if schema == "LogoutRequest" {
            // the logout body's rules live in its `anyOf` alternatives
            let any_of = schemas[schema]["anyOf"].as_array().unwrap();
            let branch = any_of.iter().find(|b| b["required"][0] == field).unwrap();
            &branch["properties"][field]
        } else {
            &schemas[schema]["properties"][field]
        };
        assert_eq!(prop["minLength"], 1, "{schema}.{field}");
        let pattern: &'static str = Box::leak(prop["pattern"].as_str().unwrap().to_owned().into_boxed_str());
        let pattern = Pattern::new(pattern);
        for sample in samples {
            let documented_valid = !sample.is_empty() && pattern.check(&sample);
            // what the endpoint does with the field (a 400 names it)
            let mut body = json!({"username": "u", "password": "p"});
            body[field] = json!(sample);
            let path = match schema {
                "TokenObtainRequest" => "/api/token/",
                "RefreshRequest" => "/api/token/refresh/",
                "TokenRequest" => "/api/token/verify/",
                _ => "/api/logout/",
            };
            let (_, access) = app.login_alice().await;
            let r = app.call(Method::POST, path, Req::bearer(&access).with_json(body)).await;
            let refused = r.status == 400 && r.json().get(field).is_some();
            assert_eq!(documented_valid, !refused, "{schema}.{field} = {sample:?}: {} {}", r.status, r.text);
        }
    }
}

#[test]
fn examples_are_complete_and_logout_needs_one_field() {
    let doc = document(&peer_settings(), &HttpConfig::default());
    let schemas = &doc["components"]["schemas"];
    // write-only fields are in the example, so Swagger UI's "Try it out" sends a password
    assert_eq!(
        schemas["TokenObtainRequest"]["example"],
        serde_json::json!({"username": "alice", "password": "correct horse battery staple"})
    );
    // logout: a truthy `all` (the token fields are then ignored), else `refresh_token`, else `refresh`
    let any_of = schemas["LogoutRequest"]["anyOf"].as_array().unwrap();
    let required: Vec<&Value> = any_of.iter().map(|s| &s["required"][0]).collect();
    assert_eq!(required, ["all", "refresh_token", "refresh"]);
    assert_eq!(any_of[0]["properties"]["all"]["not"]["enum"], json!([null, false, 0, "", [], {}]));
    assert_eq!(any_of[2]["not"], json!({"required": ["refresh_token"]}));
    let token_rules = &schemas["TokenRequest"]["properties"]["token"];
    for (branch, field) in [(1, "refresh_token"), (2, "refresh")] {
        let rules = &any_of[branch]["properties"][field];
        assert_eq!(
            (&rules["minLength"], &rules["pattern"]),
            (&token_rules["minLength"], &token_rules["pattern"])
        );
    }
    assert!(schemas["LogoutRequest"]["properties"]["refresh_token"].get("minLength").is_none());
}

/// What the logout alternatives say, the endpoint does.
#[tokio::test]
async fn logout_body_alternatives_match_the_endpoint() {
    let app = TestApp::new();
    for (body, ok) in [
        (json!({"all": "0", "refresh_token": ""}), true), // "0" is a non-empty string: truthy
        (json!({"all": 0, "refresh_token": ""}), false),
        (json!({"all": [], "refresh": "  "}), false),
        (json!({"all": {"a": 1}}), true),
        (json!({"refresh_token": "", "refresh": "x"}), false), // refresh_token wins
        (json!({"all": false}), false),
        (json!({}), false),
    ] {
        let (_, access) = app.login_alice().await;
        let r = app.call(Method::POST, "/api/logout/", Req::bearer(&access).with_json(body.clone())).await;
        assert_eq!(r.status == 200, ok, "{body}: {} {}", r.status, r.text);
        if !ok {
            assert_eq!(r.status, 400, "{body}: {}", r.text);
        }
    }
}

#[test]
fn json_media_types_have_no_charset() {
    let text = jwt_http::openapi_json(&peer_settings(), &HttpConfig::default());
    assert!(!text.contains("application/json; charset"), "the served Content-Type is plain application/json");
    let doc: Value = serde_json::from_str(&text).unwrap();
    let ok = &doc["paths"]["/api/token/"]["post"]["responses"]["200"]["content"];
    assert!(ok.get("application/json").is_some(), "{ok}");
}
