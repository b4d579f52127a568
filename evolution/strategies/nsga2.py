"""NSGA-II: mu offspring per generation by DCD tournament, bounded SBX crossover and polynomial mutation;
the next parents are DEAP's `selNSGA2` (non-dominated sorting, crowding distance) of parents + offspring."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
from deap import tools

from evolution.config import NSGA2Config
from evolution.strategies.base import Individual, initial_population, pack, unpack
from evolution.strategies.variation import bounded_toolbox


class NSGA2:
    def __init__(self, cfg: NSGA2Config, cls: type[Individual], dim: int, seed: np.ndarray | None) -> None:
        self.cfg, self.cls, self.dim, self.seed = cfg, cls, dim, seed
        self.toolbox = bounded_toolbox(cfg.eta_crossover, cfg.eta_mutation, cfg.indpb, dim)
        self.parents: list[Individual] = []

    def generate(self) -> list[Individual]:
        if not self.parents:
            return initial_population(self.cls, self.cfg.mu, self.dim, self.seed, self.cfg.init_spread)
        offspring = [self.toolbox.clone(ind) for ind in tools.selTournamentDCD(self.parents, self.cfg.mu)]
        for first, second in zip(offspring[::2], offspring[1::2], strict=True):
            if random.random() <= self.cfg.cxpb:
                self.toolbox.mate(first, second)
            self.toolbox.mutate(first)
            self.toolbox.mutate(second)
            del first.fitness.values, second.fitness.values
        return offspring

    def update(self, population: list[Individual]) -> None:
        self.parents = tools.selNSGA2(self.parents + population, self.cfg.mu)

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        arrays = pack(self.parents, "parents")
        arrays["parents_crowding"] = np.array([ind.fitness.crowding_dist for ind in self.parents])
        return {}, arrays

    def load_state(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.parents = unpack(self.cls, arrays, "parents", self.dim)
        for ind, distance in zip(self.parents, arrays["parents_crowding"], strict=True):
            ind.fitness.crowding_dist = float(distance)
