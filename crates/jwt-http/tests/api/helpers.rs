//! The test application over the in-memory adapters, and token minting helpers.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_core::memory::{
    FixedClock, InMemoryTokenStore, InMemoryUsers, Pbkdf2Hasher, SeqRandom, example_user,
};
use jwt_core::ports::{StoredUserClaims, TokenStore};
use jwt_core::{KeySet, Ports, Settings, TokenEngine, TokenService, User, UserId};
use jwt_http::{AlwaysReady, HttpConfig, Readiness};
use poem::endpoint::BoxEndpoint;
use poem::http::{HeaderMap, Method};
use poem::test::{TestClient, TestForm};
use serde_json::{Value, json};

/// The HS256 secret of the test service.
pub(crate) const SECRET: &[u8] = b"jwt-http test secret, at least 32 bytes long";
/// When the tests run (the observed peer's clock).
pub(crate) const NOW: i64 = 1_795_523_083;

pub(crate) const ALICE_PASSWORD: &str = "correct horse battery staple";
pub(crate) const BOB_PASSWORD: &str = "inactive bob password";

/// The observed peer's settings: rotation and blacklist-after-rotation on.
pub(crate) fn peer_settings() -> Settings {
    Settings { rotate_refresh_tokens: true, blacklist_after_rotation: true, ..Settings::default() }
}

/// An answer, read whole.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) text: String,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// Status and exact body.
    #[track_caller]
    pub(crate) fn assert(&self, status: u16, body: &str) {
        assert_eq!((self.status, self.text.as_str()), (status, body), "headers: {:?}", self.headers);
    }

    /// A 401 with simplejwt's `WWW-Authenticate`.
    #[track_caller]
    pub(crate) fn assert_401(&self, body: &str) {
        self.assert(401, body);
        assert_eq!(self.header("www-authenticate"), Some("Bearer realm=\"api\""));
    }

    /// Not a 401: no `WWW-Authenticate`.
    #[track_caller]
    pub(crate) fn assert_no_challenge(&self) {
        assert_eq!(self.header("www-authenticate"), None, "{}", self.text);
    }

    /// A string field of the JSON body.
    pub(crate) fn str(&self, key: &str) -> String {
        self.json()[key].as_str().unwrap_or_else(|| panic!("no {key} in {}", self.text)).to_owned()
    }
}

/// What a request carries.
#[derive(Default)]
pub(crate) struct Req {
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Option<(String, Vec<u8>)>,
    pub(crate) multipart: Option<TestForm>,
}

impl Req {
    pub(crate) fn json(value: Value) -> Self {
        Self { body: Some(("application/json".into(), value.to_string().into_bytes())), ..Self::default() }
    }

    pub(crate) fn raw(content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self { body: Some((content_type.into(), body.into())), ..Self::default() }
    }

    pub(crate) fn bearer(token: &str) -> Self {
        Self::default().header("Authorization", &format!("Bearer {token}"))
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub(crate) fn with_json(mut self, value: Value) -> Self {
        self.body = Some(("application/json".into(), value.to_string().into_bytes()));
        self
    }
}

/// The application under test and handles on its adapters.
pub(crate) struct TestApp {
    pub(crate) cli: TestClient<BoxEndpoint<'static>>,
    pub(crate) service: Arc<TokenService>,
    pub(crate) clock: Arc<FixedClock>,
    pub(crate) users: Arc<InMemoryUsers>,
    pub(crate) settings: Settings,
}

pub(crate) fn user(id: &str, username: &str, password: &str, active: bool) -> User {
    let hasher = Pbkdf2Hasher::new(NonZeroU32::new(1000).unwrap());
    User {
        password_hash: hasher.hash_now(password).unwrap(),
        is_active: active,
        email: format!("{username}@example.com"),
        ..example_user(id, username)
    }
}

pub(crate) fn service_with(
    settings: Settings,
    store: Arc<dyn TokenStore>,
) -> (Arc<TokenService>, Arc<FixedClock>, Arc<InMemoryUsers>) {
    let clock = FixedClock::at(NOW);
    let engine = TokenEngine::with_details(
        settings,
        KeySet::hs256(SECRET).unwrap(),
        clock.clone(),
        SeqRandom::starting_at(1),
    )
    .unwrap();
    let users = InMemoryUsers::new();
    users.insert(user("1", "alice", ALICE_PASSWORD, true));
    users.insert(user("2", "bob", BOB_PASSWORD, false));
    let ports = Ports {
        store,
        users: users.clone(),
        hasher: Pbkdf2Hasher::new(NonZeroU32::new(1000).unwrap()),
        claims: Arc::new(StoredUserClaims),
    };
    (Arc::new(TokenService::new(engine, ports)), clock, users)
}

impl TestApp {
    /// The observed peer's configuration.
    pub(crate) fn new() -> Self {
        Self::with(peer_settings(), HttpConfig::default())
    }

    pub(crate) fn with(settings: Settings, config: HttpConfig) -> Self {
        Self::with_store(settings, config, InMemoryTokenStore::new(), Arc::new(AlwaysReady))
    }

    pub(crate) fn with_store(
        settings: Settings,
        config: HttpConfig,
        store: Arc<dyn TokenStore>,
        readiness: Arc<dyn Readiness>,
    ) -> Self {
        let (service, clock, users) = service_with(settings.clone(), store);
        let cli = TestClient::new(jwt_http::app(service.clone(), readiness, &config));
        Self { cli, service, clock, users, settings }
    }

    pub(crate) async fn call(&self, method: Method, path: &str, req: Req) -> Reply {
        let mut builder = self.cli.request(method, path);
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some((content_type, body)) = req.body {
            if !content_type.is_empty() {
                builder = builder.content_type(content_type);
            }
            builder = builder.body(body);
        }
        if let Some(form) = req.multipart {
            builder = builder.multipart(form);
        }
        let resp = builder.send().await.0;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.into_body().into_string().await.unwrap();
        Reply { status, headers, text }
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Req::json(body)).await
    }

    pub(crate) async fn get(&self, path: &str, req: Req) -> Reply {
        self.call(Method::GET, path, req).await
    }

    pub(crate) async fn me(&self, token: &str) -> Reply {
        self.get("/api/me/", Req::bearer(token)).await
    }

    /// Log in; returns `(refresh, access)`.
    pub(crate) async fn login(&self, username: &str, password: &str) -> (String, String) {
        let r = self.post("/api/token/", json!({"username": username, "password": password})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        (r.str("refresh"), r.str("access"))
    }

    pub(crate) async fn login_alice(&self) -> (String, String) {
        self.login("alice", ALICE_PASSWORD).await
    }

    pub(crate) async fn sliding_alice(&self) -> String {
        let r =
            self.post("/api/token/sliding/", json!({"username": "alice", "password": ALICE_PASSWORD})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.str("token")
    }

    /// A pair for a user without a password check (bob is inactive).
    pub(crate) async fn pair_for(&self, id: &str) -> (String, String) {
        let user = self.users.get(&UserId::parse(id).unwrap()).unwrap();
        let pair = self.service.issue_pair_for(&user).await.unwrap();
        (pair.refresh.into_string(), pair.access.into_string())
    }

    pub(crate) async fn sliding_for(&self, id: &str) -> String {
        let user = self.users.get(&UserId::parse(id).unwrap()).unwrap();
        self.service.issue_sliding_for(&user).await.unwrap().into_string()
    }

    /// carol (id 4): a refresh, access and sliding token, then the account is deleted.
    pub(crate) async fn deleted_carol(&self) -> (String, String, String) {
        self.users.insert(user("4", "carol", "carol's password", true));
        let (refresh, access) = self.pair_for("4").await;
        let sliding = self.sliding_for("4").await;
        self.users.remove(&UserId::parse("4").unwrap());
        (refresh, access, sliding)
    }

    pub(crate) fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }

    pub(crate) async fn metrics(&self) -> String {
        self.get("/metrics", Req::default()).await.text
    }
}

/// Claims like simplejwt's, for hand-signed tokens.
pub(crate) fn claims(token_type: &str, lifetime: i64) -> Value {
    json!({
        "token_type": token_type,
        "exp": NOW + lifetime,
        "iat": NOW,
        "jti": format!("{:032x}", rand_jti()),
        "user_id": "1",
    })
}

fn rand_jti() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0xabc0_0000);
    u128::from(N.fetch_add(1, Ordering::SeqCst)) << 64 | 0x4000_8000
}

/// `claims` without `key`.
pub(crate) fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().shift_remove(key);
    claims
}

/// `claims` with `key` set.
pub(crate) fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

/// Sign `claims` with HS256 and `secret` (like another simplejwt instance would).
pub(crate) fn sign_with(claims: &Value, secret: &[u8], alg: jsonwebtoken::Algorithm) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(alg),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

/// Sign with the service's key.
pub(crate) fn sign(claims: &Value) -> String {
    sign_with(claims, SECRET, jsonwebtoken::Algorithm::HS256)
}

/// An unsigned token (`alg: none`).
pub(crate) fn unsigned(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.")
}

/// The same token with a corrupted signature.
pub(crate) fn tampered(token: &str) -> String {
    let (head, sig) = token.rsplit_once('.').unwrap();
    let mut sig = sig.to_owned();
    let last = if sig.ends_with('A') { "B" } else { "A" };
    sig.replace_range(sig.len() - 3.., &format!("{last}{last}{last}"));
    format!("{head}.{sig}")
}

/// The payload of a token, unverified.
pub(crate) fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// The 401 bodies of bearer authentication.
pub(crate) fn not_valid_for_any(message: &str) -> String {
    format!(
        r#"{{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{{"token_class":"AccessToken","token_type":"access","message":"{message}"}}]}}"#
    )
}

pub(crate) const TOKEN_INVALID: &str = r#"{"detail":"Token is invalid","code":"token_not_valid"}"#;
pub(crate) const TOKEN_EXPIRED: &str = r#"{"detail":"Token is expired","code":"token_not_valid"}"#;
pub(crate) const WRONG_TYPE: &str = r#"{"detail":"Token has wrong type","code":"token_not_valid"}"#;
pub(crate) const BLACKLISTED: &str = r#"{"detail":"Token is blacklisted","code":"token_not_valid"}"#;
pub(crate) const BAD_CREDENTIALS: &str = r#"{"detail":"No active account found with the given credentials"}"#;
pub(crate) const NO_ACCOUNT_FOR_TOKEN: &str = r#"{"detail":"No active account found for the given token."}"#;
pub(crate) const NOT_PROVIDED: &str = r#"{"detail":"Authentication credentials were not provided."}"#;
pub(crate) const BAD_HEADER: &str = r#"{"detail":"Authorization header must contain two space-delimited values","code":"bad_authorization_header"}"#;
