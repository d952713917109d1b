//! `ChatBus`: how a sent message, or a session that ended, reaches the subscriptions of
//! every server instance.
//!
//! Within a process, one bounded `tokio` broadcast channel per subscribed user: an event
//! goes to its sender's and its recipient's channels only, so a message wakes the
//! subscriptions of two people however many are connected. A subscription that falls
//! [`CAPACITY`] events behind is told so and ended, so a slow client never blocks the others
//! nor makes a channel grow ([`routes`]). Across processes on PostgreSQL ([`listener`]), `NOTIFY` inside the writing
//! transaction (delivered only if it commits) and one `LISTEN`ing connection per instance.
//! A notification carries ids only; each instance loads the row once and routes it to its
//! local subscriptions, which open it.

mod listener;
mod routes;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use entity::chat_message;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use uuid::Uuid;

pub use self::routes::Subscriber;
use self::routes::{RouteGuard, Routes};
use crate::account::session::SessionCache;

/// Events a subscription may lag behind by before it is ended.
pub const CAPACITY: usize = 1024;

/// What subscriptions hear about.
#[derive(Debug)]
pub enum ChatEvent {
    /// A message was sent (sealed as stored; subscribers open it).
    Message(chat_message::Model),
    /// A session of `user` was revoked: its subscriptions end.
    SessionEnded { user: Uuid, session: Uuid },
}

/// The fan-out seam. Cheap to clone.
#[derive(Clone)]
pub struct ChatBus {
    routes: Arc<Routes>,
    across: Across,
}

/// How events reach the other instances.
#[derive(Clone)]
enum Across {
    /// There are none (SQLite): events go straight to this process's routes.
    Nothing,
    /// Through `NOTIFY` and back through each instance's listener ([`listener`]), to this
    /// instance as to the others; the flag says whether the listener is connected.
    Postgres(Arc<AtomicBool>),
}

/// An event written with its transaction, to announce once that commits.
#[must_use = "deliver it after the transaction commits"]
pub struct Staged(Option<ChatEvent>);

impl ChatBus {
    /// A bus for one process (SQLite).
    pub fn local() -> Self {
        Self {
            routes: Arc::default(),
            across: Across::Nothing,
        }
    }

    /// A bus across every instance on the PostgreSQL database at `url`: starts this
    /// instance's listener (one connection of its own, not from the pool).
    pub async fn postgres(db: DatabaseConnection, url: &str) -> Result<Self, DbErr> {
        let routes = Arc::<Routes>::default();
        let listening = listener::start(db, url, Arc::downgrade(&routes)).await?;
        Ok(Self {
            routes,
            across: Across::Postgres(listening),
        })
    }

    /// The valid sessions this instance has lately seen: sessions ended anywhere leave it
    /// as their end is heard of, and it keeps nothing while the listener is down (flushed
    /// when it goes, [`SessionCache::resume`]d once it listens again).
    pub fn sessions(&self) -> &SessionCache {
        &self.routes.sessions
    }

    /// Whether events sent through other instances reach this one's subscriptions: always
    /// on SQLite; on PostgreSQL while the listener is connected (false from a failed
    /// receive until it has reconnected and listens again).
    pub fn is_listening(&self) -> bool {
        match &self.across {
            Across::Nothing => true,
            Across::Postgres(listening) => listening.load(Ordering::Relaxed),
        }
    }

    /// The events for `user` (at address `email`) from now on.
    pub fn subscribe(&self, user: Uuid, email: &str) -> Subscriber {
        RouteGuard::subscribe(&self.routes, user, email)
    }

    /// Writes `event` into the transaction `txn` (PostgreSQL: a `NOTIFY` that is sent if
    /// and when it commits); [`Staged::deliver`] it after the commit.
    pub async fn stage(
        &self,
        txn: &impl ConnectionTrait,
        event: ChatEvent,
    ) -> Result<Staged, DbErr> {
        match self.across {
            Across::Nothing => Ok(Staged(Some(event))),
            Across::Postgres(_) => {
                listener::notify(txn, &event).await?;
                Ok(Staged(None))
            }
        }
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
            bus.routes.route(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(sender_id: Uuid, recipient_email: &str) -> ChatEvent {
        ChatEvent::Message(chat_message::Model {
            id: Uuid::now_v7(),
            sender_id,
            recipient_email: recipient_email.to_owned(),
            content: Vec::new(),
            nonce: Vec::new(),
            key_id: "k".into(),
            created_at: chrono::Utc::now(),
            read_at: None,
        })
    }

    #[test]
    fn a_message_reaches_its_two_parties_only() {
        let bus = ChatBus::local();
        let (ann, bo, cy) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let mut ann_events = bus.subscribe(ann, "ann@example.com");
        let mut bo_phone = bus.subscribe(bo, "bo@example.com");
        let mut bo_laptop = bus.subscribe(bo, "bo@example.com");
        let mut cy_events = bus.subscribe(cy, "cy@example.com");

        bus.routes.route(message(ann, "bo@example.com"));
        for subscriber in [&mut ann_events, &mut bo_phone, &mut bo_laptop] {
            assert!(matches!(
                subscriber.events.try_recv().as_deref(),
                Ok(ChatEvent::Message(_))
            ));
        }
        assert!(cy_events.events.try_recv().is_err());

        bus.routes.route(ChatEvent::SessionEnded {
            user: cy,
            session: Uuid::now_v7(),
        });
        assert!(cy_events.events.try_recv().is_ok());
        assert!(ann_events.events.try_recv().is_err());
    }

    #[test]
    fn a_user_is_unrouted_when_their_last_subscription_ends() {
        let bus = ChatBus::local();
        let bo = Uuid::now_v7();
        let phone = bus.subscribe(bo, "bo@example.com");
        let laptop = bus.subscribe(bo, "bo@example.com");
        drop(phone);
        assert!(bus.routes.table.lock().unwrap().channels.contains_key(&bo));
        drop(laptop);
        let table = bus.routes.table.lock().unwrap();
        assert!(table.channels.is_empty() && table.by_email.is_empty());
    }
}
