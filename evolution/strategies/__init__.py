"""Evolution strategies on DEAP, all in the unit cube: CMA-ES (+ IPOP), GA (mu +/, lambda), NSGA-II."""

from __future__ import annotations

import numpy as np

from evolution.config import CMAESConfig, GAConfig, NSGA2Config
from evolution.strategies.base import Individual, Strategy
from evolution.strategies.cmaes import CMAES
from evolution.strategies.ga import GeneticAlgorithm
from evolution.strategies.nsga2 import NSGA2


def build_strategy(
    cfg: CMAESConfig | GAConfig | NSGA2Config,
    cls: type[Individual],
    dim: int,
    seed: np.ndarray | None,
    spec_init: np.ndarray,
) -> Strategy:
    """The strategy `cfg` names; `seed` [D] (unit cube) is the initial mean / seed individual if given."""
    if isinstance(cfg, CMAESConfig):
        return CMAES(cfg, cls, dim, seed, spec_init)
    if isinstance(cfg, GAConfig):
        return GeneticAlgorithm(cfg, cls, dim, seed)
    return NSGA2(cfg, cls, dim, seed)
