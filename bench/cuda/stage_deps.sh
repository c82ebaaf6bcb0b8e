#!/usr/bin/env bash
# Copies the header-only dependencies of the standalone CUDA check (nlohmann/json, doctest)
# from this machine's Debian packages into build/device-deps, which the device run carries
# (the GPU machine cannot install packages). Run once, here, before the device run.
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf build/device-deps
mkdir -p build/device-deps/include
cp -r /usr/include/nlohmann /usr/include/doctest build/device-deps/include/
du -sh build/device-deps
