//! `ChatBus`: how a sent message, or a session that ended, reaches the subscriptions of
//! every server instance.
//!
//! Within a process, a bounded `tokio` broadcast channel: each subscription holds a
//! receiver, and one that falls [`CAPACITY`] events behind is told so and ended, so a slow
//! client never blocks the others nor makes the channel grow. Across processes on
//! PostgreSQL, `NOTIFY` inside the writing transaction (delivered only if it commits)
//! and one `LISTEN`ing connection per instance. A notification carries ids only; each
//! instance loads the row once and hands it to its local subscriptions, which open it.

use std::sync::Arc;
use std::time::Duration;

use entity::chat_message;
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, Statement};
use tokio::sync::broadcast;
use uuid::Uuid;

/// Events a subscription may lag behind by before it is ended.
pub const CAPACITY: usize = 1024;
/// The PostgreSQL channel.
const CHANNEL: &str = "workgraph_chat";

/// What subscriptions hear about.
#[derive(Debug)]
pub enum ChatEvent {
    /// A message was sent (sealed as stored; subscribers open it).
    Message(chat_message::Model),
    /// A session was revoked: its subscriptions end.
    SessionEnded(Uuid),
}

/// The fan-out seam. Cheap to clone.
#[derive(Clone)]
pub struct ChatBus {
    local: broadcast::Sender<Arc<ChatEvent>>,
    /// On PostgreSQL, events travel through `NOTIFY` and come back through the listener,
    /// to this instance as to the others.
    postgres: bool,
}

/// An event written with its transaction, to announce once that commits.
#[must_use = "deliver it after the transaction commits"]
pub struct Staged(Option<ChatEvent>);

impl ChatBus {
    /// A bus for one process (SQLite).
    pub fn local() -> Self {
        let (local, _) = broadcast::channel(CAPACITY);
        Self {
            local,
            postgres: false,
        }
    }

    /// A bus across every instance on the PostgreSQL database at `url`: starts this
    /// instance's listener (one connection of its own, not from the pool).
    pub async fn postgres(db: DatabaseConnection, url: &str) -> Result<Self, DbErr> {
        let mut listener = PgListener::connect(url)
            .await
            .map_err(|err| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(err.into())))?;
        listener
            .listen(CHANNEL)
            .await
            .map_err(|err| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(err.into())))?;
        let (local, _) = broadcast::channel(CAPACITY);
        tokio::spawn(listen(listener, db, local.downgrade()));
        Ok(Self {
            local,
            postgres: true,
        })
    }

    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<ChatEvent>> {
        self.local.subscribe()
    }

    /// Writes `event` into the transaction `txn` (PostgreSQL: a `NOTIFY` that is sent if
    /// and when it commits); [`Staged::deliver`] it after the commit.
    pub async fn stage(
        &self,
        txn: &impl ConnectionTrait,
        event: ChatEvent,
    ) -> Result<Staged, DbErr> {
        if !self.postgres {
            return Ok(Staged(Some(event)));
        }
        let payload = match &event {
            ChatEvent::Message(message) => format!("m:{}", message.id),
            ChatEvent::SessionEnded(session) => format!("s:{session}"),
        };
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), payload.into()],
        ))
        .await?;
        Ok(Staged(None))
    }

    /// Announces `event` at once, outside any transaction.
    pub async fn publish(&self, db: &DatabaseConnection, event: ChatEvent) -> Result<(), DbErr> {
        self.stage(db, event).await?.deliver(self);
        Ok(())
    }
}

impl Staged {
    /// Hands the event to this process's subscriptions (within one process; across
    /// processes the database already did).
    pub fn deliver(self, bus: &ChatBus) {
        if let Some(event) = self.0 {
            // No receivers is not an error: nobody is subscribed.
            let _ = bus.local.send(Arc::new(event));
        }
    }
}

/// Turns notifications into local events until the bus is dropped. A lost connection is
/// re-established by `PgListener` on the next receive; notifications sent meanwhile are
/// missed (subscribers refetch `conversations` on reconnect, as after any gap).
async fn listen(
    mut listener: PgListener,
    db: DatabaseConnection,
    local: broadcast::WeakSender<Arc<ChatEvent>>,
) {
    loop {
        let notification = match listener.recv().await {
            Ok(notification) => notification,
            Err(err) => {
                tracing::warn!(error = %err, "chat listener lost its connection; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                if local.upgrade().is_none() {
                    return;
                }
                continue;
            }
        };
        let Some(sender) = local.upgrade() else {
            return;
        };
        let event = match parse(notification.payload()) {
            Some(Notice::Message(id)) => {
                match chat_message::Entity::find_by_id(id).one(&db).await {
                    Ok(Some(message)) => ChatEvent::Message(message),
                    Ok(None) => continue,
                    Err(err) => {
                        tracing::warn!(message = %id, error = %err, "could not load a notified chat message");
                        continue;
                    }
                }
            }
            Some(Notice::SessionEnded(id)) => ChatEvent::SessionEnded(id),
            None => {
                tracing::warn!("ignored a malformed chat notification");
                continue;
            }
        };
        let _ = sender.send(Arc::new(event));
    }
}

enum Notice {
    Message(Uuid),
    SessionEnded(Uuid),
}

fn parse(payload: &str) -> Option<Notice> {
    let (kind, id) = payload.split_once(':')?;
    let id = Uuid::parse_str(id).ok()?;
    match kind {
        "m" => Some(Notice::Message(id)),
        "s" => Some(Notice::SessionEnded(id)),
        _ => None,
    }
}
