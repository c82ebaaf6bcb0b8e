#!/usr/bin/env python3
"""gossamer serve: aggregate throughput under concurrency, time to first token with and
without a prefix-cache hit, and the server's own overhead per request (issue 17).

One script, one binary, side by side (medians of --rounds runs each):
 1. Throughput: N streamed requests to the token-level endpoint (/inference/v1/generate,
    distinct 64-token prompts, exactly --tokens new tokens each: no stop ids) at 1, 4, 16
    and 64 concurrent streams, against the same requests one after another on the same
    server. Models: the bundled gpt-oss-nano and the 20b preset at real widths with 2 layers
    (`gossamer model init --preset 20b --layers 2`, random weights).
 2. Time to first token of a /v1/responses request whose prompt shares a long prefix with the
    previous one (prefix-cache hit) vs a cold one (distinct prefix), streamed.
 3. Server overhead: /v1/responses (whole) on the replay model (a scripted test double that
    takes no model time), p50 / p90 latency per request on one connection at a time.
Prints a markdown report.

  bench/serve_bench.py [--binary build/ci/gossamer] [--rounds 3] [--skip-20b]
"""
import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time


class Server:
    def __init__(self, binary, args):
        self.proc = subprocess.Popen([binary, "serve", "--port", "0", "--no-store"] + args,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if not line:
            sys.exit("the server did not start: " + " ".join(args))
        self.port = json.loads(line)["port"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=120)


def post(port, path, body, stream=False):
    """Returns (seconds to the first sampled token when streamed, seconds in all, events)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    start = time.perf_counter()
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"{path}: HTTP {resp.status}: {resp.read()[:400]!r}")
    first = None
    events = []
    if stream:
        for raw in resp:
            line = raw.decode().strip()
            if not line.startswith("data: "):
                continue
            if line == "data: [DONE]":
                continue
            e = json.loads(line[6:])
            events.append(e)
            # the first sampled token: a delta event (Responses) or token ids (generate)
            if first is None and (str(e.get("type", "")).endswith(".delta") or
                                  (e.get("choices") and e["choices"][0].get("token_ids"))):
                first = time.perf_counter() - start
    else:
        events.append(json.loads(resp.read()))
    total = time.perf_counter() - start
    conn.close()
    return first, total, events


def prompt_ids(rng, n=64):
    # ordinary-text ids (below the special tokens), distinct per request
    return [rng.randrange(1000, 190000) for _ in range(n)]


def throughput(port, concurrency, requests, tokens, seed):
    rng = random.Random(seed)
    bodies = [{"token_ids": prompt_ids(rng), "stream": True,
               "sampling_params": {"max_tokens": tokens, "temperature": 1.0, "seed": i}}
              for i in range(requests)]
    lock = threading.Lock()
    produced = [0]

    def worker(queue):
        while True:
            with lock:
                if not queue:
                    return
                body = queue.pop()
            _, _, events = post(port, "/inference/v1/generate", body, stream=True)
            n = sum(len(e["choices"][0]["token_ids"]) for e in events if e.get("choices"))
            with lock:
                produced[0] += n

    queue = list(bodies)
    threads = [threading.Thread(target=worker, args=(queue,)) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return produced[0] / elapsed


def bench_throughput(binary, model_args, label, tokens, requests_per_level, rounds):
    rows = []
    server = Server(binary, model_args + ["--max-running", "64", "--max-queue", "256"])
    try:
        throughput(server.port, 1, 2, 4, 0)  # warm-up
        base = None
        for c in [1, 4, 16, 64]:
            n = requests_per_level(c)
            rates = [throughput(server.port, c, n, tokens, 100 * r + c) for r in range(rounds)]
            rate = statistics.median(rates)
            if c == 1:
                base = rate
            rows.append((label, c, n, tokens, rate, rate / base))
            print(f"  {label} c={c}: {rate:.1f} tok/s", file=sys.stderr)
    finally:
        server.stop()
    return rows


def bench_ttft(binary, model_args, prefix_tokens, rounds):
    server = Server(binary, model_args + ["--max-running", "4"])
    rng = random.Random(7)
    words = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "theta"]

    def long_text(seed):
        r = random.Random(seed)
        # about 1.25 words per token for these
        return " ".join(r.choice(words) + str(r.randrange(100)) for _ in range(prefix_tokens // 2))

    cold, hot = [], []
    try:
        for r in range(rounds):
            prefix = long_text(1000 + r)
            body = lambda q: {"input": [{"role": "developer", "content": prefix},
                                        {"role": "user", "content": q}],
                              "stream": True, "max_output_tokens": 4, "store": False}
            first, _, events = post(server.port, "/v1/responses", body("What is 2 * 3?"), True)
            cold.append(first)
            first, _, events = post(server.port, "/v1/responses", body("What is 4 * 5?"), True)
            hot.append(first)
            usage = events[-1]["response"]["usage"]
            cached = usage["input_tokens_details"]["cached_tokens"]
            prompt = usage["input_tokens"]
    finally:
        server.stop()
    return statistics.median(cold), statistics.median(hot), prompt, cached


def bench_overhead(binary, requests):
    work = tempfile.mkdtemp(prefix="serve-bench-")
    script = os.path.join(work, "replay.json")
    with open(script, "w") as f:
        json.dump(["<|channel|>analysis<|message|>Short.<|end|><|start|>assistant<|channel|>final"
                   "<|message|>The answer is 42.<|return|>"], f)
    server = Server(binary, ["--replay", script])
    lat = []
    try:
        body = {"input": "What is six times seven?", "instructions": "Be brief.", "store": False}
        for _ in range(20):
            post(server.port, "/v1/responses", body)
        for _ in range(requests):
            _, total, _ = post(server.port, "/v1/responses", body)
            lat.append(total * 1000)
    finally:
        server.stop()
    lat.sort()
    return lat[len(lat) // 2], lat[int(len(lat) * 0.9)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="build/ci/gossamer")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--skip-20b", action="store_true")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    nano = os.path.join(os.path.dirname(binary), "models", "gpt-oss-nano")

    rows = bench_throughput(binary, ["--model", nano], "nano", 64,
                            lambda c: max(8, 2 * c), args.rounds)
    if not args.skip_20b:
        ckpt = os.path.join(tempfile.gettempdir(), "gossamer-bench-20b-2l")
        if not os.path.exists(os.path.join(ckpt, "config.json")):
            subprocess.run([binary, "model", "init", "--preset", "20b", "--layers", "2", "--out", ckpt],
                           check=True, stdout=subprocess.DEVNULL)
        rows += bench_throughput(binary, ["--model", ckpt], "20b widths, 2 layers", 16,
                                 lambda c: max(4, c), max(1, args.rounds - 2))
    cold, hot, prompt, cached = bench_ttft(binary, ["--model", nano], 10000, args.rounds)
    p50, p90 = bench_overhead(binary, 200)

    print(f"Machine: {os.cpu_count()} CPUs. Medians of {args.rounds} rounds.\n")
    print("| model | concurrent streams | requests | tokens each | aggregate tok/s | vs one at a time |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, c, n, t, rate, ratio in rows:
        print(f"| {label} | {c} | {n} | {t} | {rate:.1f} | {ratio:.2f}x |")
    print()
    print(f"Time to first token, nano, a {prompt}-token prompt: cold {cold * 1000:.0f} ms, "
          f"with a prefix-cache hit ({cached} tokens cached) {hot * 1000:.0f} ms "
          f"({cold / hot:.1f}x).\n")
    print(f"Server overhead (replay model, /v1/responses whole, one at a time): "
          f"p50 {p50:.2f} ms, p90 {p90:.2f} ms per request (HTTP, parsing, rendering, "
          f"harmony parsing, JSON).")


if __name__ == "__main__":
    main()
