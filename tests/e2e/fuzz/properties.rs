//! The properties every answer must have, and the test that runs each family of requests
//! against them.

use super::strategies::{
    bad_ids_and_cursors, hostile_variables, huge_body, malformed_document, raw_body, stored_text,
};
use super::*;

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
