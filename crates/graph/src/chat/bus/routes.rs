//! The bus within one process: one bounded broadcast channel per subscribed user, found by
//! id or by address, and the cache of valid sessions, which forgets each session whose end
//! is routed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;
use uuid::Uuid;

use super::{CAPACITY, ChatEvent};
use crate::account::session::SessionCache;

/// This process's subscribed users: a channel each, found by id or by address; and its
/// cache of valid sessions, which forgets each session whose end the bus hears of.
#[derive(Default)]
pub(super) struct Routes {
    pub(super) table: Mutex<RouteTable>,
    pub(super) sessions: SessionCache,
}

#[derive(Default)]
pub(super) struct RouteTable {
    pub(super) channels: HashMap<Uuid, broadcast::Sender<Arc<ChatEvent>>>,
    pub(super) by_email: HashMap<String, Uuid>,
}

/// One subscription's end of the bus. Dropping it unregisters the user's channel once
/// their last subscription is gone.
pub struct Subscriber {
    // Before `_route`, so the receiver is gone when the route counts what is left.
    pub events: broadcast::Receiver<Arc<ChatEvent>>,
    _route: RouteGuard,
}

pub(super) struct RouteGuard {
    routes: Arc<Routes>,
    user: Uuid,
    email: String,
}

impl RouteGuard {
    /// Subscribes `user` (at address `email`) to the events routed from now on.
    pub(super) fn subscribe(routes: &Arc<Routes>, user: Uuid, email: &str) -> Subscriber {
        let mut table = routes
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
                routes: Arc::clone(routes),
                user,
                email: email.to_owned(),
            },
        }
    }
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
    pub(super) fn route(&self, event: ChatEvent) {
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
