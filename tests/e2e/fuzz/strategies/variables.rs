//! Real operations with hostile variables, and creates with strange but well-typed text.

use super::*;

/// Real operations with variables of the wrong types, shapes and ranges.
pub(in crate::fuzz) fn hostile_variables(fixtures: &Fixtures) -> BoxedStrategy<Case> {
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
pub(in crate::fuzz) fn stored_text(fixtures: &Fixtures) -> BoxedStrategy<Case> {
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
