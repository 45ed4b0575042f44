//! Configuration: defaults < `jwt-server.toml` < `JWT_*` environment < command-line flags.
//!
//! The file and the environment use one flat namespace: the server's own keys (`listen`,
//! `database_url`, ...) and every [`jwt_core::Settings`] field under its simplejwt name in
//! snake_case (`access_token_lifetime`, `rotate_refresh_tokens`, ...). An environment
//! variable is `JWT_` + the key in upper case (`JWT_ACCESS_TOKEN_LIFETIME=5m`); keys of a
//! table join with `__` (`JWT_HTTP__MAX_BODY_BYTES`). List values may be given as a
//! comma-separated string (`JWT_AUTH_HEADER_TYPES=Bearer,JWT`).
//!
//! Unknown keys in the file are an error; unknown `JWT_*` variables are a warning. Every
//! error is one sentence that names the key, the environment variable or the flag.
//!
//! `serde(flatten)` cannot be combined with `deny_unknown_fields`, so the layers are read
//! twice: once restricted to the server's keys into [`ServerConfig`], once restricted to the
//! token keys into [`jwt_core::Settings`] (which denies unknown fields itself).

mod providers;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::value::{Dict, Value};
use jwt_core::Settings;
use jwt_core::settings::duration_serde;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value as Json};

use crate::error::Error;
pub use jwt_http::HttpConfig;
use providers::{EnvSource, FileSource, FlagSource, Layer};

/// Name of the config file read from the working directory when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "jwt-server.toml";

/// The zero-config database: a SQLite file in the working directory, created if missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./jwt-server.db?mode=rwc";

/// Environment variables with the `JWT_` prefix that are not configuration keys.
const RESERVED_ENV: [&str; 1] = ["JWT_CONFIG"];

/// Prefix of environment variables reserved for test suites (never warned about).
const TEST_ENV_PREFIX: &str = "JWT_TEST_";

/// Keys whose values are secret: never printed, not even in an error message.
const SECRET_KEYS: [&str; 3] = ["signing_key", "database_url", "jwk_url"];

/// Text shown instead of a secret.
pub const MASK: &str = "********";

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The server's own settings (everything that is not a token setting).
///
/// Serializing it masks every secret: it is what `check-config` prints.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on. Port 0 picks a free port.
    pub listen: SocketAddr,
    /// Database URL (`sqlite://...`, `postgres://...`, `mysql://...`). May carry a password.
    #[serde(serialize_with = "ser_url")]
    pub database_url: SecretString,
    /// Apply pending migrations on start.
    pub auto_migrate: bool,
    /// Log filter (`tracing` directives such as `info` or `jwt_http=debug,info`). When
    /// unset, `RUST_LOG`, then `info`.
    pub log: Option<String>,
    /// Log format.
    pub log_format: LogFormat,
    /// How often a running server re-reads the signing keys stored in the database.
    #[serde(with = "duration_serde")]
    pub key_refresh_interval: Duration,
    /// How long a graceful shutdown waits for requests in flight.
    #[serde(with = "duration_serde")]
    pub shutdown_timeout: Duration,
    /// Largest number of pooled database connections.
    pub db_max_connections: u32,
    /// Connections kept open when idle.
    pub db_min_connections: u32,
    /// How long opening one database connection may take.
    #[serde(with = "duration_serde")]
    pub db_connect_timeout: Duration,
    /// How long a query may wait for a free pooled connection.
    #[serde(with = "duration_serde")]
    pub db_acquire_timeout: Duration,
    /// SQLite only: how long a writer waits for the write lock.
    #[serde(with = "duration_serde")]
    pub db_sqlite_busy_timeout: Duration,
    /// Argon2id memory cost of new password hashes, in KiB.
    pub argon2_memory_kib: u32,
    /// Argon2id iterations of new password hashes.
    pub argon2_iterations: u32,
    /// Argon2id lanes of new password hashes.
    pub argon2_parallelism: u32,
    /// The signing key itself: the secret for `HS*`, a PEM private key otherwise.
    /// When neither this nor `signing_key_file` is set, keys live in the database.
    #[serde(serialize_with = "ser_secret")]
    pub signing_key: Option<SecretString>,
    /// A file holding the signing key (one trailing newline is ignored).
    pub signing_key_file: Option<PathBuf>,
    /// PEM public key matching an asymmetric signing key (checked; ignored for `HS*`).
    pub verifying_key: Option<String>,
    /// A file holding the verifying key.
    pub verifying_key_file: Option<PathBuf>,
    /// simplejwt's `JWK_URL`: a JWKS URL (`http`/`https`) whose keys also verify tokens, by
    /// the token's `kid` (asymmetric algorithms only). May carry a password (masked).
    #[serde(serialize_with = "ser_opt_url")]
    pub jwk_url: Option<SecretString>,
    /// How often the JWKS of `jwk_url` is fetched again.
    #[serde(with = "duration_serde")]
    pub jwk_cache_ttl: Duration,
    /// HTTP settings (body limit, CORS, public URL).
    pub http: HttpConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let db = jwt_store::DbOptions::default();
        let argon = jwt_store::Argon2Params::default();
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            database_url: SecretString::from(DEFAULT_DATABASE_URL),
            auto_migrate: true,
            log: None,
            log_format: LogFormat::Text,
            key_refresh_interval: Duration::from_secs(60),
            shutdown_timeout: Duration::from_secs(30),
            db_max_connections: db.max_connections,
            db_min_connections: db.min_connections,
            db_connect_timeout: db.connect_timeout,
            db_acquire_timeout: db.acquire_timeout,
            db_sqlite_busy_timeout: db.sqlite_busy_timeout,
            argon2_memory_kib: argon.memory_kib,
            argon2_iterations: argon.iterations,
            argon2_parallelism: argon.parallelism,
            signing_key: None,
            signing_key_file: None,
            verifying_key: None,
            verifying_key_file: None,
            jwk_url: None,
            jwk_cache_ttl: crate::remote_jwks::DEFAULT_CACHE_TTL,
            http: HttpConfig::default(),
        }
    }
}

impl ServerConfig {
    /// The pool options for [`jwt_store::Database::connect`].
    pub fn db_options(&self) -> jwt_store::DbOptions {
        jwt_store::DbOptions {
            max_connections: self.db_max_connections,
            min_connections: self.db_min_connections,
            connect_timeout: self.db_connect_timeout,
            acquire_timeout: self.db_acquire_timeout,
            sqlite_busy_timeout: self.db_sqlite_busy_timeout,
        }
    }

    /// The Argon2id parameters for new password hashes.
    pub fn argon2_params(&self) -> jwt_store::Argon2Params {
        jwt_store::Argon2Params {
            memory_kib: self.argon2_memory_kib,
            iterations: self.argon2_iterations,
            parallelism: self.argon2_parallelism,
        }
    }
}

fn ser_secret<S: Serializer>(value: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(_) => s.serialize_str(MASK),
        None => s.serialize_none(),
    }
}

fn ser_url<S: Serializer>(value: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&jwt_store::redact_url(value.expose_secret()))
}

impl ServerConfig {
    /// `jwk_url`, parsed (`None` when unset).
    ///
    /// # Errors
    /// [`Error::Config`] if it is not an `http`/`https` URL with a host.
    pub fn jwks_url(&self) -> Result<Option<crate::remote_jwks::JwksUrl>, Error> {
        let parse = |url: &SecretString| {
            crate::remote_jwks::JwksUrl::parse(url.expose_secret())
                .map_err(|reason| Error::config(format!("invalid value for jwk_url (JWT_JWK_URL): {reason}")))
        };
        self.jwk_url.as_ref().map(parse).transpose()
    }
}

fn ser_opt_url<S: Serializer>(value: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(url) => s.serialize_str(&jwt_store::redact_url(url.expose_secret())),
        None => s.serialize_none(),
    }
}

/// The effective configuration: the server's settings and the token settings.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Server settings.
    pub server: ServerConfig,
    /// Token settings (simplejwt's `SIMPLE_JWT`).
    pub token: Settings,
}

/// Values given as command-line flags (the top layer).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<String>,
    /// `--database-url`.
    pub database_url: Option<String>,
    /// `--no-migrate` sets `auto_migrate = false`.
    pub auto_migrate: Option<bool>,
    /// `--log-format`.
    pub log_format: Option<String>,
}

/// A loaded configuration plus what the operator should hear about it once logging is up.
#[derive(Debug)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// The config file that was read, if any.
    pub file: Option<PathBuf>,
    /// Warnings (unknown `JWT_*` variables, ignored settings).
    pub warnings: Vec<String>,
}

/// Load the configuration: defaults < the file < `JWT_*` environment < `overrides`.
///
/// `file` is `--config`/`JWT_CONFIG`; when `None`, `./jwt-server.toml` is read if it exists.
///
/// # Errors
/// [`Error::Config`] with one sentence naming the offending key, environment variable or
/// flag: a value of the wrong type or format, an unknown key in the file, an unreadable or
/// malformed file, or token settings that cannot work together.
pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Loaded, Error> {
    let known = KnownKeys::new();
    let path = match file {
        Some(path) if !path.is_file() => {
            return Err(Error::config(format!("the config file {} does not exist", path.display())));
        }
        Some(path) => Some(path.to_path_buf()),
        None => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|p| p.is_file()),
    };
    let file_source = match &path {
        Some(path) => {
            let source = FileSource::read(path)?;
            known.check_file_keys(&source)?;
            Some(source)
        }
        None => None,
    };
    let (env, unknown_env) = EnvSource::from_env(&known);
    let flags = FlagSource::from_overrides(overrides);

    let figment_for = |keys: &BTreeSet<String>| {
        let mut fig = Figment::new();
        if let Some(file) = &file_source {
            fig = fig.merge(Layer::new(file.clone(), keys.clone()));
        }
        fig.merge(Layer::new(env.clone(), keys.clone())).merge(Layer::new(flags.clone(), keys.clone()))
    };
    let server: ServerConfig = figment_for(&known.server).extract().map_err(|e| describe_error(&e))?;
    let token: Settings = figment_for(&known.token).extract().map_err(|e| describe_error(&e))?;
    token.validate().map_err(|e| Error::config(format!("invalid token settings: {e}")))?;
    let config = Config { server, token };
    config.check()?;

    let mut warnings: Vec<String> = unknown_env
        .into_iter()
        .map(|name| match known.suggest(&name.trim_start_matches("JWT_").to_ascii_lowercase()) {
            Some(key) => {
                format!("ignoring unknown environment variable {name} (did you mean {}?)", env_name(&key))
            }
            None => format!("ignoring unknown environment variable {name}"),
        })
        .collect();
    warnings.extend(config.warnings());
    Ok(Loaded { config, file: path, warnings })
}

impl Config {
    /// Cross-field checks the types cannot express.
    fn check(&self) -> Result<(), Error> {
        let s = &self.server;
        if s.signing_key.is_some() && s.signing_key_file.is_some() {
            return Err(Error::config(
                "set either signing_key (JWT_SIGNING_KEY) or signing_key_file (JWT_SIGNING_KEY_FILE), not both",
            ));
        }
        if s.verifying_key.is_some() && s.verifying_key_file.is_some() {
            return Err(Error::config(
                "set either verifying_key (JWT_VERIFYING_KEY) or verifying_key_file (JWT_VERIFYING_KEY_FILE), not both",
            ));
        }
        if s.key_refresh_interval < Duration::from_secs(1) {
            return Err(Error::config("key_refresh_interval must be at least one second"));
        }
        if s.jwk_url.is_some() && self.token.algorithm.is_symmetric() {
            return Err(Error::config(format!(
                "jwk_url (JWT_JWK_URL) only applies to asymmetric algorithms (RS*, PS*, ES*, EdDSA), \
                 but algorithm is {}: {} tokens are verified with the shared secret",
                self.token.algorithm, self.token.algorithm
            )));
        }
        s.jwks_url()?;
        if s.jwk_cache_ttl < Duration::from_secs(1) {
            return Err(Error::config("jwk_cache_ttl must be at least one second"));
        }
        if s.db_max_connections == 0 {
            return Err(Error::config("db_max_connections must be at least 1"));
        }
        // The CORS middleware panics on an origin that cannot be a header value.
        if let Some(origin) =
            s.http.cors_allowed_origins.iter().find(|o| poem::http::HeaderValue::from_str(o).is_err())
        {
            return Err(Error::config(format!(
                "invalid value for http.cors_allowed_origins (JWT_HTTP__CORS_ALLOWED_ORIGINS): {origin:?} is not an origin such as \"https://app.example.com\""
            )));
        }
        Ok(())
    }

    fn warnings(&self) -> Vec<String> {
        let s = &self.server;
        let mut out = Vec::new();
        if self.token.algorithm.is_symmetric()
            && (s.verifying_key.is_some() || s.verifying_key_file.is_some())
        {
            out.push(format!(
                "ignoring verifying_key: {} tokens are verified with the signing key itself",
                self.token.algorithm
            ));
        }
        out
    }

    /// Whether the signing key comes from the configuration rather than the database.
    pub fn has_configured_key(&self) -> bool {
        self.server.signing_key.is_some() || self.server.signing_key_file.is_some()
    }

    /// The effective configuration as JSON, secrets masked: the server's keys, then the
    /// token keys, in declaration order.
    pub fn to_masked_json(&self) -> Map<String, Json> {
        let mut map = match serde_json::to_value(&self.server) {
            Ok(Json::Object(map)) => map,
            _ => Map::new(),
        };
        if let Ok(Json::Object(token)) = serde_json::to_value(&self.token) {
            map.extend(token);
        }
        map
    }

    /// The effective configuration as a TOML document, secrets masked (`check-config`):
    /// server keys, token keys, then tables. Unset optional keys are listed in a comment.
    /// The output is itself a valid config file.
    ///
    /// # Errors
    /// [`Error::Runtime`] if a value cannot be written as TOML (not expected).
    pub fn to_masked_toml(&self) -> Result<String, Error> {
        let mut unset = Vec::new();
        let server = match serde_json::to_value(&self.server) {
            Ok(Json::Object(map)) => strip_nulls(map, "", &mut unset),
            _ => Map::new(),
        };
        let token = match serde_json::to_value(&self.token) {
            Ok(Json::Object(map)) => strip_nulls(map, "", &mut unset),
            _ => Map::new(),
        };
        let mut out = String::from("# server\n");
        let mut tables = Vec::new();
        emit_values(&mut out, &server, &mut tables)?;
        out.push_str("\n# tokens (simplejwt's SIMPLE_JWT settings)\n");
        emit_values(&mut out, &token, &mut tables)?;
        for (name, table) in tables {
            out.push_str(&format!("\n[{name}]\n"));
            emit_values(&mut out, &table, &mut Vec::new())?;
        }
        if !unset.is_empty() {
            out.push_str(&format!("\n# not set: {}\n", unset.join(", ")));
        }
        Ok(out)
    }
}

/// Write `key = value` lines for the scalar and array entries of `map`; collect tables.
fn emit_values(
    out: &mut String,
    map: &Map<String, Json>,
    tables: &mut Vec<(String, Map<String, Json>)>,
) -> Result<(), Error> {
    for (key, value) in map {
        match value {
            Json::Object(inner) => tables.push((key.clone(), inner.clone())),
            other => {
                let value = toml::Value::try_from(other)
                    .map_err(|e| Error::runtime(format!("cannot render `{key}` as TOML: {e}")))?;
                out.push_str(&format!("{key} = {value}\n"));
            }
        }
    }
    Ok(())
}

fn strip_nulls(map: Map<String, Json>, prefix: &str, unset: &mut Vec<String>) -> Map<String, Json> {
    map.into_iter()
        .filter_map(|(key, value)| match value {
            Json::Null => {
                unset.push(format!("{prefix}{key}"));
                None
            }
            Json::Object(inner) => {
                let inner = strip_nulls(inner, &format!("{prefix}{key}."), unset);
                Some((key, Json::Object(inner)))
            }
            other => Some((key, other)),
        })
        .collect()
}

/// The environment variable of a config key (`access_token_lifetime` →
/// `JWT_ACCESS_TOKEN_LIFETIME`, `http.max_body_bytes` → `JWT_HTTP__MAX_BODY_BYTES`).
pub fn env_name(key: &str) -> String {
    format!("JWT_{}", key.replace('.', "__").to_ascii_uppercase())
}

/// How a raw string from the environment is turned into a value for a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hint {
    /// Booleans and numbers: parsed (`true`, `5`).
    Scalar,
    /// Strings, durations, optional values: taken verbatim.
    Text,
    /// Lists: comma-separated.
    List,
}

/// Every key the configuration knows, from the defaults, with how to read it from text.
#[derive(Debug, Clone)]
pub(crate) struct KnownKeys {
    /// Top-level keys of [`ServerConfig`].
    pub(crate) server: BTreeSet<String>,
    /// Top-level keys of [`Settings`].
    pub(crate) token: BTreeSet<String>,
    /// Every key path (`http.max_body_bytes`) that holds a value, with its hint.
    pub(crate) leaves: Vec<(String, Hint)>,
    /// Key paths that are tables (`http`).
    pub(crate) tables: BTreeSet<String>,
}

impl KnownKeys {
    pub(crate) fn new() -> Self {
        let as_map = |value: serde_json::Result<Json>| match value {
            Ok(Json::Object(map)) => map,
            _ => Map::new(),
        };
        let server = as_map(serde_json::to_value(ServerConfig::default()));
        let token = as_map(serde_json::to_value(Settings::default()));
        let mut known = Self {
            server: server.keys().cloned().collect(),
            token: token.keys().cloned().collect(),
            leaves: Vec::new(),
            tables: BTreeSet::new(),
        };
        known.collect("", &server);
        known.collect("", &token);
        known
    }

    fn collect(&mut self, prefix: &str, map: &Map<String, Json>) {
        for (key, value) in map {
            let path = format!("{prefix}{key}");
            match value {
                Json::Object(inner) => {
                    self.tables.insert(path.clone());
                    self.collect(&format!("{path}."), inner);
                }
                Json::Bool(_) | Json::Number(_) => self.leaves.push((path, Hint::Scalar)),
                Json::Array(_) => self.leaves.push((path, Hint::List)),
                Json::String(_) | Json::Null => self.leaves.push((path, Hint::Text)),
            }
        }
    }

    pub(crate) fn hint(&self, path: &str) -> Option<Hint> {
        self.leaves.iter().find(|(p, _)| p == path).map(|(_, h)| *h)
    }

    /// The closest known key to a misspelt one, if any is close.
    pub(crate) fn suggest(&self, key: &str) -> Option<String> {
        self.leaves
            .iter()
            .map(|(p, _)| p)
            .chain(self.tables.iter())
            .map(|p| (edit_distance(key, p), p))
            .filter(|(d, p)| *d <= 3.max(p.len() / 5))
            .min_by_key(|(d, _)| *d)
            .map(|(_, p)| p.clone())
    }

    fn check_file_keys(&self, file: &FileSource) -> Result<(), Error> {
        self.check_dict(file.dict(), "", file.path())
    }

    fn check_dict(&self, dict: &Dict, prefix: &str, path: &Path) -> Result<(), Error> {
        for (key, value) in dict {
            let full = format!("{prefix}{key}");
            if self.tables.contains(&full) {
                if let Value::Dict(_, inner) = value {
                    self.check_dict(inner, &format!("{full}."), path)?;
                }
                continue;
            }
            if self.hint(&full).is_none() {
                let hint = self.suggest(&full).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
                return Err(Error::config(format!("unknown key `{full}` in {}{hint}", path.display())));
            }
        }
        Ok(())
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// One sentence for a figment extraction error: which key, from where, what is wrong.
fn describe_error(err: &figment::Error) -> Error {
    let key = err.path.join(".");
    let location = match &err.metadata {
        Some(md) if md.name == providers::ENV_NAME || md.name == providers::FLAG_NAME => {
            md.interpolate(&figment::Profile::Default, &err.path)
        }
        Some(md) => match md.source.as_ref().and_then(|s| s.file_path()) {
            Some(file) => format!("`{key}` in {}", file.display()),
            None => format!("`{key}`"),
        },
        None => format!("`{key}`"),
    };
    let last = err.path.last().map(String::as_str).unwrap_or_default();
    let mut message = match &err.kind {
        // Never echo what was given for a secret.
        _ if SECRET_KEYS.contains(&last) => "expected a string".to_owned(),
        figment::error::Kind::UnknownVariant(found, expected) => {
            format!("unknown value {found:?}, expected one of: {}", expected.join(", "))
        }
        kind => crate::error::one_line(&kind.to_string()),
    };
    if err.path.last().is_some_and(|k| k == "algorithm") {
        let all: Vec<_> = jwt_core::Algorithm::ALL.iter().map(|a| a.as_str()).collect();
        message.push_str(&format!(" (supported: {})", all.join(", ")));
    }
    if key.is_empty() {
        return Error::config(format!("invalid configuration: {message}"));
    }
    Error::config(format!("invalid value for {location}: {message}"))
}
