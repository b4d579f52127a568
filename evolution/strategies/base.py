"""What every strategy shares: DEAP individuals (lists of unit-cube coordinates with a fitness), the ask/tell
interface the loop drives, and (de)serialization of populations as plain arrays.

A strategy works in the unit cube [0, 1]^D and never returns a point outside it; `Problem.to_genome` maps
points to the network's parameter bounds.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Protocol

import numpy as np
from deap import base


class Individual(list):
    """One point of the unit cube; `fitness` is a DEAP Fitness (set by `individual_class`)."""

    fitness: base.Fitness


@cache
def individual_class(weights: tuple[float, ...]) -> type[Individual]:
    """An Individual subclass whose fitness has `weights` (-1 minimize, +1 maximize, one per objective)."""
    fitness = type("Fitness", (base.Fitness,), {"weights": weights})

    def __init__(self: Individual, values: Any = ()) -> None:
        list.__init__(self, np.asarray(values, dtype=np.float64).ravel().tolist())
        self.fitness = fitness()

    return type("Individual", (Individual,), {"__init__": __init__})


class Strategy(Protocol):
    """Ask/tell: `generate` a population to evaluate, `update` with it once its fitnesses are set."""

    def generate(self) -> list[Individual]: ...

    def update(self, population: list[Individual]) -> None: ...

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(JSON-ready scalars, arrays) that `load_state` restores exactly."""
        ...

    def load_state(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None: ...


def initial_population(
    cls: type[Individual], size: int, dim: int, seed: np.ndarray | None = None, spread: float | None = None
) -> list[Individual]:
    """`size` points uniform in the unit cube (numpy's global RNG); `seed` [D], if given, is the first. With a
    seed and `spread`, the others are the seed plus normal noise of that standard deviation (unit cube, clipped):
    a population around a controller that already works, rather than one thrown over the whole cube."""
    points = np.random.uniform(0.0, 1.0, size=(size, dim))
    if seed is not None:
        if spread is not None:
            points = np.clip(seed + spread * np.random.standard_normal((size, dim)), 0.0, 1.0)
        points[0] = seed
    return [cls(row) for row in points]


def pack(population: list[Individual], prefix: str) -> dict[str, np.ndarray]:
    """Genomes [P, D] and fitness values [P, M] (NaN where not evaluated) of a population."""
    if not population:
        return {f"{prefix}_genomes": np.zeros((0, 0)), f"{prefix}_values": np.zeros((0, 0))}
    n_obj = len(population[0].fitness.weights)
    values = [ind.fitness.values if ind.fitness.valid else (np.nan,) * n_obj for ind in population]
    return {f"{prefix}_genomes": np.array(population, dtype=np.float64), f"{prefix}_values": np.array(values)}


def unpack(cls: type[Individual], arrays: dict[str, np.ndarray], prefix: str, dim: int) -> list[Individual]:
    """The population `pack` stored under `prefix`; ValueError (one line) unless it holds floating-point
    genomes [P, dim] in the unit cube and values [P, M] (M objectives of `cls`), KeyError if either is absent."""
    genomes, values = arrays[f"{prefix}_genomes"], arrays[f"{prefix}_values"]
    n_obj = len(cls().fitness.weights)
    if genomes.size == 0 and values.size == 0:
        return []
    if genomes.dtype.kind != "f" or values.dtype.kind != "f":
        raise ValueError(f"{prefix}: genomes and values must be floating point, got {genomes.dtype}, {values.dtype}")
    if genomes.ndim != 2 or genomes.shape[1] != dim or values.shape != (len(genomes), n_obj):
        raise ValueError(
            f"{prefix}: expected genomes [P, {dim}] and values [P, {n_obj}], got {genomes.shape} and {values.shape}"
        )
    if not (np.all(genomes >= 0.0) and np.all(genomes <= 1.0)):
        raise ValueError(f"{prefix}: genomes must lie in the unit cube")
    population = []
    for genome, row in zip(genomes, values, strict=True):
        ind = cls(genome)
        if not np.isnan(row).any():
            ind.fitness.values = tuple(float(v) for v in row)
        population.append(ind)
    return population
