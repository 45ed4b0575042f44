//! # jwt-migrations
//!
//! The SeaORM migrations of jwt-server's schema: `users`, `outstanding_tokens`,
//! `blacklisted_tokens` (with token families) and `signing_keys`.
//!
//! They are portable across SQLite, PostgreSQL and MySQL/MariaDB: only portable column
//! types, epoch-second `BIGINT` timestamps, and on MySQL a binary collation so that
//! usernames and token ids compare exactly as on the other two backends. Each file is
//! self-contained (its own [`DeriveIden`](sea_orm_migration::prelude::DeriveIden) enums) and,
//! once released, never edited: schema changes are new files.
//!
//! Run them with [`Migrator`] (`Migrator::up(&db, None)`); `jwt-store`'s
//! `Database::migrate` does that under a lock so that several replicas can start at once.
#![deny(missing_docs)]

use sea_orm_migration::prelude::{MigrationTrait, TableCreateStatement, async_trait};
use sea_orm_migration::sea_orm::DbBackend;

/// The trait with `up`, `down`, `status`, ... implemented by [`Migrator`].
pub use sea_orm_migration::MigratorTrait;

mod m20261125_000001_create_users;
mod m20261125_000002_create_outstanding_tokens;
mod m20261125_000003_create_blacklisted_tokens;
mod m20261125_000004_create_signing_keys;

/// Every migration of the schema, in order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_users::Migration),
            Box::new(m20261125_000002_create_outstanding_tokens::Migration),
            Box::new(m20261125_000003_create_blacklisted_tokens::Migration),
            Box::new(m20261125_000004_create_signing_keys::Migration),
        ]
    }
}

/// On MySQL/MariaDB, create tables as InnoDB with a case- and accent-sensitive binary
/// collation (`utf8mb4_bin`), so `username = ?` and `jti = ?` match exactly, as they do on
/// PostgreSQL and SQLite. Other backends take no table options.
fn portable_table(backend: DbBackend, mut table: TableCreateStatement) -> TableCreateStatement {
    if backend == DbBackend::MySql {
        table.engine("InnoDB").character_set("utf8mb4").collate("utf8mb4_bin");
    }
    table
}

#[cfg(test)]
mod tests {
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::sea_orm::{ConnectionTrait, Database, Statement};

    use super::*;

    #[test]
    fn only_mysql_tables_get_engine_and_binary_collation() {
        let table = || Table::create().table("t").col(ColumnDef::new("c").string()).to_owned();
        let mysql = portable_table(DbBackend::MySql, table()).to_string(MysqlQueryBuilder);
        assert!(mysql.contains("ENGINE=InnoDB") && mysql.contains("COLLATE=utf8mb4_bin"), "{mysql}");
        let postgres = portable_table(DbBackend::Postgres, table()).to_string(PostgresQueryBuilder);
        assert!(!postgres.contains("COLLATE") && !postgres.contains("ENGINE"), "{postgres}");
    }

    #[tokio::test]
    async fn up_down_up_on_sqlite() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        let tables = async |db: &sea_orm_migration::sea_orm::DatabaseConnection| {
            let rows = db
                .query_all_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                     AND name <> 'seaql_migrations' ORDER BY name",
                ))
                .await
                .unwrap();
            rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect::<Vec<_>>()
        };
        Migrator::up(&db, None).await.unwrap();
        assert_eq!(tables(&db).await, ["blacklisted_tokens", "outstanding_tokens", "signing_keys", "users"]);
        Migrator::down(&db, None).await.unwrap();
        assert!(tables(&db).await.is_empty());
        Migrator::up(&db, None).await.unwrap();
        assert_eq!(tables(&db).await.len(), 4);
        assert!(Migrator::get_pending_migrations(&db).await.unwrap().is_empty());
    }
}
