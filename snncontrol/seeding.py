"""One call seeds every random number generator a run touches: `random`, `numpy` and `torch`."""

from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's `random`, NumPy's global RNG and torch; return a fresh NumPy Generator from the same seed.

    Entry points that are stochastic (evolution, dataset generation, training) call this once with the user's
    seed so that a run can be reproduced bit for bit.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)
