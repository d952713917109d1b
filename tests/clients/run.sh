#!/usr/bin/env bash
# Standard GraphQL clients against the real server: installs the pinned npm packages,
# generates TypeScript types from schema.graphql and operations/ (and the client preset's
# persisted-documents.json), type-checks typed-usage.ts, then starts the workgraph binary on
# a free port with a scratch SQLite database and runs the node:test suite in test/ against
# it. Then a second server runs only the generated list (WORKGRAPH_TRUSTED_DOCUMENTS), and
# the example operations run against it by hash, beside the trusted-documents tests.
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

echo "== a server of trusted documents"
# The server reads a copy, which the reload test edits; the tests read the generated list.
trusted_file="$scratch_dir/persisted-documents.json"
cp generated/client/persisted-documents.json "$trusted_file"
start_scratch_server WORKGRAPH_TRUSTED_DOCUMENTS="$trusted_file"

echo "== node --test, by hash"
# One file at a time: the reload test takes operations off the list for a moment.
WORKGRAPH_URL="http://$server_addr" \
  WORKGRAPH_TRUSTED_DOCUMENTS="$here/generated/client/persisted-documents.json" \
  WORKGRAPH_TRUSTED_FILE="$trusted_file" \
  WORKGRAPH_PID="$server_pid" \
  node --test --test-concurrency=1 --test-timeout=120000 \
  test/operations.test.mjs test/trusted-documents.test.mjs
