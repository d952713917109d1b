//! The soak's printed report: the load by request kind, the writes' fate, the restart, and
//! the checks' verdicts.

use std::collections::BTreeMap;
use std::time::Duration;

use super::check::Check;
use super::client::{Kind, Tally};
use super::{Args, Restart, seed};
use crate::report::{Machine, percentile_ms, shorten};
use crate::seed as dataset;

pub struct Report<'a> {
    pub machine: Machine,
    pub busy_before: Option<f64>,
    pub args: &'a Args,
    /// From the start of the clients to the last one's last answer.
    pub elapsed: Duration,
    pub tallies: &'a [Tally],
    pub restart: Option<&'a Restart>,
    pub peak_rss_kib: Option<u64>,
    pub server_log: &'a [String],
    pub checks: &'a [Check],
}

pub fn print(report: &Report<'_>) {
    let (args, machine) = (report.args, &report.machine);
    let backend = machine
        .database
        .split_whitespace()
        .next()
        .unwrap_or("unknown");
    println!();
    println!(
        "workgraph soak on {}: {} clients, {} s, {} % logTime writes{}",
        machine.database,
        args.clients,
        args.seconds,
        args.writes,
        if args.kill {
            ", the server killed (SIGKILL) and restarted halfway"
        } else {
            ""
        }
    );
    println!("machine: {}", machine.summary());
    if let Some(busy) = report.busy_before {
        println!("CPU busy in the second before the run: {busy:.0} %");
    }
    println!(
        "dataset: {} workspaces × {} projects × {} tasks × {} time logs, {} users; {} client \
         accounts (a user and a session each, a USER of one workspace, member of {} of its projects)",
        dataset::WORKSPACES,
        dataset::PROJECTS,
        dataset::TASKS,
        dataset::LOGS,
        dataset::USERS,
        args.clients,
        seed::PROJECTS_EACH
    );

    println!();
    println!(
        "{:<10} {:>9} {:>9} {:>8} {:>8} {:>7} {:>5} {:>9}",
        "kind", "ok", "req/s", "p50 ms", "p99 ms", "errors", "5xx", "transport"
    );
    let seconds = report.elapsed.as_secs_f64();
    let mut all = Vec::new();
    let (mut all_rejected, mut all_5xx, mut all_transport) = (0, 0, 0);
    let mut transport_by: BTreeMap<&str, usize> = BTreeMap::new();
    for kind in Kind::ALL {
        let mut latencies = Vec::new();
        let (mut rejected, mut server_errors, mut transport) = (0, 0, 0);
        for tally in report.tallies {
            if let Some(k) = tally.kinds.get(&kind) {
                latencies.extend_from_slice(&k.latencies);
                rejected += k.rejected;
                server_errors += k.server_errors.values().sum::<usize>();
                transport += k.transport.values().sum::<usize>();
                for (what, n) in &k.transport {
                    *transport_by.entry(*what).or_default() += n;
                }
            }
        }
        latencies.sort_unstable();
        row(
            kind.name(),
            &latencies,
            seconds,
            rejected,
            server_errors,
            transport,
        );
        all.extend(latencies);
        all_rejected += rejected;
        all_5xx += server_errors;
        all_transport += transport;
    }
    all.sort_unstable();
    row("all", &all, seconds, all_rejected, all_5xx, all_transport);
    println!(
        "ok: HTTP 200 with data and no errors (p50/p99 over those); errors: answered with \
         GraphQL errors or a 4xx; transport: no complete answer"
    );
    if !transport_by.is_empty() {
        let parts: Vec<String> = transport_by
            .iter()
            .map(|(what, n)| format!("{what} {n}"))
            .collect();
        println!("transport errors by step: {}", parts.join(", "));
    }

    let sum = |pick: fn(&Tally) -> usize| report.tallies.iter().map(pick).sum::<usize>();
    let hours = |pick: fn(&Tally) -> &Vec<super::client::Write>| -> i64 {
        report
            .tallies
            .iter()
            .flat_map(|t| pick(t).iter())
            .map(|w| i64::from(w.hours))
            .sum()
    };
    let acknowledged = sum(|t| t.acknowledged.len());
    let unknown = sum(|t| t.unknown.len());
    let not_sent = sum(|t| t.not_sent.len());
    println!(
        "logTime: {acknowledged} acknowledged ({} h), {unknown} unknown (answer lost, {} h), \
         {not_sent} never sent (connection refused), {} answered with errors",
        hours(|t| &t.acknowledged),
        hours(|t| &t.unknown),
        sum(|t| t.rejected.len())
    );
    if let Some(restart) = report.restart {
        println!(
            "restart: SIGKILL at {:.2} s; the new server answered /readyz {:.2} s later; the \
             first request sent after the kill was answered {} after it",
            restart.at.as_secs_f64(),
            restart.ready_after.as_secs_f64(),
            restart
                .first_ok_after
                .map_or("never".into(), |d| format!("{:.2} s", d.as_secs_f64()))
        );
    }
    let mib =
        |kib: Option<u64>| kib.map_or("n/a".into(), |kib| format!("{:.1}", kib as f64 / 1024.0));
    match report.restart {
        Some(restart) => println!(
            "server peak RSS (VmHWM): {} MiB the restarted process, {} MiB the killed one",
            mib(report.peak_rss_kib),
            mib(restart.killed_peak_kib)
        ),
        None => println!("server peak RSS (VmHWM): {} MiB", mib(report.peak_rss_kib)),
    }
    let mut first_errors: BTreeMap<&str, &str> = BTreeMap::new();
    for tally in report.tallies {
        for (sort, text) in &tally.first_errors {
            first_errors.entry(sort).or_insert(text);
        }
    }
    for (sort, text) in first_errors {
        println!("first error, {sort}: {}", shorten(text, 300));
    }
    if !report.server_log.is_empty() {
        println!(
            "the server logged {} lines at warn or above; the first:",
            report.server_log.len()
        );
        for line in report.server_log.iter().take(5) {
            println!("  {}", shorten(line, 300));
        }
    }

    println!();
    println!("checks (the database read directly, after the server has stopped):");
    for check in report.checks {
        println!(
            "  {}  {}",
            if check.passed { "PASS" } else { "FAIL" },
            check.what
        );
    }
    let passed = report.checks.iter().all(|c| c.passed);

    println!();
    println!(
        "{:<10} {:>7} {:>7} {:>6} {:>8} {:>8} {:>8} {:>8} {:>5} {:>9} {:>6} {:>9}",
        "backend",
        "clients",
        "seconds",
        "kill",
        "req/s",
        "acked",
        "unknown",
        "not sent",
        "5xx",
        "transport",
        "checks",
        "peak MiB"
    );
    let peak = report
        .peak_rss_kib
        .into_iter()
        .chain(report.restart.and_then(|r| r.killed_peak_kib))
        .max();
    println!(
        "{:<10} {:>7} {:>7.1} {:>6} {:>8.1} {:>8} {:>8} {:>8} {:>5} {:>9} {:>6} {:>9}",
        backend,
        args.clients,
        seconds,
        if args.kill { "yes" } else { "no" },
        all.len() as f64 / seconds,
        acknowledged,
        unknown,
        not_sent,
        all_5xx,
        all_transport,
        if passed { "PASS" } else { "FAIL" },
        mib(peak)
    );
}

fn row(
    name: &str,
    latencies: &[Duration],
    seconds: f64,
    rejected: usize,
    server_errors: usize,
    transport: usize,
) {
    println!(
        "{:<10} {:>9} {:>9.1} {:>8.2} {:>8.2} {:>7} {:>5} {:>9}",
        name,
        latencies.len(),
        latencies.len() as f64 / seconds,
        percentile_ms(latencies, 0.50),
        percentile_ms(latencies, 0.99),
        rejected,
        server_errors,
        transport
    );
}
