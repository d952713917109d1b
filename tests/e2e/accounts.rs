//! Accounts and sessions: sign-up, log-in, bearer tokens on HTTP and WebSocket.

use entity::prelude::*;
use entity::{session, user};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use serde_json::{Value, json};
use tests::{InitOutcome, PASSWORD, TestApp, WsProtocol, bearer};

const ME: &str = "query Me { me { id name email phone } }";
const LOG_IN: &str = "mutation LogIn($input: LogInInput!) {
    logIn(input: $input) { token user { id email } }
}";
const SIGN_UP: &str = "mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) { token user { id name email phone } }
}";
const LOG_OUT: &str = "mutation { logOut }";

#[tokio::test]
async fn sign_up_log_in_me_log_out() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;

    let me = app.graphql_as(Some(&ann.token), ME, json!({})).await;
    assert_eq!(me.data()["me"]["id"], ann.id.as_str());
    assert_eq!(me.data()["me"]["email"], "ann@example.io");

    let login = app
        .graphql(
            LOG_IN,
            json!({ "input": { "email": "ann@example.io", "password": PASSWORD } }),
        )
        .await;
    let second = login.data()["logIn"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_ne!(second, ann.token, "each log-in is a new session");
    assert_eq!(login.data()["logIn"]["user"]["id"], ann.id.as_str());

    let out = app.graphql_as(Some(&second), LOG_OUT, json!({})).await;
    assert_eq!(out.data()["logOut"], true);

    let anonymous = app.graphql(ME, json!({})).await;
    assert_eq!(anonymous.data()["me"], Value::Null, "no token: me is null");
    let revoked = app.graphql_as(Some(&second), ME, json!({})).await;
    assert_eq!(
        revoked.error_code(),
        "UNAUTHENTICATED",
        "the logged-out token is dead"
    );
    let other = app.graphql_as(Some(&ann.token), ME, json!({})).await;
    assert_eq!(
        other.data()["me"]["id"],
        ann.id.as_str(),
        "other sessions stay"
    );
}

/// A session is kept in memory for a few seconds, so a known one costs no statement; its
/// end still shows at once where it happened, and on another instance as soon as the
/// notice of it arrives (long before the memory would have let it go).
#[tokio::test]
async fn a_session_ended_on_one_instance_ends_on_every_instance() {
    let app = TestApp::spawn().await;
    if !app.is_postgres() {
        eprintln!("skipped: instances hear of ended sessions through PostgreSQL only");
        return;
    }
    let other = app.another_instance(&app.chat_keys).await;
    let ann = app.sign_up("ann@example.io").await;
    for _ in 0..2 {
        let me = app.graphql_as(Some(&ann.token), ME, json!({})).await;
        assert_eq!(me.data()["me"]["id"], ann.id.as_str());
    }
    let out = other.graphql_as(Some(&ann.token), LOG_OUT, json!({})).await;
    assert_eq!(out.data()["logOut"], true);
    let here = other.graphql_as(Some(&ann.token), ME, json!({})).await;
    assert_eq!(here.error_code(), "UNAUTHENTICATED", "{}", here.body);

    // The first instance had the session in memory; the notice ends it there well within
    // the time the memory keeps it (`CACHE_TTL`, 10 s).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        let there = app.graphql_as(Some(&ann.token), ME, json!({})).await;
        if there.body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the first instance still takes the ended session: {}",
            there.body
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn log_out_without_a_session_is_unauthenticated() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.graphql(LOG_OUT, json!({})).await.error_code(),
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn garbage_and_expired_tokens_are_unauthenticated() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    for token in ["not-a-token", &"A".repeat(43), &format!("{}x", ann.token)] {
        let response = app.graphql_as(Some(token), ME, json!({})).await;
        assert_eq!(response.error_code(), "UNAUTHENTICATED", "token {token:?}");
    }
    let row = Session::find()
        .one(&app.db)
        .await
        .expect("read")
        .expect("a session");
    let mut expire: session::ActiveModel = row.into();
    expire.expires_at = Set(chrono::Utc::now() - chrono::Duration::seconds(1));
    expire.update(&app.db).await.expect("expire the session");
    let expired = app.graphql_as(Some(&ann.token), ME, json!({})).await;
    assert_eq!(expired.error_code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn sign_up_validates_each_field_before_writing() {
    let app = TestApp::spawn().await;
    let valid = json!({ "name": "Ann", "email": "ann@example.io", "password": PASSWORD, "phone": "+1 555 0100" });
    let with = |field: &str, value: Value| {
        let mut input = valid.clone();
        input[field] = value;
        input
    };
    let cases = [
        ("blank name", with("name", json!("   ")), "name"),
        ("name of 51", with("name", json!("n".repeat(51))), "name"),
        (
            "email without @",
            with("email", json!("ann.example.io")),
            "email",
        ),
        (
            "email without domain dot",
            with("email", json!("ann@example")),
            "email",
        ),
        (
            "email with space",
            with("email", json!("a nn@example.io")),
            "email",
        ),
        (
            "email of 256",
            with("email", json!(format!("{}@example.io", "a".repeat(245)))),
            "email",
        ),
        (
            "password of 7",
            with("password", json!("1234567")),
            "password",
        ),
        (
            "password of 129",
            with("password", json!("p".repeat(129))),
            "password",
        ),
        (
            "phone with letters",
            with("phone", json!("call me")),
            "phone",
        ),
        ("phone of 21", with("phone", json!("1".repeat(21))), "phone"),
    ];
    for (case, input, field) in &cases {
        let response = app.graphql(SIGN_UP, json!({ "input": input })).await;
        assert_eq!(
            response.error_code(),
            "BAD_USER_INPUT",
            "{case}: {}",
            response.body
        );
        assert_eq!(
            response.body["errors"][0]["extensions"]["field"], *field,
            "{case}: {}",
            response.body
        );
    }
    assert_eq!(
        User::find().count(&app.db).await.expect("count"),
        0,
        "nothing was written"
    );

    let boundary = json!({
        "name": "n".repeat(50),
        "email": format!("{}@example.io", "a".repeat(64)),
        "password": "p".repeat(128),
        "phone": "1".repeat(20),
    });
    let response = app.graphql(SIGN_UP, json!({ "input": boundary })).await;
    assert_eq!(
        response.data()["signUp"]["user"]["phone"],
        "1".repeat(20),
        "limits are inclusive"
    );
    println!(
        "sign-up validation: {} rejected cases and one boundary case",
        cases.len()
    );
}

#[tokio::test]
async fn emails_are_one_account_in_any_letter_case() {
    let app = TestApp::spawn().await;
    let first = app
        .graphql(
            SIGN_UP,
            json!({ "input": { "name": "Ann", "email": "  Ann@Example.IO ", "password": PASSWORD } }),
        )
        .await;
    assert_eq!(first.data()["signUp"]["user"]["email"], "ann@example.io");
    for email in ["ann@example.io", "ANN@EXAMPLE.IO"] {
        let again = app
            .graphql(
                SIGN_UP,
                json!({ "input": { "name": "Ann", "email": email, "password": PASSWORD } }),
            )
            .await;
        assert_eq!(again.error_code(), "CONFLICT", "{email}");
        assert_eq!(again.body["errors"][0]["extensions"]["field"], "email");
    }
    let login = app
        .graphql(
            LOG_IN,
            json!({ "input": { "email": "ANN@example.io", "password": PASSWORD } }),
        )
        .await;
    assert!(
        login.data()["logIn"]["token"].is_string(),
        "log-in ignores letter case"
    );
    assert_eq!(User::find().count(&app.db).await.expect("count"), 1);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_answer_the_same() {
    let app = TestApp::spawn().await;
    app.sign_up("ann@example.io").await;
    let attempt = |email: &'static str, password: &'static str| {
        app.graphql(
            LOG_IN,
            json!({ "input": { "email": email, "password": password } }),
        )
    };
    let wrong_password = attempt("ann@example.io", "not the password").await;
    let unknown_email = attempt("nobody@example.io", "not the password").await;
    assert_eq!(wrong_password.error_code(), "UNAUTHENTICATED");
    let strip_path = |body: &Value| {
        let mut errors = body["errors"].clone();
        errors[0]["locations"] = Value::Null;
        (errors, body["data"].clone())
    };
    assert_eq!(
        strip_path(&wrong_password.body),
        strip_path(&unknown_email.body)
    );
}

#[tokio::test]
async fn passwords_are_argon2id_and_tokens_are_stored_only_as_digests() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let stored = User::find()
        .one(&app.db)
        .await
        .expect("read")
        .expect("a user");
    let user::Model { password, .. } = stored;
    assert!(
        password.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{password}"
    );
    assert!(!password.contains(PASSWORD));

    let sessions = Session::find().all(&app.db).await.expect("read sessions");
    assert_eq!(sessions.len(), 1);
    let row = format!("{:?}", sessions[0]);
    assert!(
        !row.contains(&ann.token),
        "the clear token is not stored: {row}"
    );
    assert_eq!(sessions[0].token_hash.len(), 32, "a SHA-256 digest");
    assert_ne!(sessions[0].token_hash, ann.token.as_bytes());
    let days = (sessions[0].expires_at - sessions[0].created_at).num_days();
    assert_eq!(days, 30, "sessions last 30 days by default");
}

#[tokio::test]
async fn the_schema_has_no_password_field_on_any_output_type() {
    let app = TestApp::spawn().await;
    let response = app
        .graphql(
            "{ __schema { types { name kind fields { name } } } }",
            json!({}),
        )
        .await;
    let types = response.data()["__schema"]["types"]
        .as_array()
        .expect("types")
        .clone();
    assert!(
        types.iter().any(|t| t["name"] == "User"),
        "User is in the schema"
    );
    for ty in types {
        for field in ty["fields"].as_array().cloned().unwrap_or_default() {
            let name = field["name"].as_str().unwrap_or_default().to_lowercase();
            assert!(!name.contains("password"), "{}.{name}", ty["name"]);
        }
    }
}

#[tokio::test]
async fn the_eleventh_failed_log_in_for_an_email_is_rate_limited() {
    let app = TestApp::spawn().await;
    app.sign_up("ann@example.io").await;
    let wrong = json!({ "input": { "email": "ann@example.io", "password": "wrong password" } });
    for attempt in 1..=10 {
        let response = app.graphql(LOG_IN, wrong.clone()).await;
        assert_eq!(
            response.error_code(),
            "UNAUTHENTICATED",
            "attempt {attempt}"
        );
    }
    let eleventh = app.graphql(LOG_IN, wrong).await;
    assert_eq!(eleventh.error_code(), "RATE_LIMITED");
    let retry_after = eleventh.body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .expect("retryAfter in seconds");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    let right = app
        .graphql(
            LOG_IN,
            json!({ "input": { "email": "ann@example.io", "password": PASSWORD } }),
        )
        .await;
    assert_eq!(
        right.error_code(),
        "RATE_LIMITED",
        "even the right password waits"
    );
    let other = app.sign_up("bob@example.io").await;
    let bob = app
        .graphql(
            LOG_IN,
            json!({ "input": { "email": other.email, "password": PASSWORD } }),
        )
        .await;
    assert!(
        bob.data()["logIn"]["token"].is_string(),
        "other accounts are unaffected"
    );
}

#[tokio::test]
async fn each_log_in_of_a_batch_counts_against_the_rate_limit() {
    // Eleven wrong passwords in one batch: it runs in order, so the eleventh meets the
    // ten failures before it, as it would in separate requests (run side by side, all
    // eleven would pass the check before any failure was counted).
    let app = TestApp::spawn_with_config(|config| config.max_batch = 20).await;
    app.sign_up("ann@example.io").await;
    let attempt = json!({
        "query": LOG_IN,
        "variables": { "input": { "email": "ann@example.io", "password": "wrong password" } },
    });
    let response = app
        .http()
        .post(app.url("/graphql"))
        .json(&vec![attempt; 11])
        .send()
        .await
        .expect("POST /graphql");
    let body: Value = response.json().await.expect("a JSON batch response");
    let codes: Vec<&str> = body
        .as_array()
        .expect("a batch answers an array")
        .iter()
        .map(|result| {
            result["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or_default()
        })
        .collect();
    let mut expected = vec!["UNAUTHENTICATED"; 10];
    expected.push("RATE_LIMITED");
    assert_eq!(codes, expected, "{body}");
}

#[tokio::test]
async fn websocket_needs_a_valid_token_in_connection_init() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    for protocol in [WsProtocol::TransportWs, WsProtocol::LegacyWs] {
        let mut ws = app.ws(protocol).await;
        let outcome = ws.init(bearer(&ann.token)).await;
        assert!(
            matches!(outcome, InitOutcome::Ack),
            "{protocol:?}: {outcome:?}"
        );
        ws.send(json!({
            "id": "1",
            "type": if protocol == WsProtocol::TransportWs { "subscribe" } else { "start" },
            "payload": { "query": "{ me { id } }" }
        }))
        .await;
        let next = ws.next_json().await.expect("a result");
        assert_eq!(
            next["payload"]["data"]["me"]["id"],
            ann.id.as_str(),
            "{protocol:?}: {next}"
        );

        for payload in [json!({}), json!({ "authorization": "Bearer nonsense" })] {
            let mut ws = app.ws(protocol).await;
            let outcome = ws.init(payload.clone()).await;
            assert!(
                matches!(outcome, InitOutcome::Refused(_)),
                "{protocol:?} with {payload}: {outcome:?}"
            );
        }
    }
}
