"""Independent reference for io.udit.vae (run with Debian's python3-torch 1.13; no diffusers needed).

Writes, next to this script:
  sd-vae-ft-ema.keys.tsv         state-dict keys and shapes of the released sd-vae-ft-ema architecture, current
                                 diffusers naming (to_q/to_k/to_v/to_out.0), in state_dict() order
  sd-vae-ft-ema.legacy-keys.tsv  the same in the older naming (query/key/value/proj_attn) of early diffusers exports
  tiny-vae/config.json           a small random VAE (block_out_channels [16, 32], 1 layer per block, 8 groups)
  tiny-vae/diffusion_pytorch_model.bin   its weights, torch.save of an OrderedDict in the LEGACY naming
  parity.npz                     inputs and expected outputs (see README.md)

The module tree below is written from /work/shared/spec/VAE.md and diffusers' Encoder/Decoder/UNetMidBlock2D/
ResnetBlock2D/Attention constructors (same attribute names and registration order), not from the Java code.
The forward computations used for the expected outputs are separate plain-op functions in float64: group norm from
mean/var by hand, SiLU as x * sigmoid(x), attention as explicit matmul-softmax-matmul, nearest upsampling by
repeat_interleave, so they share no kernels with the Java side's group_norm / SDPA / upsample_nearest2d.
"""
import collections
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------- module tree (names, shapes, order)
class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=1e-6)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, cout, eps=1e-6)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        if cin != cout:
            self.conv_shortcut = nn.Conv2d(cin, cout, 1)


class Attention(nn.Module):
    def __init__(self, c, groups, legacy):
        super().__init__()
        self.group_norm = nn.GroupNorm(groups, c, eps=1e-6)
        if legacy:
            self.query = nn.Linear(c, c)
            self.key = nn.Linear(c, c)
            self.value = nn.Linear(c, c)
            self.proj_attn = nn.Linear(c, c)
        else:
            self.to_q = nn.Linear(c, c)
            self.to_k = nn.Linear(c, c)
            self.to_v = nn.Linear(c, c)
            self.to_out = nn.ModuleList([nn.Linear(c, c), nn.Dropout(0.0)])


class MidBlock(nn.Module):
    def __init__(self, c, groups, legacy):
        super().__init__()
        self.attentions = nn.ModuleList([Attention(c, groups, legacy)])  # registered before resnets, as diffusers
        self.resnets = nn.ModuleList([ResnetBlock2D(c, c, groups), ResnetBlock2D(c, c, groups)])


class Sampler(nn.Module):
    def __init__(self, c, stride):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=stride, padding=0 if stride == 2 else 1)


class DownBlock(nn.Module):
    def __init__(self, cin, cout, layers, groups, down):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(cin if i == 0 else cout, cout, groups) for i in range(layers)])
        if down:
            self.downsamplers = nn.ModuleList([Sampler(cout, 2)])


class UpBlock(nn.Module):
    def __init__(self, cin, cout, layers, groups, up):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(cin if i == 0 else cout, cout, groups) for i in range(layers)])
        if up:
            self.upsamplers = nn.ModuleList([Sampler(cout, 1)])


class Encoder(nn.Module):
    def __init__(self, cfg, legacy):
        super().__init__()
        boc, g = cfg["block_out_channels"], cfg["norm_num_groups"]
        self.conv_in = nn.Conv2d(cfg["in_channels"], boc[0], 3, padding=1)
        self.down_blocks = nn.ModuleList()
        out = boc[0]
        for i, c in enumerate(boc):
            cin, out = out, c
            self.down_blocks.append(DownBlock(cin, out, cfg["layers_per_block"], g, i != len(boc) - 1))
        self.mid_block = MidBlock(boc[-1], g, legacy)
        self.conv_norm_out = nn.GroupNorm(g, boc[-1], eps=1e-6)
        self.conv_out = nn.Conv2d(boc[-1], 2 * cfg["latent_channels"], 3, padding=1)


class Decoder(nn.Module):
    def __init__(self, cfg, legacy):
        super().__init__()
        boc, g = cfg["block_out_channels"], cfg["norm_num_groups"]
        self.conv_in = nn.Conv2d(cfg["latent_channels"], boc[-1], 3, padding=1)
        self.up_blocks = nn.ModuleList()  # registered (empty) before mid_block, as diffusers
        self.mid_block = MidBlock(boc[-1], g, legacy)
        rev = list(reversed(boc))
        out = rev[0]
        for i, c in enumerate(rev):
            cin, out = out, c
            self.up_blocks.append(UpBlock(cin, out, cfg["layers_per_block"] + 1, g, i != len(boc) - 1))
        self.conv_norm_out = nn.GroupNorm(g, boc[0], eps=1e-6)
        self.conv_out = nn.Conv2d(boc[0], cfg["out_channels"], 3, padding=1)


class AutoencoderKL(nn.Module):
    def __init__(self, cfg, legacy=False):
        super().__init__()
        self.encoder = Encoder(cfg, legacy)
        self.decoder = Decoder(cfg, legacy)
        self.quant_conv = nn.Conv2d(2 * cfg["latent_channels"], 2 * cfg["latent_channels"], 1)
        self.post_quant_conv = nn.Conv2d(cfg["latent_channels"], cfg["latent_channels"], 1)


# ---------------------------------------------------------------- plain-op forward, float64
def group_norm(x, w, b, groups, eps=1e-6):
    n, c = x.shape[:2]
    g = x.reshape(n, groups, -1)
    mean = g.mean(-1, keepdim=True)
    var = ((g - mean) ** 2).mean(-1, keepdim=True)
    y = ((g - mean) / torch.sqrt(var + eps)).reshape(x.shape)
    return y * w.reshape(1, c, 1, 1) + b.reshape(1, c, 1, 1)


def silu(x):
    return x * torch.sigmoid(x)


def conv(x, sd, p, stride=1, pad=None):
    w = sd[p + ".weight"]
    k = w.shape[-1]
    return F.conv2d(x, w, sd[p + ".bias"], stride=stride, padding=(k - 1) // 2 if pad is None else pad)


def resnet(x, sd, p, groups):
    h = silu(group_norm(x, sd[p + ".norm1.weight"], sd[p + ".norm1.bias"], groups))
    h = conv(h, sd, p + ".conv1")
    h = silu(group_norm(h, sd[p + ".norm2.weight"], sd[p + ".norm2.bias"], groups))
    h = conv(h, sd, p + ".conv2")
    short = conv(x, sd, p + ".conv_shortcut") if (p + ".conv_shortcut.weight") in sd else x
    return short + h


def attention(x, sd, p, groups):
    n, c, hh, ww = x.shape
    h = group_norm(x, sd[p + ".group_norm.weight"], sd[p + ".group_norm.bias"], groups)
    t = h.reshape(n, c, hh * ww).transpose(1, 2)  # (n, hw, c)
    lin = lambda name, v: v @ sd[p + "." + name + ".weight"].T + sd[p + "." + name + ".bias"]
    q, k, v = lin("to_q", t), lin("to_k", t), lin("to_v", t)
    a = torch.softmax(q @ k.transpose(1, 2) / np.sqrt(c), dim=-1)
    o = lin("to_out.0", a @ v)
    return x + o.transpose(1, 2).reshape(n, c, hh, ww)


def mid(x, sd, p, groups):
    x = resnet(x, sd, p + ".resnets.0", groups)
    x = attention(x, sd, p + ".attentions.0", groups)
    return resnet(x, sd, p + ".resnets.1", groups)


def encode(x, sd, cfg):
    g, boc, L = cfg["norm_num_groups"], cfg["block_out_channels"], cfg["layers_per_block"]
    h = conv(x, sd, "encoder.conv_in")
    for i in range(len(boc)):
        for j in range(L):
            h = resnet(h, sd, f"encoder.down_blocks.{i}.resnets.{j}", g)
        if i != len(boc) - 1:
            h = conv(F.pad(h, (0, 1, 0, 1)), sd, f"encoder.down_blocks.{i}.downsamplers.0.conv", stride=2, pad=0)
    h = mid(h, sd, "encoder.mid_block", g)
    h = silu(group_norm(h, sd["encoder.conv_norm_out.weight"], sd["encoder.conv_norm_out.bias"], g))
    h = conv(h, sd, "encoder.conv_out")
    return conv(h, sd, "quant_conv")


def posterior(moments, eps):
    c = moments.shape[1] // 2
    mean, logvar = moments[:, :c], moments[:, c:].clamp(-30.0, 20.0)
    std = torch.exp(0.5 * logvar)
    return mean, std, mean + std * eps


def decode(z, sd, cfg):
    g, boc, L = cfg["norm_num_groups"], cfg["block_out_channels"], cfg["layers_per_block"]
    h = conv(conv(z, sd, "post_quant_conv"), sd, "decoder.conv_in")
    h = mid(h, sd, "decoder.mid_block", g)
    for i in range(len(boc)):
        for j in range(L + 1):
            h = resnet(h, sd, f"decoder.up_blocks.{i}.resnets.{j}", g)
        if i != len(boc) - 1:
            h = h.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
            h = conv(h, sd, f"decoder.up_blocks.{i}.upsamplers.0.conv")
    h = silu(group_norm(h, sd["decoder.conv_norm_out.weight"], sd["decoder.conv_norm_out.bias"], g))
    return conv(h, sd, "decoder.conv_out")


LEGACY = {"to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"}


def to_legacy(key):
    for new, old in LEGACY.items():
        if ".attentions." in key and ("." + new + ".") in key:
            return key.replace("." + new + ".", "." + old + ".")
    return key


def write_keys(path, model):
    with open(path, "w") as f:
        f.write("# key\tshape   (written by make_fixtures.py from a plain-torch module tree; see README.md)\n")
        for k, v in model.state_dict().items():
            f.write(k + "\t" + ",".join(str(s) for s in v.shape) + "\n")


def main():
    released = {"in_channels": 3, "out_channels": 3, "latent_channels": 4,
                "block_out_channels": [128, 256, 512, 512], "layers_per_block": 2, "norm_num_groups": 32}
    new, old = AutoencoderKL(released), AutoencoderKL(released, legacy=True)
    write_keys(os.path.join(HERE, "sd-vae-ft-ema.keys.tsv"), new)
    write_keys(os.path.join(HERE, "sd-vae-ft-ema.legacy-keys.tsv"), old)
    assert [to_legacy(k) for k in new.state_dict()] == list(old.state_dict())
    print("released architecture:", len(new.state_dict()), "tensors,",
          sum(p.numel() for p in new.parameters()), "parameters")

    torch.manual_seed(1234)
    cfg = {"_class_name": "AutoencoderKL", "in_channels": 3, "out_channels": 3, "latent_channels": 4,
           "block_out_channels": [16, 32], "layers_per_block": 1, "norm_num_groups": 8, "act_fn": "silu",
           "down_block_types": ["DownEncoderBlock2D"] * 2, "up_block_types": ["UpDecoderBlock2D"] * 2,
           "sample_size": 16, "scaling_factor": 0.18215}
    tiny = AutoencoderKL(cfg)
    with torch.no_grad():
        for name, p in tiny.named_parameters():  # non-trivial affine norms and biases
            if "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
    sd32 = collections.OrderedDict((k, v.detach().clone()) for k, v in tiny.state_dict().items())
    os.makedirs(os.path.join(HERE, "tiny-vae"), exist_ok=True)
    with open(os.path.join(HERE, "tiny-vae", "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    torch.save(collections.OrderedDict((to_legacy(k), v) for k, v in sd32.items()),
               os.path.join(HERE, "tiny-vae", "diffusion_pytorch_model.bin"))

    sd = {k: v.double() for k, v in sd32.items()}
    g = cfg["norm_num_groups"]
    out = {}
    # 1. one ResNet block with a 1x1 shortcut (16 -> 32 channels)
    out["resnet_in"] = torch.randn(2, 16, 6, 5, dtype=torch.float64)
    out["resnet_out"] = resnet(out["resnet_in"], sd, "encoder.down_blocks.1.resnets.0", g)
    # 2. the encoder's mid-block attention, on a non-square map
    out["attn_in"] = torch.randn(2, 32, 5, 3, dtype=torch.float64) * 2
    out["attn_out"] = attention(out["attn_in"], sd, "encoder.mid_block.attentions.0", g)
    # 3. the posterior from given moments, with log-variances beyond both clamp bounds
    m = torch.randn(2, 8, 4, 4, dtype=torch.float64)
    m[0, 4, 0, 0], m[1, 7, 3, 3] = -45.0, 27.0
    out["moments_in"], out["moments_eps"] = m, torch.randn(2, 4, 4, 4, dtype=torch.float64)
    out["posterior_mean"], out["posterior_std"], out["posterior_sample"] = posterior(m, out["moments_eps"])
    # 4. the whole model: encode a non-square image batch, sample with given noise, decode
    out["image"] = torch.rand(2, 3, 16, 24, dtype=torch.float64) * 2 - 1
    out["enc_moments"] = encode(out["image"], sd, cfg)
    out["enc_eps"] = torch.randn(2, 4, 8, 12, dtype=torch.float64)
    out["enc_sample"] = posterior(out["enc_moments"], out["enc_eps"])[2]
    out["decoded"] = decode(out["enc_sample"], sd, cfg)
    # the float32 nn.Module path agrees with the float64 plain ops (a check of this script itself)
    with torch.no_grad():
        d = F.conv2d(out["image"].float(), sd32["encoder.conv_in.weight"], sd32["encoder.conv_in.bias"], padding=1)
        assert torch.allclose(d.double(), conv(out["image"], sd, "encoder.conv_in"), atol=1e-5)
    np.savez(os.path.join(HERE, "parity.npz"), **{k: v.float().numpy() for k, v in out.items()})
    for k, v in out.items():
        print(f"{k:18s} {tuple(v.shape)} max|x| {v.abs().max().item():.4g}")


if __name__ == "__main__":
    main()
