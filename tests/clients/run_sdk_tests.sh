#!/usr/bin/env bash
# ctest: `gossamer serve` on the bundled gpt-oss-nano, judged by the official openai SDK
# (sdk_test.mjs): every scenario on one server, stored responses continued across a server
# restart, and 429 beyond --max-queue. Usage: run_sdk_tests.sh GOSSAMER_BINARY
set -euo pipefail
gossamer=$1
source "$(dirname "$0")/server_lib.sh"
node=$node_bin/node
dir=$clients_dir

start_server --store "$tmp/store.db" --max-running 16
"$node" "$dir/sdk_test.mjs" "$base" main
"$node" "$dir/sdk_test.mjs" "$base" store "$tmp/state.json"
stop_server
start_server --store "$tmp/store.db"
"$node" "$dir/sdk_test.mjs" "$base" restore "$tmp/state.json"
stop_server
start_server --store "$tmp/store.db" --max-running 1 --max-queue 0
"$node" "$dir/sdk_test.mjs" "$base" limit
stop_server
echo "all SDK scenarios passed"
