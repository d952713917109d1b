//! The printed report: the machine, statements per request, the load table, the floors and
//! the targets.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::floors::Pgbench;
use crate::{Floors, Measured, Probe, TARGET_CLIENTS, seed};

/// What the numbers were measured on.
pub struct Machine {
    cores: usize,
    cpu: String,
    memory_gib: Option<f64>,
    /// The database's name and version.
    pub database: String,
}

impl Machine {
    pub async fn describe(db: &DatabaseConnection) -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                let line = info.lines().find(|line| line.starts_with("model name"))?;
                Some(line.split_once(':')?.1.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let memory_gib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|info| {
                let kib: f64 = info
                    .lines()
                    .next()?
                    .split_whitespace()
                    .nth(1)?
                    .parse()
                    .ok()?;
                Some(kib / 1024.0 / 1024.0)
            });
        let backend = db.get_database_backend();
        let sql = match backend {
            DbBackend::Sqlite => "SELECT 'SQLite ' || sqlite_version()",
            _ => "SELECT 'PostgreSQL ' || current_setting('server_version')",
        };
        let database = match db.query_one_raw(Statement::from_string(backend, sql)).await {
            Ok(Some(row)) => row.try_get_by_index(0).unwrap_or_default(),
            _ => String::from("unknown database"),
        };
        Self {
            cores: std::thread::available_parallelism().map_or(0, usize::from),
            cpu,
            memory_gib,
            database,
        }
    }

    /// Cores, CPU and memory, in one line.
    pub fn summary(&self) -> String {
        format!(
            "{} cores ({}), {} RAM; the server, the database and this load generator share it",
            self.cores,
            self.cpu,
            self.memory_gib
                .map_or("unknown".into(), |gib| format!("{gib:.0} GiB")),
        )
    }
}

/// How busy the machine's CPUs were over one second, in %: work already running skews every
/// number the run prints. (The load average would also remember the previous run.)
pub async fn busy_percent() -> Option<f64> {
    // The first line of /proc/stat: total jiffies per state; idle and iowait are idle.
    let sample = || -> Option<(u64, u64)> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let fields: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|field| field.parse().ok())
            .collect();
        let idle = fields.get(3)? + fields.get(4)?;
        Some((fields.iter().sum(), idle))
    };
    let (total_before, idle_before) = sample()?;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let (total, idle) = sample()?;
    let elapsed = total.checked_sub(total_before)?.max(1);
    let busy = elapsed.saturating_sub(idle.checked_sub(idle_before)?);
    Some(busy as f64 / elapsed as f64 * 100.0)
}

pub struct Report<'a> {
    pub machine: Machine,
    /// CPU busy % in the second before the run.
    pub busy_before: Option<f64>,
    pub backend: &'static str,
    pub seconds: f64,
    pub probe: &'a Probe,
    pub measured: &'a [Measured],
    pub peak_rss_kib: Option<u64>,
    pub floors: Option<&'a Floors>,
}

pub fn print(report: &Report<'_>) {
    let machine = &report.machine;
    println!();
    println!(
        "workgraph nested reads on {}, {} s per step",
        machine.database, report.seconds
    );
    println!("machine: {}", machine.summary());
    if let Some(busy) = report.busy_before {
        println!("CPU busy in the second before the run: {busy:.0} %");
    }
    println!(
        "dataset: {} workspaces × {} projects × {} tasks × {} time logs ({} logs), {} users",
        seed::WORKSPACES,
        seed::PROJECTS,
        seed::TASKS,
        seed::LOGS,
        seed::WORKSPACES * seed::PROJECTS * seed::TASKS * seed::LOGS,
        seed::USERS
    );

    let probe = report.probe;
    println!();
    println!("SQL statements per request (the server's counter, one request at a time):");
    // Every tree has the same shape, so one count is expected; differing ones are shown.
    let distinct = |counts: Vec<usize>| {
        let mut counts = counts;
        counts.sort_unstable();
        counts.dedup();
        let text: Vec<String> = counts.iter().map(usize::to_string).collect();
        text.join(" or ")
    };
    let logged = distinct(
        probe
            .trees
            .iter()
            .map(|tree| usize::try_from(tree.statements).unwrap_or(usize::MAX))
            .collect(),
    );
    let wire: Vec<usize> = probe
        .trees
        .iter()
        .filter_map(|tree| tree.wire.as_ref().map(Vec::len))
        .collect();
    let wire = if wire.is_empty() {
        String::new()
    } else {
        format!("; seen on the wire: {}", distinct(wire))
    };
    println!(
        "  tree   {logged:>3}   (each of the {} workspaces{wire})",
        probe.trees.len()
    );
    let one_wire = match &probe.one_wire {
        Some(statements) => format!("   (seen on the wire: {})", statements.len()),
        None => String::new(),
    };
    println!("  by-id  {:>3}{one_wire}", probe.one_statements);
    if let Some(statements) = probe.trees.first().and_then(|tree| tree.wire.as_ref()) {
        println!("  a tree request's statements, in order:");
        for (n, statement) in statements.iter().enumerate() {
            println!("    {}. {}", n + 1, shorten(&statement.sql, 150));
        }
    }

    println!();
    println!(
        "{:<6} {:>7} {:>9} {:>9} {:>8} {:>8} {:>6}   {:>10} {:>10} {:>8}",
        "query",
        "clients",
        "requests",
        "req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "server ms",
        "db ms",
        "bench %"
    );
    for measured in report.measured {
        let step = &measured.step;
        let per_request = |seconds: Option<f64>| match seconds {
            Some(seconds) if step.requests > 0 => {
                format!("{:.2}", seconds * 1e3 / step.requests as f64)
            }
            _ => "n/a".into(),
        };
        let bench = measured.cpu.bench.map_or("n/a".into(), |seconds| {
            format!("{:.0}", seconds / step.elapsed.as_secs_f64() * 100.0)
        });
        println!(
            "{:<6} {:>7} {:>9} {:>9.1} {:>8.2} {:>8.2} {:>6}   {:>10} {:>10} {:>8}",
            measured.query,
            step.clients,
            step.requests,
            step.per_second(),
            step.percentile_ms(0.50),
            step.percentile_ms(0.99),
            step.errors,
            per_request(measured.cpu.server),
            per_request(measured.cpu.postgres),
            bench
        );
    }
    println!(
        "server ms, db ms: CPU time per request of the server process and of all local \
         postgres processes; bench %: this load generator's CPU, in % of one core"
    );
    for measured in report.measured {
        if let Some(error) = &measured.step.first_error {
            println!(
                "first error, {} × {}: {}",
                measured.query,
                measured.step.clients,
                shorten(error, 300)
            );
        }
    }
    match report.peak_rss_kib {
        Some(kib) => println!("server peak RSS (VmHWM): {:.1} MiB", kib as f64 / 1024.0),
        None => println!("server peak RSS: n/a"),
    }

    let Some(floors) = report.floors else {
        println!();
        println!("floors: pgbench runs against PostgreSQL only; targets are read on PostgreSQL");
        return;
    };
    println!();
    println!(
        "floors (pgbench -n -M prepared -c {TARGET_CLIENTS} -j 2 -T {}, loopback):",
        report.seconds.ceil()
    );
    let floor_line = |name: &str, statements: usize, result: &anyhow::Result<Pgbench>| match result
    {
        Ok(bench) => println!(
            "  {name:<34} {statements:>3} stmt/txn   {:>9.1} tps   latency avg {:.2} ms",
            bench.tps, bench.latency_ms
        ),
        Err(err) => println!("  {name:<34} failed: {}", shorten(&format!("{err:#}"), 400)),
    };
    floor_line("one json_agg statement", 1, &floors.json_agg);
    floor_line("  the same, 1 client", 1, &floors.json_agg_one);
    floor_line(
        "the server's statements, replayed",
        floors.batched_statements,
        &floors.batched,
    );
    floor_line("one primary-key SELECT (by-id)", 1, &floors.by_id);
    if !floors.scripts.as_os_str().is_empty() {
        println!("  scripts kept in {}", floors.scripts.display());
    }

    println!();
    println!("targets ({}, {TARGET_CLIENTS} clients):", report.backend);
    let at_target = |query: &str| {
        report
            .measured
            .iter()
            .find(|m| m.query == query && m.step.clients == TARGET_CLIENTS)
            .map(|m| &m.step)
    };
    let verdict = |ok: bool| if ok { "yes" } else { "NO" };
    let tree = at_target("tree").map(crate::load::Step::per_second);
    match (tree, &floors.json_agg) {
        (Some(tree), Ok(floor)) => println!(
            "  tree req/s at least the one-statement floor:  {tree:>8.1} vs {:>8.1} tps   {} ({:.2}×)",
            floor.tps,
            verdict(tree >= floor.tps),
            tree / floor.tps
        ),
        _ => println!("  tree req/s at least the one-statement floor:  n/a"),
    }
    match (tree, &floors.batched) {
        (Some(tree), Ok(floor)) => println!(
            "  tree req/s at least 70 % of batched floor:    {tree:>8.1} vs {:>8.1} tps   {} ({:.0} %)",
            floor.tps * 0.7,
            verdict(tree >= floor.tps * 0.7),
            tree / floor.tps * 100.0
        ),
        _ => println!("  tree req/s at least 70 % of batched floor:    n/a"),
    }
    let one_client = |query: &str| {
        report
            .measured
            .iter()
            .find(|m| m.query == query && m.step.clients == 1)
    };
    match one_client("tree").and_then(|m| Some((m.cpu.server?, m.step.requests))) {
        Some((seconds, requests)) if requests > 0 => {
            let ms = seconds * 1e3 / requests as f64;
            println!(
                "  server CPU per tree at most 3 ms (1 client):  {ms:>8.2} ms                {}",
                verdict(ms <= 3.0)
            );
        }
        _ => println!("  server CPU per tree at most 3 ms (1 client):  n/a"),
    }
    match (one_client("tree"), &floors.json_agg_one) {
        (Some(m), Ok(floor)) => {
            let p50 = m.step.percentile_ms(0.50);
            println!(
                "  tree p50 at most 1.5× floor latency (1 cl.):  {p50:>8.2} vs {:>8.2} ms   {} ({:.2}×)",
                floor.latency_ms,
                verdict(p50 <= 1.5 * floor.latency_ms),
                p50 / floor.latency_ms
            );
        }
        _ => println!("  tree p50 at most 1.5× floor latency (1 cl.):  n/a"),
    }
    println!(
        "  by-id in at most 2 statements:                {:>8}                   {}",
        report.probe.one_statements,
        verdict(report.probe.one_statements <= 2)
    );
    match (at_target("by-id"), &floors.by_id) {
        (Some(step), Ok(floor)) => println!(
            "  by-id req/s beside its floor (no target):     {:>8.1} vs {:>8.1} tps   ({:.0} %)",
            step.per_second(),
            floor.tps,
            step.per_second() / floor.tps * 100.0
        ),
        _ => println!("  by-id req/s beside its floor (no target):     n/a"),
    }
    match report.peak_rss_kib {
        Some(kib) => {
            let mib = kib as f64 / 1024.0;
            println!(
                "  peak RSS under 100 MiB (up to 32 clients):    {mib:>8.1} MiB               {}",
                verdict(mib < 100.0)
            );
        }
        None => println!("  peak RSS under 100 MiB (up to 32 clients):    n/a"),
    }
    let mut counts: Vec<u64> = report
        .probe
        .trees
        .iter()
        .map(|tree| tree.statements)
        .collect();
    counts.sort_unstable();
    counts.dedup();
    println!(
        "  tree statements the same for every workspace: {:>8}                   {}",
        counts
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" or "),
        verdict(counts.len() == 1)
    );
}

/// The first `max` characters of `text` on one line.
pub fn shorten(text: &str, max: usize) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        line
    } else {
        let cut: String = line.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// Nearest-rank percentile of sorted `values`, in milliseconds (`p` from 0 to 1).
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
    sorted[rank - 1].as_secs_f64() * 1e3
}
