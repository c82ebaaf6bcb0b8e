#!/usr/bin/env bash
# The main-job command of the README: installs dependencies, builds the release preset and
# runs the main job. For now that is `gossamer demo` (tokenize and render a demo
# conversation); the agent issues replace it with a real agent run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
./build/release/gossamer version
./build/release/gossamer demo
