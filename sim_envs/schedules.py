"""Altitude set-point schedules. Units: m, s.

Schedules can also be given as plain data (for YAML experiment configs), see ``schedule_from_dict``:
``{kind: levels, values: [0.5, 1.0, 1.5], hold_s: 70, ramp_s: 0}`` or
``{kind: random, altitude_range: [0.3, 2.0], hold_s: 20, ramp_s: 0}``.

A schedule turns a generator and the control-step times (s) into the set-point at each time (m). Levels are
held for ``hold_s`` and joined by linear ramps of ``ramp_s`` (0 gives steps); the level sequence repeats
when an episode outlasts it. ``PAPER_SCHEDULE`` is Burgers et al.'s 0.5 / 1.0 / 1.5 m, 70 s each.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from sim_envs import validation


class Schedule(ABC):
    """Set-point profile of one episode."""

    @abstractmethod
    def levels(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """The first ``count`` levels (m), the same ones whatever ``count``; a random schedule draws them in order
        from ``rng``."""

    hold_s: float
    ramp_s: float

    @property
    @abstractmethod
    def highest(self) -> float:
        """The highest set-point (m) the schedule can give (a ramp never passes the levels it joins)."""

    def profile(self, rng: np.random.Generator, times: np.ndarray) -> np.ndarray:
        """Set-points (m) at ``times`` (s, from the episode start). The set-point at a time does not depend on the
        episode's length: the levels are every one begun by the last time plus, where that time lies in a ramp,
        the level it ramps to."""
        duration = float(times[-1]) if len(times) else 0.0
        period = self.hold_s + self.ramp_s
        levels = self.levels(rng, int(duration // period) + 1 + int(duration % period > self.hold_s))
        starts = np.arange(len(levels)) * period
        knot_t = np.stack([starts, starts + self.hold_s], axis=1).ravel()
        knot_v = np.repeat(levels, 2)
        return np.interp(times, knot_t, knot_v)


@dataclass(frozen=True)
class LevelSchedule(Schedule):
    """Fixed levels (m) in order, each held ``hold_s`` s, joined by ramps of ``ramp_s`` s; repeats."""

    values: tuple[float, ...] = (0.5, 1.0, 1.5)
    hold_s: float = 70.0
    ramp_s: float = 0.0

    def __post_init__(self) -> None:
        try:
            values = np.asarray(self.values, dtype=np.float64)
        except (TypeError, ValueError):
            values = np.array([np.nan])
        if values.ndim != 1 or not values.size or not np.isfinite(values).all() or values.min() < 0:
            raise ValueError(f"values must be a non-empty sequence of finite altitudes >= 0 m, got {self.values!r}")
        validation.positive("hold_s", self.hold_s)
        validation.non_negative("ramp_s", self.ramp_s)

    @property
    def highest(self) -> float:
        return float(max(self.values))

    def levels(self, rng: np.random.Generator, count: int) -> np.ndarray:
        return np.resize(np.asarray(self.values, dtype=np.float64), count)


@dataclass(frozen=True)
class RandomLevelSchedule(Schedule):
    """Levels drawn uniformly from ``altitude_range`` (m), each held ``hold_s`` s, ramps of ``ramp_s`` s."""

    altitude_range: tuple[float, float] = (0.3, 2.0)
    hold_s: float = 20.0
    ramp_s: float = 0.0

    def __post_init__(self) -> None:
        validation.interval("altitude_range", self.altitude_range, low=0.0)
        validation.positive("hold_s", self.hold_s)
        validation.non_negative("ramp_s", self.ramp_s)

    @property
    def highest(self) -> float:
        return float(self.altitude_range[1])

    def levels(self, rng: np.random.Generator, count: int) -> np.ndarray:
        return rng.uniform(*self.altitude_range, size=count)


PAPER_SCHEDULE = LevelSchedule(values=(0.5, 1.0, 1.5), hold_s=70.0)


_KINDS: dict[str, type[Schedule]] = {"levels": LevelSchedule, "random": RandomLevelSchedule}


def schedule_from_dict(data: dict) -> Schedule:
    """A schedule from its plain-data form (``kind`` plus the class's fields); one clear error otherwise."""
    if not isinstance(data, dict) or data.get("kind") not in _KINDS:
        raise ValueError(f"schedule must be a Schedule or a mapping with kind in {sorted(_KINDS)}, got {data!r:.80}")
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k != "kind"}
    try:
        return _KINDS[data["kind"]](**fields)
    except TypeError as exc:
        raise ValueError(f"schedule {data['kind']!r}: {exc}") from None


def plant_schedule(schedule: Schedule | dict, max_range: float, ceiling: float = math.inf) -> Schedule:
    """``schedule`` (a Schedule or its plain-data form) if the plant can hold and measure every set-point of it: at
    most ``ceiling`` (m, where the plant stops a rising blimp; inf: nothing stops it) and below ``max_range`` (m,
    the rangefinder's cutoff, from where it reads nothing); one-line ValueError otherwise."""
    if not isinstance(schedule, Schedule):
        schedule = schedule_from_dict(schedule)
    if schedule.highest > ceiling:
        raise ValueError(f"schedule's set-points must be <= ceiling={ceiling:g} m (the blimp cannot rise higher), "
                         f"got one of {schedule.highest:g} m")
    if schedule.highest >= max_range:
        raise ValueError(f"schedule's set-points must be < max_range={max_range:g} m (the rangefinder reads nothing "
                         f"from there), got one of {schedule.highest:g} m")
    return schedule
