"""Drill-only experiment (docs/NANO.md, "Copy experiments"): how many optimizer steps the nano
architecture needs to learn to copy, on repeat-back drills alone (train/data.py copy split);
prints the held-out drill copy accuracy every 100 steps.

  GOSSAMER=build/lead/gossamer /usr/bin/python3 bench/nano_copy_drill.py --minutes 9 --mimetic 0.7
"""
import sys, os, time, math, random, argparse, json
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'train'))
import torch, data, train as T
from model import ModelConfig, Transformer
ap = argparse.ArgumentParser()
ap.add_argument("--tie", type=int, default=1); ap.add_argument("--lr", type=float, default=3e-3)
ap.add_argument("--minutes", type=float, default=4); ap.add_argument("--heads", type=int, default=6)
ap.add_argument("--layers", type=int, default=4); ap.add_argument("--max-tokens", type=int, default=4000)
ap.add_argument("--hidden", type=int, default=192); ap.add_argument("--mimetic", type=float, default=0); ap.add_argument("--kv", type=int, default=2)
a = ap.parse_args()
torch.manual_seed(0); torch.set_num_threads(2)
import pickle
cache = "/tmp/nano-drills.pkl"  # drills are rendered once (gossamer harmony render)
if os.path.exists(cache):
    train, test = pickle.load(open(cache, "rb"))
else:
    train = data.generate("copy", 20000, 0); test = data.generate("copy", 300, 1)
    pickle.dump((train, test), open(cache, "wb"))
used = sorted({t for c in train + test for t in c["tokens"]}); unk = len(used); remap = {t: i for i, t in enumerate(used)}
cfg = ModelConfig(**{**T.NANO, "vocab_size": len(used) + 1, "num_hidden_layers": a.layers, "num_attention_heads": a.heads,
                     "hidden_size": a.hidden, "intermediate_size": a.hidden, "num_key_value_heads": a.kv})
model = Transformer(cfg)
T.init_weights(model, unk, a.tie, a.mimetic)
w_other = torch.nn.Parameter(torch.zeros(cfg.hidden_size)); n_other = 200000
params = list(model.parameters()) + [w_other]
opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.0, betas=(0.9, 0.98))
it = T.batches(train, remap, a.max_tokens, random.Random(0))
t0 = time.time(); step = 0
while time.time() - t0 < a.minutes * 60:
    for g in opt.param_groups: g["lr"] = a.lr * min(1.0, (step + 1) / 30)
    x, y, m, valid = next(it)
    nll, hinge, _, _ = T.losses(model, w_other, n_other, x, y, m, valid, unk)
    opt.zero_grad(); (nll + hinge).backward(); torch.nn.utils.clip_grad_norm_(params, 1.0); opt.step()
    step += 1
    if step % 100 == 0:
        acc = T.copy_accuracy(model, test[:64], remap, unk, first_only=False)
        print(f"{vars(a)} step {step} t={time.time()-t0:.0f}s nll {nll.item():.3f} drill copy acc {acc:.3f}", flush=True)
