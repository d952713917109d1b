//! A bounded fuzz test of `POST /graphql`: thousands of hostile requests (broken documents,
//! variables of the wrong type, huge and strange strings, bad ids and cursors, raw bodies
//! that are not GraphQL requests at all) against a server with real data in it.
//!
//! Every answer must come (no reset connection), be JSON, not be a 5xx (save the documented
//! 503 `OVERLOADED` and 504 `TIMEOUT`), give every error an `extensions.code` (never
//! `INTERNAL`: hostile input is the client's fault, not the server's) and leak nothing of
//! the server's insides (SQL, crate names, source paths, panics). A value the server
//! accepts must read back exactly as sent, after the documented trimming.
//!
//! Reproducible by default: a fixed seed, `WORKGRAPH_FUZZ_SEED=<u64>` to try another, and
//! `WORKGRAPH_FUZZ_CASES=<n>` cases per family (default 600; six families, the huge-body
//! one a tenth of that). A failure is shrunk and reported as the smallest request that
//! still fails.

use std::fmt;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde_json::{Value, json};
use tests::{Account, TestApp};
use tokio::runtime::Handle;

mod properties;
mod strategies;

/// The seed used unless `WORKGRAPH_FUZZ_SEED` says otherwise.
const DEFAULT_SEED: u64 = 0x5EED_F022;
/// Cases per family unless `WORKGRAPH_FUZZ_CASES` says otherwise.
const DEFAULT_CASES: u32 = 600;
/// The server's default `max_body_bytes`.
const BODY_LIMIT: usize = 1024 * 1024;

/// Text that must never reach a client unless the client sent it: database wording, crate
/// names, source locations, panics.
const INTERNALS: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE \"",
    "sqlx",
    "sea_orm",
    "sea-orm",
    "constraint",
    "syntax error at",
    "panicked",
    "src/",
    ".rs:",
    "$argon2",
    tests::PASSWORD,
];

/// One request the fuzzer sends.
#[derive(Clone)]
struct Case {
    /// `Content-Type`, none when `None`.
    content_type: Option<&'static str>,
    /// Whether the owner's bearer token goes with it.
    signed_in: bool,
    body: Vec<u8>,
    /// What an accepted request must read back, if anything.
    round_trip: Option<RoundTrip>,
}

impl Case {
    fn json(body: String) -> Self {
        Self {
            content_type: Some("application/json"),
            signed_in: true,
            body: body.into_bytes(),
            round_trip: None,
        }
    }

    fn request(query: &str, variables: Value) -> Self {
        Self::json(json!({ "query": query, "variables": variables }).to_string())
    }
}

/// Shows the request as a client would write it, long bodies cut short.
impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 2_000;
        let text = String::from_utf8_lossy(&self.body);
        let shown: String = text.chars().take(SHOWN).collect();
        let cut = if shown.len() < text.len() {
            format!("… ({} bytes in all)", self.body.len())
        } else {
            String::new()
        };
        write!(
            f,
            "POST /graphql Content-Type: {:?}, signed in: {}\n{shown:?}{cut}",
            self.content_type, self.signed_in
        )?;
        if let Some(round_trip) = &self.round_trip {
            write!(f, "\nexpecting back: {:?}", round_trip.expected)?;
        }
        Ok(())
    }
}

/// An accepted create must return `expected` at `object` and give it back again when
/// read with `read_back` (`$id` the created object's id).
#[derive(Clone, Debug)]
struct RoundTrip {
    object: &'static [&'static str],
    expected: Vec<(&'static str, Value)>,
    read_back: &'static str,
    /// Where the token to read back with is in the response (a new account's), if not
    /// the owner's.
    token_at: Option<&'static [&'static str]>,
}

/// Ids, cursors and accounts the fuzzed requests refer to.
#[derive(Clone)]
struct Fixtures {
    owner: Account,
    peer: Account,
    workspace: String,
    client: String,
    project: String,
    task: String,
    time_log: String,
    message: String,
    /// Real cursors of several connections.
    cursors: Vec<String>,
}

impl Fixtures {
    fn ids(&self) -> Vec<String> {
        vec![
            self.owner.id.clone(),
            self.peer.id.clone(),
            self.workspace.clone(),
            self.client.clone(),
            self.project.clone(),
            self.task.clone(),
            self.time_log.clone(),
            self.message.clone(),
        ]
    }
}

fn at<'a>(value: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(value, |value, key| &value[*key])
}

fn text(value: &Value, path: &[&str]) -> String {
    at(value, path)
        .as_str()
        .unwrap_or_else(|| panic!("expected text at {path:?}: {value}"))
        .to_owned()
}

async fn fixtures(app: &TestApp) -> Fixtures {
    let owner = app.sign_up("owner@fuzz.test").await;
    let peer = app.sign_up("peer@fuzz.test").await;
    let token = Some(owner.token.as_str());
    let run = |query: &'static str, variables: Value| async move {
        app.graphql_as(token, query, variables).await.data().clone()
    };
    let workspace = text(
        &run(
            "mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }",
            json!({ "input": { "name": "Fuzz HQ" } }),
        )
        .await,
        &["createWorkspace", "id"],
    );
    run(
        "mutation($input: AddWorkspaceMemberInput!) { addWorkspaceMember(input: $input) { id } }",
        json!({ "input": { "workspaceId": workspace, "email": peer.email, "role": "USER" } }),
    )
    .await;
    let client = text(
        &run(
            "mutation($input: CreateClientInput!) { createClient(input: $input) { id } }",
            json!({ "input": { "workspaceId": workspace, "name": "Globex" } }),
        )
        .await,
        &["createClient", "id"],
    );
    let project = text(
        &run(
            "mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }",
            json!({ "input": { "workspaceId": workspace, "clientId": client, "name": "Apollo" } }),
        )
        .await,
        &["createProject", "id"],
    );
    let mut tasks = Vec::new();
    for name in ["Design", "Build"] {
        tasks.push(text(
            &run(
                "mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }",
                json!({ "input": { "projectId": project, "name": name } }),
            )
            .await,
            &["createTask", "id"],
        ));
    }
    let task = tasks[0].clone();
    let time_log = text(
        &run(
            "mutation($input: LogTimeInput!) { logTime(input: $input) { id } }",
            json!({ "input": { "taskId": task, "hours": 3 } }),
        )
        .await,
        &["logTime", "id"],
    );
    let mut messages = Vec::new();
    for content in ["hello", "again"] {
        messages.push(text(
            &run(
                "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }",
                json!({ "input": { "recipientEmail": peer.email, "content": content } }),
            )
            .await,
            &["sendMessage", "id"],
        ));
    }
    let pages = run(
        "query($project: ID!, $task: ID!, $with: String!) {
            task(id: $task) { timeLogs(first: 1) { edges { cursor } } }
            workspaces(first: 1) { edges { cursor } }
            project(id: $project) {
                tasks(first: 1) { edges { cursor } }
                byName: tasks(first: 1, orderBy: { field: NAME }) { edges { cursor } }
                members(first: 1) { edges { cursor } }
            }
            messages(with: $with, first: 1) { edges { cursor } }
            conversations(first: 1) { edges { cursor } }
        }",
        json!({ "project": project, "task": task, "with": peer.email }),
    )
    .await;
    let cursors = [
        &["workspaces"][..],
        &["project", "tasks"],
        &["project", "byName"],
        &["task", "timeLogs"],
        &["project", "members"],
        &["messages"],
        &["conversations"],
    ]
    .iter()
    .map(|path| text(&at(&pages, path)["edges"][0], &["cursor"]))
    .collect::<Vec<_>>();
    Fixtures {
        owner,
        peer,
        workspace,
        client,
        project,
        task,
        time_log,
        message: messages[0].clone(),
        cursors,
    }
}
