//! The `workgraph` binary as an operator meets it: bad configuration ends the process with
//! one clear line, and `export-schema` needs no database.

#![expect(
    clippy::expect_used,
    reason = "a test fails by panicking with a message"
)]

use std::process::{Command, Output};

fn workgraph(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_workgraph"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("WORKGRAPH_ADDR");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run workgraph")
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
    let output = workgraph(
        &[],
        &[(
            "DATABASE_URL",
            "postgres://app:hunter2@127.0.0.1:1/workgraph",
        )],
    );
    assert_one_clear_line(&output, "cannot connect to database");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("hunter2"),
        "the password is redacted: {stderr}"
    );
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
