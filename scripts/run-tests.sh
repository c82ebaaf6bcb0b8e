#!/usr/bin/env bash
# The test command of the README (and of .ci/run): installs dependencies, builds with the
# `ci` preset (release, one CUDA architecture when nvcc exists) and runs every ctest test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --node --browser
# The real MCP servers the MCP client tests talk to (pinned in tests/mcp/package-lock.json).
npm ci --prefix tests/mcp --no-audit --no-fund --loglevel=error >/dev/null
# The clients that judge `gossamer serve`: the openai SDK, Codex CLI and Node 22 for them
# (pinned in tests/clients/package-lock.json).
npm ci --prefix tests/clients --no-audit --no-fund --loglevel=error >/dev/null
# puppeteer-core, which drives Debian's chromium through the trace viewer (tests/ui).
npm ci --prefix tests/ui --no-audit --no-fund --loglevel=error >/dev/null
jobs=$(nproc)
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$jobs"
ctest --preset ci -j "$jobs"
