"""The evolutionary loop. The DEAP toolbox is its only seam:

    toolbox.generate()                    -> a population (unit-cube individuals) of the strategy
    toolbox.evaluate(population, gen)     -> objective values [P, M]: one batched evaluation, chunked over the
                                             backend's workers (parallelism is swapping this function)
    toolbox.update(population)            the strategy learns from the evaluated population
    toolbox.record(state)                 logbook, checkpoint, outputs, progress bar
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from deap import base, tools


@dataclass
class Published:
    """A champion as best/ holds it: the individual (unit cube, with its fitness values), its selection loss (inf
    where it has none) and the generations done and evaluations when it was written."""

    individual: Any
    loss: float
    generation: int
    evaluations: int


@dataclass
class EndOfRun:
    """The choice at a run's last generation where that is no checkpoint generation: the individual selected then
    (None: the hall of fame's best is the champion) with its selection loss, and the logbook fields the choice
    added to the last row. A run extended past it takes it back and goes on as a longer run would have, unless that
    generation is on the schedule it goes on with (`Experiment._settle_end`)."""

    selected: Any
    loss: float
    fields: list[str] = field(default_factory=list)


@dataclass
class RunState:
    """Everything of a run besides the strategy: generations done, evaluations, wall time (s), the last
    population, the hall of fame (best individual, or the Pareto front: individuals that scored at least one
    objective, none while every evaluation failed), the logbook rows, for a fitness with a selection loss the
    individual it selected (unit cube) with that loss, the champion last published to best/ on the run's schedule
    (`Published`), and the choice at its last generation (`EndOfRun`, None before the end or where the end is a
    checkpoint generation)."""

    hall_of_fame: tools.HallOfFame
    generation: int = 0
    evaluations: int = 0
    elapsed_s: float = 0.0
    population: list[Any] = field(default_factory=list)
    logbook: list[dict[str, Any]] = field(default_factory=list)
    selected: Any = None
    selected_loss: float = float("inf")
    published: Published | None = None
    end: EndOfRun | None = None


#: The score of an evaluation that gave NaN or +-inf (a plant that blew up): worse than any finite one for the
#: direction of its objective, yet finite, so that neither the hall of fame (DEAP ranks NaN above every number)
#: nor a strategy's checkpointed history (finite numbers only) takes it. Finite values are held within
#: +-SCORE_LIMIT, so that none is worse than a failure.
FAILED_SCORE = 1e30
SCORE_LIMIT = 1e29


def scores(values: Sequence[float], weights: Sequence[float]) -> tuple[float, ...]:
    """An individual's fitness values: each objective's value (within +-SCORE_LIMIT), or FAILED_SCORE on the losing
    side of its weight (+ for a minimized objective, - for a maximized one) where it is not finite."""
    return tuple(min(max(float(v), -SCORE_LIMIT), SCORE_LIMIT) if math.isfinite(v) else math.copysign(
        FAILED_SCORE, -w) for v, w in zip(values, weights, strict=True))


def scored(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Which of `values` (fitness values as `scores` gives them, any shape) were scored, not failures."""
    return np.abs(np.asarray(values, dtype=np.float64)) < FAILED_SCORE


def evolve(toolbox: base.Toolbox, state: RunState, generations: int) -> RunState:
    """Run generations until `state.generation == generations` (a resumed state continues where it stopped)."""
    while state.generation < generations:
        population = toolbox.generate()
        values = toolbox.evaluate(population, state.generation)
        for individual, value in zip(population, values, strict=True):
            individual.fitness.values = scores(value, individual.fitness.weights)
        toolbox.update(population)
        # (an individual that failed every objective ranks below all others: it would enter the hall of fame only
        # while nothing else had, and fill a Pareto front of equal failures; leaving it out changes no other run)
        state.hall_of_fame.update([ind for ind in population if scored(ind.fitness.values).any()])
        state.population = population
        state.evaluations += len(population)
        state.generation += 1
        toolbox.record(state)
    return state
