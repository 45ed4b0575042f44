//! `UserRepository` and the admin methods of `SeaOrmUserRepository`.

use std::sync::Arc;

use jwt_core::StoreError;
use jwt_core::UserId;
use jwt_core::memory::FixedClock;
use jwt_core::ports::UserRepository;
use serde_json::json;

use crate::harness::{NOW, at, each_backend, new_user};

#[tokio::test]
async fn create_find_and_claims_round_trip() {
    each_backend(|t| async move {
        let users = t.db.users().with_clock(FixedClock::at(NOW));
        let mut new = new_user("alice", "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA");
        new.is_staff = true;
        new.claims = json!({"roles": ["admin", "ops"], "tenant": {"id": 7}}).as_object().unwrap().clone();
        let alice = users.create_user(new.clone()).await.unwrap();
        assert_eq!(alice.username, "alice");
        assert_eq!(alice.email, "alice@example.com");
        assert_eq!(alice.password_hash, new.password_hash);
        assert!(alice.is_active && alice.is_staff && !alice.is_superuser);
        assert_eq!(alice.claims, new.claims);
        assert_eq!(alice.date_joined, at(NOW));
        assert_eq!(alice.last_login, None);
        assert_eq!(alice.credential_stamp.len(), 32, "16 random bytes in hex");
        assert!(alice.id.as_str().parse::<i64>().is_ok(), "integer ids: {}", alice.id);

        assert_eq!(users.find_by_username("alice").await.unwrap().as_ref(), Some(&alice));
        assert_eq!(users.find_by_id(&alice.id).await.unwrap().as_ref(), Some(&alice));
        assert!(users.find_by_username("Alice").await.unwrap().is_none(), "exact match on {:?}", t.backend);
        assert!(users.find_by_username("bob").await.unwrap().is_none());
        assert!(users.find_by_id(&UserId::parse("alice").unwrap()).await.unwrap().is_none());
        assert!(users.find_by_id(&UserId::from(987_654)).await.unwrap().is_none());

        let dup = users.create_user(new_user("alice", "")).await.unwrap_err();
        assert!(matches!(dup, StoreError::Conflict), "{dup:?}");
        // Usernames differing only in case are different users on every backend.
        let upper = users.create_user(new_user("ALICE", "")).await.unwrap();
        assert_ne!(upper.id, alice.id);
        assert_ne!(upper.credential_stamp, alice.credential_stamp);
        t
    })
    .await;
}

#[tokio::test]
async fn logins_hashes_stamps_and_activation() {
    each_backend(|t| async move {
        let users = t.db.users();
        let alice = users.create_user(new_user("alice", "old-hash")).await.unwrap();

        users.record_login(&alice.id, at(NOW + 5)).await.unwrap();
        users.update_password_hash(&alice.id, "rehashed").await.unwrap();
        let now = users.find_by_id(&alice.id).await.unwrap().unwrap();
        assert_eq!(now.last_login, Some(at(NOW + 5)));
        assert_eq!(now.password_hash, "rehashed");
        assert_eq!(now.credential_stamp, alice.credential_stamp, "a re-hash is not a password change");

        users.set_credential_stamp(&alice.id, "stamp-2").await.unwrap();
        assert_eq!(users.find_by_id(&alice.id).await.unwrap().unwrap().credential_stamp, "stamp-2");

        assert!(users.set_password_hash("alice", "new-hash").await.unwrap());
        let changed = users.find_by_id(&alice.id).await.unwrap().unwrap();
        assert_eq!(changed.password_hash, "new-hash");
        assert_ne!(changed.credential_stamp, "stamp-2", "a password change replaces the stamp");
        assert!(!users.set_password_hash("nobody", "x").await.unwrap());

        assert!(users.set_active("alice", false).await.unwrap());
        assert!(users.set_active("alice", false).await.unwrap(), "already inactive still names a user");
        assert!(!users.find_by_id(&alice.id).await.unwrap().unwrap().is_active);
        assert!(!users.set_active("nobody", true).await.unwrap());

        // Updates of missing or non-numeric ids are no-ops, not errors.
        users.record_login(&UserId::from(424_242), at(NOW)).await.unwrap();
        users.set_credential_stamp(&UserId::parse("alice").unwrap(), "x").await.unwrap();
        t
    })
    .await;
}

#[tokio::test]
async fn list_and_delete_users() {
    each_backend(|t| async move {
        let users = Arc::new(t.db.users());
        for name in ["carol", "alice", "bob"] {
            users.create_user(new_user(name, "")).await.unwrap();
        }
        let listed: Vec<String> = users.list_users().await.unwrap().into_iter().map(|u| u.username).collect();
        assert_eq!(listed, ["carol", "alice", "bob"], "by id");
        assert!(users.delete_user("alice").await.unwrap());
        assert!(!users.delete_user("alice").await.unwrap());
        assert_eq!(users.list_users().await.unwrap().len(), 2);
        t
    })
    .await;
}
