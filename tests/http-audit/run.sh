#!/usr/bin/env bash
# Audits the server's GraphQL over HTTP with graphql-http: installs the pinned audit suite
# (npm ci), starts the built server on a free port with a throw-away SQLite database, waits
# until it is ready, runs audit.mjs against it and stops the server, also on failure.
#
# Usage (from anywhere): bash tests/http-audit/run.sh
# Needs: Node 20+ with npm, and the server built (`cargo build` or `cargo test` made
# target/debug/workgraph; WORKGRAPH_BIN names another binary, relative to the repo root).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../scratch-server.sh"

(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

start_scratch_server
node "$here/audit.mjs" "http://$server_addr/graphql"
