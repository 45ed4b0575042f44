//! Fresh databases per test, on every configured backend.

use std::future::Future;
use std::sync::Once;

use jwt_core::ports::{OutstandingToken, SecureRandom};
use jwt_core::system::OsRandom;
use jwt_core::{FamilyId, Jti, Timestamp, TokenType, UserId};
use jwt_store::{Backend, Database, DbOptions, NewUser};
use sea_orm::ConnectionTrait;

/// "Now" of every test: far from the epoch, so `now - lifetime` stays positive.
pub(crate) const NOW: i64 = 1_750_000_000;

/// A backend the suite runs against, with the admin URL of its server.
#[derive(Debug, Clone)]
pub(crate) struct Server {
    pub(crate) backend: Backend,
    admin_url: Option<String>,
}

/// The servers configured for this run. Prints once which backends are skipped.
pub(crate) fn servers() -> Vec<Server> {
    static REPORT: Once = Once::new();
    let postgres = std::env::var("JWT_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty());
    let mysql = std::env::var("JWT_TEST_MYSQL_URL").ok().filter(|u| !u.is_empty());
    REPORT.call_once(|| {
        if postgres.is_none() {
            eprintln!("jwt-store contract: PostgreSQL SKIPPED (JWT_TEST_POSTGRES_URL not set)");
        }
        if mysql.is_none() {
            eprintln!("jwt-store contract: MySQL/MariaDB SKIPPED (JWT_TEST_MYSQL_URL not set)");
        }
    });
    let mut servers = vec![Server { backend: Backend::Sqlite, admin_url: None }];
    if let Some(url) = postgres {
        servers.push(Server { backend: Backend::Postgres, admin_url: Some(url) });
    }
    if let Some(url) = mysql {
        servers.push(Server { backend: Backend::MySql, admin_url: Some(url) });
    }
    servers
}

/// A fresh, empty database of one backend; [`TestDb::finish`] drops it.
pub(crate) struct TestDb {
    pub(crate) backend: Backend,
    /// URL of the fresh database (for second pools and reconnects).
    pub(crate) url: String,
    /// A migrated pool on it.
    pub(crate) db: Database,
    admin_url: Option<String>,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

fn random_suffix() -> String {
    let mut bytes = [0u8; 6];
    OsRandom::new().fill(&mut bytes).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    format!("{}/{name}{query}", &base[..path_start])
}

pub(crate) fn options() -> DbOptions {
    DbOptions { max_connections: 8, min_connections: 1, ..DbOptions::default() }
}

impl Server {
    /// A fresh database, not migrated.
    pub(crate) async fn empty(&self) -> TestDb {
        let name = format!("jwt_test_{}", random_suffix());
        let (url, dir) = match &self.admin_url {
            None => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("jwt.sqlite3");
                (format!("sqlite://{}?mode=rwc", path.display()), Some(dir))
            }
            Some(admin) => {
                let admin_db = Database::connect(admin, &DbOptions { max_connections: 1, ..options() })
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                admin_db.connection().execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
                admin_db.close().await.unwrap();
                (with_database(admin, &name), None)
            }
        };
        let db = Database::connect(&url, &options()).await.unwrap_or_else(|e| panic!("{e}"));
        TestDb { backend: self.backend, url, db, admin_url: self.admin_url.clone(), name, _dir: dir }
    }

    /// A fresh, migrated database.
    pub(crate) async fn fresh(&self) -> TestDb {
        let t = self.empty().await;
        t.db.migrate().await.unwrap();
        t
    }
}

impl TestDb {
    /// Another pool on the same database ("another process").
    pub(crate) async fn second_pool(&self) -> Database {
        Database::connect(&self.url, &options()).await.unwrap()
    }

    /// Close the pool and drop the database.
    pub(crate) async fn finish(self) {
        let _ = self.db.close().await;
        if let Some(admin) = &self.admin_url {
            let admin_db =
                Database::connect(admin, &DbOptions { max_connections: 1, ..options() }).await.unwrap();
            let sql = match self.backend {
                Backend::Postgres => format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
                _ => format!("DROP DATABASE IF EXISTS {}", self.name),
            };
            admin_db.connection().execute_unprepared(&sql).await.unwrap();
            admin_db.close().await.unwrap();
        }
    }
}

/// Run `scenario` against a fresh migrated database of every configured backend.
pub(crate) async fn each_backend<F, Fut>(scenario: F)
where
    F: Fn(TestDb) -> Fut,
    Fut: Future<Output = TestDb>,
{
    for server in servers() {
        let t = server.fresh().await;
        let t = scenario(t).await;
        t.finish().await;
    }
}

pub(crate) fn jti(s: &str) -> Jti {
    Jti::parse(s).unwrap()
}

pub(crate) fn at(secs: i64) -> Timestamp {
    Timestamp::from_secs(secs)
}

/// A refresh token record: `jti`, of `user`, in `family` (default: its own), expiring at `exp`.
pub(crate) fn token(id: &str, user: Option<&UserId>, family: Option<&str>, exp: i64) -> OutstandingToken {
    OutstandingToken {
        jti: jti(id),
        token_type: TokenType::Refresh,
        user_id: user.cloned(),
        family_id: FamilyId::parse(family.unwrap_or(id)).unwrap(),
        parent_jti: None,
        token_digest: jwt_core::service::digest(&format!("token-{id}")),
        created_at: at(NOW - 10),
        expires_at: at(exp),
    }
}

/// The token rotated from `old`: same family and user, `old` as parent.
pub(crate) fn child(old: &OutstandingToken, id: &str) -> OutstandingToken {
    OutstandingToken {
        jti: jti(id),
        parent_jti: Some(old.jti.clone()),
        family_id: old.family_id.clone(),
        token_digest: jwt_core::service::digest(&format!("token-{id}")),
        created_at: at(NOW),
        ..old.clone()
    }
}

pub(crate) fn new_user(username: &str, hash: &str) -> NewUser {
    NewUser {
        username: username.to_owned(),
        email: format!("{username}@example.com"),
        password_hash: hash.to_owned(),
        is_active: true,
        is_staff: false,
        is_superuser: false,
        claims: serde_json::Map::new(),
    }
}

/// Count rows of a table.
pub(crate) async fn count(db: &Database, table: &str) -> i64 {
    let row = db
        .connection()
        .query_one_raw(sea_orm::Statement::from_string(
            db.connection().get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}
