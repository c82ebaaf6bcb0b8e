#!/usr/bin/env bash
# The main-job command of the README: installs dependencies, builds the release preset and
# runs the quickstart agent (examples/quickstart) through the real agent loop, the real
# sandboxed python tool and the session store. The model side is the replay script next to
# the spec (a scripted model, a test double that needs no weights) until gpt-oss-nano answers
# well enough to be the default (issue 9, docs/NANO.md). With real weights:
# build/release/gossamer run examples/quickstart/agent.yaml --model DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
./build/release/gossamer version
store=build/main/sessions.db
mkdir -p build/main
./build/release/gossamer run examples/quickstart/agent.yaml \
  --replay examples/quickstart/replay.json --store "$store"
./build/release/gossamer sessions list --store "$store" | head -5
