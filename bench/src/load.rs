//! GraphQL over HTTP: the account calls, and closed-loop clients that send one query back to
//! back for a fixed time.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};

/// The nested read: one workspace's 20 projects × 25 tasks × 8 time logs.
pub const TREE: &str = "query Tree($id: ID!) { workspace(id: $id) { projects(first: 20) { nodes { \
    id name tasks(first: 25) { nodes { id name status timeLogs(first: 8) { nodes { \
    id hours loggedAt } } } } } } } }";

/// The small read: one project by id.
pub const ONE: &str = "query One($id: ID!) { project(id: $id) { id name deadline } }";

/// No request may hang a step: one slower than this counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A GraphQL endpoint and an HTTP client for it (its connection pool is shared by every
/// client loop, so each loop keeps one connection open).
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    url: String,
}

impl Api {
    pub fn new(base: &str) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        Ok(Self {
            http,
            url: format!("{base}/graphql"),
        })
    }

    /// Sends one operation; an answer with `errors` is an error.
    pub async fn call(&self, token: Option<&str>, query: &str, variables: Value) -> Result<Value> {
        let mut request = self
            .http
            .post(&self.url)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let body: Value = request.send().await?.json().await?;
        if body.get("errors").is_some() {
            bail!("the server answered with errors: {body}");
        }
        Ok(body)
    }

    /// Signs up; returns the new user's id and token.
    pub async fn sign_up(
        &self,
        name: &str,
        email: &str,
        password: &str,
    ) -> Result<(String, String)> {
        let query =
            "mutation SignUp($input: SignUpInput!) { signUp(input: $input) { token user { id } } }";
        let input = json!({ "input": { "name": name, "email": email, "password": password } });
        let body = self.call(None, query, input).await.context("signUp")?;
        let payload = &body["data"]["signUp"];
        match (payload["user"]["id"].as_str(), payload["token"].as_str()) {
            (Some(id), Some(token)) => Ok((id.to_owned(), token.to_owned())),
            _ => bail!("signUp answered without an id and token: {body}"),
        }
    }

    /// Logs in; returns a session token.
    pub async fn log_in(&self, email: &str, password: &str) -> Result<String> {
        let query = "mutation LogIn($input: LogInInput!) { logIn(input: $input) { token } }";
        let input = json!({ "input": { "email": email, "password": password } });
        let body = self.call(None, query, input).await.context("logIn")?;
        match body["data"]["logIn"]["token"].as_str() {
            Some(token) => Ok(token.to_owned()),
            None => bail!("logIn answered without a token: {body}"),
        }
    }
}

/// One query with the variable sets its clients cycle through.
pub struct Workload {
    pub name: &'static str,
    /// Request bodies, serialised once so the clients spend no time on it.
    bodies: Vec<String>,
}

impl Workload {
    pub fn new(name: &'static str, query: &str, ids: &[String]) -> Self {
        let bodies = ids
            .iter()
            .map(|id| json!({ "query": query, "variables": { "id": id } }).to_string())
            .collect();
        Self { name, bodies }
    }
}

/// What one step measured.
pub struct Step {
    pub clients: usize,
    pub requests: usize,
    pub errors: usize,
    /// From the start until the last client's last answer.
    pub elapsed: Duration,
    /// Of the successful requests, sorted.
    pub latencies: Vec<Duration>,
    pub first_error: Option<String>,
}

impl Step {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// Nearest-rank percentile, in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        let n = self.latencies.len();
        if n == 0 {
            return f64::NAN;
        }
        let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
        self.latencies[rank - 1].as_secs_f64() * 1e3
    }
}

/// `clients` closed loops (each sends its next request when the last is answered) for
/// `duration`. A request counts if it is answered, even after the deadline; none starts
/// after it.
pub async fn run(
    api: &Api,
    token: &str,
    workload: &Workload,
    clients: usize,
    duration: Duration,
) -> Result<Step> {
    let started = Instant::now();
    let deadline = started + duration;
    let loops: Vec<_> = (0..clients)
        .map(|client| {
            let http = api.http.clone();
            let url = api.url.clone();
            let auth = format!("Bearer {token}");
            // Each client starts at its own variable set, so concurrent requests differ.
            let bodies: Vec<String> = workload
                .bodies
                .iter()
                .cycle()
                .skip(client)
                .take(workload.bodies.len())
                .cloned()
                .collect();
            tokio::spawn(async move {
                let mut outcome = Outcome::default();
                for body in bodies.iter().cycle() {
                    if Instant::now() >= deadline {
                        break;
                    }
                    let sent = Instant::now();
                    match send(&http, &url, &auth, body.clone()).await {
                        Ok(()) => outcome.latencies.push(sent.elapsed()),
                        Err(err) => {
                            outcome.errors += 1;
                            outcome.first_error.get_or_insert(err);
                        }
                    }
                }
                outcome
            })
        })
        .collect();
    let mut step = Step {
        clients,
        requests: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        first_error: None,
    };
    for handle in loops {
        let outcome = handle.await.context("a client loop panicked")?;
        step.latencies.extend(outcome.latencies);
        step.errors += outcome.errors;
        if step.first_error.is_none() {
            step.first_error = outcome.first_error;
        }
    }
    step.elapsed = started.elapsed();
    step.requests = step.latencies.len();
    step.latencies.sort_unstable();
    Ok(step)
}

#[derive(Default)]
struct Outcome {
    latencies: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
}

/// One request; an error unless it is a 200 without `"errors"`. The body is scanned, not
/// parsed: a tree answer is ~0.5 MB, and parsing it would load the client more than the
/// check is worth (the probe pass checks a full answer's shape once).
async fn send(http: &reqwest::Client, url: &str, auth: &str, body: String) -> Result<(), String> {
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
    let has_errors = bytes
        .iter()
        .enumerate()
        .any(|(at, byte)| *byte == b'"' && bytes[at..].starts_with(b"\"errors\""));
    if status.is_success() && !has_errors && !bytes.is_empty() {
        Ok(())
    } else {
        let start = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
        Err(format!("HTTP {status}: {start}"))
    }
}

/// Checks a tree answer's shape: `projects × tasks × logs` nodes at each level.
pub fn check_tree(body: &Value, projects: usize, tasks: usize, logs: usize) -> Result<()> {
    let nodes = |value: &Value| value["nodes"].as_array().map(Vec::len);
    let workspace = &body["data"]["workspace"];
    if nodes(&workspace["projects"]) != Some(projects) {
        bail!("the tree has the wrong number of projects: {workspace}");
    }
    for project in workspace["projects"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if nodes(&project["tasks"]) != Some(tasks) {
            bail!("project {} has the wrong number of tasks", project["id"]);
        }
        for task in project["tasks"]["nodes"].as_array().into_iter().flatten() {
            if nodes(&task["timeLogs"]) != Some(logs) {
                bail!("task {} has the wrong number of logs", task["id"]);
            }
        }
    }
    Ok(())
}
