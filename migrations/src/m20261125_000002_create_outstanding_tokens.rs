//! `outstanding_tokens`: every refresh/sliding token issued (simplejwt's `OutstandingToken`),
//! with its family and rotation state.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, char_len, string_len, string_len_null, string_len_uniq,
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum OutstandingTokens {
    Table,
    Id,
    Jti,
    TokenType,
    UserId,
    FamilyId,
    ParentJti,
    TokenDigest,
    CreatedAt,
    ExpiresAt,
    ReplacedBy,
    UsedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .table(OutstandingTokens::Table)
            .col(big_pk_auto(OutstandingTokens::Id))
            .col(string_len_uniq(OutstandingTokens::Jti, 255))
            .col(string_len(OutstandingTokens::TokenType, 16))
            .col(ColumnDef::new(OutstandingTokens::UserId).big_integer().null())
            // The jti of the family's first token: one family per login.
            .col(string_len(OutstandingTokens::FamilyId, 255))
            .col(string_len_null(OutstandingTokens::ParentJti, 255))
            // Lowercase hex SHA-256 of the encoded token; the token itself is never stored.
            .col(char_len(OutstandingTokens::TokenDigest, 64))
            .col(big_integer(OutstandingTokens::CreatedAt))
            .col(big_integer(OutstandingTokens::ExpiresAt))
            // Set together, exactly once, by the rotation that consumed this token.
            .col(string_len_null(OutstandingTokens::ReplacedBy, 255))
            .col(big_integer_null(OutstandingTokens::UsedAt))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_outstanding_tokens_user_id")
                    .from(OutstandingTokens::Table, OutstandingTokens::UserId)
                    .to(Users::Table, Users::Id)
                    .on_delete(ForeignKeyAction::SetNull)
                    .on_update(ForeignKeyAction::Cascade),
            )
            .to_owned();
        manager.create_table(crate::portable_table(manager.get_database_backend(), table)).await?;
        for (name, column) in [
            ("idx_outstanding_tokens_user_id", OutstandingTokens::UserId),
            ("idx_outstanding_tokens_family_id", OutstandingTokens::FamilyId),
            ("idx_outstanding_tokens_expires_at", OutstandingTokens::ExpiresAt),
        ] {
            manager
                .create_index(
                    Index::create().name(name).table(OutstandingTokens::Table).col(column).to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(OutstandingTokens::Table).to_owned()).await
    }
}
