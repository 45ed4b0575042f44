//! Of N concurrent rotations of one refresh token exactly one wins, on every backend.

use std::sync::Arc;

use jwt_core::ports::{Rotation, RotationOutcome, TokenStore};
use jwt_store::SeaOrmTokenStore;

use crate::harness::{NOW, at, child, count, each_backend, jti, token};

const TASKS: usize = 32;

async fn race(
    store: Arc<SeaOrmTokenStore>,
    prefix: &str,
    record_first: bool,
) -> Vec<(String, RotationOutcome)> {
    let old = token(&format!("{prefix}-old"), None, None, NOW + 1000);
    if record_first {
        store.record_outstanding(&old).await.unwrap();
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
    let mut handles = Vec::new();
    for i in 0..TASKS {
        let (store, barrier, old) = (store.clone(), barrier.clone(), old.clone());
        let new_jti = format!("{prefix}-new-{i}");
        handles.push(tokio::spawn(async move {
            let rotation = Rotation { new: child(&old, &new_jti), old, at: at(NOW), blacklist_old: true };
            barrier.wait().await;
            let outcome = store.rotate(&rotation).await.unwrap();
            (new_jti, outcome)
        }));
    }
    let mut outcomes = Vec::new();
    for handle in handles {
        outcomes.push(handle.await.unwrap());
    }
    outcomes
}

fn assert_exactly_one_winner(outcomes: &[(String, RotationOutcome)], backend: jwt_store::Backend) -> String {
    let winners: Vec<&String> =
        outcomes.iter().filter(|(_, o)| *o == RotationOutcome::Rotated).map(|(j, _)| j).collect();
    assert_eq!(winners.len(), 1, "{backend:?}: {outcomes:?}");
    let winner = winners[0].clone();
    for (j, outcome) in outcomes {
        if *j != winner {
            assert_eq!(
                *outcome,
                RotationOutcome::AlreadyRotated { replaced_by: jti(&winner), used_at: at(NOW) },
                "{backend:?}"
            );
        }
    }
    winner
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_rotations_have_exactly_one_winner() {
    each_backend(|t| async move {
        let store = Arc::new(t.db.tokens());
        let outcomes = race(store.clone(), "recorded", true).await;
        let winner = assert_exactly_one_winner(&outcomes, t.backend);
        assert_eq!(store.find(&jti("recorded-old")).await.unwrap().unwrap().replaced_by, Some(jti(&winner)));
        assert_eq!(count(&t.db, "outstanding_tokens").await, 2, "old + the winner's new token only");
        assert_eq!(count(&t.db, "blacklisted_tokens").await, 1);
        t
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_rotations_of_an_unrecorded_token_have_exactly_one_winner() {
    each_backend(|t| async move {
        // The old token was minted elsewhere: every task also races to record it first.
        let outcomes = race(Arc::new(t.db.tokens()), "fresh", false).await;
        assert_exactly_one_winner(&outcomes, t.backend);
        assert_eq!(count(&t.db, "outstanding_tokens").await, 2);
        t
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_rotations_through_two_pools_have_exactly_one_winner() {
    each_backend(|t| async move {
        let other = t.second_pool().await;
        let old = token("two-old", None, None, NOW + 1000);
        t.db.tokens().record_outstanding(&old).await.unwrap();
        let mut handles = Vec::new();
        for i in 0..TASKS {
            let store = if i % 2 == 0 { t.db.tokens() } else { other.tokens() };
            let rotation = Rotation {
                new: child(&old, &format!("two-new-{i}")),
                old: old.clone(),
                at: at(NOW),
                blacklist_old: true,
            };
            handles.push(tokio::spawn(async move {
                (rotation.new.jti.to_string(), store.rotate(&rotation).await.unwrap())
            }));
        }
        let mut outcomes = Vec::new();
        for handle in handles {
            outcomes.push(handle.await.unwrap());
        }
        assert_exactly_one_winner(&outcomes, t.backend);
        other.close().await.unwrap();
        t
    })
    .await;
}
