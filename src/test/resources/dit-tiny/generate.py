# One-off generator for src/test/resources/dit-tiny (see README there). Not part of the build.
import math, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from collections import OrderedDict
torch.manual_seed(0)
D, heads, depth, p, R, C, K = 64, 4, 2, 2, 8, 4, 10
T = (R // p) ** 2; outC = 2 * C; hid = 4 * D
shapes = OrderedDict()
shapes['pos_embed'] = (1, T, D)
shapes['x_embedder.proj.weight'] = (D, C, p, p); shapes['x_embedder.proj.bias'] = (D,)
shapes['t_embedder.mlp.0.weight'] = (D, 256); shapes['t_embedder.mlp.0.bias'] = (D,)
shapes['t_embedder.mlp.2.weight'] = (D, D); shapes['t_embedder.mlp.2.bias'] = (D,)
shapes['y_embedder.embedding_table.weight'] = (K + 1, D)
for i in range(depth):
    b = f'blocks.{i}.'
    shapes[b+'attn.qkv.weight'] = (3*D, D); shapes[b+'attn.qkv.bias'] = (3*D,)
    shapes[b+'attn.proj.weight'] = (D, D); shapes[b+'attn.proj.bias'] = (D,)
    shapes[b+'mlp.fc1.weight'] = (hid, D); shapes[b+'mlp.fc1.bias'] = (hid,)
    shapes[b+'mlp.fc2.weight'] = (D, hid); shapes[b+'mlp.fc2.bias'] = (D,)
    shapes[b+'adaLN_modulation.1.weight'] = (6*D, D); shapes[b+'adaLN_modulation.1.bias'] = (6*D,)
shapes['final_layer.linear.weight'] = (p*p*outC, D); shapes['final_layer.linear.bias'] = (p*p*outC,)
shapes['final_layer.adaLN_modulation.1.weight'] = (2*D, D); shapes['final_layer.adaLN_modulation.1.bias'] = (2*D,)
sd = OrderedDict((k, torch.randn(*s) * 0.05) for k, s in shapes.items())
# the fixed sin-cos table, as in DiT's get_2d_sincos_pos_embed
g = R // p
def one_d(dim, pos):
    omega = np.arange(dim // 2, dtype=np.float64) / (dim / 2.); omega = 1. / 10000 ** omega
    out = np.einsum('m,d->md', pos.reshape(-1), omega)
    return np.concatenate([np.sin(out), np.cos(out)], axis=1)
grid = np.stack(np.meshgrid(np.arange(g, dtype=np.float32), np.arange(g, dtype=np.float32)), axis=0).reshape(2, 1, g, g)
pe = np.concatenate([one_d(D // 2, grid[0]), one_d(D // 2, grid[1])], axis=1)
sd['pos_embed'] = torch.from_numpy(pe).float().unsqueeze(0)

def temb(t):
    half = 128
    freqs = torch.exp(-math.log(10000) * torch.arange(0, half, dtype=torch.float32) / half)
    a = t[:, None].float() * freqs[None]
    e = torch.cat([torch.cos(a), torch.sin(a)], -1)
    return F.linear(F.silu(F.linear(e, sd['t_embedder.mlp.0.weight'], sd['t_embedder.mlp.0.bias'])), sd['t_embedder.mlp.2.weight'], sd['t_embedder.mlp.2.bias'])
def mod(x, sh, sc): return x * (1 + sc.unsqueeze(1)) + sh.unsqueeze(1)
def forward(x, t, y):
    h = F.conv2d(x, sd['x_embedder.proj.weight'], sd['x_embedder.proj.bias'], stride=p).flatten(2).transpose(1, 2) + sd['pos_embed']
    c = temb(t) + F.embedding(y, sd['y_embedder.embedding_table.weight'])
    for i in range(depth):
        b = f'blocks.{i}.'
        s = F.linear(F.silu(c), sd[b+'adaLN_modulation.1.weight'], sd[b+'adaLN_modulation.1.bias']).chunk(6, dim=1)
        u = mod(F.layer_norm(h, (D,), eps=1e-6), s[0], s[1])
        B, N, _ = u.shape
        qkv = F.linear(u, sd[b+'attn.qkv.weight'], sd[b+'attn.qkv.bias']).reshape(B, N, 3, heads, D // heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        q = q * (D // heads) ** -0.5
        a = (q @ k.transpose(-2, -1)).softmax(-1)
        o = (a @ v).transpose(1, 2).reshape(B, N, D)
        h = h + s[2].unsqueeze(1) * F.linear(o, sd[b+'attn.proj.weight'], sd[b+'attn.proj.bias'])
        u = mod(F.layer_norm(h, (D,), eps=1e-6), s[3], s[4])
        m = F.linear(F.gelu(F.linear(u, sd[b+'mlp.fc1.weight'], sd[b+'mlp.fc1.bias']), approximate='tanh'), sd[b+'mlp.fc2.weight'], sd[b+'mlp.fc2.bias'])
        h = h + s[5].unsqueeze(1) * m
    s = F.linear(F.silu(c), sd['final_layer.adaLN_modulation.1.weight'], sd['final_layer.adaLN_modulation.1.bias']).chunk(2, dim=1)
    h = F.linear(mod(F.layer_norm(h, (D,), eps=1e-6), s[0], s[1]), sd['final_layer.linear.weight'], sd['final_layer.linear.bias'])
    h = h.reshape(h.shape[0], g, g, p, p, outC)
    h = torch.einsum('nhwpqc->nchpwq', h)
    return h.reshape(h.shape[0], outC, g * p, g * p)
torch.manual_seed(1)
x = torch.randn(2, C, R, R); t = torch.tensor([10, 500]); y = torch.tensor([3, 10])
with torch.no_grad(): out = forward(x, t, y)
import sys; d = sys.argv[1]
torch.save(sd, d + '/dit_tiny.pt')
np.save(d + '/x.npy', x.numpy()); np.save(d + '/t.npy', t.numpy()); np.save(d + '/y.npy', y.numpy()); np.save(d + '/out.npy', out.numpy())
print(out.abs().max(), out.shape)
