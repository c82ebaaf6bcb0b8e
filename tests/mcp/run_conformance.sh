#!/bin/sh
# One scenario of the official MCP conformance suite (@modelcontextprotocol/conformance,
# pinned in tests/mcp/package.json with the Node 22 it needs) against gossamer:
#   run_conformance.sh client SCENARIO GOSSAMER   the suite's test server, our client
#   run_conformance.sh server SCENARIO URL        our server at URL, the suite's checks
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
else
  out=$("$node" "$suite" server --url "$target" --scenario "$scenario" 2>&1)
fi
rc=$?
printf '%s\n' "$out" | sed 's/\x1b\[[0-9;]*m//g'
printf '%s\n' "$out" | grep -q "OVERALL: PASSED" || exit 1
exit $rc
