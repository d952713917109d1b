//! The database under test: a fresh PostgreSQL database made (and dropped) for the run, one
//! the caller names, or a temporary SQLite file.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use reqwest::Url;
use sea_orm::{ConnectionTrait, Database};

/// The flags that choose the database, the same for every benchmark.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// An existing, empty PostgreSQL database to use; it keeps the rows afterwards. Without
    /// it, a database `wg_bench_<random>` is created on --admin-url and dropped at the end.
    #[arg(long, conflicts_with = "sqlite")]
    pub database_url: Option<String>,
    /// The PostgreSQL server (any database on it) to create the run's database on.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub admin_url: String,
    /// Use a temporary SQLite file instead of PostgreSQL.
    #[arg(long)]
    pub sqlite: bool,
}

/// Makes the database `options` ask for, runs `run` on it and removes it again (the
/// PostgreSQL database this run created, or the SQLite file), whether `run` succeeds,
/// fails or is interrupted with Ctrl-C.
pub async fn with_target(
    options: &Options,
    run: impl AsyncFnOnce(&Target) -> Result<()>,
) -> Result<()> {
    let target = if options.sqlite {
        Target::sqlite()?
    } else if let Some(url) = &options.database_url {
        Target::Postgres {
            url: url.clone(),
            created: None,
        }
    } else {
        Target::create_postgres(&options.admin_url).await?
    };
    // On Ctrl-C the run's future is dropped: its servers and child processes are killed
    // as their handles go, then the database is dropped here all the same.
    let outcome = tokio::select! {
        outcome = run(&target) => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    let dropped = target.drop_created().await;
    outcome?;
    dropped.context("dropping the run's database")
}

/// Where the run's rows live.
pub enum Target {
    Postgres {
        url: String,
        /// Set when this run created the database: the server to drop it on, and its name.
        created: Option<(String, String)>,
    },
    Sqlite {
        url: String,
        /// Holds the file; dropping it deletes it.
        _dir: tempfile::TempDir,
    },
}

impl Target {
    pub fn url(&self) -> &str {
        match self {
            Self::Postgres { url, .. } | Self::Sqlite { url, .. } => url,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres { .. })
    }

    /// A temporary SQLite file.
    pub fn sqlite() -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        );
        Ok(Self::Sqlite { url, _dir: dir })
    }

    /// A new database `wg_bench_<random>` on the server `admin_url` connects to.
    pub async fn create_postgres(admin_url: &str) -> Result<Self> {
        // Nanoseconds and the pid: unique enough for concurrent runs on one server.
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
        let name = format!(
            "wg_bench_{:x}",
            (nanos as u64) ^ (u64::from(std::process::id()) << 40)
        );
        let admin = Database::connect(admin_url)
            .await
            .with_context(|| format!("cannot connect to {}", redact(admin_url)))?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .with_context(|| format!("CREATE DATABASE {name} (the role needs CREATEDB)"))?;
        admin.close().await?;
        let mut url = Url::parse(admin_url)?;
        url.set_path(&format!("/{name}"));
        Ok(Self::Postgres {
            url: url.to_string(),
            created: Some((admin_url.to_owned(), name)),
        })
    }

    /// Drops the database this run created, if it did; `FORCE` ends any connection left.
    pub async fn drop_created(&self) -> Result<()> {
        if let Self::Postgres {
            created: Some((admin_url, name)),
            ..
        } = self
        {
            let admin = Database::connect(admin_url.as_str()).await?;
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await?;
            admin.close().await?;
        }
        Ok(())
    }
}

/// Host and port of a PostgreSQL URL.
pub fn host_port(url: &str) -> Result<(String, u16)> {
    let url = Url::parse(url)?;
    let Some(host) = url.host_str() else {
        bail!("{} names no host", redact(url.as_str()));
    };
    Ok((host.to_owned(), url.port().unwrap_or(5432)))
}

/// `url` pointed at `127.0.0.1:port` instead, without TLS (the capturing proxy reads the
/// protocol in the clear).
pub fn via_port(url: &str, port: u16) -> Result<String> {
    let mut url = Url::parse(url)?;
    url.set_host(Some("127.0.0.1"))?;
    url.set_port(Some(port))
        .map_err(|()| anyhow::anyhow!("cannot set a port on {}", redact(url.as_str())))?;
    let query: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| key != "sslmode")
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(query)
        .append_pair("sslmode", "disable");
    Ok(url.to_string())
}

/// `url` without its password, for messages.
pub fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
