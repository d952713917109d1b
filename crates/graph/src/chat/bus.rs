//! `ChatBus`: how a sent message, or a session that ended, reaches the subscriptions of
//! every server instance.
//!
//! Within a process, one bounded `tokio` broadcast channel per subscribed user: an event
//! goes to its sender's and its recipient's channels only, so a message wakes the
//! subscriptions of two people however many are connected. A subscription that falls
//! [`CAPACITY`] events behind is told so and ended, so a slow client never blocks the others
//! nor makes a channel grow. Across processes on PostgreSQL, `NOTIFY` inside the writing
//! transaction (delivered only if it commits) and one `LISTEN`ing connection per instance.
//! A notification carries ids only; each instance loads the row once and routes it to its
//! local subscriptions, which open it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use entity::chat_message;
use sea_orm::sqlx::postgres::{PgListener, PgPoolOptions};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    Statement,
};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::account::session::SessionCache;

/// Events a subscription may lag behind by before it is ended.
pub const CAPACITY: usize = 1024;
/// The PostgreSQL channel.
const CHANNEL: &str = "workgraph_chat";
/// Longest wait for the listener's connection, per attempt.
const LISTENER_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// First and longest pause between attempts to reconnect the listener.
const RECONNECT_BACKOFF: (Duration, Duration) =
    (Duration::from_millis(250), Duration::from_secs(5));

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
    /// On PostgreSQL, events travel through `NOTIFY` and come back through the listener,
    /// to this instance as to the others.
    postgres: bool,
    /// Whether the PostgreSQL listener is connected (see [`ChatBus::is_listening`]).
    listening: Arc<AtomicBool>,
}

/// This process's subscribed users: a channel each, found by id or by address; and its
/// cache of valid sessions, which forgets each session whose end the bus hears of.
#[derive(Default)]
struct Routes {
    table: Mutex<RouteTable>,
    sessions: SessionCache,
}

#[derive(Default)]
struct RouteTable {
    channels: HashMap<Uuid, broadcast::Sender<Arc<ChatEvent>>>,
    by_email: HashMap<String, Uuid>,
}

/// One subscription's end of the bus. Dropping it unregisters the user's channel once
/// their last subscription is gone.
pub struct Subscriber {
    // Before `_route`, so the receiver is gone when the route counts what is left.
    pub events: broadcast::Receiver<Arc<ChatEvent>>,
    _route: RouteGuard,
}

struct RouteGuard {
    routes: Arc<Routes>,
    user: Uuid,
    email: String,
}

impl Drop for RouteGuard {
    fn drop(&mut self) {
        let Ok(mut table) = self.routes.table.lock() else {
            return;
        };
        if table
            .channels
            .get(&self.user)
            .is_some_and(|channel| channel.receiver_count() == 0)
        {
            table.channels.remove(&self.user);
            if table.by_email.get(&self.email) == Some(&self.user) {
                table.by_email.remove(&self.email);
            }
        }
    }
}

impl Routes {
    /// Hands `event` to the channels it concerns: a message to its sender's and its
    /// recipient's, a session's end to its user's.
    fn route(&self, event: ChatEvent) {
        if let ChatEvent::SessionEnded { session, .. } = &event {
            self.sessions.forget(*session);
        }
        let Ok(table) = self.table.lock() else {
            return;
        };
        let event = Arc::new(event);
        let mut targets = Vec::with_capacity(2);
        match &*event {
            ChatEvent::Message(message) => {
                targets.push(message.sender_id);
                if let Some(recipient) = table.by_email.get(&message.recipient_email) {
                    targets.push(*recipient);
                }
            }
            ChatEvent::SessionEnded { user, .. } => targets.push(*user),
        }
        targets.dedup();
        for user in targets {
            if let Some(channel) = table.channels.get(&user) {
                // No receivers left is not an error: the guard is about to unregister.
                let _ = channel.send(Arc::clone(&event));
            }
        }
    }
}

/// An event written with its transaction, to announce once that commits.
#[must_use = "deliver it after the transaction commits"]
pub struct Staged(Option<ChatEvent>);

impl ChatBus {
    /// A bus for one process (SQLite).
    pub fn local() -> Self {
        Self {
            routes: Arc::default(),
            postgres: false,
            listening: Arc::new(AtomicBool::new(true)),
        }
    }

    /// A bus across every instance on the PostgreSQL database at `url`: starts this
    /// instance's listener (one connection of its own, not from the pool).
    pub async fn postgres(db: DatabaseConnection, url: &str) -> Result<Self, DbErr> {
        let listener = open_listener(url)
            .await
            .map_err(|err| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(err.into())))?;
        let routes = Arc::<Routes>::default();
        let listening = Arc::new(AtomicBool::new(true));
        tokio::spawn(listen(
            Listener {
                url: url.to_owned(),
                current: Some(listener),
                listening: Arc::clone(&listening),
            },
            db,
            Arc::downgrade(&routes),
        ));
        Ok(Self {
            routes,
            postgres: true,
            listening,
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
        !self.postgres || self.listening.load(Ordering::Relaxed)
    }

    /// The events for `user` (at address `email`) from now on.
    pub fn subscribe(&self, user: Uuid, email: &str) -> Subscriber {
        let mut table = self
            .routes
            .table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let events = table
            .channels
            .entry(user)
            .or_insert_with(|| broadcast::channel(CAPACITY).0)
            .subscribe();
        table.by_email.insert(email.to_owned(), user);
        Subscriber {
            events,
            _route: RouteGuard {
                routes: Arc::clone(&self.routes),
                user,
                email: email.to_owned(),
            },
        }
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
            ChatEvent::SessionEnded { user, session } => format!("s:{user}:{session}"),
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
            bus.routes.route(event);
        }
    }
}

/// Notifications handled together at most: one statement loads their messages.
const BATCH: usize = 512;

/// The listener's connection, as it comes and goes.
struct Listener {
    url: String,
    /// `None` while disconnected.
    current: Option<PgListener>,
    listening: Arc<AtomicBool>,
}

/// A listener on [`CHANNEL`] over a connection of its own. Its pool of one (as
/// `PgListener::connect` makes) waits at most [`LISTENER_CONNECT_TIMEOUT`] for the
/// connection, so an attempt against an unreachable database ends and is retried by
/// [`listen`] with back-off.
async fn open_listener(url: &str) -> Result<PgListener, sea_orm::sqlx::Error> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(LISTENER_CONNECT_TIMEOUT)
        .connect(url)
        .await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Turns notifications into local events until the bus is dropped. Whatever has arrived
/// by the time one is handled goes with it, so a burst costs one `SELECT … IN` rather
/// than one per message.
///
/// A connection that ends cleanly is re-established by `PgListener` inside the receive.
/// Any receive that fails (the database is unreachable, the connection was reset) drops
/// the listener whole and opens a new one, retried with back-off until the database
/// answers; meanwhile [`ChatBus::is_listening`] is false. Notifications sent while
/// disconnected are missed (subscribers refetch `conversations` on reconnect, as after any
/// gap).
async fn listen(mut listener: Listener, db: DatabaseConnection, routes: std::sync::Weak<Routes>) {
    let mut backoff = RECONNECT_BACKOFF.0;
    loop {
        if routes.strong_count() == 0 {
            return;
        }
        let Some(current) = listener.current.as_mut() else {
            match open_listener(&listener.url).await {
                Ok(fresh) => {
                    tracing::info!("chat listener reconnected");
                    listener.current = Some(fresh);
                    listener.listening.store(true, Ordering::Relaxed);
                    if let Some(routes) = routes.upgrade() {
                        routes.sessions.resume();
                    }
                    backoff = RECONNECT_BACKOFF.0;
                }
                Err(err) => {
                    tracing::warn!(
                        error = %err,
                        retry_in_ms = backoff.as_millis(),
                        "chat listener cannot reconnect"
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(RECONNECT_BACKOFF.1);
                }
            }
            continue;
        };
        let first = match current.recv().await {
            Ok(notification) => notification,
            Err(err) => {
                tracing::warn!(error = %err, "chat listener lost its connection; reconnecting");
                listener.listening.store(false, Ordering::Relaxed);
                // Sessions may now end unheard of: none is answered from memory until the
                // listener is back.
                if let Some(routes) = routes.upgrade() {
                    routes.sessions.flush();
                }
                // Dropped whole, whatever state its connection is in.
                listener.current = None;
                continue;
            }
        };
        let mut notices = Vec::new();
        let mut next = Some(first);
        while let Some(notification) = next {
            match parse(notification.payload()) {
                Some(notice) => notices.push(notice),
                None => tracing::warn!("ignored a malformed chat notification"),
            }
            next = if notices.len() < BATCH {
                current.next_buffered()
            } else {
                None
            };
        }
        let Some(routes) = routes.upgrade() else {
            return;
        };
        let ids: Vec<Uuid> = notices
            .iter()
            .filter_map(|notice| match notice {
                Notice::Message(id) => Some(*id),
                Notice::SessionEnded { .. } => None,
            })
            .collect();
        let mut messages: HashMap<Uuid, chat_message::Model> = if ids.is_empty() {
            HashMap::new()
        } else {
            match chat_message::Entity::find()
                .filter(chat_message::Column::Id.is_in(ids))
                .all(&db)
                .await
            {
                Ok(rows) => rows.into_iter().map(|row| (row.id, row)).collect(),
                Err(err) => {
                    tracing::warn!(error = %err, "could not load notified chat messages");
                    HashMap::new()
                }
            }
        };
        for notice in notices {
            match notice {
                Notice::Message(id) => {
                    if let Some(message) = messages.remove(&id) {
                        routes.route(ChatEvent::Message(message));
                    }
                }
                Notice::SessionEnded { user, session } => {
                    routes.route(ChatEvent::SessionEnded { user, session });
                }
            }
        }
    }
}

enum Notice {
    Message(Uuid),
    SessionEnded { user: Uuid, session: Uuid },
}

/// `m:<message id>` or `s:<user id>:<session id>`.
fn parse(payload: &str) -> Option<Notice> {
    let (kind, ids) = payload.split_once(':')?;
    match kind {
        "m" => Uuid::parse_str(ids).ok().map(Notice::Message),
        "s" => {
            let (user, session) = ids.split_once(':')?;
            Some(Notice::SessionEnded {
                user: Uuid::parse_str(user).ok()?,
                session: Uuid::parse_str(session).ok()?,
            })
        }
        _ => None,
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

    #[test]
    fn notifications_carry_ids_only() {
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
        assert!(matches!(
            parse(&format!("s:{user}:{session}")),
            Some(Notice::SessionEnded { user: u, session: s }) if u == user && s == session
        ));
        assert!(matches!(parse(&format!("m:{user}")), Some(Notice::Message(id)) if id == user));
        assert!(parse("m:not-an-id").is_none());
        assert!(parse("x:1").is_none());
    }
}
