//! The documentation as a reader meets it: the README's first session runs as written, its
//! settings table lists every setting the server reads, the HTTP page names every error
//! code, and every GraphQL example in `docs/` fits the schema.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_graphql::Positioned;
use async_graphql::parser::parse_query;
use async_graphql::parser::types::{
    BaseType, DocumentOperations, OperationType, VariableDefinition,
};
use clap::CommandFactory as _;
use serde_json::{Map, Value, json};
use tests::{InitOutcome, TestApp, WsProtocol, bearer};
use uuid::Uuid;

/// The repository's root, where README.md is.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the repository")
        .to_path_buf()
}

/// The text of `path`, relative to the repository's root.
fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|err| panic!("read {path}: {err}"))
}

/// The Markdown pages under `docs/`, as paths relative to the root, sorted.
fn docs_pages() -> Vec<String> {
    let mut pages: Vec<String> = std::fs::read_dir(root().join("docs"))
        .expect("read docs/")
        .map(|entry| entry.expect("a docs/ entry").file_name())
        .filter_map(|name| name.to_str().map(str::to_owned))
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    pages.sort();
    assert!(!pages.is_empty(), "docs/ holds Markdown pages");
    pages
}

/// The bodies of the fenced code blocks of `markdown` whose info string is `language`.
fn code_blocks(markdown: &str, language: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    // Inside a block: whether it is one of `language`'s, and its lines so far.
    let mut open: Option<(bool, String)> = None;
    for line in markdown.lines() {
        let fence = line.trim_start().strip_prefix("```");
        match (open.take(), fence) {
            (None, Some(info)) => open = Some((info.trim() == language, String::new())),
            (None, None) => {}
            (Some((wanted, body)), Some(_)) => {
                if wanted {
                    blocks.push(body);
                }
            }
            (Some((wanted, mut body)), None) => {
                body.push_str(line);
                body.push('\n');
                open = Some((wanted, body));
            }
        }
    }
    blocks
}

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

/// The pages whose links are checked: the README, every page of `docs/` and the
/// benchmarks' README.
fn linked_pages() -> Vec<String> {
    let mut pages = vec!["README.md".to_owned(), "bench/README.md".to_owned()];
    pages.extend(docs_pages());
    pages
}

/// `markdown`'s lines outside fenced code blocks, numbered from 1.
fn prose_lines(markdown: &str) -> Vec<(usize, &str)> {
    let mut in_fence = false;
    let mut lines = Vec::new();
    for (index, line) in markdown.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        } else if !in_fence {
            lines.push((index + 1, line));
        }
    }
    lines
}

/// `line` without its inline code spans, whose brackets are not links.
fn without_code_spans(line: &str) -> String {
    line.split('`').step_by(2).collect::<Vec<_>>().join(" ")
}

/// The targets of the inline links (`[text](target)`, images too) and reference
/// definitions (`[label]: target`) of `markdown`, with their line numbers.
fn link_targets(markdown: &str) -> Vec<(usize, String)> {
    let mut targets = Vec::new();
    for (number, line) in prose_lines(markdown) {
        let line = without_code_spans(line);
        if let Some(rest) = line.trim_start().strip_prefix('[')
            && let Some((_, target)) = rest.split_once("]: ")
        {
            targets.push((number, target.trim().to_owned()));
            continue;
        }
        let mut rest = line.as_str();
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let Some(end) = after.find(')') else { break };
            // `<target>` and a `"title"` after the target are both allowed.
            let target = after[..end]
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .trim_start_matches('<')
                .trim_end_matches('>');
            targets.push((number, target.to_owned()));
            rest = &after[end..];
        }
    }
    targets
}

/// GitHub's anchor for a heading's text: inline markup dropped (a link keeps its text),
/// lower-cased, everything but letters, digits, `-`, `_` and spaces removed, spaces made
/// hyphens.
fn github_anchor(heading: &str) -> String {
    let mut text = String::new();
    let mut rest = heading;
    // `[text](target)` → `text`.
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find("](").map(|at| open + at) else {
            break;
        };
        let Some(end) = rest[close..].find(')').map(|at| close + at) else {
            break;
        };
        text.push_str(&rest[..open]);
        text.push_str(&rest[open + 1..close]);
        rest = &rest[end + 1..];
    }
    text.push_str(rest);
    text.chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of `markdown`'s headings, as GitHub makes them (a repeated one gets `-1`,
/// `-2`, …).
fn heading_anchors(markdown: &str) -> Vec<String> {
    let mut anchors: Vec<String> = Vec::new();
    for (_, line) in prose_lines(markdown) {
        let Some(text) = line
            .strip_prefix('#')
            .map(|rest| rest.trim_start_matches('#'))
            .filter(|text| text.starts_with(' '))
        else {
            continue;
        };
        let anchor = github_anchor(text.trim().trim_end_matches('#').trim());
        let repeats = anchors
            .iter()
            .filter(|seen| {
                **seen == anchor
                    || seen
                        .strip_prefix(anchor.as_str())
                        .and_then(|suffix| suffix.strip_prefix('-'))
                        .is_some_and(|n| n.parse::<u32>().is_ok())
            })
            .count();
        anchors.push(if repeats == 0 {
            anchor
        } else {
            format!("{anchor}-{repeats}")
        });
    }
    anchors
}

/// What is wrong with the relative links of `markdown`, the page at `page` (relative to
/// `root`): each target must be a file or folder there, and an `#anchor` a heading of the
/// page it points into.
fn broken_links(root: &Path, page: &str, markdown: &str) -> Vec<String> {
    let directory = Path::new(page).parent().unwrap_or(Path::new(""));
    let mut broken = Vec::new();
    for (line, target) in link_targets(markdown) {
        if target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let (path, anchor) = match target.split_once('#') {
            Some((path, anchor)) => (path, Some(anchor)),
            None => (target.as_str(), None),
        };
        // An anchor alone points into this page.
        let file = root.join(directory).join(path);
        if !path.is_empty() && !file.exists() {
            broken.push(format!("{page}:{line}: {target}: no such file"));
            continue;
        }
        let Some(anchor) = anchor else { continue };
        let text = if path.is_empty() {
            markdown.to_owned()
        } else {
            std::fs::read_to_string(&file).unwrap_or_default()
        };
        if !heading_anchors(&text).iter().any(|known| known == anchor) {
            broken.push(format!(
                "{page}:{line}: {target}: no heading with that anchor"
            ));
        }
    }
    broken
}

#[test]
fn every_relative_link_in_the_docs_resolves() {
    let root = root();
    let mut broken = Vec::new();
    let mut links = 0;
    for page in linked_pages() {
        let markdown = read(&page);
        links += link_targets(&markdown).len();
        broken.extend(broken_links(&root, &page, &markdown));
    }
    assert!(links > 30, "only {links} links found");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The check itself finds a missing file, a missing heading and a renamed one, and leaves
/// code alone, so a passing run means something.
#[test]
fn the_link_check_finds_what_is_broken() {
    let page = "docs/example.md";
    let markdown = "# Example: `one` (two)\n\
        \n\
        ## Twice\n\
        ## Twice\n\
        \n\
        See [the README](../README.md#a-first-session), [errors](http.md#error-codes),\n\
        [above](#example-one-two), [again](#twice-1), [tests](../tests/clients) and\n\
        [the web](https://example.com/missing.md).\n\
        Broken: [gone](gone.md), [no heading](#nowhere), [renamed](http.md#errors).\n\
        Not links: `[x](y.md)`, and in a block:\n\
        ```\n\
        [z](z.md)\n\
        ```\n\
        [ref]: operations.md#nothing-here\n";
    assert_eq!(
        heading_anchors(markdown),
        ["example-one-two", "twice", "twice-1"]
    );
    assert_eq!(
        broken_links(&root(), page, markdown),
        [
            "docs/example.md:9: gone.md: no such file",
            "docs/example.md:9: #nowhere: no heading with that anchor",
            "docs/example.md:9: http.md#errors: no heading with that anchor",
            "docs/example.md:14: operations.md#nothing-here: no heading with that anchor",
        ]
    );
}
