//! `signing_keys`: persisted signing keys, so tokens survive restarts and keys rotate
//! without downtime.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, string_len, string_len_uniq, text,
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Id,
    Kid,
    Algorithm,
    MaterialFormat,
    Material,
    CreatedAt,
    ActivatedAt,
    RetiredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .table(SigningKeys::Table)
            .col(big_pk_auto(SigningKeys::Id))
            .col(string_len_uniq(SigningKeys::Kid, 255))
            // The JWS `alg` the key is bound to (`HS256`, `RS256`, `EdDSA`, ...).
            .col(string_len(SigningKeys::Algorithm, 16))
            // `secret` (base64 of an HMAC secret) or `pem` (PKCS#8 PEM private key).
            .col(string_len(SigningKeys::MaterialFormat, 16))
            .col(text(SigningKeys::Material))
            .col(big_integer(SigningKeys::CreatedAt))
            .col(big_integer_null(SigningKeys::ActivatedAt))
            .col(big_integer_null(SigningKeys::RetiredAt))
            .to_owned();
        manager.create_table(crate::portable_table(manager.get_database_backend(), table)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SigningKeys::Table).to_owned()).await
    }
}
