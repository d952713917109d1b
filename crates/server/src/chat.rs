//! Chat's configuration: where the encryption keys come from, which bus carries messages
//! between instances, and the `rotate-chat-key` command.

use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{Context as _, bail};
use graph::chat::bus::ChatBus;
use graph::chat::keys::ChatKeys;
use graph::chat::rotate::{self, Rotation};
use sea_orm::DatabaseConnection;
use sea_orm::sqlx::sqlite::SqliteConnectOptions;

use crate::config::Config;
use crate::db::is_postgres;

/// The key file for a SQLite database at `url`: beside the database file, named after it.
/// `None` for PostgreSQL and for in-memory databases.
pub fn key_file(url: &str) -> Option<PathBuf> {
    if is_postgres(url) || url.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    let options = SqliteConnectOptions::from_str(url).ok()?;
    let database = options.get_filename();
    let mut name = database.file_name()?.to_os_string();
    name.push(".chat-keys");
    Some(database.with_file_name(name))
}

/// Refuses a configuration whose chat keys can't work before anything touches the
/// database: PostgreSQL without `WORKGRAPH_CHAT_KEYS`, or keys that don't parse.
pub fn check(config: &Config) -> anyhow::Result<()> {
    match &config.chat_keys {
        Some(spec) => ChatKeys::parse(spec)
            .map(drop)
            .context("WORKGRAPH_CHAT_KEYS"),
        None if is_postgres(&config.database_url) => Err(missing_keys()),
        None => Ok(()),
    }
}

fn missing_keys() -> anyhow::Error {
    anyhow::anyhow!(
        "WORKGRAPH_CHAT_KEYS is required with PostgreSQL: every instance must open every \
         message, so the keys are configured, not generated (format: id:base64-of-32-bytes)"
    )
}

/// The chat keys `config` calls for: `WORKGRAPH_CHAT_KEYS` when set; else, on SQLite, the
/// key file beside the database (made on first use, which is logged loudly: losing it
/// loses every message); refused on PostgreSQL, where every instance must share them.
pub fn keys(config: &Config) -> anyhow::Result<ChatKeys> {
    if let Some(spec) = &config.chat_keys {
        return ChatKeys::parse(spec).context("WORKGRAPH_CHAT_KEYS");
    }
    if is_postgres(&config.database_url) {
        return Err(missing_keys());
    }
    match key_file(&config.database_url) {
        Some(path) => {
            let (keys, created) = ChatKeys::from_file(&path)?;
            if created {
                tracing::warn!(
                    path = %path.display(),
                    "created a new chat key file: back it up with the database, since without \
                     it no chat message can be read; or set WORKGRAPH_CHAT_KEYS"
                );
            } else {
                tracing::info!(path = %path.display(), key = %keys.active_id(), "chat keys from the key file");
            }
            Ok(keys)
        }
        None => {
            let (keys, _) = ChatKeys::generate("memory")?;
            tracing::warn!(
                "in-memory database without WORKGRAPH_CHAT_KEYS: chat uses a key that lives \
                 as long as this process"
            );
            Ok(keys)
        }
    }
}

/// PostgreSQL's LISTEN/NOTIFY across instances, or an in-process bus on SQLite.
pub async fn bus(db: &DatabaseConnection, config: &Config) -> anyhow::Result<ChatBus> {
    if is_postgres(&config.database_url) {
        ChatBus::postgres(db.clone(), &config.database_url)
            .await
            .context("cannot start listening for chat messages")
    } else {
        Ok(ChatBus::local())
    }
}

/// `workgraph rotate-chat-key`: what it did, and the key the messages are now under.
pub async fn rotate_command(
    db: &DatabaseConnection,
    config: &Config,
    new_key: bool,
    batch_size: u64,
) -> anyhow::Result<(Rotation, String)> {
    if new_key {
        if config.chat_keys.is_some() {
            bail!(
                "--new-key adds a key to the SQLite key file; with WORKGRAPH_CHAT_KEYS, put the new key first there"
            );
        }
        let Some(path) = key_file(&config.database_url) else {
            bail!("--new-key needs the SQLite key file; this database has none");
        };
        if !path.exists() {
            bail!("no chat key file at {}", path.display());
        }
        let id = ChatKeys::add_to_file(&path)?;
        tracing::warn!(key = %id, path = %path.display(), "added a new active chat key; restart the server so new messages use it");
    }
    let keys = keys(config)?;
    let done = rotate::rotate(db, &keys, batch_size).await?;
    tracing::info!(
        key = %keys.active_id(),
        resealed = done.resealed,
        failed = done.failed,
        skipped = done.skipped,
        "chat key rotation finished"
    );
    Ok((done, keys.active_id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_sits_beside_the_database() {
        assert_eq!(
            key_file("sqlite://data/workgraph.db?mode=rwc"),
            Some(PathBuf::from("data/workgraph.db.chat-keys"))
        );
        assert_eq!(key_file("sqlite::memory:"), None);
        assert_eq!(key_file("postgres://postgres@127.0.0.1/wg"), None);
    }
}
