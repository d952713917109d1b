//! Connection-level defences: a slow or silent client, one that never reads, and more
//! connections than the server takes are each cut off or held back, and a well-behaved
//! client is served meanwhile.

use std::time::Duration;

use tests::TestApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Longest wait for the server to do what a test expects; far above every timeout set here.
const DEADLINE: Duration = Duration::from_secs(15);

/// Reads until the server closes the connection: what it sent, or `None` when the
/// connection was reset.
async fn read_to_close(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(DEADLINE, stream.read_to_end(&mut received))
        .await
        .expect("the server closes the connection in time");
    read.ok().map(|_| received)
}

fn request(app: &TestApp, path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nhost: {}\r\n\r\n", app.addr)
}

/// Reads one response to a `GET /healthz` (a short body, `ok`) off a keep-alive
/// connection: its status line.
async fn read_health(stream: &mut TcpStream) -> String {
    let mut buffer = vec![0; 4096];
    let mut received = Vec::new();
    while !received.ends_with(b"ok") {
        let read = tokio::time::timeout(DEADLINE, stream.read(&mut buffer))
            .await
            .expect("the response comes in time")
            .expect("read the response");
        assert!(read > 0, "the connection closed mid-response");
        received.extend_from_slice(&buffer[..read]);
    }
    let text = String::from_utf8_lossy(&received).into_owned();
    text.lines().next().unwrap_or_default().to_owned()
}

/// Waits, reading nothing, until the server has dropped `stream`: once it has (with our
/// requests unread), the connection is reset and a write fails. Each write is a blank line,
/// which HTTP allows between requests.
async fn until_cut_off(stream: &mut TcpStream) {
    let cut = tokio::time::timeout(DEADLINE, async {
        let mut every = tokio::time::interval(Duration::from_millis(50));
        loop {
            every.tick().await;
            if stream.write_all(b"\r\n").await.is_err() {
                return;
            }
        }
    })
    .await;
    assert!(cut.is_ok(), "the server kept a client that reads nothing");
}

async fn health_status(app: &TestApp) -> u16 {
    app.http()
        .get(app.url("/healthz"))
        .timeout(DEADLINE)
        .send()
        .await
        .expect("GET /healthz")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_request_head_that_stops_halfway_gets_408_and_is_closed() {
    let app = TestApp::spawn_with_config(|config| config.header_timeout_secs = 1).await;
    let mut slow = TcpStream::connect(app.addr).await.expect("connect");
    slow.write_all(b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n")
        .await
        .expect("write half a head");
    let received = read_to_close(&mut slow)
        .await
        .expect("the connection ends with a response, not a reset");
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 408 "), "{text}");
    assert_eq!(health_status(&app).await, 200, "others are still served");
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let app = TestApp::spawn_with_config(|config| config.header_timeout_secs = 1).await;
    let mut silent = TcpStream::connect(app.addr).await.expect("connect");
    let received = read_to_close(&mut silent).await.unwrap_or_default();
    assert!(
        received.is_empty(),
        "nothing was asked, so nothing is answered: {}",
        String::from_utf8_lossy(&received)
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let app = TestApp::spawn_with_config(|config| {
        config.header_timeout_secs = 60;
        config.idle_timeout_secs = 1;
    })
    .await;
    let mut idle = TcpStream::connect(app.addr).await.expect("connect");
    idle.write_all(request(&app, "/healthz").as_bytes())
        .await
        .expect("write a request");
    assert!(read_health(&mut idle).await.starts_with("HTTP/1.1 200"));
    let rest = read_to_close(&mut idle).await.unwrap_or_default();
    assert!(
        rest.is_empty(),
        "an idle connection closes quietly: {}",
        String::from_utf8_lossy(&rest)
    );
}

#[tokio::test]
async fn a_keep_alive_connection_outlives_the_header_timeout_between_requests() {
    let app = TestApp::spawn_with_config(|config| {
        config.header_timeout_secs = 1;
        config.idle_timeout_secs = 60;
    })
    .await;
    let mut kept = TcpStream::connect(app.addr).await.expect("connect");
    for _ in 0..2 {
        kept.write_all(request(&app, "/healthz").as_bytes())
            .await
            .expect("write a request");
        assert!(read_health(&mut kept).await.starts_with("HTTP/1.1 200"));
        // Idle for longer than the header timeout: the idle timeout is what applies now.
        tokio::time::sleep(Duration::from_millis(1_500)).await;
    }
    kept.write_all(request(&app, "/healthz").as_bytes())
        .await
        .expect("write a third request");
    assert!(read_health(&mut kept).await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn past_the_connection_cap_new_connections_wait_until_one_closes() {
    let app = TestApp::spawn_with_config(|config| {
        config.max_connections = 2;
        config.header_timeout_secs = 60;
    })
    .await;
    let first = TcpStream::connect(app.addr).await.expect("connect");
    let second = TcpStream::connect(app.addr).await.expect("connect");
    // A third connection is not taken up: its request gets no answer while both are open.
    let mut third = TcpStream::connect(app.addr)
        .await
        .expect("connect (backlog)");
    third
        .write_all(request(&app, "/healthz").as_bytes())
        .await
        .expect("write a request");
    let mut buffer = [0; 64];
    let waited = tokio::time::timeout(Duration::from_millis(500), third.read(&mut buffer)).await;
    assert!(waited.is_err(), "the third connection waits in the backlog");
    drop(first);
    assert!(
        read_health(&mut third).await.starts_with("HTTP/1.1 200"),
        "once a connection closed, the waiting one is served"
    );
    drop(second);
}

#[tokio::test]
async fn a_client_that_never_reads_is_cut_off_after_the_write_timeout() {
    let app = TestApp::spawn_with_config(|config| {
        config.write_timeout_secs = 1;
        config.header_timeout_secs = 60;
    })
    .await;
    let asset = format!("/graphiql/{}/graphiql.min.js", server::graphiql::VERSION);
    let size = {
        let body = app
            .http()
            .get(app.url(&asset))
            .send()
            .await
            .expect("GET the asset")
            .bytes()
            .await
            .expect("the asset's body");
        body.len()
    };
    let socket = TcpSocket::new_v4().expect("a socket");
    socket
        .set_recv_buffer_size(4096)
        .expect("a small receive buffer");
    let mut reader = socket.connect(app.addr).await.expect("connect");
    // Forty copies of a 1 MiB response, pipelined, far more than the socket buffers hold.
    let copies = 40;
    let requests = request(&app, &asset).repeat(copies);
    reader
        .write_all(requests.as_bytes())
        .await
        .expect("write the requests");
    // Not reading is the point: the server's writes stall until its timeout cuts us off.
    until_cut_off(&mut reader).await;
    let received = read_to_close(&mut reader).await.unwrap_or_default();
    assert!(
        received.len() < size * copies,
        "the server stopped writing to a client that read nothing: {} of {} bytes",
        received.len(),
        size * copies
    );
    assert_eq!(health_status(&app).await, 200, "others are still served");
}
