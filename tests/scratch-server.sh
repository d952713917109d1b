# Sourced by the suites that test the built server from outside (tests/http-audit,
# tests/clients, tests/browser): finds the binary and serves a throw-away SQLite database
# on a free port until the calling script exits.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../scratch-server.sh"
#   start_scratch_server        # sets server_addr (127.0.0.1:port) and server_pid
#
# WORKGRAPH_BIN names the binary (default target/debug/workgraph, relative to the repo root);
# RUST_LOG its log filter (default warn). The server's log is shown if the script fails.

scratch_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
server_bin="${WORKGRAPH_BIN:-target/debug/workgraph}"
[[ "$server_bin" = /* ]] || server_bin="$scratch_root/$server_bin"
if [[ ! -x "$server_bin" ]]; then
  echo "no server binary at $server_bin: run \`cargo build -p server\`, or set WORKGRAPH_BIN" >&2
  exit 1
fi

scratch_dir="$(mktemp -d)"
server_pid=""
server_addr=""

stop_scratch_server() {
  local status=$?
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -s "$scratch_dir/server.log" ]]; then
    echo "--- the server's log (last 60 lines) ---" >&2
    tail -n 60 "$scratch_dir/server.log" >&2
  fi
  rm -rf "$scratch_dir"
  exit "$status"
}
trap stop_scratch_server EXIT

# Starts the server and waits up to 60 s for /readyz. A port the kernel just handed out may
# be taken by another process before the server binds it: then the server exits, and
# another port is tried (three in all).
start_scratch_server() {
  local attempt port deadline
  for attempt in 1 2 3; do
    port="$(node -e 'const s = require("net").createServer();
      s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')"
    DATABASE_URL="sqlite://$scratch_dir/db.sqlite?mode=rwc" \
      WORKGRAPH_ADDR="127.0.0.1:$port" \
      RUST_LOG="${RUST_LOG:-warn}" \
      "$server_bin" serve >>"$scratch_dir/server.log" 2>&1 &
    server_pid=$!
    deadline=$((SECONDS + 60))
    until curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; do
      if ! kill -0 "$server_pid" 2>/dev/null; then
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
        continue 2
      fi
      if ((SECONDS >= deadline)); then
        echo "the server was not ready on 127.0.0.1:$port within 60 s" >&2
        return 1
      fi
      sleep 0.2
    done
    server_addr="127.0.0.1:$port"
    echo "serving a scratch database on $server_addr"
    return 0
  done
  echo "the server did not start (attempt $attempt)" >&2
  return 1
}
