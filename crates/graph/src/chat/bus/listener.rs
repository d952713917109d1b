//! The bus across instances on PostgreSQL: `NOTIFY` inside the writing transaction
//! (delivered only if it commits) and one `LISTEN`ing connection per instance. A
//! notification carries ids only; each instance loads the row once and routes it to its
//! local subscriptions.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use entity::chat_message;
use sea_orm::sqlx::postgres::{PgListener, PgPoolOptions};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    Statement,
};
use uuid::Uuid;

use super::ChatEvent;
use super::routes::Routes;

/// The PostgreSQL channel.
const CHANNEL: &str = "workgraph_chat";
/// Longest wait for the listener's connection, per attempt.
const LISTENER_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// First and longest pause between attempts to reconnect the listener.
const RECONNECT_BACKOFF: (Duration, Duration) =
    (Duration::from_millis(250), Duration::from_secs(5));

/// Starts this instance's listener on the database at `url` (one connection of its own,
/// not from the pool), routing what it hears to `routes` until they are dropped. Answers
/// whether it is connected, as it comes and goes.
pub(super) async fn start(
    db: DatabaseConnection,
    url: &str,
    routes: Weak<Routes>,
) -> Result<Arc<AtomicBool>, DbErr> {
    let listener = open_listener(url)
        .await
        .map_err(|err| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(err.into())))?;
    let listening = Arc::new(AtomicBool::new(true));
    tokio::spawn(listen(
        Listener {
            url: url.to_owned(),
            current: Some(listener),
            listening: Arc::clone(&listening),
        },
        db,
        routes,
    ));
    Ok(listening)
}

/// Writes `event` into the transaction `txn` as a `NOTIFY`, sent if and when it commits.
pub(super) async fn notify(txn: &impl ConnectionTrait, event: &ChatEvent) -> Result<(), DbErr> {
    let payload = match event {
        ChatEvent::Message(message) => format!("m:{}", message.id),
        ChatEvent::SessionEnded { user, session } => format!("s:{user}:{session}"),
    };
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANNEL.into(), payload.into()],
    ))
    .await?;
    Ok(())
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
/// answers; meanwhile [`super::ChatBus::is_listening`] is false. Notifications sent while
/// disconnected are missed (subscribers refetch `conversations` on reconnect, as after any
/// gap).
async fn listen(mut listener: Listener, db: DatabaseConnection, routes: Weak<Routes>) {
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
