//! The nested-reads benchmark: seeds a 10 × 20 × 25 × 8 tree, starts the release server,
//! drives the four-level query and a by-id query over HTTP, and measures two floors with
//! pgbench. See `bench/README.md`.

mod capture;
mod chat;
mod cpu;
mod database;
mod flood;
mod floors;
mod load;
mod report;
mod seed;
mod server;
mod soak;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use clap::Parser;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};

use crate::capture::Capture;
use crate::database::Target;
use crate::load::{Api, Workload};
use crate::server::Server;

/// Benchmarks of the release server. Without a subcommand: nested reads (seeds a
/// deterministic tree, drives the server over HTTP and measures pgbench floors). Prints
/// tables; exits 0 whatever they say (it measures, it does not judge).
#[derive(Debug, Parser)]
#[command(name = "bench", args_conflicts_with_subcommands = true)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// The server binary to measure (build it with `cargo build --release --bin workgraph`).
    #[arg(long, default_value = SERVER_BIN)]
    server_bin: PathBuf,
    #[command(flatten)]
    database: database::Options,
    /// Length of each measured step, in seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// The numbers of concurrent clients, one step each.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    clients: Vec<usize>,
    /// The pgbench to run the floors with (PostgreSQL only).
    #[arg(long, default_value = "pgbench")]
    pgbench: PathBuf,
    /// Keep the pgbench scripts (and their output) in this directory.
    #[arg(long)]
    scripts_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Chat fan-out: message delivery delay to many WebSocket subscribers, and server RSS.
    Chat(chat::Args),
    /// Flood: slow connections and WebSockets from one account against one server, while
    /// a well-behaved client runs the by-id query: its latency, when the server cut the
    /// abusive connections, and the server's memory before, during and after.
    Flood(flood::Args),
    /// Soak: closed-loop clients mixing reads and `logTime` writes for a minute (optionally
    /// across a SIGKILL of the server), then every acknowledged write checked in the
    /// database. Exits 1 when a check fails.
    Soak(soak::Args),
}

/// Where `cargo build --release` puts the server, relative to the workspace root.
pub const SERVER_BIN: &str = "target/release/workgraph";

const VIEWER_EMAIL: &str = "viewer@bench.test";
const PASSWORD: &str = "correct horse battery";
/// Concurrent pgbench clients, and the step the targets are read at.
pub const TARGET_CLIENTS: usize = 8;

fn main() -> ExitCode {
    match try_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}`: the causes on one line, without the backtrace `Debug` would add.
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn try_main() -> Result<()> {
    let args = Args::parse();
    match args.command {
        Some(Command::Chat(chat)) => return chat::main(chat),
        Some(Command::Soak(soak)) => return soak::main(soak),
        Some(Command::Flood(flood)) => return flood::main(flood),
        None => {}
    }
    if !(args.seconds > 0.0 && args.seconds <= 3600.0) {
        bail!("--seconds must be in (0, 3600]");
    }
    if args.clients.is_empty() || args.clients.iter().any(|&n| n == 0 || n > 1024) {
        bail!("--clients must list numbers from 1 to 1024");
    }
    crate::server::require_binary(&args.server_bin)?;
    let runtime = crate::server::load_runtime()?;
    runtime.block_on(database::with_target(&args.database, async |target| {
        run(&args, target).await
    }))
}

/// What the probe pass learned: statement counts, the statements themselves, answers.
pub struct Probe {
    /// One per workspace, in order.
    pub trees: Vec<TreeProbe>,
    pub one_statements: u64,
    /// Recorded on the wire (PostgreSQL only).
    pub one_wire: Option<Vec<capture::Statement>>,
}

/// One workspace's tree request, made alone.
pub struct TreeProbe {
    pub statements: u64,
    pub wire: Option<Vec<capture::Statement>>,
    pub answer: Value,
}

/// One measured step.
pub struct Measured {
    pub query: &'static str,
    pub step: load::Step,
    pub cpu: cpu::Usage,
}

async fn run(args: &Args, target: &Target) -> Result<()> {
    let busy_before = report::busy_percent().await;
    let started = Instant::now();
    let db = Database::connect(target.url())
        .await
        .with_context(|| format!("cannot connect to {}", database::redact(target.url())))?;
    Migrator::up(&db, None).await.context("migrating")?;
    let counts = seed::seed(&db).await.context("seeding")?;
    if target.is_postgres() {
        // What autovacuum would do within a minute of a real load: plans from real sizes.
        db.execute_unprepared("ANALYZE").await?;
    }
    eprintln!("seeded {counts:?} in {:.1?}", started.elapsed());

    // The load cycles through all ten trees and all 200 projects, each client from its own
    // offset: the server's DataLoader is shared by concurrent requests, and identical keys
    // from requests in flight together are loaded once, which a single hot tree would turn
    // into a measurement of that de-duplication.
    let workspaces: Vec<String> = (0..seed::WORKSPACES)
        .map(|w| seed::workspace_id(w).to_string())
        .collect();
    let projects: Vec<String> = (0..seed::WORKSPACES * seed::PROJECTS)
        .map(|n| seed::project_id(n % seed::WORKSPACES, n / seed::WORKSPACES).to_string())
        .collect();
    let tree = Workload::new("tree", load::TREE, &workspaces);
    let one = Workload::new("by-id", load::ONE, &projects);

    let (probe, token, viewer) = probe(args, target, &db, &workspaces, &projects[0]).await?;
    eprintln!(
        "probe: {:?} statements per tree, {} per by-id",
        probe
            .trees
            .iter()
            .map(|tree| tree.statements)
            .collect::<Vec<_>>(),
        probe.one_statements
    );

    // The server needs a chat key on PostgreSQL (and takes one on SQLite).
    let key = crate::chat::seed::chat_key();
    let env = [("WORKGRAPH_CHAT_KEYS", key.as_str())];
    let server = Server::start_with(&args.server_bin, target.url(), "warn", &env).await?;
    let api = Api::new(&server.base)?;
    let warm_up = Duration::from_secs_f64(args.seconds.min(2.0));
    let window = Duration::from_secs_f64(args.seconds);
    let mut measured = Vec::new();
    for workload in [&tree, &one] {
        // Connections, prepared statements and caches warm before anything counts.
        load::run(&api, &token, workload, TARGET_CLIENTS, warm_up).await?;
        for &clients in &args.clients {
            let before = cpu::Snapshot::now(server.pid(), target.is_postgres());
            let step = load::run(&api, &token, workload, clients, window).await?;
            let cpu = cpu::Snapshot::now(server.pid(), target.is_postgres()).since(&before);
            eprintln!(
                "{} × {clients}: {:.1} req/s, p99 {:.2} ms, {} errors",
                workload.name,
                step.per_second(),
                step.percentile_ms(0.99),
                step.errors
            );
            measured.push(Measured {
                query: workload.name,
                step,
                cpu,
            });
        }
    }
    let peak_rss_kib = server.peak_rss_kib();
    server.stop();

    let floors = if target.is_postgres() {
        Some(run_floors(args, target, &db, &probe, viewer, &workspaces, &projects).await)
    } else {
        None
    };
    let machine = report::Machine::describe(&db).await;
    db.close().await?;
    report::print(&report::Report {
        machine,
        busy_before,
        backend: if target.is_postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        seconds: args.seconds,
        probe: &probe,
        measured: &measured,
        peak_rss_kib,
        floors: floors.as_ref(),
    });
    Ok(())
}

/// Signs the viewer up and makes them an OWNER of every workspace, then counts (and, on
/// PostgreSQL, records) the statements of each workspace's tree request and of one by-id
/// request, one request at a time, on a server that logs its per-request count. Returns
/// the viewer's token and id.
async fn probe(
    args: &Args,
    target: &Target,
    db: &DatabaseConnection,
    workspaces: &[String],
    project: &str,
) -> Result<(Probe, String, uuid::Uuid)> {
    let capture = match target {
        Target::Postgres { url, .. } => Some(Capture::start(database::host_port(url)?)?),
        Target::Sqlite { .. } => None,
    };
    let url = match &capture {
        Some(capture) => database::via_port(target.url(), capture.port)?,
        None => target.url().to_owned(),
    };
    // The release server logs each request's statement count at debug level.
    let key = crate::chat::seed::chat_key();
    let env = [("WORKGRAPH_CHAT_KEYS", key.as_str())];
    let server =
        Server::start_with(&args.server_bin, &url, "warn,server::graphql=debug", &env).await?;
    let api = Api::new(&server.base)?;
    let (viewer, _) = api.sign_up("Bench Viewer", VIEWER_EMAIL, PASSWORD).await?;
    let viewer = uuid::Uuid::parse_str(&viewer)?;
    seed::add_viewer(db, viewer).await?;
    let token = api.log_in(VIEWER_EMAIL, PASSWORD).await?;

    let count = async |query: &str, id: &str| -> Result<(u64, Value, Option<Vec<_>>)> {
        // A first request opens connections and prepares statements; count the second.
        api.call(Some(&token), query, json!({ "id": id })).await?;
        if let Some(capture) = &capture {
            capture.take();
        }
        let mark = server.line_count();
        let answer = api.call(Some(&token), query, json!({ "id": id })).await?;
        let statements = logged_statements(&server, mark).await?;
        Ok((statements, answer, capture.as_ref().map(Capture::take)))
    };
    let mut trees = Vec::new();
    for workspace in workspaces {
        let (statements, answer, wire) = count(load::TREE, workspace).await?;
        load::check_tree(&answer, seed::PROJECTS, seed::TASKS, seed::LOGS)?;
        trees.push(TreeProbe {
            statements,
            wire,
            answer,
        });
    }
    let (one_statements, _, one_wire) = count(load::ONE, project).await?;
    server.stop();
    let probe = Probe {
        trees,
        one_statements,
        one_wire,
    };
    Ok((probe, token, viewer))
}

/// The `sql_statements` field of the first request log line after line `mark`.
async fn logged_statements(server: &Server, mark: usize) -> Result<u64> {
    // The line is written before the answer is sent, but read from the pipe by a thread.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let found = server.lines_from(mark).iter().find_map(|line| {
            let line: Value = serde_json::from_str(line).ok()?;
            line["fields"]["sql_statements"].as_u64()
        });
        if let Some(count) = found {
            return Ok(count);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    bail!("the server logged no `sql_statements` for the request (at server::graphql=debug)")
}

/// The floors, each a result of its own: one failing leaves the others standing.
pub struct Floors {
    pub json_agg: Result<floors::Pgbench>,
    /// The same json_agg scripts with one client: the latency a tree can't beat.
    pub json_agg_one: Result<floors::Pgbench>,
    pub batched: Result<floors::Pgbench>,
    /// One primary-key SELECT of a project (the by-id query's columns) per transaction.
    pub by_id: Result<floors::Pgbench>,
    /// Statements in one workspace's replayed tree request.
    pub batched_statements: usize,
    pub scripts: PathBuf,
}

/// One script per workspace for each floor; pgbench picks one at random per transaction,
/// as the HTTP clients cycle through the trees.
async fn run_floors(
    args: &Args,
    target: &Target,
    db: &DatabaseConnection,
    probe: &Probe,
    viewer: uuid::Uuid,
    workspaces: &[String],
    projects: &[String],
) -> Floors {
    let seconds = args.seconds.ceil() as u64;
    let batched_statements = probe
        .trees
        .first()
        .and_then(|tree| tree.wire.as_ref())
        .map_or(0, Vec::len);
    let dir = match floors::ScriptDir::new(args.scripts_dir.as_deref()) {
        Ok(dir) => dir,
        Err(err) => {
            let why = || anyhow::anyhow!("no script directory: {err}");
            return Floors {
                json_agg: Err(why()),
                json_agg_one: Err(why()),
                batched: Err(why()),
                by_id: Err(why()),
                batched_statements,
                scripts: PathBuf::new(),
            };
        }
    };
    let json_agg_scripts = async {
        let mut scripts = Vec::new();
        for (w, (workspace, tree)) in workspaces.iter().zip(&probe.trees).enumerate() {
            let statement = floors::json_agg_statement(uuid::Uuid::parse_str(workspace)?, viewer);
            floors::check_same_tree(db, &statement, &tree.answer).await?;
            let path = dir.path().join(format!("json_agg_{w}.sql"));
            std::fs::write(&path, format!("{statement};\n"))?;
            scripts.push(path);
        }
        anyhow::Ok(scripts)
    }
    .await;
    let json_agg_at = |clients: usize| {
        let scripts = &json_agg_scripts;
        let dir = &dir;
        async move {
            let scripts = match scripts {
                Ok(scripts) => scripts,
                Err(err) => anyhow::bail!("no json_agg scripts: {err:#}"),
            };
            eprintln!("floor: one json_agg statement, {clients} clients, {seconds} s");
            let out = dir.path().join(format!("json_agg_c{clients}"));
            floors::pgbench(&args.pgbench, target.url(), scripts, &out, seconds, clients).await
        }
    };
    let json_agg = json_agg_at(TARGET_CLIENTS).await;
    let json_agg_one = json_agg_at(1).await;
    let batched = async {
        let mut scripts = Vec::new();
        for (w, tree) in probe.trees.iter().enumerate() {
            let statements = tree.wire.as_deref().unwrap_or_default();
            let path = dir.path().join(format!("batched_{w}.sql"));
            std::fs::write(&path, floors::batched_script(statements)?)?;
            scripts.push(path);
        }
        eprintln!(
            "floor: the {batched_statements} captured statements, {TARGET_CLIENTS} clients, {seconds} s"
        );
        let out = dir.path().join("batched");
        floors::pgbench(&args.pgbench, target.url(), &scripts, &out, seconds, TARGET_CLIENTS).await
    }
    .await;
    let by_id = async {
        let mut scripts = Vec::new();
        for (p, project) in projects.iter().step_by(20).enumerate() {
            let id = uuid::Uuid::parse_str(project)?;
            let path = dir.path().join(format!("by_id_{p}.sql"));
            std::fs::write(
                &path,
                format!("SELECT id, name, deadline FROM projects WHERE id = '{id}';\n"),
            )?;
            scripts.push(path);
        }
        eprintln!("floor: one primary-key SELECT, {TARGET_CLIENTS} clients, {seconds} s");
        let out = dir.path().join("by_id");
        floors::pgbench(
            &args.pgbench,
            target.url(),
            &scripts,
            &out,
            seconds,
            TARGET_CLIENTS,
        )
        .await
    }
    .await;
    Floors {
        json_agg,
        json_agg_one,
        batched,
        by_id,
        batched_statements,
        scripts: match dir {
            floors::ScriptDir::Kept(path) => path,
            floors::ScriptDir::Temporary(_) => PathBuf::new(),
        },
    }
}
