#!/usr/bin/python3
"""Tiny ADM-format batches written by numpy itself (Debian 12 /usr/bin/python3, numpy 1.24.2), to check that
AdmBatchFile reads what np.savez / np.savez_compressed write:
    cd src/test/resources/io/udit/eval/adm && /usr/bin/python3 make_adm_fixtures.py
"""
import numpy as np

rng = np.random.default_rng(3)
x = rng.integers(0, 256, size=(5, 20, 24, 3), dtype=np.uint8)
np.savez("numpy_savez.npz", arr_0=x)
np.savez_compressed("numpy_savez_compressed.npz", arr_0=x, mu=np.zeros(4), sigma=np.eye(4), mu_s=np.zeros(3), sigma_s=np.eye(3))
np.savez("numpy_float_images.npz", arr_0=x.astype(np.float32))
np.savez("numpy_nchw_images.npz", arr_0=x.transpose(0, 3, 1, 2).copy())
np.save("numpy_images.npy", x)
