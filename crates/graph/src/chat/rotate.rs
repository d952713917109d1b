//! `workgraph rotate-chat-key`: re-seals every message not under the active key.
//!
//! Batches in id order, each batch one short transaction, so the server keeps serving
//! while it runs. Each row is updated only if it still has the key it was read with, so a
//! concurrent write is never overwritten. Stopping half-way loses nothing: running it
//! again picks up the rows still under an old key. A row that does not open is counted,
//! logged and left as it is.

use entity::chat_message;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::keys::{Binding, ChatKeys};
use crate::context::begin_write;

/// Rows per transaction unless told otherwise.
pub const DEFAULT_BATCH: u64 = 500;

/// What a rotation did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Rows now sealed under the active key.
    pub resealed: u64,
    /// Rows that would not open (unknown key, or altered), left unchanged.
    pub failed: u64,
    /// Rows changed by someone else between reading and writing, left to them.
    pub skipped: u64,
}

/// Re-seals, under `keys`' active key, every message sealed under another key.
pub async fn rotate(
    db: &DatabaseConnection,
    keys: &ChatKeys,
    batch: u64,
) -> Result<Rotation, DbErr> {
    let active = keys.active_id();
    let mut done = Rotation::default();
    let mut after = None;
    loop {
        let mut query = chat_message::Entity::find()
            .filter(chat_message::Column::KeyId.ne(active.as_str()))
            .order_by_asc(chat_message::Column::Id)
            .limit(batch.max(1));
        if let Some(after) = after {
            query = query.filter(chat_message::Column::Id.gt(after));
        }
        let rows = query.all(db).await?;
        let Some(last) = rows.last() else {
            return Ok(done);
        };
        after = Some(last.id);
        let txn = begin_write(db)
            .await
            .map_err(|err| DbErr::Custom(err.to_string()))?;
        for row in &rows {
            let plaintext = match keys.open(row) {
                Ok(plaintext) => plaintext,
                Err(err) => {
                    tracing::error!(error = %err, "a chat message does not open; left as it is");
                    done.failed += 1;
                    continue;
                }
            };
            let sealed = keys.seal(Binding::from(row), &plaintext);
            let updated = chat_message::Entity::update_many()
                .col_expr(chat_message::Column::Content, Expr::val(sealed.content))
                .col_expr(chat_message::Column::Nonce, Expr::val(sealed.nonce))
                .col_expr(chat_message::Column::KeyId, Expr::val(sealed.key_id))
                .filter(chat_message::Column::Id.eq(row.id))
                .filter(chat_message::Column::KeyId.eq(row.key_id.as_str()))
                .exec(&txn)
                .await?;
            if updated.rows_affected == 1 {
                done.resealed += 1;
            } else {
                done.skipped += 1;
            }
        }
        txn.commit().await?;
        tracing::info!(
            resealed = done.resealed,
            failed = done.failed,
            "chat key rotation progress"
        );
    }
}
