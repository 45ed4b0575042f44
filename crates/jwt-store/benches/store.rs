//! Store benchmark (not a test): rotations per second and blacklist lookups per second on
//! each backend, with the SQL statements and transactions one rotation costs.
//!
//! ```text
//! cargo bench -p jwt-store
//! JWT_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//! JWT_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test cargo bench -p jwt-store
//! ```
//!
//! SQLite always runs (a file in a temporary directory); PostgreSQL and MySQL run when their
//! variable names a server, in a fresh database dropped afterwards. Statements are counted
//! by the metric callback `Database::connect` installs on the SeaORM connection
//! ([`jwt_store::DbStats`]); transactions by the store's own `BEGIN` helper.

use std::error::Error;
use std::time::{Duration, Instant};

use jwt_core::ports::{OutstandingToken, Rotation, RotationOutcome, SecureRandom, TokenStore};
use jwt_core::system::OsRandom;
use jwt_core::{FamilyId, Jti, Timestamp, TokenType};
use jwt_store::{Backend, Database, DbOptions};
use sea_orm::ConnectionTrait;

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

const NOW: i64 = 1_750_000_000;
/// Rotations in the sequential run.
const SEQUENTIAL_ROTATIONS: usize = 300;
/// Concurrent chains, and rotations per chain, in the concurrent run.
const CHAINS: usize = 8;
const ROTATIONS_PER_CHAIN: usize = 100;
/// Tokens recorded before the lookup run (half of them blacklisted), and lookups made.
const LOOKUP_TOKENS: usize = 1_000;
const LOOKUPS: usize = 20_000;

fn token(jti: &str, family: &str) -> Res<OutstandingToken> {
    Ok(OutstandingToken {
        jti: Jti::parse(jti)?,
        token_type: TokenType::Refresh,
        user_id: None,
        family_id: FamilyId::parse(family)?,
        parent_jti: None,
        token_digest: jwt_core::service::digest(jti),
        created_at: Timestamp::from_secs(NOW),
        expires_at: Timestamp::from_secs(NOW + 86_400),
    })
}

/// Record a chain's first token and rotate it `n` times in a row; every rotation must win.
async fn rotate_chain(store: &jwt_store::SeaOrmTokenStore, chain: &str, n: usize) -> Res<()> {
    let mut old = token(&format!("{chain}-0"), chain)?;
    store.record_outstanding(&old).await?;
    for i in 1..=n {
        let mut new = token(&format!("{chain}-{i}"), chain)?;
        new.parent_jti = Some(old.jti.clone());
        let rotation = Rotation { old, new: new.clone(), at: Timestamp::from_secs(NOW), blacklist_old: true };
        let outcome = store.rotate(&rotation).await?;
        if outcome != RotationOutcome::Rotated {
            return Err(format!("rotation {chain}-{i} lost: {outcome:?}").into());
        }
        old = new;
    }
    Ok(())
}

struct Row {
    backend: Backend,
    sequential: f64,
    concurrent: f64,
    statements: f64,
    transactions: f64,
    lookups: f64,
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

async fn measure(db: &Database) -> Res<Row> {
    db.migrate().await?;
    let store = db.tokens();
    let phase = |name: &str| eprintln!("jwt-store bench: {}: {name}", db.backend());
    phase("sequential rotations");

    // Sequential rotations: one client, latency-bound. Counts statements per rotation.
    rotate_chain(&store, "warm", 10).await?;
    let before = db.stats();
    let started = Instant::now();
    rotate_chain(&store, "seq", SEQUENTIAL_ROTATIONS).await?;
    let sequential = per_second(SEQUENTIAL_ROTATIONS, started.elapsed());
    let after = db.stats();
    // One statement of the run is the chain's initial `record_outstanding`.
    let statements = (after.statements - before.statements - 1) as f64 / SEQUENTIAL_ROTATIONS as f64;
    let transactions = (after.transactions - before.transactions) as f64 / SEQUENTIAL_ROTATIONS as f64;

    // Concurrent rotations: CHAINS clients, each rotating its own token chain.
    phase("concurrent rotations");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CHAINS {
        let store = db.tokens();
        tasks.push(tokio::spawn(async move {
            rotate_chain(&store, &format!("par{c}"), ROTATIONS_PER_CHAIN).await
        }));
    }
    for task in tasks {
        task.await??;
    }
    let concurrent = per_second(CHAINS * ROTATIONS_PER_CHAIN, started.elapsed());

    // Blacklist lookups: the hot-path check, from CHAINS concurrent clients.
    phase("blacklist lookups");
    for i in 0..LOOKUP_TOKENS {
        let t = token(&format!("look-{i}"), "look")?;
        if i % 2 == 0 {
            store.blacklist(&t, Timestamp::from_secs(NOW)).await?;
        } else {
            store.record_outstanding(&t).await?;
        }
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CHAINS {
        let store = db.tokens();
        tasks.push(tokio::spawn(async move {
            let mut hits = 0usize;
            for i in 0..LOOKUPS / CHAINS {
                let jti = Jti::parse(format!("look-{}", (i * 7 + c) % LOOKUP_TOKENS))?;
                hits += usize::from(store.is_blacklisted(&jti).await?);
            }
            Res::Ok(hits)
        }));
    }
    let mut hits = 0;
    for task in tasks {
        hits += task.await??;
    }
    let lookups = per_second(LOOKUPS, started.elapsed());
    eprintln!("jwt-store bench: {}: {:?}", db.backend(), db.stats());
    if hits == 0 {
        return Err("no lookup hit a blacklisted token".into());
    }
    Ok(Row { backend: db.backend(), sequential, concurrent, statements, transactions, lookups })
}

fn suffix() -> Res<String> {
    let mut bytes = [0u8; 6];
    OsRandom::new().fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn with_database(url: &str, name: &str) -> String {
    let base = url.split('?').next().unwrap_or(url);
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    format!("{}/{name}", &base[..path_start])
}

async fn on_server(admin_url: &str, options: &DbOptions) -> Res<Row> {
    let name = format!("jwt_bench_{}", suffix()?);
    let admin = Database::connect(admin_url, &DbOptions { max_connections: 1, ..options.clone() }).await?;
    admin.connection().execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
    let db = Database::connect(&with_database(admin_url, &name), options).await?;
    let row = measure(&db).await;
    db.close().await?;
    let drop = match admin.backend() {
        Backend::Postgres => format!("DROP DATABASE {name} WITH (FORCE)"),
        _ => format!("DROP DATABASE {name}"),
    };
    admin.connection().execute_unprepared(&drop).await?;
    admin.close().await?;
    row
}

#[tokio::main]
async fn main() -> Res<()> {
    let options = DbOptions { max_connections: 16, ..DbOptions::default() };
    let mut rows = Vec::new();

    let dir = std::env::temp_dir().join(format!("jwt-store-bench-{}", suffix()?));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}?mode=rwc", dir.join("bench.sqlite3").display());
    let db = Database::connect(&url, &options).await?;
    rows.push(measure(&db).await?);
    db.close().await?;
    std::fs::remove_dir_all(&dir)?;

    for (var, label) in [("JWT_TEST_POSTGRES_URL", "PostgreSQL"), ("JWT_TEST_MYSQL_URL", "MySQL/MariaDB")] {
        match std::env::var(var).ok().filter(|u| !u.is_empty()) {
            Some(admin) => rows.push(on_server(&admin, &options).await?),
            None => eprintln!("jwt-store bench: {label} SKIPPED ({var} not set)"),
        }
    }

    println!(
        "| backend | rotations/s (1 client) | rotations/s ({CHAINS} clients) | SQL statements / rotation | transactions / rotation | blacklist lookups/s ({CHAINS} clients) |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {:.0} | {:.0} | {:.1} | {:.1} | {:.0} |",
            r.backend, r.sequential, r.concurrent, r.statements, r.transactions, r.lookups
        );
    }
    Ok(())
}
