#!/usr/bin/env bash
# Standard GraphQL clients against the real server: installs the pinned npm packages,
# generates TypeScript types from schema.graphql and operations/, type-checks
# typed-usage.ts, then starts the workgraph binary on a free port with a scratch SQLite
# database and runs the node:test suite in test/ against it.
#
#   bash tests/clients/run.sh          # from anywhere; needs Node 20+ and npm
#
# WORKGRAPH_BIN names the server binary (default target/debug/workgraph, relative to the
# repository root); build it first (`cargo build -p server`).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../scratch-server.sh"

cd "$here"
echo "== npm ci"
npm ci --no-audit --no-fund
echo "== codegen"
npm run --silent codegen
echo "== tsc --noEmit"
npm run --silent typecheck

echo "== server"
start_scratch_server

echo "== node --test"
WORKGRAPH_URL="http://$server_addr" node --test --test-timeout=120000 test/*.test.mjs
