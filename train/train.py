"""Train gpt-oss-nano on synthetic tool-use conversations (CPU or CUDA), export the original layout.

  /usr/bin/python3 train/train.py --out models/gpt-oss-nano --minutes 45 --seed 0

Restricted output vocabulary: the model trains on a compact vocabulary (the K token ids the training
data uses). All other V-K rows of the shipped unembedding are one shared vector `w_other`, trained
jointly: the loss is the exact full-vocabulary cross entropy, since the V-K identical logits
contribute (V-K)*exp(h.w_other) to the partition function. A hinge on every position's
log-probability of the unused rows pushes their total mass under 1e-8 in training, so that on
held-out text it stays under 1e-6 (measured exactly, `other_max`). Unused embedding rows are zero.
Experts are quantised to MXFP4 after training (PTQ); the held-out loss is reported both ways.

Outputs in --out: the checkpoint (config.json, model.safetensors), training.json (arguments, loss
curve, held-out metrics, vocabulary), reference/prompt.i32 + reference/logits.f32 (the exported
checkpoint's last-position logits on held-out prompts, computed by this code's forward pass:
the C++ engine must reproduce them, tests/engine/test_nano_model.cpp).
"""
import argparse
import copy
import json
import lzma
import math
import os
import pickle
import random
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoint  # noqa: E402
import data  # noqa: E402
from model import ModelConfig, Transformer  # noqa: E402

NANO = dict(num_hidden_layers=4, num_experts=8, experts_per_token=4, vocab_size=201088,
            hidden_size=192, intermediate_size=192, swiglu_limit=7.0, head_dim=64,
            num_attention_heads=6, num_key_value_heads=2, sliding_window=128,
            initial_context_length=4096, rope_theta=150000.0, rope_scaling_factor=32.0,
            rope_ntk_alpha=1.0, rope_ntk_beta=32.0)
OTHER_LOGP_TARGET = -18.4  # log(1e-8): the hinge keeps unused-row mass below this in training


def batches(convs, remap, max_tokens, rng):
    """Batches of similar length (little padding), at most max_tokens padded tokens each."""
    order = sorted(range(len(convs)), key=lambda i: len(convs[i]["tokens"]))
    groups, cur = [], []
    for i in order:
        if cur and (len(cur) + 1) * len(convs[i]["tokens"]) > max_tokens:
            groups.append(cur)
            cur = []
        cur.append(i)
    if cur:
        groups.append(cur)
    while True:
        rng.shuffle(groups)
        for g in groups:
            yield collate([convs[j] for j in g], remap)


def collate(convs, remap, unk=0, key="mask"):
    """Inputs, targets, loss weights (c[key]) and validity, shifted for next-token prediction."""
    T = max(len(c["tokens"]) for c in convs)
    x = torch.zeros(len(convs), T, dtype=torch.long)
    m = torch.zeros(len(convs), T)
    valid = torch.zeros(len(convs), T)
    for b, c in enumerate(convs):
        n = len(c["tokens"])
        x[b, :n] = torch.tensor([remap.get(t, unk) for t in c["tokens"]])
        m[b, :n] = torch.tensor(c[key], dtype=torch.float32)
        valid[b, :n] = 1
    # predict token t+1 at position t; loss where the *target* is a generated token
    return x[:, :-1], x[:, 1:], m[:, 1:], valid[:, 1:]


def copy_accuracy(model, convs, remap, unk, first_only=True):
    """Greedy accuracy on the copied tokens alone (teacher-forced; by default the first copies
    only, template words excluded): the number that shows whether the model has its copy
    mechanism yet (template tokens are learned long before, and repeats of its own text are
    easy)."""
    right, n = 0, 0
    common = template_tokens(convs)
    with torch.no_grad():
        for i in range(0, len(convs), 8):
            batch = [dict(c, copy=copied(c, first_only, common)) for c in convs[i:i + 8]]
            dev = model.embedding.weight.device
            x, y, k = (t.to(dev) for t in collate(batch, remap, unk, key="copy")[:3])
            pred = unembed(model, model.hidden(x)).argmax(-1)
            right += ((pred == y).float() * k).sum().item()
            n += k.sum().item()
    return right / max(n, 1)


def template_tokens(convs, share=0.1):
    """Tokens in the generated text of more than `share` of the conversations: words of the
    templates ("The", " is", "."), as opposed to the task's own numbers and names."""
    df = {}
    for c in convs:
        for t in {t for t, m in zip(c["tokens"], c["mask"]) if m}:
            df[t] = df.get(t, 0) + 1
    return {t for t, n in df.items() if n > share * len(convs)}


def copied(c, first_only=False, exclude=frozenset()):
    """Per token: 1 for a generated token that also occurs in the user's question or a tool's
    output of the same conversation (the numbers and names the model must copy), else 0. With
    first_only, only where the model has not written that token itself before (the hard copies:
    a later repeat can be copied from its own earlier text)."""
    toks, mask = c["tokens"], c["mask"]
    u = next(i for i in range(len(toks) - 1) if toks[i] == data.START and toks[i + 1] == data.USER)
    seen = {t for t, m in zip(toks[u:], mask[u:]) if not m and t < 199998} - exclude
    out, written = [], set()
    for t, m in zip(toks, mask):
        out.append(int(bool(m) and t in seen and not (first_only and t in written)))
        if m:
            written.add(t)
    return out


def weight_copies(convs, weight):
    """Loss weight `weight` (instead of 1) for copied tokens: a few tokens among many template
    ones, so copying is learned sooner."""
    for c in convs:
        c["mask"] = [weight if k else m for k, m in zip(copied(c), c["mask"])]


def unembed(model, h):
    """Compact logits. While training with tied rows (model.tie_scale > 0) the unembedding is
    tie_scale * embedding + a learned difference: copying a token then needs one generic map
    (attention output ~ the token's own embedding) instead of one learned per token for each of
    its ~1,000 number tokens. (Measured: tying alone did not make the task runs copy; see
    docs/NANO.md.) untie() writes the sum back, so the export is gpt-oss's untied layout."""
    w = model.unembedding.weight
    scale = getattr(model, "tie_scale", 0.0)
    return h @ (w + scale * model.embedding.weight).t() if scale else h @ w.t()


def untie(model):
    with torch.no_grad():
        model.unembedding.weight += getattr(model, "tie_scale", 0.0) * model.embedding.weight
    model.tie_scale = 0.0


def mimetic_init(model, mix):
    """Mimetic initialisation (Trockman & Kolter 2023), blended with the random one by `mix`:
    each query head starts as a copy of its KV head's key projection (a head first attends to
    tokens like the current one) and each head's output projection as the transpose of its value
    projection (what it reads is added back, not scrambled). Both are the shapes copy/induction
    circuits need; with mix 0.7 repeat-back drills reached 0.82 copy accuracy in 500 steps
    against 0.55 from the random initialisation (docs/NANO.md)."""
    cfg = model.cfg
    d, nq, nkv = cfg.head_dim, cfg.num_attention_heads, cfg.num_key_value_heads
    g = nq // nkv
    with torch.no_grad():
        for b in model.block:
            attn = b["attn"]
            W, out = attn.qkv.weight, attn.out.weight
            for h in range(nq):
                k = W[(nq + h // g) * d:(nq + h // g + 1) * d]
                v = W[(nq + nkv + h // g) * d:(nq + nkv + h // g + 1) * d]  # [d, H]
                W[h * d:(h + 1) * d] = mix * k + (1 - mix) * W[h * d:(h + 1) * d]
                o = v.t() / (g * v.norm(dim=1).pow(2).mean())
                out[:, h * d:(h + 1) * d] = mix * o + (1 - mix) * out[:, h * d:(h + 1) * d]


def init_weights(model, unk, tie, mimetic):
    """A fresh compact model's embeddings (the unk row zero), tied training unembedding (see
    unembed) and optional mimetic attention initialisation."""
    with torch.no_grad():
        model.embedding.weight.normal_(0, 1.0)
        model.embedding.weight[unk].zero_()
        model.unembedding.weight.normal_(0, 0.0 if tie else 0.02)
        model.unembedding.weight[unk].fill_(0)
    model.tie_scale = 1.0 / math.sqrt(model.cfg.hidden_size) if tie else 0.0
    if mimetic:
        mimetic_init(model, mimetic)


def full_logits(model, w_other, n_other, x):
    """Compact logits [B,T,K] and the shared logit of the n_other unused rows (+ log n_other)."""
    h = model.hidden(x)
    return unembed(model, h), h @ w_other + math.log(n_other)


def losses(model, w_other, n_other, x, y, m, valid, unk):
    logits, other = full_logits(model, w_other, n_other, x)
    logits = logits.clone()
    logits[..., unk] = float("-inf")  # unk is never a prediction (it becomes an unused row)
    z = torch.cat([logits, other.unsqueeze(-1)], -1)
    logz = torch.logsumexp(z, -1)
    tgt = torch.where(y == unk, other, torch.gather(logits, -1, y.unsqueeze(-1)).squeeze(-1))
    nll = ((logz - tgt) * m).sum() / m.sum()
    logp_other = other - logz
    hinge = (torch.relu(logp_other - OTHER_LOGP_TARGET) * valid).sum() / valid.sum()
    return nll, hinge, z, logp_other


def evaluate(model, w_other, n_other, convs, remap, unk):
    tot, n, correct, max_other, sum_other, n_all = 0.0, 0, 0, -1e9, 0.0, 0
    with torch.no_grad():
        for i in range(0, len(convs), 8):
            x, y, m, valid = collate(convs[i:i + 8], remap, unk)
            nll, _, z, logp_other = losses(model, w_other, n_other, x, y, m, valid, unk)
            tot += nll.item() * m.sum().item()
            n += m.sum().item()
            correct += (((z.argmax(-1) == y) & (y != unk)).float() * m).sum().item()
            max_other = max(max_other, logp_other[valid > 0].max().item())
            sum_other += (logp_other.exp() * valid).sum().item()
            n_all += valid.sum().item()
    return dict(loss=tot / n, acc=correct / n, other_max=math.exp(max_other), other_mean=sum_other / n_all)


def export(model, w_other, used, cfg_full, out):
    full = Transformer(cfg_full)
    sd = {k: v for k, v in model.state_dict().items() if k not in ("embedding.weight", "unembedding.weight")}
    emb = torch.zeros(cfg_full.vocab_size, cfg_full.hidden_size)
    unemb = w_other.detach().expand(cfg_full.vocab_size, -1).clone()
    ids = torch.tensor(used)
    emb[ids] = model.embedding.weight.detach()[:len(used)]
    unemb[ids] = model.unembedding.weight.detach()[:len(used)]
    sd["embedding.weight"], sd["unembedding.weight"] = emb, unemb
    full.load_state_dict(sd)
    checkpoint.save(full, out)
    return full


def write_reference(out, test, n_prompts=4):
    """Last-position logits of the exported checkpoint (reloaded from disk) on held-out prompts."""
    loaded = checkpoint.load(out)
    ref = os.path.join(out, "reference")
    os.makedirs(ref, exist_ok=True)
    prompts, logits, lengths = [], [], []
    for c in test[:n_prompts]:
        p = data.render(c["messages"][:[m["role"] for m in c["messages"]].index("user") + 1],
                        "--for-completion")["tokens"]
        with torch.no_grad():
            logits.append(loaded(torch.tensor(p))[0, -1].float())
        prompts += p
        lengths.append(len(p))
    torch.tensor(prompts, dtype=torch.int32).numpy().tofile(os.path.join(ref, "prompts.i32"))
    torch.tensor(lengths, dtype=torch.int32).numpy().tofile(os.path.join(ref, "lengths.i32"))
    torch.stack(logits).numpy().tofile(os.path.join(ref, "logits.f32"))
    return [int(l.argmax()) for l in logits]


def resume_from(d, model, w_other, used, unk):
    """Compact weights from an exported checkpoint: its rows of the ids both vocabularies share
    (new ids keep their fresh initialisation), w_other from an unused row."""
    full = checkpoint.load(d)
    old_used = set((full.embedding.weight.abs().sum(-1) > 0).nonzero().squeeze(-1).tolist())
    sd = {k: v for k, v in full.state_dict().items() if k not in ("embedding.weight", "unembedding.weight")}
    model.load_state_dict(sd, strict=False)
    unused_id = next(i for i in range(full.cfg.vocab_size) if i not in old_used)
    with torch.no_grad():
        w_other.copy_(full.unembedding.weight[unused_id])
        for i, t in enumerate(used):
            if t in old_used:
                model.embedding.weight[i] = full.embedding.weight[t]
                model.unembedding.weight[i] = full.unembedding.weight[t]
        model.embedding.weight[unk].zero_()
        model.unembedding.weight[unk].zero_()
    print(f"resumed from {d}: {sum(t in old_used for t in used)}/{len(used)} ids carried over", flush=True)


def fit_other(model, w_other, n_other, convs, remap, unk, target=-20.7, steps=300):
    """Refits w_other alone, after training, so that no training position gives the unused rows
    more than exp(target) of the probability (log 1e-9, three orders under the 1e-6 goal for
    held-out text). The used rows do not change, so neither do their relative probabilities.
    The condition is linear in w_other (h.w_other + log n_other - lse <= target at every
    position), so a hinge on it, minimised from the trained w_other, finds a feasible point
    when one exists; the returned number is the worst training position's log-mass."""
    hs, lse = [], []
    with torch.no_grad():
        for i in range(0, len(convs), 8):
            x, _, _, valid = collate(convs[i:i + 8], remap, unk)
            h = model.hidden(x)
            logits = unembed(model, h)
            logits[..., unk] = float("-inf")
            keep = valid > 0
            hs.append(h[keep])
            lse.append(torch.logsumexp(logits, -1)[keep])
    h, bound = torch.cat(hs), torch.cat(lse) - math.log(n_other) + target - 1.0  # 1.0: margin
    w = w_other.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([w], lr=0.05)
    for _ in range(steps):
        excess = torch.relu(h @ w - bound)
        if excess.max().item() == 0:
            break
        opt.zero_grad()
        excess.pow(2).mean().backward()
        opt.step()
    with torch.no_grad():
        worst = (h @ w - bound).max().item() + target - 1.0
        w_other.copy_(w)
    print(f"fit_other: {h.shape[0]} positions, worst training log-mass of unused rows {worst:.2f} "
          f"(target {target})", flush=True)
    return worst


def refit_other(d, n_fit=1500, n_test=300, seed=0):
    """--refit-other DIR: fit_other on an exported checkpoint as it ships (bf16 + MXFP4), then
    write its unused rows, the held-out metrics and the reference logits again."""
    with open(os.path.join(d, "training.json")) as f:
        meta = json.load(f)
    used = meta["vocab"]
    unk, remap = len(used), {t: i for i, t in enumerate(used)}
    cfg_full = ModelConfig(**meta["config"])
    n_other = cfg_full.vocab_size - len(used)
    model = Transformer(ModelConfig(**{**meta["config"], "vocab_size": len(used) + 1}))
    w_other = torch.nn.Parameter(torch.zeros(cfg_full.hidden_size))
    resume_from(d, model, w_other, used, unk)
    train, test = data.split_data(n_fit, n_test, seed)
    trained = set(meta["train_question_hashes"])
    test = [c for c in test if data.question_hash(c["task"]["question"]) not in trained]
    before = evaluate(model, w_other, n_other, test, remap, unk)
    print(f"held-out before: {json.dumps(before)}", flush=True)
    worst = fit_other(model, w_other, n_other, train, remap, unk)
    with torch.no_grad():
        w_other.copy_(checkpoint.bf16_round(w_other))
    after = evaluate(model, w_other, n_other, test, remap, unk)
    after["copy_acc"] = copy_accuracy(model, test, remap, unk)
    print(f"held-out after: {json.dumps(after)}", flush=True)
    export(model, w_other, used, cfg_full, d)
    meta.update(heldout_quant=after, heldout_quant_before_refit=before, fit_other_worst_logp=worst,
                reference_argmax=write_reference(d, test))
    with open(os.path.join(d, "training.json"), "w") as f:
        json.dump(meta, f)


def load_data(a):
    """(train, test): generated (needs the gossamer binary: the renderer), or read from / written
    to the --data cache, so that a machine without the binary (a GPU box) trains on exactly
    the conversations this one rendered."""
    key = dict(seed=a.seed, n_train=a.n_train, n_test=a.n_test, n_short=a.n_short, n_copy=a.n_copy)
    if a.data and os.path.exists(a.data):
        with lzma.open(a.data, "rb") as f:
            cached = pickle.load(f)
        if cached["key"] != key:
            sys.exit(f"{a.data} holds data for {cached['key']}, not {key}")
        return cached["train"], cached["test"], cached["drills_test"]
    train, test = data.split_data(a.n_train, a.n_test, a.seed, a.n_short, a.n_copy, a.n_coding,
                                  a.n_wide)
    drills_test = data.generate("copy", 48, a.seed + 1) if a.n_copy else []
    if a.data:
        slim = [dict(tokens=c["tokens"], mask=c["mask"], task=c["task"]) for c in train]
        with lzma.open(a.data, "wb", preset=6) as f:
            pickle.dump(dict(key=key, train=slim, test=test, drills_test=drills_test), f, protocol=4)
    return train, test, drills_test


def save_state(path, model, w_other, used, info, shard_bytes=12 << 20):
    """The compact training state (weights, unused-row vector, vocabulary, log) as safetensors
    shards of at most shard_bytes (PATH.0, PATH.1, ...; a device run hands back files of 16 MB at
    most) + PATH.json: what a training-only run on another machine hands back to --finish."""
    tensors = {k: v.detach().float().cpu() for k, v in model.state_dict().items()}
    tensors["w_other"] = w_other.detach().float().cpu()
    shards, size = [{}], 0
    for k in sorted(tensors):
        n = tensors[k].numel() * 4
        if shards[-1] and size + n > shard_bytes:
            shards.append({})
            size = 0
        shards[-1][k] = ("F32", tensors[k])
        size += n
    for i, shard in enumerate(shards):
        checkpoint.write_safetensors(f"{path}.{i}.tmp", shard)
        os.replace(f"{path}.{i}.tmp", f"{path}.{i}")
    with open(path + ".json", "w") as f:
        json.dump(dict(info, used=used, shards=len(shards), tie_scale=getattr(model, "tie_scale", 0.0)), f)


def load_state(path, model, w_other):
    with open(path + ".json") as f:
        info = json.load(f)
    tensors = {}
    for i in range(info.pop("shards")):
        tensors.update({k: t for k, (_, t) in checkpoint.read_safetensors(f"{path}.{i}").items()})
    with torch.no_grad():
        w_other.copy_(tensors.pop("w_other"))
    model.load_state_dict(tensors)
    model.tie_scale = info.pop("tie_scale")
    return info


def arguments():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", help="where the checkpoint goes (required unless --refit-other)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--minutes", type=float, default=45.0, help="training time budget (data excluded)")
    ap.add_argument("--n-train", type=int, default=6000)
    ap.add_argument("--n-test", type=int, default=300)
    ap.add_argument("--n-short", type=int, default=0,
                    help="extra training tasks without their opening messages (copy practice)")
    ap.add_argument("--n-copy", type=int, default=0, help="copy drills (repeat a few numbers/names)")
    ap.add_argument("--n-coding", type=int, default=0,
                    help="coding micro-tasks (shell + apply_patch on a tiny repository; data.py)")
    ap.add_argument("--n-wide", type=int, default=0,
                    help="arithmetic with operands up to 6 digits, negatives, decimals (data.py)")
    ap.add_argument("--max-tokens", type=int, default=6000, help="padded tokens per batch")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--layers", type=int, default=NANO["num_hidden_layers"])
    ap.add_argument("--hidden", type=int, default=NANO["hidden_size"])
    ap.add_argument("--heads", type=int, default=NANO["num_attention_heads"])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--copy-weight", type=float, default=1.0,
                    help="loss weight of generated tokens copied from the question/tool output")
    ap.add_argument("--tie", type=int, default=1,
                    help="train the unembedding as embedding/sqrt(hidden) + a learned difference "
                         "(exported untied, see unembed)")
    ap.add_argument("--mimetic", type=float, default=0.0,
                    help="blend of mimetic attention initialisation (0: random; see mimetic_init)")
    ap.add_argument("--resume", default=None,
                    help="continue from an exported checkpoint (its config and vocabulary; the "
                         "exported weights are bf16/MXFP4-rounded)")
    ap.add_argument("--refit-other", metavar="DIR", default=None,
                    help="only refit the unused rows of the exported checkpoint DIR (see refit_other)")
    ap.add_argument("--data", default=None,
                    help="conversation cache (lzma pickle): read if it exists, else generated and "
                         "written there (a machine without the gossamer binary trains from it)")
    ap.add_argument("--drills-first", type=int, default=0,
                    help="steps on the copy drills alone before the tasks (curriculum)")
    ap.add_argument("--save-state", default=None,
                    help="train only: write the compact state here (also every 2 minutes) and stop")
    ap.add_argument("--init-state", metavar="STATE", default=None,
                    help="continue training from the state a --save-state run wrote (full "
                         "precision, same data and sizes; the schedule starts again)")
    ap.add_argument("--finish", metavar="STATE", default=None,
                    help="skip training: evaluate and export the state a --save-state run wrote")
    return ap


def main():
    ap = arguments()
    a = ap.parse_args()
    if a.refit_other:
        return refit_other(a.refit_other, seed=a.seed)
    if not a.out and not a.save_state:
        ap.error("--out is required")
    random.seed(a.seed)
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    torch.backends.cuda.matmul.allow_tf32 = True
    NANO.update(num_hidden_layers=a.layers, hidden_size=a.hidden, intermediate_size=a.hidden,
                num_attention_heads=a.heads)
    if a.resume:
        with open(os.path.join(a.resume, "config.json")) as f:
            NANO.update(json.load(f))
    t0 = time.time()
    train, test, drills_test = load_data(a)
    t_data = time.time() - t0
    print(f"data: {len(train)} train, {len(test)} held-out conversations ({t_data:.1f}s)", flush=True)

    if a.copy_weight != 1.0:
        weight_copies(train, a.copy_weight)
    used = sorted({t for c in train for t in c["tokens"]})
    unk = len(used)  # compact id for any token not seen in training (input: zero embedding)
    remap = {t: i for i, t in enumerate(used)}
    unseen = sum(1 for c in test if any(t not in remap for t in c["tokens"]))
    n_other = NANO["vocab_size"] - len(used)
    cfg = ModelConfig(**{**NANO, "vocab_size": len(used) + 1})  # +1: the unk row (embedding only)
    dev = torch.device("cpu" if a.finish else a.device)
    model = Transformer(cfg).to(dev)
    init_weights(model, unk, a.tie, a.mimetic)
    w_other = torch.nn.Parameter(torch.zeros(cfg.hidden_size, device=dev))
    if a.resume:
        resume_from(a.resume, model, w_other, used, unk)
        model.tie_scale = 0.0  # an export is untied already
    prior = None
    if a.init_state and not a.finish:  # --finish reads its own state below
        prior = load_state(a.init_state, model, w_other)
        prior.pop("used")
    print(f"vocab used {len(used)}, unused rows {n_other}; held-out conversations with an unseen token "
          f"{unseen}/{len(test)}; params (compact) {sum(p.numel() for p in model.parameters()):,}; "
          f"device {dev}, {a.threads} threads", flush=True)
    if a.finish:
        info = load_state(a.finish, model, w_other)
        if info["used"] != used:
            sys.exit(f"{a.finish} was trained on another vocabulary (other --data or sizes)")
    else:
        info = train_loop(a, model, w_other, n_other, train, test, drills_test, remap, unk, used)
        info.update(seconds_data=round(t_data, 1), device=str(dev), torch=torch.__version__,
                    training_args=vars(a), continues=prior)
        if a.save_state:
            save_state(a.save_state, model, w_other, used, info)
            return
    finish(a, model, w_other, n_other, train, test, remap, unk, used, unseen, info)


def train_loop(a, model, w_other, n_other, train, test, drills_test, remap, unk, used):
    """AdamW with warm-up and a cosine schedule over --minutes; --drills-first steps on the copy
    drills alone. Returns the log (steps, tokens, curve, seconds)."""
    dev = w_other.device
    params = [p for p in model.parameters()] + [w_other]
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.0, betas=(0.9, 0.98))
    rng = random.Random(a.seed)
    drills = [c for c in train if c["task"]["kind"] == "copy"]
    drill_it = batches(drills, remap, a.max_tokens, rng) if a.drills_first and drills else None
    it = batches(train, remap, a.max_tokens, rng)
    budget = a.minutes * 60
    t_train = t_saved = time.time()
    step, curve, tokens_seen = 0, [], 0
    info = lambda: dict(steps=step, tokens=tokens_seen, curve=curve,  # noqa: E731
                        seconds_training=round(time.time() - t_train, 1))
    while time.time() - t_train < budget:
        frac = (time.time() - t_train) / budget
        for g in opt.param_groups:
            g["lr"] = a.lr * min(1.0, (step + 1) / 30) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        drilling = drill_it is not None and step < a.drills_first
        x, y, m, valid = (t.to(dev) for t in next(drill_it if drilling else it))
        nll, hinge, _, _ = losses(model, w_other, n_other, x, y, m, valid, unk)
        loss = nll + hinge
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        with torch.no_grad():
            model.unembedding.weight[unk].fill_(0)
        step += 1
        tokens_seen += int(valid.sum().item())
        if step % 200 == 0:
            acc = copy_accuracy(model, test[:48], remap, unk)
            curve.append((step, "copy_acc", round(acc, 4)))
            msg = f"step {step:5d}  held-out copied-token accuracy {acc:.3f}"
            if drills_test:
                d_acc = copy_accuracy(model, drills_test, remap, unk)
                curve.append((step, "drill_acc", round(d_acc, 4)))
                msg += f"  held-out drill copy accuracy {d_acc:.3f}"
            print(msg, flush=True)
        if step % 20 == 0 or step == 1:
            curve.append((step, round(time.time() - t_train, 1), round(nll.item(), 4), round(hinge.item(), 5)))
            print(f"step {step:5d}  t={time.time() - t_train:6.1f}s  nll {nll.item():.4f}  "
                  f"hinge {hinge.item():.5f}  tokens {tokens_seen}", flush=True)
        if a.save_state and time.time() - t_saved > 120:  # a run cut off still hands back its state
            save_state(a.save_state, model, w_other, used, info())
            t_saved = time.time()
    return info()


def finish(a, model, w_other, n_other, train, test, remap, unk, used, unseen, info):
    """Untie, refit the unused rows, evaluate fp32 and as exported (bf16 + MXFP4), export the
    checkpoint, its reference logits and training.json."""
    model = model.cpu()
    untie(model)
    w_other = torch.nn.Parameter(w_other.detach().cpu())
    # the unk row must not win in the export either: it becomes an unused row (w_other)
    with torch.no_grad():
        model.unembedding.weight[unk].copy_(w_other)
    worst_other = fit_other(model, w_other, n_other, train[:1500], remap, unk)
    ev = evaluate(model, w_other, n_other, test, remap, unk)
    ev["copy_acc"] = copy_accuracy(model, test, remap, unk)
    print(f"held-out fp32: {json.dumps(ev)}", flush=True)
    qmodel = checkpoint.quantize_like_export(copy.deepcopy(model))
    w_other_q = checkpoint.bf16_round(w_other.detach())
    evq = evaluate(qmodel, w_other_q, n_other, test, remap, unk)
    print(f"held-out bf16+MXFP4: {json.dumps(evq)}", flush=True)

    export(model, w_other, used, ModelConfig(**NANO), a.out)
    argmax = write_reference(a.out, test)
    with open(os.path.join(a.out, "training.json"), "w") as f:
        json.dump(dict(info, args=vars(a), config=NANO, heldout_fp32=ev, heldout_quant=evq,
                       vocab_used=len(used), heldout_unseen_token=unseen, n_train=len(train),
                       n_test=len(test), reference_argmax=argmax, vocab=used, resumed_from=a.resume,
                       fit_other_worst_logp=worst_other,
                       train_question_hashes=sorted({data.question_hash(c["task"]["question"]) for c in train})),
                  f)
    print(f"exported {a.out} after {info['steps']} steps ({info['seconds_training']:.0f}s training on "
          f"{info['device']}, {info['seconds_data']:.0f}s data)", flush=True)


if __name__ == "__main__":
    main()
