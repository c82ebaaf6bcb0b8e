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
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
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
