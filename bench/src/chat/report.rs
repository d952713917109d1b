//! The chat benchmark's tally and printed report.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use super::{Args, Phase, WARM_UP, WarmUp};
use crate::cpu;
use crate::report::{Machine, percentile_ms, shorten};
use crate::server::Memory;

pub struct Report<'a> {
    pub machine: Machine,
    /// CPU busy % in the second before the run.
    pub busy_before: Option<f64>,
    pub args: &'a Args,
    pub open_files: u64,
    /// Opening, initialising and subscribing every connection.
    pub opened_in: Duration,
    pub warm_up: &'a WarmUp,
    /// The measured phase's plan: recipient and content of each message.
    pub plan: &'a [(usize, String)],
    pub phase: &'a Phase,
    /// Over the measured phase.
    pub cpu: cpu::Usage,
    /// Everything the server logged (at `warn` and above).
    pub server_log: &'a [String],
    pub memory: [(&'static str, Memory); 4],
}

/// What the measured phase comes to.
#[derive(Default)]
struct Tally {
    sent: usize,
    /// To the right subscriber with the right content.
    delivered: usize,
    /// Sent and never delivered to anyone.
    lost: usize,
    /// Delivered to another subscriber, or with other content.
    wrong: usize,
    /// Delivered before the answer to `sendMessage` had arrived (delay counted as 0).
    early: usize,
    /// Deliveries of a message id already delivered.
    duplicates: usize,
    /// Deliveries of ids nobody sent in this phase (not counting late warm-up messages).
    unexpected: usize,
    late_warm_up: usize,
    /// Sorted.
    delays: Vec<Duration>,
    /// Sorted: from the start of the `sendMessage` request to the delivery.
    end_to_end: Vec<Duration>,
    /// Sorted: how long each successful `sendMessage` took.
    sends: Vec<Duration>,
    /// From the phase's start to the last answer.
    sending: Duration,
}

fn tally(plan: &[(usize, String)], phase: &Phase) -> Tally {
    let mut tally = Tally::default();
    let mut first: HashMap<&str, (usize, &str, Instant)> = HashMap::new();
    for (subscriber, id, content, at) in &phase.deliveries {
        if content.starts_with(WARM_UP) {
            tally.late_warm_up += 1;
        } else if first
            .insert(id.as_str(), (*subscriber, content.as_str(), *at))
            .is_some()
        {
            tally.duplicates += 1;
        }
    }
    let mut sent_ids = HashSet::new();
    let mut last_answer = phase.started;
    for (n, slot) in phase.sent.iter().enumerate() {
        let Some((id, answered, took)) = slot else {
            continue;
        };
        tally.sent += 1;
        tally.sends.push(*took);
        last_answer = last_answer.max(*answered);
        sent_ids.insert(id.as_str());
        let Some(&(subscriber, content, at)) = first.get(id.as_str()) else {
            tally.lost += 1;
            continue;
        };
        let expected = plan.get(n).map(|(to, text)| (*to, text.as_str()));
        if expected != Some((subscriber, content)) {
            tally.wrong += 1;
            continue;
        }
        tally.delivered += 1;
        if at < *answered {
            tally.early += 1;
        }
        tally.delays.push(at.saturating_duration_since(*answered));
        tally
            .end_to_end
            .push(at.saturating_duration_since(*answered - *took));
    }
    tally.unexpected = first.keys().filter(|id| !sent_ids.contains(*id)).count();
    tally.delays.sort_unstable();
    tally.end_to_end.sort_unstable();
    tally.sends.sort_unstable();
    tally.sending = last_answer - phase.started;
    tally
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("n/a".into(), |kib| format!("{:.1}", kib as f64 / 1024.0))
}

pub fn print(report: &Report<'_>) {
    let (args, machine, phase) = (report.args, &report.machine, report.phase);
    let tally = tally(report.plan, phase);
    println!();
    println!(
        "workgraph chat fan-out on {}, one server instance",
        machine.database
    );
    println!("machine: {}", machine.summary());
    if let Some(busy) = report.busy_before {
        println!("CPU busy in the second before the run: {busy:.0} %");
    }
    println!(
        "{} subscribers (a user and a graphql-transport-ws connection each), {} senders \
         (closed loops over HTTP), {} messages round-robin; open-files limit {}",
        args.subscribers, args.senders, args.messages, report.open_files
    );
    println!(
        "subscribing: {} connections opened, initialised and subscribed in {:.1} s ({} at a time)",
        args.subscribers,
        report.opened_in.as_secs_f64(),
        args.connect_concurrency
    );
    println!(
        "warm-up: {} of {} subscriptions delivered a first message, {:.1} s after the first send",
        report.warm_up.live,
        args.subscribers,
        report.warm_up.took.as_secs_f64()
    );

    println!();
    println!(
        "{:>8} {:>6} {:>6} {:>9} {:>5} {:>5} {:>5}   {:>7} {:>7} {:>7}   {:>8} {:>7} {:>7}   {:>6} {:>6}",
        "messages",
        "sent",
        "failed",
        "delivered",
        "lost",
        "wrong",
        "early",
        "p50 ms",
        "p99 ms",
        "max ms",
        "sends/s",
        "send50",
        "send99",
        "e2e50",
        "e2e99",
    );
    println!(
        "{:>8} {:>6} {:>6} {:>9} {:>5} {:>5} {:>5}   {:>7.2} {:>7.2} {:>7.2}   {:>8.1} {:>7.2} {:>7.2}   {:>6.2} {:>6.2}",
        args.messages,
        tally.sent,
        phase.failed_sends,
        tally.delivered,
        tally.lost,
        tally.wrong,
        tally.early,
        percentile_ms(&tally.delays, 0.50),
        percentile_ms(&tally.delays, 0.99),
        percentile_ms(&tally.delays, 1.0),
        tally.sent as f64 / tally.sending.as_secs_f64().max(1e-9),
        percentile_ms(&tally.sends, 0.50),
        percentile_ms(&tally.sends, 0.99),
        percentile_ms(&tally.end_to_end, 0.50),
        percentile_ms(&tally.end_to_end, 0.99),
    );
    println!(
        "p50/p99/max: delay from the moment sendMessage's HTTP answer had arrived to the \
         moment the `next` frame was read on the recipient's socket"
    );
    println!(
        "early: delivered before the answer (counted as 0 ms); lost: not delivered {} s after \
         the last send",
        args.grace
    );
    println!(
        "send50/99: sendMessage round trip, ms; e2e50/99: from the start of the sendMessage \
         request to the delivery, ms"
    );
    let per_message = |seconds: Option<f64>| match seconds {
        Some(seconds) if tally.sent > 0 => format!("{:.2} ms", seconds * 1e3 / tally.sent as f64),
        _ => "n/a".into(),
    };
    println!(
        "CPU per message sent: server {}, postgres {}; this load generator: {} of one core \
         over the {:.1} s phase",
        per_message(report.cpu.server),
        per_message(report.cpu.postgres),
        report.cpu.bench.map_or("n/a".into(), |seconds| format!(
            "{:.0} %",
            seconds / phase.took.as_secs_f64().max(1e-9) * 100.0
        )),
        phase.took.as_secs_f64(),
    );
    if phase.cut {
        println!(
            "the phase was cut off after {:.0} s",
            super::PHASE_LIMIT.as_secs_f64()
        );
    }
    let first = |what: &str, count: usize, text: Option<&str>| match text {
        _ if count == 0 => {}
        Some(text) => println!("{what}: {count}; the first: {}", shorten(text, 300)),
        None => println!("{what}: {count}"),
    };
    first(
        "failed sends",
        phase.failed_sends,
        phase.first_failure.as_deref(),
    );
    let ended = phase
        .ended
        .first()
        .map(|(n, why)| format!("subscriber {n}: {why}"));
    first("subscriptions ended", phase.ended.len(), ended.as_deref());
    let odd = phase
        .odd
        .first()
        .map(|(n, text)| format!("subscriber {n}: {text}"));
    first("unexpected frames", phase.odd.len(), odd.as_deref());
    first("duplicate deliveries", tally.duplicates, None);
    first("deliveries of ids not sent", tally.unexpected, None);
    first("late warm-up deliveries", tally.late_warm_up, None);
    first(
        "server log lines (RUST_LOG=warn)",
        report.server_log.len(),
        report.server_log.first().map(String::as_str),
    );

    println!();
    println!("server memory                VmHWM MiB   VmRSS MiB");
    for (when, memory) in &report.memory {
        println!(
            "  {when:<27} {:>9} {:>11}",
            mib(memory.peak_kib),
            mib(memory.current_kib)
        );
    }
}
