//! Chat's SQL: a viewer's conversations in one statement, a conversation's pages, read
//! marks. Every statement is scoped to the viewer's own messages: sent by them, or sent to
//! their address.

use chrono::{DateTime, Utc};
use entity::chat_message;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Value,
};
use uuid::Uuid;

use crate::connection::Cursor;
use crate::loaders::raw_statement as statement;

/// Who is reading: their id and their (lower-case) address.
#[derive(Debug, Clone)]
pub struct Party {
    pub id: Uuid,
    pub email: String,
}

/// One conversation: the newest message with one counterpart and how many of theirs the
/// viewer has not read.
#[derive(Debug, Clone)]
pub struct ConversationRow {
    pub with: String,
    pub last: chat_message::Model,
    pub unread: u64,
}

/// The viewer's messages, each with its counterpart's address (the recipient's for
/// messages they sent, the sender's for messages they received) and whether it is unread.
const MINE: &str = "
    SELECT m.id, m.sender_id, m.recipient_email, m.content, m.nonce, m.key_id, m.created_at,
           m.read_at,
           CASE WHEN m.sender_id = $1 THEN m.recipient_email ELSE u.email END AS counterpart,
           CASE WHEN m.sender_id <> $1 AND m.read_at IS NULL THEN 1 ELSE 0 END AS unread
    FROM chat_messages m JOIN users u ON u.id = m.sender_id
    WHERE m.sender_id = $1 OR m.recipient_email = $2";

/// Up to `limit` conversations, newest last message first, after `after` in that order:
/// one statement however many there are.
pub async fn conversations(
    db: &impl ConnectionTrait,
    viewer: &Party,
    after: Option<&Cursor>,
    limit: u64,
) -> Result<Vec<ConversationRow>, DbErr> {
    let mut values: Vec<Value> = vec![viewer.id.into(), viewer.email.clone().into()];
    let mut cursor = String::new();
    if let Some(after) = after
        && let crate::connection::SortValue::Time(at) = after.value
    {
        values.push(at.into());
        values.push(after.id.into());
        cursor = " AND (created_at < $3 OR (created_at = $3 AND id < $4))".to_owned();
    }
    values.push(i64::try_from(limit).unwrap_or(i64::MAX).into());
    let limit_at = values.len();
    let sql = format!(
        "WITH mine AS ({MINE}),
         ranked AS (
           SELECT mine.*,
                  ROW_NUMBER() OVER (PARTITION BY counterpart ORDER BY created_at DESC, id DESC) AS rn,
                  SUM(unread) OVER (PARTITION BY counterpart) AS unread_count
           FROM mine)
         SELECT * FROM ranked WHERE rn = 1{cursor}
         ORDER BY created_at DESC, id DESC LIMIT ${limit_at}"
    );
    let rows = db
        .query_all_raw(statement(db.get_database_backend(), &sql, values))
        .await?;
    rows.iter()
        .map(|row| {
            let unread: i64 = row.try_get("", "unread_count")?;
            Ok(ConversationRow {
                with: row.try_get("", "counterpart")?,
                last: chat_message::Model::from_query_result(row, "")?,
                unread: u64::try_from(unread).unwrap_or(0),
            })
        })
        .collect()
}

/// How many counterparts the viewer has a conversation with.
pub async fn conversation_count(db: &impl ConnectionTrait, viewer: &Party) -> Result<u64, DbErr> {
    let sql = format!("SELECT COUNT(DISTINCT counterpart) AS n FROM ({MINE}) mine");
    let row = db
        .query_one_raw(statement(
            db.get_database_backend(),
            &sql,
            vec![viewer.id.into(), viewer.email.clone().into()],
        ))
        .await?;
    let count: i64 = row
        .map(|row| row.try_get("", "n"))
        .transpose()?
        .unwrap_or(0);
    Ok(u64::try_from(count).unwrap_or(0))
}

/// The messages between the viewer and `with` (whose account, if any, is `counterpart`).
pub fn between(viewer: &Party, with: &str, counterpart: Option<Uuid>) -> Condition {
    let sent = Condition::all()
        .add(chat_message::Column::SenderId.eq(viewer.id))
        .add(chat_message::Column::RecipientEmail.eq(with));
    let mut either = Condition::any().add(sent);
    if let Some(counterpart) = counterpart {
        either = either.add(
            Condition::all()
                .add(chat_message::Column::SenderId.eq(counterpart))
                .add(chat_message::Column::RecipientEmail.eq(viewer.email.as_str())),
        );
    }
    either
}

/// Which end of a conversation a page starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Newest first, going back in time (`first`/`after`).
    Older,
    /// Oldest first, going forward in time (`last`/`before`, reversed by the caller).
    Newer,
}

/// Up to `limit` messages of `conversation` beyond `from` in `direction`.
pub async fn messages(
    db: &impl ConnectionTrait,
    conversation: Condition,
    from: Option<&Cursor>,
    direction: Direction,
    limit: u64,
) -> Result<Vec<chat_message::Model>, DbErr> {
    let mut query = chat_message::Entity::find().filter(conversation);
    if let Some(from) = from
        && let crate::connection::SortValue::Time(at) = from.value
    {
        let position = Expr::tuple([
            Expr::col((chat_message::Entity, chat_message::Column::CreatedAt)),
            Expr::col((chat_message::Entity, chat_message::Column::Id)),
        ]);
        let cursor = Expr::tuple([Expr::val(at), Expr::val(from.id)]);
        query = query.filter(match direction {
            Direction::Older => position.lt(cursor),
            Direction::Newer => position.gt(cursor),
        });
    }
    let order = match direction {
        Direction::Older => sea_orm::Order::Desc,
        Direction::Newer => sea_orm::Order::Asc,
    };
    query
        .order_by(chat_message::Column::CreatedAt, order.clone())
        .order_by(chat_message::Column::Id, order)
        .limit(limit)
        .all(db)
        .await
}

/// How many messages `conversation` holds.
pub async fn message_count(
    db: &impl ConnectionTrait,
    conversation: Condition,
) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait as _;
    chat_message::Entity::find()
        .filter(conversation)
        .count(db)
        .await
}

/// Marks read every unread message `counterpart` sent to the viewer; how many.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    viewer: &Party,
    counterpart: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let result = chat_message::Entity::update_many()
        .col_expr(chat_message::Column::ReadAt, Expr::val(now))
        .filter(chat_message::Column::SenderId.eq(counterpart))
        .filter(chat_message::Column::RecipientEmail.eq(viewer.email.as_str()))
        .filter(chat_message::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
