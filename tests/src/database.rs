//! One fresh database per test: a temporary SQLite file, or a new PostgreSQL database
//! created on the server `TEST_DATABASE_URL` names and dropped when the test ends.

use sea_orm::{ConnectionTrait, Database};
use tempfile::TempDir;
use uuid::Uuid;

/// A database that exists for one test.
pub enum TestDatabase {
    Sqlite {
        url: String,
        _dir: TempDir,
    },
    Postgres {
        url: String,
        admin_url: String,
        name: String,
    },
}

impl TestDatabase {
    /// Creates the database the environment asks for.
    pub async fn create() -> Self {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if admin_url.starts_with("postgres") => {
                let name = format!("wg_test_{}", Uuid::now_v7().simple());
                let admin = Database::connect(&admin_url)
                    .await
                    .unwrap_or_else(|err| panic!("connect to TEST_DATABASE_URL: {err}"));
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap_or_else(|err| panic!("create database {name}: {err}"));
                let _ = admin.close().await;
                let url = with_database_name(&admin_url, &name);
                Self::Postgres {
                    url,
                    admin_url,
                    name,
                }
            }
            Ok(other) if !other.is_empty() => {
                panic!("TEST_DATABASE_URL must be a postgres:// URL, got {other}")
            }
            _ => {
                let dir = tempfile::tempdir()
                    .unwrap_or_else(|err| panic!("create a temporary directory: {err}"));
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                Self::Sqlite { url, _dir: dir }
            }
        }
    }

    /// The URL the server connects with.
    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } => url,
        }
    }

    /// Whether this is PostgreSQL (some wording differs between the backends).
    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres { .. })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Self::Postgres {
            admin_url, name, ..
        } = self
        else {
            return;
        };
        let (admin_url, name) = (admin_url.clone(), name.clone());
        // Drop runs outside any async context we could borrow; a short-lived runtime on its
        // own thread drops the database, forcing out connections the test left open.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|err| err.to_string())?;
            runtime.block_on(async {
                let admin = Database::connect(&admin_url)
                    .await
                    .map_err(|err| err.to_string())?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .map_err(|err| err.to_string())?;
                let _ = admin.close().await;
                Ok::<(), String>(())
            })
        })
        .join();
        if let Ok(Err(err)) = dropped {
            eprintln!("could not drop test database: {err}");
        }
    }
}

/// `postgres://user@host:port/db?opts` with `db` replaced by `name`.
fn with_database_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|scheme| scheme + 3)
        .and_then(|start| base[start..].find('/').map(|slash| start + slash))
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_database_name;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database_name("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database_name("postgres://postgres@127.0.0.1:5432", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database_name("postgres://u:p@h/db?sslmode=disable", "t1"),
            "postgres://u:p@h/t1?sslmode=disable"
        );
    }
}
