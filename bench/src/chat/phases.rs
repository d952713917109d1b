//! The two phases of the chat run: the warm-up, which proves every subscription live, and
//! the measured phase, which records every send and every delivery as it happens.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use tokio::sync::mpsc;

use super::send::{self, Planned, Senders};
use super::{Event, PHASE_LIMIT, WARM_UP, WARM_UP_GRACE};

/// What the warm-up showed.
pub struct WarmUp {
    /// Subscriptions that received their warm-up message.
    pub live: usize,
    /// From the first warm-up send until the last subscription was live (or gave up).
    pub took: Duration,
    pub failed_sends: usize,
    pub first_failure: Option<String>,
}

/// Sends one message to each subscriber and waits until every subscription has delivered
/// one (a subscription is live only then: `subscribe` is not acknowledged), at most
/// [`WARM_UP_GRACE`] after the last send answered. Then lets the senders finish and drops
/// the phase's leftover events.
pub async fn warm_up(
    senders: &Senders,
    plan: Vec<Planned>,
    events_tx: &mpsc::UnboundedSender<Event>,
    events: &mut mpsc::UnboundedReceiver<Event>,
    subscribers: usize,
) -> Result<WarmUp> {
    let started = Instant::now();
    let mut loops = senders.spawn(plan, events_tx);
    let mut live = vec![false; subscribers];
    let mut outcome = WarmUp {
        live: 0,
        took: Duration::ZERO,
        failed_sends: 0,
        first_failure: None,
    };
    let mut deadline = started + PHASE_LIMIT;
    while outcome.live < subscribers {
        tokio::select! {
            event = events.recv() => match event {
                Some(Event::Delivered { subscriber, .. }) => {
                    if let Some(seen) = live.get_mut(subscriber)
                        && !*seen
                    {
                        *seen = true;
                        outcome.live += 1;
                    }
                }
                Some(Event::SendFailed { n, error }) => {
                    outcome.failed_sends += 1;
                    outcome.first_failure.get_or_insert(format!("message {n}: {error}"));
                }
                Some(Event::Ended { subscriber, why }) => {
                    eprintln!("warm-up: subscriber {subscriber} ended: {why}");
                }
                Some(Event::Odd { subscriber, text }) => {
                    eprintln!("warm-up: subscriber {subscriber} sent {text}");
                }
                Some(Event::Sent { .. }) => {}
                None => bail!("every event sender is gone"),
            },
            joined = loops.join_next(), if !loops.is_empty() => {
                joined.transpose().context("a sender loop panicked")?;
                if loops.is_empty() {
                    deadline = deadline.min(Instant::now() + WARM_UP_GRACE);
                }
            }
            () = tokio::time::sleep_until(deadline.into()) => break,
        }
    }
    outcome.took = started.elapsed();
    // The last answers may still be on their way (a delivery can beat its answer).
    let finished = tokio::time::timeout(send::REQUEST_TIMEOUT, async {
        while loops.join_next().await.is_some() {}
    })
    .await;
    if finished.is_err() {
        loops.abort_all();
    }
    while events.try_recv().is_ok() {}
    if outcome.failed_sends > 0 {
        bail!(
            "{} of the warm-up sends failed; the first: {}",
            outcome.failed_sends,
            outcome.first_failure.as_deref().unwrap_or_default()
        );
    }
    Ok(outcome)
}

/// Everything the measured phase recorded, as it came.
pub struct Phase {
    pub started: Instant,
    /// From the first send until every message was delivered or the grace ran out.
    pub took: Duration,
    /// By plan index: the message id, when its answer arrived and how long the send took.
    pub sent: Vec<Option<(String, Instant, Duration)>>,
    pub failed_sends: usize,
    pub first_failure: Option<String>,
    pub deliveries: Vec<(usize, String, String, Instant)>,
    pub ended: Vec<(usize, String)>,
    pub odd: Vec<(usize, String)>,
    /// The phase hit [`PHASE_LIMIT`] before the senders were done.
    pub cut: bool,
}

/// The senders send the plan; every event is recorded until all sent messages have been
/// delivered, or `grace` after the last send was answered.
pub async fn measure(
    senders: &Senders,
    plan: Vec<Planned>,
    events_tx: &mpsc::UnboundedSender<Event>,
    events: &mut mpsc::UnboundedReceiver<Event>,
    grace: Duration,
) -> Result<Phase> {
    let started = Instant::now();
    let phase = Phase {
        started,
        took: Duration::ZERO,
        sent: (0..plan.len()).map(|_| None).collect(),
        failed_sends: 0,
        first_failure: None,
        deliveries: Vec::new(),
        ended: Vec::new(),
        odd: Vec::new(),
        cut: false,
    };
    let mut loops = senders.spawn(plan, events_tx);
    let mut book = Book {
        phase,
        pending: HashSet::new(),
        early: HashSet::new(),
    };
    let mut deadline = started + PHASE_LIMIT;
    loop {
        if loops.is_empty() {
            // A loop's last `Sent` is queued before the loop ends, but may not have been
            // read yet when its end is seen: read everything queued before judging.
            while let Ok(event) = events.try_recv() {
                book.record(event);
            }
            if book.pending.is_empty() {
                break;
            }
        }
        tokio::select! {
            event = events.recv() => match event {
                Some(event) => book.record(event),
                None => bail!("every event sender is gone"),
            },
            joined = loops.join_next(), if !loops.is_empty() => {
                joined.transpose().context("a sender loop panicked")?;
                if loops.is_empty() {
                    deadline = deadline.min(Instant::now() + grace);
                }
            }
            () = tokio::time::sleep_until(deadline.into()) => {
                book.phase.cut = !loops.is_empty();
                loops.abort_all();
                break;
            }
        }
    }
    let mut phase = book.phase;
    phase.took = started.elapsed();
    Ok(phase)
}

/// The measured phase's record as it is being written.
struct Book {
    phase: Phase,
    /// Ids sent and not yet delivered.
    pending: HashSet<String>,
    /// Ids delivered before their sender's answer was read.
    early: HashSet<String>,
}

impl Book {
    fn record(&mut self, event: Event) {
        let phase = &mut self.phase;
        match event {
            Event::Sent { n, id, at, took } => {
                if !self.early.remove(&id) {
                    self.pending.insert(id.clone());
                }
                if let Some(slot) = phase.sent.get_mut(n) {
                    *slot = Some((id, at, took));
                }
            }
            Event::Delivered {
                subscriber,
                id,
                content,
                at,
            } => {
                if !self.pending.remove(&id) && !content.starts_with(WARM_UP) {
                    self.early.insert(id.clone());
                }
                phase.deliveries.push((subscriber, id, content, at));
            }
            Event::SendFailed { n, error } => {
                phase.failed_sends += 1;
                phase
                    .first_failure
                    .get_or_insert(format!("message {n}: {error}"));
            }
            Event::Ended { subscriber, why } => phase.ended.push((subscriber, why)),
            Event::Odd { subscriber, text } => phase.odd.push((subscriber, text)),
        }
    }
}
