# Sourced by the suites that test the built server from outside (tests/http-audit,
# tests/clients, tests/browser): finds the binary and serves a throw-away SQLite database
# on a free port until the calling script exits.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../scratch-server.sh"
#   start_scratch_server        # sets server_addr (127.0.0.1:port) and server_pid
#   start_scratch_server WORKGRAPH_TRUSTED_DOCUMENTS=/path/to/list.json
#                               # another server, on its own database, with more settings
#
# Each call starts one more server (its own database and log) and sets server_addr and
# server_pid to it; all of them stop when the script exits. WORKGRAPH_BIN names the binary
# (default target/debug/workgraph, relative to the repo root); RUST_LOG its log filter
# (default warn). The servers' logs are shown if the script fails.

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
scratch_pids=()
scratch_count=0

stop_scratch_server() {
  local status=$?
  local pid log
  for pid in "${scratch_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [[ $status -ne 0 ]]; then
    for log in "$scratch_dir"/server*.log; do
      [[ -s "$log" ]] || continue
      echo "--- $(basename "$log") (last 60 lines) ---" >&2
      tail -n 60 "$log" >&2
    done
  fi
  rm -rf "$scratch_dir"
  exit "$status"
}
trap stop_scratch_server EXIT

# Starts a server, with the `NAME=value` settings given as arguments, and waits up to 60 s
# for /readyz. A port the kernel just handed out may be taken by another process before the
# server binds it: then the server exits, and another port is tried (three in all). A server
# that exits for any other reason (a bad setting) ends the attempt at once.
start_scratch_server() {
  local attempt port deadline name log
  scratch_count=$((scratch_count + 1))
  # The first server keeps the names the other suites have always seen.
  if ((scratch_count == 1)); then name="db.sqlite"; log="server.log"; else
    name="db-$scratch_count.sqlite"; log="server-$scratch_count.log"; fi
  for attempt in 1 2 3; do
    port="$(node -e 'const s = require("net").createServer();
      s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')"
    env DATABASE_URL="sqlite://$scratch_dir/$name?mode=rwc" \
      WORKGRAPH_ADDR="127.0.0.1:$port" \
      RUST_LOG="${RUST_LOG:-warn}" \
      "$@" \
      "$server_bin" serve >>"$scratch_dir/$log" 2>&1 &
    server_pid=$!
    scratch_pids+=("$server_pid")
    deadline=$((SECONDS + 60))
    until curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; do
      if ! kill -0 "$server_pid" 2>/dev/null; then
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
        if grep -q "cannot listen on" "$scratch_dir/$log"; then continue 2; fi
        echo "the server stopped at start-up:" >&2
        tail -n 5 "$scratch_dir/$log" >&2
        return 1
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
