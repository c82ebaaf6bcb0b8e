"""The gpt-oss architecture in PyTorch, fp32, on one screen.

Mirrors openai/gpt-oss gpt_oss/torch/model.py (see /work/shared/reference/gpt-oss.md section 1):
RMSNorm (eps 1e-5, fp32 gain), fused QKV with bias, YaRN RoPE (half-split pairing), GQA with
learned attention sinks, sliding window on even layers, top-k MoE with softmax over the selected
logits, interleaved SwiGLU (gate clamped <= limit, linear clamped to +-limit, +1, alpha 1.702),
untied unembedding without bias. Parameter names equal the checkpoint tensor names, except that
the MoE expert weights are dense fp32 here (`mlp1_weight`, `mlp2_weight`); checkpoint.py
converts them to and from MXFP4 blocks/scales.
"""
import json
import math
from dataclasses import dataclass, fields

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ModelConfig:
    num_hidden_layers: int = 36
    num_experts: int = 128
    experts_per_token: int = 4
    vocab_size: int = 201088
    hidden_size: int = 2880
    intermediate_size: int = 2880
    swiglu_limit: float = 7.0
    head_dim: int = 64
    num_attention_heads: int = 64
    num_key_value_heads: int = 8
    sliding_window: int = 128
    initial_context_length: int = 4096
    rope_theta: float = 150000.0
    rope_scaling_factor: float = 32.0
    rope_ntk_alpha: float = 1.0
    rope_ntk_beta: float = 32.0

    @classmethod
    def from_json(cls, path):
        with open(path) as f:
            d = json.load(f)
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def to_dict(self):
        return {f.name: getattr(self, f.name) for f in fields(self)}


class RMSNorm(nn.Module):
    def __init__(self, n, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.scale = nn.Parameter(torch.ones(n))

    def forward(self, x):
        t = x.float()
        t = t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + self.eps)
        return t * self.scale


def yarn_cos_sin(cfg: ModelConfig, n_pos: int, device=None):
    d = cfg.head_dim
    freq = cfg.rope_theta ** (torch.arange(0, d, 2, dtype=torch.float32, device=device) / d)
    s = cfg.rope_scaling_factor
    if s > 1.0:
        conc = 0.1 * math.log(s) + 1.0
        d_half = d / 2
        low = d_half * math.log(cfg.initial_context_length / (cfg.rope_ntk_beta * 2 * math.pi)) / math.log(cfg.rope_theta)
        high = d_half * math.log(cfg.initial_context_length / (cfg.rope_ntk_alpha * 2 * math.pi)) / math.log(cfg.rope_theta)
        interp = 1.0 / (s * freq)
        extrap = 1.0 / freq
        ramp = (torch.arange(d_half, dtype=torch.float32, device=device) - low) / (high - low)
        mask = 1 - ramp.clamp(0, 1)
        inv_freq = interp * (1 - mask) + extrap * mask
    else:
        conc = 1.0
        inv_freq = 1.0 / freq
    t = torch.arange(n_pos, dtype=torch.float32, device=device)
    ang = torch.einsum("i,j->ij", t, inv_freq)
    return ang.cos() * conc, ang.sin() * conc


def rope(x, cos, sin):  # x [T, ..., d]; half-split pairing (i, i + d/2)
    shape = (cos.shape[0],) + (1,) * (x.dim() - 2) + (cos.shape[1],)
    cos, sin = cos.view(shape), sin.view(shape)
    x1, x2 = torch.chunk(x, 2, dim=-1)
    return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)


def sink_softmax(s, sink):
    """softmax over [scores, sink] without the sink column: p_j = exp(s_j - logaddexp(lse, sink))
    (= softmax(s)_j * P(not sink)); one T x T exponential, masked scores are -inf."""
    return torch.exp(s - torch.logaddexp(torch.logsumexp(s, -1, keepdim=True), sink))


def mask_bias(n_q, n_k, offset, window, device):
    """0 where query i (absolute position offset + i) may see key j, else -inf: causal, and
    within `window` positions when window > 0."""
    i = torch.arange(n_q, device=device)[:, None] + offset
    j = torch.arange(n_k, device=device)[None, :]
    bad = j > i
    if window:
        bad = bad | (j <= i - window)
    return torch.zeros(n_q, n_k, device=device).masked_fill(bad, float("-inf"))


def dense_attention(q, k, v, sink, window):
    """q [Z, g, T, d] (g query heads per KV head), k/v [Z, T, d] -> [Z, g, T, d]."""
    Z, g, T, d = q.shape
    bias = mask_bias(T, T, 0, window, q.device).repeat(g, 1)  # [g*T, T]
    s = torch.baddbmm(bias, q.reshape(Z, g * T, d), k.transpose(1, 2), alpha=1.0 / math.sqrt(d))
    p = sink_softmax(s.view(Z, g, T, T), sink)
    return torch.bmm(p.view(Z, g * T, T), v).view(Z, g, T, d)


def banded_attention(q, k, v, sink, W):
    """Sliding-window attention in blocks of W queries, each against the 2W keys it can see
    (T x 2W scores instead of T x T); the same result as dense_attention."""
    Z, g, T, d = q.shape
    nb = -(-T // W)
    pad = nb * W - T
    qb = F.pad(q, (0, 0, 0, pad)).view(Z, g, nb, W, d)
    kp = F.pad(k, (0, 0, W, pad))  # W leading zero keys so block 0 has a (masked) previous block
    vp = F.pad(v, (0, 0, W, pad))
    kb = kp.unfold(1, 2 * W, W).transpose(-1, -2)  # [Z, nb, 2W, d]
    vb = vp.unfold(1, 2 * W, W).transpose(-1, -2)
    bias = mask_bias(W, 2 * W, W, W, q.device).expand(nb, W, 2 * W).clone()
    bias[0, :, :W] = float("-inf")  # the padding keys before position 0
    s = torch.einsum("zgnid,znjd->zgnij", qb, kb) / math.sqrt(d) + bias
    p = sink_softmax(s, sink.unsqueeze(-1))
    o = torch.einsum("zgnij,znjd->zgnid", p, vb)
    return o.reshape(Z, g, nb * W, d)[:, :, :T]


class AttentionBlock(nn.Module):
    def __init__(self, cfg: ModelConfig, layer_idx: int):
        super().__init__()
        self.cfg = cfg
        self.window = cfg.sliding_window if layer_idx % 2 == 0 else 0
        self.norm = RMSNorm(cfg.hidden_size)
        qkv_dim = cfg.head_dim * (cfg.num_attention_heads + 2 * cfg.num_key_value_heads)
        self.qkv = nn.Linear(cfg.hidden_size, qkv_dim)
        self.out = nn.Linear(cfg.head_dim * cfg.num_attention_heads, cfg.hidden_size)
        self.sinks = nn.Parameter(torch.zeros(cfg.num_attention_heads))

    def forward(self, x, cos, sin):  # x [B, T, H]
        c = self.cfg
        B, T, _ = x.shape
        nq, nkv, d = c.num_attention_heads, c.num_key_value_heads, c.head_dim
        g = nq // nkv
        qkv = self.qkv(self.norm(x))
        q = qkv[..., : nq * d].view(B, T, nkv, g, d)
        k = qkv[..., nq * d : (nq + nkv) * d].view(B, T, nkv, d)
        v = qkv[..., (nq + nkv) * d :].view(B, T, nkv, d)
        q = rope(q.transpose(0, 1), cos, sin).transpose(0, 1)
        k = rope(k.transpose(0, 1), cos, sin).transpose(0, 1)
        sink = self.sinks.view(1, nkv, g, 1, 1).expand(B, nkv, g, 1, 1).reshape(B * nkv, g, 1, 1)
        qh = q.permute(0, 2, 3, 1, 4).reshape(B * nkv, g, T, d)
        kh = k.permute(0, 2, 1, 3).reshape(B * nkv, T, d)
        vh = v.permute(0, 2, 1, 3).reshape(B * nkv, T, d)
        if self.window and T > 2 * self.window:
            o = banded_attention(qh, kh, vh, sink, self.window)
        else:
            o = dense_attention(qh, kh, vh, sink, self.window)
        o = o.view(B, nkv, g, T, d).permute(0, 3, 1, 2, 4).reshape(B, T, nq * d)
        return x + self.out(o)


class MLPBlock(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        E, H, I = cfg.num_experts, cfg.hidden_size, cfg.intermediate_size
        self.norm = RMSNorm(H)
        self.gate = nn.Linear(H, E)
        self.mlp1_weight = nn.Parameter(torch.randn(E, 2 * I, H) / math.sqrt(H))
        self.mlp1_bias = nn.Parameter(torch.zeros(E, 2 * I))
        self.mlp2_weight = nn.Parameter(torch.randn(E, H, I) / math.sqrt(I))
        self.mlp2_bias = nn.Parameter(torch.zeros(E, H))

    def forward(self, x):  # x [B, T, H]
        c = self.cfg
        h = self.norm(x)
        vals, idx = torch.topk(self.gate(h), k=c.experts_per_token, dim=-1, sorted=True)
        w = torch.softmax(vals, dim=-1)  # [B, T, k]
        # Each expert runs only on the tokens routed to it (the same sum as running every expert
        # and gathering the selected ones, at k/E of the cost).
        flat_h, flat_idx, flat_w = h.reshape(-1, h.shape[-1]), idx.reshape(-1), w.reshape(-1)
        token = torch.arange(flat_h.shape[0], device=x.device).repeat_interleave(c.experts_per_token)
        out = torch.zeros_like(flat_h)
        for e in range(c.num_experts):
            sel = (flat_idx == e).nonzero().squeeze(-1)
            if sel.numel() == 0:
                continue
            t = token[sel]
            u = flat_h[t] @ self.mlp1_weight[e].t() + self.mlp1_bias[e]
            glu = u[:, 0::2].clamp(max=c.swiglu_limit)
            lin = u[:, 1::2].clamp(-c.swiglu_limit, c.swiglu_limit)
            a = glu * torch.sigmoid(1.702 * glu) * (lin + 1)
            y = a @ self.mlp2_weight[e].t() + self.mlp2_bias[e]
            out = out.index_add(0, t, flat_w[sel].unsqueeze(-1) * y)
        return x + out.view_as(x)


class Transformer(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.block = nn.ModuleList(
            nn.ModuleDict({"attn": AttentionBlock(cfg, i), "mlp": MLPBlock(cfg)})
            for i in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size)
        self.unembedding = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)

    def hidden(self, tokens):  # tokens [B, T] or [T] -> final normed hidden [B, T, H]
        if tokens.dim() == 1:
            tokens = tokens[None]
        cos, sin = yarn_cos_sin(self.cfg, tokens.shape[1], tokens.device)
        x = self.embedding(tokens)
        for b in self.block:
            x = b["mlp"](b["attn"](x, cos, sin))
        return self.norm(x)

    def forward(self, tokens, rows=None):
        """Logits [B, T, V]; with `rows` (LongTensor) only those unembedding rows [B, T, len(rows)]."""
        h = self.hidden(tokens)
        if rows is None:
            return self.unembedding(h)
        return h @ self.unembedding.weight[rows].t()
