#!/usr/bin/env bash
# GraphiQL in headless Chromium, offline: starts workgraph on a free port with a temporary
# SQLite database and runs graphiql.mjs against it (see there for what it checks).
#
# Needs Node 20+, Debian's chromium (/usr/bin/chromium, or CHROMIUM=...) and a built server,
# `${WORKGRAPH_BIN:-target/debug/workgraph}` relative to the repository root (GraphiQL's
# bundles are embedded from crates/server/graphiql/vendor/ by any build). The only npm
# package here is the test's own driver, playwright-core. The screenshot lands in
# target/graphiql.png.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUST_LOG="${RUST_LOG:-info}"
source "$here/../scratch-server.sh"

cd "$here"
npm ci --no-audit --no-fund

start_scratch_server
mkdir -p "$scratch_root/target"
WORKGRAPH_URL="http://$server_addr" \
  WORKGRAPH_PID="$server_pid" \
  SCREENSHOT="$scratch_root/target/graphiql.png" \
  node graphiql.mjs
