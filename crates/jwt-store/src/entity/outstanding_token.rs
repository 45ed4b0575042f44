//! `outstanding_tokens`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outstanding_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub jti: String,
    pub token_type: String,
    pub user_id: Option<i64>,
    pub family_id: String,
    pub parent_jti: Option<String>,
    pub token_digest: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub replaced_by: Option<String>,
    pub used_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_one = "super::blacklisted_token::Entity")]
    Blacklisted,
}

impl Related<super::blacklisted_token::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Blacklisted.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
