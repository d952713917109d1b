//! Password hashing: argon2id with OWASP's parameters, off the async workers.
//!
//! A hash takes tens of milliseconds of CPU and 19 MiB of memory by design. Run on an async
//! worker it would stall every other request on that worker; so hashing runs on tokio's
//! blocking pool, and a semaphore bounds how many run at once so a burst of log-ins can
//! neither exhaust memory nor starve the blocking pool.

use std::fmt;
use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::{OsRng, RngCore};
use tokio::sync::Semaphore;

use crate::error::{Error, Result};

/// The shortest and longest password accepted at sign-up, in characters.
pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;

/// OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane.
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const LANES: u32 = 1;

/// A password in flight. Its `Debug` prints `[redacted]`, so a log field or a panic message
/// can't leak it.
pub struct Password(String);

impl Password {
    pub fn new(clear: String) -> Self {
        Self(clear)
    }

    /// Length in characters, as the limits count it.
    pub fn chars(&self) -> usize {
        self.0.chars().count()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// Hashes and verifies passwords with bounded concurrency.
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
}

impl Passwords {
    /// At most `concurrency` hashes run at once; more wait their turn.
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of `password` with a fresh salt.
    pub async fn hash(&self, password: Password) -> Result<String> {
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2()?
                .hash_password(password.0.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|err| Error::internal(HashError(err.to_string())))
        })
        .await
    }

    /// Whether `password` matches `phc`. With no hash (an unknown account) it verifies
    /// against a fixed dummy hash and answers `false`, so that the time taken does not tell
    /// an unknown email from a wrong password.
    pub async fn verify(&self, password: Password, phc: Option<String>) -> Result<bool> {
        self.run(move || {
            let known = phc.is_some();
            let phc = match phc {
                Some(phc) => phc,
                None => dummy_hash()?.to_owned(),
            };
            let parsed = PasswordHash::new(&phc)
                .map_err(|err| Error::internal(HashError(err.to_string())))?;
            let matches = argon2()?
                .verify_password(password.0.as_bytes(), &parsed)
                .is_ok();
            Ok(known && matches)
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|err| Error::internal(HashError(err.to_string())))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|err| Error::internal(HashError(err.to_string())))?
    }
}

fn argon2() -> Result<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, None)
        .map_err(|err| Error::internal(HashError(err.to_string())))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// A hash of a random password nobody knows, made once per process.
fn dummy_hash() -> Result<&'static str> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash);
    }
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut secret);
    let salt = SaltString::generate(&mut OsRng);
    let hash = argon2()?
        .hash_password(&secret, &salt)
        .map_err(|err| Error::internal(HashError(err.to_string())))?
        .to_string();
    Ok(DUMMY.get_or_init(|| hash))
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
struct HashError(String);

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_that_verify() {
        let passwords = Passwords::new(2);
        let hash = passwords
            .hash(Password::new("correct horse".into()))
            .await
            .unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            passwords
                .verify(Password::new("correct horse".into()), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify(Password::new("battery staple".into()), Some(hash))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        let passwords = Passwords::new(1);
        assert!(
            !passwords
                .verify(Password::new("anything".into()), None)
                .await
                .unwrap()
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let shown = format!("{:?}", Password::new("hunter2hunter2".into()));
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
