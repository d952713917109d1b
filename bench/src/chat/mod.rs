//! The chat fan-out benchmark (`bench chat`): many WebSocket subscribers on one server
//! instance, and how long a message takes from `sendMessage`'s answer to its delivery on
//! the recipient's subscription. See `bench/README.md`.

mod phases;
mod report;
pub mod seed;
mod send;
mod socket;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use futures_util::StreamExt as _;
use migration::{Migrator, MigratorTrait as _};
use sea_orm::Database;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use self::phases::{Phase, WarmUp, measure, warm_up};
use self::send::{Planned, Senders};
use crate::database::{self, Target};
use crate::server::Server;
use crate::{cpu, report as machine};

/// Options of `bench chat`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server binary to measure (build it with `cargo build --release --bin workgraph`).
    #[arg(long, default_value = crate::SERVER_BIN)]
    server_bin: PathBuf,
    #[command(flatten)]
    database: database::Options,
    /// WebSocket subscribers: one user and one connection each.
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// Messages in the measured phase, sent round-robin to the subscribers.
    #[arg(long, default_value_t = 2000)]
    messages: usize,
    /// Sending users, each a closed loop over HTTP (its next send when the last is answered).
    #[arg(long, default_value_t = 20)]
    senders: usize,
    /// Seconds to wait for deliveries after the last send; a message not delivered by then
    /// is lost.
    #[arg(long, default_value_t = 10.0)]
    grace: f64,
    /// WebSocket connections opened at once while subscribing.
    #[arg(long, default_value_t = 50)]
    connect_concurrency: usize,
}

/// What the senders and the subscribers' reader tasks report, as it happens.
pub enum Event {
    /// Message `n` of the phase's plan was sent: its id, the instant its answer arrived, and
    /// how long the request took.
    Sent {
        n: usize,
        id: String,
        at: Instant,
        took: Duration,
    },
    SendFailed {
        n: usize,
        error: String,
    },
    /// A `next` frame, read at `at`.
    Delivered {
        subscriber: usize,
        id: String,
        content: String,
        at: Instant,
    },
    /// The subscription or its connection ended.
    Ended {
        subscriber: usize,
        why: String,
    },
    /// A frame the protocol did not lead to expect.
    Odd {
        subscriber: usize,
        text: String,
    },
}

/// The most any phase may last, whatever the server does.
const PHASE_LIMIT: Duration = Duration::from_secs(600);
/// How long after the last warm-up send every subscription must have had its message.
const WARM_UP_GRACE: Duration = Duration::from_secs(30);
/// Descriptors each process needs besides one per subscriber: the senders' connections,
/// the database pool, the listener, log pipes and libraries.
const SPARE_FILES: u64 = 512;

pub fn main(args: Args) -> Result<()> {
    if !(1..=20_000).contains(&args.subscribers) {
        bail!("--subscribers must be from 1 to 20000");
    }
    if !(1..=1_000_000).contains(&args.messages) {
        bail!("--messages must be from 1 to 1000000");
    }
    if !(1..=1000).contains(&args.senders) {
        bail!("--senders must be from 1 to 1000");
    }
    if !(args.grace > 0.0 && args.grace <= 600.0) {
        bail!("--grace must be in (0, 600]");
    }
    if !(1..=1000).contains(&args.connect_concurrency) {
        bail!("--connect-concurrency must be from 1 to 1000");
    }
    crate::server::require_binary(&args.server_bin)?;
    // Before the server is spawned: it inherits the limit.
    let needed = args.subscribers as u64 + args.senders as u64 + SPARE_FILES;
    let files = rlimit::increase_nofile_limit(needed).context("raising the open-files limit")?;
    if files < needed {
        bail!("the open-files limit is {files} and cannot go higher; this run needs {needed}");
    }
    let runtime = crate::server::load_runtime()?;
    runtime.block_on(database::with_target(&args.database, async |target| {
        run(&args, target, files).await
    }))
}

async fn run(args: &Args, target: &Target, open_files: u64) -> Result<()> {
    let busy_before = machine::busy_percent().await;
    let db = Database::connect(target.url())
        .await
        .with_context(|| format!("cannot connect to {}", database::redact(target.url())))?;
    Migrator::up(&db, None).await.context("migrating")?;
    let started = Instant::now();
    let accounts = seed::seed(&db, args.senders, args.subscribers)
        .await
        .context("seeding")?;
    eprintln!(
        "seeded {} senders and {} subscribers in {:.1?}",
        args.senders,
        args.subscribers,
        started.elapsed()
    );

    let key = seed::chat_key();
    let env = [
        ("WORKGRAPH_CHAT_SENDS_PER_MINUTE", "1000000"),
        ("WORKGRAPH_CHAT_KEYS", key.as_str()),
    ];
    let server = Server::start_with(&args.server_bin, target.url(), "warn", &env).await?;
    let before = server.memory();

    let (events_tx, mut events) = mpsc::unbounded_channel();
    let (stop, stopped) = watch::channel(false);
    let ws_url = format!("{}/graphql/ws", server.base.replacen("http", "ws", 1));
    let opening = Instant::now();
    let tokens: Vec<&str> = accounts
        .subscribers
        .iter()
        .map(|account| account.token.as_str())
        .collect();
    let mut receivers = JoinSet::new();
    let mut sockets = futures_util::stream::iter(tokens.into_iter().enumerate())
        .map(|(n, token)| {
            let ws_url = &ws_url;
            async move { (n, socket::open(ws_url, token).await) }
        })
        .buffer_unordered(args.connect_concurrency);
    while let Some((n, socket)) = sockets.next().await {
        let socket = socket.with_context(|| format!("subscriber {n}"))?;
        receivers.spawn(socket::receive(
            n,
            socket,
            events_tx.clone(),
            stopped.clone(),
        ));
    }
    drop(sockets);
    let opened_in = opening.elapsed();
    eprintln!("{} subscriptions in {opened_in:.1?}", args.subscribers);
    // The connections alone, before any message has gone through them.
    let connected = server.memory();

    let senders = Senders::new(
        &server.base,
        accounts.senders.iter().map(|a| a.token.clone()).collect(),
        accounts
            .subscribers
            .iter()
            .map(|a| a.email.clone())
            .collect(),
    )?;
    let plan = (0..args.subscribers)
        .map(|recipient| Planned {
            recipient,
            content: format!("{WARM_UP} {recipient}"),
        })
        .collect();
    let warm_up = warm_up(&senders, plan, &events_tx, &mut events, args.subscribers).await?;
    eprintln!(
        "warm-up: {} of {} subscriptions live in {:.1?}",
        warm_up.live, args.subscribers, warm_up.took
    );
    let subscribed = server.memory();

    let plan: Vec<Planned> = (0..args.messages)
        .map(|n| Planned {
            recipient: n % args.subscribers,
            content: format!("message {n} of the chat benchmark"),
        })
        .collect();
    let contents: Vec<(usize, String)> = plan
        .iter()
        .map(|p| (p.recipient, p.content.clone()))
        .collect();
    let cpu_before = cpu::Snapshot::now(server.pid(), target.is_postgres());
    let grace = Duration::from_secs_f64(args.grace);
    let phase = measure(&senders, plan, &events_tx, &mut events, grace).await?;
    let cpu = cpu::Snapshot::now(server.pid(), target.is_postgres()).since(&cpu_before);
    let end = server.memory();

    // Stop the readers (bounded: each closes its socket within a second), then the server.
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while receivers.join_next().await.is_some() {}
    })
    .await;
    receivers.abort_all();
    // At RUST_LOG=warn, a quiet run logs nothing.
    let server_log = server.lines_from(0);
    server.stop();

    let machine = machine::Machine::describe(&db).await;
    db.close().await?;
    report::print(&report::Report {
        machine,
        busy_before,
        args,
        open_files,
        opened_in,
        warm_up: &warm_up,
        plan: &contents,
        phase: &phase,
        cpu,
        server_log: &server_log,
        memory: [
            ("before subscribing", before),
            ("connected, no message yet", connected),
            ("after subscribing", subscribed),
            ("at the end", end),
        ],
    });
    Ok(())
}

/// The content every warm-up message starts with.
const WARM_UP: &str = "warm-up";
