#!/usr/bin/env bash
# Regenerates the tiktoken cross-check goldens (tests/data/tokenizer/tiktoken_cases.json and
# code_point_classes.txt) with tiktoken@1.0.22 from npm, installed into a scratch directory
# (no package.json in the repo). Deterministic: a rerun must not change the files.
#   scripts/gen-tokenizer-golden.sh           rewrite the goldens
#   scripts/gen-tokenizer-golden.sh --check   regenerate into a temp dir; fail if they differ
# Scratch: $GOSSAMER_NPM_SCRATCH (default bench/.scratch/npm, git-ignored). Needs node and
# npm (scripts/install-deps.sh --node) and the npm registry, once.
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  *) echo "gen-tokenizer-golden.sh: unknown option '$1' (use --check or nothing)" >&2; exit 2 ;;
esac
command -v node >/dev/null || { echo "gen-tokenizer-golden.sh: node not found; run scripts/install-deps.sh --node" >&2; exit 1; }

scratch=${GOSSAMER_NPM_SCRATCH:-bench/.scratch/npm}
if ! grep -q '"version": "1.0.22"' "$scratch/node_modules/tiktoken/package.json" 2>/dev/null; then
  command -v npm >/dev/null || { echo "gen-tokenizer-golden.sh: npm not found; run scripts/install-deps.sh --node" >&2; exit 1; }
  echo "gen-tokenizer-golden.sh: npm install tiktoken@1.0.22 into $scratch" >&2
  mkdir -p "$scratch"
  npm install --prefix "$scratch" --no-audit --no-fund --loglevel=error tiktoken@1.0.22 >&2
fi

if [ "$check" = 0 ]; then
  TIKTOKEN_PREFIX="$scratch" node scripts/gen-tokenizer-golden.mjs
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
TIKTOKEN_PREFIX="$scratch" node scripts/gen-tokenizer-golden.mjs "$tmp"
status=0
for f in tiktoken_cases.json code_point_classes.txt; do
  if cmp -s "$tmp/$f" "tests/data/tokenizer/$f"; then
    echo "gen-tokenizer-golden.sh: tests/data/tokenizer/$f is up to date"
  else
    echo "gen-tokenizer-golden.sh: tests/data/tokenizer/$f differs from a fresh generation" >&2
    status=1
  fi
done
exit $status
