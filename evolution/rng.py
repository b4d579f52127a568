"""Randomness of a run: stateless derived seeds for per-generation draws, and the global RNG states of `random`,
`numpy` and `torch` captured as JSON + arrays (for checkpoints, never pickled) and restored.

Driver-side randomness (sampling, variation) uses the global generators seeded by `seed_everything`.
Anything a fitness draws per generation (episode seeds, the training sequence) comes from `derive_seed`,
a function of (run seed, generation, ...), so it is the same on every backend and worker count. A fitness is
built from the run seed's states (`seeded`), in the driver and in every worker alike.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from snncontrol.seeding import seed_everything

#: derive_seed(run seed, VALIDATION_KEY, k): a fitness's fixed validation draws; no generation's draws share these.
VALIDATION_KEY = 2**32 - 1


def derive_seed(*keys: int) -> int:
    """A 32-bit seed that depends only on `keys` (e.g. run seed, generation, episode index)."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1)[0])


def capture() -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The states of random, numpy's global RNG and torch's CPU RNG as (JSON part, arrays)."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    meta = {
        "random": {"version": version, "gauss_next": gauss},
        "numpy": {"kind": kind, "pos": int(pos), "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
    }
    arrays = {
        "rng_random": np.asarray(internal, dtype=np.int64),
        "rng_numpy": np.asarray(keys, dtype=np.uint32),
        "rng_torch": torch.get_rng_state().numpy().copy(),
    }
    return meta, arrays


def restore(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Put back the states `capture` returned."""
    state = tuple(int(v) for v in arrays["rng_random"])
    random.setstate((meta["random"]["version"], state, meta["random"]["gauss_next"]))
    m = meta["numpy"]
    np.random.set_state((m["kind"], arrays["rng_numpy"], m["pos"], m["has_gauss"], m["cached_gaussian"]))
    torch.set_rng_state(torch.from_numpy(np.ascontiguousarray(arrays["rng_torch"])))


@contextmanager
def preserved() -> Iterator[None]:
    """Run the block and put the states of random, numpy and torch back as they were before it, however it ends:
    code that draws from them behind the run's back (Ray's start and shutdown pick ports with `random`) leaves
    the run's draws as they were."""
    meta, arrays = capture()
    try:
        yield
    finally:
        restore(meta, arrays)


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the block from `seed_everything(seed)`'s states, then put the states before it back (`preserved`)."""
    with preserved():
        seed_everything(seed)
        yield
