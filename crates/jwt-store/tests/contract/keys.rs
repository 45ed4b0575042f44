//! `KeyStore`: persisted signing keys.

use jwt_core::ports::{KeyStore, StoredKey};
use jwt_core::{Algorithm, KeyMaterial, StoreError};
use zeroize::Zeroizing;

use crate::harness::{NOW, at, each_backend};

fn key(kid: &str, created: i64, activated: Option<i64>) -> StoredKey {
    StoredKey {
        kid: kid.to_owned(),
        algorithm: Algorithm::HS256,
        material: KeyMaterial::Secret(Zeroizing::new(
            format!("secret-of-{kid}-0123456789abcdef").into_bytes(),
        )),
        created_at: at(created),
        activated_at: activated.map(at),
        retired_at: None,
    }
}

#[tokio::test]
async fn keys_round_trip_and_order_by_activation() {
    each_backend(|t| async move {
        let keys = t.db.keys();
        let pem = StoredKey {
            kid: "ed".into(),
            algorithm: Algorithm::EdDSA,
            material: KeyMaterial::Pem(Zeroizing::new(
                "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n".into(),
            )),
            created_at: at(NOW - 50),
            activated_at: None,
            retired_at: None,
        };
        for k in [key("old", NOW - 100, Some(NOW - 100)), key("new", NOW - 10, Some(NOW - 10)), pem.clone()] {
            keys.insert_key(&k).await.unwrap();
        }
        let dup = keys.insert_key(&key("old", NOW, None)).await.unwrap_err();
        assert!(matches!(dup, StoreError::Conflict), "{dup:?}");

        let live = keys.live_keys().await.unwrap();
        let kids: Vec<&str> = live.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, ["new", "old", "ed"], "{:?}", t.backend);
        assert_eq!(live[0], key("new", NOW - 10, Some(NOW - 10)));
        assert_eq!(live[2], pem);

        keys.activate_key("ed", at(NOW)).await.unwrap();
        keys.retire_key("old", at(NOW)).await.unwrap();
        keys.retire_key("old", at(NOW + 99)).await.unwrap();
        let kids: Vec<String> = keys.live_keys().await.unwrap().into_iter().map(|k| k.kid).collect();
        assert_eq!(kids, ["ed", "new"]);
        // Unknown kids are no-ops.
        keys.activate_key("missing", at(NOW)).await.unwrap();
        t
    })
    .await;
}
