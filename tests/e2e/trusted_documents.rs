//! `WORKGRAPH_TRUSTED_DOCUMENTS`: only the listed documents run, by hash or by exact text,
//! over HTTP and WebSocket; everything else is refused with `DOCUMENT_NOT_TRUSTED` before
//! it is parsed, and the list is reloaded without a restart.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tests::{InitOutcome, TestApp, WsProtocol, bearer};

const ME: &str = "query Me { me { id } }";
const TYPENAME: &str = "query Typename { __typename }";
const SIGN_UP: &str =
    "mutation SignUp($input: SignUpInput!) { signUp(input: $input) { token user { id } } }";
const WORKSPACES: &str = "query Workspaces { workspaces(first: 5) { totalCount } }";
const MESSAGES: &str = "subscription Messages { messageReceived { id } }";
const INTROSPECTION: &str = "query IntrospectionQuery { __schema { queryType { name } } }";
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A `persisted-documents.json` of `documents`, as the client preset writes it.
fn write_list(path: &Path, documents: &[&str]) {
    let list: serde_json::Map<String, Value> = documents
        .iter()
        .map(|document| (sha256(document), json!(document)))
        .collect();
    std::fs::write(path, Value::Object(list).to_string())
        .unwrap_or_else(|err| panic!("write {}: {err}", path.display()));
}

/// A server that trusts `documents`, with the list's file (in `dir`) and the app.
async fn trusting(
    dir: &tempfile::TempDir,
    documents: &[&str],
    configure: impl FnOnce(&mut server::Config),
) -> (PathBuf, TestApp) {
    let path = dir.path().join("persisted-documents.json");
    write_list(&path, documents);
    let file = path.clone();
    let app = TestApp::spawn_with_config(move |config| {
        config.trusted_documents = Some(file);
        configure(config);
    })
    .await;
    (path, app)
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// `POST /graphql` of `body` as JSON, accepting `accept` when given: status and body.
async fn post(app: &TestApp, body: Value, accept: Option<&str>) -> (u16, Value) {
    let mut request = app.http().post(app.url("/graphql")).json(&body);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.expect("POST /graphql");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// `GET /graphql` with `params`: status and body.
async fn get(app: &TestApp, params: &[(&str, &str)]) -> (u16, Value) {
    let url = reqwest::Url::parse_with_params(&app.url("/graphql"), params).expect("a URL");
    let response = app.http().get(url).send().await.expect("GET /graphql");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

fn persisted_query(document: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256(document) } })
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error with a code: {body}"))
}

/// Asserts that `body` is a refusal as untrusted: the code, and no `data`.
fn assert_not_trusted(label: &str, body: &Value) {
    assert_eq!(code(body), "DOCUMENT_NOT_TRUSTED", "{label}: {body}");
    assert!(
        body.get("data").is_none_or(Value::is_null),
        "{label}: {body}"
    );
}

#[tokio::test]
async fn a_listed_document_runs_by_its_hash_in_each_form() {
    let dir = temp_dir();
    let (_, app) = trusting(&dir, &[TYPENAME], |_| {}).await;
    let hash = sha256(TYPENAME);
    let prefixed = format!("sha256:{hash}");
    let extensions = persisted_query(TYPENAME).to_string();
    let (status, batch) = post(&app, json!([{ "documentId": hash }]), None).await;
    let answers = [
        (
            "POST extensions.persistedQuery",
            post(
                &app,
                json!({ "extensions": persisted_query(TYPENAME) }),
                None,
            )
            .await,
        ),
        (
            "POST documentId",
            post(&app, json!({ "documentId": hash }), None).await,
        ),
        (
            "POST documentId with the sha256: prefix",
            post(&app, json!({ "documentId": prefixed }), None).await,
        ),
        ("POST documentId in a batch", (status, batch[0].clone())),
        (
            "GET extensions",
            get(&app, &[("extensions", extensions.as_str())]).await,
        ),
        ("GET documentId", get(&app, &[("documentId", &hash)]).await),
    ];
    for (label, (status, body)) in answers {
        assert_eq!(status, 200, "{label}: {body}");
        assert_eq!(body["data"]["__typename"], "Query", "{label}: {body}");
        assert!(body.get("errors").is_none(), "{label}: {body}");
    }

    // A `documentId` that is not a hash's text, or names another document than
    // `extensions.persistedQuery` does, is not a GraphQL request.
    let malformed = [
        json!({ "documentId": 7 }),
        json!({ "documentId": sha256(ME), "extensions": persisted_query(TYPENAME) }),
    ];
    for body in malformed {
        let (status, answer) = post(&app, body.clone(), None).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(code(&answer), "BAD_REQUEST", "{body}: {answer}");
    }
}

#[tokio::test]
async fn a_listed_document_runs_by_its_exact_text_and_no_other_spelling() {
    let dir = temp_dir();
    let (_, app) = trusting(&dir, &[SIGN_UP, WORKSPACES], |_| {}).await;
    let input = json!({ "name": "Ann", "email": "ann@example.io", "password": tests::PASSWORD });
    let (status, signed_up) = post(
        &app,
        json!({ "query": SIGN_UP, "variables": { "input": input } }),
        None,
    )
    .await;
    assert_eq!(status, 200, "{signed_up}");
    let token = signed_up["data"]["signUp"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("a token: {signed_up}"));
    let listed = app.graphql_as(Some(token), WORKSPACES, json!({})).await;
    assert_eq!(listed.data()["workspaces"]["totalCount"], 0);

    // No normalisation: one more space is another document.
    let respelled = WORKSPACES.replace("{ totalCount }", "{  totalCount }");
    let refused = app.graphql_as(Some(token), &respelled, json!({})).await;
    assert_not_trusted("respelled", &refused.body);
}

#[tokio::test]
async fn unlisted_text_is_refused_unparsed_with_the_status_of_a_request_error() {
    let dir = temp_dir();
    let (_, app) = trusting(&dir, &[ME], |_| {}).await;
    // Not even GraphQL: refused as untrusted, not as a syntax error, so nothing was parsed.
    for query in [
        "{ workspaces(first: 1) { totalCount } }",
        "{ this is not graphql",
    ] {
        let (status, body) = post(&app, json!({ "query": query }), None).await;
        assert_eq!(status, 200, "as application/json: {body}");
        assert_not_trusted(query, &body);
        let (status, body) = post(&app, json!({ "query": query }), Some(GRAPHQL_RESPONSE)).await;
        assert_eq!(status, 400, "as {GRAPHQL_RESPONSE}: {body}");
        assert_not_trusted(query, &body);
        let (status, body) = get(&app, &[("query", query)]).await;
        assert_eq!(status, 200, "GET: {body}");
        assert_not_trusted(query, &body);
    }
    // A mutation refused in a GET is refused as untrusted, before its method is looked at.
    let (_, body) = get(&app, &[("query", "mutation { logOut }")]).await;
    assert_not_trusted("GET mutation", &body);
    // Each operation of a batch on its own.
    let (status, body) = post(
        &app,
        json!([{ "query": ME }, { "query": "{ me { name } }" }]),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["data"]["me"], Value::Null, "{body}");
    assert!(body[0].get("errors").is_none(), "{body}");
    assert_not_trusted("second of a batch", &body[1]);
}

#[tokio::test]
async fn an_unlisted_hash_is_refused_and_cannot_be_registered() {
    let dir = temp_dir();
    let (_, app) = trusting(&dir, &[ME], |_| {}).await;
    let other = "{ __typename }";
    // Apollo's persisted-queries link: the hash alone, then the document with its hash.
    let (status, body) = post(&app, json!({ "extensions": persisted_query(other) }), None).await;
    assert_eq!(status, 200, "{body}");
    assert_not_trusted("hash alone", &body);
    let (_, body) = post(
        &app,
        json!({ "query": other, "extensions": persisted_query(other) }),
        Some(GRAPHQL_RESPONSE),
    )
    .await;
    assert_not_trusted("hash with its document", &body);
    let (status, body) = post(
        &app,
        json!({ "extensions": persisted_query(other) }),
        Some(GRAPHQL_RESPONSE),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_not_trusted("hash alone, again", &body);
    let (_, body) = post(&app, json!({ "documentId": sha256(other) }), None).await;
    assert_not_trusted("documentId", &body);
    // A listed hash with another document's text.
    let (_, body) = post(
        &app,
        json!({ "query": other, "extensions": persisted_query(ME) }),
        None,
    )
    .await;
    assert_not_trusted("listed hash, other text", &body);
}

#[tokio::test]
async fn introspection_is_refused_unless_the_operator_turned_it_on() {
    let dir = temp_dir();
    // Unset (on by default) and off: untrusted introspection is refused like any document.
    for introspection in [None, Some(false)] {
        let (_, app) = trusting(&dir, &[ME], |config| config.introspection = introspection).await;
        let (_, body) = post(&app, json!({ "query": INTROSPECTION }), None).await;
        assert_not_trusted(&format!("introspection {introspection:?}"), &body);
    }
    // Listed, it runs while introspection is on by default.
    let (_, app) = trusting(&dir, &[INTROSPECTION], |_| {}).await;
    let (_, body) = post(&app, json!({ "query": INTROSPECTION }), None).await;
    assert_eq!(
        body["data"]["__schema"]["queryType"]["name"], "Query",
        "{body}"
    );

    // Turned on explicitly: documents that only introspect run, nothing else does.
    let (_, app) = trusting(&dir, &[ME], |config| config.introspection = Some(true)).await;
    let (_, body) = post(&app, json!({ "query": INTROSPECTION }), None).await;
    assert_eq!(
        body["data"]["__schema"]["queryType"]["name"], "Query",
        "{body}"
    );
    let (_, body) = post(&app, json!({ "query": "{ __typename me { id } }" }), None).await;
    assert_not_trusted("introspection beside a field", &body);
}

/// The errors of a refused operation: graphql-transport-ws sends them as `error`, the
/// legacy protocol as `error` or in `data`'s payload.
fn ws_errors(message: &Value) -> &Value {
    if message["type"] == "error" && message["payload"].is_array() {
        &message["payload"]
    } else {
        &message["payload"]["errors"]
    }
}

#[tokio::test]
async fn websocket_operations_pass_the_same_check() {
    let dir = temp_dir();
    let (_, app) = trusting(&dir, &[SIGN_UP, TYPENAME], |_| {}).await;
    let input = json!({ "name": "Ann", "email": "ann@example.io", "password": tests::PASSWORD });
    let signed_up = app.graphql(SIGN_UP, json!({ "input": input })).await;
    let token = signed_up.data()["signUp"]["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    for protocol in [WsProtocol::TransportWs, WsProtocol::LegacyWs] {
        let mut ws = app.ws(protocol).await;
        let init = ws.init(bearer(&token)).await;
        assert!(matches!(init, InitOutcome::Ack), "{protocol:?}: {init:?}");

        ws.subscribe("unlisted", MESSAGES).await;
        let refused = ws.next_json().await.expect("an answer");
        assert_eq!(refused["id"], "unlisted", "{protocol:?}: {refused}");
        assert_eq!(
            ws_errors(&refused)[0]["extensions"]["code"],
            "DOCUMENT_NOT_TRUSTED",
            "{protocol:?}: {refused}"
        );

        let kind = match protocol {
            WsProtocol::TransportWs => "subscribe",
            WsProtocol::LegacyWs => "start",
        };
        ws.send(json!({
            "id": "listed",
            "type": kind,
            "payload": { "query": "", "extensions": persisted_query(TYPENAME) },
        }))
        .await;
        loop {
            let next = ws.next_json().await.expect("a result");
            if next["id"] == "listed" && next["type"] != "complete" {
                assert_eq!(
                    next["payload"]["data"]["__typename"], "Query",
                    "{protocol:?}: {next}"
                );
                break;
            }
        }
    }
}

/// Whether `app` runs `document` now.
async fn runs(app: &TestApp, document: &str) -> bool {
    let (_, body) = post(app, json!({ "query": document }), None).await;
    body.get("errors").is_none()
}

#[tokio::test]
async fn a_reload_puts_the_new_list_in_force_and_a_bad_file_keeps_the_old() {
    let dir = temp_dir();
    let (path, app) = trusting(&dir, &[ME], |_| {}).await;
    assert!(runs(&app, ME).await && !runs(&app, TYPENAME).await);

    write_list(&path, &[ME, TYPENAME]);
    // Not in force before the reload: the file is read at start and on reload only.
    assert!(!runs(&app, TYPENAME).await);
    let count = app.trusted_documents().reload().expect("a good file");
    assert_eq!(count, 2);
    assert!(runs(&app, ME).await && runs(&app, TYPENAME).await);

    for bad in ["{ not json", "[]", r#"{"abc": "{ me { id } }"}"#] {
        std::fs::write(&path, bad).expect("write the file");
        let err = app
            .trusted_documents()
            .reload()
            .expect_err("a bad file is refused");
        assert!(
            err.to_string().contains("persisted-documents.json"),
            "the error names the file: {err}"
        );
        assert!(runs(&app, TYPENAME).await, "{bad}: the old list stays");
    }
    std::fs::remove_file(&path).expect("remove the file");
    assert!(app.trusted_documents().reload().is_err());
    assert!(
        runs(&app, TYPENAME).await,
        "a missing file keeps the old list"
    );
}

#[tokio::test]
async fn requests_in_flight_during_reloads_are_all_answered() {
    let dir = temp_dir();
    let (path, app) = trusting(&dir, &[TYPENAME], |_| {}).await;
    let requests = (0..40).map(|_| post(&app, json!({ "query": TYPENAME }), None));
    let reloads = async {
        for round in 0..20 {
            let documents: &[&str] = if round % 2 == 0 {
                &[TYPENAME, ME]
            } else {
                &[TYPENAME]
            };
            write_list(&path, documents);
            app.trusted_documents().reload().expect("a good file");
            tokio::task::yield_now().await;
        }
    };
    let (answers, ()) = tokio::join!(futures_util::future::join_all(requests), reloads);
    for (status, body) in answers {
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["__typename"], "Query", "{body}");
    }
}

#[tokio::test]
async fn a_bad_file_stops_start_up_with_a_clear_message() {
    let app = TestApp::spawn().await;
    let dir = temp_dir();
    let missing = dir.path().join("missing.json");
    let bad_hash = dir.path().join("sha1.json");
    std::fs::write(
        &bad_hash,
        json!({ "2f4a1c4ba4bcc6bb3e0a4c6da4a3c0b79c2aa2e1": ME }).to_string(),
    )
    .expect("write the file");
    for (path, says) in [
        (&missing, "cannot read the trusted documents"),
        (&bad_hash, "is not a SHA-256 hash"),
    ] {
        let mut config = server::Config::new(app.database_url(), ([127, 0, 0, 1], 0).into());
        config.chat_keys = Some(app.chat_keys.clone());
        config.trusted_documents = Some(path.clone());
        let Err(err) = server::build(app.db.clone(), &config).await else {
            panic!("{} must stop start-up", path.display());
        };
        let message = format!("{err:#}");
        assert!(
            message.contains(says) && message.contains(&*path.to_string_lossy()),
            "{message}"
        );
        assert_eq!(message.matches(says).count(), 1, "said once: {message}");
    }
}

/// SIGHUP reloads the list, as `main` wires it. The signal goes to this test process,
/// which is safe: the handler is registered before the signal is sent (so it can't end
/// the process), and only a server handed to `reload_on_hangup` listens, so the other
/// tests' servers don't notice.
#[cfg(unix)]
#[tokio::test]
async fn sighup_reloads_the_list() {
    let dir = temp_dir();
    let (path, app) = trusting(&dir, &[ME], |_| {}).await;
    let listener = server::trusted::reload_on_hangup(app.trusted_documents().clone())
        .expect("listen for SIGHUP");
    write_list(&path, &[ME, TYPENAME]);
    let sent = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !runs(&app, TYPENAME).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "SIGHUP did not reload the list within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    listener.abort();
}
