//! How slow a cheap authenticated query gets while log-ins are being hashed.
//!
//! The requirement: while 16 log-ins are being hashed, `{ me { id } }` keeps its p99 under
//! 20 ms. Argon2id (19 MiB, t=2, p=1) runs on tokio's blocking pool behind a semaphore so
//! that the async workers stay free; this measures whether they do, end to end over HTTP.
//!
//! The server runs as `main` runs it (a default multi-thread runtime, on its own OS thread)
//! against a fresh, migrated database. The load generator has its own runtime on the main
//! thread (it still shares the cores: on a small machine its CPU is part of the load).
//! Phase A times a closed loop of `me` alone; phase B times the same loop while 16 clients
//! send a correct `logIn` back to back, so 16 log-ins are always in flight (hash-concurrency
//! of them hashing, the rest queued on the semaphore). The last line says whether p99 under
//! load is below 20 ms; it exits 0 either way: a measurement of this machine, not a test.
//!
//! ```sh
//! cargo bench -p server --bench login_latency
//! BENCH_SECONDS=10 WORKGRAPH_HASH_CONCURRENCY=1 cargo bench -p server --bench login_latency
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/wg_bench cargo bench -p server --bench login_latency
//! ```
//!
//! `BENCH_SECONDS` is the length of each phase (default 5). `BENCH_DATABASE_URL` must name an
//! existing, empty PostgreSQL database: it is migrated and keeps the bench's rows afterwards.
//! Without it the database is a temporary SQLite file, removed at the end.

use std::error::Error;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

type BoxError = Box<dyn Error + Send + Sync>;
type Result<T, E = BoxError> = std::result::Result<T, E>;

const PASSWORD: &str = "correct horse battery";
const LOGINS_IN_FLIGHT: usize = 16;
const P99_TARGET_MS: f64 = 20.0;

fn main() -> Result<()> {
    let seconds = match std::env::var("BENCH_SECONDS") {
        Ok(value) => value.parse::<f64>()?,
        Err(_) => 5.0,
    };
    let window = Duration::try_from_secs_f64(seconds)?;
    let cores = thread::available_parallelism().map_or(2, usize::from);
    let hash_concurrency = match std::env::var("WORKGRAPH_HASH_CONCURRENCY") {
        Ok(value) => Some(value.parse::<usize>()?),
        Err(_) => None,
    };
    // Kept alive until the end: dropping it deletes the SQLite file.
    let dir = tempfile::tempdir()?;
    let url = match std::env::var("BENCH_DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        ),
    };
    let backend = url.split(':').next().unwrap_or_default().to_owned();
    let mut config = server::Config::new(url, ([127, 0, 0, 1], 0).into());
    config.hash_concurrency = hash_concurrency;

    let (ready_tx, ready_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = oneshot::channel();
    let server = thread::Builder::new()
        .name("server".into())
        .spawn(move || run_server(config, ready_tx, stop_rx))?;
    let Ok(addr) = ready_rx.recv() else {
        // The server dropped the sender without an address: it failed to start.
        return match server.join() {
            Ok(result) => result.and(Err("the server stopped before listening".into())),
            Err(_) => Err("the server thread panicked".into()),
        };
    };

    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let measured = client.block_on(measure(addr, window));
    let _ = stop_tx.send(());
    let served = server
        .join()
        .map_err(|_| BoxError::from("the server thread panicked"))?;
    let phases = measured?;
    served?;

    println!(
        "machine: {cores} cores, {}; hash concurrency {}; {backend}; {seconds} s per phase",
        cpu_model().unwrap_or_else(|| "unknown CPU".into()),
        hash_concurrency.unwrap_or_else(server::default_hash_concurrency),
    );
    println!(
        "{:<12} {:>8} {:>8} {:>8} {:>8} {:>7} {:>8} {:>10}",
        "phase", "me reqs", "p50 ms", "p99 ms", "max ms", "errors", "log-ins", "log-ins/s"
    );
    for phase in &phases {
        println!(
            "{:<12} {:>8} {:>8.2} {:>8.2} {:>8.2} {:>7} {:>8} {:>10.2}",
            phase.name,
            phase.me.len(),
            ms(percentile(&phase.me, 0.50)),
            ms(percentile(&phase.me, 0.99)),
            ms(phase.me.last().copied().unwrap_or_default()),
            phase.errors,
            phase.logins,
            phase.logins as f64 / seconds,
        );
    }
    if let Some(loaded) = phases.last() {
        let p99 = ms(percentile(&loaded.me, 0.99));
        let verdict = if p99 < P99_TARGET_MS { "yes" } else { "NO" };
        println!(
            "me p99 under {LOGINS_IN_FLIGHT} log-ins < {P99_TARGET_MS} ms: {verdict} ({p99:.2} ms)"
        );
    }
    Ok(())
}

/// Starts the server as `main` does and serves until `stop` fires.
fn run_server(
    config: server::Config,
    ready: mpsc::Sender<SocketAddr>,
    stop: oneshot::Receiver<()>,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let db = server::db::open(&config).await?;
        server::db::migrate(&db).await?;
        let router = server::app(db, &config).await?;
        let listener = TcpListener::bind(config.addr).await?;
        ready.send(listener.local_addr()?)?;
        let connections = server::conn::ConnectionSettings::new(&config);
        server::serve(listener, router, connections, async {
            let _ = stop.await;
        })
        .await?;
        Ok::<(), BoxError>(())
    })
}

#[derive(Default)]
struct Phase {
    name: &'static str,
    /// Sorted, so percentiles are indexes.
    me: Vec<Duration>,
    errors: u64,
    logins: u64,
}

async fn measure(addr: SocketAddr, window: Duration) -> Result<Vec<Phase>> {
    let url = format!("http://{addr}/graphql");
    // Separate clients so the log-ins never hold a connection the `me` loop wants.
    let viewer = reqwest::Client::new();
    let loader = reqwest::Client::new();
    let token = sign_up(&viewer, &url, "viewer@bench.test").await?;
    sign_up(&viewer, &url, "login@bench.test").await?;
    // Connection set-up and first-query costs are not what this measures.
    let warm_up = Instant::now() + Duration::from_millis(200);
    me_loop("warm-up", &viewer, &url, &token, warm_up).await;

    let baseline = me_loop("baseline", &viewer, &url, &token, Instant::now() + window).await;
    let until = Instant::now() + window;
    let loops: Vec<_> = (0..LOGINS_IN_FLIGHT)
        .map(|_| tokio::spawn(login_loop(loader.clone(), url.clone(), until)))
        .collect();
    let mut loaded = me_loop("16 log-ins", &viewer, &url, &token, until).await;
    for handle in loops {
        let (done, failed) = handle.await?;
        loaded.logins += done;
        loaded.errors += failed;
    }
    Ok(vec![baseline, loaded])
}

/// `{ me { id } }` back to back until `until`.
async fn me_loop(
    name: &'static str,
    http: &reqwest::Client,
    url: &str,
    token: &str,
    until: Instant,
) -> Phase {
    let mut phase = Phase {
        name,
        ..Phase::default()
    };
    while Instant::now() < until {
        let started = Instant::now();
        let body = post(http, url, Some(token), "{ me { id } }", json!({})).await;
        let elapsed = started.elapsed();
        match body {
            Ok(body) if body["data"]["me"]["id"].is_string() => phase.me.push(elapsed),
            _ => phase.errors += 1,
        }
    }
    phase.me.sort_unstable();
    phase
}

/// Correct log-ins back to back until `until`: how many finished in time, and failed.
async fn login_loop(http: reqwest::Client, url: String, until: Instant) -> (u64, u64) {
    let (mut done, mut failed) = (0, 0);
    let query = "mutation LogIn($input: LogInInput!) { logIn(input: $input) { token } }";
    let input = json!({ "input": { "email": "login@bench.test", "password": PASSWORD } });
    while Instant::now() < until {
        match post(&http, &url, None, query, input.clone()).await {
            Ok(body) if body["data"]["logIn"]["token"].is_string() => {
                // One still hashing at the deadline finishes outside the window.
                if Instant::now() <= until {
                    done += 1;
                }
            }
            _ => failed += 1,
        }
    }
    (done, failed)
}

async fn sign_up(http: &reqwest::Client, url: &str, email: &str) -> Result<String> {
    let query = "mutation SignUp($input: SignUpInput!) { signUp(input: $input) { token } }";
    let input = json!({ "input": { "name": "bench", "email": email, "password": PASSWORD } });
    let body = post(http, url, None, query, input).await?;
    match body["data"]["signUp"]["token"].as_str() {
        Some(token) => Ok(token.to_owned()),
        None => Err(format!("signUp {email} failed: {body}").into()),
    }
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Result<Value> {
    let mut request = http
        .post(url)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    Ok(request.send().await?.json().await?)
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.clamp(1, sorted.len().max(1)) - 1)
        .copied()
        .unwrap_or_default()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = info.lines().find(|line| line.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_owned())
}
