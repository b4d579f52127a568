"""Observation and action adapters: the explicit map between a plant's arrays and a controller's.

sense -> [observation adapter] -> encode -> SNN -> decode -> [action adapter] -> act.
Adapters are data (named in experiment configs and stored in controller artifacts), so an evolved controller
drives its plant the same way in evolution, in evaluation tools and in a ROS node. They work on arrays
with a leading population dimension, [P, n_obs] -> [P, n_inputs] and [P, n_outputs] -> [P, n_actions],
numpy or torch alike.

Observation kinds:
- identity: the observation as is.
- select: obs[..., indices] * scale + offset (pick and normalize channels; e.g. joint angles / joint limit).
  With `rates` (the observation indices of those channels' rates of change, units per s) and `lead` (s), it
  reads each channel `lead` seconds ahead, (obs[..., indices] + lead * obs[..., rates]) * scale + offset: a
  proprioceptor that, like a muscle spindle, answers to stretch and to its velocity (e.g. joint angle + lead x
  joint angular velocity, rad).
- setpoint_error: (obs[..., setpoint] - obs[..., measurement]) * scale, one input (e.g. altitude error, m).
Each kind may mark missing samples: with `valid = (low, high)`, a value it reads (the measurement of
setpoint_error, the selected channels of select, every channel of identity: `valid_elements`) outside
low <= value < high, or non-finite, makes the inputs computed from it NaN; a rate of select is another quantity
(e.g. rad/s beside an angle's rad), so only a non-finite one does. E.g. a rangefinder that reports a lost return
as its maximum range (TFmini-S: 12 m) gets valid = (0, 12). The network's `SampleHoldEncoder` then holds the
last sample.
Action kinds:
- identity: the network output as is.
- affine_clip: clip(out * scale + offset, low, high) (e.g. the blimp's command range [-3.3, 3.3]).
Each `scale` / `offset` is one finite number for every channel or one per channel: per selected channel for
select (setpoint_error has one input, so one scale), per network output for affine_clip (checked when a
controller is loaded and by `IOAdapters.check`). Indices are integers (not floats, strings or bools).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar, Literal

import numpy as np
import torch

from snncontrol.errors import SpecError
from snncontrol.params import finite_array, integer, shown


def _floats(value: Any, name: str) -> tuple[float, ...]:
    """One or more finite numbers (a number or a flat list of them); SpecError naming `name` otherwise."""
    arr = np.atleast_1d(finite_array(value, f"adapter.{name}"))
    if arr.ndim != 1 or not arr.size:
        raise SpecError(f"adapter.{name} must be a finite number or a non-empty list of numbers")
    return tuple(float(v) for v in arr)


def _indices(value: Any, name: str) -> tuple[int, ...]:
    """Observation indices: an integer or a flat list of integers (>= 0); SpecError naming `name` otherwise."""
    flat = isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping)
    items = list(value) if flat else [value]
    return tuple(integer(i, f"observation adapter {name}[{k}]", low=0) for k, i in enumerate(items))


def _per_channel(values: tuple[float, ...], n: int, name: str, where: str) -> None:
    """SpecError unless `values` has one value for every channel or one per channel (`n` channels)."""
    if len(values) not in (1, n):
        allowed = "1" if n == 1 else f"1 or {n}"
        raise SpecError(f"{where}.{name} has {len(values)} values for {n} channel(s); give {allowed}")


def _coefficient(values: tuple[float, ...]) -> float | np.ndarray:
    """One value applies to every channel (a scalar keeps torch and numpy inputs their type); several, per channel."""
    return np.asarray(values) if len(values) > 1 else values[0]


def _limit(value: Any, name: str) -> float:
    """An action limit: a number, +-inf meaning unbounded (null in JSON); SpecError naming `name` otherwise."""
    try:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
            raise TypeError
        return float(value)
    except (TypeError, OverflowError):
        raise SpecError(f"action adapter {name} must be a number (or null: unbounded), got {shown(value)}") from None


def _refuse_ignored(adapter: Any, names: tuple[str, ...], what: str) -> None:
    """One SpecError line naming the options of `names` that `adapter` holds with other than their defaults."""
    given = [name for name in names if getattr(adapter, name) != _DEFAULTS[type(adapter).__name__][name]]
    if given:
        raise SpecError(f"{what} does not use {', '.join(given)} (give another kind, or leave them out)")


@dataclass(frozen=True)
class ObservationAdapter:
    kind: Literal["identity", "select", "setpoint_error"] = "identity"
    indices: tuple[int, ...] = ()
    scale: tuple[float, ...] = (1.0,)
    offset: tuple[float, ...] = (0.0,)
    measurement: int = 0
    setpoint: int = 1
    valid: tuple[float, float] | None = None
    rates: tuple[int, ...] = ()
    lead: float = 0.0
    KINDS: ClassVar[tuple[str, ...]] = ("identity", "select", "setpoint_error")

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise SpecError(f"observation adapter kind must be one of {self.KINDS}, got {self.kind!r}")
        if self.valid is not None:
            valid = _floats(self.valid, "valid")
            if len(valid) != 2 or not valid[1] > valid[0]:
                raise SpecError(f"observation adapter valid must be [low, high] with high > low, got {self.valid!r}")
            object.__setattr__(self, "valid", valid)
        object.__setattr__(self, "indices", _indices(self.indices, "indices"))
        object.__setattr__(self, "rates", _indices(self.rates, "rates"))
        for name in ("measurement", "setpoint"):
            object.__setattr__(self, name, integer(getattr(self, name), f"observation adapter {name}", low=0))
        lead = _floats(self.lead, "lead")
        if len(lead) != 1:
            raise SpecError(f"observation adapter lead must be one number (s), got {self.lead!r}")
        object.__setattr__(self, "lead", lead[0])
        if self.rates and (self.kind != "select" or len(self.rates) != len(self.indices)):
            raise SpecError(
                f"observation adapter rates {list(self.rates)} need kind 'select' and one rate index per selected "
                f"channel {list(self.indices)}"
            )
        if self.lead and not self.rates:
            raise SpecError(f"observation adapter lead {self.lead} s needs rates (the indices of the channels' rates)")
        object.__setattr__(self, "scale", _floats(self.scale, "scale"))
        object.__setattr__(self, "offset", _floats(self.offset, "offset"))
        if self.kind == "select" and not self.indices:
            raise SpecError("observation adapter 'select' needs indices")
        ignored = {  # options the kind does not read: given, they were ignored in silence
            "identity": ("indices", "scale", "offset", "measurement", "setpoint"),
            "select": ("measurement", "setpoint"),
            "setpoint_error": ("indices", "offset"),
        }[self.kind]
        _refuse_ignored(self, ignored, f"observation adapter '{self.kind}'")
        if self.kind != "identity":
            made = len(self.indices) if self.kind == "select" else 1
            _per_channel(self.scale, made, "scale", f"observation adapter ({self.kind})")
            if self.kind == "select":
                _per_channel(self.offset, made, "offset", "observation adapter (select)")

    def channels(self, n_obs: int) -> tuple[int, ...]:
        """The observation elements read one per input (identity: all `n_obs`; select: `indices`, then `rates`);
        () for setpoint_error, which reads its measurement and set-point instead."""
        if self.kind == "identity":
            return tuple(range(n_obs))
        return (*self.indices, *self.rates) if self.kind == "select" else ()

    def valid_elements(self, n_obs: int) -> tuple[int, ...]:
        """The observation elements `valid` bounds (identity: all; select: `indices`, not its rates;
        setpoint_error: its measurement)."""
        if self.kind == "setpoint_error":
            return (self.measurement,)
        return tuple(range(n_obs)) if self.kind == "identity" else self.indices

    def reads(self, n_obs: int) -> tuple[int, ...]:
        """Every observation element the adapter reads (`channels`; setpoint_error: its measurement and set-point)."""
        return self.channels(n_obs) if self.kind != "setpoint_error" else (self.measurement, self.setpoint)

    def n_inputs(self, n_obs: int) -> int:
        """Network inputs produced from an observation of `n_obs` values (checks the indices fit)."""
        used = self.reads(n_obs)
        if any(not 0 <= i < n_obs for i in used):
            raise SpecError(f"observation adapter indices {used} do not fit an observation of {n_obs} values")
        return {"identity": n_obs, "select": len(self.indices), "setpoint_error": 1}[self.kind]

    def __call__(self, obs: Any) -> Any:
        if self.kind == "identity":
            return self._missing_outside_valid(obs)
        if self.kind == "select":
            selected = self._missing_outside_valid(obs[..., list(self.indices)])
            if self.rates:
                selected = selected + self.lead * self._missing_if_not_finite(obs[..., list(self.rates)])
            return selected * _coefficient(self.scale) + _coefficient(self.offset)
        measured = self._missing_outside_valid(obs[..., self.measurement : self.measurement + 1])
        return (obs[..., self.setpoint : self.setpoint + 1] - measured) * self.scale[0]

    def _missing_if_not_finite(self, values: Any) -> Any:
        """`values` with NaN where they are not finite, where the adapter marks missing samples (`valid`)."""
        if self.valid is None:
            return values
        return _nan_unless(values, torch.isfinite(values) if isinstance(values, torch.Tensor) else np.isfinite(values))

    def _missing_outside_valid(self, values: Any) -> Any:
        """`values` with NaN where they leave the valid range (unchanged without one)."""
        if self.valid is None:
            return values
        low, high = self.valid
        return _nan_unless(values, (values >= low) & (values < high))


def _nan_unless(values: Any, ok: Any) -> Any:
    """`values` (numpy or torch) with NaN where `ok` is false."""
    return values.where(ok, torch.nan) if isinstance(values, torch.Tensor) else np.where(ok, values, np.nan)


@dataclass(frozen=True)
class ActionAdapter:
    kind: Literal["identity", "affine_clip"] = "identity"
    scale: tuple[float, ...] = (1.0,)
    offset: tuple[float, ...] = (0.0,)
    low: float = -np.inf
    high: float = np.inf
    KINDS: ClassVar[tuple[str, ...]] = ("identity", "affine_clip")

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise SpecError(f"action adapter kind must be one of {self.KINDS}, got {self.kind!r}")
        object.__setattr__(self, "scale", _floats(self.scale, "scale"))
        object.__setattr__(self, "offset", _floats(self.offset, "offset"))
        for name in ("low", "high"):
            object.__setattr__(self, name, _limit(getattr(self, name), name))
        if not self.high >= self.low:
            raise SpecError(f"action adapter needs high >= low, got [{self.low}, {self.high}]")
        if self.kind == "identity":
            _refuse_ignored(self, ("scale", "offset", "low", "high"), "action adapter 'identity'")

    def check_outputs(self, n_outputs: int) -> None:
        """Raise one SpecError line unless `scale` and `offset` fit a network of `n_outputs` outputs."""
        if self.kind == "affine_clip":
            _per_channel(self.scale, n_outputs, "scale", "action adapter (affine_clip)")
            _per_channel(self.offset, n_outputs, "offset", "action adapter (affine_clip)")

    def __call__(self, out: Any) -> Any:
        if self.kind == "identity":
            return out
        return (out * _coefficient(self.scale) + _coefficient(self.offset)).clip(self.low, self.high)


@dataclass(frozen=True)
class IOAdapters:
    """The pair a controller is used with; stored in its artifact."""

    observation: ObservationAdapter = field(default_factory=ObservationAdapter)
    action: ActionAdapter = field(default_factory=ActionAdapter)

    def check(self, n_observations: int, n_actions: int, n_inputs: int, n_outputs: int, plant: str) -> None:
        """Raise one SpecError line unless these adapters connect a plant of `n_observations` observations and
        `n_actions` actions to a network of `n_inputs` inputs and `n_outputs` outputs."""
        made = self.observation.n_inputs(n_observations)
        if made != n_inputs:
            raise SpecError(
                f"the observation adapter ({self.observation.kind}) makes {made} input(s) of the {n_observations} "
                f"observation(s) of {plant}; the network takes {n_inputs}"
            )
        if n_outputs != n_actions:
            raise SpecError(f"the network has {n_outputs} output(s); {plant} takes {n_actions} action(s)")
        self.action.check_outputs(n_outputs)

    def to_dict(self) -> dict[str, Any]:
        action = asdict(self.action)
        action["low"], action["high"] = _json_bound(self.action.low), _json_bound(self.action.high)
        return {"observation": asdict(self.observation), "action": action}

    @classmethod
    def from_dict(cls, data: Any) -> IOAdapters:
        if not isinstance(data, dict) or set(data) - {"observation", "action"}:
            raise SpecError("io must be a mapping with 'observation' and/or 'action'")
        try:
            action = dict(data.get("action", {}))
            for key in ("low", "high"):
                if action.get(key) is None and key in action:
                    action[key] = -np.inf if key == "low" else np.inf
            return cls(ObservationAdapter(**data.get("observation", {})), ActionAdapter(**action))
        except SpecError:
            raise
        except (TypeError, ValueError) as exc:
            raise SpecError(f"io: {exc}") from None


def _json_bound(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


#: each adapter's option defaults, to tell options a kind ignores that were given
_DEFAULTS = {cls.__name__: {f.name: f.default for f in fields(cls)} for cls in (ObservationAdapter, ActionAdapter)}
