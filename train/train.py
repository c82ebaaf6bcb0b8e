"""Train gpt-oss-nano on synthetic python-tool conversations (CPU), export the original layout.

  /usr/bin/python3 train/train.py --out /tmp/nano --minutes 3 --seed 0

Restricted output vocabulary: the model trains on a compact vocabulary (the K token ids the training
data uses). All other V-K rows of the shipped unembedding are one shared vector `w_other`, trained
jointly: the loss is the exact full-vocabulary cross entropy, since the V-K identical logits
contribute (V-K)*exp(h.w_other) to the partition function. So training itself drives the mass on
unused rows down, and we measure it exactly on held-out text. Unused embedding rows are zero.
Experts are quantised to MXFP4 after training (PTQ); the held-out loss is reported both ways.
"""
import argparse
import copy
import json
import math
import os
import random
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoint  # noqa: E402
import data  # noqa: E402
from model import ModelConfig, Transformer  # noqa: E402

NANO = dict(num_hidden_layers=2, num_experts=8, experts_per_token=4, vocab_size=201088,
            hidden_size=128, intermediate_size=128, swiglu_limit=7.0, head_dim=64,
            num_attention_heads=4, num_key_value_heads=2, sliding_window=128,
            initial_context_length=4096, rope_theta=150000.0, rope_scaling_factor=32.0,
            rope_ntk_alpha=1.0, rope_ntk_beta=32.0)


def batches(convs, remap, bs, rng):
    idx = list(range(len(convs)))
    while True:
        rng.shuffle(idx)
        for i in range(0, len(idx) - bs + 1, bs):
            yield collate([convs[j] for j in idx[i:i + bs]], remap)


def collate(convs, remap):
    T = max(len(c["tokens"]) for c in convs)
    x = torch.zeros(len(convs), T, dtype=torch.long)
    m = torch.zeros(len(convs), T)
    for b, c in enumerate(convs):
        n = len(c["tokens"])
        x[b, :n] = torch.tensor([remap.get(t, 0) for t in c["tokens"]])
        m[b, :n] = torch.tensor(c["mask"], dtype=torch.float32)
    # predict token t+1 at position t; loss where the *target* is a generated token
    return x[:, :-1], x[:, 1:], m[:, 1:]


def full_logits(model, w_other, n_other, x):
    """Compact logits [B,T,K] and the shared logit of the n_other unused rows (+ log n_other)."""
    h = model.hidden(x)
    return model.unembedding(h), h @ w_other + math.log(n_other)


def evaluate(model, w_other, n_other, convs, remap, unk):
    tot, n, correct, max_other, sum_other, n_all = 0.0, 0, 0, 0.0, 0.0, 0
    with torch.no_grad():
        for i in range(0, len(convs), 16):
            x, y, m = collate(convs[i:i + 16], remap)
            logits, other = full_logits(model, w_other, n_other, x)
            z = torch.cat([logits, other.unsqueeze(-1)], -1)
            logz = torch.logsumexp(z, -1)
            # a target id unseen in training counts as an unused row
            tgt = torch.where(y == unk, z[..., -1], torch.gather(logits, -1, y.unsqueeze(-1)).squeeze(-1))
            tot += ((logz - tgt) * m).sum().item()
            n += m.sum().item()
            correct += (((z.argmax(-1) == y) & (y != unk)).float() * m).sum().item()
            valid = torch.zeros_like(m)
            for b, c in enumerate(convs[i:i + 16]):
                valid[b, :len(c["tokens"]) - 1] = 1
            p_other = (other - logz).exp()
            max_other = max(max_other, (p_other * valid).max().item())
            sum_other += (p_other * valid).sum().item()
            n_all += valid.sum().item()
    return dict(loss=tot / n, acc=correct / n, other_max=max_other, other_mean=sum_other / n_all)


def export(model, w_other, used, out):
    cfg = ModelConfig(**NANO)
    full = Transformer(cfg)
    sd = {k: v for k, v in model.state_dict().items() if k not in ("embedding.weight", "unembedding.weight")}
    emb = torch.zeros(cfg.vocab_size, cfg.hidden_size)
    unemb = w_other.detach().expand(cfg.vocab_size, -1).clone()
    ids = torch.tensor(used)
    emb[ids] = model.embedding.weight.detach()[:len(used)]
    unemb[ids] = model.unembedding.weight.detach()[:len(used)]
    sd["embedding.weight"], sd["unembedding.weight"] = emb, unemb
    full.load_state_dict(sd)
    checkpoint.save(full, out)
    return full


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--minutes", type=float, default=3.0, help="training time budget")
    ap.add_argument("--n-train", type=int, default=2000)
    ap.add_argument("--n-test", type=int, default=200)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--layers", type=int, default=NANO["num_hidden_layers"])
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    if a.threads:
        torch.set_num_threads(a.threads)
    NANO["num_hidden_layers"] = a.layers
    t0 = time.time()
    train, test = data.split_data(a.n_train, a.n_test, a.seed)
    print(f"data: {len(train)} train, {len(test)} held-out conversations ({time.time() - t0:.1f}s)", flush=True)

    used = sorted({t for c in train for t in c["tokens"]})
    unk = len(used)  # compact id for any token not seen in training (input: zero embedding)
    remap = {t: i for i, t in enumerate(used)}
    remap_test = dict(remap)
    for c in test:
        for t in c["tokens"]:
            remap_test.setdefault(t, unk)
    n_other = NANO["vocab_size"] - len(used)
    cfg = ModelConfig(**{**NANO, "vocab_size": len(used) + 1})  # +1: the unk row (embedding only)
    model = Transformer(cfg)
    with torch.no_grad():
        model.embedding.weight.normal_(0, 1.0)
        model.embedding.weight[unk].zero_()
        model.unembedding.weight.normal_(0, 0.02)
        model.unembedding.weight[unk].fill_(0)
    w_other = torch.nn.Parameter(torch.zeros(cfg.hidden_size))
    params = [p for p in model.parameters()] + [w_other]
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.0)
    print(f"vocab used {len(used)}, unused rows {n_other}; params (compact) "
          f"{sum(p.numel() for p in params):,}", flush=True)

    rng = random.Random(a.seed)
    it = batches(train, remap, a.batch, rng)
    budget = a.minutes * 60
    t_train = time.time()
    step, curve = 0, []
    while time.time() - t_train < budget:
        frac = (time.time() - t_train) / budget
        for g in opt.param_groups:
            g["lr"] = a.lr * min(1.0, (step + 1) / 50) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        x, y, m = next(it)
        logits, other = full_logits(model, w_other, n_other, x)
        logits = logits.clone()
        logits[..., unk] = float("-inf")  # unk is never a training target or a prediction
        z = torch.cat([logits, other.unsqueeze(-1)], -1)
        nll = torch.logsumexp(z, -1) - torch.gather(logits, -1, y.unsqueeze(-1)).squeeze(-1)
        loss = (nll * m).sum() / m.sum()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        with torch.no_grad():
            model.unembedding.weight[unk].fill_(0)
        step += 1
        if step % 25 == 0 or step == 1:
            curve.append((step, round(time.time() - t_train, 1), round(loss.item(), 4)))
            print(f"step {step:5d}  t={time.time() - t_train:6.1f}s  train loss {loss.item():.4f}", flush=True)

    # the unk row must not win in the export either: it becomes an unused row (w_other)
    with torch.no_grad():
        model.unembedding.weight[unk].copy_(w_other)
    ev = evaluate(model, w_other, n_other, test, remap_test, unk)
    print(f"held-out fp32: {json.dumps(ev)}", flush=True)
    qmodel = checkpoint.quantize_like_export(copy.deepcopy(model))
    w_other_q = checkpoint.bf16_round(w_other.detach())
    evq = evaluate(qmodel, w_other_q, n_other, test, remap_test, unk)
    print(f"held-out bf16+MXFP4: {json.dumps(evq)}", flush=True)

    full = export(model, w_other, used, a.out)
    with open(os.path.join(a.out, "training.json"), "w") as f:
        json.dump(dict(args=vars(a), steps=step, curve=curve, heldout_fp32=ev, heldout_quant=evq,
                       vocab_used=len(used)), f, indent=1)
    print(f"exported {a.out} after {step} steps", flush=True)

    # sanity: the exported checkpoint, reloaded, gives the same next-token as the quantised
    # compact model on a held-out prompt (one full-vocabulary forward; greedy decoding is left to
    # the C++ engine: gossamer generate --model OUT --prompt-ids OUT/prompt.i32 ...)
    loaded = checkpoint.load(a.out)
    c = test[0]
    prompt = data.render(c["messages"][:2], "--for-completion")["tokens"]
    with open(os.path.join(a.out, "prompt.i32"), "wb") as f:
        f.write(torch.tensor(prompt, dtype=torch.int32).numpy().tobytes())
    with torch.no_grad():
        full_last = loaded(torch.tensor(prompt))[0, -1]
        cl, co = full_logits(qmodel, w_other_q, n_other, torch.tensor([remap_test.get(t, unk) for t in prompt])[None])
    print(f"held-out prompt: {c['task']['question']!r}; export argmax {full_last.argmax().item()}, "
          f"compact argmax {used[cl[0, -1, :len(used)].argmax().item()]}, "
          f"max |export - compact| on used rows {(full_last[torch.tensor(used)] - cl[0, -1, :len(used)]).abs().max().item():.2e}")


if __name__ == "__main__":
    main()
