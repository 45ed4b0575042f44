//! The OpenAPI document: reference paths, every documented operation served, security.

use jwt_core::Settings;
use jwt_http::HttpConfig;
use poem::http::Method;
use serde_json::Value;

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
