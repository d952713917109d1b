//! End-to-end tests: each starts the real server on `127.0.0.1:0` with its own database
//! and talks to it as a client would. One binary, so the suite links once.

#![expect(
    clippy::expect_used,
    reason = "a test fails by panicking with a message"
)]

// The harness, as `tests::…` to the modules below.
#[path = "../src/lib.rs"]
mod harness;
extern crate self as tests;
pub use harness::*;

mod accounts;
mod authorization;
mod chat;
mod chat_at_rest;
mod chat_live;
mod connections;
mod constraints;
mod db_outage;
mod deployment;
mod docs;
mod domain;
mod fuzz;
mod global_ids;
mod graphiql;
mod http;
mod http_limits;
mod http_spec;
mod membership;
mod metrics;
mod migrations;
mod nested;
mod nodes;
mod planned;
mod query_limits;
mod reports;
mod schema_docs;
mod schema_file;
mod seed;
mod shutdown;
mod slow_clients;
mod trusted_documents;
mod websocket;
mod ws_hygiene;
mod ws_limits;
