//! Schema v1.2: `chat_messages` encrypted at rest, with read state.
//!
//! The v1.1 table held `content VARCHAR(1000)` in clear. Now `content` is the AEAD
//! ciphertext (plaintext up to 1,000 characters, so up to 4,000 UTF-8 bytes, plus the
//! 16-byte tag), `nonce` its 24-byte XChaCha20 nonce and `key_id` the key that sealed it;
//! `read_at` is set when the recipient marks the conversation read.
//!
//! No API wrote v1.1 chat rows, so the table is rebuilt rather than altered (SQLite cannot
//! drop a column that a CHECK names). Should a v1.1 table hold rows anyway, the migration
//! stops rather than drop them: they must be moved out by hand, since sealing them needs the
//! server's keys, which migrations don't have. Going down likewise refuses to drop
//! encrypted rows.

use sea_orm_migration::{prelude::*, schema::*};

/// Ciphertext bytes at most: 1,000 characters of at most 4 UTF-8 bytes each, plus the tag.
const MAX_CIPHERTEXT: u32 = 4 * 1000 + 16;
/// XChaCha20-Poly1305's nonce.
const NONCE_LEN: u32 = 24;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        refuse_if_rows(manager, "v1.1 chat messages in clear; move them out first").await?;
        manager
            .drop_table(Table::drop().table(ChatMessages::Table).to_owned())
            .await?;
        manager.create_table(v1_2()).await?;
        for index in v1_2_indexes() {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        refuse_if_rows(manager, "encrypted chat messages; v1.1 cannot hold them").await?;
        manager
            .drop_table(Table::drop().table(ChatMessages::Table).to_owned())
            .await?;
        manager.create_table(v1_1()).await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_chat_messages_sender_id")
                    .table(ChatMessages::Table)
                    .col(ChatMessages::SenderId)
                    .to_owned(),
            )
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

async fn refuse_if_rows(manager: &SchemaManager<'_>, what: &str) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let count = Query::select()
        .expr(Expr::col(Asterisk).count())
        .from(ChatMessages::Table)
        .to_owned();
    let rows: i64 = db
        .query_one(&count)
        .await?
        .map(|row| row.try_get_by_index(0))
        .transpose()?
        .unwrap_or(0);
    if rows > 0 {
        return Err(DbErr::Migration(format!(
            "chat_messages holds {rows} {what}"
        )));
    }
    Ok(())
}

fn v1_2() -> TableCreateStatement {
    use ChatMessages as T;
    Table::create()
        .table(T::Table)
        .col(pk_uuid(T::Id))
        .col(uuid(T::SenderId))
        .col(string_len(T::RecipientEmail, 255))
        .col(blob(T::Content))
        .col(blob(T::Nonce))
        .col(string_len(T::KeyId, 32))
        .col(timestamp_with_time_zone_default_now(T::CreatedAt))
        .col(timestamp_with_time_zone_null(T::ReadAt))
        .check((
            "ck_chat_messages_recipient_email_length",
            Func::char_length(Expr::col(T::RecipientEmail)).lte(255),
        ))
        .check((
            "ck_chat_messages_key_id_length",
            Func::char_length(Expr::col(T::KeyId))
                .gte(1)
                .and(Func::char_length(Expr::col(T::KeyId)).lte(32)),
        ))
        .check((
            "ck_chat_messages_content_length",
            Expr::cust(format!("length(content) BETWEEN 16 AND {MAX_CIPHERTEXT}")),
        ))
        .check((
            "ck_chat_messages_nonce_length",
            Expr::cust(format!("length(nonce) = {NONCE_LEN}")),
        ))
        .foreign_key(
            ForeignKey::create()
                .name("fk_chat_messages_sender_id")
                .from(T::Table, T::SenderId)
                .to(Users::Table, Users::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

/// One conversation's messages in order are an index range on either side: what a viewer
/// sent to an address, and (through the sender's id) what they received from a user.
/// A viewer's inbox is the recipient index; key rotation finds stale rows by key id.
fn v1_2_indexes() -> Vec<IndexCreateStatement> {
    use ChatMessages as T;
    vec![
        Index::create()
            .name("ix_chat_messages_sender_id_recipient_email")
            .table(T::Table)
            .col(T::SenderId)
            .col(T::RecipientEmail)
            .col(T::CreatedAt)
            .to_owned(),
        Index::create()
            .name("ix_chat_messages_recipient_email")
            .table(T::Table)
            .col(T::RecipientEmail)
            .col(T::CreatedAt)
            .to_owned(),
        Index::create()
            .name("ix_chat_messages_key_id")
            .table(T::Table)
            .col(T::KeyId)
            .to_owned(),
    ]
}

/// The seed's table, as the first migration made it.
fn v1_1() -> TableCreateStatement {
    use ChatMessages as T;
    Table::create()
        .table(T::Table)
        .col(pk_uuid(T::Id))
        .col(string_len(T::Content, 1000))
        .col(uuid(T::SenderId))
        .col(string_len(T::RecipientEmail, 255))
        .col(timestamp_with_time_zone_default_now(T::CreatedAt))
        .check((
            "ck_chat_messages_content_length",
            Func::char_length(Expr::col(T::Content)).lte(1000),
        ))
        .check((
            "ck_chat_messages_recipient_email_length",
            Func::char_length(Expr::col(T::RecipientEmail)).lte(255),
        ))
        .foreign_key(
            ForeignKey::create()
                .name("fk_chat_messages_sender_id")
                .from(T::Table, T::SenderId)
                .to(Users::Table, Users::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

#[derive(DeriveIden, Clone, Copy)]
enum ChatMessages {
    Table,
    Id,
    SenderId,
    RecipientEmail,
    Content,
    Nonce,
    KeyId,
    CreatedAt,
    ReadAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}
