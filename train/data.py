"""Seeded synthetic tool-use conversations for gpt-oss-nano, in the exact shapes gossamer's runtime
stores and renders.

Where every part comes from (so training and serving cannot drift):
- opening messages (system with the tool descriptions, developer instructions): `gossamer run` on
  a generated agent spec with a one-turn replay, then `gossamer sessions export` (prompts());
- python tool outputs: the same interpreter the sandbox runs (/usr/bin/python3); error tracebacks
  from the real tool (`gossamer tool python --stateful`);
- browser tool outputs: the real browser on the local backend (`gossamer tool browser`) over a
  generated corpus of small documents (corpus());
- tokens: `gossamer harmony render --for-training`.

Task families: arithmetic, unit conversions, small data questions (python tool); facts found by
searching and opening documents and cited as 【cursor†Ln-Lm】 (browser tool); recovery from a
python error (the failing call is not trained on, only the recovery). Three reasoning efforts,
varied phrasings and instructions.

Split: example i of split S uses random.Random(f"{S}:{seed}:{i}"); held-out browser questions
ask about entities no training question asks about; any held-out question text also in train
is dropped.

  /usr/bin/python3 train/data.py --n 5 --split train --out train/examples
"""
import argparse
import contextlib
import functools
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOSSAMER = os.environ.get("GOSSAMER", os.path.join(ROOT, "build", "lead", "gossamer"))
CORPUS = os.path.join(ROOT, "examples", "nano", "docs")
PYTHON = "/usr/bin/python3"

START, END, CALL, RETURN, ASSISTANT, USER = 200006, 200007, 200012, 200002, 173781, 1428
EFFORTS = ["low", "medium", "high"]

# Instructions a user may give; None = no developer instructions. The first of each list is the
# one the shipped examples use (examples/nano/*.yaml).
PY_INSTRUCTIONS = [
    "Answer the user's question. Use the python tool for any calculation and answer in one sentence.",
    None,
    "Use python to compute answers. Be brief.",
    "You are a careful assistant. Check numbers with the python tool before you answer.",
]
BROWSER_INSTRUCTIONS = [
    "Answer from the documents you can search and open with the browser tool. Cite the lines you used.",
    None,
    "Look facts up with the browser tool and cite your source.",
]


# ---------------------------------------------------------------- gossamer plumbing
def run_gossamer(args, stdin=None):
    p = subprocess.run([GOSSAMER] + args, input=stdin, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"gossamer {' '.join(args)} failed ({p.returncode}): {p.stderr[-2000:]}")
    return p.stdout


def question_hash(q):
    """A training question's fingerprint: train.py stores them, bench/nano_eval.py skips them."""
    return hashlib.sha256(q.encode()).hexdigest()[:12]


def spec_yaml(kind, instructions, effort, date, task):
    tools = ("  - python\n" if kind == "python" else
             f"  - browser: {{backend: local, root: {CORPUS}}}\n")
    lines = ["name: nano-data", f"model:\n  reasoning_effort: {effort}", f"system:\n  date: {date}"]
    if instructions:
        lines.append("instructions: " + json.dumps(instructions))
    lines += ["tools:\n" + tools.rstrip("\n"), "task: " + json.dumps(task)]
    return "\n".join(lines) + "\n"


@functools.lru_cache(maxsize=None)
def prompts(kind, instructions, effort):
    """The runtime's opening messages (system, developer?) for this agent, date 2000-01-01."""
    with tempfile.TemporaryDirectory() as d:
        spec = os.path.join(d, "agent.yaml")
        with open(spec, "w") as f:
            f.write(spec_yaml(kind, instructions, effort, "2000-01-01", "TASK"))
        with open(os.path.join(d, "replay.json"), "w") as f:
            json.dump(["<|channel|>final<|message|>ok<|return|>"], f)
        store = os.path.join(d, "s.db")
        run_gossamer(["run", spec, "--replay", os.path.join(d, "replay.json"), "--store", store, "--json"])
        sid = json.loads(run_gossamer(["sessions", "list", "--store", store, "--json"]))[0]["id"]
        msgs = json.loads(run_gossamer(["sessions", "export", sid, "--store", store]))["messages"]
    u = next(k for k, m in enumerate(msgs) if m["role"] == "user")
    assert msgs[u]["content"] == "TASK" and u in (1, 2), msgs
    return json.dumps(msgs[:u])  # cached as text: callers get a fresh copy


def opening(kind, instructions, effort, date, question):
    msgs = json.loads(prompts(kind, instructions, effort))
    assert msgs[0]["content"][0]["conversation_start_date"] == "2000-01-01"
    msgs[0]["content"][0]["conversation_start_date"] = date
    return msgs + [{"role": "user", "content": question}]


def render(messages, mode="--for-training"):
    return render_many([messages], mode)[0]


def render_many(conversations, mode="--for-training"):
    """One `gossamer harmony render --lines` for many conversations (one tokenizer load)."""
    lines = "".join(json.dumps({"messages": m}) + "\n" for m in conversations)
    out = [json.loads(x) for x in run_gossamer(["harmony", "render", mode, "--lines"], lines).splitlines()]
    for r in out:
        if "error" in r:
            raise RuntimeError("render: " + r["error"])
    return out


def python_output(code):
    """What print() writes when the code runs, in this interpreter: the sandbox runs the same
    /usr/bin/python3 (data.py must run under it), and the task code only prints numbers/lists."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(code, {})
    return buf.getvalue()


def python_tool_output(code, session):
    """The real stateful tool's answer (used for error tracebacks, whose format is the tool's)."""
    return run_gossamer(["tool", "python", "--stateful", "--session", session], code)


@functools.lru_cache(maxsize=None)
def browser_outputs_cached(calls_json):
    return tuple(browser_outputs(json.loads(calls_json)))


def browser_outputs(calls):
    out = run_gossamer(["tool", "browser", "--root", CORPUS], json.dumps(calls))
    return json.loads(out)


# ---------------------------------------------------------------- message helpers
def say(channel, text):
    return {"role": "assistant", "channel": channel, "content": text}


def py_call(code):
    return {"role": "assistant", "channel": "analysis", "recipient": "python", "content_type": "code",
            "content": code}


def py_result(text):
    return {"role": "tool", "name": "python", "recipient": "assistant", "channel": "analysis",
            "content": text}


def browser_call(fn, args):
    return {"role": "assistant", "channel": "analysis", "recipient": f"browser.{fn}",
            "content_type": "<|constrain|>json", "content": json.dumps(args)}


def browser_result(fn, text):
    return {"role": "tool", "name": f"browser.{fn}", "recipient": "assistant", "channel": "analysis",
            "content": text}


def thought(rng, effort, short, longer):
    """Analysis text: one sentence at low effort, two at medium, three at high."""
    parts = [rng.choice(short)]
    if effort != "low":
        parts.append(rng.choice(longer))
    if effort == "high":
        parts.append("Then answer from the result.")
    return " ".join(parts)


# ---------------------------------------------------------------- python tasks
OPS = [("+", "plus", "sum of {a} and {b}", "add"), ("-", "minus", "difference of {a} and {b}", "subtract"),
       ("*", "times", "product of {a} and {b}", "multiply")]
ARITH_Q = ["What is {a} {sym} {b}?", "Compute {a} {sym} {b}.", "What is {a} {word} {b}?",
           "Please calculate {a} {sym} {b}.", "What's the {phrase}?", "Calculate the {phrase}.",
           "{a} {sym} {b} = ?", "How much is {a} {word} {b}?", "what is {a}{sym}{b}",
           "Can you work out {a} {sym} {b} for me?"]
ARITH_F = ["{a} {sym} {b} = {r}.", "The answer is {r}.", "{r}", "It is {r}.", "{a} {word} {b} is {r}."]

UNITS = [  # (from, to, factor, decimals)
    ("kilometers", "meters", "1000", 1), ("meters", "centimeters", "100", 1), ("kilograms", "grams", "1000", 1),
    ("hours", "minutes", "60", 1), ("minutes", "seconds", "60", 1), ("inches", "centimeters", "2.54", 2),
    ("miles", "kilometers", "1.609344", 2), ("pounds", "kilograms", "0.45359237", 2),
    ("feet", "meters", "0.3048", 2), ("liters", "milliliters", "1000", 1), ("days", "hours", "24", 1),
    ("gallons", "liters", "3.785411784", 2)]
UNIT_Q = ["How many {to} are in {x} {frm}?", "Convert {x} {frm} to {to}.", "What is {x} {frm} in {to}?",
          "{x} {frm} is how many {to}?", "Please convert {x} {frm} into {to}."]
UNIT_F = ["{x} {frm} is {r} {to}.", "That is {r} {to}.", "{r} {to}.", "{x} {frm} = {r} {to}."]

DATA_FNS = [  # (name, question phrasings, code template, answer phrasings)
    ("mean", ["What is the average of {xs}?", "Find the mean of {xs}.", "Average these numbers: {xs}."],
     "xs = [{xs}]\nprint(round(sum(xs) / len(xs), 2))", ["The average is {r}.", "The mean is {r}.", "{r}"]),
    ("max", ["What is the largest of {xs}?", "Which is the biggest number in {xs}?", "Find the maximum of {xs}."],
     "print(max([{xs}]))", ["The largest is {r}.", "The maximum is {r}.", "{r}"]),
    ("min", ["What is the smallest of {xs}?", "Find the minimum of {xs}.", "Which number is smallest: {xs}?"],
     "print(min([{xs}]))", ["The smallest is {r}.", "The minimum is {r}.", "{r}"]),
    ("sum", ["What is the total of {xs}?", "Add up {xs}.", "Sum these numbers: {xs}."],
     "print(sum([{xs}]))", ["The total is {r}.", "The sum is {r}.", "{r}"]),
    ("sort", ["Sort these numbers: {xs}.", "Put {xs} in increasing order.", "Order from smallest to largest: {xs}."],
     "print(sorted([{xs}]))", ["Sorted: {r}.", "In order: {r}.", "{r}"]),
]
PY_SHORT = ["I'll compute this with python.", "Use python for this.", "Let me run it in python.",
            "Compute it in python.", "I should calculate this with the python tool."]


def arith_task(rng):
    sym, word, phrase, verb = rng.choice(OPS)
    a = rng.randint(0, 10 ** rng.choice([1, 2, 2, 3, 3, 4]) - 1)
    b = rng.randint(0, 10 ** rng.choice([1, 2, 3]) - 1)
    f = dict(a=a, b=b, sym=sym, word=word, verb=verb)
    f["phrase"] = phrase.format(**f)
    code = f"print({a} {sym} {b})"
    longer = [f"Need {a} {sym} {b}.", f"I need to {verb} {a} and {b}.", f"The expression is {a} {sym} {b}."]
    return rng.choice(ARITH_Q).format(**f), code, f, longer, ARITH_F


def unit_task(rng):
    frm, to, factor, dec = rng.choice(UNITS)
    x = rng.choice([str(rng.randint(1, 999)), f"{rng.randint(0, 99)}.{rng.randint(1, 9)}"])
    code = f"print(round({x} * {factor}, {dec}))"
    f = dict(frm=frm, to=to, x=x)
    longer = [f"1 {frm[:-1] if frm.endswith('s') else frm} is {factor} {to}.", f"Multiply {x} by {factor}."]
    return rng.choice(UNIT_Q).format(**f), code, f, longer, UNIT_F


def data_task(rng):
    name, qs, tmpl, finals = rng.choice(DATA_FNS)
    xs = ", ".join(str(rng.randint(0, 999)) for _ in range(rng.randint(3, 6)))
    f = dict(xs=xs)
    longer = [f"The numbers are {xs}.", f"Apply {name} to the list."]
    return rng.choice(qs).format(**f), tmpl.format(xs=xs), f, longer, finals


# A broken first attempt (a real mistake with a real traceback) and the thought that fixes it.
def broken(code):
    if "round(sum(xs) / len(xs), 2)" in code:
        return code.replace("round(sum(xs) / len(xs), 2)", "round(mean(xs), 2)"), \
            "mean is not defined; compute it as sum / len."
    if code.startswith("print(max(") or code.startswith("print(min("):
        fn = "max" if "max" in code else "min"
        return code.replace(f"print({fn}(", f"print({fn}imum(", 1), f"Use the builtin {fn} instead."
    if code.startswith("print(") and " * " in code and "round" not in code:
        return code.replace(" * ", " x ", 1), "Syntax error: multiplication is written with *."
    return None


def python_conversation(rng, i, split, want_error):
    family = rng.choice([arith_task, arith_task, unit_task, data_task])
    question, code, f, longer, finals = family(rng)
    effort = rng.choice(EFFORTS)
    instructions = rng.choice(PY_INSTRUCTIONS)
    date = f"20{rng.randint(24, 27)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    msgs = opening("python", instructions, effort, date, question)
    out = python_output(code)
    r = out.strip()
    no_loss = []
    msgs.append(say("analysis", thought(rng, effort, PY_SHORT, longer)))
    if want_error and broken(code):
        bad, fix = broken(code)
        err = python_tool_output(bad, f"nano-data-{split}-{i}")
        if "Error" not in err:
            return None
        no_loss.append(len(msgs))
        msgs += [py_call(bad), py_result(err), say("analysis", fix)]
    msgs += [py_call(code), py_result(out)]
    if effort == "high":
        msgs.append(say("analysis", f"The result is {r}."))
    f = dict(f, r=r)
    msgs.append(say("final", rng.choice(finals).format(**f)))
    return dict(messages=msgs, no_loss=no_loss, task=dict(kind="python", question=question, answer=r,
                                                          effort=effort, instructions=instructions))


# ---------------------------------------------------------------- browser tasks
SYLL = ["ka", "lo", "mi", "ra", "to", "ven", "dor", "sil", "mar", "bel", "tan", "qu", "zen", "pol", "fa",
        "ri", "no", "ster", "gal", "win"]
ATTRS = [  # (attribute, line template, question phrasings, answer template)
    ("capital", "The capital of {n} is {v}.", ["What is the capital of {n}?", "Which city is the capital of {n}?"],
     "The capital of {n} is {v}."),
    ("river", "The longest river in {n} is the {v}.", ["What is the longest river in {n}?",
                                                      "Which river is the longest in {n}?"],
     "The longest river in {n} is the {v}."),
    ("founded", "{n} was founded in {v}.", ["When was {n} founded?", "In what year was {n} founded?"],
     "{n} was founded in {v}."),
    ("population", "{n} has a population of {v} people.", ["How many people live in {n}?",
                                                           "What is the population of {n}?"],
     "{n} has {v} people."),
]
N_ENTITIES = 240
BROWSER_SHORT = ["Search the documents.", "Look it up with the browser.", "I need to search for this."]


def name(rng):
    return "".join(rng.choice(SYLL) for _ in range(rng.randint(2, 3))).capitalize()


@functools.lru_cache(maxsize=None)
def entities():
    """The corpus: N_ENTITIES fictional places with distinct names and four facts each."""
    rng = random.Random("nano-corpus")
    seen, out = set(), []
    while len(out) < N_ENTITIES:
        n = name(rng)
        if n in seen:
            continue
        seen.add(n)
        out.append(dict(name=n, capital=name(rng), river=name(rng), founded=str(rng.randint(1100, 1990)),
                        population=f"{rng.randint(2, 990)},{rng.randint(0, 999):03d}"))
    return out


def corpus(folder=CORPUS):
    """Writes one short .md document per entity (one fact per line, short lines so none wraps)."""
    os.makedirs(folder, exist_ok=True)
    for e in entities():
        lines = [f"# {e['name']}", ""]
        lines += [t.format(n=e["name"], v=e[a]) for a, t, _, _ in ATTRS]
        with open(os.path.join(folder, e["name"].lower() + ".md"), "w") as f:
            f.write("\n".join(lines) + "\n")


def browser_conversation(rng, i, split):
    ents = entities()
    # held-out questions are about entities no training question asks about (every 5th)
    pool = [e for k, e in enumerate(ents) if (k % 5 == 0) == (split == "test")]
    e = rng.choice(pool)
    attr, _, qs, final = rng.choice(ATTRS)
    question = rng.choice(qs).format(n=e["name"])
    effort = rng.choice(EFFORTS)
    instructions = rng.choice(BROWSER_INSTRUCTIONS)
    date = f"20{rng.randint(24, 27)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    msgs = opening("browser", instructions, effort, date, question)
    query = e["name"]
    calls = [{"recipient": "browser.search", "arguments": {"query": query}},
             {"recipient": "browser.open", "arguments": {"id": 0}}]
    results = browser_outputs_cached(json.dumps(calls))
    page = results[1]
    # the page's cursor and the line holding the fact, read off the real tool output
    cursor = page.split("]", 1)[0].lstrip("[")
    fact = [t for a, t, _, _ in ATTRS if a == attr][0].format(n=e["name"], v=e[attr])
    line = next((ln.split(":", 1)[0][1:] for ln in page.splitlines() if ln.startswith("L") and fact in ln), None)
    if line is None or e["name"] not in results[0].split("【0†", 1)[-1][:80]:
        return None  # the search did not rank the document first, or the fact wrapped: skip
    msgs.append(say("analysis", thought(rng, effort, BROWSER_SHORT, [f"Search for {e['name']}."])))
    msgs += [browser_call("search", {"query": query}), browser_result("search", results[0])]
    msgs.append(say("analysis", "Open the first result."))
    msgs += [browser_call("open", {"id": 0}), browser_result("open", page)]
    if effort != "low":
        msgs.append(say("analysis", f"Line {line} says: {fact}"))
    msgs.append(say("final", final.format(n=e["name"], v=e[attr]) + f"【{cursor}†L{line}】"))
    return dict(messages=msgs, no_loss=[], task=dict(kind="browser", question=question, answer=e[attr],
                                                     effort=effort, instructions=instructions))


# ---------------------------------------------------------------- rendering and splits
def loss_mask(tokens):
    """1 for tokens the model generates: after `<|start|>assistant` through the terminator, and
    the `<|start|>assistant` it writes itself when one of its messages follows another (the
    runtime does not stop at <|end|>; after a tool result the runtime writes that header)."""
    mask, on, after_end = [0] * len(tokens), False, False
    for i, t in enumerate(tokens):
        if on:
            mask[i] = 1
            if t in (END, CALL, RETURN):
                on, after_end = False, t == END
        elif t == START and after_end and i + 1 < len(tokens) and tokens[i + 1] == ASSISTANT:
            mask[i] = 1
        elif t == ASSISTANT and i > 0 and tokens[i - 1] == START:
            mask[i] = int(after_end)
            on, after_end = True, False
        else:
            after_end = False
    return mask


def without_opening(conv):
    """The conversation from the user's message on, without the system/developer messages: a
    training-only copy drill in exactly the shape of a task (the distances between the question,
    the calls, the tool outputs and the answer are unchanged; RoPE sees only those) at a third
    of the tokens, so the copy mechanism gets many more examples per second of CPU."""
    msgs = conv["messages"]
    u = next(k for k, m in enumerate(msgs) if m["role"] == "user")
    return dict(conv, messages=msgs[u:], no_loss=[k - u for k in conv["no_loss"]])


COPY_Q = ["Repeat exactly: {x}", "Say back: {x}", "Copy this: {x}", "{x}\nRepeat that."]


def copy_conversation(rng):
    """A pure copy drill: a few numbers and names, repeated back verbatim (training only)."""
    items = [rng.choice([str(rng.randint(0, 10 ** rng.randint(1, 6))), name(rng),
                         rng.choice(entities()[1::5])["name"], rng.choice(["*", "+", "-", ",", "."])])
             for _ in range(rng.randint(2, 16))]
    x = " ".join(items)
    q = rng.choice(COPY_Q).format(x=x)
    return dict(messages=[{"role": "user", "content": q}, say("final", x)], no_loss=[],
                task=dict(kind="copy", question=q, answer=x, effort=None, instructions=None))


def make_example(split, seed, i):
    """Messages of example i (not yet rendered), or None when the generator skipped it. Splits
    "short" (tasks without their opening messages) and "copy" (copy drills) are training-only."""
    rng = random.Random(f"{split}:{seed}:{i}")
    if split == "copy":
        return copy_conversation(rng)
    if rng.random() < 0.3:
        conv = browser_conversation(rng, i, split)
    else:
        conv = python_conversation(rng, i, split, want_error=rng.random() < 0.12)
    return without_opening(conv) if conv is not None and split == "short" else conv


def generate(split, n, seed=0):
    convs = [c for c in (make_example(split, seed, i) for i in range(n)) if c is not None]
    for c, r in zip(convs, render_many([c["messages"] for c in convs])):
        c["tokens"], c["text"] = r["tokens"], r["text"]
        c["mask"] = loss_mask(r["tokens"])
    for c in convs:
        for k in c["no_loss"]:  # a deliberately broken call: shown, never trained on
            n0, n1 = (len(r["tokens"]) for r in render_many([c["messages"][:k], c["messages"][:k + 1]]))
            c["mask"][n0:n1] = [0] * (n1 - n0)
    return convs


def split_data(n_train, n_test, seed=0, n_short=0, n_copy=0):
    corpus()
    train = generate("train", n_train, seed) + generate("short", n_short, seed) + generate("copy", n_copy, seed)
    seen = {c["task"]["question"] for c in train}
    test = [c for c in generate("test", n_test, seed) if c["task"]["question"] not in seen]
    return train, test


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--split", default="train")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "examples"))
    a = ap.parse_args()
    corpus()
    shutil.rmtree(a.out, ignore_errors=True)
    os.makedirs(a.out, exist_ok=True)
    for i, c in enumerate(generate(a.split, a.n, a.seed)):
        with open(os.path.join(a.out, f"{a.split}-{i}.json"), "w") as f:
            json.dump({"messages": c["messages"], "task": c["task"]}, f, indent=1)
        with open(os.path.join(a.out, f"{a.split}-{i}.txt"), "w") as f:
            f.write(c["text"])
        print(a.split, i, c["task"]["kind"], len(c["tokens"]), "tokens,", sum(c["mask"]), "trained")
