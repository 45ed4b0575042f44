// figment::Jail closures must return figment::Error, which is large.
#![allow(clippy::result_large_err)]

use std::path::Path;
use std::time::Duration;

use figment::Jail;
use jwt_core::Algorithm;
use secrecy::ExposeSecret;

use super::*;

/// A figment jail with an empty environment, so variables of the caller cannot leak in.
fn jail(f: impl FnOnce(&mut Jail) -> figment::error::Result<()>) {
    Jail::expect_with(|jail| {
        jail.clear_env();
        f(jail)
    });
}

fn load_ok(file: Option<&Path>, overrides: &Overrides) -> Result<Loaded, figment::Error> {
    load(file, overrides).map_err(|e| figment::Error::from(e.to_string()))
}

fn load_err(file: Option<&Path>) -> String {
    match load(file, &Overrides::default()) {
        Ok(loaded) => panic!("expected an error, got {:?}", loaded.config),
        Err(e) => {
            assert_eq!(e.code(), "config_invalid");
            let text = e.to_string();
            assert!(!text.contains('\n'), "one line: {text}");
            text
        }
    }
}

#[test]
fn no_file_no_env_gives_the_defaults() {
    jail(|_| {
        let loaded = load_ok(None, &Overrides::default())?;
        assert!(loaded.file.is_none());
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let c = loaded.config;
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:8000");
        assert_eq!(c.server.database_url.expose_secret(), DEFAULT_DATABASE_URL);
        assert!(c.server.auto_migrate);
        assert_eq!(c.server.key_refresh_interval, Duration::from_secs(60));
        assert_eq!(c.token, Settings::default());
        assert_eq!(c.server.http, HttpConfig::default());
        assert!(!c.has_configured_key());
        Ok(())
    });
}

#[test]
fn the_file_in_the_working_directory_is_read() {
    jail(|jail| {
        jail.create_file(
            "jwt-server.toml",
            r#"
            listen = "0.0.0.0:9000"
            access_token_lifetime = "30m"
            refresh_token_lifetime = 259200
            rotate_refresh_tokens = true
            blacklist_after_rotation = true
            algorithm = "HS512"
            auth_header_types = ["Bearer", "JWT"]
            db_connect_timeout = "3s"

            [http]
            max_body_bytes = 1024
            "#,
        )?;
        let loaded = load_ok(None, &Overrides::default())?;
        assert_eq!(loaded.file.as_deref(), Some(Path::new("jwt-server.toml")));
        let c = loaded.config;
        assert_eq!(c.server.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(c.token.access_token_lifetime, Duration::from_secs(1800));
        assert_eq!(c.token.refresh_token_lifetime, Duration::from_secs(259_200));
        assert!(c.token.rotate_refresh_tokens && c.token.blacklist_after_rotation);
        assert_eq!(c.token.algorithm, Algorithm::HS512);
        assert_eq!(c.token.auth_header_types, ["Bearer", "JWT"]);
        assert_eq!(c.server.db_connect_timeout, Duration::from_secs(3));
        assert_eq!(c.server.http.max_body_bytes, 1024);
        // untouched keys keep their defaults, in the same table too
        assert_eq!(c.server.http.cors_allowed_origins, Vec::<String>::new());
        assert_eq!(c.token.leeway, Duration::ZERO);
        Ok(())
    });
}

#[test]
fn env_overrides_the_file_and_flags_override_env() {
    jail(|jail| {
        jail.create_file(
            "custom.toml",
            "listen = \"127.0.0.1:7000\"\naccess_token_lifetime = \"30m\"\nleeway = 5\n",
        )?;
        jail.set_env("JWT_ACCESS_TOKEN_LIFETIME", "5m");
        jail.set_env("JWT_LISTEN", "127.0.0.1:7001");
        jail.set_env("JWT_ROTATE_REFRESH_TOKENS", "true");
        jail.set_env("JWT_AUTH_HEADER_TYPES", "Bearer, JWT");
        jail.set_env("JWT_AUDIENCE", "12345");
        jail.set_env("JWT_HTTP__CORS_ALLOWED_ORIGINS", "https://a.example,https://b.example");
        jail.set_env("JWT_DB_MAX_CONNECTIONS", "3");
        jail.set_env("JWT_LOG", "debug");
        let overrides = Overrides {
            listen: Some("127.0.0.1:0".into()),
            auto_migrate: Some(false),
            ..Overrides::default()
        };
        let c = load_ok(Some(Path::new("custom.toml")), &overrides)?.config;
        assert_eq!(c.token.access_token_lifetime, Duration::from_secs(300));
        assert_eq!(c.token.leeway, Duration::from_secs(5));
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:0");
        assert!(!c.server.auto_migrate);
        assert!(c.token.rotate_refresh_tokens);
        assert_eq!(c.token.auth_header_types, ["Bearer", "JWT"]);
        assert_eq!(c.token.audience.as_deref(), Some("12345"));
        assert_eq!(c.server.http.cors_allowed_origins, ["https://a.example", "https://b.example"]);
        assert_eq!(c.server.db_max_connections, 3);
        assert_eq!(c.server.log.as_deref(), Some("debug"));
        Ok(())
    });
}

#[test]
fn jwt_config_names_the_file_and_a_missing_one_is_an_error() {
    jail(|_| {
        let err = load_err(Some(Path::new("nope.toml")));
        assert_eq!(err, "the config file nope.toml does not exist");
        Ok(())
    });
}

#[test]
fn bad_duration_names_the_variable() {
    jail(|jail| {
        jail.set_env("JWT_ACCESS_TOKEN_LIFETIME", "5 parsecs");
        let err = load_err(None);
        assert!(
            err.starts_with("invalid value for JWT_ACCESS_TOKEN_LIFETIME: invalid duration \"5 parsecs\""),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn bad_duration_in_the_file_names_the_key_and_the_file() {
    jail(|jail| {
        jail.create_file("jwt-server.toml", "leeway = \"soon\"\n")?;
        let err = load_err(None);
        assert!(err.starts_with("invalid value for `leeway` in "), "{err}");
        assert!(err.contains("jwt-server.toml: invalid duration \"soon\""), "{err}");
        Ok(())
    });
}

#[test]
fn unknown_algorithm_lists_the_supported_ones() {
    jail(|jail| {
        jail.set_env("JWT_ALGORITHM", "XS256");
        let err = load_err(None);
        assert!(
            err.starts_with("invalid value for JWT_ALGORITHM: Unrecognized algorithm type 'XS256'"),
            "{err}"
        );
        assert!(err.contains("(supported: HS256, HS384, HS512, RS256"), "{err}");
        Ok(())
    });
}

#[test]
fn wrong_types_name_the_variable_or_flag() {
    jail(|jail| {
        jail.set_env("JWT_ROTATE_REFRESH_TOKENS", "yes please");
        let err = load_err(None);
        assert!(err.starts_with("invalid value for JWT_ROTATE_REFRESH_TOKENS: invalid type"), "{err}");
        jail.clear_env();
        jail.set_env("JWT_HTTP__MAX_BODY_BYTES", "lots");
        let err = load_err(None);
        assert!(err.starts_with("invalid value for JWT_HTTP__MAX_BODY_BYTES: invalid type"), "{err}");
        jail.clear_env();
        let overrides = Overrides { listen: Some("localhost".into()), ..Overrides::default() };
        let err = load(None, &overrides).unwrap_err().to_string();
        assert!(err.starts_with("invalid value for --listen: "), "{err}");
        let overrides = Overrides { log_format: Some("xml".into()), ..Overrides::default() };
        let err = load(None, &overrides).unwrap_err().to_string();
        assert_eq!(err, "invalid value for --log-format: unknown value \"xml\", expected one of: text, json");
        Ok(())
    });
}

#[test]
fn unknown_file_keys_are_errors_with_a_suggestion() {
    jail(|jail| {
        jail.create_file("jwt-server.toml", "acess_token_lifetime = \"5m\"\n")?;
        let err = load_err(None);
        assert_eq!(
            err,
            "unknown key `acess_token_lifetime` in jwt-server.toml (did you mean `access_token_lifetime`?)"
        );
        jail.create_file("jwt-server.toml", "[http]\nmax_body = 5\n")?;
        let err = load_err(None);
        assert!(err.starts_with("unknown key `http.max_body` in jwt-server.toml"), "{err}");
        Ok(())
    });
}

#[test]
fn malformed_toml_is_one_sentence_with_the_line() {
    jail(|jail| {
        jail.create_file("jwt-server.toml", "listen = \"127.0.0.1:1\"\nleeway = = 3\n")?;
        let err = load_err(None);
        assert!(err.starts_with("the config file jwt-server.toml is not valid TOML (line 2): "), "{err}");
        Ok(())
    });
}

#[test]
fn unknown_env_vars_are_warnings() {
    jail(|jail| {
        jail.set_env("JWT_ROTATE_REFRESH_TOKEN", "true");
        jail.set_env("JWT_SOMETHING_ELSE", "1");
        jail.set_env("JWT_CONFIG", "");
        jail.set_env("JWT_TEST_POSTGRES_URL", "postgres://x");
        let loaded = load_ok(None, &Overrides::default())?;
        assert_eq!(
            loaded.warnings,
            [
                "ignoring unknown environment variable JWT_ROTATE_REFRESH_TOKEN (did you mean JWT_ROTATE_REFRESH_TOKENS?)",
                "ignoring unknown environment variable JWT_SOMETHING_ELSE",
            ]
        );
        assert!(!loaded.config.token.rotate_refresh_tokens);
        Ok(())
    });
}

#[test]
fn impossible_token_settings_are_refused() {
    jail(|jail| {
        jail.set_env("JWT_ROTATE_REFRESH_TOKENS", "true");
        jail.set_env("JWT_BLACKLIST_ENABLED", "false");
        let err = load_err(None);
        assert!(
            err.starts_with("invalid token settings: rotate_refresh_tokens needs blacklist_enabled"),
            "{err}"
        );
        jail.clear_env();
        jail.set_env("JWT_ACCESS_TOKEN_LIFETIME", "0");
        let err = load_err(None);
        assert_eq!(err, "invalid token settings: access_token_lifetime must be at least one second");
        Ok(())
    });
}

#[test]
fn a_secret_of_the_wrong_type_is_not_echoed() {
    jail(|jail| {
        jail.create_file("jwt-server.toml", "signing_key = 1234567\n")?;
        let err = load_err(None);
        assert!(err.starts_with("invalid value for `signing_key` in "), "{err}");
        assert!(err.ends_with(": expected a string") && !err.contains("1234567"), "{err}");
        Ok(())
    });
}

#[test]
fn both_key_and_key_file_is_an_error() {
    jail(|jail| {
        jail.set_env("JWT_SIGNING_KEY", "x");
        jail.set_env("JWT_SIGNING_KEY_FILE", "/k");
        let err = load_err(None);
        assert!(err.starts_with("set either signing_key (JWT_SIGNING_KEY) or signing_key_file"), "{err}");
        Ok(())
    });
}

#[test]
fn a_cors_origin_that_is_no_header_value_is_an_error_not_a_panic() {
    jail(|jail| {
        jail.create_file(
            "jwt-server.toml",
            "[http]\ncors_allowed_origins = [\"https://app.example.com\\u0001\"]\n",
        )?;
        let err = load_err(None);
        assert!(
            err.starts_with("invalid value for http.cors_allowed_origins (JWT_HTTP__CORS_ALLOWED_ORIGINS): "),
            "{err}"
        );
        jail.create_file(
            "jwt-server.toml",
            "[http]\ncors_allowed_origins = [\"https://app.example.com\"]\n",
        )?;
        let loaded = load_ok(None, &Overrides::default())?;
        assert_eq!(loaded.config.server.http.cors_allowed_origins, ["https://app.example.com"]);
        Ok(())
    });
}

#[test]
fn secrets_are_masked_in_check_config_and_debug() {
    jail(|jail| {
        jail.set_env("JWT_SIGNING_KEY", "true");
        jail.set_env("JWT_DATABASE_URL", "postgres://app:hunter2-pw@db.internal:5432/auth");
        let c = load_ok(None, &Overrides::default())?.config;
        // a secret that looks like a boolean stays a string
        assert_eq!(
            c.server.signing_key.as_ref().map(|s| s.expose_secret().to_owned()).as_deref(),
            Some("true")
        );
        let toml = c.to_masked_toml().map_err(|e| e.to_string())?;
        assert!(!toml.contains("hunter2"), "{toml}");
        assert!(toml.contains(&format!("signing_key = \"{MASK}\"")), "{toml}");
        assert!(toml.contains("database_url = \"postgres://app:"), "{toml}");
        assert!(toml.contains("db.internal:5432/auth"), "{toml}");
        let debug = format!("{c:?}");
        assert!(!debug.contains("hunter2") && !debug.contains("signing_key: Some(\"true"), "{debug}");
        Ok(())
    });
}

#[test]
fn jwk_url_is_read_and_its_password_masked() {
    jail(|jail| {
        jail.set_env("JWT_ALGORITHM", "RS256");
        jail.set_env("JWT_JWK_URL", "https://svc:hunter2-pw@issuer.example.com/.well-known/jwks.json");
        jail.set_env("JWT_JWK_CACHE_TTL", "10m");
        let c = load_ok(None, &Overrides::default())?.config;
        assert_eq!(c.server.jwk_cache_ttl, Duration::from_secs(600));
        assert_eq!(
            c.server.jwk_url.as_ref().map(|u| u.expose_secret().to_owned()).as_deref(),
            Some("https://svc:hunter2-pw@issuer.example.com/.well-known/jwks.json")
        );
        let toml = c.to_masked_toml().map_err(|e| e.to_string())?;
        assert!(!toml.contains("hunter2"), "{toml}");
        assert!(
            toml.contains("jwk_url = \"https://svc:***@issuer.example.com/.well-known/jwks.json\""),
            "{toml}"
        );
        assert!(toml.contains("jwk_cache_ttl = \"10m\""), "{toml}");
        assert!(!format!("{c:?}").contains("hunter2"));
        Ok(())
    });
}

#[test]
fn jwk_url_defaults_to_unset_with_a_five_minute_cache() {
    jail(|_| {
        let c = load_ok(None, &Overrides::default())?.config;
        assert!(c.server.jwk_url.is_none());
        assert_eq!(c.server.jwk_cache_ttl, Duration::from_secs(300));
        assert!(c.to_masked_toml().map_err(|e| e.to_string())?.contains("jwk_url"));
        Ok(())
    });
}

#[test]
fn jwk_url_with_hmac_or_a_bad_url_is_refused() {
    jail(|jail| {
        jail.set_env("JWT_JWK_URL", "https://issuer.example.com/jwks");
        let err = load_err(None);
        assert!(err.starts_with("jwk_url (JWT_JWK_URL) only applies to asymmetric algorithms"), "{err}");
        assert!(err.contains("HS256"), "{err}");
        jail.set_env("JWT_ALGORITHM", "ES256");
        for bad in ["ftp://user:hunter2-pw@example.com/jwks", "jwks.json", "", "https://"] {
            jail.set_env("JWT_JWK_URL", bad);
            let err = load_err(None);
            assert!(err.starts_with("invalid value for jwk_url (JWT_JWK_URL): "), "{bad:?}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
        jail.set_env("JWT_JWK_URL", "http://127.0.0.1:1/jwks");
        jail.set_env("JWT_JWK_CACHE_TTL", "0s");
        assert_eq!(load_err(None), "jwk_cache_ttl must be at least one second");
        Ok(())
    });
}

#[test]
fn check_config_output_is_a_valid_config_file() {
    jail(|jail| {
        jail.set_env("JWT_ROTATE_REFRESH_TOKENS", "true");
        jail.set_env("JWT_AUDIENCE", "my-api");
        let first = load_ok(None, &Overrides::default())?.config;
        let toml = first.to_masked_toml().map_err(|e| e.to_string())?;
        assert!(toml.contains("# not set: "), "{toml}");
        // server keys first, in declaration order, then the token keys, then tables
        let listen = toml.find("listen = ").unwrap();
        let url = toml.find("database_url = ").unwrap();
        let access = toml.find("access_token_lifetime = ").unwrap();
        let http = toml.find("[http]").unwrap();
        assert!(listen < url && url < access && access < http, "{toml}");
        assert!(toml.contains("access_token_lifetime = \"5m\""), "{toml}");
        jail.clear_env();
        jail.create_file("jwt-server.toml", &toml)?;
        let second = load_ok(None, &Overrides::default())?.config;
        assert_eq!(second.token, first.token);
        assert_eq!(second.server.listen, first.server.listen);
        assert_eq!(second.server.http, first.server.http);
        Ok(())
    });
}

#[test]
fn every_key_has_an_env_name_and_a_hint() {
    let known = KnownKeys::new();
    for key in ["listen", "database_url", "signing_key_file", "access_token_lifetime", "http.max_body_bytes"]
    {
        assert!(known.hint(key).is_some(), "{key}");
    }
    assert_eq!(known.hint("auth_header_types"), Some(Hint::List));
    assert_eq!(known.hint("rotate_refresh_tokens"), Some(Hint::Scalar));
    assert_eq!(known.hint("audience"), Some(Hint::Text));
    assert_eq!(env_name("http.max_body_bytes"), "JWT_HTTP__MAX_BODY_BYTES");
    // no key is both a server key and a token key
    assert!(known.server.is_disjoint(&known.token));
}

#[test]
fn docs_configuration_lists_every_key_with_its_env_name() {
    let doc = include_str!("../../../../docs/configuration.md");
    let known = KnownKeys::new();
    for (key, _) in &known.leaves {
        let row = format!("| `{key}` | `{}` |", env_name(key));
        assert!(doc.contains(&row), "docs/configuration.md has no row starting {row}");
    }
}
