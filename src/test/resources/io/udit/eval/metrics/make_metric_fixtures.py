#!/usr/bin/python3
"""Makes the metric fixtures in this folder (run once; the outputs are committed).

Made with Debian 12's /usr/bin/python3, numpy 1.24.2 and scipy 1.10.1:
    cd src/test/resources/io/udit/eval/metrics && /usr/bin/python3 make_metric_fixtures.py

Feature sets come from a fixed numpy seed and are stored as float32 .npy files (like real activations). The expected
numbers in expected.json are computed with the same formulas as the ADM evaluator (openai/guided-diffusion,
evaluations/evaluator.py): np.mean / np.cov(rowvar=False) statistics, FIDStatistics.frechet_distance with
scipy.linalg.sqrtm and its 1e-6 offset fallback, compute_inception_score, and ManifoldEstimator's radii / evaluate_pr
with squared distances max(|u|^2 - 2 u.v + |v|^2, 0) -- but in float64 throughout (ADM itself runs the inception
score in float32 and the distances in float16/float32), so the Java code is checked against the exact formulas.
"""
import json
import warnings

import numpy as np
from scipy import linalg

rng = np.random.default_rng(20240601)
out = {}


def save(name, a):
    np.save(name + ".npy", a)


def adm_frechet(mu1, sigma1, mu2, sigma2, eps=1e-6, force_offset=False):
    diff = mu1 - mu2
    fallback = force_offset
    if not force_offset:
        covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
        if not np.isfinite(covmean).all():
            fallback = True
    if fallback:
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        assert np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3)
        covmean = covmean.real
    tr = float(np.trace(covmean))
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * tr), tr, fallback


def stats(x):
    x = x.astype(np.float64)
    return np.mean(x, axis=0), np.cov(x, rowvar=False)


# --- Frechet: correlated Gaussian features, D = 48 -------------------------------------------------------------
D = 48
mix_a = rng.standard_normal((D, D)) / np.sqrt(D)
mix_b = mix_a + 0.3 * rng.standard_normal((D, D)) / np.sqrt(D)
sets = {
    "fid_a": (rng.standard_normal((300, D)) @ mix_a + 0.5).astype(np.float32),
    "fid_b": (1.2 * rng.standard_normal((250, D)) @ mix_b + 0.4).astype(np.float32),
    "fid_small_a": (rng.standard_normal((30, D)) @ mix_a + 0.5).astype(np.float32),   # N < D: singular covariance
    "fid_small_b": (rng.standard_normal((40, D)) @ mix_b + 0.3).astype(np.float32),   # N < D: singular covariance
}
for k, v in sets.items():
    save(k, v)
mu_a, s_a = stats(sets["fid_a"])
mu_b, s_b = stats(sets["fid_b"])
mu_sa, s_sa = stats(sets["fid_small_a"])
mu_sb, s_sb = stats(sets["fid_small_b"])
np.save("fid_a_mu.npy", mu_a)
np.save("fid_a_sigma.npy", s_a)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    full = adm_frechet(mu_a, s_a, mu_b, s_b)
    singular = adm_frechet(mu_sa, s_sa, mu_sb, s_sb)
    singular_offset = adm_frechet(mu_sa, s_sa, mu_sb, s_sb, force_offset=True)
    mixed = adm_frechet(mu_a, s_a, mu_sb, s_sb)
    self_dist = adm_frechet(mu_a, s_a, mu_a, s_a)
out["frechet"] = {
    "full": {"value": full[0], "trace_sqrt": full[1], "scipy_fell_back": full[2]},
    "singular": {"value": singular[0], "trace_sqrt": singular[1], "scipy_fell_back": singular[2]},
    "singular_offset": {"value": singular_offset[0], "trace_sqrt": singular_offset[1]},
    "full_vs_singular": {"value": mixed[0], "scipy_fell_back": mixed[2]},
    "self": {"value": self_dist[0]},
}

# --- Inception score: probabilities of 1200 samples over 20 classes ----------------------------------------------
logits = rng.standard_normal((1200, 20)) * 2.0
logits[:, 3] += 1.5
p = np.exp(logits - logits.max(1, keepdims=True))
p = (p / p.sum(1, keepdims=True)).astype(np.float32)
save("is_probs", p)
pd = p.astype(np.float64)


def inception_score(preds, bounds):
    scores = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        part = preds[lo:hi]
        kl = part * (np.log(part) - np.log(np.expand_dims(np.mean(part, 0), 0)))
        kl = np.mean(np.sum(kl, 1))
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores)), [float(s) for s in scores]


n = len(pd)
out["inception_score"] = {
    "adm_split_5000": inception_score(pd, [0, n]),  # ADM: range(0, 1200, 5000) gives one split
    "split_size_500": inception_score(pd, [0, 500, 1000, 1200]),
    "splits_10": inception_score(pd, [i * n // 10 for i in range(11)]),
}


# --- Precision / recall ---------------------------------------------------------------------------------------------
def sqdist(u, v):
    nu = np.sum(np.square(u), 1).reshape(-1, 1)
    nv = np.sum(np.square(v), 1).reshape(1, -1)
    return np.maximum(nu - 2 * u @ v.T + nv, 0.0)


def radii(x, k=3):
    d = sqdist(x, x)
    return np.partition(d, np.arange(k + 1), axis=1)[:, k]


def prec_recall(ref, smp, k=3):
    r1, r2 = radii(ref, k), radii(smp, k)
    d = sqdist(ref, smp)
    ref_in = np.any(d <= r2[None, :], axis=1)
    smp_in = np.any(d <= r1[:, None], axis=0)
    return float(np.mean(smp_in)), float(np.mean(ref_in)), r1


# quantised features (multiples of 1/8): every distance is exact in float32 and float64, ties included
q_ref = (rng.integers(-12, 13, size=(400, 16)) / 8.0).astype(np.float32)
q_smp = (rng.integers(-10, 15, size=(350, 16)) / 8.0).astype(np.float32)
save("pr_q_ref", q_ref)
save("pr_q_smp", q_smp)
pq, rq, radii_q = prec_recall(q_ref.astype(np.float64), q_smp.astype(np.float64))
np.save("pr_q_ref_radii.npy", radii_q)
# continuous Gaussian features
g_ref = rng.standard_normal((500, 32)).astype(np.float32)
g_smp = (0.8 * rng.standard_normal((450, 32)) + 0.25).astype(np.float32)
save("pr_g_ref", g_ref)
save("pr_g_smp", g_smp)
pg, rg, _ = prec_recall(g_ref.astype(np.float64), g_smp.astype(np.float64))
out["precision_recall"] = {
    "quantized": {"precision": pq, "recall": rq},
    "gaussian": {"precision": pg, "recall": rg},
}

out["_note"] = ("made by make_metric_fixtures.py with numpy " + np.__version__ + " and scipy "
                + __import__("scipy").__version__ + "; float64 throughout")
with open("expected.json", "w") as f:
    json.dump(out, f, indent=2)
print(json.dumps(out, indent=2))
