#!/usr/bin/env python3
"""gpt-oss-nano training step speed: one forward + backward of train/model.py (the nano shape,
compact vocabulary) on a batch of long sequences (browser tasks, ~900 tokens) and one of short
ones (~300), median of --runs after a warm-up. --model-dir imports model.py from elsewhere (an
older revision: `git show REV:train/model.py > /tmp/old/model.py`), for side-by-side ratios.

  /usr/bin/python3 bench/nano_step_bench.py [--model-dir /tmp/old] [--threads 2]
"""
import argparse
import os
import statistics
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--model-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
ap.add_argument("--threads", type=int, default=os.cpu_count())
ap.add_argument("--runs", type=int, default=5)
a = ap.parse_args()
sys.path.insert(0, a.model_dir)
import torch  # noqa: E402
import model as M  # noqa: E402

torch.set_num_threads(a.threads)
torch.manual_seed(0)
cfg = M.ModelConfig(num_hidden_layers=4, num_experts=8, experts_per_token=4, vocab_size=2243, hidden_size=192,
                    intermediate_size=192, head_dim=64, num_attention_heads=6, num_key_value_heads=2,
                    sliding_window=128)
m = M.Transformer(cfg)
for B, T in [(6, 900), (20, 300)]:
    x = torch.randint(0, cfg.vocab_size, (B, T))
    times = []
    for _ in range(a.runs + 1):
        t = time.perf_counter()
        m.zero_grad()
        m(x).logsumexp(-1).mean().backward()
        times.append(time.perf_counter() - t)
    med = statistics.median(times[1:])
    print(f"{B}x{T}: {med:.2f} s per forward+backward, {B * T / med:.0f} tokens/s")
