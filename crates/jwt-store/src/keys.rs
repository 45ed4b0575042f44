//! [`SeaOrmKeyStore`]: the `signing_keys` table behind `jwt_core::ports::KeyStore`.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jwt_core::ports::{KeyStore, StoredKey};
use jwt_core::{Algorithm, KeyMaterial, StoreError, Timestamp};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use zeroize::Zeroizing;

use crate::database::Database;
use crate::entity::signing_key;
use crate::error::{corrupt, map_db_err};

const FORMAT_SECRET: &str = "secret";
const FORMAT_PEM: &str = "pem";

/// Signing keys in `signing_keys`. The material is stored as is (base64 for HMAC secrets,
/// PKCS#8 PEM otherwise): protect the database like the key files it replaces.
#[derive(Clone)]
pub struct SeaOrmKeyStore {
    db: Database,
}

impl fmt::Debug for SeaOrmKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeaOrmKeyStore").field("db", &self.db).finish()
    }
}

impl SeaOrmKeyStore {
    /// A key store over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    async fn set_time(
        &self,
        kid: &str,
        column: signing_key::Column,
        at: Timestamp,
        only_if_unset: bool,
    ) -> Result<(), StoreError> {
        let mut update = signing_key::Entity::update_many()
            .col_expr(column, Expr::value(Some(at.as_secs())))
            .filter(signing_key::Column::Kid.eq(kid));
        if only_if_unset {
            update = update.filter(column.is_null());
        }
        update.exec(self.db.connection()).await.map_err(map_db_err)?;
        Ok(())
    }
}

#[async_trait]
impl KeyStore for SeaOrmKeyStore {
    async fn live_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let models = signing_key::Entity::find()
            .filter(signing_key::Column::RetiredAt.is_null())
            .all(self.db.connection())
            .await
            .map_err(map_db_err)?;
        let mut keys = models.into_iter().map(to_stored).collect::<Result<Vec<_>, _>>()?;
        // Newest activation first; never-activated keys last, newest first. Sorted here
        // because backends disagree on where NULLs go.
        keys.sort_by(|a, b| {
            b.activated_at
                .is_some()
                .cmp(&a.activated_at.is_some())
                .then(b.activated_at.cmp(&a.activated_at))
                .then(b.created_at.cmp(&a.created_at))
                .then(a.kid.cmp(&b.kid))
        });
        Ok(keys)
    }

    async fn insert_key(&self, key: &StoredKey) -> Result<(), StoreError> {
        let (format, material) = match &key.material {
            KeyMaterial::Secret(secret) => (FORMAT_SECRET, STANDARD.encode(secret.as_slice())),
            KeyMaterial::Pem(pem) => (FORMAT_PEM, pem.as_str().to_owned()),
        };
        let material = Zeroizing::new(material);
        let model = signing_key::ActiveModel {
            kid: Set(key.kid.clone()),
            algorithm: Set(key.algorithm.as_str().to_owned()),
            material_format: Set(format.to_owned()),
            material: Set(material.as_str().to_owned()),
            created_at: Set(key.created_at.as_secs()),
            activated_at: Set(key.activated_at.map(Timestamp::as_secs)),
            retired_at: Set(key.retired_at.map(Timestamp::as_secs)),
            ..Default::default()
        };
        signing_key::Entity::insert(model).exec(self.db.connection()).await.map_err(map_db_err)?;
        Ok(())
    }

    async fn activate_key(&self, kid: &str, at: Timestamp) -> Result<(), StoreError> {
        self.set_time(kid, signing_key::Column::ActivatedAt, at, false).await
    }

    async fn retire_key(&self, kid: &str, at: Timestamp) -> Result<(), StoreError> {
        self.set_time(kid, signing_key::Column::RetiredAt, at, true).await
    }
}

fn to_stored(model: signing_key::Model) -> Result<StoredKey, StoreError> {
    let signing_key::Model {
        kid,
        algorithm,
        material_format,
        material,
        created_at,
        activated_at,
        retired_at,
        ..
    } = model;
    let algorithm = Algorithm::from_str(&algorithm).map_err(|e| corrupt("key algorithm", e))?;
    let stored = Zeroizing::new(material);
    let material = match material_format.as_str() {
        FORMAT_SECRET => KeyMaterial::Secret(Zeroizing::new(
            STANDARD.decode(stored.as_bytes()).map_err(|e| corrupt("key material", e))?,
        )),
        FORMAT_PEM => KeyMaterial::Pem(Zeroizing::new(stored.as_str().to_owned())),
        other => return Err(corrupt("key material format", other)),
    };
    Ok(StoredKey {
        kid,
        algorithm,
        material,
        created_at: Timestamp::from_secs(created_at),
        activated_at: activated_at.map(Timestamp::from_secs),
        retired_at: retired_at.map(Timestamp::from_secs),
    })
}
