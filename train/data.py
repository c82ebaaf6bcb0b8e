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
             "  - shell\n  - apply_patch\n" if kind == "coding" else
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


def wide_arith_task(rng):
    """Arithmetic at the lengths users type (issue 20): both operands up to 6 digits, negatives,
    one-decimal numbers; the same phrasings and code shape as arith_task."""
    def operand():
        kind = rng.random()
        if kind < 0.2:
            return f"{rng.randint(0, 9999)}.{rng.randint(1, 9)}"
        n = rng.randint(0, 10 ** rng.randint(1, 6) - 1)
        return str(-n if kind < 0.35 else n)
    sym, word, phrase, verb = rng.choice(OPS)
    a, b = operand(), operand()
    b_text = f"({b})" if b.startswith("-") else b
    f = dict(a=a, b=b, sym=sym, word=word, verb=verb)
    f["phrase"] = phrase.format(**f)
    code = f"print({a} {sym} {b_text})"
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


def python_conversation(rng, i, split, want_error, families=None):
    family = rng.choice(families or [arith_task, arith_task, unit_task, data_task])
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


# ---------------------------------------------------------------- coding micro-tasks
# A tiny repository (one module, one test file run with python3) with one planted bug; the
# conversation runs the tests with functions.shell (the real sandbox runs them: the output is
# theirs), fixes the named line with functions.apply_patch (the patch is applied to a real copy,
# so it is known to apply), reruns the tests and answers with what changed.
CODING_INSTRUCTIONS = [
    "You work in a Python repository. Run its tests with the shell tool, fix the code with "
    "apply_patch, run the tests again, and answer with what you changed in one sentence.",
    None,
]
CODING_Q = ["The tests in {test} fail. Find the bug and fix it.", "Fix the failing test in {test}.",
            "{test} fails; make it pass.", "Run the tests in {test} and fix what is broken."]
CODING_F = ["Fixed {module}.py: {what}; the tests pass now.", "In {module}.py, {what}. Fixed; all tests pass.",
            "{what} ({module}.py); fixed."]
CODING_SHORT = ["Run the tests first.", "Let me run the tests.", "Start with the failing test."]
FUNCS = [  # (name, args, right body, wrong body, call, what the fix is)
    ("add", "a, b", "a + b", "a - b", "({x}, {y})", "the operator in add() was - instead of +"),
    ("mul", "a, b", "a * b", "a + b", "({x}, {y})", "the operator in mul() was + instead of *"),
    ("diff", "a, b", "a - b", "b - a", "({x}, {y})", "diff() subtracted in the wrong order"),
    ("double", "a", "a * 2", "a * 3", "({x})", "double() multiplied by 3 instead of 2"),
    ("area", "w, h", "w * h", "w + h", "({x}, {y})", "area() added instead of multiplying"),
    ("offset", "a", "a + 10", "a + 1", "({x})", "the constant in offset() was 1 instead of 10"),
]


def coding_repo(rng):
    name, args, right, wrong, call, what = rng.choice(FUNCS)
    module = rng.choice(["calc", "mathutil", "ops", "util"])
    test = f"test_{module}.py"
    x, y = rng.randint(2, 99), rng.randint(2, 99)
    env = {"a": x, "b": y, "w": x, "h": y}
    expected = eval(right, {}, env)
    got = eval(wrong, {}, env)
    if expected == got:
        return None
    code = f'def {name}({args}):\n    return {wrong}\n'
    args_text = call.format(x=x, y=y)
    tests = (f"import sys\nfrom {module} import {name}\n\n"
             f"got = {name}{args_text}\n"
             f"if got != {expected}:\n"
             f"    print('FAIL {name}{args_text}: expected {expected}, got', got)\n"
             f"    sys.exit(1)\n"
             f"print('ok   {name}{args_text}')\n")
    patch = (f"*** Begin Patch\n*** Update File: {module}.py\n@@ def {name}({args}):\n"
             f"-    return {wrong}\n+    return {right}\n*** End Patch")
    return dict(module=module, test=test, files={f"{module}.py": code, test: tests}, patch=patch,
                fixed={f"{module}.py": f'def {name}({args}):\n    return {right}\n'}, what=what,
                name=name, args=args_text, expected=expected, got=got)


def shell_output(files, command):
    """What functions.shell answers for `command` in a workspace holding `files`: the command
    runs in gossamer's sandbox (`gossamer sandbox exec`), formatted as tools/shell does."""
    with tempfile.TemporaryDirectory() as d:
        for path, text in files.items():
            with open(os.path.join(d, path), "w") as f:
                f.write(text)
        os.chmod(d, 0o777)
        p = subprocess.run([GOSSAMER, "sandbox", "exec", "--workspace", d, "--timeout", "30", "--",
                            "bash", "-c", command + " 2>&1"], capture_output=True, text=True)
    code = p.returncode
    return f"Exit code: {code}\nWall time: {rng_wall(command)} seconds\nOutput:\n{p.stdout}"


def rng_wall(command):
    """A plausible wall time (the model should not learn a number from it)."""
    r = random.Random(command)
    return f"{r.uniform(0.02, 0.09):.3g}"


def fn_call(name, args):
    return {"role": "assistant", "channel": "commentary", "recipient": f"functions.{name}",
            "content_type": "<|constrain|>json" if name == "shell" else None,
            "content": json.dumps(args) if name == "shell" else args}


def fn_result(name, text):
    return {"role": "tool", "name": f"functions.{name}", "recipient": "assistant",
            "channel": "commentary", "content": text}


def coding_conversation(rng, i, split):
    repo = coding_repo(rng)
    if repo is None:
        return None
    effort = rng.choice(EFFORTS)
    instructions = rng.choice(CODING_INSTRUCTIONS)
    date = f"20{rng.randint(24, 27)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    question = rng.choice(CODING_Q).format(test=repo["test"])
    msgs = opening("coding", instructions, effort, date, question)
    run = "python3 " + repo["test"]
    before = shell_output(repo["files"], run)
    after = shell_output(dict(repo["files"], **repo["fixed"]), run)
    if "Exit code: 1" not in before or "Exit code: 0" not in after:
        return None
    call = f"{repo['name']}{repo['args']}"
    show = f"cat {repo['module']}.py"
    msgs += [say("analysis", rng.choice(CODING_SHORT)), fn_call("shell", {"command": run}),
             fn_result("shell", before),
             say("analysis", f"{call} gave {repo['got']}, expected {repo['expected']}. Read the code."),
             fn_call("shell", {"command": show}), fn_result("shell", shell_output(repo["files"], show)),
             say("analysis", f"Found it: {repo['what']}. Fix that line."),
             fn_call("apply_patch", repo["patch"]), fn_result("apply_patch", f"Done!\nM {repo['module']}.py"),
             fn_call("shell", {"command": run}), fn_result("shell", after),
             say("final", rng.choice(CODING_F).format(what=repo["what"], module=repo["module"]))]
    for m in msgs:
        if m.get("content_type", "x") is None:
            del m["content_type"]
    return dict(messages=msgs, no_loss=[], task=dict(kind="coding", question=question,
                                                    answer=repo["what"], effort=effort,
                                                    instructions=instructions,
                                                    files=repo["files"], test=repo["test"]))


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
    if split in ("coding", "coding-test"):
        return coding_conversation(rng, i, split)
    if split in ("wide", "wide-test"):  # arithmetic at the lengths users type
        return python_conversation(rng, i, split, want_error=False, families=[wide_arith_task])
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


def split_data(n_train, n_test, seed=0, n_short=0, n_copy=0, n_coding=0, n_wide=0):
    corpus()
    train = generate("train", n_train, seed) + generate("short", n_short, seed) + generate("copy", n_copy, seed)
    train += generate("coding", n_coding, seed) + generate("wide", n_wide, seed)
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
