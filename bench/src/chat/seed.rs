//! The chat benchmark's rows, written straight into the database: senders and subscribers
//! as users of one workspace, each with a session whose token only this run knows.
//!
//! Nobody logs in: a session is made the way the server makes one (32 random bytes, sent as
//! URL-safe base64 without padding; the table keeps the SHA-256 of the token's text), so
//! 1,000 accounts cost no password hashing.

use anyhow::Result;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, SubsecRound as _, Utc};
use entity::role::Role;
use entity::{session, user, workspace, workspace_user};
use rand_core::{OsRng, RngCore as _};
use sea_orm::{DatabaseConnection, Set};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::seed::insert_chunks;

/// A seeded user the benchmark acts as.
pub struct Account {
    pub email: String,
    /// The bearer token of their session.
    pub token: String,
}

/// Everyone the run acts as.
pub struct Accounts {
    pub senders: Vec<Account>,
    pub subscribers: Vec<Account>,
}

/// Writes `senders` + `subscribers` users into a migrated, empty database, all members of
/// one workspace (the first sender its OWNER, everyone else a USER), each with a session
/// valid for a day.
pub async fn seed(db: &DatabaseConnection, senders: usize, subscribers: usize) -> Result<Accounts> {
    // Microseconds, as both backends store them.
    let now = Utc::now().trunc_subsecs(6);
    let workspace_id = Uuid::now_v7();
    insert_chunks(
        db,
        vec![workspace::ActiveModel {
            id: Set(workspace_id),
            name: Set("Chat bench".into()),
            description: Set(Some("Every user of the chat benchmark".into())),
            created_at: Set(now),
            updated_at: Set(now),
        }],
    )
    .await?;

    let emails = (0..senders)
        .map(|s| format!("sender{s}@chat.bench.test"))
        .chain((0..subscribers).map(|s| format!("subscriber{s}@chat.bench.test")));
    let (mut users, mut members, mut sessions, mut accounts) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (n, email) in emails.enumerate() {
        let user_id = Uuid::now_v7();
        users.push(user::ActiveModel {
            id: Set(user_id),
            name: Set(format!("Chat user {n}")),
            email: Set(email.clone()),
            // No PHC string: these accounts never log in.
            password: Set("!".into()),
            phone: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        });
        members.push(workspace_user::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            workspace_id: Set(workspace_id),
            role: Set(if n == 0 { Role::Owner } else { Role::User }),
            created_at: Set(now),
            updated_at: Set(now),
        });
        let (session, token) = session(user_id, now);
        sessions.push(session);
        accounts.push(Account { email, token });
    }
    insert_chunks(db, users).await?;
    insert_chunks(db, members).await?;
    insert_chunks(db, sessions).await?;
    let subscribers = accounts.split_off(senders);
    Ok(Accounts {
        senders: accounts,
        subscribers,
    })
}

/// A session for `user_id`, valid for a day from `now`, made as the server makes one; and
/// its bearer token.
pub fn session(user_id: Uuid, now: DateTime<Utc>) -> (session::ActiveModel, String) {
    let token = new_token();
    let session = session::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        token_hash: Set(Sha256::digest(token.as_bytes()).to_vec()),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(1)),
        last_seen_at: Set(now),
    };
    (session, token)
}

/// A session token as the server makes one: 32 random bytes, URL-safe base64, no padding.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A value for `WORKGRAPH_CHAT_KEYS`: `<id>:<standard base64 of 32 random bytes>`.
pub fn chat_key() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("bench1:{}", STANDARD.encode(bytes))
}
