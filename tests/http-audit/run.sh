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
root="$(cd "$here/../.." && pwd)"
bin="${WORKGRAPH_BIN:-target/debug/workgraph}"
case "$bin" in
  /*) ;;
  *) bin="$root/$bin" ;;
esac
if [[ ! -x "$bin" ]]; then
  echo "http-audit: no server binary at $bin (run cargo build first)" >&2
  exit 1
fi

(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# A port the kernel just handed out and released: free unless something grabs it in the
# moment between, which the readiness wait below would show.
port="$(node -e '
  const server = require("net").createServer();
  server.listen(0, "127.0.0.1", () => { console.log(server.address().port); server.close(); });
')"
addr="127.0.0.1:$port"

DATABASE_URL="sqlite://$tmp/db.sqlite?mode=rwc" WORKGRAPH_ADDR="$addr" RUST_LOG="${RUST_LOG:-warn}" \
  "$bin" >"$tmp/server.log" 2>&1 &
server_pid=$!

deadline=$((SECONDS + 60))
until curl -fsS "http://$addr/readyz" >/dev/null 2>&1; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "http-audit: the server exited before it was ready:" >&2
    cat "$tmp/server.log" >&2
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    echo "http-audit: the server was not ready on $addr within 60 s:" >&2
    cat "$tmp/server.log" >&2
    exit 1
  fi
  sleep 0.2
done

node "$here/audit.mjs" "http://$addr/graphql"
