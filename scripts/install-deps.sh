#!/usr/bin/env bash
# Installs gossamer's build and test dependencies from Debian 12 packages (apt-get only;
# nothing is downloaded from anywhere else). Idempotent: prints nothing when all are present.
#   scripts/install-deps.sh            build + test dependencies
#   scripts/install-deps.sh --node     also Node.js and npm (benchmarks against tiktoken)
#   scripts/install-deps.sh --browser  also chromium, which the trace viewer's tests drive
#                                      headless (tests/ui)
#   scripts/install-deps.sh --fuzz     also clang and its libFuzzer runtime
#   scripts/install-deps.sh --train    also PyTorch for train/ (gpt-oss-nano) and OpenBLAS:
#                                      Debian's torch calls the system BLAS, and the reference
#                                      BLAS it gets by default is ~20x slower
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates python3
  libboost-dev libboost-filesystem-dev   # Asio, Beast, Process (headers) + filesystem
  libcurl4-openssl-dev nlohmann-json3-dev libsqlite3-dev doctest-dev libyaml-cpp-dev
  libseccomp-dev libgumbo-dev
)
# bubblewrap: the sandbox benchmark's comparison; python3-*: what the Python tool's
# interpreter offers inside the sandbox (numpy, sympy, pandas, scipy, matplotlib).
packages+=(bubblewrap python3-numpy python3-sympy python3-pandas python3-scipy python3-matplotlib)
want_node=0
for arg in "$@"; do
  case "$arg" in
    --node) want_node=1 ;;
    --browser) packages+=(chromium) ;;
    --fuzz) packages+=(clang libclang-rt-14-dev) ;;
    --train) packages+=(python3-torch python3-numpy libopenblas0-openmp) ;;
    *) echo "install-deps.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done
# Node may come from elsewhere (e.g. NodeSource, which bundles npm and conflicts with
# Debian's npm package): only ask apt for what is really missing.
if [ "$want_node" = 1 ]; then
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps.sh: run as root (missing: ${missing[*]})" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
