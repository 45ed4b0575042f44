//! `users`: accounts, like Django's `auth_user`, plus custom claims and a credential stamp.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, boolean, string_len, string_len_uniq, text,
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    Email,
    PasswordHash,
    IsActive,
    IsStaff,
    IsSuperuser,
    Claims,
    CredentialStamp,
    DateJoined,
    LastLogin,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .table(Users::Table)
            .col(big_pk_auto(Users::Id))
            // Django's username limit.
            .col(string_len_uniq(Users::Username, 150))
            .col(string_len(Users::Email, 254))
            // `$argon2id$...` or Django's `pbkdf2_sha256$...`; empty = no password login.
            .col(string_len(Users::PasswordHash, 255))
            .col(boolean(Users::IsActive))
            .col(boolean(Users::IsStaff))
            .col(boolean(Users::IsSuperuser))
            // A JSON object as text: identical on every backend, parsed by the application.
            .col(text(Users::Claims))
            .col(string_len(Users::CredentialStamp, 64))
            // Epoch seconds, like every timestamp of the schema.
            .col(big_integer(Users::DateJoined))
            .col(big_integer_null(Users::LastLogin))
            .to_owned();
        manager.create_table(crate::portable_table(manager.get_database_backend(), table)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Users::Table).to_owned()).await
    }
}
