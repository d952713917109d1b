//! One soak client: a closed loop (its next request when the last is answered) mixing the
//! three reads and `logTime`, as its own user, tallying every answer by what it proves.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use uuid::Uuid;

use super::seed::Account;
use crate::load;

/// The request kinds, in the order the report lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Tree,
    ById,
    Report,
    LogTime,
}

impl Kind {
    pub const ALL: [Self; 4] = [Self::Tree, Self::ById, Self::Report, Self::LogTime];

    pub fn name(self) -> &'static str {
        match self {
            Self::Tree => "tree",
            Self::ById => "by-id",
            Self::Report => "timeReport",
            Self::LogTime => "logTime",
        }
    }
}

const WRITE: &str = "mutation Log($input: LogTimeInput!) { logTime(input: $input) { id hours } }";
const REPORT: &str = "query Report($id: ID!) { timeReport(workspaceId: $id, groupBy: [PROJECT]) \
    { hours project { id } } }";

/// How long a client waits after a transport error before its next request: without it,
/// 32 clients would spin on `connection refused` while a killed server restarts, and take
/// the CPU the restart needs.
const BACKOFF: Duration = Duration::from_millis(50);

/// One `logTime` the client sent: the id it chose and what it logged.
#[derive(Clone, Copy, Debug)]
pub struct Write {
    pub id: Uuid,
    pub task: Uuid,
    pub hours: i32,
}

/// What happened to the requests of one kind.
#[derive(Default)]
pub struct KindTally {
    /// Of the successful requests (HTTP 200 with data and no `errors`).
    pub latencies: Vec<Duration>,
    /// Answered with `errors`, or with a 4xx status.
    pub rejected: usize,
    /// Answered with a 5xx status, by status.
    pub server_errors: BTreeMap<u16, usize>,
    /// No complete answer, by kind of failure (`connect`, `timeout`, `request`, `body`, …).
    pub transport: BTreeMap<&'static str, usize>,
}

/// Everything one client saw.
#[derive(Default)]
pub struct Tally {
    pub kinds: BTreeMap<Kind, KindTally>,
    /// `logTime`s answered with the log the client sent.
    pub acknowledged: Vec<Write>,
    /// `logTime`s whose answer was lost (a transport error once connected, a timeout, or
    /// a 5xx): each may or may not be in the database.
    pub unknown: Vec<Write>,
    /// `logTime`s that never left: the connection was refused.
    pub not_sent: Vec<Write>,
    /// `logTime`s answered with `errors` (or a 4xx): none may be in the database.
    pub rejected: Vec<Write>,
    /// `logTime`s answered with a log other than the one sent.
    pub mismatched: Vec<(Write, String)>,
    /// The first failure of each sort, for the report.
    pub first_errors: BTreeMap<String, String>,
    /// When the first request sent after the kill was answered successfully.
    pub first_ok_after_kill: Option<Instant>,
}

/// What a client needs besides its account.
pub struct Shared {
    pub http: reqwest::Client,
    pub url: String,
    pub deadline: Instant,
    /// In %, of all requests.
    pub write_percent: u32,
    /// Set by the run when it kills the server.
    pub killed_at: Arc<OnceLock<Instant>>,
}

/// Runs client `n` until the deadline; no request starts after it, and the last one is
/// tallied however late it is answered.
pub async fn run(n: usize, account: &Account, shared: &Shared) -> Tally {
    let mut tally = Tally::default();
    let mut rng = XorShift::new(n as u64);
    let auth = format!("Bearer {}", account.token);
    let workspace = account.workspace.to_string();
    let tree = json!({ "query": load::TREE, "variables": { "id": workspace } }).to_string();
    let report = json!({ "query": REPORT, "variables": { "id": workspace } }).to_string();
    let by_id: Vec<String> = account
        .projects
        .iter()
        .map(|p| json!({ "query": load::ONE, "variables": { "id": p.to_string() } }).to_string())
        .collect();
    let mut sent_count = 0usize;
    while Instant::now() < shared.deadline {
        let draw = rng.draw() % 100;
        let kind = if draw < u64::from(shared.write_percent) {
            Kind::LogTime
        } else {
            // The reads in 2 : 3 : 2.
            match rng.draw() % 7 {
                0 | 1 => Kind::Tree,
                2..=4 => Kind::ById,
                _ => Kind::Report,
            }
        };
        let write = (kind == Kind::LogTime).then(|| Write {
            id: Uuid::now_v7(),
            task: account.tasks[sent_count % account.tasks.len()],
            hours: 1 + (rng.draw() % 8) as i32,
        });
        let body = match (kind, &write) {
            (Kind::Tree, _) => tree.clone(),
            (Kind::ById, _) => by_id[sent_count % by_id.len()].clone(),
            (Kind::Report, _) => report.clone(),
            (Kind::LogTime, Some(write)) => json!({
                "query": WRITE,
                "variables": { "input": {
                    "id": write.id.to_string(),
                    "taskId": write.task.to_string(),
                    "hours": write.hours,
                    "description": format!("soak client {n}, write {sent_count}"),
                } }
            })
            .to_string(),
            (Kind::LogTime, None) => continue,
        };
        sent_count += 1;
        let sent = Instant::now();
        let answer = send(&shared.http, &shared.url, &auth, body).await;
        let took = sent.elapsed();
        let mut failure = None;
        match answer {
            Answer::Ok(body) => {
                let mismatch = write.and_then(|write| {
                    let log = &body["data"]["logTime"];
                    let id = log["id"].as_str().and_then(|id| Uuid::parse_str(id).ok());
                    let hours = log["hours"].as_i64();
                    if id == Some(write.id) && hours == Some(i64::from(write.hours)) {
                        tally.acknowledged.push(write);
                        None
                    } else {
                        Some((write, body.to_string()))
                    }
                });
                if let Some(mismatch) = mismatch {
                    failure = Some(("logTime answered with another log", mismatch.1.clone()));
                    tally.mismatched.push(mismatch);
                } else {
                    tally.kinds.entry(kind).or_default().latencies.push(took);
                    if let Some(killed_at) = shared.killed_at.get()
                        && sent >= *killed_at
                        && tally.first_ok_after_kill.is_none()
                    {
                        tally.first_ok_after_kill = Some(Instant::now());
                    }
                }
            }
            Answer::Rejected(text) => {
                tally.kinds.entry(kind).or_default().rejected += 1;
                tally.rejected.extend(write);
                failure = Some(("answered with errors", text));
            }
            Answer::ServerError(status, text) => {
                let kind_tally = tally.kinds.entry(kind).or_default();
                *kind_tally.server_errors.entry(status).or_default() += 1;
                tally.unknown.extend(write);
                failure = Some(("5xx", text));
            }
            Answer::Transport(what, text) => {
                let kind_tally = tally.kinds.entry(kind).or_default();
                *kind_tally.transport.entry(what).or_default() += 1;
                if what == "connect" {
                    tally.not_sent.extend(write);
                } else {
                    tally.unknown.extend(write);
                }
                failure = Some((what, text));
                tokio::time::sleep(BACKOFF).await;
            }
        }
        if let Some((sort, text)) = failure {
            tally
                .first_errors
                .entry(format!("{} {sort}", kind.name()))
                .or_insert(text);
        }
    }
    tally
}

/// One request's outcome.
enum Answer {
    /// HTTP 200 with `data` and without `errors`.
    Ok(Value),
    /// `errors` in the answer, a 4xx, or a 200 that is not a GraphQL answer.
    Rejected(String),
    ServerError(u16, String),
    /// No complete answer: what failed, and the error.
    Transport(&'static str, String),
}

async fn send(http: &reqwest::Client, url: &str, auth: &str, body: String) -> Answer {
    let response = match http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::AUTHORIZATION, auth)
        .body(body)
        .send()
        .await
    {
        Ok(response) => response,
        Err(err) => return Answer::Transport(transport_kind(&err), error_chain(&err)),
    };
    let status = response.status();
    let bytes = match response.bytes().await {
        Ok(bytes) => bytes,
        Err(err) => return Answer::Transport(transport_kind(&err), error_chain(&err)),
    };
    let text = || String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
    if status.is_server_error() {
        return Answer::ServerError(status.as_u16(), format!("HTTP {status}: {}", text()));
    }
    if !status.is_success() {
        return Answer::Rejected(format!("HTTP {status}: {}", text()));
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(body) if body.get("errors").is_none() && body["data"].is_object() => Answer::Ok(body),
        _ => Answer::Rejected(format!("HTTP {status}: {}", text())),
    }
}

/// Which step of the request failed. Only `connect` proves the request never reached the
/// server; after that, the server may have acted on it whatever the client saw.
fn transport_kind(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        "connect"
    } else if err.is_body() || err.is_decode() {
        "body"
    } else if err.is_request() {
        "request"
    } else {
        "other"
    }
}

/// The error and its causes on one line (reqwest's own message names only the URL).
fn error_chain(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A small, seeded generator for the mix: each client draws the same sequence on every run.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        // Never zero, and clients' sequences apart from the first draw.
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn draw(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}
