//! The flood benchmark (`bench flood`): while one well-behaved client runs a by-id query in
//! a closed loop, thousands of connections send half a request head and then nothing, and
//! thousands of WebSockets open under one account. Reports the well-behaved client's
//! latency before, during and after the flood, when the server cut each slow connection,
//! how it answered the sockets, and its resident memory before, at the peak and after.
//! Loopback only, bounded in count (by the open-files limit) and in time. See
//! `bench/README.md`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use futures_util::{SinkExt as _, StreamExt as _};
use sea_orm::Database;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::database::{self, Target};
use crate::load::Api;
use crate::report::{Machine, percentile_ms};
use crate::server::{Memory, Server};

/// Options of `bench flood`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server binary to measure (build it with `cargo build --release --bin workgraph`).
    #[arg(long, default_value = crate::SERVER_BIN)]
    server_bin: PathBuf,
    #[command(flatten)]
    database: database::Options,
    /// Connections that send half a request head, then nothing (fewer when the open-files
    /// limit has no room for them all).
    #[arg(long, default_value_t = 10_000)]
    slow: usize,
    /// WebSockets opened under one account, each sending `connection_init`.
    #[arg(long, default_value_t = 5_000)]
    sockets: usize,
    /// The server's header timeout (`WORKGRAPH_HEADER_TIMEOUT_SECS`).
    #[arg(long, default_value_t = 10)]
    header_timeout: u64,
    /// Connections opened at once.
    #[arg(long, default_value_t = 256)]
    connect_concurrency: usize,
}

/// Descriptors each process needs besides the flood's: the well-behaved client, the
/// database pool, the listener, log pipes and libraries.
const SPARE_FILES: u64 = 512;
/// How long the well-behaved client runs before the flood (after it, for [`SETTLE`]).
const QUIET: Duration = Duration::from_secs(3);
/// How long the memory is given to settle after the flood, sampled every half second.
const SETTLE: Duration = Duration::from_secs(10);
/// Past the header timeout, how long a slow connection is watched before it counts as
/// never closed.
const WATCH_BEYOND: Duration = Duration::from_secs(10);
/// The most a WebSocket may take from connect to its answer to `connection_init`.
const SOCKET_WITHIN: Duration = Duration::from_secs(30);

/// Half a request head: the request line and two headers, never the blank line.
const HALF_HEAD: &[u8] =
    b"POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n";

const BY_ID: &str = "query W($id: ID!) { node(id: $id) { ... on Workspace { id name } } }";

pub fn main(args: Args) -> Result<()> {
    if !(1..=100_000).contains(&args.slow) {
        bail!("--slow must be from 1 to 100000");
    }
    if args.sockets > 100_000 {
        bail!("--sockets must be at most 100000");
    }
    if !(1..=600).contains(&args.header_timeout) {
        bail!("--header-timeout must be from 1 to 600");
    }
    if !(1..=10_000).contains(&args.connect_concurrency) {
        bail!("--connect-concurrency must be from 1 to 10000");
    }
    crate::server::require_binary(&args.server_bin)?;
    // Before the server is spawned: it inherits the limit (and raises its own to the hard
    // one).
    let wanted = (args.slow + args.sockets) as u64 + SPARE_FILES;
    let files = rlimit::increase_nofile_limit(wanted).context("raising the open-files limit")?;
    let room = usize::try_from(files.saturating_sub(SPARE_FILES)).unwrap_or(usize::MAX);
    if room <= args.sockets {
        bail!(
            "the open-files limit is {files}: no room for {} sockets and slow connections",
            args.sockets
        );
    }
    let slow = args.slow.min(room - args.sockets);
    let runtime = crate::server::load_runtime()?;
    runtime.block_on(database::with_target(&args.database, async |target| {
        run(&args, target, slow, files).await
    }))
}

async fn run(args: &Args, target: &Target, slow: usize, open_files: u64) -> Result<()> {
    let key = crate::chat::seed::chat_key();
    // Room for the whole flood, so what is measured is the timeouts, not the backlog.
    let max_connections = (slow + args.sockets + 256).to_string();
    let header_timeout = args.header_timeout.to_string();
    let env = [
        ("WORKGRAPH_CHAT_KEYS", key.as_str()),
        ("WORKGRAPH_MAX_CONNECTIONS", max_connections.as_str()),
        ("WORKGRAPH_HEADER_TIMEOUT_SECS", header_timeout.as_str()),
    ];
    let server = Server::start_with(&args.server_bin, target.url(), "warn", &env).await?;
    let addr: SocketAddr = format!("127.0.0.1:{}", server.port).parse()?;
    let api = Api::new(&server.base)?;
    let (_, token) = api
        .sign_up("Flood", crate::VIEWER_EMAIL, crate::PASSWORD)
        .await?;
    let workspace = create_workspace(&api, &token).await?;

    // The well-behaved client, on a thread and runtime of its own so the flood's tasks
    // don't delay its clock.
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let client = {
        let base = server.base.clone();
        let token = token.clone();
        std::thread::spawn(move || well_behaved(&base, &token, &workspace, &stopped))
    };
    tokio::time::sleep(QUIET).await;
    let before = server.memory();

    let flood_started = Instant::now();
    let mut peak = before;
    let watch_until = Duration::from_secs(args.header_timeout) + WATCH_BEYOND;
    let mut slow_tasks = JoinSet::new();
    let mut opened = 0usize;
    let mut failed_to_open = 0usize;
    let mut connects = futures_util::stream::iter(0..slow)
        .map(|_| open_slow(addr))
        .buffer_unordered(args.connect_concurrency);
    while let Some(connection) = connects.next().await {
        match connection {
            Ok((stream, at)) => {
                opened += 1;
                slow_tasks.spawn(watch_slow(stream, at, watch_until));
            }
            Err(_) => failed_to_open += 1,
        }
    }
    drop(connects);
    let slow_opened_in = flood_started.elapsed();
    peak = higher(peak, server.memory());

    let ws_url = format!("{}/graphql/ws", server.base.replacen("http", "ws", 1));
    let mut kept = Vec::new();
    let mut sockets = Sockets::default();
    let mut opening = futures_util::stream::iter(0..args.sockets)
        .map(|_| open_socket(&ws_url, &token))
        .buffer_unordered(args.connect_concurrency);
    while let Some(outcome) = opening.next().await {
        match outcome {
            SocketOutcome::Acked(socket) => {
                sockets.acked += 1;
                kept.push(socket);
            }
            SocketOutcome::Closed(code) => *sockets.closed.entry(code).or_default() += 1,
            SocketOutcome::Failed(why) => {
                sockets.failed += 1;
                sockets.failure.get_or_insert(why);
            }
        }
    }
    drop(opening);
    let sockets_opened_in = flood_started.elapsed();
    peak = higher(peak, server.memory());

    let mut closes = Vec::with_capacity(opened);
    let mut never_closed = 0usize;
    let mut sampling = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            joined = slow_tasks.join_next() => match joined {
                Some(Ok(Some(after))) => closes.push(after),
                Some(Ok(None) | Err(_)) => never_closed += 1,
                None => break,
            },
            _ = sampling.tick() => peak = higher(peak, server.memory()),
        }
    }
    peak = higher(peak, server.memory());
    drop(kept);
    let flood_ended = Instant::now();

    let mut after = server.memory();
    let settle_until = Instant::now() + SETTLE;
    while Instant::now() < settle_until {
        tokio::time::sleep(Duration::from_millis(500)).await;
        after = server.memory();
    }
    let _ = stop.send(());
    let samples = match client.join() {
        Ok(samples) => samples?,
        Err(_) => bail!("the well-behaved client panicked"),
    };
    let server_log = server.lines_from(0);
    server.stop();

    let db = Database::connect(target.url()).await?;
    let machine = Machine::describe(&db).await;
    db.close().await?;
    closes.sort_unstable();
    print(&Report {
        machine,
        args,
        open_files,
        slow,
        opened,
        failed_to_open,
        slow_opened_in,
        sockets_opened_in,
        closes: &closes,
        never_closed,
        sockets: &sockets,
        samples: &samples,
        flood: (flood_started, flood_ended),
        memory: [("before", before), ("peak", peak), ("after", after)],
        server_log: &server_log,
    });
    Ok(())
}

fn higher(a: Memory, b: Memory) -> Memory {
    if b.current_kib > a.current_kib { b } else { a }
}

async fn create_workspace(api: &Api, token: &str) -> Result<String> {
    let body = api
        .call(
            Some(token),
            "mutation W($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }",
            json!({ "input": { "name": "Flood" } }),
        )
        .await?;
    body["data"]["createWorkspace"]["id"]
        .as_str()
        .map(str::to_owned)
        .context("createWorkspace gave no id")
}

/// One answer of the well-behaved client: when it was asked, how long it took, and
/// whether it came back whole.
struct Sample {
    at: Instant,
    took: Duration,
    ok: bool,
}

/// Runs the by-id query in a closed loop on one keep-alive connection until `stopped`.
fn well_behaved(
    base: &str,
    token: &str,
    workspace: &str,
    stopped: &std::sync::mpsc::Receiver<()>,
) -> Result<Vec<Sample>> {
    let runtime = crate::server::load_runtime()?;
    runtime.block_on(async {
        let api = Api::new(base)?;
        let mut samples = Vec::new();
        while stopped.try_recv().is_err() {
            let at = Instant::now();
            let answer = api
                .call(Some(token), BY_ID, json!({ "id": workspace }))
                .await;
            let ok = answer.is_ok_and(|body| body["data"]["node"]["id"] == workspace);
            samples.push(Sample {
                at,
                took: at.elapsed(),
                ok,
            });
        }
        Ok(samples)
    })
}

/// Connects and sends [`HALF_HEAD`]; answers when that was done.
async fn open_slow(addr: SocketAddr) -> Result<(TcpStream, Instant)> {
    let mut stream = TcpStream::connect(addr).await?;
    let at = Instant::now();
    stream.write_all(HALF_HEAD).await?;
    Ok((stream, at))
}

/// How long after `opened` the server closed `stream`; `None` if it was still open after
/// `watch_until`.
async fn watch_slow(
    mut stream: TcpStream,
    opened: Instant,
    watch_until: Duration,
) -> Option<Duration> {
    let deadline = tokio::time::Instant::from_std(opened + watch_until);
    let mut buffer = [0; 512];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => return Some(opened.elapsed()),
            // The 408 before the close.
            Ok(Ok(_)) => continue,
            Err(_elapsed) => return None,
        }
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

enum SocketOutcome {
    Acked(Box<Socket>),
    Closed(u16),
    Failed(String),
}

/// How the server answered the flood's sockets.
#[derive(Default)]
struct Sockets {
    acked: usize,
    closed: std::collections::BTreeMap<u16, usize>,
    failed: usize,
    failure: Option<String>,
}

async fn open_socket(ws_url: &str, token: &str) -> SocketOutcome {
    let outcome = tokio::time::timeout(SOCKET_WITHIN, async {
        let mut request = ws_url.into_client_request()?;
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
        let init = json!({
            "type": "connection_init",
            "payload": { "authorization": format!("Bearer {token}") },
        });
        socket.send(Message::text(init.to_string())).await?;
        while let Some(frame) = socket.next().await {
            match frame? {
                Message::Text(text) if text.contains("connection_ack") => {
                    return Ok(SocketOutcome::Acked(Box::new(socket)));
                }
                Message::Close(frame) => {
                    return Ok(SocketOutcome::Closed(
                        frame.map_or(1005, |f| u16::from(f.code)),
                    ));
                }
                _ => {}
            }
        }
        Ok::<_, anyhow::Error>(SocketOutcome::Failed("ended without an answer".into()))
    })
    .await;
    match outcome {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(err)) => SocketOutcome::Failed(format!("{err:#}")),
        Err(_) => SocketOutcome::Failed(format!("no answer within {SOCKET_WITHIN:?}")),
    }
}

struct Report<'a> {
    machine: Machine,
    args: &'a Args,
    open_files: u64,
    slow: usize,
    opened: usize,
    failed_to_open: usize,
    slow_opened_in: Duration,
    sockets_opened_in: Duration,
    /// When the server closed each slow connection, after its half head; sorted.
    closes: &'a [Duration],
    never_closed: usize,
    sockets: &'a Sockets,
    samples: &'a [Sample],
    flood: (Instant, Instant),
    memory: [(&'static str, Memory); 3],
    server_log: &'a [String],
}

fn print(report: &Report<'_>) {
    let args = report.args;
    println!();
    println!(
        "workgraph flood on {}, one server instance",
        report.machine.database
    );
    println!("machine: {}", report.machine.summary());
    println!(
        "open-files limit {}; {} slow connections (of --slow {}), {} WebSockets under one \
         account, header timeout {} s, {} connections opened at once",
        report.open_files,
        report.slow,
        args.slow,
        args.sockets,
        args.header_timeout,
        args.connect_concurrency
    );
    println!();
    let (started, ended) = report.flood;
    let window = |from: Option<Instant>, to: Option<Instant>| {
        let mut took: Vec<Duration> = Vec::new();
        let mut errors = 0usize;
        for sample in report.samples {
            if from.is_some_and(|from| sample.at < from) || to.is_some_and(|to| sample.at >= to) {
                continue;
            }
            if sample.ok {
                took.push(sample.took);
            } else {
                errors += 1;
            }
        }
        took.sort_unstable();
        (took, errors)
    };
    println!(
        "| well-behaved client (by-id query, closed loop) | answers | errors | p50 ms | p99 ms | max ms |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, from, to) in [
        ("before the flood", None, Some(started)),
        ("during the flood", Some(started), Some(ended)),
        ("after the flood", Some(ended), None),
    ] {
        let (took, errors) = window(from, to);
        println!(
            "| {name} | {} | {errors} | {:.2} | {:.2} | {:.2} |",
            took.len(),
            percentile_ms(&took, 0.50),
            percentile_ms(&took, 0.99),
            percentile_ms(&took, 1.0),
        );
    }
    println!();
    let limit = Duration::from_secs(args.header_timeout + 1);
    let late = report.closes.iter().filter(|after| **after > limit).count();
    println!(
        "slow connections: {} opened in {:.1} s ({} failed to open); the server closed {} \
         ({} later than the header timeout + 1 s), {} still open after {} s",
        report.opened,
        report.slow_opened_in.as_secs_f64(),
        report.failed_to_open,
        report.closes.len(),
        late,
        report.never_closed,
        (Duration::from_secs(args.header_timeout) + WATCH_BEYOND).as_secs()
    );
    println!(
        "  closed after their half head: min {:.2} s, p50 {:.2} s, p99 {:.2} s, max {:.2} s",
        percentile_ms(report.closes, 0.0) / 1e3,
        percentile_ms(report.closes, 0.50) / 1e3,
        percentile_ms(report.closes, 0.99) / 1e3,
        percentile_ms(report.closes, 1.0) / 1e3,
    );
    let sockets = report.sockets;
    let closed: Vec<String> = sockets
        .closed
        .iter()
        .map(|(code, n)| format!("{n} closed with {code}"))
        .collect();
    println!(
        "WebSockets (all opened {:.1} s into the flood): {} acknowledged, {}, {} failed{}",
        report.sockets_opened_in.as_secs_f64(),
        sockets.acked,
        if closed.is_empty() {
            "none closed".into()
        } else {
            closed.join(", ")
        },
        sockets.failed,
        sockets
            .failure
            .as_deref()
            .map_or(String::new(), |why| format!(" (first: {why})"))
    );
    println!();
    println!("| server RSS | MiB |");
    println!("|---|---|");
    for (name, memory) in report.memory {
        println!(
            "| {name} | {} |",
            memory
                .current_kib
                .map_or("n/a".into(), |kib| format!("{:.1}", kib as f64 / 1024.0))
        );
    }
    let [(_, before), _, (_, after)] = report.memory;
    if let (Some(before), Some(after)) = (before.current_kib, after.current_kib) {
        println!("after / before: {:.2}", after as f64 / before as f64);
    }
    let errors: Vec<&String> = report
        .server_log
        .iter()
        .filter(|line| line.contains("\"ERROR\"") || line.contains("\"WARN\""))
        .collect();
    println!();
    println!("server log lines at warn or error: {}", errors.len());
    for line in errors.iter().take(5) {
        println!("  {}", crate::report::shorten(line, 200));
    }
}
