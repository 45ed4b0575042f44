//! Service behaviour over the in-memory adapters, with a fixed clock and predictable ids.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures_executor::block_on;
use serde_json::{Value, json};

use super::*;
use crate::memory::{
    Fault, FaultyStore, FixedClock, InMemoryTokenStore, InMemoryUsers, Pbkdf2Hasher, SeqRandom, example_user,
};
use crate::ports::{StoredUserClaims, TokenStore};
use crate::{KeySet, Settings, StoreError};

const SECRET: &[u8] = b"service-test-secret-0123456789abcdef";
const T0: i64 = 1_767_225_600;
const ALICE_PASSWORD: &str = "correct horse battery staple";

struct Fixture {
    service: Arc<TokenService>,
    users: Arc<InMemoryUsers>,
    store: Arc<InMemoryTokenStore>,
    clock: Arc<FixedClock>,
    hasher: Arc<CountingHasher>,
}

/// Counts calls, so tests can see that unknown users cost a hash check too.
#[derive(Debug)]
struct CountingHasher {
    inner: Arc<Pbkdf2Hasher>,
    verifies: AtomicUsize,
    needs_rehash: AtomicBool,
}

#[async_trait]
impl PasswordHasher for CountingHasher {
    async fn hash(&self, password: &str) -> Result<String, crate::error::HashError> {
        self.inner.hash(password).await
    }
    async fn verify(
        &self,
        password: &str,
        encoded: Option<&str>,
    ) -> Result<PasswordCheck, crate::error::HashError> {
        self.verifies.fetch_add(1, Ordering::SeqCst);
        let check = self.inner.verify(password, encoded).await?;
        Ok(if check == PasswordCheck::Match && self.needs_rehash.load(Ordering::SeqCst) {
            PasswordCheck::MatchNeedsRehash
        } else {
            check
        })
    }
}

fn fixture(settings: Settings) -> Fixture {
    let clock = FixedClock::at(T0);
    let engine = TokenEngine::with_details(
        settings,
        KeySet::hs256(SECRET).unwrap(),
        clock.clone(),
        SeqRandom::starting_at(1),
    )
    .unwrap();
    let users = InMemoryUsers::new();
    let store = InMemoryTokenStore::new();
    let pbkdf2 = Pbkdf2Hasher::new(NonZeroU32::new(10).unwrap());
    let hasher = Arc::new(CountingHasher {
        inner: pbkdf2.clone(),
        verifies: AtomicUsize::new(0),
        needs_rehash: AtomicBool::new(false),
    });
    let mut alice = example_user("1", "alice");
    alice.password_hash = pbkdf2.hash_now(ALICE_PASSWORD).unwrap();
    alice.claims = json!({"roles": ["admin"]}).as_object().unwrap().clone();
    alice.credential_stamp = "stamp-1".into();
    users.insert(alice);
    let mut bob = example_user("2", "bob");
    bob.password_hash = pbkdf2.hash_now("inactive bob password").unwrap();
    bob.is_active = false;
    users.insert(bob);
    let ports = Ports {
        store: store.clone(),
        users: users.clone(),
        hasher: hasher.clone(),
        claims: Arc::new(StoredUserClaims),
    };
    Fixture { service: Arc::new(TokenService::new(engine, ports)), users, store, clock, hasher }
}

fn rotating() -> Settings {
    Settings { rotate_refresh_tokens: true, blacklist_after_rotation: true, ..Settings::default() }
}

fn alice() -> Credentials<'static> {
    Credentials { username: "alice", password: ALICE_PASSWORD }
}

fn keys_of(claims: &Claims) -> Vec<&str> {
    claims.iter().map(|(k, _)| k.as_str()).collect()
}

impl Fixture {
    fn login(&self) -> TokenPair {
        block_on(self.service.obtain_pair(alice())).unwrap()
    }
    fn user(&self, id: &str) -> User {
        self.users.get(&UserId::parse(id).unwrap()).unwrap()
    }
    fn record(&self, jti: &crate::Jti) -> TokenRecord {
        block_on(self.store.find(jti)).unwrap().unwrap()
    }
}

#[test]
fn obtain_pair_issues_simplejwt_claims_and_records_the_refresh_token() {
    let f = fixture(Settings::default());
    let pair = f.login();
    let refresh = pair.refresh.claims();
    assert_eq!(keys_of(refresh), ["token_type", "exp", "iat", "jti", "user_id", "roles"]);
    assert_eq!(refresh.get("token_type"), Some(&json!("refresh")));
    assert_eq!(refresh.get("user_id"), Some(&json!("1")));
    assert_eq!(refresh.get_timestamp("exp").unwrap().as_secs(), T0 + 86_400);
    assert_eq!(refresh.get_str("jti").unwrap().len(), 32);
    let access = pair.access.claims();
    assert_eq!(keys_of(access), ["token_type", "exp", "iat", "jti", "user_id", "roles"]);
    assert_eq!(access.get_timestamp("exp").unwrap().as_secs(), T0 + 300);
    assert_ne!(access.get("jti"), refresh.get("jti"));
    let record = f.record(pair.refresh.jti().unwrap());
    assert_eq!(record.token.token_type, TokenType::Refresh);
    assert_eq!(record.token.user_id, Some(UserId::parse("1").unwrap()));
    assert_eq!(record.token.family_id, FamilyId::rooted_at(pair.refresh.jti().unwrap()));
    assert_eq!(record.token.token_digest, digest(pair.refresh.as_str()));
    assert!(
        block_on(f.store.find(pair.access.jti().unwrap())).unwrap().is_none(),
        "access tokens are never stored"
    );
}

#[test]
fn bad_credentials_are_indistinguishable_and_cost_a_hash_check() {
    let f = fixture(Settings::default());
    for (username, password) in
        [("alice", "wrong"), ("nobody", "x"), ("bob", "inactive bob password"), ("alice", "")]
    {
        let before = f.hasher.verifies.load(Ordering::SeqCst);
        let err = block_on(f.service.obtain_pair(Credentials { username, password })).unwrap_err();
        assert!(matches!(err, TokenError::BadCredentials), "{username}: {err:?}");
        assert_eq!(err.to_string(), "No active account found with the given credentials");
        assert_eq!(f.hasher.verifies.load(Ordering::SeqCst), before + 1, "{username}");
    }
    assert!(f.store.records().is_empty());
}

#[test]
fn last_login_is_updated_only_when_configured() {
    let f = fixture(Settings::default());
    f.login();
    assert_eq!(f.user("1").last_login, None);
    let f = fixture(Settings { update_last_login: true, ..Settings::default() });
    block_on(f.service.obtain_sliding(alice())).unwrap();
    assert_eq!(f.user("1").last_login, Some(Timestamp::from_secs(T0)));
}

#[test]
fn an_outdated_hash_is_replaced_on_login() {
    let f = fixture(Settings::default());
    let before = f.user("1").password_hash;
    f.hasher.needs_rehash.store(true, Ordering::SeqCst);
    f.login();
    let after = f.user("1").password_hash;
    assert_ne!(before, after);
    f.hasher.needs_rehash.store(false, Ordering::SeqCst);
    f.login();
}

#[test]
fn refresh_without_rotation_returns_an_access_token_only() {
    let f = fixture(Settings::default());
    let pair = f.login();
    f.clock.advance(Duration::from_secs(600));
    let out = block_on(f.service.refresh(pair.refresh.as_str())).unwrap();
    assert!(out.refresh.is_none());
    let access = out.access.claims();
    assert_eq!(access.get_timestamp("exp").unwrap().as_secs(), T0 + 600 + 300);
    assert_eq!(access.get("roles"), Some(&json!(["admin"])));
    // The old refresh token keeps working.
    block_on(f.service.refresh(pair.refresh.as_str())).unwrap();
}

#[test]
fn rotation_blacklists_the_old_token_and_chains_the_family() {
    let f = fixture(rotating());
    let pair = f.login();
    f.clock.advance(Duration::from_secs(60));
    let out = block_on(f.service.refresh(pair.refresh.as_str())).unwrap();
    let new = out.refresh.unwrap();
    let old_jti = pair.refresh.jti().unwrap();
    assert_eq!(keys_of(new.claims()), ["token_type", "exp", "iat", "jti", "user_id", "roles"]);
    assert_eq!(new.claims().get_timestamp("iat").unwrap().as_secs(), T0 + 60);
    assert_eq!(new.claims().get_timestamp("exp").unwrap().as_secs(), T0 + 60 + 86_400);
    let old = f.record(old_jti);
    assert_eq!(old.replaced_by.as_ref(), new.jti());
    assert!(old.blacklisted_at.is_some());
    let child = f.record(new.jti().unwrap());
    assert_eq!(child.token.parent_jti.as_ref(), Some(old_jti));
    assert_eq!(child.token.family_id, old.token.family_id);

    let replay = block_on(f.service.refresh(pair.refresh.as_str())).unwrap_err();
    assert!(matches!(replay, TokenError::Blacklisted), "{replay:?}");
    // simplejwt only rejects the reused token; the new one still works.
    block_on(f.service.refresh(new.as_str())).unwrap();
}

#[test]
fn rotation_without_blacklist_keeps_the_old_token_valid() {
    let f = fixture(Settings { rotate_refresh_tokens: true, ..Settings::default() });
    let pair = f.login();
    let first = block_on(f.service.refresh(pair.refresh.as_str())).unwrap().refresh.unwrap();
    let second = block_on(f.service.refresh(pair.refresh.as_str())).unwrap().refresh.unwrap();
    assert_ne!(first.jti(), second.jti());
    assert_eq!(f.store.records().len(), 3, "both rotated tokens are recorded");
}

#[test]
fn of_concurrent_rotations_exactly_one_wins() {
    let f = fixture(rotating());
    let pair = f.login();
    let raw = pair.refresh.as_str();
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..32).map(|_| s.spawn(|| block_on(f.service.refresh(raw)))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(winners, 1);
    assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| matches!(e, TokenError::Blacklisted)));
    assert_eq!(f.store.records().len(), 2);
}

#[test]
fn within_the_grace_period_concurrent_rotations_share_one_child() {
    let settings = Settings { rotation_grace_period: Duration::from_secs(10), ..rotating() };
    let f = fixture(settings);
    let pair = f.login();
    let first = block_on(f.service.refresh(pair.refresh.as_str())).unwrap().refresh.unwrap();
    f.clock.advance(Duration::from_secs(5));
    let second = block_on(f.service.refresh(pair.refresh.as_str())).unwrap().refresh.unwrap();
    assert_eq!(first.jti(), second.jti());
    assert_eq!(first.claims(), second.claims());
    assert_eq!(first.as_str(), second.as_str(), "HS256 is deterministic: the very same token");
    f.clock.advance(Duration::from_secs(6));
    let late = block_on(f.service.refresh(pair.refresh.as_str())).unwrap_err();
    assert!(matches!(late, TokenError::Blacklisted));
}

#[test]
fn the_grace_period_ends_with_the_session() {
    let f = fixture(Settings { rotation_grace_period: Duration::from_secs(10), ..rotating() });
    let pair = f.login();
    block_on(f.service.refresh(pair.refresh.as_str())).unwrap();
    // "Log out of all devices" right after the rotation: a replay within the grace period
    // gets neither the (now blacklisted) child nor a fresh access token.
    block_on(f.service.revoke_all_for_user(&UserId::parse("1").unwrap())).unwrap();
    f.clock.advance(Duration::from_secs(2));
    let err = block_on(f.service.refresh(pair.refresh.as_str())).unwrap_err();
    assert!(matches!(err, TokenError::Blacklisted), "{err:?}");

    // The same when the replay only learns from the store's compare-and-set that it lost
    // (its first read raced with the winning rotation).
    let other = f.login();
    block_on(f.service.refresh(other.refresh.as_str())).unwrap();
    block_on(f.service.revoke_all_for_user(&UserId::parse("1").unwrap())).unwrap();
    let mut ports = f.service.ports().clone();
    ports.store = Arc::new(StaleReads(f.store.clone()));
    let engine = TokenEngine::with_details(
        Settings { rotation_grace_period: Duration::from_secs(10), ..rotating() },
        KeySet::hs256(SECRET).unwrap(),
        f.clock.clone(),
        SeqRandom::starting_at(900),
    )
    .unwrap();
    let racing = TokenService::new(engine, ports);
    let err = block_on(racing.refresh(other.refresh.as_str())).unwrap_err();
    assert!(matches!(err, TokenError::Blacklisted), "{err:?}");
}

/// A store whose `find` answers from before every write (a read that raced with a rotation).
struct StaleReads(Arc<InMemoryTokenStore>);

#[async_trait]
impl TokenStore for StaleReads {
    async fn record_outstanding(&self, token: &OutstandingToken) -> Result<(), StoreError> {
        self.0.record_outstanding(token).await
    }
    async fn find(&self, _jti: &crate::Jti) -> Result<Option<TokenRecord>, StoreError> {
        Ok(None)
    }
    async fn is_blacklisted(&self, jti: &crate::Jti) -> Result<bool, StoreError> {
        self.0.is_blacklisted(jti).await
    }
    async fn blacklist(
        &self,
        token: &OutstandingToken,
        at: Timestamp,
    ) -> Result<BlacklistOutcome, StoreError> {
        self.0.blacklist(token, at).await
    }
    async fn rotate(&self, rotation: &Rotation) -> Result<RotationOutcome, StoreError> {
        self.0.rotate(rotation).await
    }
    async fn revoke_family(
        &self,
        family: &FamilyId,
        at: Timestamp,
        still_valid_at: Timestamp,
    ) -> Result<u64, StoreError> {
        self.0.revoke_family(family, at, still_valid_at).await
    }
    async fn revoke_user(
        &self,
        user: &UserId,
        at: Timestamp,
        still_valid_at: Timestamp,
    ) -> Result<u64, StoreError> {
        self.0.revoke_user(user, at, still_valid_at).await
    }
    async fn flush_expired(&self, now: Timestamp, batch_size: u32) -> Result<u64, StoreError> {
        self.0.flush_expired(now, batch_size).await
    }
}

#[test]
fn reuse_of_a_rotated_token_revokes_the_family_when_configured() {
    let f = fixture(Settings { revoke_family_on_reuse: true, ..rotating() });
    let pair = f.login();
    let child = block_on(f.service.refresh(pair.refresh.as_str())).unwrap().refresh.unwrap();
    let grandchild = block_on(f.service.refresh(child.as_str())).unwrap().refresh.unwrap();
    let other_login = f.login();
    // An attacker replays the first token: the whole family dies, other logins survive.
    assert!(matches!(block_on(f.service.refresh(pair.refresh.as_str())), Err(TokenError::Blacklisted)));
    assert!(matches!(block_on(f.service.refresh(grandchild.as_str())), Err(TokenError::Blacklisted)));
    block_on(f.service.refresh(other_login.refresh.as_str())).unwrap();
}

#[test]
fn refresh_checks_the_user() {
    let f = fixture(rotating());
    let pair = f.login();
    f.users.update(&UserId::parse("1").unwrap(), |u| u.is_active = false);
    let err = block_on(f.service.refresh(pair.refresh.as_str())).unwrap_err();
    assert!(matches!(err, TokenError::NoActiveAccountForToken), "{err:?}");
    assert_eq!(err.to_string(), "No active account found for the given token.");
    f.users.remove(&UserId::parse("1").unwrap());
    let err = block_on(f.service.refresh(pair.refresh.as_str())).unwrap_err();
    assert!(matches!(err, TokenError::NoActiveAccountForToken), "deleted user: {err:?}");
}

#[test]
fn credential_stamp_change_revokes_on_refresh_and_authentication() {
    let f = fixture(Settings { check_revoke_token: true, ..rotating() });
    let pair = f.login();
    let stamp_claim = pair.refresh.claims().get_str("hash_password").unwrap().to_owned();
    assert_eq!(stamp_claim.len(), 32);
    assert_eq!(
        keys_of(pair.access.claims()),
        ["token_type", "exp", "iat", "jti", "user_id", "hash_password", "roles"]
    );
    block_on(f.service.authenticate(pair.access.as_str())).unwrap();
    f.users.update(&UserId::parse("1").unwrap(), |u| u.credential_stamp = "stamp-2".into());
    let err = block_on(f.service.authenticate(pair.access.as_str())).unwrap_err();
    assert!(matches!(err, TokenError::PasswordChanged));
    assert_eq!(err.code(), "password_changed");
    let err = block_on(f.service.refresh(pair.refresh.as_str())).unwrap_err();
    assert!(matches!(err, TokenError::PasswordChanged));
    assert!(
        f.record(pair.refresh.jti().unwrap()).blacklisted_at.is_some(),
        "blacklisted first, as master does"
    );
}

#[test]
fn a_refresh_token_without_jti_is_rejected_not_a_crash() {
    let f = fixture(rotating());
    let no_jti = TokenEngine::with_details(
        Settings { jti_claim: None, blacklist_enabled: false, ..Settings::default() },
        KeySet::hs256(SECRET).unwrap(),
        f.clock.clone(),
        SeqRandom::starting_at(99),
    )
    .unwrap()
    .refresh_for(&UserId::parse("1").unwrap(), &serde_json::Map::new())
    .unwrap();
    let err = block_on(f.service.refresh(no_jti.as_str())).unwrap_err();
    assert!(matches!(err, TokenError::NoId), "{err:?}");
    let err = block_on(f.service.blacklist(no_jti.as_str())).unwrap_err();
    assert!(matches!(err, TokenError::NoId));
}

#[test]
fn expired_and_wrong_type_tokens_are_refused_by_refresh() {
    let f = fixture(rotating());
    let pair = f.login();
    let err = block_on(f.service.refresh(pair.access.as_str())).unwrap_err();
    assert_eq!(err.to_string(), "Token has wrong type");
    f.clock.advance(Duration::from_secs(86_400));
    let err = block_on(f.service.refresh(pair.refresh.as_str())).unwrap_err();
    assert_eq!(err.to_string(), "Token is expired");
    assert_eq!(err.code(), "token_not_valid");
    let err = block_on(f.service.refresh("not.a.token")).unwrap_err();
    assert_eq!(err.to_string(), "Token is invalid");
}

#[test]
fn sliding_tokens_slide_until_refresh_exp() {
    let f = fixture(Settings::default());
    let token = block_on(f.service.obtain_sliding(alice())).unwrap();
    assert_eq!(
        keys_of(token.claims()),
        ["token_type", "exp", "iat", "jti", "refresh_exp", "user_id", "roles"]
    );
    f.clock.advance(Duration::from_secs(200));
    let slid = block_on(f.service.refresh_sliding(token.as_str())).unwrap();
    assert_eq!(slid.jti(), token.jti());
    assert_eq!(slid.claims().get_timestamp("exp").unwrap().as_secs(), T0 + 200 + 300);
    assert_eq!(slid.claims().get("refresh_exp"), token.claims().get("refresh_exp"));
    // The original copy can be slid again (simplejwt does no write on sliding refresh).
    block_on(f.service.refresh_sliding(token.as_str())).unwrap();
    // Authenticating with it needs Sliding in auth_token_classes.
    let err = block_on(f.service.authenticate(slid.as_str())).unwrap_err();
    let TokenError::NotValidForAnyType(failures) = err else { panic!("{err:?}") };
    assert_eq!(failures[0].message, "Token has wrong type");

    let mut current = slid;
    for _ in 0..300 {
        f.clock.advance(Duration::from_secs(299));
        match block_on(f.service.refresh_sliding(current.as_str())) {
            Ok(next) => current = next,
            Err(e) => {
                assert_eq!(e.to_string(), "Token 'refresh_exp' claim has expired");
                return;
            }
        }
    }
    panic!("refresh_exp never ended the chain");
}

#[test]
fn a_slid_token_is_revoked_and_stays_revoked_until_its_last_copy_expires() {
    let f = fixture(Settings::default());
    let token = block_on(f.service.obtain_sliding(alice())).unwrap();
    f.clock.advance(Duration::from_secs(240));
    let slid = block_on(f.service.refresh_sliding(token.as_str())).unwrap();
    // Past the first copy's `exp` (300 s), the slid copy (same jti) is still live.
    f.clock.advance(Duration::from_secs(120));
    let count = block_on(f.service.revoke_all_for_user(&UserId::parse("1").unwrap())).unwrap();
    assert_eq!(count, 1, "log out everywhere reaches the slid token");
    assert!(matches!(block_on(f.service.refresh_sliding(slid.as_str())), Err(TokenError::Blacklisted)));
    // Flushing must not drop the blacklist entry while a copy can still be valid: one slid
    // just before `refresh_exp` lives until `refresh_exp` + the sliding lifetime.
    let refresh_exp = token.claims().get_timestamp("refresh_exp").unwrap().as_secs();
    f.clock.set(refresh_exp + 299);
    assert_eq!(block_on(f.service.flush_expired(100)).unwrap(), 0);
    f.clock.set(refresh_exp + 300);
    assert_eq!(block_on(f.service.flush_expired(100)).unwrap(), 1);
}

#[test]
fn sliding_refresh_refuses_blacklisted_expired_and_wrong_type() {
    let f = fixture(Settings::default());
    let token = block_on(f.service.obtain_sliding(alice())).unwrap();
    let pair = f.login();
    assert_eq!(
        block_on(f.service.refresh_sliding(pair.access.as_str())).unwrap_err().to_string(),
        "Token has wrong type"
    );
    let record = f.record(token.jti().unwrap());
    block_on(f.store.blacklist(&record.token, Timestamp::from_secs(T0))).unwrap();
    assert!(matches!(block_on(f.service.refresh_sliding(token.as_str())), Err(TokenError::Blacklisted)));
    let other = block_on(f.service.obtain_sliding(alice())).unwrap();
    f.clock.advance(Duration::from_secs(301));
    assert_eq!(
        block_on(f.service.refresh_sliding(other.as_str())).unwrap_err().to_string(),
        "Token is expired"
    );
}

#[test]
fn verify_accepts_any_type_and_honours_the_blacklist_only_after_rotation_setting() {
    let f = fixture(Settings::default());
    let pair = f.login();
    block_on(f.service.verify(pair.access.as_str())).unwrap();
    block_on(f.service.verify(pair.refresh.as_str())).unwrap();
    block_on(f.service.blacklist(pair.refresh.as_str())).unwrap();
    block_on(f.service.verify(pair.refresh.as_str())).unwrap();

    let f = fixture(rotating());
    let pair = f.login();
    block_on(f.service.blacklist(pair.refresh.as_str())).unwrap();
    assert!(matches!(block_on(f.service.verify(pair.refresh.as_str())), Err(TokenError::Blacklisted)));
}

#[test]
fn blacklist_is_once_only_and_records_unknown_tokens() {
    let f = fixture(rotating());
    let pair = f.login();
    block_on(f.service.blacklist(pair.refresh.as_str())).unwrap();
    assert!(matches!(block_on(f.service.blacklist(pair.refresh.as_str())), Err(TokenError::Blacklisted)));
    assert!(matches!(block_on(f.service.refresh(pair.refresh.as_str())), Err(TokenError::Blacklisted)));
    assert_eq!(
        block_on(f.service.blacklist(pair.access.as_str())).unwrap_err().to_string(),
        "Token has wrong type"
    );
    // The access token of a blacklisted pair stays valid until it expires, as in simplejwt.
    block_on(f.service.authenticate(pair.access.as_str())).unwrap();

    // A refresh token minted elsewhere with the same key and never recorded.
    let foreign =
        f.service.engine().refresh_for(&UserId::parse("7").unwrap(), &serde_json::Map::new()).unwrap();
    block_on(f.service.blacklist(foreign.as_str())).unwrap();
    let record = f.record(foreign.jti().unwrap());
    assert!(record.blacklisted_at.is_some());
    assert_eq!(record.token.user_id, Some(UserId::parse("7").unwrap()));
}

#[test]
fn authentication_follows_jwt_authentication() {
    let f = fixture(Settings::default());
    let pair = f.login();
    let auth = block_on(f.service.authenticate(pair.access.as_str())).unwrap();
    assert_eq!(auth.user.username, "alice");
    assert_eq!(auth.token.token_type(), TokenType::Access);

    let err = block_on(f.service.authenticate(pair.refresh.as_str())).unwrap_err();
    assert_eq!(err.to_string(), "Given token not valid for any token type");
    let TokenError::NotValidForAnyType(failures) = err else { unreachable!() };
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].token_class, "AccessToken");
    assert_eq!(failures[0].token_type, TokenType::Access);
    assert_eq!(failures[0].message, "Token has wrong type");

    let engine = f.service.engine();
    let mut no_user = engine.verify::<Access>(pair.access.as_str()).unwrap().into_claims();
    no_user.remove("user_id");
    let raw = crate::jws::encode(&no_user, engine.keys().signing_key()).unwrap();
    assert!(matches!(block_on(f.service.authenticate(&raw)), Err(TokenError::NoUserId)));
    assert!(matches!(block_on(f.service.authenticate_stateless(&raw)), Err(TokenError::NoUserId)));

    let mut int_user = no_user.clone();
    int_user.set("user_id", 1);
    let raw = crate::jws::encode(&int_user, engine.keys().signing_key()).unwrap();
    assert_eq!(block_on(f.service.authenticate(&raw)).unwrap().user.username, "alice");

    f.users.update(&UserId::parse("1").unwrap(), |u| u.is_active = false);
    assert!(matches!(block_on(f.service.authenticate(pair.access.as_str())), Err(TokenError::UserInactive)));
    f.users.remove(&UserId::parse("1").unwrap());
    assert!(matches!(block_on(f.service.authenticate(pair.access.as_str())), Err(TokenError::UserNotFound)));
}

#[test]
fn stateless_authentication_reads_the_user_from_claims() {
    let f = fixture(Settings::default());
    let pair = f.login();
    f.users.remove(&UserId::parse("1").unwrap());
    let (user, token) = block_on(f.service.authenticate_stateless(pair.access.as_str())).unwrap();
    assert_eq!(user.id.as_str(), "1");
    assert_eq!(user.username, "");
    assert!(!user.is_staff);
    assert_eq!(user.claims.get("roles"), Some(&json!(["admin"])));
    assert_eq!(token.token_type(), TokenType::Access);
}

#[test]
fn sliding_tokens_authenticate_when_listed_and_are_blacklist_checked() {
    let settings =
        Settings { auth_token_classes: vec![TokenType::Access, TokenType::Sliding], ..Settings::default() };
    let f = fixture(settings);
    let token = block_on(f.service.obtain_sliding(alice())).unwrap();
    let auth = block_on(f.service.authenticate(token.as_str())).unwrap();
    assert_eq!(auth.token.token_type(), TokenType::Sliding);
    let record = f.record(token.jti().unwrap());
    block_on(f.store.blacklist(&record.token, Timestamp::from_secs(T0))).unwrap();
    let TokenError::NotValidForAnyType(failures) =
        block_on(f.service.authenticate(token.as_str())).unwrap_err()
    else {
        panic!()
    };
    let messages: Vec<_> = failures.iter().map(|f| (f.token_class, f.message.as_str())).collect();
    assert_eq!(messages, [("AccessToken", "Token has wrong type"), ("SlidingToken", "Token is blacklisted")]);
}

#[test]
fn revoking_a_user_blacklists_every_live_token_and_the_stamp() {
    let f = fixture(Settings { check_revoke_token: true, ..rotating() });
    let one = f.login();
    let two = f.login();
    let sliding = block_on(f.service.obtain_sliding(alice())).unwrap();
    let count = block_on(f.service.revoke_all_for_user(&UserId::parse("1").unwrap())).unwrap();
    assert_eq!(count, 3);
    for raw in [one.refresh.as_str(), two.refresh.as_str()] {
        assert!(matches!(block_on(f.service.refresh(raw)), Err(TokenError::Blacklisted)));
    }
    assert!(matches!(block_on(f.service.refresh_sliding(sliding.as_str())), Err(TokenError::Blacklisted)));
    assert!(matches!(
        block_on(f.service.authenticate(one.access.as_str())),
        Err(TokenError::PasswordChanged)
    ));
    // A new login works again.
    let three = f.login();
    block_on(f.service.authenticate(three.access.as_str())).unwrap();
}

#[test]
fn flush_removes_only_expired_tokens() {
    let f = fixture(Settings::default());
    f.login();
    f.clock.advance(Duration::from_secs(3600));
    let live = f.login();
    f.clock.advance(Duration::from_secs(86_400 - 1800));
    assert_eq!(block_on(f.service.flush_expired(100)).unwrap(), 1);
    assert_eq!(f.store.records().len(), 1);
    f.record(live.refresh.jti().unwrap());
}

#[test]
fn flush_keeps_the_blacklist_of_tokens_still_valid_within_the_leeway() {
    let f = fixture(Settings { leeway: Duration::from_secs(60), ..Settings::default() });
    let pair = f.login();
    block_on(f.service.blacklist(pair.refresh.as_str())).unwrap();
    // Past `exp`, but within the leeway: the token still verifies, so it must stay blacklisted.
    f.clock.advance(Duration::from_secs(86_400 + 30));
    assert_eq!(block_on(f.service.flush_expired(100)).unwrap(), 0);
    assert!(matches!(block_on(f.service.refresh(pair.refresh.as_str())), Err(TokenError::Blacklisted)));
    f.clock.advance(Duration::from_secs(31));
    assert_eq!(block_on(f.service.flush_expired(100)).unwrap(), 1);
    assert!(matches!(block_on(f.service.refresh(pair.refresh.as_str())), Err(TokenError::Expired)));
}

#[test]
fn revocation_reaches_tokens_still_valid_within_the_leeway() {
    let f = fixture(Settings { leeway: Duration::from_secs(60), revoke_family_on_reuse: true, ..rotating() });
    let first = f.login();
    // Past `exp`, but within the leeway: the token still refreshes, so "log out everywhere" must
    // revoke it; one that expired beyond the leeway is left alone.
    f.clock.advance(Duration::from_secs(3600));
    let second = f.login();
    f.clock.advance(Duration::from_secs(86_400 - 3600 + 30));
    assert_eq!(block_on(f.service.revoke_all_for_user(&UserId::parse("1").unwrap())).unwrap(), 2);
    for pair in [&first, &second] {
        assert!(matches!(block_on(f.service.refresh(pair.refresh.as_str())), Err(TokenError::Blacklisted)));
    }

    // Reuse detection revokes a family member that is inside the leeway as well.
    let f = fixture(Settings { leeway: Duration::from_secs(60), revoke_family_on_reuse: true, ..rotating() });
    let pair = f.login();
    let child = block_on(f.service.refresh(pair.refresh.as_str())).unwrap().refresh.unwrap();
    f.clock.advance(Duration::from_secs(86_400 + 30));
    assert!(matches!(block_on(f.service.refresh(pair.refresh.as_str())), Err(TokenError::Blacklisted)));
    assert!(matches!(block_on(f.service.refresh(child.as_str())), Err(TokenError::Blacklisted)));
}

#[test]
fn key_rotation_keeps_old_tokens_valid_while_their_key_is_kept() {
    let f = fixture(Settings::default());
    let before = f.login();
    let old = crate::SigningKey::hmac(crate::Algorithm::HS256, SECRET).unwrap().with_kid("old");
    let new = crate::SigningKey::hmac(crate::Algorithm::HS256, b"another-secret-0123456789abcdefgh")
        .unwrap()
        .with_kid("new");
    // Tokens without a kid are checked with the key that has none.
    let plain = crate::SigningKey::hmac(crate::Algorithm::HS256, SECRET).unwrap().verifying_key();
    let keys =
        KeySet::new(new).with_verifying_key(plain).unwrap().with_verifying_key(old.verifying_key()).unwrap();
    f.service.set_keys(keys).unwrap();
    block_on(f.service.authenticate(before.access.as_str())).unwrap();
    let after = f.login();
    block_on(f.service.authenticate(after.access.as_str())).unwrap();
    f.service
        .set_keys(KeySet::new(
            crate::SigningKey::hmac(crate::Algorithm::HS256, b"another-secret-0123456789abcdefgh")
                .unwrap()
                .with_kid("new"),
        ))
        .unwrap();
    assert!(block_on(f.service.authenticate(before.access.as_str())).is_err());
    assert!(
        f.service
            .set_keys(KeySet::new(crate::SigningKey::hmac(crate::Algorithm::HS512, &[7; 64]).unwrap()))
            .is_err()
    );
}

#[test]
fn store_outages_surface_as_store_errors_and_write_nothing() {
    let f = fixture(rotating());
    let flaky = FaultyStore::new(f.store.clone());
    let mut ports = f.service.ports().clone();
    ports.store = flaky.clone();
    let engine = TokenEngine::with_details(
        rotating(),
        KeySet::hs256(SECRET).unwrap(),
        f.clock.clone(),
        SeqRandom::starting_at(500),
    )
    .unwrap();
    let service = TokenService::new(engine, ports);
    let pair = block_on(service.obtain_pair(alice())).unwrap();
    flaky.set(Fault::Unavailable);
    let err = block_on(service.refresh(pair.refresh.as_str())).unwrap_err();
    assert!(err.is_internal());
    assert_eq!(err.code(), "service_unavailable");
    assert!(matches!(
        block_on(service.obtain_pair(alice())),
        Err(TokenError::Store(StoreError::Unavailable(_)))
    ));
    assert_eq!(f.store.records().len(), 1, "nothing half-written");
    flaky.set(Fault::None);
    block_on(service.refresh(pair.refresh.as_str())).unwrap();
}

#[test]
fn custom_claims_cannot_override_registered_ones() {
    let f = fixture(Settings::default());
    f.users.update(&UserId::parse("1").unwrap(), |u| {
        u.claims = json!({"exp": 1, "jti": "x", "token_type": "access", "user_id": "2", "tenant": "acme"})
            .as_object()
            .unwrap()
            .clone();
    });
    let pair = f.login();
    let claims = pair.refresh.claims();
    assert_eq!(claims.get("user_id"), Some(&json!("1")));
    assert_eq!(claims.get("token_type"), Some(&json!("refresh")));
    assert_eq!(claims.get("tenant"), Some(&Value::from("acme")));
    assert_eq!(claims.get_timestamp("exp").unwrap().as_secs(), T0 + 86_400);
}

#[test]
fn a_user_id_claim_that_names_no_user_is_refused_on_refresh() {
    let f = fixture(rotating());
    let engine = f.service.engine();
    let pair = f.login();
    let base = engine.verify::<Refresh>(pair.refresh.as_str()).unwrap().into_claims();
    for (i, (value, refused)) in [
        (json!(1e40), true),
        (json!(1000.5), true),
        (json!({"id": 1}), true),
        (json!(true), true),
        (json!(""), false),
        (json!(0), true),
        (Value::Null, false),
    ]
    .into_iter()
    .enumerate()
    {
        let mut claims = base.clone();
        claims.set("user_id", value.clone());
        claims.set("jti", format!("{i:032x}"));
        let raw = crate::jws::encode(&claims, engine.keys().signing_key()).unwrap();
        let result = block_on(f.service.refresh(&raw));
        if refused {
            assert!(matches!(result, Err(TokenError::NoActiveAccountForToken)), "{value}: {result:?}");
        } else {
            assert!(result.is_ok(), "{value}: {result:?}");
        }
    }
}
