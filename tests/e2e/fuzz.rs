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

// --- Strategies -------------------------------------------------------------------------

/// Pieces of text that break naive handling: NUL and other controls, lone combining marks,
/// bidi overrides, joiners, 4-byte emoji, noncharacters, a BOM, very long grapheme clusters,
/// Unicode spaces (which trimming removes), quotes and escapes.
fn edgy_piece() -> BoxedStrategy<String> {
    prop_oneof![
        Just("\u{0}".to_owned()),
        Just("\u{1}\u{7}\u{1b}[31m".to_owned()),
        Just("\u{301}".to_owned()),
        Just("\u{202E}evil\u{202C}".to_owned()),
        Just("\u{200D}".to_owned()),
        Just("\u{200B}".to_owned()),
        Just("👩\u{200D}👩\u{200D}👧\u{200D}👦".to_owned()),
        Just("😀".to_owned()),
        Just("𝕏".to_owned()),
        Just("\u{FFFF}".to_owned()),
        Just("\u{FFFE}".to_owned()),
        Just("\u{FEFF}".to_owned()),
        Just("\u{10FFFF}".to_owned()),
        Just(format!("e{}", "\u{301}".repeat(300))),
        Just("ᄀ\u{1161}\u{11A8}".to_owned()),
        Just("\u{3000}".to_owned()),
        Just("\u{A0}".to_owned()),
        Just(" ".to_owned()),
        Just("\t\r\n".to_owned()),
        Just("'\"\\`".to_owned()),
        Just("%_%".to_owned()),
        Just("\\u0000".to_owned()),
        Just("Ωmega".to_owned()),
        Just("日本語".to_owned()),
        Just("עברית".to_owned()),
        "[a-zA-Z0-9 ]{1,12}",
        "(?s).{1,8}",
    ]
    .boxed()
}

/// A string made of [`edgy_piece`]s.
fn edgy_text(max_pieces: usize) -> BoxedStrategy<String> {
    prop::collection::vec(edgy_piece(), 0..max_pieces)
        .prop_map(|pieces| pieces.concat())
        .boxed()
}

/// Text of one repeated character, sized around the limits: a column's, the document's,
/// the body's (just under and over).
fn huge_text() -> BoxedStrategy<String> {
    let len = prop_oneof![
        Just(101usize),
        Just(151),
        Just(501),
        Just(1_001),
        Just(100_001),
        Just(BODY_LIMIT - 2_048),
        Just(BODY_LIMIT + 1),
        1usize..BODY_LIMIT,
    ];
    let piece = prop_oneof![Just("x"), Just("é"), Just("😀"), Just("\u{301}"), Just(" ")];
    (piece, len)
        .prop_map(|(piece, len)| {
            // `len` bytes at most, whole characters only.
            piece.repeat((len / piece.len()).max(1))
        })
        .boxed()
}

/// A JSON literal, as text, of values that fit the variable's type badly: numbers beyond
/// every integer type, floats, `NaN`-like strings, nulls, objects, arrays, bad ids.
fn hostile_json(fixtures: &Fixtures) -> BoxedStrategy<String> {
    let mut ids: Vec<String> = fixtures.ids();
    ids.extend(fixtures.cursors.iter().cloned());
    let quoted = |s: String| Value::String(s).to_string();
    let leaf = prop_oneof![
        prop::sample::select(vec![
            "null",
            "true",
            "false",
            "0",
            "-1",
            "1",
            "24",
            "25",
            "101",
            "2147483647",
            "2147483648",
            "-2147483649",
            "9223372036854775808",
            "18446744073709551616",
            "123456789012345678901234567890",
            "1e400",
            "-1e400",
            "1.5",
            "1.0",
            "-0",
            "1E2",
            "\"NaN\"",
            "\"Infinity\"",
            "\"-inf\"",
            "\"\"",
            "\"1\"",
            "\"PENDING\"",
            "\"OWNER\"",
            "\"00000000-0000-0000-0000-000000000000\"",
            "\"ffffffff-ffff-ffff-ffff-ffffffffffff\"",
            "\"not-a-uuid\"",
            "\"\\u0000\"",
            "\"\\ud800\"",
            "\"2026-13-45T99:99:99Z\"",
            "\"2026-01-01T00:00:00Z\"",
            "{}",
            "[]",
            "[null]",
        ])
        .prop_map(str::to_owned),
        prop::sample::select(ids).prop_map(quoted),
        edgy_text(6).prop_map(move |s| Value::String(s).to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |n| n.is_finite())
            .prop_map(|n| format!("{n:e}")),
    ];
    let key = prop_oneof![
        prop::sample::select(vec![
            "id",
            "name",
            "email",
            "password",
            "phone",
            "description",
            "workspaceId",
            "clientId",
            "projectId",
            "taskId",
            "hours",
            "loggedAt",
            "status",
            "content",
            "recipientEmail",
            "input",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z_]{1,8}",
    ];
    leaf.prop_recursive(3, 24, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5)
                .prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec((key.clone(), inner), 0..5).prop_map(|fields| {
                let fields: Vec<String> = fields
                    .into_iter()
                    .map(|(key, value)| format!("{}:{value}", Value::String(key)))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
    .boxed()
}

/// Well-formed queries of the schema, the raw material of mutated documents.
const VALID_QUERIES: &[&str] = &[
    "{ me { id name email } }",
    "query Ws { workspaces(first: 2) { edges { cursor node { id name } } pageInfo { endCursor hasNextPage } totalCount } }",
    "mutation { createWorkspace(input: { name: \"Mutant\", description: \"d\" }) { id name } }",
    "{ node(id: \"00000000-0000-0000-0000-000000000000\") { id ... on Task { name status } } }",
    "query($id: ID!) { task(id: $id) { id timeLogs(first: 1) { nodes { hours } } } }",
    "fragment F on Workspace { id name } { workspaces { nodes { ...F } } }",
    "{ conversations { nodes { with unreadCount lastMessage { content } } } }",
    "mutation { sendMessage(input: { recipientEmail: \"peer@fuzz.test\", content: \"hi\" }) { id content } }",
    "{ __schema { types { name } } }",
    "{ a: me { id } b: me { id } }",
];

/// Documents that do not parse or do not fit the schema.
fn malformed_document() -> BoxedStrategy<Case> {
    let token = prop_oneof![
        prop::sample::select(vec![
            "{",
            "}",
            "(",
            ")",
            "[",
            "]",
            ":",
            "$",
            "!",
            "...",
            "@",
            "=",
            "|",
            "&",
            ",",
            "query",
            "mutation",
            "subscription",
            "fragment",
            "on",
            "true",
            "false",
            "null",
            "__typename",
            "__schema",
            "me",
            "workspaces",
            "node",
            "nodes",
            "id",
            "first",
            "after",
            "input",
            "createWorkspace",
            "ID",
            "String",
            "Int",
            "\"str\"",
            "\"\"\"block\"\"\"",
            "\"",
            "\"\"\"",
            "1",
            "-0.5e10",
            "1e999",
            "#comment\n",
            "\\",
            "\u{0}",
            "\u{FEFF}",
            "😀",
        ])
        .prop_map(str::to_owned),
        "[_a-zA-Z][_a-zA-Z0-9]{0,10}",
    ];
    let soup = (
        prop::collection::vec(token, 0..60),
        prop::sample::select(vec!["", " ", "\n"]),
    )
        .prop_map(|(tokens, sep)| tokens.join(sep));

    #[derive(Clone, Debug)]
    enum Edit {
        Delete(Index),
        Duplicate(Index, Index),
        Swap(Index, Index),
        Insert(Index, char),
    }
    let edit = prop_oneof![
        any::<Index>().prop_map(Edit::Delete),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Duplicate(a, b)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Swap(a, b)),
        (
            any::<Index>(),
            prop::sample::select(vec!['{', '}', '"', '\\', '$', '(', '\0', '…'])
        )
            .prop_map(|(a, c)| Edit::Insert(a, c)),
    ];
    let mutated = (
        prop::sample::select(VALID_QUERIES),
        prop::collection::vec(edit, 1..6),
    )
        .prop_map(|(query, edits)| {
            let mut chars: Vec<char> = query.chars().collect();
            for edit in edits {
                if chars.is_empty() {
                    break;
                }
                match edit {
                    Edit::Delete(i) => {
                        chars.remove(i.index(chars.len()));
                    }
                    Edit::Duplicate(i, len) => {
                        let start = i.index(chars.len());
                        let end = start + len.index(chars.len() - start) + 1;
                        let copy: Vec<char> = chars[start..end].to_vec();
                        chars.splice(start..start, copy);
                    }
                    Edit::Swap(a, b) => {
                        let (a, b) = (a.index(chars.len()), b.index(chars.len()));
                        chars.swap(a, b);
                    }
                    Edit::Insert(i, c) => chars.insert(i.index(chars.len() + 1), c),
                }
            }
            chars.into_iter().collect::<String>()
        });
    let unbalanced = (0usize..300, 0usize..300)
        .prop_map(|(open, close)| format!("{}me {{ id }}{}", "{".repeat(open), "}".repeat(close)));
    let nested = (
        prop::sample::select(vec![
            ("{ a ", "}"),
            ("{ me { ", "} }"),
            (
                "{ node(id: \"x\") { ... on Task { project { tasks { nodes { ",
                "} } } } } }",
            ),
            ("[", "]"),
            ("(a: ", ")"),
            ("...on Query{", "}"),
        ]),
        prop_oneof![1usize..40, 40usize..2_000, Just(20_000)],
        any::<bool>(),
    )
        .prop_map(|((open, close), depth, balanced)| {
            let closes = if balanced { depth } else { depth / 2 };
            format!("{}id{}", open.repeat(depth), close.repeat(closes))
        });
    let long_name = (
        prop_oneof![
            1_000usize..2_000,
            Just(99_990),
            Just(100_001),
            Just(500_000)
        ],
        prop::sample::select(vec![
            "{ %s }",
            "query %s { me { id } }",
            "{ me { id } } fragment %s on User { id }",
            "query($%s: Int) { me { id } }",
        ]),
    )
        .prop_map(|(len, template)| template.replace("%s", &"n".repeat(len)));
    let escapes = (
        prop::collection::vec(
            prop::sample::select(vec![
                "\\u0000",
                "\\uD800",
                "\\uDC00",
                "\\uD83D\\uDE00",
                "\\uFFFF",
                "\\x41",
                "\\u{1F600}",
                "\\",
                "\\q",
                "\\u12",
                "\\u00e9",
                "\\n",
                "\\\"",
                "\u{0}",
                "\n",
                "\u{202E}",
                "a",
            ]),
            0..12,
        ),
        prop::sample::select(vec![
            "{ node(id: \"%s\") { id } }",
            "mutation { createWorkspace(input: { name: \"%s\" }) { id name } }",
            "{ messages(with: \"%s\") { totalCount } }",
            "{ workspaces(after: \"%s\") { totalCount } }",
            "{ me { id } } # %s",
            "{ me { id } } \"\"\" %s \"\"\"",
        ]),
    )
        .prop_map(|(pieces, template)| template.replace("%s", &pieces.concat()));
    prop_oneof![
        4 => soup,
        4 => mutated,
        1 => unbalanced,
        2 => nested,
        1 => long_name,
        2 => escapes,
    ]
    .prop_map(|query| Case::request(&query, json!({})))
    .boxed()
}

/// Real operations with variables of the wrong types, shapes and ranges.
fn hostile_variables(fixtures: &Fixtures) -> BoxedStrategy<Case> {
    let json_value = hostile_json(fixtures);
    // Each field of an input: absent, a plausible value, or a hostile one.
    let field = move |plausible: Vec<String>| {
        prop_oneof![
            1 => Just(None),
            3 => prop::sample::select(plausible).prop_map(Some),
            1 => json_value.clone().prop_map(Some),
        ]
    };
    let quoted = |s: &str| Value::String(s.to_owned()).to_string();
    let ids = fixtures
        .ids()
        .iter()
        .map(|id| quoted(id))
        .collect::<Vec<_>>();
    let cursors = fixtures
        .cursors
        .iter()
        .map(|cursor| quoted(cursor))
        .collect::<Vec<_>>();
    let words = vec![quoted("Fuzz"), quoted(" "), quoted("a@b.co")];
    let numbers = vec![
        "1".to_owned(),
        "0".to_owned(),
        "100".to_owned(),
        "101".to_owned(),
    ];
    let email = vec![quoted(&fixtures.peer.email), quoted("x@fuzz.test")];
    let object = |fields: Vec<(&'static str, Vec<String>)>| {
        let strategies: Vec<_> = fields
            .into_iter()
            .map(|(name, plausible)| field(plausible).prop_map(move |value| (name, value)))
            .collect();
        strategies.prop_map(|fields| {
            let fields: Vec<String> = fields
                .into_iter()
                .filter_map(|(name, value)| value.map(|value| format!("\"{name}\":{value}")))
                .collect();
            format!("{{{}}}", fields.join(","))
        })
    };
    let w = || words.clone();
    let i = || ids.clone();
    let operations: Vec<(&'static str, BoxedStrategy<String>)> = vec![
        (
            "mutation($input: SignUpInput!) { signUp(input: $input) { token user { id } } }",
            object(vec![
                ("name", w()),
                ("email", email.clone()),
                ("password", w()),
                ("phone", w()),
            ])
            .prop_map(|input| format!("{{\"input\":{input}}}"))
            .boxed(),
        ),
        (
            "mutation($input: LogInInput!) { logIn(input: $input) { token } }",
            object(vec![("email", email.clone()), ("password", w())])
                .prop_map(|input| format!("{{\"input\":{input}}}"))
                .boxed(),
        ),
        (
            "mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id name description } }",
            object(vec![("id", i()), ("name", w()), ("description", w())])
                .prop_map(|input| format!("{{\"input\":{input}}}"))
                .boxed(),
        ),
        (
            "mutation($input: CreateProjectInput!) { createProject(input: $input) { id name } }",
            object(vec![
                ("id", i()),
                ("workspaceId", i()),
                ("clientId", i()),
                ("name", w()),
                ("description", w()),
                ("deadline", vec![quoted("2030-01-01T00:00:00Z")]),
            ])
            .prop_map(|input| format!("{{\"input\":{input}}}"))
            .boxed(),
        ),
        (
            "mutation($input: CreateTaskInput!) { createTask(input: $input) { id name status } }",
            object(vec![
                ("id", i()),
                ("projectId", i()),
                ("name", w()),
                ("description", w()),
                ("status", vec![quoted("PENDING"), quoted("DONE")]),
            ])
            .prop_map(|input| format!("{{\"input\":{input}}}"))
            .boxed(),
        ),
        (
            "mutation($input: LogTimeInput!) { logTime(input: $input) { id hours } }",
            object(vec![
                ("id", i()),
                ("taskId", i()),
                ("hours", numbers.clone()),
                ("description", w()),
                (
                    "loggedAt",
                    vec![
                        quoted("2026-01-01T00:00:00Z"),
                        quoted("0000-01-01T00:00:00Z"),
                    ],
                ),
            ])
            .prop_map(|input| format!("{{\"input\":{input}}}"))
            .boxed(),
        ),
        (
            "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id content } }",
            object(vec![("recipientEmail", email.clone()), ("content", w())])
                .prop_map(|input| format!("{{\"input\":{input}}}"))
                .boxed(),
        ),
        (
            "query($id: ID!) { node(id: $id) { id __typename } }",
            object(vec![("id", i())]).boxed(),
        ),
        (
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            object(vec![("ids", vec![format!("[{}]", ids.join(","))])]).boxed(),
        ),
        (
            "query($first: Int, $after: String) { workspaces(first: $first, after: $after) { totalCount edges { cursor } } }",
            object(vec![("first", numbers.clone()), ("after", cursors.clone())]).boxed(),
        ),
        (
            "query($id: ID!, $first: Int, $after: String) { project(id: $id) { tasks(first: $first, after: $after) { nodes { id } } } }",
            object(vec![
                ("id", i()),
                ("first", numbers.clone()),
                ("after", cursors.clone()),
            ])
            .boxed(),
        ),
        (
            "query($with: String!, $first: Int, $after: String, $last: Int, $before: String) { messages(with: $with, first: $first, after: $after, last: $last, before: $before) { nodes { content } pageInfo { endCursor } } }",
            object(vec![
                ("with", email.clone()),
                ("first", numbers.clone()),
                ("after", cursors.clone()),
                ("last", numbers.clone()),
                ("before", cursors.clone()),
            ])
            .boxed(),
        ),
        (
            "query($id: ID!, $groupBy: [TimeReportGroup!]!, $from: DateTime) { timeReport(workspaceId: $id, groupBy: $groupBy, from: $from) { hours } }",
            object(vec![
                ("id", i()),
                (
                    "groupBy",
                    vec!["[\"DAY\",\"DAY\"]".to_owned(), "[]".to_owned()],
                ),
                ("from", vec![quoted("2026-01-01T00:00:00Z")]),
            ])
            .boxed(),
        ),
    ];
    let operations: Vec<BoxedStrategy<(&'static str, String)>> = operations
        .into_iter()
        .map(|(query, variables)| variables.prop_map(move |vars| (query, vars)).boxed())
        .collect();
    (
        prop::strategy::Union::new(operations),
        prop_oneof![9 => Just(true), 1 => Just(false)],
        // Sometimes the whole `variables` is hostile instead.
        prop_oneof![9 => Just(None), 1 => hostile_json(fixtures).prop_map(Some)],
    )
        .prop_map(|((query, variables), signed_in, whole)| {
            let variables = whole.unwrap_or(variables);
            Case {
                signed_in,
                ..Case::json(format!(
                    "{{\"query\":{},\"variables\":{variables}}}",
                    Value::String(query.to_owned())
                ))
            }
        })
        .boxed()
}

/// Creates with strange but well-typed text that the server either refuses with a code or
/// stores and reads back exactly (after documented trimming).
fn stored_text(fixtures: &Fixtures) -> BoxedStrategy<Case> {
    let text = prop_oneof![6 => edgy_text(12), 1 => huge_text()];
    let optional = prop_oneof![1 => Just(None), 2 => edgy_text(8).prop_map(Some)];
    let (workspace, client, project, task, peer) = (
        fixtures.workspace.clone(),
        fixtures.client.clone(),
        fixtures.project.clone(),
        fixtures.task.clone(),
        fixtures.peer.email.clone(),
    );
    (0usize..16, text, optional, any::<u32>())
        .prop_map(move |(target, text, description, salt)| {
            let trimmed = |s: &str| Value::from(s.trim());
            let optional = |s: &Option<String>| match s.as_deref().map(str::trim) {
                Some(s) if !s.is_empty() => Value::from(s),
                _ => Value::Null,
            };
            let (query, variables, round_trip) = match target {
                0..=3 => (
                    "mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id name description } }",
                    json!({ "input": { "name": text, "description": description } }),
                    RoundTrip {
                        object: &["createWorkspace"],
                        expected: vec![("name", trimmed(&text)), ("description", optional(&description))],
                        read_back: "query($id: ID!) { node(id: $id) { ... on Workspace { name description } } }",
                        token_at: None,
                    },
                ),
                4..=5 => (
                    "mutation($input: CreateClientInput!) { createClient(input: $input) { id name } }",
                    json!({ "input": { "workspaceId": workspace, "name": text } }),
                    RoundTrip {
                        object: &["createClient"],
                        expected: vec![("name", trimmed(&text))],
                        read_back: "query($id: ID!) { node(id: $id) { ... on Client { name } } }",
                        token_at: None,
                    },
                ),
                6..=7 => (
                    "mutation($input: CreateProjectInput!) { createProject(input: $input) { id name description } }",
                    json!({ "input": { "workspaceId": workspace, "clientId": client, "name": text, "description": description } }),
                    RoundTrip {
                        object: &["createProject"],
                        expected: vec![("name", trimmed(&text)), ("description", optional(&description))],
                        read_back: "query($id: ID!) { node(id: $id) { ... on Project { name description } } }",
                        token_at: None,
                    },
                ),
                8..=9 => (
                    "mutation($input: CreateTaskInput!) { createTask(input: $input) { id name description } }",
                    json!({ "input": { "projectId": project, "name": text, "description": description } }),
                    RoundTrip {
                        object: &["createTask"],
                        expected: vec![("name", trimmed(&text)), ("description", optional(&description))],
                        read_back: "query($id: ID!) { node(id: $id) { ... on Task { name description } } }",
                        token_at: None,
                    },
                ),
                10 => (
                    "mutation($input: LogTimeInput!) { logTime(input: $input) { id description } }",
                    json!({ "input": { "taskId": task, "hours": 1, "description": text } }),
                    RoundTrip {
                        object: &["logTime"],
                        expected: vec![("description", optional(&Some(text.clone())))],
                        read_back: "query($id: ID!) { node(id: $id) { ... on TimeLog { description } } }",
                        token_at: None,
                    },
                ),
                11..=14 => (
                    "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id content } }",
                    json!({ "input": { "recipientEmail": peer, "content": text } }),
                    RoundTrip {
                        object: &["sendMessage"],
                        // Stored as sent, not trimmed.
                        expected: vec![("content", Value::from(text.as_str()))],
                        read_back: "query($id: ID!) { node(id: $id) { ... on Message { content } } }",
                        token_at: None,
                    },
                ),
                _ => {
                    // Few sign-ups: each accepted one hashes a password.
                    // Letters whose lower case is longer or special, and spaces to trim.
                    let local = ["u", "Zoë", "ÅSA", "İdil", "Straße", "ΣΟΦΙΑ", "日本"]
                        [salt as usize % 7];
                    let sent = format!(" {local}{salt}@Fuzz.TEST ");
                    let email = sent.trim().to_lowercase();
                    (
                        "mutation($input: SignUpInput!) { signUp(input: $input) { token user { id name email } } }",
                        json!({ "input": { "name": text, "email": sent, "password": tests::PASSWORD } }),
                        RoundTrip {
                            object: &["signUp", "user"],
                            expected: vec![("name", trimmed(&text)), ("email", Value::from(email.as_str()))],
                            read_back: "query($id: ID!) { node(id: $id) { ... on User { name email } } }",
                            token_at: Some(&["signUp", "token"]),
                        },
                    )
                }
            };
            Case {
                round_trip: Some(round_trip),
                ..Case::request(query, variables)
            }
        })
        .boxed()
}

/// Ids and cursors that are not what they should be: malformed UUIDs, random base64,
/// real cursors cut short or from another connection, ids of another type.
fn bad_ids_and_cursors(fixtures: &Fixtures) -> BoxedStrategy<Case> {
    let mut real: Vec<String> = fixtures.ids();
    real.extend(fixtures.cursors.iter().cloned());
    let cursor = prop_oneof![
        prop::sample::select(fixtures.cursors.clone()),
        (prop::sample::select(real.clone()), any::<Index>())
            .prop_map(|(text, cut)| text[..cut.index(text.len())].to_owned()),
        (
            prop::sample::select(real.clone()),
            any::<Index>(),
            any::<char>()
        )
            .prop_map(|(text, at, c)| {
                let mut chars: Vec<char> = text.chars().collect();
                let at = at.index(chars.len());
                chars[at] = c;
                chars.into_iter().collect()
            }),
        "[A-Za-z0-9+/=_-]{0,120}",
        "[0-9a-fA-F-]{30,40}",
        "\\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\}",
        "urn:uuid:[0-9a-f]{32}",
        edgy_text(6),
    ];
    // Real cursors re-made with another sort value: any text, any instant, a wrong kind.
    let forged = (
        prop::sample::select(fixtures.cursors.clone()),
        prop_oneof![
            edgy_text(6).prop_map(|text| format!("s:{}", URL_SAFE_NO_PAD.encode(text))),
            any::<i64>().prop_map(|micros| format!("t:{micros}")),
            prop::sample::select(vec![
                -8_210_298_412_800_000_000i64,
                -210_000_000_000_000_000,
                8_210_266_876_799_999_999,
                300_000_000_000_000_000,
            ])
            .prop_map(|micros| format!("t:{micros}")),
            Just("i:".to_owned()),
            "[a-z]:[ -~]{0,12}",
        ],
    )
        .prop_map(|(cursor, value)| {
            let plain = URL_SAFE_NO_PAD
                .decode(&cursor)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .unwrap_or_default();
            let mut parts: Vec<String> = plain.split('|').map(str::to_owned).collect();
            if let Some(part) = parts.get_mut(4) {
                *part = value;
            }
            URL_SAFE_NO_PAD.encode(parts.join("|"))
        });
    let cursor = prop_oneof![3 => cursor, 2 => forged];
    let (workspace, project, task, peer) = (
        fixtures.workspace.clone(),
        fixtures.project.clone(),
        fixtures.task.clone(),
        fixtures.peer.email.clone(),
    );
    (0usize..9, cursor.clone(), prop::collection::vec(cursor, 0..120), 0i64..120)
        .prop_map(move |(target, value, many, first)| {
            let (query, variables) = match target {
                0 => ("query($id: ID!) { node(id: $id) { id } }", json!({ "id": value })),
                1 => ("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": many })),
                2 => ("query($id: ID!) { workspace(id: $id) { id } }", json!({ "id": value })),
                3 => (
                    "query($after: String, $first: Int) { workspaces(first: $first, after: $after) { nodes { id } pageInfo { endCursor } } }",
                    json!({ "after": value, "first": first }),
                ),
                4 => (
                    "query($id: ID!, $after: String) { project(id: $id) { tasks(first: 1, after: $after) { nodes { id } } byName: tasks(first: 1, after: $after, orderBy: { field: NAME }) { nodes { id } } members(after: $after) { totalCount } } }",
                    json!({ "id": project, "after": value }),
                ),
                8 => (
                    "query($id: ID!, $after: String) { task(id: $id) { timeLogs(first: 1, after: $after) { nodes { id } } } }",
                    json!({ "id": task, "after": value }),
                ),
                5 => (
                    "query($with: String!, $after: String, $before: String) { messages(with: $with, first: 1, after: $after) { nodes { id } } older: messages(with: $with, last: 1, before: $before) { nodes { id } } }",
                    json!({ "with": peer, "after": value, "before": value }),
                ),
                6 => (
                    "query($id: ID!, $after: String) { workspace(id: $id) { clients(after: $after) { totalCount } projects(after: $after) { totalCount } members(after: $after) { totalCount } } }",
                    json!({ "id": workspace, "after": value }),
                ),
                _ => (
                    "query($after: String) { conversations(first: 1, after: $after) { nodes { with } } }",
                    json!({ "after": value }),
                ),
            };
            Case::request(query, variables)
        })
        .boxed()
}

/// Bodies that are not a GraphQL request: not JSON, JSON of the wrong shape, the wrong
/// `Content-Type`, nothing at all.
fn raw_body() -> BoxedStrategy<Case> {
    let shapes = prop::sample::select(vec![
        "",
        " ",
        "null",
        "0",
        "\"{ me { id } }\"",
        "[]",
        "{}",
        "[[]]",
        "[{}]",
        "{\"query\":1}",
        "{\"query\":null}",
        "{\"query\":[\"{ me { id } }\"]}",
        "{\"query\":\"{ me { id } }\",\"variables\":\"x\"}",
        "{\"query\":\"{ me { id } }\",\"variables\":[1]}",
        "{\"query\":\"{ me { id } }\",\"operationName\":5}",
        "{\"query\":\"{ me { id } }\",\"operationName\":\"Nope\"}",
        "{\"query\":\"query A { me { id } } query B { me { id } }\"}",
        "{\"query\":\"{ me { id } }\",\"extensions\":{\"persistedQuery\":{\"version\":1,\"sha256Hash\":\"abc\"}}}",
        "{\"extensions\":{\"persistedQuery\":{\"version\":1,\"sha256Hash\":\"0000000000000000000000000000000000000000000000000000000000000000\"}}}",
        "{\"extensions\":{\"persistedQuery\":{\"version\":2}}}",
        "{\"extensions\":\"x\"}",
        "[{\"query\":\"{ me { id } }\"},5]",
        "[{\"query\":\"{ me { id } }\"},{\"query\":\"{\"}]",
        "{\"query\":\"{ me { id } }\",\"query\":\"{ __typename }\"}",
        "{\"query\":\"{ me { id } }\"",
        "{\"query\":\"\\ud800\"}",
        "{\"query\":\"{ me { id } }\"}garbage",
        "\u{FEFF}{\"query\":\"{ me { id } }\"}",
    ])
    .prop_map(|body| body.as_bytes().to_vec());
    let deep_json = (
        1usize..100_000,
        prop::sample::select(vec![("[", "]"), ("{\"a\":", "}")]),
    )
        .prop_map(|(depth, (open, close))| {
            format!("{}1{}", open.repeat(depth), close.repeat(depth)).into_bytes()
        });
    let bytes = prop::collection::vec(any::<u8>(), 0..300);
    let body = prop_oneof![4 => shapes, 1 => deep_json, 2 => bytes];
    let content_type = prop_oneof![
        6 => Just(Some("application/json")),
        1 => Just(Some("application/graphql-response+json")),
        1 => Just(Some("application/json; charset=latin1")),
        1 => Just(Some("text/plain")),
        1 => Just(Some("application/graphql")),
        1 => Just(Some("multipart/form-data; boundary=x")),
        1 => Just(Some("application/jsonx")),
        1 => Just(None),
    ];
    (body, content_type, any::<bool>())
        .prop_map(|(body, content_type, signed_in)| Case {
            content_type,
            signed_in,
            body,
            round_trip: None,
        })
        .boxed()
}

/// Bodies around the size limit: a huge value in every position a client may put one.
fn huge_body(fixtures: &Fixtures) -> BoxedStrategy<Case> {
    let peer = fixtures.peer.email.clone();
    (0usize..6, huge_text())
        .prop_map(move |(target, text)| match target {
            0 => Case::request(
                "mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }",
                json!({ "input": { "name": text } }),
            ),
            1 => Case::request(
                "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }",
                json!({ "input": { "recipientEmail": peer, "content": text } }),
            ),
            2 => Case::request("{ me { id } }", json!({ "pad": text })),
            3 => Case::request(&format!("{{ me {{ id }} }} #{text}"), json!({})),
            4 => Case::request(
                "mutation($input: LogInInput!) { logIn(input: $input) { token } }",
                json!({ "input": { "email": text, "password": text } }),
            ),
            _ => Case::request(
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": text }),
            ),
        })
        .boxed()
}

// --- Properties ---------------------------------------------------------------------------

fn fail(message: impl Into<String>) -> TestCaseError {
    TestCaseError::fail(message.into())
}

/// Sends `case` and checks what every answer must be; returns the parsed body.
async fn send(app: &TestApp, token: &str, case: &Case) -> Result<Value, TestCaseError> {
    let mut request = app.http().post(app.url("/graphql")).body(case.body.clone());
    if let Some(content_type) = case.content_type {
        request = request.header("content-type", content_type);
    }
    if case.signed_in {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .map_err(|err| fail(format!("no answer: {err:?}")))?;
    let status = response.status().as_u16();
    let bytes = response
        .bytes()
        .await
        .map_err(|err| fail(format!("the answer broke off: {err:?}")))?;
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|err| fail(format!("a {status} answer is not UTF-8: {err}")))?;
    let body: Value = serde_json::from_str(&text)
        .map_err(|err| fail(format!("a {status} answer is not JSON ({err}): {text}")))?;
    let sent = String::from_utf8_lossy(&case.body);
    for needle in INTERNALS {
        if text.contains(needle) && !sent.contains(needle) {
            return Err(fail(format!(
                "a {status} answer gives away {needle:?}: {}",
                shorten(&text)
            )));
        }
    }
    let responses = match &body {
        Value::Array(items) => items.iter().collect::<Vec<_>>(),
        single => vec![single],
    };
    let mut codes = Vec::new();
    for response in &responses {
        if !response.is_object()
            || (response.get("data").is_none() && response.get("errors").is_none())
        {
            return Err(fail(format!(
                "a {status} answer is not a GraphQL response: {}",
                shorten(&text)
            )));
        }
        if let Some(errors) = response.get("errors") {
            let errors = errors
                .as_array()
                .ok_or_else(|| fail(format!("`errors` is not a list: {}", shorten(&text))))?;
            for error in errors {
                let code = error["extensions"]["code"].as_str().ok_or_else(|| {
                    fail(format!(
                        "an error without a code: {}",
                        shorten(&error.to_string())
                    ))
                })?;
                codes.push(code.to_owned());
            }
        }
    }
    let documented = matches!(
        (status, codes.as_slice()),
        (503, [code]) if code == "OVERLOADED"
    ) || matches!((status, codes.as_slice()), (504, [code]) if code == "TIMEOUT");
    if status >= 500 && !documented {
        return Err(fail(format!("answered {status}: {}", shorten(&text))));
    }
    if codes.iter().any(|code| code == "INTERNAL") {
        return Err(fail(format!(
            "hostile input made an INTERNAL error (a bug, not the client's fault): {}",
            shorten(&text)
        )));
    }
    Ok(body)
}

fn shorten(text: &str) -> String {
    const SHOWN: usize = 1_500;
    if text.chars().count() <= SHOWN {
        return text.to_owned();
    }
    let head: String = text.chars().take(SHOWN).collect();
    format!("{head}… ({} bytes in all)", text.len())
}

/// For an accepted create: the response and a fresh read both hold what was sent. A
/// refusal must be one the input explains. Whether the create was accepted.
async fn check_round_trip(
    app: &TestApp,
    token: &str,
    round_trip: &RoundTrip,
    body: &Value,
) -> Result<bool, TestCaseError> {
    if let Some(errors) = body.get("errors") {
        let codes: Vec<&str> = errors
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|error| error["extensions"]["code"].as_str())
            .collect();
        let explained = [
            "BAD_USER_INPUT",
            "CONFLICT",
            "RATE_LIMITED",
            "PAYLOAD_TOO_LARGE",
            "QUERY_TOO_LARGE",
        ];
        if codes.iter().all(|code| explained.contains(code)) {
            return Ok(false);
        }
        return Err(fail(format!("a create was refused with {codes:?}: {body}")));
    }
    let created = at(&body["data"], round_trip.object);
    let compare = |what: &str, object: &Value| -> Result<(), TestCaseError> {
        for (field, expected) in &round_trip.expected {
            if &object[*field] != expected {
                return Err(fail(format!(
                    "{what} `{field}` is {} but {} was sent",
                    shorten(&object[*field].to_string()),
                    shorten(&expected.to_string()),
                )));
            }
        }
        Ok(())
    };
    compare("the created object's", created)?;
    let id = created["id"]
        .as_str()
        .ok_or_else(|| fail(format!("a create answered no id: {body}")))?;
    let reader = match round_trip.token_at {
        Some(path) => at(&body["data"], path)
            .as_str()
            .ok_or_else(|| fail(format!("no token in {body}")))?,
        None => token,
    };
    let read = app
        .graphql_as(Some(reader), round_trip.read_back, json!({ "id": id }))
        .await;
    if read.body.get("errors").is_some() {
        return Err(fail(format!("reading it back failed: {}", read.body)));
    }
    compare("read back, the", &read.body["data"]["node"])?;
    Ok(true)
}

/// The seed for this run: `WORKGRAPH_FUZZ_SEED`, else [`DEFAULT_SEED`].
fn seed() -> u64 {
    std::env::var("WORKGRAPH_FUZZ_SEED")
        .ok()
        .map(|text| {
            text.trim()
                .parse()
                .unwrap_or_else(|err| panic!("WORKGRAPH_FUZZ_SEED={text:?}: {err}"))
        })
        .unwrap_or(DEFAULT_SEED)
}

fn cases() -> u32 {
    std::env::var("WORKGRAPH_FUZZ_CASES")
        .ok()
        .map(|text| {
            text.trim()
                .parse()
                .unwrap_or_else(|err| panic!("WORKGRAPH_FUZZ_CASES={text:?}: {err}"))
        })
        .unwrap_or(DEFAULT_CASES)
}

/// Runs `cases` requests drawn from `strategy`, each family with its own seed derived from
/// the run's, so a family reproduces on its own. A failure is shrunk to the smallest
/// request that still fails and reported with the seed. Returns how many requests were
/// sent and how many creates were accepted and read back.
fn run_family(
    app: &TestApp,
    token: &str,
    name: &str,
    family: u64,
    cases: u32,
    strategy: BoxedStrategy<Case>,
) -> (u32, u32) {
    let seed = seed();
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&family.to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 300,
        max_global_rejects: cases.saturating_mul(4),
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
    let sent = std::cell::Cell::new(0u32);
    let stored = std::cell::Cell::new(0u32);
    // What the answers were, for the log: proof the requests reach past the parser.
    let outcomes = std::cell::RefCell::new(std::collections::BTreeMap::<String, u32>::new());
    let handle = Handle::current();
    let result = runner.run(&strategy, |case| {
        sent.set(sent.get() + 1);
        tokio::task::block_in_place(|| {
            handle.block_on(async {
                let body = send(app, token, &case).await?;
                let first = |response: &Value| {
                    response["errors"][0]["extensions"]["code"]
                        .as_str()
                        .unwrap_or("ok")
                        .to_owned()
                };
                let outcome = match &body {
                    Value::Array(items) => format!(
                        "batch:{}",
                        items.first().map_or_else(|| "empty".to_owned(), first)
                    ),
                    single => first(single),
                };
                *outcomes.borrow_mut().entry(outcome).or_default() += 1;
                if let Some(round_trip) = &case.round_trip
                    && check_round_trip(app, token, round_trip, &body).await?
                {
                    stored.set(stored.get() + 1);
                }
                Ok(())
            })
        })
    });
    match result {
        Ok(()) => {
            eprintln!("fuzz: {name}: first error codes {:?}", outcomes.borrow());
            (sent.get(), stored.get())
        }
        Err(TestError::Fail(reason, case)) => panic!(
            "fuzz family `{name}` failed (WORKGRAPH_FUZZ_SEED={seed}): {reason}\n\
             smallest failing request:\n{case:?}"
        ),
        Err(TestError::Abort(reason)) => {
            panic!("fuzz family `{name}` aborted (WORKGRAPH_FUZZ_SEED={seed}): {reason}")
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_coded_json_errors_and_accepted_values_read_back() {
    let app = TestApp::spawn_with_config(|config| {
        // Chat round trips need more sends than a person makes in a minute.
        config.chat_sends_per_minute = 1_000_000;
    })
    .await;
    let fixtures = fixtures(&app).await;
    let token = fixtures.owner.token.clone();
    let cases = cases();
    let started = Instant::now();
    let families: Vec<(&str, u32, BoxedStrategy<Case>)> = vec![
        ("malformed documents", cases, malformed_document()),
        ("hostile variables", cases, hostile_variables(&fixtures)),
        ("stored text", cases, stored_text(&fixtures)),
        ("ids and cursors", cases, bad_ids_and_cursors(&fixtures)),
        ("raw bodies", cases, raw_body()),
        ("huge bodies", (cases / 10).max(1), huge_body(&fixtures)),
    ];
    let (mut total, mut total_stored) = (0, 0);
    for (family, (name, cases, strategy)) in (1u64..).zip(families) {
        let family_started = Instant::now();
        let (sent, stored) = run_family(&app, &token, name, family, cases, strategy);
        eprintln!(
            "fuzz: {name}: {sent} requests ({stored} values stored and read back) in {:.1?}",
            family_started.elapsed()
        );
        total += sent;
        total_stored += stored;
    }
    eprintln!(
        "fuzz: {total} requests in {:.1?} (seed {})",
        started.elapsed(),
        seed()
    );
    assert!(total >= cases, "the families ran ({total} requests)");
    // The strange but valid text is not all refused: a good share must be stored.
    assert!(
        total_stored >= cases / 10,
        "only {total_stored} of {cases} values were accepted and read back"
    );

    // Still serving, and the data the run started with is intact.
    let response = app
        .graphql_as(
            Some(&token),
            "query($id: ID!) { me { email } task(id: $id) { name } }",
            json!({ "id": fixtures.task }),
        )
        .await;
    let data = response.data();
    assert_eq!(data["me"]["email"], fixtures.owner.email);
    assert_eq!(data["task"]["name"], "Design");
}
