//! `blacklisted_tokens`: simplejwt's `BlacklistedToken`, one row per blacklisted outstanding token.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_uniq, big_pk_auto};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum BlacklistedTokens {
    Table,
    Id,
    TokenId,
    BlacklistedAt,
}

#[derive(DeriveIden)]
enum OutstandingTokens {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .table(BlacklistedTokens::Table)
            .col(big_pk_auto(BlacklistedTokens::Id))
            // One blacklist entry per token (simplejwt's OneToOneField); the unique index is
            // also the index of the hot-path join from outstanding_tokens.
            .col(big_integer_uniq(BlacklistedTokens::TokenId))
            .col(big_integer(BlacklistedTokens::BlacklistedAt))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_blacklisted_tokens_token_id")
                    .from(BlacklistedTokens::Table, BlacklistedTokens::TokenId)
                    .to(OutstandingTokens::Table, OutstandingTokens::Id)
                    .on_delete(ForeignKeyAction::Cascade)
                    .on_update(ForeignKeyAction::Cascade),
            )
            .to_owned();
        manager.create_table(crate::portable_table(manager.get_database_backend(), table)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(BlacklistedTokens::Table).to_owned()).await
    }
}
