"""The search problem of an experiment: the network spec (its flat parameter vector is the genome), an optional
seed genome and I/O adapters from a saved controller, and the worker config that workers rebuild it from.

Strategies search the unit cube; `to_genome` / `to_unit` map to and from the spec's parameter bounds.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from pydantic import TypeAdapter, ValidationError

from evolution import rng
from evolution.config import ClosedLoopConfig, ConstructionConfig, ExperimentConfig, NetworkConfig
from evolution.errors import ConfigError
from evolution.imports import import_object
from snncontrol.adapters import IOAdapters
from snncontrol.artifacts import read_artifact
from snncontrol.controllers import resolve
from snncontrol.errors import GenomeError, SnnControlError, described, first_line
from snncontrol.spec import NetworkSpec


@dataclass(frozen=True, eq=False)
class Construction:
    """The settings of a construction as the search space (`network.construction`): `build(**fixed, **settings)`
    returns (spec, genome, adapters); setting i spans low[i] .. high[i], the unit cube's [0, 1]. Every point
    must build the seed's `spec`: `builder` names the construction in the errors."""

    build: Callable[..., Any]
    builder: str
    fixed: dict[str, Any]
    names: tuple[str, ...]
    low: np.ndarray  # [d]
    high: np.ndarray  # [d]
    seed: np.ndarray  # [d], the seed's settings
    spec: NetworkSpec | None = None  # the seed's network (None until the seed is built)

    def settings(self, unit: np.ndarray) -> dict[str, float]:
        """The settings of one unit-cube point [d] (the seed's own values where it sits at the seed's point), within
        their ranges."""
        unit = np.asarray(unit, dtype=np.float64)
        values = np.clip(self.low + unit * (self.high - self.low), self.low, self.high)  # (1 ulp past high)
        values = np.where(unit == self.seed_unit, self.seed, values)
        return {name: float(value) for name, value in zip(self.names, values, strict=True)}

    @property
    def seed_unit(self) -> np.ndarray:
        return (self.seed - self.low) / (self.high - self.low)

    def built(self, settings: dict[str, float]) -> tuple[NetworkSpec, np.ndarray, IOAdapters]:
        """(spec, genome, adapters) of `settings`, checked: a ConfigError naming the builder and the settings where
        it returns anything else, another network than the seed's, or a genome outside the parameter bounds (the
        construction's bug, not settings it refuses); its own SnnControlError (a refusal) passes through. Built with
        the RNG states kept (`evolution.rng.preserved`): a construction that draws leaves the run's draws alone."""
        with rng.preserved():
            built = self.build(**self.fixed, **settings)
        where = f"network.construction.builder {self.builder!r} at {settings}"
        if not (isinstance(built, tuple) and len(built) == 3 and isinstance(built[0], NetworkSpec)
                and isinstance(built[2], IOAdapters)):
            raise ConfigError(f"{where}: must return (spec, genome, adapters), got {type(built).__name__}")
        spec, genome, io = built
        if self.spec is not None and spec.to_dict() != self.spec.to_dict():  # (NetworkSpec compares by identity)
            raise ConfigError(f"{where}: built another network than at its seed's settings (a setting that changes "
                              "the network's shape or kind cannot evolve: give it in fixed)")
        try:
            genome = np.asarray(genome, dtype=np.float64)
            if genome.ndim != 1:
                raise GenomeError(f"its genome must be one vector [{spec.parameters.size}], got shape {genome.shape}")
            spec.parameters.check(genome)
        except (GenomeError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {first_line(exc)}") from None
        return spec, genome, io

    def genome(self, unit: np.ndarray) -> np.ndarray:
        """The genome [D] the construction builds from one unit-cube point [d]; NaN where it refuses those settings
        (its SnnControlError: beyond what it builds within the bounds), which scores the worst."""
        assert self.spec is not None  # (set by _construction_problem)
        try:
            return self.built(self.settings(unit))[1]
        except ConfigError:
            raise
        except SnnControlError:
            return np.full(self.spec.parameters.size, np.nan)


@dataclass(frozen=True, eq=False)
class Problem:
    """spec: the network; seed_genome [D] (from an artifact or a construction's seed settings) or None; io: the
    artifact's (construction's) adapters or None; free: the genome entries evolved (a boolean mask [D]; None: all),
    the others held at the seed genome's; construction: where the search space is a construction's settings
    (`Construction`), not the genome: `to_genome` builds each point's genome (NaN rows where it refuses)."""

    spec: NetworkSpec
    seed_genome: np.ndarray | None = None
    io: IOAdapters | None = None
    free: np.ndarray | None = None
    construction: Construction | None = None

    @property
    def dim(self) -> int:
        """Dimension of the search space (the free genome entries, or the construction's settings)."""
        if self.construction is not None:
            return len(self.construction.names)
        return self.spec.parameters.size if self.free is None else int(self.free.sum())

    def to_genome(self, unit: np.ndarray) -> np.ndarray:
        """Unit-cube points [P, dim] -> genomes within the parameter bounds [P, D] (float64). An entry at the seed
        genome's own unit value (every held entry; all of them for the seed itself) is the seed's value exactly,
        not its round trip through the unit cube (0.2 would come back 1 ulp off). A construction builds each
        point's genome (a NaN row where it refuses the settings)."""
        unit = np.asarray(unit, dtype=np.float64)
        if self.construction is not None:
            return np.stack([self.construction.genome(point) for point in unit])
        if self.seed_genome is None:
            return self.spec.parameters.clip(self.spec.parameters.denormalize(unit))
        seed_unit = np.clip(self.spec.parameters.normalize(self.seed_genome), 0.0, 1.0)
        full = np.tile(seed_unit, (unit.shape[0], 1))
        if self.free is None:
            full[:] = unit
        else:
            full[:, self.free] = unit
        genomes = self.spec.parameters.clip(self.spec.parameters.denormalize(full))
        return np.where(full == seed_unit, self.seed_genome, genomes)

    def seed_unit(self) -> np.ndarray | None:
        """The seed's point in the search space [dim], None without a seed."""
        if self.construction is not None:
            return self.construction.seed_unit
        return None if self.seed_genome is None else self.to_unit(self.seed_genome)

    def spec_init_unit(self) -> np.ndarray:
        """The point of the spec's initial parameter values [dim] (`initial_mean: spec_init`); of a construction,
        its seed's settings (the construction sets every parameter)."""
        if self.construction is not None:
            return self.construction.seed_unit
        return self.to_unit(self.spec.parameters.initial())

    def to_unit(self, genome: np.ndarray) -> np.ndarray:
        """Genomes [..., D] -> their free entries in the unit cube [..., dim] (not of a construction: its settings
        are no function of the genome)."""
        if self.construction is not None:
            raise ValueError("a construction's settings cannot be read back from a genome")
        unit = np.clip(self.spec.parameters.normalize(genome), 0.0, 1.0)
        return unit if self.free is None else unit[..., self.free]


SLICE = re.compile(r"^(?P<name>[^\[\]]+)\[(?P<start>\d+):(?P<stop>\d+)\]$")


def free_mask(spec: NetworkSpec, patterns: list[str]) -> np.ndarray:
    """Boolean [D]: the entries of the parameters whose names match one of the glob `patterns`; a pattern
    `name[start:stop]` takes only those elements of the flattened parameter (e.g. one network's block of a
    composite: `snncontrol.compose.part_patterns`)."""
    mask = np.zeros(spec.parameters.size, dtype=bool)
    for pattern in patterns:
        part = SLICE.match(pattern)
        glob = part["name"] if part else pattern
        matched = [e for e in spec.parameters.entries if fnmatch.fnmatchcase(e.name, glob)]
        if not matched:
            names = ", ".join(spec.parameters.names)
            raise ConfigError(f"network.evolve: {pattern!r} matches no parameter (has {names})")
        for entry in matched:
            start, stop = (int(part["start"]), int(part["stop"])) if part else (0, entry.size)
            if not start < stop <= entry.size:
                raise ConfigError(f"network.evolve: {pattern!r} needs 0 <= start < stop <= {entry.size} "
                                  f"({entry.name} has {entry.size} elements)")
            mask[entry.offset + start : entry.offset + stop] = True
    return mask


def resolve_network(network: NetworkConfig) -> Problem:
    """Build the Problem a `network:` section names; errors are one ConfigError line."""
    try:
        if network.construction is not None:
            return _construction_problem(network.construction)
        if network.artifact is not None:
            spec, genome, _, io = read_artifact(resolve(network.artifact))
            free = None if network.evolve is None else free_mask(spec, network.evolve)
            return Problem(spec, genome, io, free)
        if network.spec is not None:
            return Problem(NetworkSpec.from_dict(network.spec))
        assert network.builder is not None
        builder = import_object(network.builder, "network.builder")
        check_builder_kwargs(builder, network.kwargs)
        spec = builder(**network.kwargs)
    except ConfigError:
        raise
    except (SnnControlError, TypeError) as exc:
        raise ConfigError(f"network: {exc}") from None
    except (ArithmeticError, LookupError, ValueError) as exc:  # what a bad keyword makes (n_inputs 0: an IndexError)
        if network.builder is None:
            raise
        raise ConfigError(f"network.builder {network.builder!r} failed on its kwargs ({described(exc)})") from None
    if not isinstance(spec, NetworkSpec):
        raise ConfigError(f"network.builder {network.builder!r} returned {type(spec).__name__}, not a NetworkSpec")
    return Problem(spec)


def _construction_problem(config: ConstructionConfig) -> Problem:
    """The Problem of a `network.construction`: its seed settings built (their errors are the config's)."""
    build = import_object(config.builder, "network.construction.builder")
    names = tuple(config.settings)
    low, high, seed = (np.array([getattr(config.settings[name], key) for name in names])
                       for key in ("low", "high", "seed"))
    unbuilt = Construction(build, config.builder, dict(config.fixed), names, low, high, seed)
    try:
        spec, genome, io = unbuilt.built(unbuilt.settings(unbuilt.seed_unit))
    except ConfigError:
        raise
    except SnnControlError as exc:
        raise ConfigError(f"network.construction: its seed settings fail ({exc})") from None
    except TypeError as exc:  # (a keyword the construction does not take, deeper than its signature)
        raise ConfigError(f"network.construction: {exc}") from None
    return Problem(spec, genome, io, construction=replace(unbuilt, spec=spec))


def _tuples(value: Any) -> Any:
    """`value` with every list, nested ones too, as a tuple."""
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value


def check_builder_kwargs(builder: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    """One ConfigError line for a keyword whose value is not of the type the builder's annotation gives (strictly:
    "16" is no int, 1 no bool; an int is a float); keywords without an annotation, or of a builder whose
    annotations do not resolve, pass to the builder as they are. (A wrong type failed inside the builder in Python's
    words, e.g. "can't multiply sequence by non-int of type 'list'".)"""
    try:
        hints = typing.get_type_hints(builder)
    except Exception:  # (any builder's annotations: without them the builder checks its keywords)
        return
    for name, value in kwargs.items():
        if name not in hints:
            continue
        try:
            adapter = TypeAdapter(hints[name])
        except Exception:  # (an annotation pydantic has no schema for: the builder checks that keyword)
            continue
        try:
            adapter.validate_python(_tuples(value), strict=True)  # (YAML has no tuples: its lists stand for them)
        except ValidationError:
            pass
        else:
            continue
        try:
            adapter.validate_python(value, strict=True)
        except ValidationError as exc:
            wanted = " or ".join(dict.fromkeys(
                error["msg"].removeprefix("Input should be ")
                + "".join(f" at [{part}]" for part in error["loc"] if isinstance(part, int))
                for error in exc.errors()))
            raise ConfigError(f"network.kwargs.{name} should be {wanted}, got {value!r:.60}") from None


def worker_config(config: ExperimentConfig, problem: Problem) -> dict[str, Any]:
    """The experiment as plain data for workers: the network inlined as a spec dict and the I/O adapters made
    explicit, so a worker needs neither the driver's files nor its builders' results. (A worker never uses the
    strategy: its `init_spread`, which asks for the artifact the inlined network no longer names, is left out.)"""
    data = config.model_dump(mode="json", by_alias=True)
    data["network"] = {"spec": problem.spec.to_dict()}
    data["strategy"].pop("init_spread", None)
    if isinstance(config.fitness, ClosedLoopConfig) and config.fitness.io is None:
        data["fitness"]["io"] = (problem.io or IOAdapters()).to_dict()
    return data


#: env keywords that change how fast a worker runs, never what it computes (the batched physics are bit-identical on
#: any number of threads): a run may resume with them changed
RUN_SETTING_KWARGS = frozenset({"n_threads"})


def config_hash(
    config: ExperimentConfig, problem: Problem, extra: dict[str, str] | None = None, *, worker_kwargs: bool = False
) -> str:
    """sha256 over the experiment (not the run settings), the resolved spec, the seed genome and `extra`
    (e.g. the dataset's digest): what must not change for a run to be resumed. Of the environment's
    `worker_kwargs`, those that are run settings (`RUN_SETTING_KWARGS`: physics threads per worker, which change no
    result) are left out, so a config without others hashes as before; `worker_kwargs=True` hashes them all, as
    runs started before 2026-12-07 did."""
    experiment = config.experiment_dict()
    env = experiment.get("fitness", {}).get("env")
    if isinstance(env, dict) and not worker_kwargs:
        env["worker_kwargs"] = {k: v for k, v in env.get("worker_kwargs", {}).items() if k not in RUN_SETTING_KWARGS}
    document = {
        "experiment": experiment,
        "spec": problem.spec.to_dict(),
        "seed_genome": None if problem.seed_genome is None else problem.seed_genome.tolist(),
        "free": None if problem.free is None else np.flatnonzero(problem.free).tolist(),
        "extra": extra or {},
    }
    if problem.construction is not None:  # (the settings' order is the search's axes: sort_keys would lose it)
        document["construction_axes"] = list(problem.construction.names)
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
