//! The chat's subscription: each message sent to or by the viewer, as it is sent.

use async_graphql::futures_util::Stream;
use async_graphql::{Context, Subscription};
use chrono::Utc;
use tokio::sync::broadcast::error::RecvError;

use super::bus::ChatEvent;
use super::store::Party;
use super::{Chat, Message, bus, party};
use crate::account::session;
use crate::context::{ContextExt, Viewer};
use crate::error::{Error, Result};
use crate::policy;
use crate::tally::Tally;

/// Chat pushes.
#[derive(Default)]
pub struct ChatSubscription;

/// Live updates, over WebSocket at `/graphql/ws` (`graphql-transport-ws` or the legacy
/// `graphql-ws` protocol), signed in by the `authorization` field of `connection_init`.
#[Subscription(name = "Subscription")]
impl ChatSubscription {
    /// Every message sent to or by the viewer from now on, on each of their open
    /// subscriptions. Ends with `UNAUTHENTICATED` when the session is revoked or expires, and with
    /// `INTERNAL` should the subscriber fall too far behind (resubscribe and refetch).
    async fn message_received(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<Message>> + use<>> {
        let (viewer, me) = party(ctx).await?;
        // A socket authenticates once, at `connection_init`; its session may have ended
        // since.
        let Some(expires_at) = session::active_until(ctx.db()?, viewer.session_id).await? else {
            return Err(Error::Unauthenticated);
        };
        let lifetime = (expires_at - Utc::now()).to_std().unwrap_or_default();
        let chat = ctx.service::<Chat>()?;
        let listening = Listening {
            events: chat.bus.subscribe(me.id, &me.email),
            expires: tokio::time::Instant::now() + lifetime,
            viewer,
            me,
            done: false,
            tally: ctx.data_opt::<Tally>().cloned(),
        };
        Ok(async_graphql::futures_util::stream::unfold(
            listening,
            Listening::next,
        ))
    }
}

/// One subscription's state.
struct Listening {
    events: bus::Subscriber,
    /// When the session expires, and with it the subscription.
    expires: tokio::time::Instant,
    viewer: Viewer,
    me: Party,
    done: bool,
    /// Where the time a message took to arrive is recorded.
    tally: Option<Tally>,
}

/// A subscriber fell behind the bus by this many events.
#[derive(Debug, thiserror::Error)]
#[error("chat subscriber lagged {0} events behind and was ended")]
struct Lagged(u64);

impl Listening {
    async fn next(mut self) -> Option<(Result<Message>, Self)> {
        if self.done {
            return None;
        }
        loop {
            let received = tokio::select! {
                received = self.events.events.recv() => received,
                () = tokio::time::sleep_until(self.expires) => {
                    self.done = true;
                    return Some((Err(Error::Unauthenticated), self));
                }
            };
            let event = match received {
                Ok(event) => event,
                Err(RecvError::Lagged(missed)) => {
                    self.done = true;
                    return Some((Err(Error::internal(Lagged(missed))), self));
                }
                Err(RecvError::Closed) => return None,
            };
            match &*event {
                ChatEvent::Message(message) => {
                    let readable = policy::read_message(
                        message.sender_id == self.me.id,
                        message.recipient_email == self.me.email,
                    );
                    if readable.is_allowed() {
                        if let Some(tally) = &self.tally {
                            tally.fanout_lag(Utc::now() - message.created_at);
                        }
                        return Some((Ok(Message(message.clone())), self));
                    }
                }
                ChatEvent::SessionEnded { session, .. } if *session == self.viewer.session_id => {
                    self.done = true;
                    return Some((Err(Error::Unauthenticated), self));
                }
                _ => {}
            }
        }
    }
}
