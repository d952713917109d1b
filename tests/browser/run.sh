#!/usr/bin/env bash
# GraphiQL in headless Chromium, offline: starts workgraph on a free port with a temporary
# SQLite database and runs graphiql.mjs against it (see there for what it checks).
#
# Needs Node 20+, Debian's chromium (/usr/bin/chromium, or CHROMIUM=...) and a built server,
# `${WORKGRAPH_BIN:-target/debug/workgraph}` relative to the repository root, built after
# `npm ci` in crates/server/graphiql so GraphiQL is embedded. The screenshot lands in
# target/graphiql.png.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${WORKGRAPH_BIN:-target/debug/workgraph}"
case "$bin" in
  /*) ;;
  *) bin="$root/$bin" ;;
esac
if [[ ! -x "$bin" ]]; then
  echo "no server binary at $bin: run \`npm ci\` in crates/server/graphiql, then \`cargo build\`" >&2
  exit 1
fi

cd "$here"
npm ci --no-audit --no-fund

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  local status=$?
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -f "$tmp/server.log" ]]; then
    echo "--- server log (last 40 lines) ---" >&2
    tail -n 40 "$tmp/server.log" >&2
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT

# A port the kernel just handed out and released: free unless something grabs it first.
port="$(node -e '
  const server = require("net").createServer();
  server.listen(0, "127.0.0.1", () => { console.log(server.address().port); server.close(); });
')"

DATABASE_URL="sqlite://$tmp/db.sqlite?mode=rwc" \
  WORKGRAPH_ADDR="127.0.0.1:$port" \
  RUST_LOG="${RUST_LOG:-info}" \
  "$bin" >"$tmp/server.log" 2>&1 &
server_pid=$!

mkdir -p "$root/target"
WORKGRAPH_URL="http://127.0.0.1:$port" \
  WORKGRAPH_PID="$server_pid" \
  SCREENSHOT="$root/target/graphiql.png" \
  node graphiql.mjs
