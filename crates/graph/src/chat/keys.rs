//! Chat encryption at rest: XChaCha20-Poly1305 under named keys.
//!
//! Each message is sealed with a fresh random 24-byte nonce (XChaCha's nonce is large enough
//! that random nonces never realistically repeat) and associated data binding the
//! ciphertext to its row: the message id, the sender's id and the recipient's address. A
//! ciphertext copied into another row, or a row whose sender or recipient was changed,
//! fails to open. Each row records the id of its key, so keys can be rotated: new rows
//! use the active key, old rows open with theirs until re-sealed.
//!
//! Keys come as `id:base64key` entries separated by commas or newlines, the first one
//! active: from `WORKGRAPH_CHAT_KEYS`, or from a key file the server keeps beside its
//! SQLite database.

// Over ~450 lines with its unit tests (the tests of sealing, opening and key files), which stay
// beside the code they pin.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use entity::chat_message;
use uuid::Uuid;

/// Bytes of a key.
pub const KEY_LEN: usize = 32;
/// Bytes of a nonce.
pub const NONCE_LEN: usize = 24;
/// Characters of a key id at most (the column's limit).
pub const MAX_KEY_ID: usize = 32;

/// Why a key list can't be used. Never includes key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no chat keys given")]
    Empty,
    #[error("chat key entry {0} is not `id:base64key`")]
    Malformed(usize),
    #[error("chat key id {0:?} must be 1–{MAX_KEY_ID} characters of letters, digits, `-` and `_`")]
    BadId(String),
    #[error("chat key {0:?} is not standard base64 of {KEY_LEN} bytes")]
    BadKey(String),
    #[error("chat key id {0:?} appears twice")]
    Duplicate(String),
    #[error("chat key file {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A message's content, sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub content: Vec<u8>,
    pub nonce: Vec<u8>,
    pub key_id: String,
}

/// Why a stored message can't be read back.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("message {0} is sealed with key {1:?}, which is not configured")]
    UnknownKey(Uuid, String),
    #[error("message {0} does not open: its ciphertext, nonce or row was altered")]
    Corrupt(Uuid),
}

/// The parties a ciphertext is bound to.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    pub id: Uuid,
    pub sender_id: Uuid,
    pub recipient_email: &'a str,
}

impl<'a> From<&'a chat_message::Model> for Binding<'a> {
    fn from(row: &'a chat_message::Model) -> Self {
        Self {
            id: row.id,
            sender_id: row.sender_id,
            recipient_email: &row.recipient_email,
        }
    }
}

impl Binding<'_> {
    /// The associated data: a label, then the fixed-size ids, then the address (last, so
    /// no two bindings share an encoding).
    fn associated_data(&self) -> Vec<u8> {
        let label = b"workgraph chat v1\0";
        let mut data = Vec::with_capacity(label.len() + 32 + self.recipient_email.len());
        data.extend_from_slice(label);
        data.extend_from_slice(self.id.as_bytes());
        data.extend_from_slice(self.sender_id.as_bytes());
        data.extend_from_slice(self.recipient_email.as_bytes());
        data
    }
}

struct Ring {
    active: String,
    ciphers: HashMap<String, XChaCha20Poly1305>,
}

/// The configured chat keys. Cheap to clone; clones share the keys. `Debug` shows ids only.
#[derive(Clone)]
pub struct ChatKeys {
    ring: Arc<RwLock<Ring>>,
    /// Where the keys came from, when a file: re-read when a row names a key this process
    /// has not seen (`rotate-chat-key` added it while the server ran).
    file: Option<PathBuf>,
}

impl fmt::Debug for ChatKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatKeys")
            .field("active", &self.active_id())
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl ChatKeys {
    /// Parses `id:base64key` entries separated by commas or line breaks; the first is
    /// active. Blank entries and lines starting with `#` are skipped.
    pub fn parse(spec: &str) -> Result<Self, KeyError> {
        Ok(Self {
            ring: Arc::new(RwLock::new(parse_ring(spec)?)),
            file: None,
        })
    }

    /// A single new random key named `id`, and its entry as `parse` reads it.
    pub fn generate(id: &str) -> Result<(Self, String), KeyError> {
        let entry = new_entry(id)?;
        Ok((Self::parse(&entry)?, entry))
    }

    /// Reads the key file at `path`, first creating it with one new key when it does not
    /// exist (readable by its owner only). Says whether it was created.
    pub fn from_file(path: &Path) -> Result<(Self, bool), KeyError> {
        let file_error = |source| KeyError::File {
            path: path.to_owned(),
            source,
        };
        let created = if path.exists() {
            false
        } else {
            let entry = new_entry(&generated_id())?;
            write_private(path, &format!("{entry}\n")).map_err(file_error)?;
            true
        };
        let text = std::fs::read_to_string(path).map_err(file_error)?;
        let keys = Self {
            ring: Arc::new(RwLock::new(parse_ring(&text)?)),
            file: Some(path.to_owned()),
        };
        Ok((keys, created))
    }

    /// Puts a new key first in the key file at `path` (the old ones stay, to open old
    /// rows) and returns its id. The next [`ChatKeys::from_file`] makes it active.
    pub fn add_to_file(path: &Path) -> Result<String, KeyError> {
        let file_error = |source| KeyError::File {
            path: path.to_owned(),
            source,
        };
        let old = std::fs::read_to_string(path).map_err(file_error)?;
        parse_ring(&old)?;
        let id = generated_id();
        let entry = new_entry(&id)?;
        write_private(path, &format!("{entry}\n{old}")).map_err(file_error)?;
        Ok(id)
    }

    /// The id new messages are sealed under.
    pub fn active_id(&self) -> String {
        self.ring
            .read()
            .map(|ring| ring.active.clone())
            .unwrap_or_default()
    }

    /// Seals `plaintext` for the row `binding` under the active key.
    pub fn seal(&self, binding: Binding<'_>, plaintext: &str) -> Sealed {
        let ring = self.read();
        let cipher = ring
            .ciphers
            .get(&ring.active)
            .unwrap_or_else(|| unreachable!("the active key is always in the ring"));
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = binding.associated_data();
        let content = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .unwrap_or_else(|_| unreachable!("XChaCha20-Poly1305 seals any message under 256 GiB"));
        Sealed {
            content,
            nonce: nonce.to_vec(),
            key_id: ring.active.clone(),
        }
    }

    /// Opens a stored message's content.
    pub fn open(&self, row: &chat_message::Model) -> Result<String, OpenError> {
        if !self.knows(&row.key_id) {
            self.reload();
        }
        let ring = self.read();
        let cipher = ring
            .ciphers
            .get(&row.key_id)
            .ok_or_else(|| OpenError::UnknownKey(row.id, row.key_id.clone()))?;
        let nonce: [u8; NONCE_LEN] = row
            .nonce
            .as_slice()
            .try_into()
            .map_err(|_| OpenError::Corrupt(row.id))?;
        let aad = Binding::from(row).associated_data();
        let plaintext = cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &row.content,
                    aad: &aad,
                },
            )
            .map_err(|_| OpenError::Corrupt(row.id))?;
        String::from_utf8(plaintext).map_err(|_| OpenError::Corrupt(row.id))
    }

    /// The ring as it is; a writer that panicked left it whole (keys are only added).
    fn read(&self) -> RwLockReadGuard<'_, Ring> {
        self.ring
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn knows(&self, id: &str) -> bool {
        self.ring
            .read()
            .is_ok_and(|ring| ring.ciphers.contains_key(id))
    }

    /// Re-reads the key file, keeping the active key: new keys open rows, but sealing
    /// switches to a new key only on restart, so a half-deployed key never seals.
    fn reload(&self) {
        let Some(path) = &self.file else { return };
        let fresh = match std::fs::read_to_string(path)
            .map_err(|source| KeyError::File {
                path: path.clone(),
                source,
            })
            .and_then(|text| parse_ring(&text))
        {
            Ok(fresh) => fresh,
            Err(err) => {
                tracing::warn!(error = %err, "could not re-read the chat key file");
                return;
            }
        };
        if let Ok(mut ring) = self.ring.write() {
            for (id, cipher) in fresh.ciphers {
                ring.ciphers.entry(id).or_insert(cipher);
            }
        }
    }
}

fn parse_ring(spec: &str) -> Result<Ring, KeyError> {
    let mut active = None;
    let mut ciphers = HashMap::new();
    let entries = spec
        .split([',', '\n'])
        .map(str::trim)
        .filter(|entry| !entry.is_empty() && !entry.starts_with('#'));
    for (index, entry) in entries.enumerate() {
        let (id, key) = entry
            .split_once(':')
            .ok_or(KeyError::Malformed(index + 1))?;
        let (id, key) = (id.trim(), key.trim());
        check_id(id)?;
        let bytes = STANDARD
            .decode(key)
            .ok()
            .filter(|bytes| bytes.len() == KEY_LEN)
            .ok_or_else(|| KeyError::BadKey(id.to_owned()))?;
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes)
            .map_err(|_| KeyError::BadKey(id.to_owned()))?;
        if ciphers.insert(id.to_owned(), cipher).is_some() {
            return Err(KeyError::Duplicate(id.to_owned()));
        }
        active.get_or_insert_with(|| id.to_owned());
    }
    let active = active.ok_or(KeyError::Empty)?;
    Ok(Ring { active, ciphers })
}

fn check_id(id: &str) -> Result<(), KeyError> {
    let fits = (1..=MAX_KEY_ID).contains(&id.chars().count())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if fits {
        Ok(())
    } else {
        Err(KeyError::BadId(id.to_owned()))
    }
}

fn new_entry(id: &str) -> Result<String, KeyError> {
    check_id(id)?;
    let key = XChaCha20Poly1305::generate_key(&mut OsRng);
    Ok(format!("{id}:{}", STANDARD.encode(key)))
}

/// `k`, the UTC time to the second (so ids sort by age) and 16 random bits (so two keys
/// made in one second differ).
fn generated_id() -> String {
    use rand_core::RngCore as _;
    let suffix = rand_core::OsRng.next_u32() & 0xffff;
    format!(
        "k{}-{suffix:04x}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S")
    )
}

/// Writes `text` to `path` through a temporary file and a rename, so a crash leaves the old
/// file or the new one, never half of one; readable by the owner only on Unix.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let temporary = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(keys: &ChatKeys, text: &str) -> chat_message::Model {
        let id = Uuid::now_v7();
        let sender_id = Uuid::now_v7();
        let recipient_email = "b@example.com".to_owned();
        let sealed = keys.seal(
            Binding {
                id,
                sender_id,
                recipient_email: &recipient_email,
            },
            text,
        );
        chat_message::Model {
            id,
            sender_id,
            recipient_email,
            content: sealed.content,
            nonce: sealed.nonce,
            key_id: sealed.key_id,
            created_at: chrono::Utc::now(),
            read_at: None,
        }
    }

    #[test]
    fn a_sealed_message_opens_only_in_its_own_row() {
        let (keys, _) = ChatKeys::generate("a").unwrap();
        let message = row(&keys, "Zoë, see you at 10?");
        assert!(!message.content.windows(3).any(|w| w == b"Zo\xc3"));
        assert_eq!(keys.open(&message).unwrap(), "Zoë, see you at 10?");

        let mut moved = message.clone();
        moved.id = Uuid::now_v7();
        assert!(matches!(keys.open(&moved), Err(OpenError::Corrupt(_))));
        let mut redirected = message.clone();
        redirected.recipient_email = "c@example.com".into();
        assert!(matches!(keys.open(&redirected), Err(OpenError::Corrupt(_))));
        let mut flipped = message;
        flipped.content[0] ^= 1;
        assert!(matches!(keys.open(&flipped), Err(OpenError::Corrupt(_))));
    }

    #[test]
    fn old_keys_open_and_the_first_key_seals() {
        let (old, old_entry) = ChatKeys::generate("old").unwrap();
        let message = row(&old, "hello");
        let (_, new_entry) = ChatKeys::generate("new").unwrap();
        let both = ChatKeys::parse(&format!("{new_entry}, {old_entry}")).unwrap();
        assert_eq!(both.active_id(), "new");
        assert_eq!(both.open(&message).unwrap(), "hello");
        let other = ChatKeys::parse(&new_entry).unwrap();
        assert!(matches!(
            other.open(&message),
            Err(OpenError::UnknownKey(..))
        ));
    }

    #[test]
    fn bad_key_lists_are_refused_without_echoing_keys() {
        let (_, entry) = ChatKeys::generate("a").unwrap();
        for (spec, wanted) in [
            ("", "no chat keys"),
            ("nocolon", "not `id:base64key`"),
            ("a b:AAAA", "must be 1–32"),
            ("a:AAAA", "not standard base64 of 32 bytes"),
        ] {
            let err = ChatKeys::parse(spec).unwrap_err().to_string();
            assert!(err.contains(wanted), "{spec:?}: {err}");
        }
        let twice = format!("{entry},{entry}");
        let err = ChatKeys::parse(&twice).unwrap_err().to_string();
        assert!(err.contains("twice"), "{err}");
        let (_, key) = entry.split_once(':').unwrap();
        assert!(!err.contains(key));
    }

    #[test]
    fn a_key_file_is_made_once_and_grows_by_rotation() {
        let dir = std::env::temp_dir().join(format!("wg-keys-{}", Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("chat.keys");
        let (first, created) = ChatKeys::from_file(&path).unwrap();
        assert!(created);
        let message = row(&first, "kept");
        let (again, created) = ChatKeys::from_file(&path).unwrap();
        assert!(!created);
        assert_eq!(again.active_id(), first.active_id());

        let std::result::Result::Ok(added) = ChatKeys::add_to_file(&path) else {
            panic!("add a key");
        };
        // A running process learns the new key when a row needs it, but keeps sealing
        // with the key it started with.
        let (rotated, _) = ChatKeys::from_file(&path).unwrap();
        assert_eq!(rotated.active_id(), added);
        let resealed = row(&rotated, "new");
        assert_eq!(first.open(&resealed).unwrap(), "new");
        assert_eq!(first.active_id(), again.active_id());
        assert_eq!(rotated.open(&message).unwrap(), "kept");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
