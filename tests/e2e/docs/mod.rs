//! The documentation as a reader meets it: the README's first session runs as written, its
//! settings table lists every setting the server reads, the HTTP page names every error
//! code, and every GraphQL example in `docs/` fits the schema.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_graphql::Positioned;
use async_graphql::parser::parse_query;
use async_graphql::parser::types::{
    BaseType, DocumentOperations, OperationType, VariableDefinition,
};
use clap::CommandFactory as _;
use serde_json::{Map, Value, json};
use tests::{InitOutcome, TestApp, WsProtocol, bearer};
use uuid::Uuid;

mod links;
mod pages;

/// The repository's root, where README.md is.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the repository")
        .to_path_buf()
}

/// The text of `path`, relative to the repository's root.
fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|err| panic!("read {path}: {err}"))
}

/// The Markdown pages under `docs/`, as paths relative to the root, sorted.
fn docs_pages() -> Vec<String> {
    let mut pages: Vec<String> = std::fs::read_dir(root().join("docs"))
        .expect("read docs/")
        .map(|entry| entry.expect("a docs/ entry").file_name())
        .filter_map(|name| name.to_str().map(str::to_owned))
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    pages.sort();
    assert!(!pages.is_empty(), "docs/ holds Markdown pages");
    pages
}

/// The bodies of the fenced code blocks of `markdown` whose info string is `language`.
fn code_blocks(markdown: &str, language: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    // Inside a block: whether it is one of `language`'s, and its lines so far.
    let mut open: Option<(bool, String)> = None;
    for line in markdown.lines() {
        let fence = line.trim_start().strip_prefix("```");
        match (open.take(), fence) {
            (None, Some(info)) => open = Some((info.trim() == language, String::new())),
            (None, None) => {}
            (Some((wanted, body)), Some(_)) => {
                if wanted {
                    blocks.push(body);
                }
            }
            (Some((wanted, mut body)), None) => {
                body.push_str(line);
                body.push('\n');
                open = Some((wanted, body));
            }
        }
    }
    blocks
}
