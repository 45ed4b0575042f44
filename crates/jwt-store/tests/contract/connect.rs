//! URLs, pragmas and error mapping.

use std::time::Duration;

use jwt_core::StoreError;
use jwt_core::ports::{TokenStore, UserRepository};
use jwt_store::{Backend, ConnectErrorKind, Database, DbOptions};
use sea_orm::{ConnectionTrait, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait};

use crate::harness::{NOW, servers, token};

#[tokio::test]
async fn unsupported_scheme_names_the_scheme_and_hides_the_password() {
    let err =
        Database::connect("mongodb://admin:hunter2@db.example/jwt", &DbOptions::default()).await.unwrap_err();
    assert_eq!(err.kind(), ConnectErrorKind::UnsupportedScheme);
    assert_eq!(
        err.to_string(),
        "unsupported database URL scheme 'mongodb' (use sqlite://, postgres:// or mysql://)"
    );
    assert_eq!(err.code(), "unsupported_database_scheme");
}

#[tokio::test]
async fn malformed_urls_are_reported_without_the_password() {
    let err = Database::connect("postgres://admin:hunter2@db.example:notaport/jwt", &DbOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ConnectErrorKind::InvalidUrl, "{err}");
    eprintln!("malformed URL: {err}");
    let text = format!("{err} {err:?}");
    assert!(text.contains("postgres://admin:***@db.example:notaport/jwt"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[tokio::test]
async fn unreachable_servers_fail_to_connect_without_the_password() {
    let options = DbOptions {
        connect_timeout: Duration::from_secs(2),
        acquire_timeout: Duration::from_secs(2),
        ..DbOptions::default()
    };
    for url in ["postgres://admin:hunter2@127.0.0.1:1/jwt", "mysql://admin:hunter2@127.0.0.1:1/jwt"] {
        let err = Database::connect(url, &options).await.unwrap_err();
        assert_eq!(err.kind(), ConnectErrorKind::Connect, "{err}");
        eprintln!("unreachable server: {err}");
        let text = format!("{err} {err:?}");
        assert!(text.contains("admin:***@127.0.0.1:1"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
    let err = Database::connect("sqlite:///nonexistent-dir/x/jwt.db", &options).await.unwrap_err();
    assert_eq!(err.kind(), ConnectErrorKind::Connect, "{err}");
}

#[tokio::test]
async fn a_closed_pool_is_unavailable_not_a_backend_failure() {
    for server in servers() {
        let t = server.fresh().await;
        let pool = t.second_pool().await;
        pool.clone().close().await.unwrap();
        let err = pool.tokens().is_blacklisted(&crate::harness::jti("x")).await.unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)), "{:?}: {err:?}", t.backend);
        assert!(matches!(pool.ping().await, Err(StoreError::Unavailable(_))));
        assert!(matches!(pool.users().find_by_username("x").await, Err(StoreError::Unavailable(_))));
        t.db.ping().await.unwrap();
        t.finish().await;
    }
}

#[tokio::test]
async fn sqlite_uses_wal_foreign_keys_and_the_busy_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("p.db").display());
    let options = DbOptions {
        sqlite_busy_timeout: Duration::from_millis(1234),
        max_connections: 3,
        ..DbOptions::default()
    };
    let db = Database::connect(&url, &options).await.unwrap();
    assert_eq!(db.backend(), Backend::Sqlite);
    let pragma = |name: &'static str| {
        let db = db.clone();
        async move {
            let row = db
                .connection()
                .query_one_raw(Statement::from_string(sea_orm::DbBackend::Sqlite, format!("PRAGMA {name}")))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<String>(0)
                .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
                .unwrap()
        }
    };
    assert_eq!(pragma("journal_mode").await, "wal");
    assert_eq!(pragma("foreign_keys").await, "1");
    assert_eq!(pragma("busy_timeout").await, "1234");
    assert_eq!(pragma("synchronous").await, "1", "NORMAL");
    db.close().await.unwrap();

    let memory = Database::connect("sqlite::memory:", &DbOptions::default()).await.unwrap();
    memory.migrate().await.unwrap();
    memory.tokens().record_outstanding(&token("m1", None, None, NOW + 1)).await.unwrap();
    assert!(
        memory.tokens().find(&crate::harness::jti("m1")).await.unwrap().is_some(),
        "one shared connection"
    );
}

#[tokio::test]
async fn sqlite_write_lock_timeout_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("busy.db").display());
    let holder = Database::connect(&url, &DbOptions::default()).await.unwrap();
    holder.migrate().await.unwrap();
    let waiter = Database::connect(
        &url,
        &DbOptions { sqlite_busy_timeout: Duration::from_millis(200), ..DbOptions::default() },
    )
    .await
    .unwrap();
    let lock = holder
        .connection()
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await
        .unwrap();
    lock.execute_unprepared("DELETE FROM signing_keys").await.unwrap();
    let err = waiter.tokens().record_outstanding(&token("busy", None, None, NOW + 1)).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    // Readers are not blocked by the writer (WAL).
    assert!(waiter.tokens().find(&crate::harness::jti("busy")).await.unwrap().is_none());
    lock.rollback().await.unwrap();
    waiter.tokens().record_outstanding(&token("busy", None, None, NOW + 1)).await.unwrap();
}

#[tokio::test]
async fn mysql_sessions_read_committed() {
    for server in servers().into_iter().filter(|s| s.backend == Backend::MySql) {
        let t = server.fresh().await;
        // Every pooled connection, not only the first: hold several at once.
        let mut txns = Vec::new();
        for _ in 0..3 {
            txns.push(t.db.connection().begin().await.unwrap());
        }
        for txn in &txns {
            let row = txn
                .query_one_raw(Statement::from_string(
                    sea_orm::DbBackend::MySql,
                    "SELECT @@SESSION.tx_isolation",
                ))
                .await
                .or(txn
                    .query_one_raw(Statement::from_string(
                        sea_orm::DbBackend::MySql,
                        "SELECT @@SESSION.transaction_isolation",
                    ))
                    .await)
                .unwrap()
                .unwrap();
            assert_eq!(row.try_get_by_index::<String>(0).unwrap(), "READ-COMMITTED");
        }
        drop(txns);
        t.finish().await;
    }
}

#[tokio::test]
async fn an_exhausted_pool_is_unavailable() {
    for server in servers() {
        let t = server.fresh().await;
        let tight = Database::connect(
            &t.url,
            &DbOptions {
                max_connections: 1,
                acquire_timeout: Duration::from_millis(300),
                ..DbOptions::default()
            },
        )
        .await
        .unwrap();
        let held = tight.connection().begin().await.unwrap();
        let err = tight.tokens().is_blacklisted(&crate::harness::jti("x")).await.unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)), "{:?}: {err:?}", t.backend);
        held.rollback().await.unwrap();
        assert!(!tight.tokens().is_blacklisted(&crate::harness::jti("x")).await.unwrap());
        tight.close().await.unwrap();
        t.finish().await;
    }
}

#[tokio::test]
async fn postgres_connects_over_tls_when_the_url_requires_it() {
    let Some(server) = servers().into_iter().find(|s| s.backend == Backend::Postgres) else {
        eprintln!("postgres TLS: SKIPPED (JWT_TEST_POSTGRES_URL not set)");
        return;
    };
    let t = server.fresh().await;
    let ssl_on =
        t.db.connection()
            .query_one_raw(Statement::from_string(sea_orm::DbBackend::Postgres, "SHOW ssl"))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<String>(0)
            .unwrap();
    if ssl_on == "on" {
        let separator = if t.url.contains('?') { '&' } else { '?' };
        let url = format!("{}{separator}sslmode=require", t.url);
        let db = Database::connect(&url, &options_one()).await.unwrap_or_else(|e| panic!("{e}"));
        let row = db
            .connection()
            .query_one_raw(Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            ))
            .await
            .unwrap()
            .unwrap();
        assert!(row.try_get_by_index::<bool>(0).unwrap(), "the session is not encrypted");
        // The store works over it.
        db.tokens().record_outstanding(&token("tls", None, None, NOW + 60)).await.unwrap();
        db.close().await.unwrap();
    } else {
        eprintln!("postgres TLS: SKIPPED (the server has ssl = {ssl_on})");
    }
    t.finish().await;
}

fn options_one() -> DbOptions {
    DbOptions { max_connections: 1, min_connections: 1, ..DbOptions::default() }
}
