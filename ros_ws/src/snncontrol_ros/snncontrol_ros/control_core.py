"""The controller node's tick as a plain object (no ROS): safety checks -> (adaptive) SNN step -> saturation.

`ControlCore.tick(obs, ages)` takes the assembled plant observation (the vector the artifact's observation
adapter expects, e.g. [measured altitude, set-point] for the blimp) and each input's age, and returns the
command to send. The SNN runs through `snncontrol.policy.SNNPolicy`, exactly as in the
in-process closed loop, so a ROS run and `fly_blimp` compute the same commands from the same observations.
Every tick of a network that the real-time stepper runs (without the adaptive schedule) takes the compiled path
`Stepper.act` (checks, adapters, SNN and saturation in one call; the same numbers, tests/ros/test_core_logic.py); a
tick whose inputs are stale, missing or invalid falls back to the checks below, which say what is wrong.

Lost samples (observation elements marked `held`: a reading without a valid value) are missing data, not faults:
the tick runs on the numpy path with NaN in their place, which the network's `SampleHoldEncoder` replaces by its
last finite input (the same mechanism as the adapter's `valid` range, snncontrol/adapters.py); a network without
a sample hold gets the last observation it stepped on instead. The caller ends the hold with the input's age
(that of its last valid sample) and `input_timeout_s`. A finite reading that makes a network input beyond the
network's float range (e.g. 1e300 m) is no lost sample but a bad one: the safe command at once, with or without a
sample hold (held, its input's age would be renewed with every such reading, and the hold never end).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from snncontrol.adapters import IOAdapters
from snncontrol.artifacts import Controller, load_controller
from snncontrol.controllers import resolve
from snncontrol.errors import ArtifactError
from snncontrol.policy import SNNPolicy
from snncontrol.realtime import REJECTED, REPLACED, STEPPED, GuardedIO
from snncontrol_ros.adaptive import AdaptiveConfig, AdaptiveScheduler
from snncontrol_ros.safety import (
    FAULT,
    GOOD,
    INVALID,
    MISSING,
    OK,
    STALE,
    SafetyConfig,
    SafetyCounters,
    Verdict,
    check_inputs,
)

#: observation sizes whose checks and compiled adapters are kept (an input whose size keeps changing would grow
#: them without bound)
MAX_CHECKED_SIZES = 16


def load_artifact(name: str) -> Controller:
    """Load and validate a path or "shipped:NAME" (`snncontrol.controllers.resolve`); raises ArtifactError (one
    line) on any problem, including an unusable network."""
    if not name:
        raise ArtifactError("parameter 'artifact' is empty: give a controller artifact directory or shipped:NAME")
    return load_controller(resolve(name))


def observation_size(controller: Controller) -> int | None:
    """The number of observation values the controller's adapter takes, where it fixes one (identity: the network's
    inputs; setpoint_error: up to the higher of its two indices); None for select (any size that holds its
    indices)."""
    observation = controller.io.observation
    if observation.kind == "identity":
        return controller.spec.n_inputs
    if observation.kind == "setpoint_error":
        return max(observation.measurement, observation.setpoint) + 1
    return None


@dataclass
class TickResult:
    command: np.ndarray
    verdict: Verdict
    stepped: bool  # the SNN ran this tick
    saturated: bool
    held: bool = False  # a lost sample was held


class ControlCore:
    def __init__(
        self,
        controller: Controller,
        safety: SafetyConfig,
        adaptive: AdaptiveConfig | None = None,
        compiled: bool = True,
    ) -> None:
        """`compiled=False`: every tick through the numpy path (the reference the compiled one is tested on)."""
        if safety.n_act != controller.spec.n_outputs:
            raise ValueError(
                f"the controller has {controller.spec.n_outputs} output(s) but the safety settings {safety.n_act}"
            )
        self.controller = controller
        self.safety = safety
        self.policy = SNNPolicy.of(controller)
        if self.policy.stepper is not None:  # load the compiled loop now (configure), not in the first tick
            self.policy.stepper.step(np.zeros(controller.spec.n_inputs))
        self.adaptive = AdaptiveScheduler(adaptive, controller.spec.n_inputs) if adaptive else None
        self.names: Sequence[str] = ()  # the inputs, as the ages of a tick come (e.g. topics), for the reasons
        self.labels: Sequence[str] = ()  # the observation's elements, for the reasons
        self.counters = SafetyCounters()
        self._sizes: dict[int, str | None] = {}
        self._guarded: dict[int, GuardedIO | None] = {}  # n_obs -> the compiled path's packed adapters and bounds
        self._compiled = compiled and self.policy.stepper is not None and self.adaptive is None
        if self._compiled:  # load (or compile) the compiled tick now, not in a control tick: it does not depend on
            # sizes, so any adapters that fit will do; a NaN observation is rejected and leaves the state alone
            n_in, n_out = controller.spec.n_inputs, controller.spec.n_outputs
            warm = GuardedIO(IOAdapters(), n_in, n_in, n_out, -np.inf, np.inf, -np.inf, np.inf, 0.0)
            self.policy.stepper.act(np.full(n_in, np.nan), warm)  # type: ignore[union-attr]
        self.reset()

    def reset(self) -> None:
        """Back to the resting state (on activation): SNN state, adaptive schedule, held command."""
        self.policy.reset()
        if self.adaptive is not None:
            self.adaptive.reset()
        self.held = self.safety.safe_command.copy()
        self.last_obs: np.ndarray | None = None  # what the SNN last stepped on (kept without a sample hold)
        self.ticks = 0
        self.snn_steps = 0

    def network_input(self, obs: np.ndarray) -> np.ndarray:
        return np.asarray(self.controller.io.observation(np.asarray(obs, np.float64)[None]))[0]

    def valid_range(self, n_obs: int) -> tuple[np.ndarray, np.ndarray]:
        """Per observation element, the adapter's `valid` [low, high) on the elements it bounds (`valid_elements`;
        -inf, inf elsewhere: a select's rates): a value outside it is a lost sample."""
        low, high = np.full(n_obs, -np.inf), np.full(n_obs, np.inf)
        observation = self.controller.io.observation
        if observation.valid is not None:
            read = [i for i in observation.valid_elements(n_obs) if 0 <= i < n_obs]
            low[read], high[read] = observation.valid
        return low, high

    def read_elements(self, n_obs: int) -> np.ndarray:
        """Per observation element, whether the adapter reads it (identity: all; select: its indices and rates;
        setpoint_error: its measurement and set-point)."""
        read = np.zeros(n_obs, dtype=bool)
        read[[i for i in self.controller.io.observation.reads(n_obs) if 0 <= i < n_obs]] = True
        return read

    def check_size(self, n_obs: int) -> str | None:
        """None if an observation of `n_obs` values fits the artifact's adapter and network, else why not."""
        if n_obs not in self._sizes:
            if len(self._sizes) >= MAX_CHECKED_SIZES:  # an input whose size keeps changing (its ticks say so)
                self._sizes.clear()
            self._sizes[n_obs] = self._check_size(n_obs)
        return self._sizes[n_obs]

    def _check_size(self, n_obs: int) -> str | None:
        try:
            n_in = self.controller.io.observation.n_inputs(n_obs)
        except Exception as exc:  # SpecError from the adapter
            return str(exc)
        if n_in != self.controller.spec.n_inputs:
            return (
                f"the observation adapter makes {n_in} network input(s) from {n_obs} observation value(s); "
                f"the network takes {self.controller.spec.n_inputs}"
            )
        return None

    def guarded_io(self, n_obs: int) -> GuardedIO | None:
        """The compiled path's adapters and bounds for observations of `n_obs` values (None: not taken)."""
        if n_obs not in self._guarded:
            if len(self._guarded) >= MAX_CHECKED_SIZES:
                self._guarded.clear()
            self._guarded[n_obs] = None
            if self._compiled and self.check_size(n_obs) is None:
                safety, c = self.safety, self.controller
                try:
                    guarded = GuardedIO(
                        c.io, n_obs, c.spec.n_inputs, c.spec.n_outputs, *safety.bounds(n_obs),
                        *safety.finite_output, safety.safe_command,
                    )
                except ValueError:  # bounds or adapter coefficients of another size: the numpy path's ticks
                    return None  # say what is wrong, or broadcast as numpy does
                self._guarded[n_obs] = guarded
        return self._guarded[n_obs]

    def tick(
        self,
        obs: np.ndarray | None,
        ages_s: Sequence[float | None],
        problem: str = "",
        held: np.ndarray | None = None,
    ) -> TickResult:
        """One control tick: `problem` is what the input messages themselves reported (e.g. a range reading
        below the sensor's range), "" if nothing; `held` marks the observation elements that are lost samples
        (NaN or any value: see the module)."""
        self.ticks += 1
        holding = held is not None and bool(held.any())
        if not problem and not holding and isinstance(obs, np.ndarray) and obs.ndim == 1:
            guarded = self.guarded_io(len(obs))
            if guarded is not None and check_inputs(ages_s, self.safety.input_timeout_s) is GOOD:
                guarded.obs[:] = obs
                outcome = self.policy.stepper.act(guarded.obs, guarded)  # type: ignore[union-attr]
                if outcome == REPLACED:
                    return self._fault()
                if outcome != REJECTED:  # (rejected: the checks below say why)
                    self.counters.record(GOOD)
                    if not self.policy.holds_samples:
                        self.last_obs = obs.copy()
                    return self._stepped(guarded.command.copy(), outcome != STEPPED)
        verdict = self.safety.check(obs, ages_s, self.names, held if holding else None, self.labels)
        if problem and verdict.status in (OK, INVALID, MISSING):  # what the message said is the first thing wrong
            verdict = Verdict(INVALID, problem)  # (MISSING too: a refused reading is one, not none)
        elif problem and verdict.status == STALE:
            verdict = Verdict(STALE, f"{verdict.reason}; the latest: {problem}")
        if verdict.ok:
            size_problem = self.check_size(len(obs))  # type: ignore[arg-type]
            if size_problem:
                verdict = Verdict(INVALID, size_problem)
            else:
                if holding:
                    obs = self._with_held(obs, held)  # type: ignore[arg-type]
                verdict = self._readable(obs, held if holding else None)  # type: ignore[arg-type]
        self.counters.record(verdict)
        if not verdict.ok:
            self.held = self.safety.safe_command.copy()
            if self.adaptive is not None:  # the safe command went out: the first good tick steps again
                self.adaptive.interrupted()
            return TickResult(self.held.copy(), verdict, False, False)
        if holding and self.adaptive is not None:  # nothing new to schedule on: the held command goes out again
            self.counters.held += 1
            return TickResult(self.held.copy(), verdict, False, False, True)
        if not self.policy.holds_samples:  # (held samples filled in: what it steps on)
            self.last_obs = np.array(obs, np.float64)
        step = True
        x = None
        if self.adaptive is not None:
            x = self.network_input(obs)  # type: ignore[arg-type]
            step = self.adaptive.should_step(x)
        if not step:
            return TickResult(self.held.copy(), verdict, False, False)
        spikes_before = self.policy.activity()[0] if self.adaptive is not None else 0.0
        raw = self.policy.act(obs[None])[0]  # type: ignore[index]
        command, clipped, replaced = self.safety.saturate(raw)
        if replaced:
            return self._fault()
        if self.adaptive is not None:  # spikes of this step (for the quiet test), change of the command
            spikes = self.policy.activity()[0] - spikes_before
            change = float(np.max(np.abs(command - self.held), initial=0.0))
            self.adaptive.stepped(x, change, spikes)  # type: ignore[arg-type]
        return self._stepped(command, clipped, holding)

    def _fault(self) -> TickResult:
        """The tick in which the network's output was not finite: the safe command, and the network back at rest
        (its state overflowed; the verdict, not the inputs, says so)."""
        verdict = Verdict(FAULT, "the network's output is not finite (its state overflowed, e.g. on a huge "
                                 "reading): network reset to rest")
        self.counters.record(verdict)
        self.policy.reset()
        if self.adaptive is not None:
            self.adaptive.reset()
        self.held = self.safety.safe_command.copy()
        self.last_obs = None  # (what a network without a sample hold fills lost samples with: not the faulting one)
        return TickResult(self.held.copy(), verdict, False, False)

    def _with_held(self, obs: np.ndarray, held: np.ndarray) -> np.ndarray:
        """The observation the network steps on: NaN where a sample was lost (its sample hold carries it), or,
        for a network without one, the last observation it stepped on there (NaN where it has none yet)."""
        obs = np.where(held, np.nan, obs)
        if not self.policy.holds_samples and self.last_obs is not None and self.last_obs.shape == obs.shape:
            obs = np.where(held, self.last_obs, obs)
        return obs

    def _readable(self, obs: np.ndarray, held: np.ndarray | None) -> Verdict:
        """GOOD if the network can read the inputs `obs` makes, else why not (e.g. a value inside the bounds that
        overflows the network's float32, which a sample hold would carry as a lost sample while the input's age
        kept being renewed; or, without a sample hold, a lost sample before any good one). Elements marked `held`
        are lost samples that a sample hold carries: a value inside the adapter's valid range stands in for them."""
        if held is not None and self.policy.holds_samples:
            low, high = self.valid_range(len(obs))
            obs = np.where(held, np.clip(0.0, low, np.nextafter(high, -np.inf)), obs)
        x = self.network_input(obs)[None]
        if self.policy.holds_samples:  # NaN: a value outside the adapter's valid range, a lost sample it carries
            x = np.where(np.isnan(x), 0.0, x)
        channels = self.policy.unreadable(x)
        if not channels:
            return GOOD
        return Verdict(INVALID, f"the observation makes network input(s) {channels} that the network cannot read "
                                f"(not finite, or beyond its +-{self.policy.input_limit:.3g})")

    def _stepped(self, command: np.ndarray, saturated: bool, held: bool = False) -> TickResult:
        """The bookkeeping of a tick in which the SNN stepped and made `command` (`held`: over a lost sample)."""
        self.snn_steps += 1
        self.counters.saturated += saturated
        self.counters.held += held
        self.held = command  # never changed in place: the result may share it
        return TickResult(command, GOOD, True, saturated, held)
