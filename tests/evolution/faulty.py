"""Custom fitnesses that fail: `faulty:make` (config `fitness: {kind: custom, factory: "faulty:make"}`), whose
worker kills itself with SIGKILL the first time it evaluates, to test that a dead worker is retried and nothing is
lost (`signal: "SIGSTOP"`: the worker stops instead, as a hung one does; `every_time`: not only the first
time); `faulty:make_nan`, a sphere that scores NaN where the first coordinate (unit cube) is above `above`, as a
plant that blows up does (of several `centers`: on the objectives `columns`, default all); `faulty:make_flat`, a
sphere that returns its values [P] instead of [P, 1]; `faulty:make_slow`, a sphere whose workers take `seconds` per
chunk after writing `marker`; `faulty:make_raise`, whose evaluation raises `error` (ConfigError or ValueError) with
`message`; `faulty:make_drawn`, a sphere whose center is drawn from random, numpy and torch when it is built;
`faulty:broken_builder`, a network builder that raises an IndexError."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import numpy as np

from evolution.config import SphereConfig
from evolution.errors import ConfigError
from evolution.fitness.sphere import SphereFitness
from snncontrol.spec import NetworkSpec


class SignalsItself(SphereFitness):
    def __init__(self, spec: NetworkSpec, marker: str, driver_pid: int, signal_name: str, every_time: bool) -> None:
        super().__init__(SphereConfig(kind="sphere", centers=[0.3]), spec.parameters)
        self.marker, self.driver_pid, self.signal = Path(marker), driver_pid, signal.Signals[signal_name]
        self.every_time = every_time

    def evaluate(self, genomes: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
        if os.getpid() != self.driver_pid and (self.every_time or not self.marker.exists()):
            self.marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), self.signal)
        return super().evaluate(genomes, data)


def make(
    spec: NetworkSpec, seed: int, marker: str, driver_pid: int, signal: str = "SIGKILL", every_time: bool = False
) -> SignalsItself:
    return SignalsItself(spec, marker, driver_pid, signal, every_time)


class NanAbove(SphereFitness):
    def __init__(self, spec: NetworkSpec, above: float, centers: list[float], columns: list[int] | None) -> None:
        super().__init__(SphereConfig(kind="sphere", centers=centers), spec.parameters)
        self.above, self.columns = above, list(range(len(centers))) if columns is None else columns

    def evaluate(self, genomes: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
        values = super().evaluate(genomes, data)
        values[np.ix_(self.parameters.normalize(genomes)[:, 0] > self.above, self.columns)] = np.nan
        return values


def make_nan(
    spec: NetworkSpec, seed: int, above: float, centers: list[float] | None = None, columns: list[int] | None = None
) -> NanAbove:
    return NanAbove(spec, above, centers or [0.3], columns)


class NanWithSelection(NanAbove):
    """NanAbove with a finite selection loss (its own data, e.g. validation episodes, scores what training did not)."""

    def selection_loss(self, genome: np.ndarray) -> float:
        return float(np.sum(genome**2))


def make_nan_with_selection(spec: NetworkSpec, seed: int, above: float) -> NanWithSelection:
    return NanWithSelection(spec, above, [0.3], None)


class Flat(SphereFitness):
    def evaluate(self, genomes: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
        return super().evaluate(genomes, data)[:, 0]


def make_flat(spec: NetworkSpec, seed: int) -> Flat:
    return Flat(SphereConfig(kind="sphere", centers=[0.3]), spec.parameters)


class Slow(SphereFitness):
    def __init__(self, spec: NetworkSpec, marker: str, seconds: float) -> None:
        super().__init__(SphereConfig(kind="sphere", centers=[0.3]), spec.parameters)
        self.marker, self.seconds = Path(marker), seconds

    def evaluate(self, genomes: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
        self.marker.write_text(str(os.getpid()))
        time.sleep(self.seconds)
        return super().evaluate(genomes, data)


def make_slow(spec: NetworkSpec, seed: int, marker: str, seconds: float) -> Slow:
    return Slow(spec, marker, seconds)


class Raises(SphereFitness):
    def __init__(self, spec: NetworkSpec, error: str, message: str) -> None:
        super().__init__(SphereConfig(kind="sphere", centers=[0.3]), spec.parameters)
        self.error, self.message = {"ConfigError": ConfigError, "ValueError": ValueError}[error], message

    def evaluate(self, genomes: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
        raise self.error(self.message)


def make_raise(spec: NetworkSpec, seed: int, error: str, message: str) -> Raises:
    return Raises(spec, error, message)


def make_drawn(spec: NetworkSpec, seed: int) -> SphereFitness:
    """A sphere around a center drawn from the global generators (as a fitness that initializes torch modules
    does): the same in every process only where each builds it from the same seeded states."""
    import torch

    center = (random.random() + np.random.random() + torch.rand(1).item()) / 3
    return SphereFitness(SphereConfig(kind="sphere", centers=[center]), spec.parameters)


def broken_builder(n_inputs: int = 0) -> NetworkSpec:
    """Fails on its kwargs as paired_lif_readout did with n_inputs 0 (an IndexError from deep inside)."""
    raise IndexError(f"index {n_inputs} is out of bounds for axis 0 with size 0")


def tuple_builder(bounds: tuple[float, float] = (0.0, 1.0), weights: np.ndarray | None = None) -> NetworkSpec:
    """A builder annotated with a tuple (a YAML list stands for it) and a type pydantic has no schema for."""
    from snncontrol.layers import leaky_readout

    return NetworkSpec(1, (leaky_readout("readout", 1),), name=f"bounds {bounds[0]:g} {bounds[1]:g}")
