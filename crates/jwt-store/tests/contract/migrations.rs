//! Migrations: up → down → up on every backend, idempotent `migrate`, concurrent replicas.

use jwt_store::{Database, Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};

use crate::harness::servers;

/// Whether `table` can be selected from.
async fn table_exists(db: &Database, table: &str) -> bool {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    db.connection()
        .query_one_raw(Statement::from_string(db.connection().get_database_backend(), sql))
        .await
        .is_ok()
}

const TABLES: [&str; 4] = ["users", "outstanding_tokens", "blacklisted_tokens", "signing_keys"];

#[tokio::test]
async fn up_down_up_on_every_backend() {
    for server in servers() {
        let t = server.empty().await;
        for table in TABLES {
            assert!(!table_exists(&t.db, table).await, "{table} before migrating");
        }
        Migrator::up(t.db.connection(), None).await.unwrap();
        for table in TABLES {
            assert!(table_exists(&t.db, table).await, "{table} after up on {:?}", t.backend);
        }
        Migrator::down(t.db.connection(), None).await.unwrap();
        for table in TABLES {
            assert!(!table_exists(&t.db, table).await, "{table} after down on {:?}", t.backend);
        }
        Migrator::up(t.db.connection(), None).await.unwrap();
        assert!(Migrator::get_pending_migrations(t.db.connection()).await.unwrap().is_empty());
        // `migrate` is idempotent.
        t.db.migrate().await.unwrap();
        t.db.migrate().await.unwrap();
        for table in TABLES {
            assert!(table_exists(&t.db, table).await, "{table} after up again on {:?}", t.backend);
        }
        t.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_starting_together_migrate_once() {
    for server in servers() {
        let t = server.empty().await;
        let mut pools = vec![t.db.clone()];
        for _ in 0..3 {
            pools.push(t.second_pool().await);
        }
        let handles: Vec<_> =
            pools.iter().cloned().map(|db| tokio::spawn(async move { db.migrate().await })).collect();
        for handle in handles {
            handle.await.unwrap().unwrap_or_else(|e| panic!("{:?}: {e:?}", t.backend));
        }
        for table in TABLES {
            assert!(table_exists(&t.db, table).await);
        }
        for pool in pools.into_iter().skip(1) {
            pool.close().await.unwrap();
        }
        t.finish().await;
    }
}

#[tokio::test]
async fn a_failed_migration_reports_an_error_and_releases_its_lock() {
    for server in servers() {
        let t = server.empty().await;
        // A table in the way of the last migration makes `migrate` fail part-way.
        t.db.connection().execute_unprepared("CREATE TABLE signing_keys (x INTEGER)").await.unwrap();
        let err = t.db.migrate().await.expect_err("the migration must fail");
        let source = std::error::Error::source(&err).map(ToString::to_string).unwrap_or_default();
        assert!(source.contains("signing_keys"), "{:?}: {err}: {source}", t.backend);
        if t.backend == jwt_store::Backend::MySql {
            // The named lock is per session: another connection must find it free.
            let other = t.second_pool().await;
            let row = other
                .connection()
                .query_one_raw(Statement::from_string(
                    other.connection().get_database_backend(),
                    "SELECT IS_USED_LOCK(CONCAT('jwt_migrations.', LEFT(DATABASE(), 49)))",
                ))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.try_get_by_index::<Option<i64>>(0).unwrap(), None, "the lock is still held");
            other.close().await.unwrap();
        }
        // Once the obstacle is gone, migrating succeeds.
        t.db.connection().execute_unprepared("DROP TABLE signing_keys").await.unwrap();
        t.db.migrate().await.unwrap_or_else(|e| panic!("{:?}: {e}", t.backend));
        for table in TABLES {
            assert!(table_exists(&t.db, table).await, "{table} on {:?}", t.backend);
        }
        t.finish().await;
    }
}
