# Shared by the client tests: the clients' install check and a `gossamer serve` on a free
# port (start_server ARGS... sets $pid, $port, $base; stop_server sends SIGTERM and requires
# a clean exit), a scratch folder $tmp removed at exit with the server. Source it after setting
# $gossamer.
clients_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
node_bin=$clients_dir/node_modules/.bin
if [ ! -x "$node_bin/node" ] || [ ! -x "$node_bin/codex" ]; then
  echo "the test clients are not installed: npm ci --prefix tests/clients" >&2
  exit 1
fi
pid=
tmp=$(mktemp -d)
# On a failure, say whether the server was still alive and what it wrote to stderr.
cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ -n "$pid" ]; then
    if kill -0 "$pid" 2>/dev/null; then echo "the server (pid $pid) was still running" >&2
    else echo "the server (pid $pid) had exited" >&2; fi
    tail -n 20 "$tmp/err" >&2 2>/dev/null || true
  fi
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
start_server() {
  "$gossamer" serve --port 0 "$@" >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  for _ in $(seq 1 300); do
    grep -q '"listening"' "$tmp/out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$tmp/err" >&2; exit 1; }
    sleep 0.1
  done
  port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$tmp/out")
  base=http://127.0.0.1:$port/v1
}
stop_server() {
  kill -TERM "$pid"
  wait "$pid"
  pid=
}
