#!/usr/bin/env python3
"""gossamer fleet vs sequential `gossamer run` on the bundled gpt-oss-nano (issue 16).

64 arithmetic tasks (examples/fleet/agent.yaml, the quickstart agent as a template: nano thinks, calls the sandboxed python tool, reads
the output, answers) run four ways in one script, on the same binary, store folder layout and
tasks: 64 sequential `gossamer run` processes (the baseline: what a shell loop does today), and
one `gossamer fleet` process at --parallel 1, 8 and 32. Each configuration runs --rounds times
(alternating), and the report gives medians: wall time, tasks/s, the ratio to the sequential
baseline, and where the time goes per task (from the stored events: `generation.ms` is the
engine, `tool.finished.ms` the python sandbox start + run; the rest is process start, model
load, sqlite and the loop). Prints a markdown report; exits 1 if any task did not finish.

  bench/fleet_bench.py [--tasks 64] [--rounds 3] [--binary build/ci/gossamer] [--out FILE]
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

SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "fleet",
                    "agent.yaml")


def tasks(n):
    rng = random.Random(16)
    return [{"id": f"t{i}", "vars": {"a": rng.randint(100, 9999), "b": rng.randint(10, 99)}}
            for i in range(n)]


def breakdown(db):
    """Per-task means (ms) of engine and tool time from the store's events, and the count of
    sessions that finished."""
    con = sqlite3.connect(db)
    gen = tool = 0.0
    sessions = con.execute("SELECT count(*) FROM sessions").fetchone()[0]
    finished = con.execute("SELECT count(*) FROM sessions WHERE status='finished'").fetchone()[0]
    for kind, data in con.execute("SELECT kind, json FROM events WHERE kind IN "
                                  "('generation', 'tool.finished')"):
        d = json.loads(data)
        if kind == "generation":
            gen += d.get("ms", 0)
        else:
            tool += d.get("ms", 0)
    con.close()
    return gen / max(sessions, 1), tool / max(sessions, 1), finished, sessions


def run_sequential(binary, work, items):
    spec = os.path.join(work, "agent.yaml")
    db = os.path.join(work, "seq.db")
    started = time.monotonic()
    for t in items:
        task = f"What is {t['vars']['a']} * {t['vars']['b']}?"
        subprocess.run([binary, "run", spec, "--task", task, "--store", db, "--json"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.monotonic() - started, db


def run_fleet(binary, work, parallel, tag):
    spec = os.path.join(work, "agent.yaml")
    db = os.path.join(work, f"fleet-{tag}.db")
    started = time.monotonic()
    subprocess.run([binary, "fleet", spec, "--tasks", os.path.join(work, "tasks.jsonl"),
                    "--parallel", str(parallel), "--store", db, "--json"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.monotonic() - started, db


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--binary", default="build/ci/gossamer")
    ap.add_argument("--out")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    items = tasks(args.tasks)
    configs = [("sequential runs", None), ("fleet --parallel 1", 1), ("fleet --parallel 8", 8),
               ("fleet --parallel 32", 32)]
    results = {name: [] for name, _ in configs}
    ok = True
    for r in range(args.rounds):
        for name, parallel in configs:
            work = tempfile.mkdtemp(prefix="gossamer-fleet-bench-")
            os.chmod(work, 0o755)
            with open(SPEC) as src, open(os.path.join(work, "agent.yaml"), "w") as f:
                f.write(src.read())
            with open(os.path.join(work, "tasks.jsonl"), "w") as f:
                f.writelines(json.dumps(t) + "\n" for t in items)
            if parallel is None:
                wall, db = run_sequential(binary, work, items)
            else:
                wall, db = run_fleet(binary, work, parallel, f"{parallel}-{r}")
            gen, tool, finished, sessions = breakdown(db)
            ok = ok and finished == args.tasks and sessions == args.tasks
            results[name].append((wall, gen, tool, finished))
            print(f"round {r + 1} {name}: {wall:.1f} s, {finished}/{args.tasks} finished",
                  file=sys.stderr)
            subprocess.run(["rm", "-rf", work], check=False)
    base = statistics.median(w for w, *_ in results["sequential runs"])
    lines = [
        f"`bench/fleet_bench.py --tasks {args.tasks} --rounds {args.rounds}` "
        f"({os.cpu_count()} CPUs, medians of {args.rounds} rounds; gpt-oss-nano, "
        "quickstart agent with the python tool)",
        "",
        "| configuration | wall (s) | tasks/s | vs sequential | engine ms/task | python tool "
        "ms/task | other ms/task | finished |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, _ in configs:
        rows = results[name]
        wall = statistics.median(x[0] for x in rows)
        gen = statistics.median(x[1] for x in rows)
        tool = statistics.median(x[2] for x in rows)
        finished = min(x[3] for x in rows)
        per_task_ms = wall * 1000 / args.tasks
        lines.append(f"| {name} | {wall:.1f} | {args.tasks / wall:.2f} | {base / wall:.2f}x | "
                     f"{gen:.0f} | {tool:.0f} | {max(per_task_ms - gen - tool, 0):.0f} "
                     f"(wall/task {per_task_ms:.0f}) | {finished}/{args.tasks} |")
    lines.append("")
    lines.append("Engine and tool times are per task, summed over its turns; in a fleet they "
                 "overlap across tasks (so they can exceed wall/task), which is the point.")
    report = "\n".join(lines)
    print(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
