//! Chat across server processes: two `workgraph` binaries on one PostgreSQL database, a
//! subscriber on the first, a message sent through the second. Runs when
//! `TEST_DATABASE_URL` names a PostgreSQL server (as the end-to-end suite does), and
//! passes trivially on SQLite, where there is one process by design.

#![expect(
    clippy::expect_used,
    reason = "a test fails by panicking with a message"
)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// How long any one step may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(20);

/// A `workgraph` process, killed when dropped.
struct Process {
    child: Child,
    base: String,
}

impl Process {
    /// Starts `workgraph` on `database_url` with `chat_keys` and waits for its address.
    fn start(database_url: &str, chat_keys: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_workgraph"))
            .env("DATABASE_URL", database_url)
            .env("WORKGRAPH_ADDR", "127.0.0.1:0")
            .env("WORKGRAPH_CHAT_KEYS", chat_keys)
            .env("RUST_LOG", "info")
            .env("WORKGRAPH_LOG_FORMAT", "text")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start workgraph");
        let stdout = child.stdout.take().expect("piped stdout");
        let (found, address) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("serving GraphQL on http://").nth(1) {
                    let addr = rest.split('/').next().unwrap_or_default().to_owned();
                    let _ = found.send(addr);
                }
            }
        });
        let addr = address
            .recv_timeout(DEADLINE)
            .expect("workgraph says where it serves");
        Self {
            child,
            base: format!("http://{addr}"),
        }
    }

    async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = reqwest::Client::new()
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let body: Value = request
            .send()
            .await
            .expect("POST /graphql")
            .json()
            .await
            .expect("a JSON answer");
        assert!(body.get("errors").is_none(), "{body}");
        body["data"].clone()
    }

    async fn sign_up(&self, email: &str) -> String {
        let data = self
            .graphql(
                None,
                "mutation($input: SignUpInput!) { signUp(input: $input) { token } }",
                json!({ "input": { "email": email, "name": "Test", "password": "correct horse battery" } }),
            )
            .await;
        data["signUp"]["token"]
            .as_str()
            .expect("a token")
            .to_owned()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A database of its own on the test server, dropped at the end.
struct Scratch {
    admin_url: String,
    name: String,
}

impl Scratch {
    async fn create(admin_url: &str) -> Self {
        let name = format!("wg_processes_{}", uuid::Uuid::now_v7().simple());
        let admin = Database::connect(admin_url)
            .await
            .expect("connect as admin");
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create the database");
        Self {
            admin_url: admin_url.to_owned(),
            name,
        }
    }

    fn url(&self) -> String {
        let (server, _) = self
            .admin_url
            .rsplit_once('/')
            .expect("a URL with a database");
        format!("{server}/{}", self.name)
    }
}

impl Drop for Scratch {
    /// Drops the database, also when the test failed half-way: on a thread with a runtime
    /// of its own, since the test's runtime may be gone.
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let admin = Database::connect(&admin_url).await?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await?;
                admin.close().await?;
                Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if let Ok(Err(err)) = dropped {
            eprintln!("could not drop {}: {err}", self.name);
        }
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text frame as JSON, within the deadline.
async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(DEADLINE, socket.next())
            .await
            .expect("a frame in time")
            .expect("the socket stays open")
            .expect("a readable frame");
        if let Message::Text(text) = frame {
            return serde_json::from_str(&text).expect("JSON");
        }
    }
}

#[tokio::test]
async fn a_message_sent_through_one_process_reaches_a_subscriber_of_another() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        return;
    };
    if !admin_url.starts_with("postgres") {
        return;
    }
    let scratch = Scratch::create(&admin_url).await;
    let (_, keys) = graph::chat::keys::ChatKeys::generate("shared").expect("a chat key");
    // One after the other: each migrates the database at start-up.
    let first = Process::start(&scratch.url(), &keys);
    let second = Process::start(&scratch.url(), &keys);

    let ann = first.sign_up("ann@example.com").await;
    let bo = first.sign_up("bo@example.com").await;
    let workspace = first
        .graphql(
            Some(&ann),
            "mutation { createWorkspace(input: {name: \"Studio\"}) { id } }",
            json!({}),
        )
        .await;
    first
        .graphql(
            Some(&ann),
            "mutation($input: AddWorkspaceMemberInput!) { addWorkspaceMember(input: $input) { id } }",
            json!({ "input": {
                "workspaceId": workspace["createWorkspace"]["id"],
                "email": "bo@example.com",
                "role": "USER",
            }}),
        )
        .await;

    // Bo listens on the first process.
    let mut request = format!("{}/graphql/ws", first.base.replace("http", "ws"))
        .into_client_request()
        .expect("a websocket request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("open the websocket");
    let send = |value: Value| Message::text(value.to_string());
    socket
        .send(send(json!({
            "type": "connection_init",
            "payload": { "authorization": format!("Bearer {bo}") },
        })))
        .await
        .expect("send connection_init");
    assert_eq!(next_json(&mut socket).await["type"], "connection_ack");
    socket
        .send(send(json!({
            "id": "1",
            "type": "subscribe",
            "payload": { "query": "subscription { messageReceived { content sender { id } } }" },
        })))
        .await
        .expect("send subscribe");

    // graphql-transport-ws does not acknowledge a subscription: it is live once a message
    // sent through the first process arrives. Until then, warm-ups go out every 200 ms.
    let send_message = "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }";
    let to_bo = |content: &str| json!({ "input": { "recipientEmail": "bo@example.com", "content": content } });
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < DEADLINE,
            "the subscription never went live"
        );
        first
            .graphql(Some(&ann), send_message, to_bo("warm-up"))
            .await;
        if let Ok(value) =
            tokio::time::timeout(Duration::from_millis(200), next_json(&mut socket)).await
        {
            assert_eq!(value["type"], "next", "{value}");
            break;
        }
    }

    // Sent through the second process, received from the first.
    second
        .graphql(Some(&ann), send_message, to_bo("across processes"))
        .await;
    let sent = Instant::now();
    // Skipping warm-ups still in flight.
    loop {
        let value = next_json(&mut socket).await;
        assert_eq!(value["type"], "next", "{value}");
        let content = &value["payload"]["data"]["messageReceived"]["content"];
        if content != "warm-up" {
            assert_eq!(content, "across processes");
            break;
        }
    }
    let delay = sent.elapsed();
    assert!(delay < Duration::from_secs(1), "delivered after {delay:?}");

    drop(socket);
    drop((first, second));
    drop(scratch);
}
