//! [`SeaOrmUserRepository`]: the `users` table behind `jwt_core::ports::UserRepository`.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use jwt_core::ports::{Clock, SecureRandom, UserRepository};
use jwt_core::system::{OsRandom, SystemClock};
use jwt_core::{StoreError, Timestamp, User, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Map, Value};

use crate::database::Database;
use crate::entity::user;
use crate::error::{corrupt, map_db_err};

/// A user to create with [`SeaOrmUserRepository::create_user`].
#[derive(Clone, PartialEq)]
pub struct NewUser {
    /// Unique login name (at most 150 characters, like Django's).
    pub username: String,
    /// E-mail address (may be empty).
    pub email: String,
    /// An encoded hash from a [`jwt_core::ports::PasswordHasher`] (or Django's
    /// `pbkdf2_sha256$...`); empty for a user who cannot log in with a password.
    pub password_hash: String,
    /// Whether the user may log in.
    pub is_active: bool,
    /// Django's `is_staff`.
    pub is_staff: bool,
    /// Django's `is_superuser`.
    pub is_superuser: bool,
    /// Extra claims for this user's tokens (roles, groups, ...).
    pub claims: Map<String, Value>,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("email", &self.email)
            .field("password_hash", &"[redacted]")
            .field("is_active", &self.is_active)
            .field("is_staff", &self.is_staff)
            .field("is_superuser", &self.is_superuser)
            .field("claims", &self.claims)
            .finish()
    }
}

/// Users in the `users` table (integer ids, exposed as decimal [`UserId`] strings).
#[derive(Clone)]
pub struct SeaOrmUserRepository {
    db: Database,
    clock: Arc<dyn Clock>,
    random: Arc<dyn SecureRandom>,
}

impl fmt::Debug for SeaOrmUserRepository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeaOrmUserRepository").field("db", &self.db).finish_non_exhaustive()
    }
}

impl SeaOrmUserRepository {
    /// A repository over `db`, on the system clock (for `date_joined`) and the OS random
    /// source (for credential stamps).
    pub fn new(db: Database) -> Self {
        Self { db, clock: Arc::new(SystemClock), random: Arc::new(OsRandom::new()) }
    }

    /// The same repository with another clock.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The same repository with another random source.
    #[must_use]
    pub fn with_random(mut self, random: Arc<dyn SecureRandom>) -> Self {
        self.random = random;
        self
    }

    /// Create a user with a fresh random credential stamp, joined now.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if the username is taken; [`StoreError`] if the backend fails.
    pub async fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        let claims = serde_json::to_string(&new.claims).map_err(StoreError::backend)?;
        let model = user::ActiveModel {
            username: Set(new.username),
            email: Set(new.email),
            password_hash: Set(new.password_hash),
            is_active: Set(new.is_active),
            is_staff: Set(new.is_staff),
            is_superuser: Set(new.is_superuser),
            claims: Set(claims),
            credential_stamp: Set(self.new_stamp()?),
            date_joined: Set(self.clock.now().as_secs()),
            last_login: Set(None),
            ..Default::default()
        };
        let inserted = user::Entity::insert(model).exec(self.db.connection()).await.map_err(map_db_err)?;
        let created = user::Entity::find_by_id(inserted.last_insert_id)
            .one(self.db.connection())
            .await
            .map_err(map_db_err)?
            .ok_or_else(|| corrupt("user", "the new user vanished"))?;
        to_user(created)
    }

    /// Replace the password hash of `username` and its credential stamp (a password change
    /// logs the user out everywhere when `check_revoke_token` is on).
    ///
    /// Returns `false` if there is no such user.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    pub async fn set_password_hash(&self, username: &str, hash: &str) -> Result<bool, StoreError> {
        let stamp = self.new_stamp()?;
        self.update_by_username(
            username,
            vec![(user::Column::PasswordHash, hash.into()), (user::Column::CredentialStamp, stamp.into())],
        )
        .await
    }

    /// Activate or deactivate `username`. Returns `false` if there is no such user.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    pub async fn set_active(&self, username: &str, active: bool) -> Result<bool, StoreError> {
        self.update_by_username(username, vec![(user::Column::IsActive, active.into())]).await
    }

    /// Every user, by id.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let models = user::Entity::find()
            .order_by_asc(user::Column::Id)
            .all(self.db.connection())
            .await
            .map_err(map_db_err)?;
        models.into_iter().map(to_user).collect()
    }

    /// Delete `username`. Their recorded tokens stay, with no user (as in simplejwt).
    /// Returns `false` if there is no such user.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    pub async fn delete_user(&self, username: &str) -> Result<bool, StoreError> {
        let result = user::Entity::delete_many()
            .filter(user::Column::Username.eq(username))
            .exec(self.db.connection())
            .await
            .map_err(map_db_err)?;
        Ok(result.rows_affected > 0)
    }

    async fn update_by_username(
        &self,
        username: &str,
        values: Vec<(user::Column, sea_orm::Value)>,
    ) -> Result<bool, StoreError> {
        let mut update = user::Entity::update_many().filter(user::Column::Username.eq(username));
        for (column, value) in values {
            update = update.col_expr(column, Expr::value(value));
        }
        let result = update.exec(self.db.connection()).await.map_err(map_db_err)?;
        Ok(result.rows_affected > 0)
    }

    async fn update_by_id(
        &self,
        id: &UserId,
        column: user::Column,
        value: sea_orm::Value,
    ) -> Result<(), StoreError> {
        let Some(id) = numeric_id(id) else { return Ok(()) };
        user::Entity::update_many()
            .filter(user::Column::Id.eq(id))
            .col_expr(column, Expr::value(value))
            .exec(self.db.connection())
            .await
            .map_err(map_db_err)?;
        Ok(())
    }

    fn new_stamp(&self) -> Result<String, StoreError> {
        let mut bytes = [0u8; 16];
        self.random.fill(&mut bytes).map_err(StoreError::backend)?;
        Ok(jwt_core::ids::hex_lower(&bytes))
    }
}

#[async_trait]
impl UserRepository for SeaOrmUserRepository {
    async fn find_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        let model = user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(self.db.connection())
            .await
            .map_err(map_db_err)?;
        model.map(to_user).transpose()
    }

    async fn find_by_id(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let Some(id) = numeric_id(id) else { return Ok(None) };
        let model = user::Entity::find_by_id(id).one(self.db.connection()).await.map_err(map_db_err)?;
        model.map(to_user).transpose()
    }

    async fn record_login(&self, id: &UserId, at: Timestamp) -> Result<(), StoreError> {
        self.update_by_id(id, user::Column::LastLogin, Some(at.as_secs()).into()).await
    }

    async fn update_password_hash(&self, id: &UserId, hash: &str) -> Result<(), StoreError> {
        self.update_by_id(id, user::Column::PasswordHash, hash.into()).await
    }

    async fn set_credential_stamp(&self, id: &UserId, stamp: &str) -> Result<(), StoreError> {
        self.update_by_id(id, user::Column::CredentialStamp, stamp.into()).await
    }
}

/// The integer key behind a [`UserId`], if it is one (`"42"`, not `"042"` or `"alice"`).
pub(crate) fn numeric_id(id: &UserId) -> Option<i64> {
    id.as_str().parse::<i64>().ok().filter(|n| n.to_string() == id.as_str())
}

fn to_user(model: user::Model) -> Result<User, StoreError> {
    let claims: Map<String, Value> = if model.claims.is_empty() {
        Map::new()
    } else {
        serde_json::from_str(&model.claims).map_err(|e| corrupt("user claims", e))?
    };
    Ok(User {
        id: UserId::from(model.id),
        username: model.username,
        email: model.email,
        password_hash: model.password_hash,
        is_active: model.is_active,
        is_staff: model.is_staff,
        is_superuser: model.is_superuser,
        claims,
        credential_stamp: model.credential_stamp,
        date_joined: Timestamp::from_secs(model.date_joined),
        last_login: model.last_login.map(Timestamp::from_secs),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_integers_are_ids() {
        assert_eq!(numeric_id(&UserId::from(42)), Some(42));
        assert_eq!(numeric_id(&UserId::parse("042").unwrap()), None);
        assert_eq!(numeric_id(&UserId::parse("alice").unwrap()), None);
        assert_eq!(numeric_id(&UserId::parse("99999999999999999999").unwrap()), None);
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(jwt_core::ids::hex_lower(&[0x00, 0xab, 0xff]), "00abff");
    }
}
