//! `TokenStore`: record, find, blacklist, rotate, revoke, flush.

use jwt_core::StoreError;
use jwt_core::ports::{BlacklistOutcome, Rotation, RotationOutcome, TokenStore, UserRepository};
use jwt_core::{TokenType, UserId};
use sea_orm::{ConnectionTrait, Statement};

use crate::harness::{NOW, at, child, count, each_backend, jti, new_user, token};

#[tokio::test]
async fn record_then_find_returns_exactly_what_was_recorded() {
    each_backend(|t| async move {
        let store = t.db.tokens();
        let alice = t.db.users().create_user(new_user("alice", "")).await.unwrap();
        let mut tok = token("a1", Some(&alice.id), Some("fam"), NOW + 100);
        tok.token_type = TokenType::Sliding;
        tok.parent_jti = Some(jti("a0"));
        store.record_outstanding(&tok).await.unwrap();

        let rec = store.find(&jti("a1")).await.unwrap().expect("recorded");
        assert_eq!(rec.token, tok, "{:?}", t.backend);
        assert_eq!((rec.replaced_by, rec.used_at, rec.blacklisted_at), (None, None, None));
        assert!(store.find(&jti("nope")).await.unwrap().is_none());
        assert!(!store.is_blacklisted(&jti("a1")).await.unwrap());

        // The store keeps the SHA-256 digest in hex, never the token.
        let row =
            t.db.connection()
                .query_one_raw(Statement::from_string(
                    t.db.connection().get_database_backend(),
                    "SELECT token_digest FROM outstanding_tokens WHERE jti = 'a1'",
                ))
                .await
                .unwrap()
                .unwrap();
        let stored: String = row.try_get_by_index(0).unwrap();
        let expected: String = tok.token_digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(stored, expected);
        t
    })
    .await;
}

#[tokio::test]
async fn recording_a_jti_twice_is_a_conflict() {
    each_backend(|t| async move {
        let store = t.db.tokens();
        let tok = token("dup", None, None, NOW + 100);
        store.record_outstanding(&tok).await.unwrap();
        let again = store.record_outstanding(&tok).await.unwrap_err();
        assert!(matches!(again, StoreError::Conflict), "{:?}: {again:?}", t.backend);
        assert_eq!(count(&t.db, "outstanding_tokens").await, 1);
        t
    })
    .await;
}

#[tokio::test]
async fn token_users_that_are_not_rows_are_recorded_without_user() {
    each_backend(|t| async move {
        let store = t.db.tokens();
        let ghost = UserId::from(4242);
        let named = UserId::parse("alice").unwrap();
        store.record_outstanding(&token("g1", Some(&ghost), None, NOW + 100)).await.unwrap();
        store.record_outstanding(&token("g2", Some(&named), None, NOW + 100)).await.unwrap();
        assert_eq!(store.find(&jti("g1")).await.unwrap().unwrap().token.user_id, None);
        assert_eq!(store.find(&jti("g2")).await.unwrap().unwrap().token.user_id, None);
        // Ids compare exactly: "A1" is not "a1" (binary collation on MySQL).
        store.record_outstanding(&token("A1", None, None, NOW + 100)).await.unwrap();
        store.record_outstanding(&token("a1", None, None, NOW + 100)).await.unwrap();
        assert_eq!(store.find(&jti("a1")).await.unwrap().unwrap().token.jti, jti("a1"));
        t
    })
    .await;
}

#[tokio::test]
async fn blacklist_records_unknown_tokens_and_reports_repeats() {
    each_backend(|t| async move {
        let store = t.db.tokens();
        let unknown = token("b1", None, None, NOW + 100);
        assert_eq!(store.blacklist(&unknown, at(NOW)).await.unwrap(), BlacklistOutcome::Blacklisted);
        assert_eq!(
            store.blacklist(&unknown, at(NOW + 5)).await.unwrap(),
            BlacklistOutcome::AlreadyBlacklisted
        );
        assert!(store.is_blacklisted(&jti("b1")).await.unwrap());
        let rec = store.find(&jti("b1")).await.unwrap().unwrap();
        assert_eq!(rec.blacklisted_at, Some(at(NOW)), "first blacklisting wins");
        assert_eq!(rec.token, unknown);

        let known = token("b2", None, None, NOW + 100);
        store.record_outstanding(&known).await.unwrap();
        assert_eq!(store.blacklist(&known, at(NOW)).await.unwrap(), BlacklistOutcome::Blacklisted);
        assert!(store.is_blacklisted(&jti("b2")).await.unwrap());
        assert_eq!(count(&t.db, "outstanding_tokens").await, 2);
        assert_eq!(count(&t.db, "blacklisted_tokens").await, 2);
        t
    })
    .await;
}

#[tokio::test]
async fn rotation_flips_the_old_token_once_and_records_the_new_one() {
    each_backend(|t| async move {
        let store = t.db.tokens();
        let old = token("r0", None, None, NOW + 100);
        store.record_outstanding(&old).await.unwrap();
        let new = child(&old, "r1");
        let rotation = Rotation { old: old.clone(), new: new.clone(), at: at(NOW), blacklist_old: true };
        assert_eq!(store.rotate(&rotation).await.unwrap(), RotationOutcome::Rotated);

        let old_rec = store.find(&jti("r0")).await.unwrap().unwrap();
        assert_eq!(old_rec.replaced_by, Some(jti("r1")));
        assert_eq!(old_rec.used_at, Some(at(NOW)));
        assert_eq!(old_rec.blacklisted_at, Some(at(NOW)));
        let new_rec = store.find(&jti("r1")).await.unwrap().unwrap();
        assert_eq!(new_rec.token, new);
        assert_eq!(new_rec.token.parent_jti, Some(jti("r0")));
        assert_eq!(new_rec.token.family_id, old.family_id);

        // A second rotation of the same token loses, naming the winner; nothing is written.
        let replay = Rotation { new: child(&old, "r2"), at: at(NOW + 7), ..rotation.clone() };
        assert_eq!(
            store.rotate(&replay).await.unwrap(),
            RotationOutcome::AlreadyRotated { replaced_by: jti("r1"), used_at: at(NOW) }
        );
        assert!(store.find(&jti("r2")).await.unwrap().is_none());
        t
    })
    .await;
}

#[tokio::test]
async fn rotation_without_blacklisting_still_happens_once() {
    each_backend(|t| async move {
        let store = t.db.tokens();
        let old = token("n0", None, None, NOW + 100);
        let rotation =
            Rotation { old: old.clone(), new: child(&old, "n1"), at: at(NOW), blacklist_old: false };
        // `old` was never recorded: rotation records it first (get-or-create).
        assert_eq!(store.rotate(&rotation).await.unwrap(), RotationOutcome::Rotated);
        assert!(!store.is_blacklisted(&jti("n0")).await.unwrap());
        let again = Rotation { new: child(&old, "n2"), ..rotation };
        assert!(matches!(store.rotate(&again).await.unwrap(), RotationOutcome::AlreadyRotated { .. }));
        t
    })
    .await;
}

#[tokio::test]
async fn blacklisted_tokens_do_not_rotate() {
    each_backend(|t| async move {
        let store = t.db.tokens();
        let old = token("x0", None, None, NOW + 100);
        store.blacklist(&old, at(NOW - 1)).await.unwrap();
        let rotation =
            Rotation { old: old.clone(), new: child(&old, "x1"), at: at(NOW), blacklist_old: true };
        assert_eq!(store.rotate(&rotation).await.unwrap(), RotationOutcome::Blacklisted);
        assert!(store.find(&jti("x1")).await.unwrap().is_none());
        assert_eq!(store.find(&jti("x0")).await.unwrap().unwrap().used_at, None);
        t
    })
    .await;
}

#[tokio::test]
async fn rotation_into_an_existing_jti_is_a_conflict_and_writes_nothing() {
    each_backend(|t| async move {
        let store = t.db.tokens();
        let old = token("c0", None, None, NOW + 100);
        let taken = token("c1", None, None, NOW + 100);
        store.record_outstanding(&old).await.unwrap();
        store.record_outstanding(&taken).await.unwrap();
        let rotation =
            Rotation { old: old.clone(), new: child(&old, "c1"), at: at(NOW), blacklist_old: true };
        assert!(matches!(store.rotate(&rotation).await.unwrap_err(), StoreError::Conflict));
        let rec = store.find(&jti("c0")).await.unwrap().unwrap();
        assert_eq!((rec.used_at, rec.replaced_by, rec.blacklisted_at), (None, None, None), "{:?}", t.backend);
        // And the token can still be rotated properly afterwards.
        let retry = Rotation { new: child(&old, "c2"), ..rotation };
        assert_eq!(store.rotate(&retry).await.unwrap(), RotationOutcome::Rotated);
        t
    })
    .await;
}

#[tokio::test]
async fn revoke_family_and_user_blacklist_only_live_unblacklisted_tokens() {
    each_backend(|t| async move {
        let store = t.db.tokens();
        let users = t.db.users();
        let alice = users.create_user(new_user("alice", "")).await.unwrap();
        let bob = users.create_user(new_user("bob", "")).await.unwrap();
        // Family F of alice: two live, one expired, one already blacklisted.
        for tok in [
            token("f1", Some(&alice.id), Some("F"), NOW + 100),
            token("f2", Some(&alice.id), Some("F"), NOW + 100),
            token("f3", Some(&alice.id), Some("F"), NOW - 1),
            token("f4", Some(&alice.id), Some("F"), NOW + 100),
            token("g1", Some(&alice.id), Some("G"), NOW + 100),
            token("h1", Some(&bob.id), Some("H"), NOW + 100),
        ] {
            store.record_outstanding(&tok).await.unwrap();
        }
        store.blacklist(&token("f4", Some(&alice.id), Some("F"), NOW + 100), at(NOW - 5)).await.unwrap();

        let family = jwt_core::FamilyId::parse("F").unwrap();
        assert_eq!(store.revoke_family(&family, at(NOW), at(NOW)).await.unwrap(), 2, "{:?}", t.backend);
        assert_eq!(store.revoke_family(&family, at(NOW), at(NOW)).await.unwrap(), 0);
        assert!(store.is_blacklisted(&jti("f1")).await.unwrap());
        assert!(!store.is_blacklisted(&jti("f3")).await.unwrap(), "expired tokens are left alone");
        assert_eq!(store.find(&jti("f4")).await.unwrap().unwrap().blacklisted_at, Some(at(NOW - 5)));
        // With a leeway, a token that expired a moment ago still verifies: it is revoked too,
        // as of now.
        assert_eq!(store.revoke_family(&family, at(NOW), at(NOW - 2)).await.unwrap(), 1);
        assert_eq!(store.find(&jti("f3")).await.unwrap().unwrap().blacklisted_at, Some(at(NOW)));

        assert_eq!(store.revoke_user(&alice.id, at(NOW), at(NOW)).await.unwrap(), 1, "only g1 was left");
        assert!(!store.is_blacklisted(&jti("h1")).await.unwrap(), "bob is untouched");
        assert_eq!(store.revoke_user(&bob.id, at(NOW), at(NOW)).await.unwrap(), 1);
        let carol = UserId::parse("carol").unwrap();
        assert_eq!(store.revoke_user(&carol, at(NOW), at(NOW)).await.unwrap(), 0);
        assert_eq!(store.revoke_user(&UserId::from(999), at(NOW), at(NOW)).await.unwrap(), 0);
        t
    })
    .await;
}

#[tokio::test]
async fn flush_deletes_expired_tokens_and_their_blacklist_rows_in_batches() {
    each_backend(|t| async move {
        let store = t.db.tokens();
        for i in 0..25 {
            let tok = token(&format!("e{i}"), None, None, NOW - i);
            store.record_outstanding(&tok).await.unwrap();
            if i % 3 == 0 {
                store.blacklist(&tok, at(NOW - 100)).await.unwrap();
            }
        }
        for i in 0..5 {
            let tok = token(&format!("l{i}"), None, None, NOW + 1 + i);
            store.record_outstanding(&tok).await.unwrap();
            store.blacklist(&tok, at(NOW - 100)).await.unwrap();
        }
        let before = t.db.stats();
        assert_eq!(store.flush_expired(at(NOW), 7).await.unwrap(), 25, "{:?}", t.backend);
        let used = t.db.stats().transactions - before.transactions;
        assert_eq!(used, 4, "25 rows in batches of 7: 7+7+7+4 (the short batch ends the loop)");
        assert_eq!(count(&t.db, "outstanding_tokens").await, 5);
        assert_eq!(count(&t.db, "blacklisted_tokens").await, 5);
        assert!(store.is_blacklisted(&jti("l0")).await.unwrap());
        assert!(store.find(&jti("e0")).await.unwrap().is_none(), "expiring exactly now counts as expired");
        assert_eq!(store.flush_expired(at(NOW), 7).await.unwrap(), 0);
        t
    })
    .await;
}

#[tokio::test]
async fn blacklist_survives_a_restart() {
    each_backend(|t| async move {
        let tok = token("s1", None, None, NOW + 100);
        t.db.tokens().blacklist(&tok, at(NOW)).await.unwrap();
        let url = t.url.clone();
        t.db.clone().close().await.unwrap();
        let reopened = jwt_store::Database::connect(&url, &crate::harness::options()).await.unwrap();
        reopened.migrate().await.unwrap();
        assert!(reopened.tokens().is_blacklisted(&jti("s1")).await.unwrap(), "{:?}", t.backend);
        reopened.close().await.unwrap();
        t
    })
    .await;
}

#[tokio::test]
async fn deleting_a_user_keeps_their_tokens_without_user() {
    each_backend(|t| async move {
        let users = t.db.users();
        let alice = users.create_user(new_user("alice", "")).await.unwrap();
        t.db.tokens().record_outstanding(&token("d1", Some(&alice.id), None, NOW + 100)).await.unwrap();
        assert!(users.delete_user("alice").await.unwrap());
        assert!(!users.delete_user("alice").await.unwrap());
        assert!(users.find_by_id(&alice.id).await.unwrap().is_none());
        let rec = t.db.tokens().find(&jti("d1")).await.unwrap().expect("token kept");
        assert_eq!(rec.token.user_id, None, "ON DELETE SET NULL on {:?}", t.backend);
        t
    })
    .await;
}
