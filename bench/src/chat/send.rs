//! The senders' side: closed loops that send `sendMessage` over HTTP, each its next message
//! when the previous one is answered, and timestamp each answer when its body has arrived.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::Event;

const SEND: &str = "mutation Send($input: SendMessageInput!) { \
    sendMessage(input: $input) { id createdAt } }";

/// No send may hang the run: one slower than this is a failed send.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One message to send: to which subscriber, saying what.
pub struct Planned {
    pub recipient: usize,
    pub content: String,
}

/// What the sender loops share.
pub struct Senders {
    http: reqwest::Client,
    url: String,
    /// The senders' bearer tokens, one loop each.
    tokens: Vec<String>,
    /// The subscribers' emails, by index.
    recipients: Arc<Vec<String>>,
}

impl Senders {
    pub fn new(base: &str, tokens: Vec<String>, recipients: Vec<String>) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        Ok(Self {
            http,
            url: format!("{base}/graphql"),
            tokens,
            recipients: Arc::new(recipients),
        })
    }

    /// Starts one closed loop per sender; together they send every message of `plan` once,
    /// each loop taking the next unsent one, and report each as [`Event::Sent`] or
    /// [`Event::SendFailed`] with its index in `plan`. The set is empty when all are done.
    pub fn spawn(&self, plan: Vec<Planned>, events: &mpsc::UnboundedSender<Event>) -> JoinSet<()> {
        let plan = Arc::new(plan);
        let next = Arc::new(AtomicUsize::new(0));
        let mut loops = JoinSet::new();
        for token in &self.tokens {
            let (plan, next, events) = (Arc::clone(&plan), Arc::clone(&next), events.clone());
            let (http, url, auth) = (
                self.http.clone(),
                self.url.clone(),
                format!("Bearer {token}"),
            );
            let recipients = Arc::clone(&self.recipients);
            loops.spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(message) = plan.get(n) else { break };
                    let email = recipients.get(message.recipient).map_or("", String::as_str);
                    let body = json!({
                        "query": SEND,
                        "variables": { "input": { "recipientEmail": email, "content": message.content } },
                    });
                    let started = Instant::now();
                    let event = match send(&http, &url, &auth, body.to_string()).await {
                        Ok((id, at)) => Event::Sent {
                            n,
                            id,
                            at,
                            took: at - started,
                        },
                        Err(error) => Event::SendFailed { n, error },
                    };
                    if events.send(event).is_err() {
                        break;
                    }
                }
            });
        }
        loops
    }
}

/// One `sendMessage`: the new message's id and the instant its answer had fully arrived.
async fn send(
    http: &reqwest::Client,
    url: &str,
    auth: &str,
    body: String,
) -> Result<(String, Instant), String> {
    let response = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::AUTHORIZATION, auth)
        .body(body)
        .send()
        .await
        .map_err(|err| err.to_string())?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|err| err.to_string())?;
    let at = Instant::now();
    let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    match answer["data"]["sendMessage"]["id"].as_str() {
        Some(id) if status.is_success() && answer.get("errors").is_none() => {
            Ok((id.to_owned(), at))
        }
        _ => {
            let start = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
            Err(format!("HTTP {status}: {start}"))
        }
    }
}
