//! Sessions: opaque bearer tokens, stored only as their SHA-256.
//!
//! A token is 32 bytes from the OS RNG, sent to the client once as URL-safe base64. The
//! database keeps its digest, so a leaked table holds no usable tokens, and deleting the
//! row revokes the token at once. Resolving a token is one indexed query.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use entity::session;
use rand_core::{OsRng, RngCore};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::context::{Authentication, Viewer};
use crate::error::Result;

/// How long a session lasts unless configured otherwise.
pub const DEFAULT_TTL: Duration = Duration::days(30);

/// `last_seen_at` is refreshed when older than this, so a busy client does not turn every
/// read into a write.
const LAST_SEEN_GRANULARITY: Duration = Duration::minutes(5);

/// Session settings, from the server's configuration.
#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    pub ttl: Duration,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self { ttl: DEFAULT_TTL }
    }
}

/// A bearer token in clear, as handed to the client once. `Debug` hides it.
pub struct SessionToken(String);

impl SessionToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken([redacted])")
    }
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Starts a session for `user_id` and returns its token.
pub async fn create(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    settings: SessionSettings,
) -> Result<SessionToken> {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    // Microseconds, as both backends store them, so the lifetime is exactly the TTL.
    let now = Utc::now().trunc_subsecs(6);
    session::ActiveModel {
        user_id: Set(user_id),
        token_hash: Set(digest(&token)),
        created_at: Set(now),
        expires_at: Set(now + settings.ttl),
        last_seen_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(SessionToken(token))
}

/// Ends the session `session_id`; its token stops working at once.
pub async fn revoke(db: &impl ConnectionTrait, session_id: Uuid) -> Result<()> {
    session::Entity::delete_by_id(session_id).exec(db).await?;
    Ok(())
}

/// When session `session_id` expires, or `None` when it has ended (revoked or expired):
/// for connections that outlive a request, which check it again before each subscription.
pub async fn active_until(
    db: &impl ConnectionTrait,
    session_id: Uuid,
) -> Result<Option<DateTime<Utc>>> {
    let found = session::Entity::find_by_id(session_id)
        .filter(session::Column::ExpiresAt.gt(Utc::now()))
        .one(db)
        .await?;
    Ok(found.map(|session| session.expires_at))
}

/// Resolves an `Authorization` value (`Bearer <token>`) to who is asking.
///
/// No value is [`Authentication::Anonymous`]; a value that is malformed, unknown, expired
/// or revoked is [`Authentication::Invalid`], so the client learns its token is no good.
/// A database failure is an error, not "invalid": a client must not throw away a good
/// token because the database hiccuped.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    authorization: Option<&str>,
) -> Result<Authentication> {
    authenticate_cached(db, None, authorization).await
}

/// [`authenticate`], answering from `cache` when it holds the token's session (no
/// statement then) and keeping what the database says there.
pub async fn authenticate_cached(
    db: &impl ConnectionTrait,
    cache: Option<&SessionCache>,
    authorization: Option<&str>,
) -> Result<Authentication> {
    let Some(value) = authorization else {
        return Ok(Authentication::Anonymous);
    };
    let Some(token) = bearer_token(value) else {
        return Ok(Authentication::Invalid);
    };
    let now = Utc::now();
    let digest = digest(token);
    let generation = match cache {
        Some(cache) => match cache.get(&digest, now) {
            Lookup::Hit(viewer) => return Ok(Authentication::Signed(viewer)),
            Lookup::Miss(generation) => Some(generation),
        },
        None => None,
    };
    let found = session::Entity::find()
        .filter(session::Column::TokenHash.eq(digest.clone()))
        .filter(session::Column::ExpiresAt.gt(now))
        .one(db)
        .await?;
    let Some(mut found) = found else {
        return Ok(Authentication::Invalid);
    };
    if stale(found.last_seen_at, now) {
        let id = found.id;
        let mut touch: session::ActiveModel = found.clone().into();
        touch.last_seen_at = Set(now);
        match touch.update(db).await {
            Ok(touched) => found = touched,
            // Only bookkeeping: the session is valid either way.
            Err(err) => {
                tracing::warn!(session = %id, error = %err, "could not refresh last_seen_at")
            }
        }
    }
    let viewer = Viewer {
        user_id: found.user_id,
        session_id: found.id,
    };
    if let (Some(cache), Some(generation)) = (cache, generation) {
        cache.put(digest, viewer, &found, generation);
    }
    Ok(Authentication::Signed(viewer))
}

/// How long a valid session is answered from memory before the database is asked again.
/// A session ended on this instance leaves the cache at once, one ended on another as soon
/// as its notification arrives ([`crate::chat::bus`]); this bounds what any other way of
/// ending one (a row deleted by hand) takes to show.
pub const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(10);
/// The most sessions kept in memory; past it, the cache starts over.
pub const CACHE_CAPACITY: usize = 10_000;

/// Valid sessions lately seen, by token digest: a request with a session known here takes
/// no statement to authenticate. Bounded in time ([`CACHE_TTL`], and never past the
/// session's expiry) and size ([`CACHE_CAPACITY`]).
///
/// Whoever ends sessions must [`forget`](Self::forget) them here, and whoever can no
/// longer hear of sessions ended elsewhere must [`flush`](Self::flush) it: the chat bus
/// does both, on every instance.
#[derive(Default)]
pub struct SessionCache {
    inner: std::sync::Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    by_digest: std::collections::HashMap<Vec<u8>, Cached>,
    /// Bumped by every flush: a session read before one is not kept after it.
    generation: u64,
    /// While set (the bus can't hear of ended sessions), nothing is kept.
    paused: bool,
}

struct Cached {
    viewer: Viewer,
    expires_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    cached_at: std::time::Instant,
}

enum Lookup {
    Hit(Viewer),
    /// Not cached: keep what the database says under this generation.
    Miss(u64),
}

impl SessionCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(&self, digest: &[u8], now: DateTime<Utc>) -> Lookup {
        let mut inner = self.lock();
        if let Some(cached) = inner.by_digest.get(digest) {
            let fresh = cached.cached_at.elapsed() < CACHE_TTL
                && cached.expires_at > now
                && !stale(cached.last_seen_at, now);
            if fresh {
                return Lookup::Hit(cached.viewer);
            }
            inner.by_digest.remove(digest);
        }
        Lookup::Miss(inner.generation)
    }

    fn put(&self, digest: Vec<u8>, viewer: Viewer, found: &session::Model, generation: u64) {
        let mut inner = self.lock();
        if inner.paused || inner.generation != generation {
            return;
        }
        if inner.by_digest.len() >= CACHE_CAPACITY {
            inner.by_digest.clear();
        }
        inner.by_digest.insert(
            digest,
            Cached {
                viewer,
                expires_at: found.expires_at,
                last_seen_at: found.last_seen_at,
                cached_at: std::time::Instant::now(),
            },
        );
    }

    /// Drops session `session` (it has ended), and what lookups in flight read before it
    /// ended.
    pub fn forget(&self, session: Uuid) {
        let mut inner = self.lock();
        inner
            .by_digest
            .retain(|_, cached| cached.viewer.session_id != session);
        inner.generation = inner.generation.wrapping_add(1);
    }

    /// Drops every session, and keeps none until [`resume`](Self::resume): sessions may end
    /// unheard of.
    pub fn flush(&self) {
        let mut inner = self.lock();
        inner.by_digest.clear();
        inner.generation = inner.generation.wrapping_add(1);
        inner.paused = true;
    }

    /// Keeps sessions again, after a [`flush`](Self::flush), once ended sessions are heard
    /// of again.
    pub fn resume(&self) {
        let mut inner = self.lock();
        inner.generation = inner.generation.wrapping_add(1);
        inner.paused = false;
    }
}

fn stale(last_seen_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - last_seen_at > LAST_SEEN_GRANULARITY
}

/// The token of `Bearer <token>` (the scheme in any letter case), if well-formed: 43
/// URL-safe base64 characters, what [`create`] hands out.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    let well_formed = token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_values() {
        let token = "a".repeat(43);
        assert_eq!(
            bearer_token(&format!("Bearer {token}")),
            Some(token.as_str())
        );
        assert_eq!(
            bearer_token(&format!("bearer  {token} ")),
            Some(token.as_str())
        );
        assert_eq!(bearer_token(&format!("Basic {token}")), None);
        assert_eq!(bearer_token("Bearer short"), None);
        assert_eq!(bearer_token(&format!("Bearer {}", "a+".repeat(22))), None);
        assert_eq!(bearer_token(&token), None);
    }

    #[test]
    fn tokens_are_not_their_digest() {
        let shown = format!("{:?}", SessionToken("secret-token".into()));
        assert!(!shown.contains("secret"), "{shown}");
        assert_eq!(digest("x").len(), 32);
    }
}
