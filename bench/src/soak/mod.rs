//! The soak benchmark (`bench soak`): closed-loop clients mixing reads and `logTime` writes
//! for a minute, optionally across a `kill -9` of the server, then every acknowledged write
//! checked against the database itself. See `bench/README.md`.

mod check;
mod client;
mod report;
mod seed;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use migration::{Migrator, MigratorTrait as _};
use sea_orm::{ConnectionTrait as _, Database};
use tokio::task::JoinSet;

use crate::database::{self, Target};
use crate::server::Server;
use crate::{report as machine, seed as dataset};

/// Options of `bench soak`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server binary to run (build it with `cargo build --release --bin workgraph`).
    #[arg(long, default_value = crate::SERVER_BIN)]
    server_bin: PathBuf,
    #[command(flatten)]
    database: database::Options,
    /// Length of the run, in seconds.
    #[arg(long, default_value_t = 60.0)]
    seconds: f64,
    /// Concurrent closed-loop clients, each its own user with its own session.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Share of requests that are `logTime` writes, in %.
    #[arg(long, default_value_t = 30)]
    writes: u32,
    /// SIGKILL the server halfway through and start it again on the same database and port.
    #[arg(long)]
    kill: bool,
}

/// What the kill and the restart took.
pub struct Restart {
    /// From the start of the run to the kill.
    pub at: Duration,
    /// From the kill until the new server answered `/readyz`.
    pub ready_after: Duration,
    /// From the kill until a request sent after it was answered successfully.
    pub first_ok_after: Option<Duration>,
    /// The killed process's peak RSS, in KiB.
    pub killed_peak_kib: Option<u64>,
}

pub fn main(args: Args) -> Result<()> {
    if !(args.seconds > 0.0 && args.seconds <= 3600.0) {
        bail!("--seconds must be in (0, 3600]");
    }
    if !(1..=1024).contains(&args.clients) {
        bail!("--clients must be from 1 to 1024");
    }
    if args.writes > 100 {
        bail!("--writes must be from 0 to 100");
    }
    crate::server::require_binary(&args.server_bin)?;
    let runtime = crate::server::load_runtime()?;
    let mut passed = false;
    runtime.block_on(database::with_target(&args.database, async |target| {
        passed = run(&args, target).await?;
        Ok(())
    }))?;
    if !passed {
        bail!("the soak failed a check (see FAIL above)");
    }
    Ok(())
}

/// Seeds, runs the clients (killing and restarting the server halfway with `--kill`),
/// checks the database and prints the report. Returns whether every check passed.
async fn run(args: &Args, target: &Target) -> Result<bool> {
    let busy_before = machine::busy_percent().await;
    let started = Instant::now();
    let db = Database::connect(target.url())
        .await
        .with_context(|| format!("cannot connect to {}", database::redact(target.url())))?;
    Migrator::up(&db, None).await.context("migrating")?;
    dataset::seed(&db).await.context("seeding")?;
    let accounts = seed::seed(&db, args.clients)
        .await
        .context("seeding the clients' accounts")?;
    if target.is_postgres() {
        db.execute_unprepared("ANALYZE").await?;
    }
    eprintln!(
        "seeded the dataset and {} client accounts in {:.1?}",
        args.clients,
        started.elapsed()
    );

    // The server needs a chat key on PostgreSQL; the restart gets the same one, as a
    // redeployed instance would.
    let key = crate::chat::seed::chat_key();
    let env = [("WORKGRAPH_CHAT_KEYS", key.as_str())];
    let server = Server::start_with(&args.server_bin, target.url(), "warn", &env).await?;
    let killed_at = Arc::new(OnceLock::new());
    let start = Instant::now();
    let shared = Arc::new(client::Shared {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?,
        url: format!("{}/graphql", server.base),
        deadline: start + Duration::from_secs_f64(args.seconds),
        write_percent: args.writes,
        killed_at: Arc::clone(&killed_at),
    });
    let accounts = Arc::new(accounts);
    let mut clients = JoinSet::new();
    for n in 0..args.clients {
        let (shared, accounts) = (Arc::clone(&shared), Arc::clone(&accounts));
        clients.spawn(async move { (n, client::run(n, &accounts[n], &shared).await) });
    }
    eprintln!("{} clients running for {} s", args.clients, args.seconds);

    let mut server_log = Vec::new();
    let mut restart = None;
    let server = if args.kill {
        tokio::time::sleep_until((start + Duration::from_secs_f64(args.seconds / 2.0)).into())
            .await;
        let killed_peak_kib = server.peak_rss_kib();
        let port = server.port;
        server_log.extend(server.lines_from(0));
        let at = Instant::now();
        let _ = killed_at.set(at);
        // `Server::stop` is SIGKILL, then the reap: no drain, no shutdown hook.
        server.stop();
        eprintln!("killed the server (SIGKILL) at {:.1?}", at - start);
        let restarted = Server::start_on(&args.server_bin, target.url(), "warn", &env, port).await;
        let ready_after = at.elapsed();
        let restarted = match restarted {
            Ok(server) => server,
            Err(err) => {
                clients.abort_all();
                return Err(err.context("restarting the server on the same port"));
            }
        };
        eprintln!("restarted, ready {ready_after:.2?} after the kill");
        restart = Some(Restart {
            at: at - start,
            ready_after,
            first_ok_after: None,
            killed_peak_kib,
        });
        restarted
    } else {
        server
    };

    let mut tallies: Vec<Option<client::Tally>> = (0..args.clients).map(|_| None).collect();
    while let Some(joined) = clients.join_next().await {
        let (n, tally) = joined.context("a client panicked")?;
        tallies[n] = Some(tally);
    }
    let elapsed = start.elapsed();
    let tallies: Vec<client::Tally> = tallies.into_iter().flatten().collect();
    if let (Some(restart), Some(at)) = (restart.as_mut(), killed_at.get()) {
        restart.first_ok_after = tallies
            .iter()
            .filter_map(|t| t.first_ok_after_kill)
            .min()
            .map(|ok| ok - *at);
    }
    let peak_rss_kib = server.peak_rss_kib();
    server_log.extend(server.lines_from(0));
    // Gone before the rows are read: nothing may still be writing.
    server.stop();

    let users: Vec<uuid::Uuid> = accounts.iter().map(|a| a.user_id).collect();
    let checks = check::run(&db, &users, &tallies, args.kill).await?;
    let machine = machine::Machine::describe(&db).await;
    db.close().await?;
    let passed = checks.iter().all(|c| c.passed);
    report::print(&report::Report {
        machine,
        busy_before,
        args,
        elapsed,
        tallies: &tallies,
        restart: restart.as_ref(),
        peak_rss_kib,
        server_log: &server_log,
        checks: &checks,
    });
    Ok(passed)
}
