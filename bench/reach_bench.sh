#!/bin/bash
# Issue 22's costs, medians of N runs on this machine (docs/BENCHMARKS.md "Reach"):
#  1. one sandboxed `true` per sandbox mode (userns, root as root, container) through
#     `gossamer sandbox exec` (process start included);
#  2. a sandbox with a domain allowlist: the extra start cost (the netns listener helper and
#     the proxy thread), and fetching a 1 MiB file from a local HTTP server through the proxy
#     vs the same fetch with the whole network (--net);
#  3. one MCP tools/call round trip over stdio and over Streamable HTTP (server-everything's
#     get-sum, the client reused: `gossamer mcp call` per call, so process start included).
# Usage: bench/reach_bench.sh [GOSSAMER] [N]
set -euo pipefail
G=${1:-build/ci/gossamer}
N=${2:-15}
here=$(cd "$(dirname "$0")/.." && pwd)
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
run_n() { for _ in $(seq "$N"); do ms "$@"; done | median; }

echo "sandbox exec -- true (ms, median of $N)"
for mode in userns root container; do
  [ "$mode" = root ] && [ "$(id -u)" != 0 ] && continue
  printf '  %-10s %s\n' "$mode" "$(run_n "$G" sandbox exec --mode "$mode" -- true)"
done
printf '  %-10s %s\n' "allowlist" "$(run_n "$G" sandbox exec --net-allow localhost,127.0.0.1 -- true)"

site=$(mktemp -d); head -c 1048576 /dev/urandom > "$site/blob"
port=$((30000 + RANDOM % 20000))
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$site" >/dev/null 2>&1 &
server=$!; trap 'kill $server 2>/dev/null; rm -rf "$site"' EXIT
sleep 1
fetch="import urllib.request; urllib.request.urlopen('http://localhost:$port/blob').read()"
echo "fetch 1 MiB from a local server, python3 urllib in the sandbox (ms, median of $N)"
printf '  %-10s %s\n' "--net" "$(run_n "$G" sandbox exec --net -- python3 -c "$fetch")"
printf '  %-10s %s\n' "proxy" "$(run_n "$G" sandbox exec --net-allow localhost,127.0.0.1 -- python3 -c "$fetch")"

everything="$here/tests/mcp/node_modules/.bin/mcp-server-everything"
if [ -x "$everything" ]; then
  mport=$((30000 + RANDOM % 20000))
  PORT=$mport node "$here/tests/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js" streamableHttp >/dev/null 2>&1 &
  mcp=$!; trap 'kill $server $mcp 2>/dev/null; rm -rf "$site"' EXIT
  sleep 1.5
  echo "gossamer mcp call get-sum, process start and handshake included (ms, median of $N)"
  printf '  %-10s %s\n' "stdio" "$(run_n "$G" mcp call get-sum --args '{"a":1,"b":2}' -- "$everything")"
  printf '  %-10s %s\n' "http" "$(run_n "$G" mcp call "http://127.0.0.1:$mport/mcp" get-sum --args '{"a":1,"b":2}')"
fi
