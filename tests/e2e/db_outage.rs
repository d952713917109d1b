//! A database that goes away mid-run and comes back: requests fail fast with
//! `DATABASE_UNAVAILABLE`, `/readyz` says 503, the process stays up, and it recovers by
//! itself, chat listener included. PostgreSQL only: the server reaches its database through
//! a TCP [`Proxy`] the test cuts and restores, and the shared PostgreSQL server itself is
//! never touched.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tests::{Instance, TestApp, WsProtocol, bearer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::chat::{send, str_at, trio};
use crate::chat_live::{next_received, subscribed, until_live};

/// The server's wait for a connection in this test (`WORKGRAPH_DB_ACQUIRE_TIMEOUT_SECS`).
const ACQUIRE_TIMEOUT_SECS: u64 = 2;
/// The server's request timeout in this test: a failed request must answer well before it.
const REQUEST_TIMEOUT_SECS: u64 = 30;
/// How soon a request must fail while the database is away.
const PROMPTLY: Duration = Duration::from_secs(10);
/// How long the server may take to notice that the database is back.
const RECOVERY: Duration = Duration::from_secs(30);

const ME: &str = "{ me { id email } }";

/// A TCP proxy on `127.0.0.1:0` in front of one upstream address. While cut, it closes
/// every connection it had open and closes new ones as soon as they are accepted; while
/// stalled, it closes every connection it had open and holds new ones open unanswered (a
/// database behind a network that drops its packets); once restored, it forwards again.
struct Proxy {
    addr: SocketAddr,
    state: Arc<Mutex<ProxyState>>,
    accept: JoinHandle<()>,
}

#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Mode {
    #[default]
    Forward,
    Cut,
    Stall,
}

#[derive(Default)]
struct ProxyState {
    mode: Mode,
    /// One task per accepted connection; aborting it closes its sockets.
    connections: Vec<JoinHandle<()>>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let state = Arc::new(Mutex::new(ProxyState::default()));
        let shared = Arc::clone(&state);
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut state = shared.lock().expect("proxy state");
                let task = match state.mode {
                    // Dropped at once: the client sees its connection end unanswered.
                    Mode::Cut => continue,
                    Mode::Stall => tokio::spawn(async move {
                        let _held = client;
                        std::future::pending::<()>().await;
                    }),
                    Mode::Forward => {
                        let upstream = upstream.clone();
                        tokio::spawn(async move {
                            if let Ok(mut server) = TcpStream::connect(upstream).await {
                                let _ =
                                    tokio::io::copy_bidirectional(&mut client, &mut server).await;
                            }
                        })
                    }
                };
                // Spawned and recorded under the lock, so a change of mode can't miss it.
                state.connections.retain(|task| !task.is_finished());
                state.connections.push(task);
            }
        });
        Self {
            addr,
            state,
            accept,
        }
    }

    /// `url` (a `postgres://` URL) with its host and port replaced by the proxy's.
    fn url_for(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        let credentials = authority
            .rsplit_once('@')
            .map(|(credentials, _)| format!("{credentials}@"))
            .unwrap_or_default();
        format!("{scheme}://{credentials}{}{path}", self.addr)
    }

    /// Closes every open connection; new ones are closed as soon as they arrive.
    async fn cut(&self) {
        self.close_all_then(Mode::Cut).await;
    }

    /// Closes every open connection; new ones are held open and never answered.
    async fn stall(&self) {
        self.close_all_then(Mode::Stall).await;
    }

    async fn close_all_then(&self, mode: Mode) {
        let connections = {
            let mut state = self.state.lock().expect("proxy state");
            state.mode = mode;
            std::mem::take(&mut state.connections)
        };
        for connection in connections {
            connection.abort();
            // Returns once the task is gone, and its sockets with it.
            let _ = connection.await;
        }
    }

    /// Forwards new connections again.
    fn restore(&self) {
        self.state.lock().expect("proxy state").mode = Mode::Forward;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        if let Ok(mut state) = self.state.lock() {
            for connection in state.connections.drain(..) {
                connection.abort();
            }
        }
    }
}

/// `host:port` of a `postgres://` URL.
fn host_and_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    }
}

async fn status_of(instance: &Instance, path: &str) -> u16 {
    instance
        .http()
        .get(instance.url(path))
        .send()
        .await
        .unwrap_or_else(|err| panic!("GET {path}: {err}"))
        .status()
        .as_u16()
}

/// Asserts that `error` is the database outage as a client sees it: the code, a plain
/// message without driver text, and the request id that finds the cause in the log.
fn assert_unavailable(error: &Value, what: &str) {
    assert_eq!(
        error["extensions"]["code"], "DATABASE_UNAVAILABLE",
        "{what}: {error}"
    );
    assert_eq!(
        error["message"], "the database is unavailable, try again shortly",
        "{what}: {error}"
    );
    assert!(
        error["extensions"]["requestId"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{what}: a request id: {error}"
    );
}

/// Whether the test runs on PostgreSQL; says why it is skipped otherwise.
fn on_postgres() -> bool {
    let postgres = std::env::var("TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres"));
    if !postgres {
        eprintln!("db_outage needs PostgreSQL (TEST_DATABASE_URL=postgres://…): skipped on SQLite");
    }
    postgres
}

/// A server instance on `app`'s database through a new [`Proxy`], with this test's
/// timeouts.
async fn behind_proxy(app: &TestApp) -> (Proxy, Instance) {
    let proxy = Proxy::start(host_and_port(app.database_url())).await;
    let server = app
        .instance_at(&proxy.url_for(app.database_url()), |config| {
            config.db_acquire_timeout_secs = ACQUIRE_TIMEOUT_SECS;
            config.request_timeout_secs = REQUEST_TIMEOUT_SECS;
        })
        .await;
    (proxy, server)
}

/// Polls until `server` answers `me` for `token` again, and then until `/readyz` is 200
/// (the chat listener back too); panics after [`RECOVERY`].
async fn until_recovered(server: &Instance, token: &str, user_id: &str) {
    let deadline = Instant::now() + RECOVERY;
    loop {
        let me = server.graphql_as(Some(token), ME, json!({})).await;
        if me.status == 200 && me.body.get("errors").is_none() {
            assert_eq!(me.body["data"]["me"]["id"], user_id);
            break;
        }
        assert_eq!(me.error_code(), "DATABASE_UNAVAILABLE", "{}", me.body);
        assert!(Instant::now() < deadline, "no recovery within {RECOVERY:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    while status_of(server, "/readyz").await != 200 {
        assert!(Instant::now() < deadline, "not ready within {RECOVERY:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_lost_database_fails_requests_fast_and_is_recovered_without_a_restart() {
    if !on_postgres() {
        return;
    }
    let app = TestApp::spawn().await;
    let people = trio(&app).await;
    let (ann, bo) = (&people.ann, &people.bo);
    let (proxy, server) = behind_proxy(&app).await;

    let me = server.graphql_as(Some(&ann.token), ME, json!({})).await;
    assert_eq!(me.data()["me"]["email"], ann.email.as_str());
    assert_eq!(status_of(&server, "/readyz").await, 200);

    // A session this instance has not seen (the one above it keeps in memory for a while,
    // and a request with it would get as far as GraphQL).
    let fresh = crate::chat_live::log_in(&app, ann).await;
    let mut socket = server.ws(WsProtocol::TransportWs).await;
    let init = socket.init(bearer(&ann.token)).await;
    assert!(matches!(init, tests::InitOutcome::Ack), "the socket opens");
    proxy.cut().await;

    // Over a socket, a failed operation's error carries the request id of its log lines.
    socket
        .subscribe("me", "{ workspaces { totalCount } }")
        .await;
    let answer = socket.next_json().await.expect("an answer over the socket");
    assert_unavailable(&answer["payload"]["errors"][0], "over a socket");
    let request_id = answer["payload"]["errors"][0]["extensions"]["requestId"]
        .as_str()
        .unwrap_or_default();
    assert!(
        uuid::Uuid::parse_str(request_id).is_ok(),
        "the error names its request: {answer}"
    );

    // Signed in: the session lookup before GraphQL fails, so nothing ran: 503.
    let started = Instant::now();
    let response = server.graphql_as(Some(&fresh), ME, json!({})).await;
    let took = started.elapsed();
    assert!(took < PROMPTLY, "failed after {took:?}");
    assert_eq!(response.status, 503, "{}", response.body);
    assert!(response.body.get("data").is_none(), "{}", response.body);
    assert_unavailable(&response.body["errors"][0], "signed in");
    let raw = server
        .http()
        .post(server.url("/graphql"))
        .bearer_auth(&fresh)
        .json(&json!({ "query": ME }))
        .send()
        .await
        .expect("POST /graphql");
    assert_eq!(raw.status(), 503);
    assert_eq!(
        raw.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1"),
        "a 503 says when to retry"
    );

    // Anonymous: GraphQL runs and its field fails: a field error in a 200.
    let started = Instant::now();
    let response = server
        .graphql(
            "mutation L($input: LogInInput!) { logIn(input: $input) { token } }",
            json!({ "input": { "email": "nobody@example.io", "password": "whatever it is" } }),
        )
        .await;
    let took = started.elapsed();
    assert!(took < PROMPTLY, "failed after {took:?}");
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(response.body["data"].is_null(), "{}", response.body);
    assert_unavailable(&response.body["errors"][0], "anonymous");

    assert_eq!(status_of(&server, "/readyz").await, 503);
    assert_eq!(status_of(&server, "/healthz").await, 200);
    // The first instance reaches the database directly and is unaffected.
    assert_eq!(status_of(&app, "/readyz").await, 200);

    proxy.restore();

    until_recovered(&server, &ann.token, &ann.id).await;

    // A write through the recovered server, read back.
    let created = server
        .graphql_as(
            Some(&ann.token),
            "mutation W($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }",
            json!({ "input": { "name": "After the outage" } }),
        )
        .await;
    let workspace = str_at(&created.data()["createWorkspace"]["id"]).to_owned();
    let read = server
        .graphql_as(
            Some(&ann.token),
            "query N($id: ID!) { node(id: $id) { ... on Workspace { name } } }",
            json!({ "id": workspace }),
        )
        .await;
    assert_eq!(read.data()["node"]["name"], "After the outage");

    // A subscription on the recovered server hears a message sent through the other
    // instance: it came back through this server's reconnected listener.
    let mut bo_ws = subscribed(&server, WsProtocol::TransportWs, &bo.token).await;
    until_live(&app, ann, &bo.email, &mut [&mut bo_ws]).await;
    let sent = send(&app, ann, &bo.email, "back again").await;
    let received = next_received(&mut bo_ws).await;
    assert_eq!(received["id"], sent["id"]);
    assert_eq!(received["content"], "back again");
}

#[tokio::test]
async fn an_unanswering_database_fails_requests_after_the_acquire_timeout() {
    if !on_postgres() {
        return;
    }
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let (proxy, server) = behind_proxy(&app).await;
    let me = server.graphql_as(Some(&ann.token), ME, json!({})).await;
    assert_eq!(me.data()["me"]["id"], ann.id.as_str());

    // Connections are accepted and never answered: only the acquire timeout ends the wait.
    let fresh = crate::chat_live::log_in(&app, &ann).await;
    proxy.stall().await;
    let started = Instant::now();
    let response = server.graphql_as(Some(&fresh), ME, json!({})).await;
    let took = started.elapsed();
    assert_eq!(response.status, 503, "{}", response.body);
    assert_unavailable(&response.body["errors"][0], "unanswered");
    let timeout = Duration::from_secs(ACQUIRE_TIMEOUT_SECS);
    assert!(
        took >= timeout - Duration::from_millis(100),
        "gave up after {took:?}, before the acquire timeout"
    );
    assert!(took < PROMPTLY, "failed after {took:?}");
    assert_eq!(status_of(&server, "/readyz").await, 503);
    assert_eq!(status_of(&server, "/healthz").await, 200);

    proxy.restore();
    until_recovered(&server, &ann.token, &ann.id).await;
}
