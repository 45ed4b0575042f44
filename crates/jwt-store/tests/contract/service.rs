//! jwt-core's `TokenService` end to end over the SeaORM adapters and the Argon2 hasher.

use std::num::NonZeroU32;
use std::sync::Arc;

use jwt_core::memory::FixedClock;
use jwt_core::password::hash_django_pbkdf2;
use jwt_core::ports::{PasswordCheck, PasswordHasher, StoredUserClaims, TokenStore, UserRepository};
use jwt_core::system::OsRandom;
use jwt_core::{Credentials, KeySet, Ports, Settings, TokenEngine, TokenError, TokenService};
use jwt_store::{Argon2Hasher, Argon2Params, Database};

use crate::harness::{NOW, each_backend, new_user};

const SECRET: &[u8] = b"contract-suite-secret-of-32-bytes!!";

fn small_argon2() -> Argon2Hasher {
    Argon2Hasher::new(Argon2Params { memory_kib: 1024, iterations: 1, parallelism: 1 }).unwrap()
}

fn settings() -> Settings {
    Settings {
        rotate_refresh_tokens: true,
        blacklist_after_rotation: true,
        update_last_login: true,
        check_revoke_token: true,
        ..Settings::default()
    }
}

/// A service ("a server process") over `db`.
fn service(db: &Database, settings: Settings, clock: Arc<FixedClock>) -> TokenService {
    let engine =
        TokenEngine::with_details(settings, KeySet::hs256(SECRET).unwrap(), clock, Arc::new(OsRandom::new()))
            .unwrap();
    TokenService::new(
        engine,
        Ports {
            store: Arc::new(db.tokens()),
            users: Arc::new(db.users()),
            hasher: Arc::new(small_argon2()),
            claims: Arc::new(StoredUserClaims),
        },
    )
}

fn login<'a>(username: &'a str, password: &'a str) -> Credentials<'a> {
    Credentials { username, password }
}

#[tokio::test]
async fn obtain_refresh_rotate_replay_and_logout_everywhere() {
    each_backend(|t| async move {
        let hash = small_argon2().hash("s3cret!").await.unwrap();
        let mut alice = new_user("alice", &hash);
        alice.claims.insert("roles".into(), serde_json::json!(["admin"]));
        let alice = t.db.users().create_user(alice).await.unwrap();
        let clock = FixedClock::at(NOW);
        let svc = service(&t.db, settings(), clock.clone());

        assert!(matches!(svc.obtain_pair(login("alice", "wrong")).await, Err(TokenError::BadCredentials)));
        assert!(matches!(svc.obtain_pair(login("nobody", "s3cret!")).await, Err(TokenError::BadCredentials)));
        let pair = svc.obtain_pair(login("alice", "s3cret!")).await.unwrap();
        let authed = svc.authenticate(pair.access.as_str()).await.unwrap();
        assert_eq!(authed.user.id, alice.id);
        assert_eq!(
            t.db.users().find_by_id(&alice.id).await.unwrap().unwrap().last_login,
            Some(crate::harness::at(NOW))
        );

        let rotated = svc.refresh(pair.refresh.as_str()).await.unwrap();
        let new_refresh = rotated.refresh.expect("rotation is on");
        let replay = svc.refresh(pair.refresh.as_str()).await.unwrap_err();
        assert!(matches!(replay, TokenError::Blacklisted), "{:?}: {replay:?}", t.backend);
        assert!(matches!(svc.verify(pair.refresh.as_str()).await, Err(TokenError::Blacklisted)));
        svc.verify(new_refresh.as_str()).await.unwrap();

        // Log out (blacklist endpoint), then log out everywhere.
        let second = svc.obtain_pair(login("alice", "s3cret!")).await.unwrap();
        svc.blacklist(second.refresh.as_str()).await.unwrap();
        assert!(matches!(svc.blacklist(second.refresh.as_str()).await, Err(TokenError::Blacklisted)));
        let third = svc.obtain_pair(login("alice", "s3cret!")).await.unwrap();
        assert_eq!(svc.revoke_all_for_user(&alice.id).await.unwrap(), 2, "new_refresh and third");
        assert!(matches!(svc.refresh(third.refresh.as_str()).await, Err(TokenError::Blacklisted)));
        assert!(matches!(svc.refresh(new_refresh.as_str()).await, Err(TokenError::Blacklisted)));
        // The credential stamp changed: the access token of before stops working.
        assert!(matches!(svc.authenticate(third.access.as_str()).await, Err(TokenError::PasswordChanged)));

        // Expired tokens are flushed.
        clock.advance(std::time::Duration::from_secs(2 * 24 * 3600));
        assert_eq!(svc.flush_expired(2).await.unwrap(), 4);
        t
    })
    .await;
}

#[tokio::test]
async fn reuse_of_a_rotated_token_revokes_its_family() {
    each_backend(|t| async move {
        let hash = small_argon2().hash("pw").await.unwrap();
        t.db.users().create_user(new_user("bob", &hash)).await.unwrap();
        let svc =
            service(&t.db, Settings { revoke_family_on_reuse: true, ..settings() }, FixedClock::at(NOW));
        let pair = svc.obtain_pair(login("bob", "pw")).await.unwrap();
        let next = svc.refresh(pair.refresh.as_str()).await.unwrap().refresh.unwrap();
        assert!(matches!(svc.refresh(pair.refresh.as_str()).await, Err(TokenError::Blacklisted)));
        // The stolen-token case: the legitimate successor is revoked too.
        assert!(matches!(svc.refresh(next.as_str()).await, Err(TokenError::Blacklisted)), "{:?}", t.backend);
        t
    })
    .await;
}

#[tokio::test]
async fn a_token_rotated_by_one_process_is_rejected_by_another() {
    each_backend(|t| async move {
        let hash = small_argon2().hash("pw").await.unwrap();
        t.db.users().create_user(new_user("carol", &hash)).await.unwrap();
        let other_pool = t.second_pool().await;
        let process_a = service(&t.db, settings(), FixedClock::at(NOW));
        let process_b = service(&other_pool, settings(), FixedClock::at(NOW));

        let pair = process_a.obtain_pair(login("carol", "pw")).await.unwrap();
        let rotated = process_a.refresh(pair.refresh.as_str()).await.unwrap().refresh.unwrap();
        let replay = process_b.refresh(pair.refresh.as_str()).await.unwrap_err();
        assert!(matches!(replay, TokenError::Blacklisted), "{:?}: {replay:?}", t.backend);
        // Process B continues the session with the token A handed out.
        process_b.refresh(rotated.as_str()).await.unwrap();
        assert!(matches!(process_a.refresh(rotated.as_str()).await, Err(TokenError::Blacklisted)));
        other_pool.close().await.unwrap();
        t
    })
    .await;
}

#[tokio::test]
async fn django_users_log_in_and_are_rehashed_to_argon2id() {
    each_backend(|t| async move {
        let django =
            hash_django_pbkdf2("imported-pw", NonZeroU32::new(1000).unwrap(), &OsRandom::new()).unwrap();
        let dave = t.db.users().create_user(new_user("dave", &django)).await.unwrap();
        let svc = service(&t.db, settings(), FixedClock::at(NOW));
        assert!(matches!(svc.obtain_pair(login("dave", "wrong")).await, Err(TokenError::BadCredentials)));
        assert_eq!(t.db.users().find_by_id(&dave.id).await.unwrap().unwrap().password_hash, django);

        svc.obtain_pair(login("dave", "imported-pw")).await.unwrap();
        let rehashed = t.db.users().find_by_id(&dave.id).await.unwrap().unwrap();
        assert!(
            rehashed.password_hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"),
            "{}",
            rehashed.password_hash
        );
        assert_eq!(rehashed.credential_stamp, dave.credential_stamp, "a re-hash keeps sessions");
        assert_eq!(
            small_argon2().verify("imported-pw", Some(&rehashed.password_hash)).await.unwrap(),
            PasswordCheck::Match
        );
        svc.obtain_pair(login("dave", "imported-pw")).await.unwrap();
        t
    })
    .await;
}

#[tokio::test]
async fn inactive_users_cannot_log_in_or_refresh() {
    each_backend(|t| async move {
        let hash = small_argon2().hash("pw").await.unwrap();
        t.db.users().create_user(new_user("erin", &hash)).await.unwrap();
        let svc = service(&t.db, settings(), FixedClock::at(NOW));
        let pair = svc.obtain_pair(login("erin", "pw")).await.unwrap();
        assert!(t.db.users().set_active("erin", false).await.unwrap());
        assert!(matches!(svc.obtain_pair(login("erin", "pw")).await, Err(TokenError::BadCredentials)));
        assert!(matches!(svc.refresh(pair.refresh.as_str()).await, Err(TokenError::NoActiveAccountForToken)));
        assert!(!t.db.tokens().is_blacklisted(&jwt_core::Jti::parse("unused").unwrap()).await.unwrap());
        t
    })
    .await;
}

#[tokio::test]
async fn argon2_with_owasp_defaults() {
    let hasher = Argon2Hasher::new(Argon2Params::default()).unwrap();
    let hash = hasher.hash("correct horse battery staple").await.unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert_eq!(
        hasher.verify("correct horse battery staple", Some(&hash)).await.unwrap(),
        PasswordCheck::Match
    );
    assert_eq!(
        hasher.verify("Correct horse battery staple", Some(&hash)).await.unwrap(),
        PasswordCheck::Mismatch
    );
    assert_eq!(hasher.verify("anything", None).await.unwrap(), PasswordCheck::Mismatch);
}
