"""Random problems for the scratch tests: NumPy inputs and their float64 torch twins."""

from __future__ import annotations

import numpy as np

from ftlab.scratch import Params, one_hot


def random_problem(t: int, f: int, d: int, m: int, seed: int):
    """X (t, f), one-hot Y (t, m) and parameters with non-zero biases, all N(0, 1)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(t, f))
    Y = one_hot(rng.integers(0, m, size=t), m)
    params = Params(H=rng.normal(size=(f, d)), b_H=rng.normal(size=d),
                    U=rng.normal(size=(d, m)), b_U=rng.normal(size=m))
    return X, Y, params
