//! Wiring: connect the database, migrate, load keys, build the token service and the HTTP
//! app, bind the listener. [`Application`] is what `serve` runs and what tests can reuse.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use jwt_core::ports::{KeyStore, StoredUserClaims};
use jwt_core::{Ports, TokenEngine, TokenService};
use jwt_store::{Argon2Hasher, Database};
use poem::endpoint::BoxEndpoint;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use secrecy::ExposeSecret;

use crate::config::Config;
use crate::error::Error;
use crate::keys::{self, KeyOrigin, LoadedKeys};
use crate::live_keys::LiveKeys;
use crate::remote_jwks::Remote;

/// Connect to the configured database, and apply pending migrations when `migrate`.
///
/// # Errors
/// [`Error::Config`] for an unsupported or malformed URL; [`Error::Database`] if the
/// database cannot be reached or a migration fails.
pub async fn connect(config: &Config, migrate: bool) -> Result<Database, Error> {
    let url = config.server.database_url.expose_secret();
    let db = Database::connect(url, &config.server.db_options()).await.map_err(|e| match e.kind() {
        jwt_store::ConnectErrorKind::UnsupportedScheme | jwt_store::ConnectErrorKind::InvalidUrl => {
            Error::config(e.to_string())
        }
        jwt_store::ConnectErrorKind::Connect => Error::Database(e.to_string()),
    })?;
    if migrate {
        db.migrate().await.map_err(|e| {
            keys::store_error(&format!("cannot migrate the database at {}", db.redacted_url()), &e)
        })?;
        tracing::debug!(database = %db.redacted_url(), "migrations applied");
    }
    Ok(db)
}

/// The password hasher of the configuration.
///
/// # Errors
/// [`Error::Config`] if the Argon2 parameters are rejected.
pub fn hasher(config: &Config) -> Result<Argon2Hasher, Error> {
    Argon2Hasher::new(config.server.argon2_params())
        .map_err(|e| Error::config(format!("invalid Argon2 parameters: {e}")))
}

/// The token service over `db` with `keys`.
///
/// # Errors
/// [`Error::Config`] if the settings and keys do not work together.
pub fn service(config: &Config, db: &Database, keys: jwt_core::KeySet) -> Result<TokenService, Error> {
    let engine = TokenEngine::new(config.token.clone(), keys).map_err(|e| Error::config(e.to_string()))?;
    let ports = Ports {
        store: Arc::new(db.tokens()),
        users: Arc::new(db.users()),
        hasher: Arc::new(hasher(config)?),
        claims: Arc::new(StoredUserClaims),
    };
    Ok(TokenService::new(engine, ports))
}

/// How long `/readyz` waits for the database.
const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

/// Readiness: the database answers.
struct DbReadiness(Database);

#[async_trait::async_trait]
impl jwt_http::Readiness for DbReadiness {
    async fn check(&self) -> Result<(), String> {
        // Probes have short timeouts of their own: answer within READINESS_TIMEOUT even when
        // the pool would wait `db_acquire_timeout` for a connection.
        match tokio::time::timeout(READINESS_TIMEOUT, self.0.ping()).await {
            Ok(result) => result.map_err(|e| crate::error::chain(&e)),
            Err(_) => Err(format!("the database did not answer within {READINESS_TIMEOUT:?}")),
        }
    }
}

/// A built server, bound to its address and ready to run.
pub struct Application {
    acceptor: TcpAcceptor,
    local_addr: SocketAddr,
    endpoint: BoxEndpoint<'static>,
    service: Arc<TokenService>,
    live: Arc<LiveKeys>,
    remote: Option<Remote>,
    db: Database,
    key_origin: KeyOrigin,
    config: Config,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("local_addr", &self.local_addr)
            .field("database", &self.db.redacted_url())
            .field("key_origin", &self.key_origin)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Connect, migrate (unless `auto_migrate` is off), load or create the signing keys,
    /// fetch the keys of `jwk_url` once (a failure is only a warning), wire the ports and
    /// bind the listen address (port 0 picks a free port).
    ///
    /// # Errors
    /// [`Error::Config`] for settings or keys that cannot work, [`Error::Database`] if the
    /// database cannot be reached or migrated, [`Error::Bind`] if the address is taken.
    pub async fn build(config: Config) -> Result<Self, Error> {
        let db = connect(&config, config.server.auto_migrate).await?;
        let store = db.keys();
        let LoadedKeys { keys, origin } = keys::load_or_create(&config, &store).await?;
        if let KeyOrigin::Stored { kid, generated } = &origin {
            if *generated {
                tracing::warn!(
                    %kid,
                    algorithm = %config.token.algorithm,
                    "no signing key configured: generated a development key and stored it in the database \
                     (tokens survive restarts); for production set JWT_SIGNING_KEY_FILE \
                     (see `jwt-server keys generate`) or create a key with `jwt-server keys rotate`"
                );
            } else if origin.is_dev_key() {
                tracing::warn!(
                    %kid,
                    "signing with a generated development key; for production set JWT_SIGNING_KEY_FILE \
                     or create a key with `jwt-server keys rotate`"
                );
            }
        }
        let service = Arc::new(service(&config, &db, keys)?);
        let live = Arc::new(LiveKeys::new(service.clone()));
        let remote = match config.server.jwks_url()? {
            Some(url) => {
                let mut remote = Remote::new(url, config.token.algorithm, config.server.jwk_cache_ttl);
                remote.first_fetch(&live).await;
                Some(remote)
            }
            None => None,
        };
        let endpoint = jwt_http::app(service.clone(), Arc::new(DbReadiness(db.clone())), &config.server.http);
        let listen = config.server.listen;
        let acceptor = TcpListener::bind(listen)
            .into_acceptor()
            .await
            .map_err(|e| Error::Bind(format!("cannot listen on {listen}: {e}")))?;
        let local_addr = acceptor
            .local_addr()
            .iter()
            .find_map(|a| a.as_socket_addr().copied())
            .ok_or_else(|| Error::Bind(format!("cannot tell which address {listen} was bound to")))?;
        tracing::info!(
            version = env!("CARGO_PKG_VERSION"),
            address = %local_addr,
            database = %db.redacted_url(),
            algorithm = %config.token.algorithm,
            key = %match &origin { KeyOrigin::Configured => "configured", KeyOrigin::Stored { .. } => "database" },
            "jwt-server ready"
        );
        Ok(Self { acceptor, local_addr, endpoint, service, live, remote, db, key_origin: origin, config })
    }

    /// The address the server listens on (with the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The token service the server runs on.
    pub fn service(&self) -> &Arc<TokenService> {
        &self.service
    }

    /// Where the signing key came from.
    pub fn key_origin(&self) -> &KeyOrigin {
        &self.key_origin
    }

    /// Serve until SIGINT or SIGTERM, then finish requests in flight (up to
    /// `shutdown_timeout`) and return. To catch signals that arrive during startup too,
    /// [`Shutdown::install`] before [`Application::build`] and use [`Application::run_until`].
    ///
    /// # Errors
    /// [`Error::Runtime`] if the signal handlers cannot be installed or the server fails.
    pub async fn run_until_stopped(self) -> Result<(), Error> {
        let shutdown = Shutdown::install()?;
        self.run_until(shutdown.wait()).await
    }

    /// Serve until `signal` completes, then shut down gracefully.
    ///
    /// # Errors
    /// [`Error::Runtime`] if the server fails.
    pub async fn run_until(self, signal: impl Future<Output = ()> + Send) -> Result<(), Error> {
        let Self { acceptor, endpoint, live, remote, db, key_origin, config, .. } = self;
        let remote_refresher = remote.map(|remote| remote.spawn(live.clone()));
        let refresher = match key_origin {
            KeyOrigin::Stored { kid, .. } => Some(keys::spawn_refresher(
                live,
                Arc::new(db.keys()) as Arc<dyn KeyStore>,
                config.token.algorithm,
                config.server.key_refresh_interval,
                kid,
            )),
            KeyOrigin::Configured => None,
        };
        let result = poem::Server::new_with_acceptor(acceptor)
            .name("jwt-server")
            .idle_timeout(Duration::from_secs(60))
            .run_with_graceful_shutdown(endpoint, signal, Some(config.server.shutdown_timeout))
            .await;
        for task in [refresher, remote_refresher].into_iter().flatten() {
            task.abort();
        }
        let _ = db.close().await;
        tracing::info!("jwt-server stopped");
        result.map_err(|e| Error::runtime(format!("the HTTP server failed: {e}")))
    }
}

/// SIGINT (Ctrl-C) and SIGTERM, caught from the moment [`Shutdown::install`] returns: a
/// signal that arrives while the server is still starting is kept, and [`Shutdown::wait`]
/// then completes at once.
#[derive(Debug)]
pub struct Shutdown {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Shutdown {
    /// Take over SIGINT and SIGTERM. Must be called inside the Tokio runtime.
    ///
    /// # Errors
    /// [`Error::Runtime`] if the signal handlers cannot be installed.
    pub fn install() -> Result<Self, Error> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let failed =
                |e: std::io::Error| Error::runtime(format!("cannot install the signal handlers: {e}"));
            Ok(Self {
                interrupt: signal(SignalKind::interrupt()).map_err(failed)?,
                terminate: signal(SignalKind::terminate()).map_err(failed)?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Completes on the first SIGINT or SIGTERM.
    pub async fn wait(self) {
        #[cfg(unix)]
        {
            let Self { mut interrupt, mut terminate } = self;
            tokio::select! {
                _ = interrupt.recv() => tracing::info!("SIGINT received: shutting down"),
                _ = terminate.recv() => tracing::info!("SIGTERM received: shutting down"),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("Ctrl-C received: shutting down");
        }
    }
}

#[cfg(test)]
mod tests {
    use poem::http::StatusCode;
    use poem::{EndpointExt, Route, get, handler};

    use super::*;
    use crate::config::ServerConfig;

    /// The README's "embed jwt-http in your own Poem app" example, kept honest.
    #[tokio::test]
    async fn readme_embedding_example_works() {
        use jwt_http::{AlwaysReady, HttpConfig, JwtBearer, Plain};

        #[handler]
        async fn hello(Plain(JwtBearer(auth)): Plain<JwtBearer>) -> String {
            format!("hello {}", auth.user.username)
        }

        let config = Config {
            server: ServerConfig {
                database_url: "sqlite::memory:".into(),
                argon2_memory_kib: 64,
                argon2_iterations: 1,
                ..ServerConfig::default()
            },
            ..Config::default()
        };
        let db = connect(&config, true).await.unwrap();
        let loaded = keys::load_or_create(&config, &db.keys()).await.unwrap();
        let service = Arc::new(service(&config, &db, loaded.keys).unwrap());
        let hash = hasher(&config).unwrap();
        let password = jwt_core::ports::PasswordHasher::hash(&hash, "pw").await.unwrap();
        db.users()
            .create_user(jwt_store::NewUser {
                username: "alice".into(),
                email: String::new(),
                password_hash: password,
                is_active: true,
                is_staff: false,
                is_superuser: false,
                claims: serde_json::Map::new(),
            })
            .await
            .unwrap();

        // --- the README snippet ---
        let app = Route::new()
            .at("/hello", get(hello))
            .nest("/", jwt_http::app(service.clone(), Arc::new(AlwaysReady), &HttpConfig::default()))
            .data(service);
        // ---

        let client = poem::test::TestClient::new(app);
        let login = client
            .post("/api/token/")
            .body_json(&serde_json::json!({"username": "alice", "password": "pw"}))
            .send()
            .await;
        login.assert_status_is_ok();
        let body: serde_json::Value = login.0.into_body().into_json().await.unwrap();
        let access = body["access"].as_str().unwrap().to_owned();
        let greeting = client.get("/hello").header("Authorization", format!("Bearer {access}")).send().await;
        greeting.assert_status_is_ok();
        greeting.assert_text("hello alice").await;
        client.get("/hello").send().await.assert_status(StatusCode::UNAUTHORIZED);
    }
}
