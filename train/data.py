"""Seeded synthetic tool-use conversations (arithmetic via the python tool) in harmony JSON,
rendered to token ids by gossamer's own renderer (`gossamer harmony render --for-training`).

Split: example i of split S uses random.Random(f"{S}:{seed}:{i}"); the held-out split ("test")
uses a disjoint seed stream AND excludes any task whose question text appears in train.

  python3 train/data.py --n 5 --split train --out train/examples   # write inspection examples
"""
import argparse
import json
import os
import random
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOSSAMER = os.environ.get("GOSSAMER", os.path.join(ROOT, "build", "lead", "gossamer"))

START, END, CALL, RETURN, ASSISTANT = 200006, 200007, 200012, 200002, 173781

# The runtime's system-message text for the python tool (`gossamer tools list` on an agent
# spec with `tools: [python]`), so training matches what runtime/agent_loop.cpp sends.
PYTHON_DESCRIPTION = (
    "Use this tool to execute Python code in your chain of thought. The code will not be shown to "
    "the user. This tool should be used for internal reasoning, but not for code that is intended "
    "to be visible to the user (e.g. when creating plots, tables, or files).\n\n"
    "When you send a message containing Python code to python, it will be executed in a stateful "
    "Jupyter notebook environment. python will respond with the output of the execution or time "
    "out after 120.0 seconds. The drive at '/mnt/data' can be used to save and persist user files. "
    "Internet access for this session is UNKNOWN. Depends on the cluster.")

OPS = [("+", "plus", "sum of {a} and {b}"), ("-", "minus", "difference of {a} and {b}"),
       ("*", "times", "product of {a} and {b}")]
QUESTIONS = ["What is {a} {sym} {b}?", "Compute {a} {sym} {b}.", "What is {a} {word} {b}?",
             "Please calculate {a} {sym} {b}.", "What's the {phrase}?", "Calculate the {phrase}.",
             "{a} {sym} {b} = ?", "How much is {a} {word} {b}?"]
THOUGHTS = ["I'll compute this with python.", "Let me use python to calculate {a} {sym} {b}.",
            "Use python for the arithmetic.", "Need {a} {sym} {b}. Run it in python."]
FINALS = ["{a} {sym} {b} = {r}.", "The answer is {r}.", "{r}", "It is {r}."]
EFFORTS = ["low", "medium", "high"]


def make_task(rng):
    sym, word, phrase = rng.choice(OPS)
    digits = rng.choice([1, 2, 2, 3, 3, 4])
    a = rng.randint(0, 10 ** digits - 1)
    b = rng.randint(0, 10 ** rng.choice([1, 2, 3]) - 1)
    r = eval(f"{a} {sym} {b}")
    f = dict(a=a, b=b, sym=sym, word=word, r=r)
    f["phrase"] = phrase.format(**f)
    question = rng.choice(QUESTIONS).format(**f)
    return question, f


def make_conversation(rng):
    question, f = make_task(rng)
    effort = rng.choice(EFFORTS)
    date = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    msgs = [
        {"role": "system", "content": [{"type": "system_content", "reasoning_effort": effort,
                                        "conversation_start_date": date,
                                        "tools": {"python": {"name": "python", "description": PYTHON_DESCRIPTION, "tools": []}}}]},
        {"role": "user", "content": question},
        {"role": "assistant", "channel": "analysis", "content": rng.choice(THOUGHTS).format(**f)},
        {"role": "assistant", "channel": "analysis", "recipient": "python", "content_type": "code",
         "content": f"print({f['a']} {f['sym']} {f['b']})"},
        {"role": "tool", "name": "python", "recipient": "assistant", "channel": "analysis",
         "content": f"{f['r']}\n"},
        {"role": "assistant", "channel": "final", "content": rng.choice(FINALS).format(**f)},
    ]
    return {"messages": msgs, "task": {"question": question, "answer": str(f["r"])}}


def render(messages, mode="--for-training"):
    p = subprocess.run([GOSSAMER, "harmony", "render", mode], input=json.dumps({"messages": messages}),
                       capture_output=True, text=True, check=True)
    return json.loads(p.stdout)


def loss_mask(tokens):
    """1 for tokens the model generates: after `<|start|>assistant` through the terminator."""
    mask, on = [0] * len(tokens), False
    for i, t in enumerate(tokens):
        if on:
            mask[i] = 1
            if t in (END, CALL, RETURN):
                on = False
        elif t == ASSISTANT and i > 0 and tokens[i - 1] == START:
            on = True
    return mask


def generate(split, n, seed=0):
    """-> list of {"messages", "task", "tokens", "mask"}; test tasks never appear in train."""
    out = []
    for i in range(n):
        rng = random.Random(f"{split}:{seed}:{i}")
        conv = make_conversation(rng)
        r = render(conv["messages"])
        conv["tokens"], conv["text"] = r["tokens"], r["text"]
        conv["mask"] = loss_mask(r["tokens"])
        out.append(conv)
    return out


def split_data(n_train, n_test, seed=0):
    train = generate("train", n_train, seed)
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
    os.makedirs(a.out, exist_ok=True)
    for i, c in enumerate(generate(a.split, a.n, a.seed)):
        with open(os.path.join(a.out, f"{a.split}-{i}.json"), "w") as f:
            json.dump({"messages": c["messages"], "task": c["task"]}, f, indent=1)
        with open(os.path.join(a.out, f"{a.split}-{i}.txt"), "w") as f:
            f.write(c["text"])
        print(a.split, i, len(c["tokens"]), "tokens,", sum(c["mask"]), "trained")
