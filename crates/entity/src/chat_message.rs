//! `chat_messages`: a direct message from a user to an email address, sealed at rest
//! (schema v1.2). `content` is ciphertext; only the server's chat keys open it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "chat_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub sender_id: Uuid,
    /// Lower-case, as validated; a user's or a client contact's address.
    pub recipient_email: String,
    /// XChaCha20-Poly1305 ciphertext with its tag.
    pub content: Vec<u8>,
    pub nonce: Vec<u8>,
    /// The id of the key that sealed `content`.
    pub key_id: String,
    pub created_at: DateTimeUtc,
    /// When the recipient marked the conversation read.
    pub read_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::SenderId",
        to = "super::user::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Sender,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Sender.def()
    }
}

timestamped_behavior!(created_at_only);
