"""One call seeds every random number generator a run touches: `random`, `numpy` and `torch`; `seed_argument`
(`seed32_argument`: at most 32 bits) reads a seed from the command line."""

from __future__ import annotations

import argparse
import random

import numpy as np

#: Largest seed `seed32_argument` takes (what NumPy's legacy global seed takes).
MAX_SEED32 = 2**32 - 1


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's `random`, NumPy's global RNG and torch; return a fresh NumPy Generator from the same seed.

    Entry points that are stochastic (evolution, dataset generation, training) call this once with the user's
    seed so that a run can be reproduced bit for bit.
    """
    import torch  # here, not at import: `seed_argument` serves command lines that never load torch

    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def seed_argument(text: str) -> int:
    """An argparse type for a `--seed` option: an integer >= 0 (the plants' and NumPy's seeds cannot be negative)."""
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if seed < 0:
        raise argparse.ArgumentTypeError(f"a seed is an integer >= 0, got {text!r}")
    return seed


def seed32_argument(text: str) -> int:
    """`seed_argument` for a seed of at most 32 bits (0..MAX_SEED32), as NumPy's legacy seed takes."""
    seed = seed_argument(text)
    if seed > MAX_SEED32:
        raise argparse.ArgumentTypeError(f"a seed is an integer <= {MAX_SEED32} (32 bits), got {text!r}")
    return seed

