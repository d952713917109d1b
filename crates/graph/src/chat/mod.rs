//! Direct chat: `sendMessage`, `conversations`, `messages`, `markConversationRead` and the
//! `messageReceived` subscription.
//!
//! A message goes from a user to an address: a user who shares a workspace with the
//! sender, or a client contact of one of the sender's workspaces ([`policy::send_message`]).
//! Only its sender and the user with the recipient address read it
//! ([`policy::read_message`]): every statement here is scoped to the viewer's own
//! messages. Content is sealed at rest ([`keys`]) and opened per field, so one row that
//! fails to open is one `INTERNAL` error on that message's `content`, not a failed list.

pub mod bus;
pub mod keys;
pub mod limit;
pub mod rotate;
mod store;
mod subscription;

pub use self::subscription::ChatSubscription;

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, SubsecRound, Utc};
use entity::chat_message;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use self::bus::{ChatBus, ChatEvent};
use self::keys::{Binding, ChatKeys};
use self::limit::SendLimiter;
use self::store::{Direction, Party};
use crate::connection::{
    Count, Cursor, Page, PageInfo, PageScope, Scope, Selection, SortValue, connection_types, decode,
};
use crate::context::{ContextExt, Viewer, begin_write};
use crate::error::{Error, Result};
use crate::loaders::{self, UserByEmail, UserById};
use crate::policy;
use crate::retry;
use crate::tally::{Limit, Tally};
use crate::user::User;
use crate::validate;

/// A message's content at most, in characters (the seed's limit, on the plaintext).
pub const MAX_CONTENT: usize = 1000;

/// What chat needs beside the database: its keys, its fan-out and its send limit.
#[derive(Clone)]
pub struct Chat {
    pub keys: ChatKeys,
    pub bus: ChatBus,
    pub limiter: SendLimiter,
}

pub struct Message(pub chat_message::Model);

/// A direct message.
#[Object]
impl Message {
    /// The object's id, unique across all types (a UUID): see `Query.node`.
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The text as sent, 1–1,000 characters. `null`, with an `INTERNAL` error, if the
    /// stored message cannot be opened (its key is gone or the row was tampered with).
    async fn content(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let chat = ctx.service::<Chat>()?;
        chat.keys.open(&self.0).map(Some).map_err(Error::internal)
    }

    /// Who sent it.
    async fn sender(&self, ctx: &Context<'_>) -> Result<User> {
        loaders::required(ctx, UserById(self.0.sender_id))
            .await
            .map(User::new)
    }

    /// The address it was sent to (lower-case): a user's, or a client contact's.
    async fn recipient_email(&self) -> &str {
        &self.0.recipient_email
    }

    /// When it was sent (RFC 3339, UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the recipient marked the conversation read; `null` while unread.
    async fn read_at(&self) -> Option<DateTime<Utc>> {
        self.0.read_at
    }
}

connection_types!(MessageConnection, MessageEdge, Message, "messages");

pub struct Conversation(store::ConversationRow);

/// The viewer's messages with one counterpart, summed up.
#[Object]
impl Conversation {
    /// The counterpart's address: pass it to `messages(with:)`.
    async fn with(&self) -> &str {
        &self.0.with
    }

    /// The counterpart's account; `null` for a client contact without one.
    async fn counterpart(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(user_by_email(ctx, &self.0.with).await?.map(User::new))
    }

    /// The newest message, sent either way.
    async fn last_message(&self) -> Message {
        Message(self.0.last.clone())
    }

    /// Messages from the counterpart the viewer has not marked read.
    async fn unread_count(&self) -> u64 {
        self.0.unread
    }
}

connection_types!(
    ConversationConnection,
    ConversationEdge,
    Conversation,
    "conversations"
);

/// `sendMessage`'s input.
#[derive(InputObject)]
pub struct SendMessageInput {
    /// Optional client-chosen id for the message (a version 4 or 7 UUID), for optimistic
    /// rendering and safe retries: the same id from the same sender to the same recipient
    /// with the same content returns the message sent first (sent once, counted once against
    /// the rate limit); with anything else, or when any other object has this id, it is
    /// `CONFLICT` on `id`.
    pub id: Option<ID>,
    /// The recipient's address, in any letter case: a member of one of your workspaces or a
    /// client contact of one (`BAD_USER_INPUT` when it is not an address, or is your own).
    pub recipient_email: String,
    /// 1–1,000 characters, not all blank; stored as sent.
    pub content: String,
}

/// The viewer with their address, which messages to them are sent to.
async fn party(ctx: &Context<'_>) -> Result<(Viewer, Party)> {
    let viewer = *ctx.require_viewer()?;
    let user = loaders::required(ctx, UserById(viewer.user_id)).await?;
    Ok((
        viewer,
        Party {
            id: user.id,
            email: user.email,
        },
    ))
}

/// The account with address `email` (lower-case), if any, through the batching loader.
async fn user_by_email(ctx: &Context<'_>, email: &str) -> Result<Option<entity::user::Model>> {
    let loader = ctx.service::<async_graphql::dataloader::DataLoader<loaders::Loaders>>()?;
    Ok(loader.load_one(UserByEmail(email.to_owned())).await?)
}

/// A conversation's stand-in id for cursor scopes: cursors of one conversation are
/// refused by another.
fn conversation_key(with: &str) -> Uuid {
    let digest = Sha256::digest(with.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

/// `err` reported against `to` instead of `from` (shared validation speaks of
/// `first`/`after`; backward pages use `last`/`before`).
fn renamed(err: Error, from: &str, to: &str) -> Error {
    match err {
        Error::BadUserInput { field, message } if field == from => Error::BadUserInput {
            field: to.to_owned(),
            message: message.replace(from, to),
        },
        other => other,
    }
}

fn position(row: &chat_message::Model) -> Cursor {
    Cursor {
        value: SortValue::Time(row.created_at),
        id: row.id,
    }
}

/// Chat reads.
#[derive(Default)]
pub struct ChatQuery;

#[Object]
impl ChatQuery {
    /// The viewer's conversations, one per counterpart address, the most recently active
    /// first. `first` is at most 100 (default 50). `UNAUTHENTICATED` without a session.
    #[graphql(complexity = "crate::query_limits::connection_cost(first, child_complexity)")]
    async fn conversations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many conversations to return: 0–100, default 50.")] first: Option<
            i32,
        >,
        #[graphql(desc = "The `endCursor` of the previous page of this list.")] after: Option<
            String,
        >,
    ) -> Result<ConversationConnection> {
        let (viewer, me) = party(ctx).await?;
        let scope = Scope {
            connection: "Query.conversations",
            parent: viewer.user_id,
            order: "RECENT",
        };
        let selection = Selection::of(ctx);
        let page = Page::forward(first, after.as_deref(), scope)?;
        let db = ctx.db()?;
        let mut rows = if selection.rows {
            store::conversations(db, &me, page.after.as_ref(), page.first + 1).await?
        } else {
            Vec::new()
        };
        let has_next = rows.len() as u64 > page.first;
        rows.truncate(usize::try_from(page.first).unwrap_or(usize::MAX));
        let total = if selection.total {
            store::conversation_count(db, &me).await?
        } else {
            0
        };
        let paged = crate::connection::Paged {
            rows,
            has_next,
            total: None,
        };
        Ok(ConversationConnection::build(
            (paged, page),
            scope,
            |row| position(&row.last),
            Conversation,
            Count::Known(total),
        ))
    }

    /// The viewer's messages with `with` (an address), newest first. Page back in time
    /// with `first`/`after` (at most 100, default 50), or forward from the oldest or from
    /// a cursor with `last`/`before`; a page stays stable while new messages arrive.
    #[graphql(
        complexity = "crate::query_limits::connection_cost(first.or(last), child_complexity)"
    )]
    async fn messages(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The counterpart's email address, in any letter case; `BAD_USER_INPUT` when it is not one."
        )]
        with: String,
        #[graphql(
            desc = "How many messages to return from the newest, or from just older than `after`: 0–100, default 50. Not together with `last`; ignored with `before`."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "The `endCursor` of the previous page: continue back in time. Not together with `before`; ignored with `last`."
        )]
        after: Option<String>,
        #[graphql(
            desc = "How many messages to return from the oldest, or from just newer than `before`: 0–100, default 50. Not together with `first`."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "The `startCursor` of a page: the messages just newer than it, still newest first. Not together with `after`."
        )]
        before: Option<String>,
    ) -> Result<MessageConnection> {
        let with = validate::email("with", &with)?;
        if first.is_some() && last.is_some() {
            return Err(Error::bad_input("last", "pass first or last, not both"));
        }
        if after.is_some() && before.is_some() {
            return Err(Error::bad_input("before", "pass after or before, not both"));
        }
        let (_, me) = party(ctx).await?;
        let scope = Scope {
            connection: "Query.messages",
            parent: conversation_key(&with),
            order: "NEWEST",
        };
        let backward = last.is_some() || before.is_some();
        let (direction, limit, from) = if backward {
            let page =
                Page::forward(last, None, scope).map_err(|err| renamed(err, "first", "last"))?;
            let from = before
                .as_deref()
                .map(|text| decode(text, scope))
                .transpose()
                .map_err(|err| renamed(err, "after", "before"))?;
            (Direction::Newer, page.first, from)
        } else {
            let page = Page::forward(first, after.as_deref(), scope)?;
            (Direction::Older, page.first, page.after)
        };
        let selection = Selection::of(ctx);
        let db = ctx.db()?;
        let counterpart = user_by_email(ctx, &with).await?.map(|user| user.id);
        let conversation = store::between(&me, &with, counterpart);
        let mut rows = if selection.rows {
            store::messages(
                db,
                conversation.clone(),
                from.as_ref(),
                direction,
                limit + 1,
            )
            .await?
        } else {
            Vec::new()
        };
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        if direction == Direction::Newer {
            rows.reverse();
        }
        let total = if selection.total {
            store::message_count(db, conversation).await?
        } else {
            0
        };
        let scope = PageScope::new(scope);
        let edges: Vec<MessageEdge> = rows
            .into_iter()
            .map(|row| MessageEdge {
                position: position(&row),
                scope: scope.clone(),
                node: Message(row),
            })
            .collect();
        let (has_next_page, has_previous_page) = match direction {
            Direction::Older => (more, from.is_some()),
            Direction::Newer => (from.is_some(), more),
        };
        let page_info = PageInfo {
            has_next_page,
            has_previous_page,
            start: edges.first().map(|edge| edge.position.clone()),
            end: edges.last().map(|edge| edge.position.clone()),
            scope,
        };
        Ok(MessageConnection {
            edges,
            page_info,
            total: Count::Known(total),
        })
    }
}

/// What `markConversationRead` asks for.
#[derive(InputObject)]
pub struct MarkConversationReadInput {
    /// The counterpart's email address, in any letter case; `BAD_USER_INPUT` when it is
    /// not one.
    pub with: String,
}

/// Chat writes.
#[derive(Default)]
pub struct ChatMutation;

#[Object]
impl ChatMutation {
    /// Sends a direct message. `FORBIDDEN` unless the recipient shares a workspace with
    /// you or is a client contact of one of yours; `BAD_USER_INPUT` for blank or over-long
    /// content, a bad address or your own, or a bad `id`; `CONFLICT` on an `id` already
    /// used; `RATE_LIMITED` past the sender's limit (30 a minute unless configured, per
    /// server instance; refused sends count).
    async fn send_message(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The recipient's address and the text.")] input: SendMessageInput,
    ) -> Result<Message> {
        let id = validate::optional_id("id", input.id.as_ref())?;
        let recipient = validate::email("recipientEmail", &input.recipient_email)?;
        if input.content.trim().is_empty() {
            return Err(Error::bad_input("content", "content must not be blank"));
        }
        validate::max_chars("content", &input.content, MAX_CONTENT)?;
        let (_, me) = party(ctx).await?;
        if recipient == me.email {
            return Err(Error::bad_input(
                "recipientEmail",
                "you cannot send a message to yourself",
            ));
        }
        let chat = ctx.service::<Chat>()?;
        let db = ctx.db()?;
        let find =
            |id: Uuid| async move { Ok(chat_message::Entity::find_by_id(id).one(db).await?) };
        // A retry is the same message: its sender, recipient and (opened) content.
        let same = |existing: &chat_message::Model| {
            existing.sender_id == me.id
                && existing.recipient_email == recipient
                && chat
                    .keys
                    .open(existing)
                    .is_ok_and(|content| content == input.content)
        };
        let insert = || async {
            if let Err(refused) = chat.limiter.take(me.id) {
                ctx.service::<Tally>()?.rate_limited(Limit::ChatSend);
                return Err(refused);
            }
            let reachable = policy::reachable_by_chat(db, me.id, &recipient).await?;
            if !policy::send_message(reachable).is_allowed() {
                return Err(Error::Forbidden);
            }
            let id = id.unwrap_or_else(Uuid::now_v7);
            let sealed = chat.keys.seal(
                Binding {
                    id,
                    sender_id: me.id,
                    recipient_email: &recipient,
                },
                &input.content,
            );
            let txn = begin_write(db).await?;
            let message = chat_message::ActiveModel {
                id: Set(id),
                sender_id: Set(me.id),
                recipient_email: Set(recipient.clone()),
                content: Set(sealed.content),
                nonce: Set(sealed.nonce),
                key_id: Set(sealed.key_id),
                created_at: Set(Utc::now().trunc_subsecs(6)),
                read_at: Set(None),
            }
            .insert(&txn)
            .await?;
            let staged = chat
                .bus
                .stage(&txn, ChatEvent::Message(message.clone()))
                .await?;
            txn.commit().await?;
            staged.deliver(&chat.bus);
            Ok(message)
        };
        let message = retry::create_once(id, find, same, insert).await?;
        Ok(Message(message))
    }

    /// Marks read every message `with` (an address) sent you; returns how many were unread.
    async fn mark_conversation_read(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The conversation to mark read.")] input: MarkConversationReadInput,
    ) -> Result<u64> {
        let with = validate::email("with", &input.with)?;
        let (_, me) = party(ctx).await?;
        let db = ctx.db()?;
        let Some(counterpart) = user_by_email(ctx, &with).await? else {
            return Ok(0);
        };
        let now = Utc::now().trunc_subsecs(6);
        Ok(store::mark_read(db, &me, counterpart.id, now).await?)
    }
}
