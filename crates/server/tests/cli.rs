//! The `workgraph` binary as an operator meets it: bad configuration ends the process with
//! one clear line, `export-schema` needs no database, and `rotate-chat-key` keeps the
//! SQLite key file.

#![expect(
    clippy::expect_used,
    reason = "a test fails by panicking with a message"
)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long one run may take: every command here ends by itself, unless it is broken and
/// serves instead.
const RUN_DEADLINE: Duration = Duration::from_secs(60);

fn workgraph(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_workgraph"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("WORKGRAPH_ADDR")
        .env_remove("WORKGRAPH_CHAT_KEYS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let child = command.spawn().expect("run workgraph");
    let pid = child.id();
    let (done_tx, done) = mpsc::channel();
    std::thread::spawn(move || done_tx.send(child.wait_with_output()));
    match done.recv_timeout(RUN_DEADLINE) {
        Ok(output) => output.expect("wait for workgraph"),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("workgraph {args:?} still runs after {RUN_DEADLINE:?}");
        }
    }
}

fn succeeded(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exits 0; stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    format!("{stdout}{stderr}")
}

fn assert_one_clear_line(output: &Output, mentions: &str) {
    assert!(!output.status.success(), "exits non-zero");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got:\n{stderr}");
    assert!(lines[0].starts_with("error:"), "{stderr}");
    assert!(lines[0].contains(mentions), "mentions {mentions}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn an_unparsable_address_is_one_clear_line() {
    let output = workgraph(&[], &[("WORKGRAPH_ADDR", "localhost")]);
    assert_one_clear_line(&output, "--addr");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn an_unreachable_database_is_one_clear_line_without_the_password() {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let (_, keys) = graph::chat::keys::ChatKeys::generate("k").expect("a chat key");
    let output = workgraph(
        &[],
        &[
            (
                "DATABASE_URL",
                "postgres://app:hunter2@127.0.0.1:1/workgraph",
            ),
            ("WORKGRAPH_CHAT_KEYS", keys.as_str()),
            ("WORKGRAPH_DB_STARTUP_WAIT_SECS", "2"),
        ],
    );
    assert_one_clear_line(&output, "cannot connect to database");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("hunter2"),
        "the password is redacted: {stderr}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("retrying"),
        "a database that does not answer is tried again for the wait: {stdout}"
    );
}

/// Runs `workgraph` on `url` with a long start-up wait and asserts it ends at once, on
/// one line that says the database refused, without retrying.
fn assert_refused_at_once(url: &str) {
    let (_, keys) = graph::chat::keys::ChatKeys::generate("k").expect("a chat key");
    let started = std::time::Instant::now();
    let output = workgraph(
        &[],
        &[
            ("DATABASE_URL", url),
            ("WORKGRAPH_CHAT_KEYS", keys.as_str()),
            ("WORKGRAPH_DB_STARTUP_WAIT_SECS", "3600"),
        ],
    );
    assert_one_clear_line(&output, "refused the connection");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("retrying"), "a refusal is final: {stdout}");
    assert!(started.elapsed() < RUN_DEADLINE);
}

#[test]
fn a_database_file_that_cannot_be_opened_is_refused_at_once() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path()
            .join("no-such-directory")
            .join("work.db")
            .display()
    );
    assert_refused_at_once(&url);
}

#[test]
fn an_unknown_postgres_database_or_role_is_refused_at_once() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        return;
    };
    if !admin_url.starts_with("postgres") {
        return;
    }
    let Some((server, _database)) = admin_url.rsplit_once('/') else {
        panic!("TEST_DATABASE_URL has no database name: {admin_url}");
    };
    assert_refused_at_once(&format!("{server}/no_such_database_here"));
    let Some((scheme, rest)) = server.split_once("://") else {
        panic!("TEST_DATABASE_URL has no scheme: {admin_url}");
    };
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    assert_refused_at_once(&format!("{scheme}://no_such_role:pw@{host}/postgres"));
}

#[test]
fn export_schema_needs_no_database() {
    let output = workgraph(
        &["export-schema"],
        &[("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sdl = String::from_utf8_lossy(&output.stdout);
    assert!(sdl.contains("type Query"), "{sdl}");
}

/// The key ids of a key file, in order (the first is active).
fn key_ids(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("read the key file")
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.split_once(':').expect("id:key").0.to_owned())
        .collect()
}

#[test]
fn rotate_chat_key_makes_the_sqlite_key_file_and_adds_keys_to_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let database = dir.path().join("work.db");
    let url = format!("sqlite://{}?mode=rwc", database.display());
    let env = [("DATABASE_URL", url.as_str())];
    let keys = dir.path().join("work.db.chat-keys");

    succeeded(&workgraph(&["migrate", "up"], &env));
    assert!(!keys.exists(), "migrating makes no keys");

    let log = succeeded(&workgraph(&["rotate-chat-key"], &env));
    assert!(keys.exists(), "the key file sits beside the database");
    assert!(
        log.contains("created a new chat key file") && log.contains("back it up"),
        "the log says so: {log}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&keys)
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
    }
    let first = std::fs::read_to_string(&keys).expect("read the key file");
    let [old] = key_ids(&keys).try_into().expect("one key");

    let log = succeeded(&workgraph(&["rotate-chat-key", "--new-key"], &env));
    let ids = key_ids(&keys);
    assert_eq!(ids.len(), 2, "a second key: {ids:?}");
    assert_ne!(ids[0], old, "the new key comes first");
    assert_eq!(ids[1], old, "the old key stays, to open old messages");
    let now = std::fs::read_to_string(&keys).expect("read the key file");
    assert!(now.ends_with(&first), "the old entry is kept as it was");
    assert!(log.contains(&format!("under key {}", ids[0])), "{log}");
}

#[test]
fn serving_postgres_without_chat_keys_is_one_clear_line_before_connecting() {
    // Nothing listens on port 1: the keys are checked before the database is touched, so
    // nothing is migrated for a server that would refuse to start.
    let output = workgraph(
        &[],
        &[("DATABASE_URL", "postgres://app@127.0.0.1:1/workgraph")],
    );
    assert_one_clear_line(&output, "WORKGRAPH_CHAT_KEYS");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn serving_raises_the_open_files_limit_to_the_hard_limit_and_says_so() {
    let (_, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).expect("the open-files limit");
    let soft = 256.min(hard);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("work.db").display());
    // util-linux's prlimit starts the server with a low soft limit under the same hard one.
    let mut child = Command::new("prlimit")
        .arg(format!("--nofile={soft}:{hard}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_workgraph"))
        .env_remove("WORKGRAPH_CHAT_KEYS")
        .env("DATABASE_URL", &url)
        .env("WORKGRAPH_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .env("WORKGRAPH_LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run workgraph under prlimit");
    let stdout = child.stdout.take().expect("the server's stdout");
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + RUN_DEADLINE;
    let mut seen = Vec::new();
    let raised = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let Ok(line) = lines.recv_timeout(left) else {
            break None;
        };
        if line.contains("serving GraphQL") {
            seen.push(line);
            break None;
        }
        if line.contains("raised the open-file limit") {
            break Some(line);
        }
        seen.push(line);
    };
    let _ = child.kill();
    let _ = child.wait();
    let raised = raised.unwrap_or_else(|| panic!("no line says the limit was raised: {seen:?}"));
    let line: serde_json::Value = serde_json::from_str(&raised).expect("a JSON log line");
    assert_eq!(line["fields"]["before"], soft, "{raised}");
    assert_eq!(line["fields"]["after"], hard, "{raised}");
}
