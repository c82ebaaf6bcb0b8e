"""Checks of the training code against the golden data and the C++ engine's checkpoints.

Run from the repo root:  python3 -m unittest discover -s train
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoint  # noqa: E402
from model import banded_attention, dense_attention  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "tests", "data", "golden", "tiny-moe")
GOSSAMER = os.environ.get("GOSSAMER", os.path.join(ROOT, "build", "lead", "gossamer"))


def read_i32(path):
    with open(path, "rb") as f:
        return torch.frombuffer(bytearray(f.read()), dtype=torch.int32).long()


def read_f32(path):
    with open(path, "rb") as f:
        return torch.frombuffer(bytearray(f.read()), dtype=torch.float32)


class GoldenTest(unittest.TestCase):
    def test_golden_logits_f32(self):
        model = checkpoint.load(os.path.join(GOLDEN, "model"))
        tokens = read_i32(os.path.join(GOLDEN, "prompt.i32"))
        with torch.no_grad():
            logits = model(tokens)[0]
        ref = read_f32(os.path.join(GOLDEN, "logits_f32.f32")).view(len(tokens), -1)
        diff = (logits - ref).abs().max().item()
        print(f"\ngolden tiny-moe: max |logits - logits_f32| = {diff:.3e}")
        self.assertLess(diff, 1e-3)
        greedy = read_i32(os.path.join(GOLDEN, "greedy.i32"))
        self.assertEqual(logits[-1].argmax().item(), greedy[0].item())

    def test_mxfp4_roundtrip(self):
        raw = checkpoint.read_safetensors(os.path.join(GOLDEN, "model", "model.safetensors"))
        blocks = raw["block.0.mlp.mlp1_weight.blocks"][1]
        scales = raw["block.0.mlp.mlp1_weight.scales"][1]
        w = checkpoint.mxfp4_dequantize(blocks, scales)
        w2 = checkpoint.mxfp4_dequantize(*checkpoint.mxfp4_quantize(w))
        self.assertTrue(torch.equal(w, w2))
        # quantising arbitrary values: error at most half the largest E2M1 step (1 * 2^e, 2^e < amax/3)
        x = torch.randn(3, 5, 64)
        y = checkpoint.mxfp4_dequantize(*checkpoint.mxfp4_quantize(x))
        amax = x.view(3, 5, 2, 32).abs().amax(-1, keepdim=True)
        self.assertTrue(((x - y).view(3, 5, 2, 32).abs() <= amax / 3 + 1e-6).all())

    def test_save_load_roundtrip(self):
        model = checkpoint.load(os.path.join(GOLDEN, "model"))
        tokens = read_i32(os.path.join(GOLDEN, "prompt.i32"))
        with tempfile.TemporaryDirectory() as d:
            checkpoint.save(model, d)
            again = checkpoint.load(d)
        with torch.no_grad():
            a, b = model(tokens), again(tokens)
        self.assertEqual((a - b).abs().max().item(), 0.0)

    @unittest.skipUnless(os.path.exists(GOSSAMER), "gossamer binary not built")
    def test_engine_agrees_on_our_export(self):
        """A checkpoint from `gossamer model init` loads here; our re-export gives the engine's logits."""
        tokens = read_i32(os.path.join(GOLDEN, "prompt.i32"))
        with tempfile.TemporaryDirectory() as d:
            src, dst = os.path.join(d, "src"), os.path.join(d, "dst")
            subprocess.run([GOSSAMER, "model", "init", "--preset", "tiny", "--out", src, "--seed", "7"],
                           check=True, capture_output=True)
            model = checkpoint.load(src)
            checkpoint.save(model, dst)
            out = os.path.join(d, "logits.f32")
            subprocess.run([GOSSAMER, "model", "forward", "--model", dst, "--prompt-ids",
                            os.path.join(GOLDEN, "prompt.i32"), "--out", out],
                           check=True, capture_output=True)
            eng = read_f32(out).view(len(tokens), -1)
        with torch.no_grad():
            ours = model(tokens)[0]
        diff = (ours - eng).abs().max().item()
        print(f"\nengine vs train/model.py on a re-exported tiny checkpoint: max diff {diff:.3e}")
        self.assertLess(diff, 1e-3)


def reference_attention(q, k, v, sink, window):
    """The textbook form: scores with an explicit sink column, masked, softmaxed, sink dropped."""
    Z, g, T, d = q.shape
    s = torch.einsum("zgid,zjd->zgij", q, k) / d ** 0.5
    i, j = torch.arange(T)[:, None], torch.arange(T)[None, :]
    bad = (j > i) | ((j <= i - window) if window else torch.zeros(T, T, dtype=torch.bool))
    s = s.masked_fill(bad, float("-inf"))
    s = torch.cat([s, sink.expand(Z, g, T, 1)], -1)
    p = torch.softmax(s, -1)[..., :T]
    return torch.einsum("zgij,zjd->zgid", p, v)


class AttentionTest(unittest.TestCase):
    def test_dense_and_banded_match_the_reference(self):
        torch.manual_seed(3)
        for T, window in [(7, 0), (300, 0), (7, 4), (300, 128), (257, 128), (1000, 128)]:
            q, k, v = torch.randn(2, 3, T, 16) * 2, torch.randn(2, T, 16) * 2, torch.randn(2, T, 16)
            sink = torch.randn(2, 3, 1, 1)
            ref = reference_attention(q, k, v, sink, window)
            self.assertLess((dense_attention(q, k, v, sink, window) - ref).abs().max().item(), 1e-5)
            if window and T > 2 * window:
                self.assertLess((banded_attention(q, k, v, sink, window) - ref).abs().max().item(), 1e-5)


if __name__ == "__main__":
    unittest.main()
