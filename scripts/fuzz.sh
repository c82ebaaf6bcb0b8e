#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz: fuzz_tokenizer, fuzz_parser, fuzz_fleet_tasks for
# fleet tasks files and agent specs, fuzz_server_requests for the HTTP request bodies,
# fuzz_engine_wire for remote engines' answers, fuzz_patch for apply_patch,
# fuzz_kv_file for saved KV cache files,
# fuzz_tool_args for shell arguments) with the `fuzz` preset
# (clang, -fsanitize=fuzzer,address,undefined; the harmony library instrumented too) and runs
# each for a fixed number of executions, starting from seeds made from tests/data plus the
# corpus kept from earlier runs (tests/fuzz/corpus-<target>, git-ignored). Exits non-zero on
# any crash, failed property, leak, timeout, out-of-memory or sanitizer report; the input that
# caused it is saved as build/fuzz/artifacts/<target>-crash-... (replay: <binary> <file>).
#   scripts/fuzz.sh [--runs N] [--max-len N] [--target NAME]... [--no-install] [--jobs N]
#     --runs N       executions per target (default 200000)
#     --max-len N    largest input in bytes (default 4096)
#     --target NAME  only this target (repeatable)
#     --no-install   do not call scripts/install-deps.sh --fuzz (clang, libclang-rt-14-dev)
set -euo pipefail
cd "$(dirname "$0")/.."

runs=200000 max_len=4096 install=1 jobs=$(nproc)
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --max-len) max_len=$2; shift 2 ;;
    --target) targets+=("$2"); shift 2 ;;
    --no-install) install=0; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$runs" =~ ^[0-9]+$ && "$runs" -ge 1 ]] || { echo "fuzz.sh: --runs needs a positive number" >&2; exit 2; }
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_tokenizer fuzz_parser fuzz_fleet_tasks fuzz_server_requests fuzz_engine_wire fuzz_patch fuzz_tool_args fuzz_kv_file)

# 1. clang and its libFuzzer runtime. On Debian 12 the runtime is libclang-rt-14-dev, which
#    clang only recommends (so --no-install-recommends leaves it out).
if [ "$install" = 1 ]; then
  ./scripts/install-deps.sh --fuzz
fi
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
fuzzer_rt="$(clang++ -print-runtime-dir 2>/dev/null)/libclang_rt.fuzzer-x86_64.a"
if [ ! -f "$fuzzer_rt" ]; then
  fuzzer_rt=$(clang++ -print-file-name=libclang_rt.fuzzer-x86_64.a)
  [ -f "$fuzzer_rt" ] || { echo "fuzz.sh: clang's libFuzzer runtime is missing (Debian 12: apt-get install libclang-rt-14-dev)" >&2; exit 1; }
fi

# 2. Build.
echo "== building ${targets[*]} (preset fuzz: build/fuzz)"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "${targets[@]}" -j "$jobs"

# 3. Seeds: golden texts for the tokenizer; the same texts in the parser's three modes.
seeds=build/fuzz/seeds
rm -rf "$seeds"
mkdir -p "$seeds/fuzz_tokenizer" "$seeds/fuzz_parser" "$seeds/fuzz_fleet_tasks" "$seeds/fuzz_server_requests" "$seeds/fuzz_engine_wire" "$seeds/fuzz_patch" "$seeds/fuzz_tool_args" "$seeds/fuzz_kv_file" build/fuzz/artifacts
python3 - "$seeds" <<'EOF'
import json, os, sys
out = sys.argv[1]
cases = json.load(open("tests/data/tokenizer/tiktoken_cases.json", encoding="utf-8"))["cases"]
# Every category, at most 4096 bytes each, 400 seeds in all.
picked = [c for i, c in enumerate(cases) if i % max(1, len(cases) // 400) == 0 or c["name"].startswith("special/")]
for n, c in enumerate(picked):
    data = c["text"].encode("utf-8")[:4096]
    open(os.path.join(out, "fuzz_tokenizer", f"seed{n:04d}"), "wb").write(data)
    # Parser: mode byte % 3 == 0 text, 1 token program, 2 well-formed messages; bit 7 set =
    # parse from <|start|> (no starting role).
    for mode in (0x00, 0x81, 0x02):
        open(os.path.join(out, "fuzz_parser", f"seed{n:04d}-{mode:02x}"), "wb").write(bytes([mode]) + data[:1024])
conv = ("<|channel|>analysis<|message|>Need weather.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather "
        "<|constrain|>json<|message|>{\"location\":\"Tokyo\"}<|call|>")
open(os.path.join(out, "fuzz_parser", "assistant-start"), "wb").write(b"\x00" + conv.encode())
open(os.path.join(out, "fuzz_parser", "no-role"), "wb").write(b"\x80<|start|>assistant" + conv.encode())
# Fleet tasks (even first byte) and agent specs (odd): the examples' specs and a tasks file.
import glob
for n, spec in enumerate(sorted(glob.glob("examples/**/*.yaml", recursive=True))):
    open(os.path.join(out, "fuzz_fleet_tasks", f"spec{n:02d}"), "wb").write(b"\x01" + open(spec, "rb").read()[:4096])
tasks = b'{"id": "t1", "vars": {"a": 3, "b": "x"}}\n{"task": "What is {{a}}?", "vars": {"a": true}}\n\n{}\n'
open(os.path.join(out, "fuzz_fleet_tasks", "tasks"), "wb").write(b"\x00" + tasks)
# Server requests: first byte 0 Responses, 1 Chat Completions, 2 generate, 3 encrypted_content,
# 4 a schema + NUL + bytes for the structured-output checker.
reqs = [
    (0, {"model": "m", "input": [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
         {"type": "reasoning", "content": [{"type": "reasoning_text", "text": "think"}]},
         {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}", "namespace": "ns"},
         {"type": "function_call_output", "call_id": "c1", "output": "ok"}],
         "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}}, {"type": "namespace", "name": "ns", "tools": [{"type": "function", "name": "f"}]},
                   {"type": "web_search"}, {"type": "code_interpreter"}],
         "tool_choice": {"type": "function", "name": "f"}, "reasoning": {"effort": "low"}, "text": {"format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}}},
         "include": ["reasoning.encrypted_content"], "stream": True, "max_output_tokens": 10}),
    (1, {"model": "m", "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
         {"role": "assistant", "content": None, "reasoning_content": "r", "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
         {"role": "tool", "tool_call_id": "t1", "content": "ok"}], "tools": [{"type": "function", "function": {"name": "f"}}],
         "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object"}}}, "stream_options": {"include_usage": True}}),
    (2, {"model": "m", "token_ids": [200006, 1, 2], "sampling_params": {"max_tokens": 4, "temperature": 0, "top_k": -1, "stop_token_ids": [200002], "logprobs": 2}, "stream": True}),
]
for n, (mode, body) in enumerate(reqs):
    open(os.path.join(out, "fuzz_server_requests", f"req{n}"), "wb").write(bytes([mode]) + json.dumps(body).encode())
open(os.path.join(out, "fuzz_server_requests", "schema"), "wb").write(b"\x04" + json.dumps({"type": "object", "properties": {"a": {"type": "array", "items": {"enum": [1, "x", None]}}, "b": {"type": ["number", "null"]}}, "required": ["a"], "additionalProperties": False}).encode() + b"\x00" + b'{"a": [1, "x", null], "b": -1.5e3}')
# The remote engines' documented answers (tests/data/remote), each in its shape, whole and streamed.
for n, (name, first) in enumerate([("vllm_generate.json", 0), ("vllm_generate_stream.sse", 3), ("vllm_completions.json", 1), ("vllm_completions_stream.sse", 4), ("sglang_generate.json", 2), ("sglang_generate_stream.sse", 5), ("sglang_generate_stream_incremental.sse", 5)]):
    body = open(os.path.join("tests/data/remote", name), "rb").read()
    open(os.path.join(out, "fuzz_engine_wire", f"answer{n}"), "wb").write(bytes([first, 7 + n]) + body)
# shell arguments: a command line, an argv with a workdir and a timeout.
open(os.path.join(out, "fuzz_tool_args", "line"), "wb").write(b'{"command": "ls -la | head", "timeout_ms": 500}')
open(os.path.join(out, "fuzz_tool_args", "argv"), "wb").write(b'{"command": ["git", "status"], "workdir": "/mnt/data/src/./a"}')
# apply_patch: the reference's example patch and a file it applies to.
open(os.path.join(out, "fuzz_patch", "example"), "wb").write(b"*** Begin Patch\n*** Add File: hello.txt\n+Hello world\n*** Update File: src/app.py\n*** Move to: src/main.py\n@@ def greet():\n-print(\"Hi\")\n+print(\"Hello, world!\")\n*** End of File\n*** Delete File: obsolete.txt\n*** End Patch\n\0def greet():\nprint(\"Hi\")\n")
# saved KV caches: the valid file as written, a byte flipped in its first record, records
# after the header, a file cut short.
open(os.path.join(out, "fuzz_kv_file", "valid"), "wb").write(b"\x02")
open(os.path.join(out, "fuzz_kv_file", "flip"), "wb").write(b"\x02\x50\x00\x01")
open(os.path.join(out, "fuzz_kv_file", "records"), "wb").write(b"\x01GKVR\x00\x00\x00\x00\x04\x00\x00\x00")
open(os.path.join(out, "fuzz_kv_file", "cut"), "wb").write(b"\x02\x00\x00\x00\xc0")
open(os.path.join(out, "fuzz_server_requests", "reasoning"), "wb").write(b"\x03gossamer-r1:eyJ0ZXh0IjoiaGkiLCJ0b2tlbnMiOlsxLDJdfQ==")
EOF

# 4. Run each target; libFuzzer exits non-zero on a crash, leak, timeout or OOM, and a UBSan
#    report aborts (-fno-sanitize-recover). The log is also searched for sanitizer reports.
status=0
for t in "${targets[@]}"; do
  bin="build/fuzz/tests/fuzz/$t"
  corpus="tests/fuzz/corpus-$t"
  mkdir -p "$corpus"
  log="build/fuzz/$t.log"
  echo "== $t: $runs executions (max_len $max_len), corpus $corpus + seeds; log $log"
  set +e
  "$bin" -runs="$runs" -max_len="$max_len" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
    -dict="tests/fuzz/${t#fuzz_}.dict" -artifact_prefix="build/fuzz/artifacts/$t-" \
    "$corpus" "$seeds/$t" > "$log" 2>&1
  rc=$?
  set -e
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done [0-9]+ runs)' "$log" | sed 's/^/   /' || true
  if [ $rc -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|fuzz_(tokenizer|parser|fleet_tasks|server_requests|engine_wire|patch|tool_args|kv_file): ' "$log"; then
    echo "fuzz.sh: $t FAILED (exit $rc); the end of $log:" >&2
    tail -n 40 "$log" >&2
    ls -1 build/fuzz/artifacts/"$t"-* 2>/dev/null | sed 's/^/   reproducer: /' >&2 || true
    status=1
  else
    echo "   $t: no crash, no sanitizer report"
  fi
done
exit $status
