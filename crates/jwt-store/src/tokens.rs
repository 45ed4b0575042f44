//! [`SeaOrmTokenStore`]: outstanding tokens, token families and the blacklist behind
//! `jwt_core::ports::TokenStore`.
//!
//! The write paths are hand-written SQL (see [`crate::sql`]) because their exact
//! statements carry the concurrency guarantees:
//!
//! - **get-or-create** of a token minted elsewhere is an insert that cannot fail on a
//!   duplicate (`ON CONFLICT (jti) DO NOTHING`; on MySQL `ON DUPLICATE KEY UPDATE id = id`,
//!   which also takes the row's exclusive lock up front so concurrent rotations queue
//!   instead of deadlocking on shared-then-exclusive locks);
//! - **rotation** flips the old row with `UPDATE ... WHERE jti = ? AND used_at IS NULL AND
//!   NOT EXISTS (blacklist row)`: the database's row lock lets exactly one concurrent
//!   rotation see the row unused, on every backend and across processes.

use std::fmt;

use async_trait::async_trait;
use jwt_core::ids::hex_lower;
use jwt_core::ports::{
    BlacklistOutcome, OutstandingToken, Rotation, RotationOutcome, TokenRecord, TokenStore,
};
use jwt_core::{FamilyId, Jti, StoreError, Timestamp, TokenType, UserId};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait, QueryFilter, Value,
};

use crate::database::Database;
use crate::entity::{blacklisted_token, outstanding_token};
use crate::error::{corrupt, map_db_err};
use crate::sql::{insert_ignore, on_conflict_do_nothing, placeholders, stmt, with_retry};
use crate::users::numeric_id;

/// Largest number of rows [`TokenStore::flush_expired`] deletes per statement, whatever the
/// caller asks (keeps the `IN (...)` list under every backend's bind-parameter limit).
pub const MAX_FLUSH_BATCH: u32 = 10_000;

const INSERT_OUTSTANDING: &str = "INSERT INTO outstanding_tokens \
     (jti, token_type, user_id, family_id, parent_jti, token_digest, created_at, expires_at) \
     VALUES (?, ?, (SELECT u.id FROM users u WHERE u.id = ?), ?, ?, ?, ?, ?)";

const ROTATE_OLD: &str = "UPDATE outstanding_tokens SET used_at = ?, replaced_by = ? \
     WHERE jti = ? AND used_at IS NULL \
     AND NOT EXISTS (SELECT 1 FROM blacklisted_tokens b WHERE b.token_id = outstanding_tokens.id)";

const TOKEN_STATE: &str = "SELECT o.replaced_by, o.used_at, b.blacklisted_at FROM outstanding_tokens o \
     LEFT JOIN blacklisted_tokens b ON b.token_id = o.id WHERE o.jti = ?";

const IS_BLACKLISTED: &str = "SELECT b.id FROM blacklisted_tokens b \
     INNER JOIN outstanding_tokens o ON o.id = b.token_id WHERE o.jti = ?";

/// Outstanding tokens and the blacklist in `outstanding_tokens` / `blacklisted_tokens`.
#[derive(Clone)]
pub struct SeaOrmTokenStore {
    db: Database,
}

impl fmt::Debug for SeaOrmTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeaOrmTokenStore").field("db", &self.db).finish()
    }
}

impl SeaOrmTokenStore {
    /// A store over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    fn backend(&self) -> DbBackend {
        self.db.db_backend()
    }

    /// `INSERT` of `token`, plain (`get_or_create = false`) or ignoring an existing jti.
    fn insert_outstanding(&self, token: &OutstandingToken, get_or_create: bool) -> sea_orm::Statement {
        let backend = self.backend();
        let mut sql = INSERT_OUTSTANDING.to_owned();
        if get_or_create {
            match backend {
                DbBackend::MySql => sql.push_str(" ON DUPLICATE KEY UPDATE id = id"),
                _ => sql.push_str(&on_conflict_do_nothing(backend, "jti")),
            }
        }
        let values: Vec<Value> = vec![
            token.jti.as_str().into(),
            token.token_type.as_str().into(),
            token.user_id.as_ref().and_then(numeric_id).into(),
            token.family_id.as_str().into(),
            token.parent_jti.as_ref().map(|j| j.as_str().to_owned()).into(),
            hex_lower(&token.token_digest).into(),
            token.created_at.as_secs().into(),
            token.expires_at.as_secs().into(),
        ];
        stmt(backend, &sql, values)
    }

    /// Blacklist the recorded token `jti` unless it already is; affects 0 or 1 row.
    fn blacklist_jti(&self, jti: &Jti, at: Timestamp) -> sea_orm::Statement {
        let backend = self.backend();
        let sql = format!(
            "{} blacklisted_tokens (token_id, blacklisted_at) \
             SELECT o.id, ? FROM outstanding_tokens o WHERE o.jti = ?{}",
            insert_ignore(backend),
            on_conflict_do_nothing(backend, "token_id")
        );
        stmt(backend, &sql, vec![at.as_secs().into(), jti.as_str().into()])
    }

    async fn rotate_once(&self, rotation: &Rotation) -> Result<RotationOutcome, DbErr> {
        let backend = self.backend();
        let txn = self.db.begin_write().await?;
        txn.execute_raw(self.insert_outstanding(&rotation.old, true)).await?;
        let flipped = txn
            .execute_raw(stmt(
                backend,
                ROTATE_OLD,
                vec![
                    rotation.at.as_secs().into(),
                    rotation.new.jti.as_str().into(),
                    rotation.old.jti.as_str().into(),
                ],
            ))
            .await?
            .rows_affected();
        if flipped == 1 {
            if rotation.blacklist_old {
                txn.execute_raw(self.blacklist_jti(&rotation.old.jti, rotation.at)).await?;
            }
            txn.execute_raw(self.insert_outstanding(&rotation.new, false)).await?;
            txn.commit().await?;
            return Ok(RotationOutcome::Rotated);
        }
        let outcome = lost_rotation(&txn, backend, &rotation.old.jti).await;
        txn.rollback().await?;
        outcome
    }

    async fn blacklist_once(
        &self,
        token: &OutstandingToken,
        at: Timestamp,
    ) -> Result<BlacklistOutcome, DbErr> {
        let txn = self.db.begin_write().await?;
        txn.execute_raw(self.insert_outstanding(token, true)).await?;
        let inserted = txn.execute_raw(self.blacklist_jti(&token.jti, at)).await?.rows_affected();
        txn.commit().await?;
        Ok(if inserted == 1 { BlacklistOutcome::Blacklisted } else { BlacklistOutcome::AlreadyBlacklisted })
    }

    /// Blacklist every unexpired, not yet blacklisted token whose `column` is `value`.
    async fn revoke_where(
        &self,
        column: &str,
        value: Value,
        at: Timestamp,
        still_valid_at: Timestamp,
    ) -> Result<u64, StoreError> {
        let backend = self.backend();
        let sql = format!(
            "{} blacklisted_tokens (token_id, blacklisted_at) \
             SELECT o.id, ? FROM outstanding_tokens o WHERE o.{column} = ? AND o.expires_at > ? \
             AND NOT EXISTS (SELECT 1 FROM blacklisted_tokens b WHERE b.token_id = o.id){}",
            insert_ignore(backend),
            on_conflict_do_nothing(backend, "token_id")
        );
        with_retry(&self.db, || {
            let statement = stmt(
                backend,
                &sql,
                vec![at.as_secs().into(), value.clone(), still_valid_at.as_secs().into()],
            );
            async move {
                let txn = self.db.begin_write().await?;
                let count = txn.execute_raw(statement).await?.rows_affected();
                txn.commit().await?;
                Ok(count)
            }
        })
        .await
    }

    /// Delete one batch of expired tokens; returns (rows found, outstanding rows deleted).
    async fn flush_batch(&self, now: Timestamp, batch: u32) -> Result<(usize, u64), DbErr> {
        let backend = self.backend();
        let txn = self.db.begin_write().await?;
        let rows = txn
            .query_all_raw(stmt(
                backend,
                "SELECT id FROM outstanding_tokens WHERE expires_at <= ? ORDER BY id LIMIT ?",
                vec![now.as_secs().into(), i64::from(batch).into()],
            ))
            .await?;
        let ids =
            rows.iter().map(|row| row.try_get_by_index::<i64>(0)).collect::<Result<Vec<i64>, DbErr>>()?;
        if ids.is_empty() {
            txn.commit().await?;
            return Ok((0, 0));
        }
        let list = placeholders(ids.len());
        let values: Vec<Value> = ids.iter().map(|id| Value::from(*id)).collect();
        txn.execute_raw(stmt(
            backend,
            &format!("DELETE FROM blacklisted_tokens WHERE token_id IN ({list})"),
            values.clone(),
        ))
        .await?;
        let deleted = txn
            .execute_raw(stmt(
                backend,
                &format!("DELETE FROM outstanding_tokens WHERE id IN ({list})"),
                values,
            ))
            .await?
            .rows_affected();
        txn.commit().await?;
        Ok((ids.len(), deleted))
    }
}

/// Why the conditional update of a rotation touched no row: another rotation won, or the
/// token is blacklisted. Reads the row inside the same transaction (with a locking read on
/// MySQL, whose plain reads would use the transaction's snapshot).
async fn lost_rotation(
    txn: &DatabaseTransaction,
    backend: DbBackend,
    old: &Jti,
) -> Result<RotationOutcome, DbErr> {
    let sql = match backend {
        DbBackend::MySql => format!("{TOKEN_STATE} FOR UPDATE"),
        _ => TOKEN_STATE.to_owned(),
    };
    let row = txn
        .query_one_raw(stmt(backend, &sql, vec![old.as_str().into()]))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("outstanding token {old} vanished during rotation")))?;
    let replaced_by: Option<String> = row.try_get("", "replaced_by")?;
    let used_at: Option<i64> = row.try_get("", "used_at")?;
    let blacklisted_at: Option<i64> = row.try_get("", "blacklisted_at")?;
    match (replaced_by, used_at, blacklisted_at) {
        (Some(replaced_by), Some(used_at), _) => Ok(RotationOutcome::AlreadyRotated {
            replaced_by: Jti::parse(replaced_by)
                .map_err(|e| DbErr::Type(format!("stored replaced_by: {e}")))?,
            used_at: Timestamp::from_secs(used_at),
        }),
        (_, _, Some(_)) => Ok(RotationOutcome::Blacklisted),
        _ => Err(DbErr::Custom(format!("outstanding token {old} is neither rotated nor blacklisted"))),
    }
}

#[async_trait]
impl TokenStore for SeaOrmTokenStore {
    async fn record_outstanding(&self, token: &OutstandingToken) -> Result<(), StoreError> {
        self.db.connection().execute_raw(self.insert_outstanding(token, false)).await.map_err(map_db_err)?;
        Ok(())
    }

    async fn find(&self, jti: &Jti) -> Result<Option<TokenRecord>, StoreError> {
        let found = outstanding_token::Entity::find()
            .filter(outstanding_token::Column::Jti.eq(jti.as_str()))
            .find_also_related(blacklisted_token::Entity)
            .one(self.db.connection())
            .await
            .map_err(map_db_err)?;
        found.map(|(token, blacklisted)| to_record(token, blacklisted)).transpose()
    }

    async fn is_blacklisted(&self, jti: &Jti) -> Result<bool, StoreError> {
        let row = self
            .db
            .connection()
            .query_one_raw(stmt(self.backend(), IS_BLACKLISTED, vec![jti.as_str().into()]))
            .await
            .map_err(map_db_err)?;
        Ok(row.is_some())
    }

    async fn blacklist(
        &self,
        token: &OutstandingToken,
        at: Timestamp,
    ) -> Result<BlacklistOutcome, StoreError> {
        with_retry(&self.db, || self.blacklist_once(token, at)).await
    }

    async fn rotate(&self, rotation: &Rotation) -> Result<RotationOutcome, StoreError> {
        with_retry(&self.db, || self.rotate_once(rotation)).await
    }

    async fn revoke_family(
        &self,
        family: &FamilyId,
        at: Timestamp,
        still_valid_at: Timestamp,
    ) -> Result<u64, StoreError> {
        self.revoke_where("family_id", family.as_str().into(), at, still_valid_at).await
    }

    async fn revoke_user(
        &self,
        user: &UserId,
        at: Timestamp,
        still_valid_at: Timestamp,
    ) -> Result<u64, StoreError> {
        let Some(id) = numeric_id(user) else { return Ok(0) };
        self.revoke_where("user_id", id.into(), at, still_valid_at).await
    }

    async fn flush_expired(&self, now: Timestamp, batch_size: u32) -> Result<u64, StoreError> {
        let batch = batch_size.clamp(1, MAX_FLUSH_BATCH);
        let mut total = 0;
        loop {
            let (found, deleted) = with_retry(&self.db, || self.flush_batch(now, batch)).await?;
            total += deleted;
            if found < batch as usize {
                return Ok(total);
            }
        }
    }
}

fn to_record(
    token: outstanding_token::Model,
    blacklisted: Option<blacklisted_token::Model>,
) -> Result<TokenRecord, StoreError> {
    let jti = |what: &'static str, value: String| Jti::parse(value).map_err(|e| corrupt(what, e));
    let token_type =
        TokenType::parse(&token.token_type).ok_or_else(|| corrupt("token type", &token.token_type))?;
    let record = OutstandingToken {
        jti: jti("jti", token.jti)?,
        token_type,
        user_id: token.user_id.map(UserId::from),
        family_id: FamilyId::parse(token.family_id).map_err(|e| corrupt("family id", e))?,
        parent_jti: token.parent_jti.map(|p| jti("parent jti", p)).transpose()?,
        token_digest: parse_digest(&token.token_digest)?,
        created_at: Timestamp::from_secs(token.created_at),
        expires_at: Timestamp::from_secs(token.expires_at),
    };
    Ok(TokenRecord {
        token: record,
        replaced_by: token.replaced_by.map(|r| jti("replaced_by", r)).transpose()?,
        used_at: token.used_at.map(Timestamp::from_secs),
        blacklisted_at: blacklisted.map(|b| Timestamp::from_secs(b.blacklisted_at)),
    })
}

fn parse_digest(text: &str) -> Result<[u8; 32], StoreError> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return Err(corrupt("token digest", format!("{} characters instead of 64", bytes.len())));
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let pair = std::str::from_utf8(pair).map_err(|e| corrupt("token digest", e))?;
        out[i] = u8::from_str_radix(pair, 16).map_err(|e| corrupt("token digest", e))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_round_trips_through_hex() {
        let digest: [u8; 32] = std::array::from_fn(|i| (i * 7) as u8);
        assert_eq!(parse_digest(&hex_lower(&digest)).unwrap(), digest);
        assert!(parse_digest("zz").is_err());
        assert!(parse_digest(&"g".repeat(64)).is_err());
    }
}
