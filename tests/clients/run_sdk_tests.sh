#!/usr/bin/env bash
# ctest: `gossamer serve` on the bundled gpt-oss-nano, judged by the official openai SDK
# (sdk_test.mjs): every scenario on one server, stored responses continued across a server
# restart, and 429 beyond --max-queue. Usage: run_sdk_tests.sh GOSSAMER_BINARY
set -euo pipefail
gossamer=$1
dir=$(cd "$(dirname "$0")" && pwd)
node=$dir/node_modules/.bin/node
if [ ! -x "$node" ]; then
  echo "the test clients are not installed: npm ci --prefix tests/clients" >&2
  exit 1
fi
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

start() {  # start ARGS...: a server on a free port; sets pid and base
  "$gossamer" serve --port 0 --store "$tmp/store.db" "$@" >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  for _ in $(seq 1 300); do
    if grep -q '"listening"' "$tmp/out" 2>/dev/null; then break; fi
    kill -0 "$pid" 2>/dev/null || { cat "$tmp/err" >&2; exit 1; }
    sleep 0.1
  done
  port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$tmp/out")
  base=http://127.0.0.1:$port/v1
}
stop() {  # SIGTERM drains; the server must exit 0
  kill -TERM "$pid"
  wait "$pid"
  pid=
}

start --max-running 16
"$node" "$dir/sdk_test.mjs" "$base" main
"$node" "$dir/sdk_test.mjs" "$base" store "$tmp/state.json"
stop
start
"$node" "$dir/sdk_test.mjs" "$base" restore "$tmp/state.json"
stop
start --max-running 1 --max-queue 0
"$node" "$dir/sdk_test.mjs" "$base" limit
stop
echo "all SDK scenarios passed"
