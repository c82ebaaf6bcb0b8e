#!/usr/bin/env bash
# CPU engine benchmark: writes a random checkpoint of a preset with real widths (fewer layers
# to keep it small; per-layer cost is reported), then runs gossamer_bench_engine on it for
# several rounds and prints a markdown report: prefill and decode tok/s (batch 1 and larger
# batches), decode ms per layer, peak RSS and achieved weight GB/s against the machine's
# measured read bandwidth (gossamer_bench_matmul --membw when built).
#   bench/run_engine_bench.sh [--preset 20b] [--layers 2] [--prompt 128] [--decode 16]
#                             [--batch 1,4,16] [--runs 3] [--threads N] [--build-dir DIR] [--no-build]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
preset=20b layers=2 prompt=128 decode=16 batch=1,4,16 runs=3 threads=0 build_dir=build/bench build=1
command_line="bench/run_engine_bench.sh $*"
while [ $# -gt 0 ]; do
  case "$1" in
    --preset) preset=$2; shift 2 ;;
    --layers) layers=$2; shift 2 ;;
    --prompt) prompt=$2; shift 2 ;;
    --decode) decode=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "run_engine_bench.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if [ "$build" = 1 ]; then
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGOSSAMER_CUDA=OFF \
      -DGOSSAMER_BUILD_BENCH=ON -DGOSSAMER_BUILD_TESTS=OFF >&2
  fi
  cmake --build "$build_dir" --target gossamer gossamer_bench_engine -j "$(nproc)" >&2
  cmake --build "$build_dir" --target gossamer_bench_matmul -j "$(nproc)" >&2 2>/dev/null || true
fi

model="bench/.scratch/model-$preset-${layers}l"
if [ ! -f "$model/config.json" ]; then
  echo "== writing a random $preset checkpoint with $layers layers to $model" >&2
  rm -rf "$model"
  "$build_dir/gossamer" model init --preset "$preset" --layers "$layers" --seed 1 --out "$model" >&2
fi

out="bench/.scratch/engine-bench.json"
"$build_dir/bench/gossamer_bench_engine" --model "$model" --prompt "$prompt" --decode "$decode" \
  --batch "$batch" --runs "$runs" --threads "$threads" > "$out"

membw=""
if [ -x "$build_dir/bench/gossamer_bench_matmul" ]; then
  membw=$("$build_dir/bench/gossamer_bench_matmul" --membw-only 2>/dev/null | sed -n 's/^membw_gb_s=//p' || true)
fi

python3 - "$out" "$command_line" "$membw" <<'PY'
import json, platform, subprocess, sys
r = json.load(open(sys.argv[1])); cmd = sys.argv[2]; membw = sys.argv[3]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
print(f"- command: `{cmd}`")
print(f"- machine: {cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} CPUs; commit {commit}")
print(f"- backend: {r['backend']}; model: {r['layers']} layers of hidden {r['hidden']}, {r['experts']} experts; "
      f"load {r['load_s']*1e3:.0f} ms (mmap of {r['mapped_mib']:.0f} MiB); peak RSS {r['peak_rss_mib']:.0f} MiB")
print(f"- prompt {r['prompt_tokens']} tokens, {r['decode_tokens']} decode steps, median of {r['runs']} runs after a warm-up")
print()
print("| batch | prefill tok/s | decode step ms | of which unembedding ms | decode ms per layer | decode tok/s (all seqs) | weight GB/s (batch 1) |")
print("|---:|---:|---:|---:|---:|---:|---:|")
for b in r["batches"]:
    gbs = f"{b['decode_weight_gb_s']:.1f}" if "decode_weight_gb_s" in b else ""
    if gbs and membw:
        gbs += f" ({100*b['decode_weight_gb_s']/float(membw):.0f}% of {float(membw):.1f} measured)"
    print(f"| {b['batch']} | {b['prefill_tok_s']:.1f} | {b['decode_step_ms']:.1f} | {b['unembed_ms']:.1f} | "
          f"{b['decode_ms_per_layer']:.2f} | {b['decode_tok_s']:.2f} | {gbs} |")
full = {"20b": 24, "120b": 36}.get(r.get("preset", ""), None)
PY
