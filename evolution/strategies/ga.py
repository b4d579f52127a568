"""(mu + lambda) / (mu, lambda) genetic algorithm: DEAP's `varOr` variation (bounded SBX crossover, polynomial
mutation, reproduction) and tournament selection of mu parents from parents + offspring (plus) or from the
offspring alone (comma), as DEAP's eaMuPlusLambda / eaMuCommaLambda select: not elitist, a tournament may drop
the best parent (the run's hall of fame keeps its champion). The first generation is mu points uniform in the unit
cube (or the seed genome)."""

from __future__ import annotations

from typing import Any

import numpy as np
from deap import algorithms, tools

from evolution.config import GAConfig
from evolution.strategies.base import Individual, initial_population, pack, unpack
from evolution.strategies.variation import bounded_toolbox


class GeneticAlgorithm:
    def __init__(self, cfg: GAConfig, cls: type[Individual], dim: int, seed: np.ndarray | None) -> None:
        self.cfg, self.cls, self.dim, self.seed = cfg, cls, dim, seed
        self.toolbox = bounded_toolbox(cfg.eta_crossover, cfg.eta_mutation, cfg.indpb, dim)
        self.toolbox.register("select", tools.selTournament, tournsize=cfg.tournament)
        self.parents: list[Individual] = []

    def generate(self) -> list[Individual]:
        if not self.parents:
            return initial_population(self.cls, self.cfg.mu, self.dim, self.seed, self.cfg.init_spread)
        return algorithms.varOr(self.parents, self.toolbox, self.cfg.lambda_, self.cfg.cxpb, self.cfg.mutpb)

    def update(self, population: list[Individual]) -> None:
        if not self.parents:
            self.parents = population
            return
        pool = self.parents + population if self.cfg.selection == "plus" else population
        self.parents = [self.toolbox.clone(ind) for ind in self.toolbox.select(pool, self.cfg.mu)]

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {}, pack(self.parents, "parents")

    def load_state(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.parents = unpack(self.cls, arrays, "parents", self.dim)
