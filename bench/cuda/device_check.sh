#!/usr/bin/env bash
# The CUDA backend's whole device check in one command, for a fresh GPU machine (see
# docs/CUDA.md): configures the standalone build (bench/cuda/CMakeLists.txt: engine, CUDA
# tests, CUDA bench) for sm_90a, builds with all cores, runs the host and gpu tests, then the
# benchmarks; logs go to $OUT (or build/device-out) and a short table is printed last.
# Needs build/device-deps (bench/cuda/stage_deps.sh) unless the machine has nlohmann/json and
# doctest installed. Budget: about 8 minutes (build ~2-3, tests ~2, bench ~3).
#   bench/cuda/device_check.sh [--skip-bench] [--presets 20b,120b]
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
out=${OUT:-$root/build/device-out}
mkdir -p "$out"
presets=20b,120b
skip_bench=0
while [ $# -gt 0 ]; do
  case "$1" in
    --skip-bench) skip_bench=1 ;;
    --presets) presets=$2; shift ;;
  esac
  shift
done
export PATH=/usr/local/cuda/bin:$PATH
started=$(date +%s)
stamp() { echo "[$(( $(date +%s) - started ))s] $*" | tee -a "$out/summary.log"; }
: > "$out/summary.log"

nvidia-smi > "$out/nvidia-smi.log" 2>&1 || true
stamp "gpu: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null)"
stamp "nvcc: $(nvcc --version | tail -1); cmake: $(cmake --version | head -1)"

generator=Ninja
command -v ninja >/dev/null || generator="Unix Makefiles"
if ! cmake -S bench/cuda -B build/device -G "$generator" -DCMAKE_BUILD_TYPE=Release \
     -DCMAKE_CUDA_ARCHITECTURES=90a -DGOSSAMER_DEPS="$root/build/device-deps" \
     > "$out/configure.log" 2>&1; then
  stamp "CONFIGURE FAILED"; tail -40 "$out/configure.log"; exit 1
fi
if ! cmake --build build/device -j "$(nproc)" > "$out/build.log" 2>&1; then
  stamp "BUILD FAILED"; grep -E "error|Error" -A3 "$out/build.log" | head -60; exit 1
fi
stamp "built"

timeout 60 build/device/gossamer_cuda_host_tests > "$out/host_tests.log" 2>&1
host_rc=$?
stamp "host tests rc=$host_rc: $(grep 'test cases' "$out/host_tests.log")"
timeout 300 build/device/gossamer_cuda_gpu_tests --duration=true > "$out/gpu_tests.log" 2>&1
gpu_rc=$?
stamp "gpu tests rc=$gpu_rc: $(grep 'test cases' "$out/gpu_tests.log")"
grep -E "ERROR|FATAL|MESSAGE|max rel|vs cpu|vs prefill|greedy|argmax|cuda \(" \
  "$out/gpu_tests.log" | head -60

bench_rc=skipped
if [ "$skip_bench" = 0 ]; then
  timeout 240 build/device/gossamer_bench_cuda --presets "$presets" > "$out/bench.log" 2>&1
  bench_rc=$?
fi
stamp "bench rc=$bench_rc"

echo
echo "==== gossamer CUDA device check (logs in $out) ===="
cat "$out/summary.log"
echo "---- failures ----"
grep -E "ERROR|FATAL|exception" "$out/gpu_tests.log" "$out/host_tests.log" | head -20
echo "---- bench ----"
[ -f "$out/bench.log" ] && cat "$out/bench.log"
[ "$host_rc" = 0 ] && [ "$gpu_rc" = 0 ]
