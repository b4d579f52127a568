"""Fitness functions. Each evaluates a whole population chunk in one batched call:

    data = fitness.generation_data(generation)   # driver: plain arrays shared by every chunk of a generation
    values = fitness.evaluate(genomes, data)      # anywhere: genomes [P, D] (parameter bounds) -> [P, M]

Values are raw objective values in the objectives' own units (see `objectives.weights` for directions).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from evolution.config import ClosedLoopConfig, ExperimentConfig, MimicryConfig, SphereConfig, SwimmerBodiesConfig
from evolution.errors import ConfigError
from evolution.imports import import_object
from evolution.problem import Problem
from snncontrol.adapters import IOAdapters


class Fitness(Protocol):
    def generation_data(self, generation: int) -> dict[str, np.ndarray]: ...

    def evaluate(self, genomes: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray: ...


def build_fitness(config: ExperimentConfig, problem: Problem, *, worker: bool = False) -> Fitness:
    """The fitness `config.fitness` names, for `problem`'s network; `worker` selects worker-only settings."""
    cfg = config.fitness
    if isinstance(cfg, SphereConfig):
        from evolution.fitness.sphere import SphereFitness

        return SphereFitness(cfg, problem.spec.parameters)
    if isinstance(cfg, MimicryConfig):
        from evolution.fitness.mimicry import MimicryFitness

        return MimicryFitness(cfg, problem.spec, config.seed)
    if isinstance(cfg, ClosedLoopConfig):
        from evolution.fitness.closed_loop import ClosedLoopFitness

        io = IOAdapters.from_dict(cfg.io) if cfg.io is not None else problem.io or IOAdapters()
        return ClosedLoopFitness(cfg, problem.spec, io, config.seed, worker)
    if isinstance(cfg, SwimmerBodiesConfig):
        from evolution.fitness.swimmer_bodies import SwimmerBodiesFitness

        return SwimmerBodiesFitness(cfg, problem.spec, config.seed)
    fitness = import_object(cfg.factory, "fitness.factory")(spec=problem.spec, seed=config.seed, **cfg.kwargs)
    if not (hasattr(fitness, "generation_data") and hasattr(fitness, "evaluate")):
        raise ConfigError(f"fitness.factory {cfg.factory!r} must return an object with generation_data and evaluate")
    return fitness
