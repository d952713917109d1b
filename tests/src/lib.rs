//! The end-to-end test harness: a real server on `127.0.0.1:0` against a fresh database per
//! test, and small clients for GraphQL over HTTP and WebSocket.
//!
//! The database is a temporary SQLite file unless `TEST_DATABASE_URL` names a PostgreSQL
//! server; then each test gets its own freshly created database, dropped when the test ends.
//! [`TestApp::another_instance`] starts more servers on the same database, as a deployment
//! runs several processes beside each other.

mod database;
mod domain;
mod ws;

use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};

use axum::Router;
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use database::TestDatabase;
pub use domain::bearer;
pub use ws::{InitOutcome, WsClient, WsProtocol};

/// The password every test account signs up with. No response may ever contain it.
pub const PASSWORD: &str = "correct horse battery";

/// A signed-up user: their bearer token and id.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub token: String,
}

/// A running server with its own database. Its request helpers are [`Instance`]'s: a
/// `TestApp` derefs to the instance it started.
pub struct TestApp {
    /// A connection to the same database the server uses, for reading rows directly.
    pub db: DatabaseConnection,
    /// The server's `WORKGRAPH_CHAT_KEYS`: one random key per test.
    pub chat_keys: String,
    instance: Instance,
    // Last, so the server and connections above go before the database is dropped.
    database: TestDatabase,
}

impl TestApp {
    /// Starts the server as `main` does, on a fresh database.
    pub async fn spawn() -> Self {
        Self::spawn_with(|router| router).await
    }

    /// Like [`TestApp::spawn`], letting the test wrap the real router (to observe requests).
    pub async fn spawn_with(wrap: impl FnOnce(Router) -> Router) -> Self {
        Self::spawn_configured(|_| {}, wrap).await
    }

    /// Like [`TestApp::spawn`], with settings changed from their defaults by `configure`
    /// (e.g. a short timeout a test waits out).
    pub async fn spawn_with_config(configure: impl FnOnce(&mut server::Config)) -> Self {
        Self::spawn_configured(configure, |router| router).await
    }

    async fn spawn_configured(
        configure: impl FnOnce(&mut server::Config),
        wrap: impl FnOnce(Router) -> Router,
    ) -> Self {
        let database = TestDatabase::create().await;
        let db = connect(database.url()).await;
        server::db::migrate(&db)
            .await
            .unwrap_or_else(|err| panic!("migrate the test database: {err}"));
        let (_, chat_keys) = graph::chat::keys::ChatKeys::generate("test")
            .unwrap_or_else(|err| panic!("make a chat key: {err}"));
        let instance =
            Instance::start(db.clone(), database.url(), &chat_keys, configure, wrap).await;
        Self {
            db,
            chat_keys,
            instance,
            database,
        }
    }

    /// Starts one more server on this app's database, as another process would be
    /// started beside the first (its own pool and, on PostgreSQL, its own listener), with
    /// `chat_keys` as its `WORKGRAPH_CHAT_KEYS`. It stops when dropped.
    pub async fn another_instance(&self, chat_keys: &str) -> Instance {
        let db = connect(self.database.url()).await;
        Instance::start(db, self.database.url(), chat_keys, |_| {}, |router| router).await
    }

    /// Starts one more server on this app's database reached through `url` instead (the
    /// same database by another route, such as a proxy the test can cut), with the
    /// default settings changed by `configure`. Its pool (sized and timed by the
    /// configuration) and, on PostgreSQL, its chat listener connect through `url`. It
    /// stops when dropped.
    pub async fn instance_at(
        &self,
        url: &str,
        configure: impl FnOnce(&mut server::Config),
    ) -> Instance {
        let mut config = server::Config::new(url, ([127, 0, 0, 1], 0).into());
        config.chat_keys = Some(self.chat_keys.clone());
        configure(&mut config);
        let db = server::db::connect_with(url, server::db::PoolSettings::from_config(&config))
            .await
            .unwrap_or_else(|err| panic!("connect to the test database at {url}: {err}"));
        Instance::start(db, url, &self.chat_keys, |c| *c = config, |router| router).await
    }

    /// The URL of this app's database (on PostgreSQL, on the server `TEST_DATABASE_URL`
    /// names).
    pub fn database_url(&self) -> &str {
        self.database.url()
    }

    /// Whether the test runs on PostgreSQL (some database wording differs).
    pub fn is_postgres(&self) -> bool {
        self.database.is_postgres()
    }
}

impl Deref for TestApp {
    type Target = Instance;

    fn deref(&self) -> &Instance {
        &self.instance
    }
}

impl DerefMut for TestApp {
    fn deref_mut(&mut self) -> &mut Instance {
        &mut self.instance
    }
}

async fn connect(url: &str) -> DatabaseConnection {
    server::db::connect(url, 10)
        .await
        .unwrap_or_else(|err| panic!("connect to the test database: {err}"))
}

/// One running server process's worth: the router on `127.0.0.1:0` and the requests a
/// test sends it. Stops when dropped.
pub struct Instance {
    pub addr: SocketAddr,
    http: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    trusted_documents: Option<server::trusted::TrustedFile>,
    /// Where `GET /metrics` is served when the test set `metrics_addr`.
    metrics_addr: Option<SocketAddr>,
}

impl Instance {
    /// Serves the database `db` (at `url`, migrated) with `chat_keys` and the default
    /// settings changed by `configure`, as `main` does.
    async fn start(
        db: DatabaseConnection,
        url: &str,
        chat_keys: &str,
        configure: impl FnOnce(&mut server::Config),
        wrap: impl FnOnce(Router) -> Router,
    ) -> Self {
        let mut config = server::Config::new(url, ([127, 0, 0, 1], 0).into());
        config.chat_keys = Some(chat_keys.to_owned());
        configure(&mut config);
        let app = server::build(db, &config)
            .await
            .unwrap_or_else(|err| panic!("start the server: {err:#}"));
        let router = wrap(app.router);
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|err| panic!("bind 127.0.0.1:0: {err}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|err| panic!("local address: {err}"));
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let connections = server::conn::ConnectionSettings::new(&config);
        let metrics_addr = match app.metrics_router {
            // Served as `main` serves it, on a listener of its own, until the test ends.
            Some(metrics) => {
                let listener = TcpListener::bind("127.0.0.1:0")
                    .await
                    .unwrap_or_else(|err| panic!("bind 127.0.0.1:0 for metrics: {err}"));
                let addr = listener
                    .local_addr()
                    .unwrap_or_else(|err| panic!("local address: {err}"));
                tokio::spawn(server::serve(
                    listener,
                    metrics,
                    connections,
                    std::future::pending(),
                ));
                Some(addr)
            }
            None => None,
        };
        let server = tokio::spawn(server::serve(listener, router, connections, async {
            let _ = shutdown_rx.await;
        }));
        Self {
            addr,
            http: reqwest::Client::new(),
            shutdown: Some(shutdown_tx),
            server: Some(server),
            trusted_documents: app.trusted_documents,
            metrics_addr,
        }
    }

    /// The URL of `GET /metrics`: on the metrics address when the test set one.
    pub fn metrics_url(&self) -> String {
        format!("http://{}/metrics", self.metrics_addr.unwrap_or(self.addr))
    }

    /// The server's `WORKGRAPH_TRUSTED_DOCUMENTS`, as `main` hands it to its SIGHUP
    /// handler; panics when the test did not set it.
    pub fn trusted_documents(&self) -> &server::trusted::TrustedFile {
        self.trusted_documents
            .as_ref()
            .expect("the test set WORKGRAPH_TRUSTED_DOCUMENTS")
    }

    /// `http://127.0.0.1:port` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A plain HTTP client for requests the GraphQL helpers don't cover.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends `query` with `variables` anonymously.
    pub async fn graphql(&self, query: &str, variables: Value) -> GqlResponse {
        self.graphql_as(None, query, variables).await
    }

    /// Sends `query` with `variables`, with `Authorization: Bearer <token>` when given.
    pub async fn graphql_as(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> GqlResponse {
        let (status, text) = self.post(token, query, &variables, None).await;
        // Secrets never leave the server: checked on every response of every test.
        assert!(
            !text.contains(PASSWORD),
            "a response contains a password: {text}"
        );
        assert!(
            !text.contains("$argon2"),
            "a response contains a password hash: {text}"
        );
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|err| panic!("POST /graphql answered non-JSON {text}: {err}"));
        if body["extensions"]["executor"] == "plan" {
            self.same_on_the_resolvers(token, query, &variables, status, &text)
                .await;
        }
        GqlResponse { status, body }
    }

    /// `POST /graphql` of `query` and `variables`, with the bearer token and the
    /// `x-workgraph-executor` header when given: the status and the body's text.
    async fn post(
        &self,
        token: Option<&str>,
        query: &str,
        variables: &Value,
        executor: Option<&str>,
    ) -> (u16, String) {
        let mut request = self
            .http
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(executor) = executor {
            request = request.header("x-workgraph-executor", executor);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|err| panic!("POST /graphql: {err}"));
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .unwrap_or_else(|err| panic!("POST /graphql body: {err}"));
        (status, text)
    }

    /// The differential test behind every planned answer: the same request run on the
    /// resolvers alone (`x-workgraph-executor: resolvers`) answers the same status and the
    /// same `data`, without errors.
    async fn same_on_the_resolvers(
        &self,
        token: Option<&str>,
        query: &str,
        variables: &Value,
        status: u16,
        planned: &str,
    ) {
        let (resolved_status, resolved) =
            self.post(token, query, variables, Some("resolvers")).await;
        assert_eq!(
            resolved_status, status,
            "the resolvers answer {query} with another status: {resolved}"
        );
        let data = |text: &str| -> Value {
            let body: Value = serde_json::from_str(text)
                .unwrap_or_else(|err| panic!("POST /graphql answered non-JSON {text}: {err}"));
            assert!(body.get("errors").is_none(), "errors beside a plan: {text}");
            body["data"].clone()
        };
        // As JSON values: async-graphql writes an object's keys in the order its fields
        // finish resolving, the plan in the order of the selection (as the spec says).
        assert_eq!(
            data(&resolved),
            data(planned),
            "the plan and the resolvers answer {query} differently\nplanned:   {planned}\nresolvers: {resolved}"
        );
    }

    /// Sends `query` three times and returns the response that took the fewest SQL
    /// statements. Batching gives sibling lookups 1 ms to gather; on a loaded machine a run
    /// can split a batch, and the property a statement test holds (the count follows the
    /// query's shape, not the rows) is about the batching that normally happens.
    pub async fn graphql_fewest_statements(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> GqlResponse {
        let mut best: Option<GqlResponse> = None;
        for _ in 0..3 {
            let response = self.graphql_as(token, query, variables.clone()).await;
            if best
                .as_ref()
                .is_none_or(|best| response.sql_statements() < best.sql_statements())
            {
                best = Some(response);
            }
        }
        best.unwrap_or_else(|| panic!("three attempts were made"))
    }

    /// Signs up `email` (named after its local part) with [`PASSWORD`].
    pub async fn sign_up(&self, email: &str) -> Account {
        let name = email.split('@').next().unwrap_or(email);
        let response = self
            .graphql(
                "mutation SignUp($input: SignUpInput!) {
                    signUp(input: $input) { token user { id email } }
                }",
                json!({ "input": { "name": name, "email": email, "password": PASSWORD } }),
            )
            .await;
        let payload = &response.data()["signUp"];
        let field = |name: &str| {
            payload["user"][name]
                .as_str()
                .or_else(|| payload[name].as_str())
                .unwrap_or_else(|| panic!("signUp without {name}: {}", response.body))
                .to_owned()
        };
        Account {
            id: field("id"),
            email: field("email"),
            token: field("token"),
        }
    }

    /// Opens a GraphQL WebSocket on `/graphql/ws` speaking `protocol`.
    pub async fn ws(&self, protocol: WsProtocol) -> WsClient {
        WsClient::connect(&format!("ws://{}/graphql/ws", self.addr), protocol).await
    }

    /// Signals shutdown and returns the server task, which ends once requests in flight
    /// are answered.
    pub fn shutdown(&mut self) -> JoinHandle<std::io::Result<()>> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.server
            .take()
            .unwrap_or_else(|| panic!("the server was already shut down"))
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// A GraphQL response: the HTTP status and the JSON body.
#[derive(Debug)]
pub struct GqlResponse {
    pub status: u16,
    pub body: Value,
}

impl GqlResponse {
    /// `data`, after asserting that there are no errors.
    pub fn data(&self) -> &Value {
        assert!(
            self.body.get("errors").is_none(),
            "expected no errors, got {}",
            self.body
        );
        &self.body["data"]
    }

    /// The SQL statements the request took (`extensions.sqlStatements`, debug builds).
    pub fn sql_statements(&self) -> u64 {
        self.body["extensions"]["sqlStatements"]
            .as_u64()
            .unwrap_or_else(|| panic!("debug builds report sqlStatements: {}", self.body))
    }

    /// `extensions.code` of the first error, after asserting there is one.
    pub fn error_code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("expected an error with a code, got {}", self.body))
    }
}
