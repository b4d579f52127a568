"""Input validation, staleness and output saturation: the controller node's safety logic as plain functions on
numpy (no ROS), in the spirit of ros2_control's command timeouts.

A control tick is safe to run only if every input has arrived, none is older than `input_timeout_s`, and the
assembled observation is finite and inside [observation_min, observation_max]. Otherwise the node sends the
configured safe command (e.g. zero thrust) in that very tick and warns (throttled, naming the topic); control
resumes on the first good tick. A lost sample (a reading without a valid value, e.g. a Range of NaN or +inf,
REP 117) is missing data, not a fault: its observation elements are marked `held`, pass the checks, and the
network's sample hold carries the loop; the input's age is that of its last valid sample, so the timeout ends
the hold. Commands are always saturated to [output_min, output_max]; a non-finite network output is a fault:
the safe command goes out and the network is reset to rest (`snncontrol_ros.control_core`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

#: Verdicts of a tick: the inputs' (missing, stale, invalid) and the network's own (fault: its output not finite).
OK, MISSING, STALE, INVALID, FAULT = "ok", "missing", "stale", "invalid", "fault"


def _bounds(values: Sequence[float] | None, n: int, fill: float, name: str) -> np.ndarray:
    """Per-element values of setting `name` for `n` commands: empty -> `fill`, one value -> broadcast, n values ->
    as is (ValueError naming the setting otherwise)."""
    arr = np.asarray([] if values is None else values, dtype=np.float64)
    if arr.size == 0:
        return np.full(n, fill)
    if arr.size == 1:
        return np.full(n, float(arr[0]))
    if arr.size != n:
        raise ValueError(f"{name} has {arr.size} values; the controller has {n} output(s) (give "
                         f"{'1' if n == 1 else f'1 or {n}'})")
    return arr


def _observation_bound(values: Sequence[float], name: str, n_obs: int | None) -> np.ndarray | None:
    """One observation bound: None where empty (unbounded); ValueError on NaN or a size other than 1 or `n_obs`."""
    if not len(values):
        return None
    arr = np.asarray(values, dtype=np.float64)
    if np.isnan(arr).any():
        raise ValueError(f"{name} must not be NaN, got {arr.tolist()}")
    if n_obs is not None and arr.size not in (1, n_obs):
        raise ValueError(f"{name} has {arr.size} values; the observation has {n_obs} (give 1 or {n_obs})")
    return arr


@dataclass(frozen=True)
class Verdict:
    """Outcome of the checks of one tick: `status` in (ok, missing, stale, invalid, fault) and why."""

    status: str
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == OK


GOOD = Verdict(OK)


def check_inputs(ages_s: Sequence[float | None], timeout_s: float, names: Sequence[str] = ()) -> Verdict:
    """Each input's age (s since its last valid sample arrived, None if none did) against the timeout; `names`
    (e.g. the topics) name the inputs in the reason ("input <i>" where none is given)."""
    for index, age in enumerate(ages_s):
        if age is None or age > timeout_s:
            name = names[index] if index < len(names) else f"input {index}"
            if age is None:
                return Verdict(MISSING, f"{name} has not arrived")
            return Verdict(STALE, f"{name}: no valid sample for {age:.3f} s (timeout {timeout_s:g} s)")
    return GOOD


def check_observation(
    obs: np.ndarray, low: np.ndarray | None = None, high: np.ndarray | None = None, labels: Sequence[str] = ()
) -> Verdict:
    """Finite and within [low, high] element-wise (bounds broadcast; None: unbounded); `labels` name the
    elements in the reason ("observation[<i>]" where none is given)."""
    obs = np.asarray(obs, dtype=np.float64)
    good = np.isfinite(obs)
    if low is not None:
        good &= obs >= low
    if high is not None:
        good &= obs <= high
    if good.all():  # the every-tick case: no message built
        return GOOD
    i = int(np.flatnonzero(~good)[0])
    label = labels[i] if len(labels) == len(obs) else f"observation[{i}]"
    if not np.isfinite(obs[i]):
        return Verdict(INVALID, f"{label} = {obs[i]} is not finite")
    lo = np.broadcast_to(-np.inf if low is None else low, obs.shape)
    hi = np.broadcast_to(np.inf if high is None else high, obs.shape)
    return Verdict(INVALID, f"{label} = {obs[i]:.4g} is outside [{lo[i]:.4g}, {hi[i]:.4g}]")


@dataclass
class SafetyConfig:
    """Safety settings of a controller with `n_obs` observation values and `n_act` command values."""

    n_act: int
    safe_command: np.ndarray
    output_low: np.ndarray
    output_high: np.ndarray
    input_timeout_s: float = 0.5
    observation_low: np.ndarray | None = None
    observation_high: np.ndarray | None = None
    #: The observation bounds clamped to the finite doubles (1 value or one per element): one pair of comparisons
    #: per tick, `finite_low <= obs <= finite_high`, then rejects NaN and +-inf too (`snncontrol.realtime.GuardedIO`
    #: takes them as they are).
    finite_low: np.ndarray = field(init=False, repr=False)
    finite_high: np.ndarray = field(init=False, repr=False)
    #: The output bounds clamped alike, (low, high): a command inside them is finite.
    finite_output: tuple[np.ndarray, np.ndarray] = field(init=False, repr=False)
    #: (index, low, high): the observation element `index` (a set-point) held to [low, high] in an observation of
    #: any size, beside the bounds above (the controller node's default set-point bound: the observation's size
    #: may be known only at the first reading)
    setpoint_bound: tuple[int, float, float] | None = None

    def __post_init__(self) -> None:
        big = np.finfo(np.float64).max
        self.finite_low = np.maximum(-big, -np.inf if self.observation_low is None else self.observation_low)
        self.finite_high = np.minimum(big, np.inf if self.observation_high is None else self.observation_high)
        self.finite_output = np.maximum(-big, self.output_low), np.minimum(big, self.output_high)

    @classmethod
    def create(
        cls,
        n_act: int,
        safe_command: Sequence[float] = (0.0,),
        output_min: Sequence[float] = (),
        output_max: Sequence[float] = (),
        input_timeout_s: float = 0.5,
        observation_min: Sequence[float] = (),
        observation_max: Sequence[float] = (),
        n_obs: int | None = None,
        setpoint_bound: tuple[int, float, float] | None = None,
    ) -> SafetyConfig:
        """Validated settings (ValueError on inconsistent sizes or ranges); `n_obs`: the observation's size where
        the inputs fix it (each observation bound then has 1 or `n_obs` values); `setpoint_bound`: see the field."""
        safe = _bounds(safe_command, n_act, 0.0, "safe_command")
        low, high = _bounds(output_min, n_act, -np.inf, "output_min"), _bounds(output_max, n_act, np.inf, "output_max")
        if not (high >= low).all():
            raise ValueError(f"output_max must be >= output_min, got [{low}, {high}]")
        if not (np.isfinite(safe).all() and (safe >= low).all() and (safe <= high).all()):
            raise ValueError(f"safe_command {safe.tolist()} must be finite and within the output range")
        if not (math.isfinite(input_timeout_s) and input_timeout_s > 0):
            raise ValueError(f"input_timeout_s must be positive, got {input_timeout_s}")
        obs_low = _observation_bound(observation_min, "observation_min", n_obs)
        obs_high = _observation_bound(observation_max, "observation_max", n_obs)
        if obs_low is not None and obs_high is not None:
            if obs_low.size != obs_high.size and 1 not in (obs_low.size, obs_high.size):
                raise ValueError(f"observation_min has {obs_low.size} values and observation_max {obs_high.size}; "
                                 "give 1 value or one per observation value")
            if not (obs_high >= obs_low).all():
                raise ValueError(f"observation_max must be >= observation_min, got [{obs_low.tolist()}, "
                                 f"{obs_high.tolist()}]")
        if setpoint_bound is not None and not (setpoint_bound[0] >= 0 and setpoint_bound[2] >= setpoint_bound[1]):
            raise ValueError(f"setpoint_bound must be (index >= 0, low, high >= low), got {setpoint_bound}")
        return cls(n_act, safe, low, high, float(input_timeout_s), obs_low, obs_high, setpoint_bound)

    def bounds(self, n_obs: int) -> tuple[np.ndarray, np.ndarray]:
        """The finite observation bounds of an observation of `n_obs` values, one per element, the set-point's
        bound included (ValueError where the bounds do not fit `n_obs`)."""
        low = np.array(np.broadcast_to(self.finite_low, (n_obs,)))
        high = np.array(np.broadcast_to(self.finite_high, (n_obs,)))
        if self.setpoint_bound is not None and self.setpoint_bound[0] < n_obs:
            index, set_low, set_high = self.setpoint_bound
            low[index], high[index] = max(low[index], set_low), min(high[index], set_high)
        return low, high

    def check(
        self,
        obs: np.ndarray | None,
        ages_s: Sequence[float | None],
        names: Sequence[str] = (),
        held: np.ndarray | None = None,
        labels: Sequence[str] = (),
    ) -> Verdict:
        """The tick's verdict: stale/missing inputs first (named by `names`), then the observation's values
        (named by `labels`); elements marked `held` (lost samples the network holds) are not checked."""
        verdict = check_inputs(ages_s, self.input_timeout_s, names)
        if not verdict.ok or obs is None:
            return verdict if not verdict.ok else Verdict(MISSING, "no observation")
        try:
            if held is not None:  # a lost sample stands in for a value inside the bounds
                obs = np.where(held, np.broadcast_to(self.finite_low, np.shape(obs)), obs)
            if ((obs >= self.finite_low) & (obs <= self.finite_high)).all() and self._setpoint_inside(obs, held):
                return GOOD  # (the every-tick case)
            verdict = check_observation(obs, self.observation_low, self.observation_high, labels)  # says what is wrong
            if verdict.ok:  # the set-point's own bound
                index, low, high = self.setpoint_bound  # type: ignore[misc]
                label = labels[index] if len(labels) == np.size(obs) else f"observation[{index}] (the set-point)"
                verdict = Verdict(INVALID, f"{label} = {obs[index]:.4g} is outside [{low:.4g}, {high:.4g}], the "
                                           "range the sensor measures")
            return verdict
        except ValueError:
            return Verdict(INVALID, f"observation has {np.size(obs)} values; the bounds do not fit")

    def _setpoint_inside(self, obs: np.ndarray, held: np.ndarray | None = None) -> bool:
        """Whether the set-point (if bounded, present and not a held lost sample) is inside its bound."""
        if self.setpoint_bound is None or self.setpoint_bound[0] >= np.size(obs):
            return True
        if held is not None and held[self.setpoint_bound[0]]:
            return True
        index, low, high = self.setpoint_bound
        return bool(low <= obs[index] <= high)

    def saturate(self, command: np.ndarray) -> tuple[np.ndarray, bool, bool]:
        """Clip to [output_low, output_high]; a command with any non-finite value (or of the wrong size) becomes
        the safe command. Returns (command, clipped, replaced)."""
        command = np.asarray(command, dtype=np.float64)
        if command.shape != self.safe_command.shape:
            return self.safe_command.copy(), False, True
        low, high = self.finite_output
        if ((command >= low) & (command <= high)).all():  # the every-tick case (finite bounds: finite command)
            return command, False, False
        if not np.isfinite(command).all():
            return self.safe_command.copy(), False, True
        return np.minimum(np.maximum(command, low), high), True, False


@dataclass
class SafetyCounters:
    """How often each verdict occurred (ticks; each failing status counts in the field of its name), the lost
    samples, and whether the safe command is held now and why."""

    missing: int = 0
    stale: int = 0
    invalid: int = 0
    fault: int = 0  # ticks whose network output was not finite (the network was reset)
    saturated: int = 0
    safe_commands: int = 0
    missing_samples: int = 0  # readings that carried no valid value (counted by the node, per message)
    held: int = 0  # good ticks that ran with a lost sample held
    holding_safe: bool = False
    reason: str = ""

    def record(self, verdict: Verdict) -> None:
        if not verdict.ok:
            setattr(self, verdict.status, getattr(self, verdict.status) + 1)
            self.safe_commands += 1
        self.holding_safe = not verdict.ok
        self.reason = verdict.reason


@dataclass
class Throttle:
    """At most one message per `period_s` (on any monotonic clock); counts what it suppressed."""

    period_s: float = 1.0
    _last: float = field(default=-math.inf)
    suppressed: int = 0

    def ready(self, now_s: float) -> bool:
        if now_s - self._last >= self.period_s:
            self._last = now_s
            return True
        self.suppressed += 1
        return False
