#!/usr/bin/env bash
# ctest: Codex CLI (@openai/codex 0.169.0 from npm, tests/clients) with a custom provider
# (wire_api = "responses") runs `codex exec` against `gossamer serve` on the bundled
# gpt-oss-nano: the run ends with a final message and no protocol error, and the second turn
# (`codex exec resume --last`) is served mostly from the prefix cache (Codex resends its
# whole ~8K-token prompt every turn). Usage: run_codex_test.sh GOSSAMER_BINARY
set -euo pipefail
gossamer=$1
source "$(dirname "$0")/server_lib.sh"
codex=$node_bin/codex
start_server --no-store
mkdir -p "$tmp/codex-home" "$tmp/work"
cat >"$tmp/codex-home/config.toml" <<TOML
model = "gpt-oss-nano"
model_provider = "gossamer"
[model_providers.gossamer]
name = "gossamer"
base_url = "http://127.0.0.1:$port/v1"
wire_api = "responses"
TOML
metric() { curl -s "http://127.0.0.1:$port/metrics" | sed -n "s/^$1 //p"; }
export CODEX_HOME=$tmp/codex-home PATH=$node_bin:$PATH
cd "$tmp/work"
run() {  # run NAME ARGS...: codex must exit 0, print a final message, report no error
  if ! timeout 240 "$codex" exec --skip-git-repo-check "${@:2}" </dev/null >"$tmp/$1.out" 2>"$tmp/$1.err"; then
    echo "codex $1 failed:" >&2; tail -c 3000 "$tmp/$1.err" >&2; exit 1
  fi
  if grep -Eiq '^(ERROR|error):|stream error|stream disconnected' "$tmp/$1.err"; then
    echo "codex $1 reported an error:" >&2; grep -Ei 'error' "$tmp/$1.err" | head >&2; exit 1
  fi
  [ -s "$tmp/$1.out" ] || { echo "codex $1: no final message" >&2; tail -c 2000 "$tmp/$1.err" >&2; exit 1; }
  echo "ok codex $1: final message: $(head -c 80 "$tmp/$1.out" | tr '\n' ' ')"
}
run first "What is 3921 * 47?"
prompt1=$(metric gossamer_prompt_tokens_total)
cached1=$(metric gossamer_cached_prompt_tokens_total)
run second resume --last "And what is 2 * 2?"
prompt2=$(metric gossamer_prompt_tokens_total)
cached2=$(metric gossamer_cached_prompt_tokens_total)
new_prompt=$((prompt2 - prompt1))
new_cached=$((cached2 - cached1))
echo "second turn: $new_prompt prompt tokens, $new_cached from the prefix cache"
# Most of the second turn's prompt is the first turn's: it must come from the cache.
[ "$new_cached" -ge $((new_prompt / 2)) ] || { echo "the prefix cache did not hit" >&2; exit 1; }
if curl -s "http://127.0.0.1:$port/metrics" | grep -E 'status="5[0-9][0-9]"'; then
  echo "the server answered 5xx" >&2; exit 1
fi
echo "codex ran against gossamer serve"
