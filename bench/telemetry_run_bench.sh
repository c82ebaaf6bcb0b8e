#!/usr/bin/env bash
# What telemetry adds to a whole `gossamer run` (issue 21): the coding example on the replay
# model (3 sandboxed tool calls, hooks, workspace history), N runs each with telemetry off and
# with GOSSAMER_OTLP_ENDPOINT pointing at a collector double on 127.0.0.1 (python3's
# http.server answering 200), interleaved; prints the medians of the wall times.
#   bench/telemetry_run_bench.sh [GOSSAMER] [RUNS]
set -euo pipefail
bin=$(realpath "${1:-build/ci/gossamer}")
runs=${2:-9}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'kill $collector 2>/dev/null || true; rm -rf "$tmp"' EXIT
cat > "$tmp/collector.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$tmp/collector.py" > "$tmp/port" &
collector=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port")
run_once() {  # $1: endpoint or ""
    rm -rf "$tmp/c" && cp -r "$here/examples/coding" "$tmp/c" && mkdir -p "$tmp/c/out"
    local t0 t1
    t0=$(date +%s%N)
    GOSSAMER_OTLP_ENDPOINT="$1" "$bin" run "$tmp/c/agent.yaml" --replay "$tmp/c/replay.json" \
        --store "$tmp/s.db" --quiet > /dev/null
    t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000 ))
}
off=(); on=()
for _ in $(seq "$runs"); do
    off+=("$(run_once "")")
    on+=("$(run_once "http://127.0.0.1:$port")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m_off=$(median "${off[@]}"); m_on=$(median "${on[@]}")
awk -v n="$runs" -v off="$m_off" -v on="$m_on" 'BEGIN {
    printf "gossamer run (coding example, replay), median of %d: telemetry off %.1f ms, on %.1f ms (%+.1f ms)\n",
        n, off / 1000, on / 1000, (on - off) / 1000 }'
