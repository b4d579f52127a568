"""Parameter spec: every evolvable parameter with its shape and bounds, and the flat genome layout.

An individual's genome is one float vector; a population is `[P, D]`. Parameters are laid out in spec order,
each flattened row-major. Bounds are inclusive; `normalize`/`denormalize` map to and from the unit cube,
the space in which evolution strategies work so that each parameter's range is honoured.
"""

from __future__ import annotations

import math
import numbers
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from snncontrol.errors import GenomeError, SpecError

Bound = float | np.ndarray  # one value for the whole parameter, or one per element (an array of its shape)


def shown(value: Any, width: int = 40) -> str:
    """`repr(value)` on one line, cut to `width` characters (for error messages)."""
    return " ".join(repr(value).split())[:width]


def is_finite_number(value: Any) -> bool:
    """Whether `value` is a finite real number (not a bool or a string)."""
    try:
        return not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def finite_number(value: Any, what: str) -> float:
    """`value` as a float; SpecError naming `what` unless it is a finite real number (not a bool or a string)."""
    if not is_finite_number(value):
        raise SpecError(f"{what} must be a finite number, got {shown(value)}")
    return float(value)


def integer(value: Any, what: str, low: int | None = None, high: int | None = None) -> int:
    """`value` as an int; SpecError naming `what` unless it is an integer (not a bool, a float or a string) within
    [low, high] (each bound optional)."""
    try:
        if isinstance(value, bool):
            raise TypeError
        number = operator.index(value)
    except TypeError:
        raise SpecError(f"{what} must be an integer, got {shown(value)}") from None
    if (low is not None and number < low) or (high is not None and number > high):
        limits = f">= {low}" if high is None else f"<= {high}" if low is None else f"in [{low}, {high}]"
        raise SpecError(f"{what} must be an integer {limits}, got {shown(number)}")
    return number


def finite_array(value: Any, what: str) -> np.ndarray:
    """`value` (a number or nested lists of numbers) as a float64 array; SpecError naming `what` unless every
    element is a finite number (null, strings, booleans and ragged lists are refused)."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        arr = np.asarray(None)
    if arr.dtype.kind not in "iuf" or not np.isfinite(arr).all() or _holds_bool(value):
        raise SpecError(f"{what} must be a finite number or an array of finite numbers, got {shown(value)}")
    return arr.astype(np.float64)


def check_copies(batch: Any) -> int:
    """`batch`, the number of copies a policy flies (the leading population dimension), as an int; SpecError unless
    it is an integer >= 1 (0 or -3 silently built one copy)."""
    if not isinstance(batch, numbers.Integral) or isinstance(batch, bool) or batch < 1:
        raise SpecError(f"the number of copies (batch) must be an integer >= 1, got {shown(batch)}")
    return int(batch)


def _holds_bool(value: Any) -> bool:
    """Whether `value` is a bool or a (nested) list or tuple holding one (numpy reads [True, 2.0] as [1., 2.])."""
    if isinstance(value, bool | np.bool_):
        return True
    return isinstance(value, list | tuple) and any(_holds_bool(item) for item in value)


def bound_value(value: Any, shape: tuple[int, ...], name: str) -> Bound:
    """A bound as a float, or as a float64 array of `shape` when it differs between elements."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return float(arr)
    try:
        arr = np.broadcast_to(arr, shape).copy()
    except ValueError:
        raise SpecError(f"bounds of {name} do not fit its shape {shape}") from None
    return float(arr.flat[0]) if np.all(arr == arr.flat[0]) else arr


def bound_to_json(value: Bound) -> float | list[Any]:
    return value.tolist() if isinstance(value, np.ndarray) else float(value)


@dataclass(frozen=True, eq=False)
class ParamEntry:
    """One named parameter (`layer.param`) of `shape`, within [low, high] (each one float, or an array of the
    parameter's shape for per-element bounds), at `offset` in the genome."""

    name: str
    shape: tuple[int, ...]
    low: Bound
    high: Bound
    offset: int
    init: np.ndarray | None = None

    @classmethod
    def create(
        cls, name: str, shape: tuple[int, ...], bounds: tuple[Any, Any], offset: int, init: Any = None
    ) -> ParamEntry:
        low, high = (bound_value(b, tuple(shape), name) for b in bounds)
        init_arr = None
        if init is not None:
            values = finite_array(init, f"init of {name}")
            try:
                init_arr = np.broadcast_to(values, shape).copy()
            except ValueError:
                raise SpecError(f"init of {name} does not fit shape {shape}") from None
            if np.any(init_arr < low) or np.any(init_arr > high):
                raise SpecError(f"init of {name} lies outside its bounds")
        return cls(name, tuple(shape), low, high, offset, init_arr)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def flat_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) of every element, each [size]."""
        return tuple(np.broadcast_to(b, self.shape).ravel() for b in (self.low, self.high))  # type: ignore[return-value]

    @property
    def slice(self) -> slice:
        return slice(self.offset, self.offset + self.size)


class ParameterSpec:
    """The genome layout of a network: ordered entries, total size D, bound vectors low/high [D]."""

    def __init__(self, entries: tuple[ParamEntry, ...]) -> None:
        self.entries = entries
        self.by_name = {e.name: e for e in entries}
        self.size = sum(e.size for e in entries)
        flat = [e.flat_bounds() for e in entries]
        self.low = np.concatenate([low for low, _ in flat]) if entries else np.zeros(0)
        self.high = np.concatenate([high for _, high in flat]) if entries else np.zeros(0)

    def __len__(self) -> int:
        return self.size

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    def check(self, genome: Any, *, bounds: bool = True) -> np.ndarray:
        """Return `genome` as a float64 array [P, D] (a single [D] vector becomes P = 1); raise GenomeError
        naming the problem if its length is wrong, it holds NaN/inf, or (with `bounds`) it leaves its bounds."""
        arr = genome.detach().cpu().numpy() if isinstance(genome, torch.Tensor) else np.asarray(genome)
        arr = np.atleast_2d(arr).astype(np.float64, copy=False)
        if arr.ndim != 2 or arr.shape[1] != self.size:
            raise GenomeError(f"genome must have {self.size} values per individual, got shape {arr.shape}")
        if not np.isfinite(arr).all():
            raise GenomeError("genome holds NaN or infinite values")
        if bounds:
            outside = (arr < self.low) | (arr > self.high)
            if outside.any():
                index = int(np.argwhere(outside)[0, 1])
                entry = next(e for e in self.entries if e.offset <= index < e.offset + e.size)
                raise GenomeError(
                    f"genome value of {entry.name} lies outside [{self.low[index]}, {self.high[index]}]"
                )
        return arr

    def unflatten(self, genome: torch.Tensor) -> dict[str, torch.Tensor]:
        """[P, D] tensor -> {name: [P, *shape]} views."""
        batch = genome.shape[0]
        return {e.name: genome[:, e.slice].reshape(batch, *e.shape) for e in self.entries}

    def flatten(self, values: dict[str, Any], batch: int = 1) -> np.ndarray:
        """{name: array of [*shape] or [P, *shape]} -> genome [P, D]; every parameter must be given."""
        missing = set(self.by_name) - set(values)
        if missing:
            raise GenomeError(f"missing parameter(s) {sorted(missing)}")
        unknown = set(values) - set(self.by_name)
        if unknown:
            raise GenomeError(f"unknown parameter(s) {sorted(unknown)}")
        genome = np.empty((batch, self.size))
        for e in self.entries:
            try:
                genome[:, e.slice] = np.broadcast_to(np.asarray(values[e.name], np.float64), (batch, *e.shape)).reshape(
                    batch, e.size
                )
            except ValueError:
                raise GenomeError(f"parameter {e.name} must have shape {e.shape}") from None
        return genome

    def initial(self) -> np.ndarray:
        """The default genome [D]: each parameter's `init` where given, else the middle of its bounds."""
        return (
            np.concatenate(
                [
                    e.init.ravel() if e.init is not None else 0.5 * (self.low[e.slice] + self.high[e.slice])
                    for e in self.entries
                ]
            )
            if self.entries
            else np.zeros(0)
        )

    def sample(self, batch: int, rng: np.random.Generator) -> np.ndarray:
        """`batch` genomes drawn uniformly within the bounds, [batch, D]."""
        return rng.uniform(self.low, self.high, size=(batch, self.size))

    def clip(self, genome: np.ndarray) -> np.ndarray:
        return np.clip(genome, self.low, self.high)

    def normalize(self, genome: np.ndarray) -> np.ndarray:
        """Map genomes to the unit cube (parameters with low == high map to 0)."""
        span = np.where(self.high > self.low, self.high - self.low, 1.0)
        return (np.asarray(genome) - self.low) / span

    def denormalize(self, unit: np.ndarray) -> np.ndarray:
        return self.low + np.asarray(unit) * (self.high - self.low)
