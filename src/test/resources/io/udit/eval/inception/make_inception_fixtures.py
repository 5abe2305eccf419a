#!/usr/bin/python3
"""Makes the FID Inception fixtures in this folder (run once; the outputs are committed).

Made with Debian 12's /usr/bin/python3, python3-torch 1.13.1 and python3-torchvision 0.14.1:
    cd src/test/resources/io/udit/eval/inception && /usr/bin/python3 make_inception_fixtures.py

The network is torchvision's Inception3(num_classes=1008, aux_logits=False) with pytorch-fid's patched blocks
(FIDInceptionA / C / E_1 / E_2, transcribed below from pytorch-fid's src/pytorch_fid/inception.py), i.e. what
pytorch-fid's fid_inception_v3() builds before loading its weights. Instead of the real weights (not available
offline) every parameter and buffer gets deterministic "formula" values that FidInceptionV3Test recomputes in Java:
for the k-th key in sorted order and the j-th element (C order), s = sin(0.61 * j + 1.7 * k + 0.3) and
  conv weights   s * sqrt(4 / fan_in)
  bn.weight      1 + 0.2 s       bn.bias 0.1 s       running_mean 0.1 s       running_var 1 + 0.25 (s + 1)
  fc.weight      s / sqrt(2048)  fc.bias 0.1 s
(computed in float64, stored as float32; num_batches_tracked = 0). Everything below runs in float64.

Outputs:
  keys.json          the state-dict keys and shapes of that network (pytorch-fid's names)
  images.npy         2 x 37 x 45 x 3 uint8 input images (numpy seed 7)
  full_expected.npz  pool3 (2 x 2048), spatial (2 x 2023: Mixed_6d.branch1x1 ReLU output, channels 0..6, NHWC
                     flattened) and logits = pool3 @ fc.weight.T (no bias), for images.npy run through
                     pytorch-fid's InceptionV3.forward preprocessing (x / 255, bilinear resize to 299 with
                     align_corners=False, 2 x - 1)
  blocks_expected.npz one output per block type for a formula input x[j] = sin(0.37 j + 0.5) of shape
                     1 x C x S x S: Mixed_5b (A, 5x5), Mixed_6a (B, 7x7), Mixed_6b (C, 5x5), Mixed_7a (D, 7x7),
                     Mixed_7b (E_1, 5x5), Mixed_7c (E_2, 5x5); and Conv2d_1a_3x3 (BasicConv2d) on 1 x 3 x 9 x 9
"""
import json
import math

import numpy as np
import torch
import torch.nn.functional as F
import torchvision


class FIDInceptionA(torchvision.models.inception.InceptionA):
    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        branch_pool = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
        branch_pool = self.branch_pool(branch_pool)
        return torch.cat([branch1x1, branch5x5, branch3x3dbl, branch_pool], 1)


class FIDInceptionC(torchvision.models.inception.InceptionC):
    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        self.last_branch1x1 = branch1x1
        branch7x7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        b = self.branch7x7dbl_1(x)
        b = self.branch7x7dbl_2(b)
        b = self.branch7x7dbl_3(b)
        b = self.branch7x7dbl_4(b)
        branch7x7dbl = self.branch7x7dbl_5(b)
        branch_pool = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
        branch_pool = self.branch_pool(branch_pool)
        return torch.cat([branch1x1, branch7x7, branch7x7dbl, branch_pool], 1)


class FIDInceptionE_1(torchvision.models.inception.InceptionE):
    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        b = self.branch3x3_1(x)
        branch3x3 = torch.cat([self.branch3x3_2a(b), self.branch3x3_2b(b)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        branch3x3dbl = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        branch_pool = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
        branch_pool = self.branch_pool(branch_pool)
        return torch.cat([branch1x1, branch3x3, branch3x3dbl, branch_pool], 1)


class FIDInceptionE_2(torchvision.models.inception.InceptionE):
    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        b = self.branch3x3_1(x)
        branch3x3 = torch.cat([self.branch3x3_2a(b), self.branch3x3_2b(b)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        branch3x3dbl = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        branch_pool = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        branch_pool = self.branch_pool(branch_pool)
        return torch.cat([branch1x1, branch3x3, branch3x3dbl, branch_pool], 1)


def fid_inception_v3():
    inception = torchvision.models.inception_v3(num_classes=1008, aux_logits=False, init_weights=False)
    inception.Mixed_5b = FIDInceptionA(192, pool_features=32)
    inception.Mixed_5c = FIDInceptionA(256, pool_features=64)
    inception.Mixed_5d = FIDInceptionA(288, pool_features=64)
    inception.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    inception.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    inception.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    inception.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    inception.Mixed_7b = FIDInceptionE_1(1280)
    inception.Mixed_7c = FIDInceptionE_2(2048)
    return inception


def formula(key, k, shape):
    n = int(np.prod(shape)) if len(shape) else 1
    s = np.sin(0.61 * np.arange(n, dtype=np.float64) + 1.7 * k + 0.3)
    if key.endswith("conv.weight"):
        fan_in = shape[1] * shape[2] * shape[3]
        v = s * math.sqrt(4.0 / fan_in)
    elif key.endswith("bn.weight"):
        v = 1 + 0.2 * s
    elif key.endswith("bn.bias") or key.endswith("running_mean") or key == "fc.bias":
        v = 0.1 * s
    elif key.endswith("running_var"):
        v = 1 + 0.25 * (s + 1)
    elif key == "fc.weight":
        v = s / math.sqrt(2048)
    else:
        raise ValueError(key)
    return v.astype(np.float32).reshape(shape)


torch.set_grad_enabled(False)
net = fid_inception_v3().eval()
sd = net.state_dict()
keys = sorted(k for k in sd if not k.endswith("num_batches_tracked"))
with open("keys.json", "w") as f:
    json.dump({"keys": [[k, list(sd[k].shape)] for k in sd]}, f, indent=0)
new_sd = {}
for i, k in enumerate(keys):
    new_sd[k] = torch.from_numpy(formula(k, i, tuple(sd[k].shape)))
for k in sd:
    if k.endswith("num_batches_tracked"):
        new_sd[k] = torch.tensor(0, dtype=torch.long)
net.load_state_dict(new_sd)
net = net.double()

# full network, pytorch-fid's InceptionV3.forward preprocessing
rng = np.random.default_rng(7)
images = rng.integers(0, 256, size=(2, 37, 45, 3), dtype=np.uint8)
np.save("images.npy", images)
x = torch.from_numpy(images).double().permute(0, 3, 1, 2) / 255.0
x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
x = 2 * x - 1
m = net
y = m.Conv2d_1a_3x3(x)
y = m.Conv2d_2a_3x3(y)
y = m.Conv2d_2b_3x3(y)
y = F.max_pool2d(y, kernel_size=3, stride=2)
y = m.Conv2d_3b_1x1(y)
y = m.Conv2d_4a_3x3(y)
y = F.max_pool2d(y, kernel_size=3, stride=2)
y = m.Mixed_5d(m.Mixed_5c(m.Mixed_5b(y)))
y = m.Mixed_6a(y)
y = m.Mixed_6e(m.Mixed_6d(m.Mixed_6c(m.Mixed_6b(y))))
spatial = m.Mixed_6d.last_branch1x1[:, :7].permute(0, 2, 3, 1).reshape(2, -1)
y = m.Mixed_7c(m.Mixed_7b(m.Mixed_7a(y)))
pool3 = F.adaptive_avg_pool2d(y, (1, 1)).flatten(1)
logits = pool3 @ m.fc.weight.T
np.savez("full_expected.npz", pool3=pool3.float().numpy(), spatial=spatial.float().numpy(), logits=logits.float().numpy())
print("pool3", pool3.shape, float(pool3.abs().mean()), "spatial", spatial.shape, float(spatial.abs().mean()),
      "logits", logits.shape, float(logits.abs().mean()))


def block_input(c, s):
    j = np.arange(c * s * s, dtype=np.float64)
    return torch.from_numpy(np.sin(0.37 * j + 0.5).astype(np.float32).astype(np.float64).reshape(1, c, s, s))


blocks = {}
for name, c, s in [("Mixed_5b", 192, 5), ("Mixed_6a", 288, 7), ("Mixed_6b", 768, 5), ("Mixed_7a", 768, 7),
                   ("Mixed_7b", 1280, 5), ("Mixed_7c", 2048, 5), ("Conv2d_1a_3x3", 3, 9)]:
    out = getattr(net, name)(block_input(c, s))
    blocks[name] = out.float().numpy()
    print(name, tuple(out.shape), float(out.abs().mean()))
np.savez("blocks_expected.npz", **blocks)
