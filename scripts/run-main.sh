#!/usr/bin/env bash
# The main-job command of the README: installs dependencies, builds the release preset and
# runs the quickstart agent (examples/quickstart) through the real agent loop, the real
# sandboxed python tool and the session store, on the bundled gpt-oss-nano (docs/NANO.md:
# a 4-layer gpt-oss trained by train/ to use the tools) on the CPU engine. When the checkout
# has no bundled model (models/gpt-oss-nano.tar.xz), the replay script next to the spec plays
# the model instead (a scripted test double). With real weights:
# build/release/gossamer run examples/quickstart/agent.yaml --model DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
./build/release/gossamer version
store=build/main/sessions.db
mkdir -p build/main
if [ -f build/release/models/gpt-oss-nano/config.json ]; then
  ./build/release/gossamer run examples/quickstart/agent.yaml --store "$store"
else
  ./build/release/gossamer run examples/quickstart/agent.yaml \
    --replay examples/quickstart/replay.json --store "$store"
fi
./build/release/gossamer sessions list --store "$store" | head -5
