#!/bin/sh
# The client command the MCP conformance suite runs: `conformance_client.sh GOSSAMER URL`, with
# the scenario in MCP_CONFORMANCE_SCENARIO. Each scenario's test server expects the client to
# connect, list the tools and call the one it offers; gossamer's `mcp` commands do that with
# the client every agent uses (tools/mcp).
gossamer="$1"
url="$2"
case "$MCP_CONFORMANCE_SCENARIO" in
  tools_call) exec "$gossamer" mcp call "$url" add_numbers --args '{"a": 2, "b": 3}' ;;
  sse-retry) exec "$gossamer" mcp call "$url" test_reconnection ;;
  *) exec "$gossamer" mcp tools "$url" ;;
esac
