# Regenerates the Pillow reference outputs used by PilResampleTest (run with a Python that has Pillow + numpy;
# these files were made with Debian's python3-pil 9.4.0). Not run by the build.
import numpy as np
from PIL import Image

def pattern(w, h):
    y, x = np.mgrid[0:h, 0:w]
    out = np.zeros((h, w, 3), dtype=np.int64)
    for c in range(3):
        out[:, :, c] = (x * 37 + y * 91 + c * 53 + ((x * y) % 17) * 11) & 0xFF
    # a hard black/white block to stress negative lobes and clipping
    out[h // 3: h // 2, w // 4: w // 2, :] = 255
    out[h // 2: 2 * h // 3, w // 4: w // 2, :] = 0
    return out.astype(np.uint8)

def adm_crop(img, size):
    # ADM's centre crop as described in the data-layer brief: BOX halvings while the short side is at least
    # 2*size, one BICUBIC resize to short side = size (Python round), then the central size x size window.
    w, h = img.size
    while min(w, h) >= 2 * size:
        w, h = w // 2, h // 2
        img = img.resize((w, h), resample=Image.BOX)
    s = size / min(w, h)
    w, h = round(w * s), round(h * s)
    img = img.resize((w, h), resample=Image.BICUBIC)
    top, left = (h - size) // 2, (w - size) // 2
    return np.asarray(img)[top:top + size, left:left + size]

cases = [
    # name, src w, h, op, args
    ("box_67x45_to_33x22", 67, 45, "BOX", (33, 22)),
    ("box_64x64_to_32x32", 64, 64, "BOX", (32, 32)),
    ("bicubic_67x45_to_29x19", 67, 45, "BICUBIC", (29, 19)),
    ("bicubic_67x45_to_67x20", 67, 45, "BICUBIC", (67, 20)),
    ("bicubic_67x45_to_30x45", 67, 45, "BICUBIC", (30, 45)),
    ("bicubic_13x9_to_30x21", 13, 9, "BICUBIC", (30, 21)),
    ("crop_150x101_to_32", 150, 101, "CROP", 32),
    ("crop_301x517_to_64", 301, 517, "CROP", 64),
    ("crop_40x33_to_32", 40, 33, "CROP", 32),
    ("crop_20x27_to_32", 20, 27, "CROP", 32),
]
for name, w, h, op, arg in cases:
    im = Image.fromarray(pattern(w, h), "RGB")
    if op == "CROP":
        out = adm_crop(im, arg)
    else:
        out = np.array(im.resize(arg, resample=getattr(Image, op)))
    out = np.ascontiguousarray(out, dtype=np.uint8)
    open(name + ".rgb", "wb").write(out.tobytes())
    print(name, out.shape)
