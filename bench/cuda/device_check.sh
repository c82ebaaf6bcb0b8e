#!/usr/bin/env bash
# The CUDA backend's whole device check in one command, for a fresh GPU machine (see
# docs/CUDA.md): configures the standalone build (bench/cuda/CMakeLists.txt: engine, CUDA
# tests, CUDA bench) for sm_90a, builds with all cores, runs the host tests, then each gpu test
# case in its own process (a sticky CUDA error or a hang costs one case, not the rest; kernel
# and block tests first), compute-sanitizer memcheck on the first failing cases, then the benchmarks.
# Logs go to $OUT (or build/device-out); a short table is printed last.
# Needs build/device-deps (bench/cuda/stage_deps.sh) unless the machine has nlohmann/json and
# doctest installed. Budget: about 7 minutes (build ~2-3, tests ~2, bench ~2).
#   bench/cuda/device_check.sh [--skip-bench] [--presets 20b,120b] [--tests PATTERN]
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
out=${OUT:-$root/build/device-out}
mkdir -p "$out"
presets=20b,120b
skip_bench=0
only='*'
while [ $# -gt 0 ]; do
  case "$1" in
    --skip-bench) skip_bench=1 ;;
    --presets) presets=$2; shift ;;
    --tests) only=$2; shift ;;
  esac
  shift
done
export PATH=/usr/local/cuda/bin:$PATH
started=$(date +%s)
budget=${BUDGET:-420}
elapsed() { echo $(( $(date +%s) - started )); }
stamp() { echo "[$(( $(date +%s) - started ))s] $*" | tee -a "$out/summary.log"; }
: > "$out/summary.log"

# At most 8 files come back from $OUT: summary, configure, build, host_tests, gpu_tests,
# sanitizer, bench.
nvidia-smi > "$out/configure.log" 2>&1 || true
stamp "gpu: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null)"
stamp "nvcc: $(nvcc --version | tail -1); $(cmake --version | head -1); $(c++ --version | head -1)"

# cuBLAS is dlopened (engine/cuda/cublas_loader.cpp): make sure the loader can find it, else
# the cuBLAS paths silently fall back to the GEMV kernels and go untested.
if ! ldconfig -p 2>/dev/null | grep -q 'libcublas\.so\.13 '; then
  for dir in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
             $(python3 -c 'import nvidia.cublas, os; print(os.path.join(list(nvidia.cublas.__path__)[0], "lib"))' 2>/dev/null); do
    if [ -e "$dir/libcublas.so.13" ]; then
      export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
      break
    fi
  done
fi
stamp "cublas: $( (ldconfig -p 2>/dev/null | grep -o '/[^ ]*libcublas\.so\.13$'; \
  ld=${LD_LIBRARY_PATH:-}; for d in ${ld//:/ }; do ls "$d"/libcublas.so.13 2>/dev/null; done) |
  head -2 | tr '\n' ' ')"

generator=Ninja
command -v ninja >/dev/null || generator="Unix Makefiles"
# Warnings are not errors here: the machine's host compiler may warn where the build
# machine's does not, and a failed build would cost the whole run.
if ! cmake -S bench/cuda -B build/device -G "$generator" -DCMAKE_BUILD_TYPE=Release \
     -DCMAKE_CUDA_ARCHITECTURES=90a -DGOSSAMER_WERROR=OFF \
     -DGOSSAMER_DEPS="$root/build/device-deps" >> "$out/configure.log" 2>&1; then
  stamp "CONFIGURE FAILED"; tail -40 "$out/configure.log"; exit 1
fi
if ! cmake --build build/device -j "$(nproc)" > "$out/build.log" 2>&1; then
  stamp "BUILD FAILED"; grep -E "error|Error" -A3 "$out/build.log" | head -60; exit 1
fi
stamp "built ($(grep -c -i 'warning' "$out/build.log") warning lines in build.log)"

timeout 60 build/device/gossamer_cuda_host_tests > "$out/host_tests.log" 2>&1
host_rc=$?
stamp "host tests rc=$host_rc: $(grep 'test cases' "$out/host_tests.log")"

# One process per gpu test case: kernels, then blocks (attention, MoE), then the forward pass.
# doctest's -tc takes wildcards and splits on commas, so commas in names become '?'. Past
# $budget seconds the rest is skipped, so that the summary still prints inside a 600 s run.
gpu_bin=build/device/gossamer_cuda_gpu_tests
list=$("$gpu_bin" -ltc | grep -v -e '^\[doctest\]' -e '^====' -e '^$')
mapfile -t cases < <(grep '^cuda kernels' <<<"$list"; grep '^cuda blocks' <<<"$list"
                     grep -v -e '^cuda kernels' -e '^cuda blocks' <<<"$list")
: > "$out/gpu_tests.log"
gpu_rc=0
failed=()
passed=0
for name in "${cases[@]}"; do
  # shellcheck disable=SC2053
  [[ $name == $only ]] || continue
  if [ "$(elapsed)" -gt "$budget" ]; then
    stamp "SKIPPED (out of time): $name"; gpu_rc=1; continue
  fi
  filter=${name//,/?}
  t0=$(date +%s)
  echo "==== $name" >> "$out/gpu_tests.log"
  timeout 150 "$gpu_bin" -tc="$filter" --duration=true >> "$out/gpu_tests.log" 2>&1
  rc=$?
  if [ $rc = 0 ]; then
    passed=$((passed + 1))
  else
    gpu_rc=1
    failed+=("$name")
  fi
  stamp "gpu rc=$rc $(( $(date +%s) - t0 ))s: $name"
done
stamp "gpu tests: $passed passed, ${#failed[@]} failed"
highlights=$(grep -E "ERROR|FATAL|MESSAGE|values:|exception|SKIPPED" "$out/gpu_tests.log" | head -60)

# compute-sanitizer (works on Firecracker machines, not gVisor) on the first two failures:
# names the kernel and the address of an out-of-bounds access or a race.
if [ ${#failed[@]} -gt 0 ] && command -v compute-sanitizer >/dev/null; then
  for name in "${failed[@]:0:2}"; do
    [ "$(elapsed)" -gt "$budget" ] && break
    echo "==== $name" >> "$out/sanitizer.log"
    timeout 150 compute-sanitizer --tool memcheck --print-limit 20 "$gpu_bin" \
      -tc="${name//,/?}" > "$out/sanitizer.one" 2>&1
    stamp "memcheck rc=$?: $name ($(grep -c 'Invalid\|Error' "$out/sanitizer.one") error lines)"
    grep -E "Invalid|Error|at 0x|by thread|Address" "$out/sanitizer.one" | head -15 | tee -a "$out/summary.log"
    cat "$out/sanitizer.one" >> "$out/sanitizer.log"
    rm -f "$out/sanitizer.one"
  done
fi

bench_rc=skipped
if [ "$skip_bench" = 0 ] && [ "$(elapsed)" -gt "$budget" ]; then
  bench_rc="skipped (out of time)"
elif [ "$skip_bench" = 0 ]; then
  timeout $(( 560 - $(elapsed) )) build/device/gossamer_bench_cuda --presets "$presets" > "$out/bench.log" 2>&1
  bench_rc=$?
fi
stamp "bench rc=$bench_rc"

echo
echo "==== gossamer CUDA device check (logs in $out) ===="
cat "$out/summary.log"
echo "---- gpu test messages and failures ----"
echo "$highlights"
grep -E "ERROR|FATAL|exception" "$out/host_tests.log" | head -10
echo "---- bench ----"
[ -f "$out/bench.log" ] && tail -40 "$out/bench.log"
[ "$host_rc" = 0 ] && [ "$gpu_rc" = 0 ]
