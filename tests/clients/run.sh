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
root="$(cd "$here/../.." && pwd)"
bin="${WORKGRAPH_BIN:-target/debug/workgraph}"
[[ "$bin" = /* ]] || bin="$root/$bin"
if [[ ! -x "$bin" ]]; then
  echo "run.sh: no server binary at $bin (cargo build -p server, or set WORKGRAPH_BIN)" >&2
  exit 1
fi

cd "$here"
echo "== npm ci"
npm ci --no-audit --no-fund
echo "== codegen"
npm run --silent codegen
echo "== tsc --noEmit"
npm run --silent typecheck

tmp="$(mktemp -d)"
server_pid=""
stop_server() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
cleanup() {
  stop_server
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  node -e 'const s = require("net").createServer();
    s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# Starts the server and waits (up to 60 s) for /readyz. Another process may take the port
# between free_port and the bind: then the server exits and the caller tries another.
start_server() {
  local port="$1" deadline=$((SECONDS + 60))
  DATABASE_URL="sqlite://$tmp/db.sqlite?mode=rwc" \
    WORKGRAPH_ADDR="127.0.0.1:$port" \
    RUST_LOG="${RUST_LOG:-warn}" \
    "$bin" serve >>"$tmp/server.log" 2>&1 &
  server_pid=$!
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      wait "$server_pid" 2>/dev/null || true
      server_pid=""
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "run.sh: the server was not ready within 60 s" >&2
      return 2
    fi
    sleep 0.2
  done
}

echo "== server"
started=""
for _ in 1 2 3; do
  port="$(free_port)"
  status=0
  start_server "$port" || status=$?
  if ((status == 0)); then
    started="$port"
    break
  elif ((status == 2)); then
    break
  fi
done
if [[ -z "$started" ]]; then
  echo "run.sh: the server did not start; its log:" >&2
  cat "$tmp/server.log" >&2
  exit 1
fi
echo "serving on 127.0.0.1:$started"

echo "== node --test"
status=0
WORKGRAPH_URL="http://127.0.0.1:$started" node --test --test-timeout=120000 test/*.test.mjs ||
  status=$?
if ((status != 0)); then
  echo "run.sh: tests failed; the server's log:" >&2
  cat "$tmp/server.log" >&2
fi
exit "$status"
