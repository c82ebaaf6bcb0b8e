#!/usr/bin/env python3
"""gpt-oss-nano evaluation: held-out tasks through `gossamer run` with the real engine, sandboxed
python tool and browser (local backend). Greedy decoding.

  python3 bench/nano_eval.py --model build/release/models/gpt-oss-nano --n 240 --jobs 2

Tasks come from train/data.py's held-out split (a seed stream disjoint from training, browser
questions only about entities no training question asks about); a task whose question text the
training data contains (hashes in the checkpoint's training.json) is skipped. A task is *in
domain* when every token of its reference answer is in the model's vocabulary (training.json);
the model cannot write other tokens, so out-of-domain tasks are reported apart (and count as
failures in the overall success rate).

Success: the run ends with a final answer that contains the expected value as a whole (the
python output, or the document's fact; not as digits inside a longer number), after at least
one valid tool call, and for browser tasks with at least one citation that became an
annotation.
Tool call validity: a call is valid when the recipient is a tool of the agent, the tool accepted
its arguments (JSON and schema for the browser) and, for python, the code is not a SyntaxError.
"""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "train"))


def spec_for(task, data):
    spec = data.spec_yaml(task["kind"], task["instructions"], task["effort"], task["date"],
                          task["question"])
    return spec.replace("model:\n", "model:\n  sampling: {temperature: 0}\n", 1) + \
        "limits:\n  max_turns: 8\n  max_output_tokens: 2048\n  wall_time: 300\n"


def run_task(gossamer, model, task, data, workdir):
    d = tempfile.mkdtemp(dir=workdir)
    os.chmod(d, 0o755)  # the sandboxed python kernel runs as another user in d/workspaces
    spec = os.path.join(d, "agent.yaml")
    with open(spec, "w") as f:
        f.write(spec_for(task, data))
    t0 = time.time()
    p = subprocess.run([gossamer, "run", spec, "--model", model, "--store", os.path.join(d, "s.db"), "--json"],
                       capture_output=True, text=True, timeout=600)
    seconds = time.time() - t0
    events = []
    for line in p.stdout.splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    calls, valid = 0, 0
    tools = {"python"} if task["kind"] == "python" else {"browser.search", "browser.open", "browser.find"}
    for e in events:
        if e.get("event") == "tool.finished":
            calls += 1
            ok = e.get("ok") and e.get("recipient") in tools
            if e.get("recipient") == "python" and "SyntaxError" in (e.get("result") or ""):
                ok = False
            valid += bool(ok)
        elif e.get("event") == "message.done" and e.get("recipient") and e.get("role") == "assistant":
            if e["recipient"] not in tools and e["recipient"] not in ("assistant", "all"):
                calls += 1  # a call to a tool the agent does not have (answered with an error)
    fin = next((e for e in reversed(events) if e.get("event") == "session.finished"), {})
    final = fin.get("final") or ""
    # the value as a whole (not a digit run inside a longer number), after at least one valid call
    value = re.compile(r"(?<![\d.])" + re.escape(task["answer"]) + r"(?!\.?\d)")
    ok = fin.get("reason") == "final" and bool(value.search(final)) and valid >= 1
    if task["kind"] == "browser":
        ok = ok and len(fin.get("annotations") or []) >= 1
    return dict(question=task["question"], kind=task["kind"], answer=task["answer"], final=final,
                reason=fin.get("reason"), success=ok, calls=calls, valid_calls=valid, seconds=round(seconds, 2),
                in_domain=task["in_domain"], exit_code=p.returncode,
                stderr=p.stderr[-300:] if p.returncode not in (0,) else "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(ROOT, "build", "release", "models", "gpt-oss-nano"))
    ap.add_argument("--gossamer", default=None, help="default: <model>/../../gossamer")
    ap.add_argument("--n", type=int, default=240, help="held-out tasks to generate")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=None, help="write the per-task report (JSON) here")
    a = ap.parse_args()
    model = os.path.abspath(a.model)
    gossamer = os.path.abspath(a.gossamer or os.path.join(model, "..", "..", "gossamer"))
    os.environ["GOSSAMER"] = gossamer
    import data  # noqa: E402  (train/data.py; needs GOSSAMER set)

    with open(os.path.join(model, "training.json")) as f:
        meta = json.load(f)
    vocab, trained = set(meta["vocab"]), set(meta["train_question_hashes"])
    data.corpus()
    convs = data.generate("test", a.n, a.seed)
    tasks = []
    for c in convs:
        t = dict(c["task"])
        if data.question_hash(t["question"]) in trained:
            continue
        t["date"] = c["messages"][0]["content"][0]["conversation_start_date"]
        t["in_domain"] = all(tok in vocab for tok, m in zip(c["tokens"], c["mask"]) if m)
        tasks.append(t)
    print(f"{len(tasks)} held-out tasks ({sum(t['in_domain'] for t in tasks)} in domain), "
          f"model {model}", flush=True)
    t0 = time.time()
    with tempfile.TemporaryDirectory() as work, concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        os.chmod(work, 0o755)
        results = list(ex.map(lambda t: run_task(gossamer, model, t, data, work), tasks))
    wall = time.time() - t0

    def rate(rs, key):
        return sum(r[key] for r in rs) / max(1, len(rs))

    ind = [r for r in results if r["in_domain"]]
    calls = sum(r["calls"] for r in results)
    summary = dict(tasks=len(results), in_domain=len(ind), success=rate(results, "success"),
                   success_in_domain=rate(ind, "success"),
                   success_python=rate([r for r in results if r["kind"] == "python"], "success"),
                   success_browser=rate([r for r in results if r["kind"] == "browser"], "success"),
                   tool_calls=calls, valid_tool_calls=sum(r["valid_calls"] for r in results) / max(1, calls),
                   median_seconds=sorted(r["seconds"] for r in results)[len(results) // 2],
                   wall_seconds=round(wall, 1), jobs=a.jobs)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(dict(summary=summary, results=results), f, indent=1)
    for r in results:
        if not r["success"]:
            print(f"FAIL {r['kind']:7s} {r['question']!r} expected {r['answer']!r} got {r['final'][:120]!r} "
                  f"({r['reason']}){' [out of domain]' if not r['in_domain'] else ''}")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
