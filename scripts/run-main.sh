#!/usr/bin/env bash
# The main-job command of the README: installs dependencies, builds what the main job needs
# (the `main` preset: the gossamer binary and the bundled model; no tests, no benchmarks;
# the CUDA backend only when a GPU is present, for that GPU's architecture) and runs the
# quickstart agent (examples/quickstart) through the real agent loop, the real sandboxed
# python tool and the session store, on the bundled gpt-oss-nano (docs/NANO.md: a 4-layer
# gpt-oss trained by train/ to use the tools) on the CPU engine. When the checkout has no
# bundled model (models/gpt-oss-nano.tar.xz), the replay script next to the spec plays the
# model instead (a scripted test double). With real weights:
# build/app/gossamer run examples/quickstart/agent.yaml --model DIR.
# Works from a clone anywhere, including under a 0700 /root (the sandbox is handed the
# workspace by the launcher). The full build and the tests: scripts/run-tests.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cuda=(-DGOSSAMER_CUDA=OFF)
if command -v nvcc >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  cuda=(-DGOSSAMER_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=native)
fi
cmake --preset main "${cuda[@]}" >/dev/null
cmake --build --preset main -j "$(nproc)"
./build/app/gossamer version
store=build/main/sessions.db
mkdir -p build/main
if [ -f build/app/models/gpt-oss-nano/config.json ]; then
  ./build/app/gossamer run examples/quickstart/agent.yaml --store "$store"
else
  ./build/app/gossamer run examples/quickstart/agent.yaml \
    --replay examples/quickstart/replay.json --store "$store"
fi
./build/app/gossamer sessions list --store "$store" | head -5
