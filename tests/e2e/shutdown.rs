//! Graceful shutdown: a request in flight when the signal comes is still answered.

use std::time::Duration;

use axum::extract::Request;
use axum::middleware::{self, Next};
use tests::TestApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

#[tokio::test]
async fn graceful_shutdown_finishes_an_in_flight_request() {
    let (entered_tx, mut entered) = mpsc::unbounded_channel::<()>();
    let mut app = TestApp::spawn_with(move |router| {
        router.layer(middleware::from_fn(move |request: Request, next: Next| {
            let entered_tx = entered_tx.clone();
            async move {
                let _ = entered_tx.send(());
                next.run(request).await
            }
        }))
    })
    .await;

    // Headers and half the body: the server has the request but cannot finish it yet.
    let body = r#"{"query":"{ __typename }"}"#;
    let (head, tail) = body.split_at(10);
    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    let request = format!(
        "POST /graphql HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{head}",
        app.addr,
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send head");
    entered
        .recv()
        .await
        .expect("the request reached the router");

    let server = app.shutdown();
    assert!(
        !server.is_finished(),
        "the server waits for the request in flight"
    );

    stream
        .write_all(tail.as_bytes())
        .await
        .expect("send the rest");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("read the response");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#""__typename":"Query""#), "{response}");

    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops once the request is answered")
        .expect("server task")
        .expect("serve returns cleanly");
    assert!(
        TcpStream::connect(app.addr).await.is_err(),
        "no new connections after shutdown"
    );
}

#[tokio::test]
async fn a_connection_that_does_not_finish_holds_the_stop_up_for_the_drain_time_only() {
    // Drain time: the request timeout plus the write timeout, 2 s here; the header timeout
    // alone would keep the half-sent head below open for a minute.
    let mut app = TestApp::spawn_with_config(|config| {
        config.request_timeout_secs = 1;
        config.write_timeout_secs = 1;
        config.header_timeout_secs = 60;
    })
    .await;
    let mut stuck = TcpStream::connect(app.addr).await.expect("connect");
    stuck
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .await
        .expect("half a head");
    // The server has the connection once it answers another one.
    let status = app
        .http()
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("GET /healthz")
        .status();
    assert_eq!(status, 200);
    let stopped = tokio::time::timeout(Duration::from_secs(20), app.shutdown()).await;
    assert!(
        matches!(stopped, Ok(Ok(Ok(())))),
        "the stop ends after the drain time: {stopped:?}"
    );
}
