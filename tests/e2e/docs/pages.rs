//! What the pages say holds: the README's first session and settings table, the HTTP
//! page's error codes, the GraphQL examples.

use super::*;

#[tokio::test]
async fn the_first_session_in_the_readme_runs_as_written() {
    let app = TestApp::spawn().await;
    let blocks = code_blocks(&read("README.md"), "graphql");
    let [sign_up, create, read_back] = blocks.as_slice() else {
        panic!(
            "README.md's first session is three GraphQL blocks (sign up, create a workspace, \
             read it back), found {}",
            blocks.len()
        );
    };

    let signed_up = app.graphql(sign_up, json!({})).await;
    let token = signed_up.data()["signUp"]["token"]
        .as_str()
        .expect("signUp answers a token")
        .to_owned();
    assert_eq!(signed_up.data()["signUp"]["user"]["name"], "Ann");

    let created = app.graphql_as(Some(&token), create, json!({})).await;
    let workspace = &created.data()["createWorkspace"];
    assert_eq!(workspace["name"], "Acme");
    assert_eq!(workspace["viewerRole"], "OWNER");

    let listed = app.graphql_as(Some(&token), read_back, json!({})).await;
    let data = listed.data();
    assert_eq!(data["me"]["name"], "Ann");
    assert_eq!(data["workspaces"]["totalCount"], 1);
    let only = &data["workspaces"]["nodes"][0];
    assert_eq!(only["id"], workspace["id"]);
    assert_eq!(only["name"], "Acme");
    assert_eq!(only["viewerRole"], "OWNER");
}

#[test]
fn every_error_code_is_on_the_http_page() {
    let page = read("docs/http.md");
    for (code, status) in graph::error::code::ALL {
        assert!(
            page.contains(&format!("`{code}`")),
            "docs/http.md never names `{code}`"
        );
        if let Some(status) = status {
            assert!(
                page.contains(&format!("| {status} | `{code}`")),
                "docs/http.md's table of request refusals lacks {status} `{code}`"
            );
        }
    }
}

/// The variables the README's configuration table lists: the first cell of each row.
fn readme_settings(readme: &str) -> Vec<String> {
    readme
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once("` |"))
        .map(|(name, _)| name.to_owned())
        .filter(|name| {
            name.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
        .collect()
}

#[test]
fn the_readme_lists_every_setting_with_its_flag_and_nothing_else() {
    let readme = read("README.md");
    let command = server::Config::command();
    let mut read_by_the_server = Vec::new();
    for arg in command.get_arguments() {
        let Some(env) = arg.get_env().and_then(|env| env.to_str()) else {
            continue;
        };
        let long = arg.get_long().expect("a setting has a long flag");
        assert!(
            readme.contains(&format!("| `{env}` | `--{long}` |")),
            "README.md's configuration table lacks `{env}` with `--{long}`"
        );
        read_by_the_server.push(env.to_owned());
    }
    assert!(read_by_the_server.len() > 20, "{read_by_the_server:?}");
    for listed in readme_settings(&readme) {
        assert!(
            read_by_the_server.contains(&listed),
            "README.md lists `{listed}`, which the server does not read"
        );
    }
}

/// Values for an example's variables, by type, so an example that declares `$id: ID!` can
/// be checked without a real id.
fn example_variables(definitions: &[Positioned<VariableDefinition>]) -> Value {
    let mut variables = Map::new();
    for definition in definitions {
        let definition = &definition.node;
        if definition.default_value.is_some() {
            continue;
        }
        let BaseType::Named(type_name) = &definition.var_type.node.base else {
            panic!(
                "give the example's list variable ${} a value here",
                definition.name.node
            );
        };
        let value = match type_name.as_str() {
            "ID" => json!(Uuid::now_v7().to_string()),
            "String" => json!("x"),
            "Int" => json!(1),
            "Boolean" => json!(true),
            "DateTime" => json!("2026-01-01T00:00:00Z"),
            other => panic!("give the example's variables of type {other} a value here"),
        };
        variables.insert(definition.name.node.to_string(), value);
    }
    Value::Object(variables)
}

/// The messages of the errors in `body` that say the document does not fit the schema.
fn validation_errors(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|error| error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED")
        .map(|error| error["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Every GraphQL block of every page in `docs/` parses, and each of its operations passes
/// the server's validation (the schema, the variables, the limits): sent anonymously over
/// HTTP, subscriptions over a signed-in WebSocket, so nothing in them changes any data.
#[tokio::test]
async fn every_graphql_example_in_the_docs_fits_the_schema() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let mut checked = 0;
    for page in docs_pages() {
        for block in code_blocks(&read(&page), "graphql") {
            let document =
                parse_query(&block).unwrap_or_else(|err| panic!("{page}: {err}\n{block}"));
            let operations: Vec<_> = match &document.operations {
                DocumentOperations::Single(operation) => vec![(None, operation)],
                DocumentOperations::Multiple(operations) => operations
                    .iter()
                    .map(|(name, operation)| (Some(name.to_string()), operation))
                    .collect(),
            };
            for (name, operation) in operations {
                let variables = example_variables(&operation.node.variable_definitions);
                let label = format!("{page}: {}", name.as_deref().unwrap_or("(anonymous)"));
                let errors = if operation.node.ty == OperationType::Subscription {
                    subscription_errors(&app, &ann.token, &block, name.as_deref(), &variables).await
                } else {
                    let body: Value = app
                        .http()
                        .post(app.url("/graphql"))
                        .json(&json!({ "query": block, "operationName": name, "variables": variables }))
                        .send()
                        .await
                        .unwrap_or_else(|err| panic!("POST {label}: {err}"))
                        .json()
                        .await
                        .unwrap_or_else(|err| panic!("{label} answered non-JSON: {err}"));
                    validation_errors(&body)
                };
                assert!(
                    errors.is_empty(),
                    "{label} does not fit the schema: {errors:?}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "only {checked} examples found in docs/");
}

/// Starts `name` of `document` on a signed-in socket and returns what it is refused with.
/// An operation that does not validate is answered at once (a `next` with errors, or an
/// `error`); one that does says nothing until a message is sent. So the answer is awaited
/// until a `{ __typename }` probe sent after it has been answered, and a second beyond.
async fn subscription_errors(
    app: &TestApp,
    token: &str,
    document: &str,
    name: Option<&str>,
    variables: &Value,
) -> Vec<String> {
    let mut ws = app.ws(WsProtocol::TransportWs).await;
    let outcome = ws.init(bearer(token)).await;
    assert!(matches!(outcome, InitOutcome::Ack), "{outcome:?}");
    ws.send(json!({ "id": "example", "type": "subscribe", "payload": {
        "query": document, "operationName": name, "variables": variables } }))
        .await;
    ws.subscribe("probe", "{ __typename }").await;
    let mut errors = Vec::new();
    let mut probed = false;
    loop {
        let wait = if probed { 1 } else { 5 };
        let Ok(message) = ws.next_json_within(Duration::from_secs(wait)).await else {
            assert!(probed, "no answer to the probe after {document}");
            return errors;
        };
        let message = message.unwrap_or_else(|| panic!("the socket closed after {document}"));
        match (message["id"].as_str(), message["type"].as_str()) {
            (Some("example"), Some("error")) => errors.push(message["payload"].to_string()),
            (Some("example"), Some("next")) => {
                errors.extend(validation_errors(&message["payload"]))
            }
            (Some("example"), Some("complete")) => return errors,
            (Some("probe"), Some("complete")) => probed = true,
            _ => {}
        }
    }
}
