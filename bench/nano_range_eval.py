#!/usr/bin/env python3
"""gpt-oss-nano arithmetic by operand range, through `gossamer run` with the real engine and the
sandboxed python tool (greedy): what the model card may claim. Sets (fixed seed):

  in-range      first operand up to 4 digits, second up to 3 (train/data.py's sampler), the
                training phrasings
  out-of-range  both operands 4 to 6 digits
  negative      one operand negative (the training data has none)
  decimal       both operands with one decimal (the training data has none for arithmetic)
  phrasing      in-range operands, phrasings the training data does not use

Success: the final answer contains python's result for the expression as a whole number (not
as digits inside a longer one).

  python3 bench/nano_range_eval.py --gossamer build/ci/gossamer --n 20 --jobs 2
"""
import argparse
import concurrent.futures
import json
import os
import random
import re
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INSTRUCTIONS = "Answer the user's question. Use the python tool for any calculation and answer in one sentence."
TRAINED = ["What is {a} {sym} {b}?", "Compute {a} {sym} {b}.", "Please calculate {a} {sym} {b}."]
OTHER = ["Tell me {a} {sym} {b}.", "I need the result of {a} {sym} {b}.", "Find {a} {sym} {b}, please.",
         "Quick one: {a} {sym} {b}?"]


def digits(rng, lo, hi):
    n = rng.randint(lo, hi)
    return rng.randint(10 ** (n - 1) if n > 1 else 0, 10 ** n - 1)


def tasks(n, seed):
    rng = random.Random(seed)
    sets = {"in-range": [], "out-of-range": [], "negative": [], "decimal": [], "phrasing": []}
    for _ in range(n):
        sym = rng.choice("+-*")
        sets["in-range"].append((rng.choice(TRAINED), digits(rng, 1, 4), digits(rng, 1, 3), sym))
        sets["out-of-range"].append((rng.choice(TRAINED), digits(rng, 4, 6), digits(rng, 4, 6), sym))
        a, b = digits(rng, 1, 3), digits(rng, 1, 3)
        if rng.random() < 0.5:
            a = -a
        else:
            b = -b
        sets["negative"].append((rng.choice(TRAINED), a, b, sym))
        sets["decimal"].append((rng.choice(TRAINED), f"{rng.randint(0, 99)}.{rng.randint(1, 9)}",
                                f"{rng.randint(0, 99)}.{rng.randint(1, 9)}", sym))
        sets["phrasing"].append((rng.choice(OTHER), digits(rng, 1, 4), digits(rng, 1, 3), sym))
    return sets


def expected(a, sym, b):
    out = subprocess.run(["python3", "-c", f"print({a} {sym} {b})"], capture_output=True, text=True)
    return out.stdout.strip()


def run_one(gossamer, model, question, want):
    with tempfile.TemporaryDirectory() as d:
        spec = os.path.join(d, "a.yaml")
        with open(spec, "w") as f:
            f.write("name: eval\nmodel:\n  reasoning_effort: low\n  sampling: {temperature: 0}\n"
                    f"instructions: {json.dumps(INSTRUCTIONS)}\ntools: [python]\n"
                    "limits: {max_turns: 6, max_output_tokens: 1024, wall_time: 120}\n"
                    f"task: {json.dumps(question)}\n")
        r = subprocess.run([gossamer, "run", spec, "--model", model, "--store", os.path.join(d, "s.db"),
                            "--json"], capture_output=True, text=True)
        final = ""
        for line in r.stdout.splitlines():
            e = json.loads(line)
            if e.get("event") == "session.finished":
                final = e.get("final") or ""
        ok = re.search(r"(?<![\d.])" + re.escape(want) + r"(?![\d]|\.\d)", final) is not None
        return ok, final


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gossamer", default=os.path.join(ROOT, "build", "ci", "gossamer"))
    ap.add_argument("--model", default=None, help="default: <gossamer>/../models/gpt-oss-nano")
    ap.add_argument("--n", type=int, default=20, help="tasks per set")
    ap.add_argument("--seed", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    model = args.model or os.path.join(os.path.dirname(os.path.abspath(args.gossamer)), "models", "gpt-oss-nano")
    results = {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for name, items in tasks(args.n, args.seed).items():
            futures = []
            for tmpl, a, b, sym in items:
                q = tmpl.format(a=a, b=b, sym=sym)
                want = expected(a, sym, b)
                futures.append((q, want, pool.submit(run_one, args.gossamer, model, q, want)))
            rows = [(q, want, *f.result()) for q, want, f in futures]
            results[name] = rows
            ok = sum(1 for r in rows if r[2])
            print(f"{name:14s} {ok:3d}/{len(rows)}  ({100.0 * ok / len(rows):.0f}%)", flush=True)
            for q, want, good, final in rows[:3]:
                if not good:
                    print(f"    e.g. {q!r} -> {final[:80]!r} (expected {want})")


if __name__ == "__main__":
    main()
