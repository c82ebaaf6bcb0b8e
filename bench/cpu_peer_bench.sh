#!/usr/bin/env bash
# gossamer's CPU engine side by side with llama.cpp on the same checkpoint: a random gpt-oss
# checkpoint at real 20b widths (few layers, or all 24) in the official layout, converted to
# GGUF (bf16 dense weights, MXFP4 experts, as the published GGUFs) for llama.cpp v0.5.0 (the
# prebuilt CPU libraries from npm, driven by ../shared/peers/llama_logits). Each round runs
# both engines one after the other (the order alternates), each bracketed by a read-bandwidth
# probe because this host's bandwidth drifts; the report gives medians over rounds and the
# ratios gossamer / llama.cpp, and each round's ratio. Before an engine runs, the other's file
# is dropped from the page cache (`dd iflag=nocache`): with 13 GB files on a 24 GB machine the
# second engine of a round otherwise loads while the kernel reclaims the first one's pages
# (gossamer's copy then got huge pages for 79% of its bytes instead of all, and in one 3-round
# run each engine decoded 10-30% slower when it ran second; docs/BENCHMARKS.md); --keep-cache
# turns that off. Prints a markdown report; raw JSON lines go to
# bench/.scratch/cpu-peer-<layers>L.jsonl.
#   bench/cpu_peer_bench.sh [--layers 4] [--threads 2] [--prompt 512] [--decode 64]
#                           [--rounds 3] [--reps 2] [--weights memory|mmap]
#                           [--expert-activations int8|fp32] [--dense-activations bf16|fp32]
#                           [--peers DIR] [--keep-cache]
#                           [--build-dir DIR] [--no-build]
# --expert-activations (default int8, the CLI's default) is how gossamer's MXFP4 experts take
# their activations; llama.cpp always quantises them to q8_0, like int8. --dense-activations
# (default bf16, the CLI's default) is how its bf16 dense matmuls take theirs; llama.cpp always
# rounds them to bf16 for bf16 weights, like bf16.
# Needs python3 with numpy (the converter) and npm (the peer's one-time setup). Disk: about
# 1.2 GB + 0.48 GB per layer for the checkpoint and as much again for the GGUF.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
layers=4 threads=2 prompt=512 decode=64 rounds=3 reps=2 build_dir=build/bench build=1 weights=memory
experts=int8 dense=bf16 keep_cache=0
peers="$repo/../shared/peers"
command_line="bench/cpu_peer_bench.sh $*"
while [ $# -gt 0 ]; do
  case "$1" in
    --layers) layers=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --prompt) prompt=$2; shift 2 ;;
    --decode) decode=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --peers) peers=$2; shift 2 ;;
    --weights) weights=$2; shift 2 ;;
    --expert-activations) experts=$2; shift 2 ;;
    --dense-activations) dense=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --keep-cache) keep_cache=1; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "cpu_peer_bench.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for n in "$layers" "$threads" "$prompt" "$decode" "$rounds" "$reps"; do
  case "$n" in ''|*[!0-9]*|0) echo "cpu_peer_bench.sh: '$n' is not a positive integer" >&2; exit 2 ;; esac
done
case "$weights" in memory|mmap) ;; *) echo "cpu_peer_bench.sh: --weights must be memory or mmap" >&2; exit 2 ;; esac
case "$experts" in int8|fp32) ;; *) echo "cpu_peer_bench.sh: --expert-activations must be int8 or fp32" >&2; exit 2 ;; esac
case "$dense" in bf16|fp32) ;; *) echo "cpu_peer_bench.sh: --dense-activations must be bf16 or fp32" >&2; exit 2 ;; esac
if [ ! -f "$peers/llama_logits.c" ]; then
  echo "cpu_peer_bench.sh: no llama.cpp peer at $peers (pass --peers DIR)" >&2
  exit 2
fi
peers=$(cd "$peers" && pwd)
# The converter needs numpy: Debian's python3-numpy when the first python3 on PATH lacks it.
py=python3
python3 -c 'import numpy' 2>/dev/null || py=/usr/bin/python3

# The peer: npm's prebuilt libllama and the C driver (once; see $peers/README.md).
if [ ! -d "$peers/node_modules/@node-llama-cpp/linux-x64" ]; then
  (cd "$peers" && npm install --omit=optional --ignore-scripts >&2)
fi
if [ ! -x "$peers/build/llama_logits" ] || [ ! -x "$peers/build/membw" ]; then
  "$peers/build.sh" >&2
fi

if [ "$build" = 1 ]; then
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGOSSAMER_CUDA=OFF \
      -DGOSSAMER_BUILD_BENCH=ON -DGOSSAMER_BUILD_TESTS=OFF >&2
  fi
  cmake --build "$build_dir" --target gossamer_bench_engine -j "$(nproc)" >&2
fi
engine_bench="$build_dir/bench/gossamer_bench_engine"
[ -x "$engine_bench" ] || { echo "cpu_peer_bench.sh: $engine_bench is not built" >&2; exit 2; }

# One checkpoint for both engines (the same files bench_big.sh in the peer folder uses).
ckpt="$peers/work/big20w-${layers}L"
gguf="$ckpt-bf16.gguf"
if [ ! -f "$ckpt/model/model.safetensors" ]; then
  echo "== writing a random 20b-width checkpoint with $layers layers to $ckpt" >&2
  "$py" "$peers/make_checkpoint.py" "$ckpt" --preset 20b-widths --layers "$layers" --tokens 160 >&2
fi
if [ ! -f "$gguf" ]; then
  echo "== converting it to $gguf" >&2
  "$py" "$peers/gguf_from_original.py" -q "$ckpt/model" "$gguf.tmp" --dense bf16 >&2
  mv "$gguf.tmp" "$gguf"
fi

mkdir -p bench/.scratch
raw="bench/.scratch/cpu-peer-${layers}L.jsonl"
: > "$raw"
membw() {
  "$peers/build/membw" "$threads" | python3 -c 'import json,sys; print(json.dumps({"engine":"membw", **json.load(sys.stdin)}))' >> "$raw"
}
# Drops a file's pages from the page cache (keeps them with --keep-cache).
evict() {
  [ "$keep_cache" = 1 ] || dd if="$1" iflag=nocache count=0 status=none
}
run_llama() {
  evict "$ckpt/model/model.safetensors"
  "$peers/build/llama_logits" bench "$gguf" --threads "$threads" --prefill "$prompt" \
    --decode "$decode" --reps "$reps" 2>/dev/null |
    python3 -c 'import json,sys; print(json.dumps({"engine":"llama.cpp", **json.loads(sys.stdin.read())}))' >> "$raw"
}
run_gossamer() {
  evict "$gguf"
  "$engine_bench" --model "$ckpt/model" --prompt "$prompt" --decode "$decode" --batch 1 --weights "$weights" \
    --expert-activations "$experts" --dense-activations "$dense" \
    --runs "$reps" --threads "$threads" |
    python3 -c 'import json,sys; print(json.dumps({"engine":"gossamer", **json.load(sys.stdin)}))' >> "$raw"
}
for round in $(seq 1 "$rounds"); do
  echo "== round $round of $rounds" >&2
  membw
  if [ $((round % 2)) = 1 ]; then run_llama; membw; run_gossamer; else run_gossamer; membw; run_llama; fi
  membw
done

python3 - "$raw" "$command_line" "$layers" "$threads" "$prompt" "$decode" "$keep_cache" <<'PY'
import json, statistics, subprocess, sys
raw, cmd, layers, threads, prompt, decode, keep_cache = sys.argv[1:8]
rows = [json.loads(l) for l in open(raw) if l.strip()]
med = lambda xs: statistics.median(xs) if xs else float("nan")
g = [r for r in rows if r["engine"] == "gossamer"]
l = [r for r in rows if r["engine"] == "llama.cpp"]
bw = [r["membw_read_gb_s_best"] for r in rows if r["engine"] == "membw"]
g_pp = med([r["batches"][0]["prefill_tok_s"] for r in g]); l_pp = med([r["prefill_tok_s_median"] for r in l])
g_tg = med([r["batches"][0]["decode_tok_s"] for r in g]); l_tg = med([r["decode_tok_s_median"] for r in l])
g_rss = med([r["peak_rss_mib"] / 1024 for r in g]); l_rss = med([r["peak_rss_kib"] / 2**20 for r in l])
g_load = med([r["load_s"] for r in g]); l_load = med([r["load_s"] for r in l])
g_layer = med([r["batches"][0]["decode_ms_per_layer"] for r in g])
g_unembed = med([r["batches"][0]["unembed_ms"] for r in g])
g_gbs = med([r["batches"][0]["decode_weight_gb_s"] for r in g])
cpu = next((x.split(":", 1)[1].strip() for x in open("/proc/cpuinfo") if x.startswith("model name")), "?")
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
print(f"- command: `{cmd}`")
print(f"- machine: {cpu}, {threads} threads; gossamer commit {commit}; llama.cpp v0.5.0 (npm prebuilt CPU libraries, "
      f"KV f16, flash attention auto); read bandwidth {min(bw):.1f}-{max(bw):.1f} GB/s (median {med(bw):.1f}) over the run")
print(f"- checkpoint: random, 20b widths, {layers} layers; prompt {prompt} tokens, then {decode} decode steps; "
      f"medians of {len(g)} rounds x {g[0]['runs'] if g else 0} runs (gossamer) and {len(l)} rounds x {l[0]['reps'] if l else 0} reps (llama.cpp), rounds alternating; "
      f"{'page cache kept between engines' if keep_cache == '1' else 'the other engine evicted from the page cache before each run'}")
print()
print("| | gossamer | llama.cpp | gossamer / llama.cpp |")
print("|---|---:|---:|---:|")
print(f"| prefill tok/s ({prompt} tokens) | {g_pp:.1f} | {l_pp:.1f} | **{g_pp / l_pp:.2f}x** |")
print(f"| decode tok/s (batch 1) | {g_tg:.2f} | {l_tg:.2f} | **{g_tg / l_tg:.2f}x** |")
by_round = lambda key_g, key_l: ", ".join(f"{a / b:.2f}" for a, b in zip([key_g(r) for r in g], [key_l(r) for r in l]))
print(f"| round by round (prefill; decode) | | | {by_round(lambda r: r['batches'][0]['prefill_tok_s'], lambda r: r['prefill_tok_s_median'])}; "
      f"{by_round(lambda r: r['batches'][0]['decode_tok_s'], lambda r: r['decode_tok_s_median'])} |")
print(f"| peak RSS GiB | {g_rss:.1f} | {l_rss:.1f} | {g_rss / l_rss:.2f} |")
print(f"| load s (gossamer --weights {g[0].get('weights', '?') if g else '?'}) | {g_load:.2f} | {l_load:.2f} | |")
print(f"\ngossamer's experts: {g[0].get('expert_activations', 'fp32') if g else '?'} activations, dense matmuls: "
      f"{g[0].get('dense_activations', 'fp32') if g else '?'} activations, kernels {g[0]['backend'] if g else '?'}; "
      f"llama.cpp's: q8_0 and bf16.")
print()
print(f"gossamer's decode step: {g_layer:.2f} ms per layer + {g_unembed:.1f} ms unembedding; "
      f"weights read at {g_gbs:.1f} GB/s")
PY
