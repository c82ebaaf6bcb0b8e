"""Load and save gpt-oss checkpoints in the official `original/` layout.

- safetensors read/written by a small pure-Python (+torch) codec; no safetensors package.
- dense tensors stored as BF16 (round to nearest even), read as BF16/F32 -> fp32.
- MoE expert weights as MXFP4: `*.blocks` [E, rows, G, 16] uint8 (low nibble = even element) and
  `*.scales` [E, rows, G] uint8 (E8M0, bias 127), blocks of 32 along the input dimension, exactly
  as the reference's Checkpoint._get_mxfp4_tensor dequantises (reference doc section 2.2).
"""
import json
import os
import struct

import torch

try:
    from .model import ModelConfig, Transformer
except ImportError:  # run as a script from train/
    from model import ModelConfig, Transformer

FP4_VALUES = torch.tensor([+0.0, +0.5, +1.0, +1.5, +2.0, +3.0, +4.0, +6.0,
                           -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0], dtype=torch.float32)

_DTYPES = {"BF16": (torch.int16, 2), "F32": (torch.float32, 4), "U8": (torch.uint8, 1),
           "I32": (torch.int32, 4), "F16": (torch.float16, 2)}


# ---------------------------------------------------------------- safetensors codec
def read_safetensors(path):
    """-> {name: (dtype_str, tensor)}; BF16 comes back as fp32."""
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt, shape, (a, b) = info["dtype"], info["shape"], info["data_offsets"]
        tdt, _ = _DTYPES[dt]
        buf = bytearray(data[base + a: base + b])
        t = torch.frombuffer(buf, dtype=tdt) if len(buf) else torch.empty(0, dtype=tdt)
        if dt == "BF16":
            t = (t.to(torch.int32) << 16).view(torch.float32)
        out[name] = (dt, t.reshape(shape).clone())
    return out


def bf16_bits(t):
    """fp32 tensor -> int16 tensor of bf16 bits (round to nearest even; NaN kept NaN)."""
    u = t.detach().float().contiguous().view(torch.int32).to(torch.int64) & 0xFFFFFFFF
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    nan = torch.isnan(t)
    rounded = torch.where(nan, torch.full_like(rounded, 0x7FC0), rounded)
    return (rounded & 0xFFFF).to(torch.int32).to(torch.int16)  # wraps into int16 range


def bf16_round(t):
    return (bf16_bits(t).to(torch.int32) << 16).view(torch.float32)


def write_safetensors(path, tensors):
    """tensors: {name: (dtype_str, tensor)} with dtype in BF16 (given fp32), U8, F32, I32."""
    header, chunks, off = {}, [], 0
    for name in sorted(tensors):
        dt, t = tensors[name]
        if dt == "BF16":
            raw = bf16_bits(t).numpy().tobytes() if _has_numpy() else _tobytes(bf16_bits(t))
        else:
            raw = _tobytes(t.contiguous())
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        chunks.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)


def _has_numpy():
    try:
        import numpy  # noqa: F401
        return True
    except ImportError:
        return False


def _tobytes(t):
    t = t.contiguous()
    return bytes(t.view(torch.uint8).reshape(-1).tolist()) if not _has_numpy() else t.numpy().tobytes()


# ---------------------------------------------------------------- MXFP4
def mxfp4_dequantize(blocks, scales):
    """blocks [..., G, 16] u8, scales [..., G] u8 -> fp32 [..., G*32]."""
    lo = (blocks & 0x0F).long()
    hi = (blocks >> 4).long()
    vals = torch.stack([FP4_VALUES[lo], FP4_VALUES[hi]], dim=-1).reshape(*blocks.shape[:-1], 32)
    exp = scales.to(torch.int32) - 127
    out = torch.ldexp(vals, exp.unsqueeze(-1).float())
    return out.reshape(*blocks.shape[:-2], blocks.shape[-2] * 32)


def mxfp4_quantize(w):
    """fp32 [..., K] (K % 32 == 0) -> (blocks [..., K/32, 16] u8, scales [..., K/32] u8).

    Per block of 32: scale 2^e with the smallest e such that max|x| / 2^e <= 6 (E2M1's max), then
    each element rounds to the nearest E2M1 value (ties to the even mantissa code)."""
    w = w.detach().float()
    K = w.shape[-1]
    assert K % 32 == 0, K
    x = w.reshape(*w.shape[:-1], K // 32, 32)
    amax = x.abs().amax(-1)
    e = torch.ceil(torch.log2(torch.clamp(amax, min=2.0 ** -126) / 6.0))
    e = torch.where(amax > 0, e, torch.full_like(e, -127.0)).clamp(-127, 127)
    y = x / torch.ldexp(torch.ones_like(e), e.int()).unsqueeze(-1)
    mags = FP4_VALUES[:8]
    dist = (y.abs().unsqueeze(-1) - mags).abs()  # [..., 32, 8]; argmin picks the lowest code on ties
    code = dist.argmin(-1)
    code = code | ((y < 0) & (code > 0)).long() << 3
    code = code.reshape(*x.shape[:-1], 16, 2).to(torch.uint8)
    blocks = code[..., 0] | (code[..., 1] << 4)
    scales = (e + 127).to(torch.uint8)
    return blocks.contiguous(), scales.contiguous()


# ---------------------------------------------------------------- model <-> checkpoint
def _st_files(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".safetensors"))


def load(d, device="cpu"):
    """Directory with config.json + *.safetensors (original layout) -> fp32 Transformer."""
    cfg = ModelConfig.from_json(os.path.join(d, "config.json"))
    raw = {}
    for p in _st_files(d):
        raw.update(read_safetensors(p))
    model = Transformer(cfg)
    sd = {}
    for name, (dt, t) in raw.items():
        if name.endswith(".blocks"):
            base = name[: -len(".blocks")]
            sd[base] = mxfp4_dequantize(t, raw[base + ".scales"][1])
        elif name.endswith(".scales"):
            continue
        else:
            sd[name] = t.float()
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise ValueError(f"checkpoint mismatch: missing {missing}, unexpected {unexpected}")
    return model.to(device)


def save(model, d, mxfp4=True):
    """Write config.json + model.safetensors (BF16 dense, MXFP4 experts) into directory d."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(model.cfg.to_dict(), f, indent=2)
    out = {}
    for name, p in model.state_dict().items():
        p = p.detach().cpu().float()
        if name.endswith("mlp1_weight") or name.endswith("mlp2_weight"):
            assert mxfp4
            blocks, scales = mxfp4_quantize(p)
            out[name + ".blocks"] = ("U8", blocks)
            out[name + ".scales"] = ("U8", scales)
        else:
            out[name] = ("BF16", p)
    write_safetensors(os.path.join(d, "model.safetensors"), out)


def quantize_like_export(model):
    """In place: round the weights exactly as save() stores them (bf16 / MXFP4), so the fp32
    forward equals what a loaded export computes."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("mlp1_weight") or name.endswith("mlp2_weight"):
                p.copy_(mxfp4_dequantize(*mxfp4_quantize(p)))
            else:
                p.copy_(bf16_round(p))
    return model
