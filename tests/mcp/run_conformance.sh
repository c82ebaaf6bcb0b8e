#!/bin/sh
# One scenario of the official MCP conformance suite (@modelcontextprotocol/conformance,
# pinned in tests/mcp/package.json with the Node 22 it needs) against gossamer:
#   run_conformance.sh client SCENARIO GOSSAMER   the suite's test server, our client
#   run_conformance.sh server SCENARIO GOSSAMER SPEC
#                                       `gossamer mcp serve SPEC --http 0`, the suite's checks
# Passes when the suite reports every check of the scenario passed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
node="$here/node_modules/.bin/node"
suite="$here/node_modules/.bin/conformance"
if [ ! -x "$node" ] || [ ! -e "$suite" ]; then
  echo "the conformance suite is missing: run npm ci --prefix tests/mcp (scripts/run-tests.sh does)" >&2
  exit 1
fi
mode="$1" scenario="$2" target="$3"
if [ "$mode" = client ]; then
  out=$("$node" "$suite" client --command "sh $here/conformance_client.sh $target" \
        --scenario "$scenario" --timeout 30000 2>&1)
  rc=$?
else
  spec="$4"
  work=$(mktemp -d)
  "$target" mcp serve "$spec" --http 0 --workspace "$work" >"$work/.listening" 2>"$work/.log" &
  server=$!
  url=""
  for _ in $(seq 1 300); do  # up to 30 s: a loaded 2-core machine starts slowly
    url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$work/.listening")
    [ -n "$url" ] && break
    sleep 0.1
  done
  if [ -z "$url" ]; then
    echo "gossamer mcp serve did not start:" >&2; cat "$work/.log" >&2
    kill "$server" 2>/dev/null; rm -rf "$work"; exit 1
  fi
  out=$("$node" "$suite" server --url "$url" --scenario "$scenario" 2>&1)
  rc=$?
  kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"
fi

printf '%s\n' "$out" | sed 's/\x1b\[[0-9;]*m//g'
# every check passed (client mode also says OVERALL: PASSED; server mode only counts)
printf '%s\n' "$out" | sed 's/\x1b\[[0-9;]*m//g' |
  grep -qE "Passed: ([1-9][0-9]*)/\1, 0 failed, 0 warnings" || exit 1
exit $rc
