#!/usr/bin/env python3
"""Agents on remote engines (issue 18): a fleet spread over 1, 2 and 3 `gossamer serve`
endpoints, and the remote client's overhead per token against the in-process engine.

One script, one binary, side by side (medians of --rounds runs each, configurations
alternating within a round):
 1. Fleet: --tasks nano tasks (examples/fleet/agent.yaml: nano thinks, calls the sandboxed
    python tool, answers) with `gossamer fleet --parallel 32`, on the in-process engine
    (--model) and on 1, 2 and 3 local `gossamer serve --model nano` endpoints (--endpoint).
    All of them share this machine's cores, so more endpoints cannot add compute here: the
    point is what the remote path costs and that spreading works, not a cluster's speed-up.
 2. Overhead per token: one `gossamer run` generation of --tokens tokens (greedy, max_turns 1)
    on the 20b preset at real widths with 2 layers (`gossamer model init --preset 20b
    --layers 2`, random weights), in-process vs through one serve endpoint on the same
    checkpoint; per-token time from the stored `generation` events (ms / output tokens).
Prints a markdown report; exits 1 if any fleet task did not finish.

  bench/remote_bench.py [--binary build/ci/gossamer] [--tasks 64] [--rounds 3] [--tokens 32]
                        [--skip-20b]
"""
import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SPEC = os.path.join(ROOT, "examples", "fleet", "agent.yaml")


class Server:
    def __init__(self, binary, model):
        self.proc = subprocess.Popen([binary, "serve", "--port", "0", "--no-store", "--model", model],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if not line:
            sys.exit("the server did not start on " + model)
        self.url = "http://127.0.0.1:%d" % json.loads(line)["port"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=120)


def tasks_file(folder, n):
    rng = random.Random(18)
    path = os.path.join(folder, "tasks.jsonl")
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"t{i}", "vars": {"a": rng.randint(100, 9999),
                                                        "b": rng.randint(10, 99)}}) + "\n")
    return path


def finished(db):
    con = sqlite3.connect(db)
    n = con.execute("SELECT count(*) FROM sessions WHERE status='finished'").fetchone()[0]
    con.close()
    return n


def generations(db):
    con = sqlite3.connect(db)
    rows = [json.loads(d) for (d,) in con.execute("SELECT json FROM events WHERE kind='generation'")]
    con.close()
    return rows


def run_fleet(binary, folder, tasks, model_args, tag):
    db = os.path.join(folder, f"{tag}-{time.monotonic_ns()}.db")
    start = time.perf_counter()
    r = subprocess.run([binary, "fleet", SPEC, "--tasks", tasks, "--parallel", "32", "--store", db,
                        "--json"] + model_args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    wall = time.perf_counter() - start
    done = finished(db)
    spread = {}
    for g in generations(db):
        spread[g.get("endpoint", "local")] = spread.get(g.get("endpoint", "local"), 0) + 1
    return wall, done, r.returncode, spread


def fleet_part(binary, nano, n_tasks, rounds):
    folder = tempfile.mkdtemp(prefix="remote_bench_")
    tasks = tasks_file(folder, n_tasks)
    servers = [Server(binary, nano) for _ in range(3)]
    configs = [("in-process engine", ["--model", nano])]
    for k in (1, 2, 3):
        args = []
        for s in servers[:k]:
            args += ["--endpoint", s.url]
        configs.append((f"{k} serve endpoint" + ("s" if k > 1 else ""), args))
    results = {name: [] for name, _ in configs}
    spreads = {}
    ok = True
    try:
        for _ in range(rounds):
            for name, args in configs:
                wall, done, rc, spread = run_fleet(binary, folder, tasks, args, name.split()[0])
                results[name].append(wall)
                spreads[name] = spread
                if done != n_tasks:
                    ok = False
                    print(f"{name}: only {done}/{n_tasks} finished (exit {rc})", file=sys.stderr)
    finally:
        for s in servers:
            s.stop()
    base = statistics.median(results["in-process engine"])
    one = statistics.median(results["1 serve endpoint"])
    print(f"### Fleet of {n_tasks} nano tasks, --parallel 32 (medians of {rounds})\n")
    print("| engine | wall s | tasks/s | vs in-process | vs 1 endpoint | generations per endpoint |")
    print("|---|---|---|---|---|---|")
    for name, _ in configs:
        m = statistics.median(results[name])
        spread = ", ".join(str(v) for _, v in sorted(spreads[name].items()))
        print(f"| {name} | {m:.2f} | {n_tasks / m:.1f} | {base / m:.2f}x | {one / m:.2f}x | {spread} |")
    print()
    return ok


def overhead_part(binary, rounds, tokens):
    folder = tempfile.mkdtemp(prefix="remote_bench_20b_")
    model = os.path.join(folder, "m20b")
    subprocess.run([binary, "model", "init", "--preset", "20b", "--layers", "2", "--seed", "1",
                    "--out", model], check=True, stdout=subprocess.DEVNULL)
    spec = os.path.join(folder, "one.yaml")
    with open(spec, "w") as f:
        f.write("name: one\nmodel: {reasoning_effort: low, sampling: {temperature: 0}}\n"
                f"limits: {{max_turns: 1, max_output_tokens: {tokens}}}\n"
                "task: Write a long story about the sea.\n")
    server = Server(binary, model)
    per = {"in-process": [], "remote": []}
    try:
        for _ in range(rounds):
            for name, args in (("in-process", ["--model", model]), ("remote", ["--endpoint", server.url])):
                db = os.path.join(folder, f"{name}-{time.monotonic_ns()}.db")
                subprocess.run([binary, "run", spec, "--store", db] + args,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                g = generations(db)
                if not g or g[0]["output_tokens"] == 0:
                    sys.exit(f"{name}: no generation was stored")
                per[name].append(g[0]["ms"] / g[0]["output_tokens"])
    finally:
        server.stop()
    local = statistics.median(per["in-process"])
    remote = statistics.median(per["remote"])
    print(f"### Remote client overhead per token (20b widths, 2 layers, {tokens} tokens, medians of {rounds})\n")
    print("| path | ms per token (request to last token / tokens) |")
    print("|---|---|")
    print(f"| in-process engine | {local:.1f} |")
    print(f"| through `gossamer serve` on 127.0.0.1 | {remote:.1f} |")
    print(f"\nOverhead: {remote - local:+.2f} ms per token = {100 * (remote - local) / local:+.1f}% "
          f"of the in-process time (target <= 5%).\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "ci", "gossamer"))
    ap.add_argument("--tasks", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--skip-20b", action="store_true")
    a = ap.parse_args()
    nano = os.path.join(os.path.dirname(os.path.abspath(a.binary)), "models", "gpt-oss-nano")
    print(f"# bench/remote_bench.py --tasks {a.tasks} --rounds {a.rounds} --tokens {a.tokens}"
          f" ({os.cpu_count()} cores)\n")
    ok = fleet_part(a.binary, nano, a.tasks, a.rounds)
    if not a.skip_20b:
        overhead_part(a.binary, a.rounds, a.tokens)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
