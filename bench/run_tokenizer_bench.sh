#!/usr/bin/env bash
# Side-by-side tokenizer benchmark: gossamer's o200k_harmony tokenizer against tiktoken@1.0.22
# (npm; OpenAI's Rust core as WASM) on the same corpus files, single-threaded, alternating the
# two in each round. Prints a markdown report (medians, speed ratios, load times, machine) and
# exits 1 when the two sides produce different tokens for any corpus.
#   bench/run_tokenizer_bench.sh [--rounds N] [--cpu N] [--build-dir DIR] [--no-build] [--jobs N]
#     --rounds N     rounds of (gossamer, tiktoken) runs, each one timed encode per corpus and
#                    mode after a warm-up (default 5; at least 5 for a report)
#     --cpu N        pin both sides to CPU N with taskset (less noise on a busy machine)
#     --build-dir    CMake build directory (default build/bench)
#     --no-build     use the gossamer_bench_tokenizer already built there
#     --reuse-corpora  keep bench/.scratch/corpora from an earlier run (e.g. to compare machines)
#     --jobs N       parallel build jobs (default: all CPUs)
# Needs cmake, ninja, a C++20 compiler, node >= 18 and npm (scripts/install-deps.sh --node).
# Scratch files (corpora, the npm install) go to bench/.scratch, which git ignores.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
rounds=5 cpu="" build_dir="build/bench" build=1 jobs=$(nproc) reuse_corpora=0
command_line="bench/run_tokenizer_bench.sh $*"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --cpu) cpu=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --reuse-corpora) reuse_corpora=1; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "run_tokenizer_bench.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$rounds" =~ ^[0-9]+$ ]] && [ "$rounds" -ge 1 ] || { echo "run_tokenizer_bench.sh: --rounds needs a number >= 1" >&2; exit 2; }
[ "$rounds" -ge 5 ] || echo "run_tokenizer_bench.sh: warning: fewer than 5 rounds; medians are noisy" >&2

command -v node >/dev/null || { echo "run_tokenizer_bench.sh: 'node' not found; run scripts/install-deps.sh --node" >&2; exit 1; }
pin=()
if [ -n "$cpu" ]; then
  command -v taskset >/dev/null || { echo "run_tokenizer_bench.sh: --cpu needs taskset (util-linux)" >&2; exit 1; }
  pin=(taskset -c "$cpu")
fi

scratch="$repo/bench/.scratch"
mkdir -p "$scratch"

# 1. gossamer's benchmark binary (Release).
bench_bin="$build_dir/bench/gossamer_bench_tokenizer"
if [ "$build" = 1 ]; then
  command -v cmake >/dev/null || { echo "run_tokenizer_bench.sh: cmake not found; run scripts/install-deps.sh" >&2; exit 1; }
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    echo "== configuring $build_dir" >&2
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGOSSAMER_CUDA=OFF \
      -DGOSSAMER_BUILD_BENCH=ON >&2
  fi
  echo "== building gossamer_bench_tokenizer" >&2
  cmake --build "$build_dir" --target gossamer_bench_tokenizer -j "$jobs" >&2
fi
[ -x "$bench_bin" ] || { echo "run_tokenizer_bench.sh: $bench_bin is missing (build it, or drop --no-build)" >&2; exit 1; }
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
compiler=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
if [ -n "$build_type" ] && [ "$build_type" != Release ]; then
  echo "run_tokenizer_bench.sh: warning: $build_dir is a $build_type build, not Release" >&2
fi

# 2. tiktoken@1.0.22 from npm, into the scratch dir (no package.json in the repo).
npm_dir="$scratch/npm"
tiktoken_pkg="$npm_dir/node_modules/tiktoken/package.json"
if ! grep -q '"version": "1.0.22"' "$tiktoken_pkg" 2>/dev/null; then
  command -v npm >/dev/null || { echo "run_tokenizer_bench.sh: 'npm' not found; run scripts/install-deps.sh --node" >&2; exit 1; }
  echo "== npm install tiktoken@1.0.22 into $npm_dir" >&2
  mkdir -p "$npm_dir"
  npm install --prefix "$npm_dir" --no-audit --no-fund --loglevel=error tiktoken@1.0.22 >&2
fi

# 3. Corpora, rebuilt every run from the files on this machine (deterministic for a given set
#    of installed packages; their SHA-256 is in the report).
corpora=("$scratch/corpora/en.txt" "$scratch/corpora/code.txt" "$scratch/corpora/multi.txt")
if [ "$reuse_corpora" = 1 ]; then
  corpus_info=""
  for f in "${corpora[@]}"; do
    [ -s "$f" ] || { echo "run_tokenizer_bench.sh: --reuse-corpora but $f is missing" >&2; exit 1; }
    corpus_info+="corpus $(basename "$f" .txt) file=$f bytes=$(stat -c %s "$f") sha256=$(sha256sum "$f" | cut -d' ' -f1) sources=(reused)"$'\n'
  done
  corpus_info=${corpus_info%$'\n'}
else
  echo "== building corpora in $scratch/corpora" >&2
  corpus_info=$(node bench/tiktoken_bench.mjs corpora --out "$scratch/corpora" --repo "$repo")
fi

# 4. Rounds: both implementations on every corpus, alternating which goes first.
results="$scratch/results.txt"
: > "$results"
for ((r = 1; r <= rounds; r++)); do
  echo "== round $r/$rounds" >&2
  run_gossamer() { "${pin[@]}" "$bench_bin" --warmup 1 --reps 1 --mode both "${corpora[@]}" >> "$results"; }
  run_tiktoken() { "${pin[@]}" node bench/tiktoken_bench.mjs run --prefix "$npm_dir" --warmup 1 --reps 1 --mode both "${corpora[@]}" >> "$results"; }
  if (( r % 2 )); then run_gossamer; run_tiktoken; else run_tiktoken; run_gossamer; fi
done

# 5. Report.
header="$scratch/header.md"
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
commit=unknown
if commit=$(git rev-parse --short HEAD 2>/dev/null); then
  git diff --quiet HEAD -- harmony bench 2>/dev/null ||
    commit="$commit (harmony/ or bench/ has uncommitted changes)"
else
  commit=unknown
fi
{
  echo "## Tokenizer benchmark: gossamer vs tiktoken@1.0.22"
  echo
  echo "- command: \`$command_line\`"
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- machine: ${cpu_model:-unknown CPU}, $(nproc) CPUs online, load average $(cut -d' ' -f1-3 /proc/loadavg)${cpu:+, pinned to CPU $cpu}"
  echo "- gossamer: commit $commit, ${build_type:-?} build, ${compiler:-?}"
  echo "- node $(node --version), tiktoken 1.0.22 (WASM), o200k_base ranks + o200k_harmony special tokens"
  echo "- rounds: $rounds (each: gossamer and tiktoken, alternating order; single-threaded on both sides)"
  echo "- corpora:"
  while read -r _ name file bytes sha sources; do
    echo "  - ${name}: ${bytes#bytes=} bytes, ${sha#sha256=}, from ${sources#sources=}"
  done <<< "$corpus_info"
} > "$header"
node bench/tiktoken_bench.mjs report "$results" --header "$header"
