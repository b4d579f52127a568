"""Real-time stepping: one individual (P = 1) of a network, one step per call, on numpy arrays only.

`Stepper(network, params)` keeps the packed state as plain numpy arrays (`StepperState`, public, updated in
place) next to preallocated input and output buffers; `out = stepper.step(x)` writes x into the input buffer
and runs the compiled loop (`snncontrol.compiled`, which executes the neuron equations of
`snncontrol.neurons.equations`) on those arrays: no torch, no clones, no conversion of the state, so a control
tick (e.g. a ROS callback) costs the loop itself plus a few microseconds. It computes bit for bit what
`Network.step` computes, spike and SOP counters included (tests/test_realtime.py), and `network_state()` hands
the state over as a `NetworkState` for `snncontrol.energy` and diagnostics. `stepper.act(obs, guarded)` is a
whole control tick in one compiled call (`snncontrol.compiled.run_tick`): bounds check, the adapters packed by
`GuardedIO` (`snncontrol.tick_layout`), the step, saturation; the same numbers as `snncontrol.policy.SNNPolicy.act`
(tests/test_policy.py).

Scope: networks that the compiled loop runs without torch blocks around it, i.e. without an encoder or decoder
block (`spec.encoder` / `spec.decoder`; the encoding and readout layers of `snncontrol.layers` are layers and
are covered) other than the sample hold of missing inputs (`SampleHoldEncoder`, done here in numpy), and
without synaptic delays; `unsupported(network)` says why a network does not qualify.
Units: those of the network (inputs as `spec.n_inputs` values, one step is `spec.dt` s).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

from snncontrol import compiled, tick_layout
from snncontrol.adapters import IOAdapters
from snncontrol.encoders import SampleHoldEncoder
from snncontrol.errors import SpecError
from snncontrol.network import Network, NetworkState, Params
from snncontrol.tick_layout import CLIPPED, REJECTED, REPLACED, STEPPED

__all__ = ["CLIPPED", "REJECTED", "REPLACED", "STEPPED", "GuardedIO", "Stepper", "StepperState", "unsupported"]


class StepperState(NamedTuple):
    """The state of one individual, updated in place by `Stepper.step`: neuron fields [1, N] in the network
    dtype (as in `NetworkState`), cumulative spikes per layer [1, L] and SOPs [1] (float64, exact counts) and
    the steps taken since reset ([] int64)."""

    i: np.ndarray
    v: np.ndarray
    a: np.ndarray
    r: np.ndarray
    out: np.ndarray
    spikes: np.ndarray
    sops: np.ndarray
    steps: np.ndarray


def unsupported(network: Network) -> str | None:
    """Why the stepper cannot run `network` (None: it can)."""
    spec = network.spec
    if spec.encoder is not None and not isinstance(spec.encoder, SampleHoldEncoder):
        return f"it has an encoder block ({spec.encoder.kind})"
    if spec.decoder is not None:
        return f"it has a decoder block ({spec.decoder.kind})"
    if network.has_delays:
        return "it has synaptic delays"
    return None


class Stepper:
    """One individual of `network` with parameters `params` (P = 1), stepped without torch."""

    def __init__(self, network: Network, params: Params) -> None:
        problem = unsupported(network)
        if problem is not None:
            raise ValueError(f"the real-time stepper cannot run {network.spec.name or 'this network'}: {problem}")
        network.check_params(params, 1)
        self.network = network
        self.weights = params.weights.numpy().copy()  # a snapshot: later changes to `params` do not leak in
        self.neurons = params.neurons.numpy().copy()
        self.dtype = self.weights.dtype
        self.n_inputs = network.spec.n_inputs
        self._x = np.zeros((1, 1, self.n_inputs), self.dtype)  # [T = 1, P = 1, n_inputs]
        self._x_values = self._x.reshape(-1)  # a view of the same buffer
        self._y = np.zeros((1, 1, network.layout[-1].n), self.dtype)
        self._hold = isinstance(network.spec.encoder, SampleHoldEncoder)
        self._loop = compiled.Specialized(compiled.run_loop)
        self._tick = compiled.Specialized(compiled.run_tick)
        self.reset()

    def reset(self) -> None:
        """Back to the resting state of `Network.init_state` (zeros; counters cleared)."""
        n, layers = self.network.n_neurons, len(self.network.layout)
        fields = np.zeros((5, 1, n), self.dtype)  # i, v, a, r, out
        self.state = StepperState(*fields, np.zeros((1, layers)), np.zeros(1), np.zeros((), np.int64))
        self._held = np.zeros(self.n_inputs, self.dtype)  # the sample hold's last finite inputs
        self._buffers = compiled.TickBuffers(self._x, self._y, self._held, self._hold)

    def step(self, x: Any) -> np.ndarray:
        """One step of dt: x (n_inputs values, e.g. [1, n_inputs]) -> out [1, n_outputs] in the network dtype
        (a new array). Raises ValueError on a wrong number of inputs."""
        x = np.asarray(x)
        if x.size != self.n_inputs:
            raise ValueError(f"the stepper takes {self.n_inputs} input value(s), got shape {x.shape}")
        with np.errstate(over="ignore"):  # a value beyond the dtype's range is inf, a lost sample to the hold
            self._x_values[:] = x.ravel()  # cast to the network dtype as torch.as_tensor(x, dtype) would
        if self._hold:  # SampleHoldEncoder: a missing (non-finite) input repeats its last finite value
            np.copyto(self._x_values, self._held, where=~np.isfinite(self._x_values))
            self._held[:] = self._x_values
        self._loop(self.network.table, self.weights, self.neurons, self.state, self._x, self._y)
        self.state.steps[()] += 1
        return self._y[0].copy()

    def act(self, obs: np.ndarray, guarded: GuardedIO) -> int:
        """One control tick on a float64 observation of `guarded.n_obs` values: the outcome (STEPPED, CLIPPED,
        REPLACED, REJECTED); the command (float64 [n_outputs]) is written into `guarded.command`. Raises
        ValueError on an observation or a `GuardedIO` that does not fit (the compiled tick does not check)."""
        if obs.shape != (guarded.n_obs,) or obs.dtype != np.float64 or not obs.flags.c_contiguous:
            raise ValueError(
                f"the tick takes a contiguous float64 observation of {guarded.n_obs} values, got "
                f"{obs.dtype} {obs.shape}"
            )
        if (guarded.n_inputs, guarded.command.shape[0]) != (self.n_inputs, self._y.shape[2]):
            raise ValueError(
                f"the GuardedIO is for {guarded.n_inputs} input(s) and {guarded.command.shape[0]} "
                f"output(s); the network has {self.n_inputs} and {self._y.shape[2]}"
            )
        return self._tick(
            obs,
            guarded.packed,
            guarded.command,
            self.network.table,
            self.weights,
            self.neurons,
            self.state,
            self._buffers,
        )

    def network_state(self) -> NetworkState:
        """The state as a `NetworkState` of torch tensors (copies), as `Network.step` would have left it."""
        state = self.network.init_state(1)
        arrays = {name: torch.from_numpy(getattr(self.state, name).copy()) for name in compiled.STATE_FIELDS}
        if self._hold:
            arrays["encoder"] = (torch.from_numpy(self._held.copy()).unsqueeze(0),)
        return state._replace(**arrays, steps=torch.tensor(int(self.state.steps)))


class GuardedIO:
    """A controller's adapters and the bounds of its tick, packed for `Stepper.act` (`tick_layout.pack`), for
    observations of `n_obs` values: observations outside [obs_low, obs_high] (or not finite) reject the tick;
    commands are saturated to [out_low, out_high], and a non-finite one becomes `safe`. Bounds have 1 value
    (broadcast) or one per element; infinite ones are clamped to the finite doubles, so that one pair of
    comparisons rejects NaN and +-inf too. Raises SpecError (a ValueError) when the adapters or bounds do not fit
    n_obs / the network."""

    def __init__(
        self,
        io: IOAdapters,
        n_obs: int,
        n_inputs: int,
        n_outputs: int,
        obs_low: Sequence[float] | np.ndarray,
        obs_high: Sequence[float] | np.ndarray,
        out_low: Sequence[float] | np.ndarray,
        out_high: Sequence[float] | np.ndarray,
        safe: Sequence[float] | np.ndarray,
    ) -> None:
        self.n_obs, self.n_inputs = n_obs, n_inputs
        self.packed = tick_layout.pack(io, n_obs, n_inputs, n_outputs, obs_low, obs_high, out_low, out_high, safe)
        at = tick_layout.float_blocks(n_obs, n_inputs, n_outputs)
        floats = self.packed.floats
        low, high, fallback = floats[at.out_low : at.out_high], floats[at.out_high : at.safe], floats[at.safe : at.end]
        inside = np.all(np.isfinite(fallback)) and np.all((low <= fallback) & (fallback <= high))
        if not (np.all(low <= high) and inside):
            # (a NaN or out-of-bounds safe command made a rejected tick command NaN or beyond the bounds)
            raise SpecError(f"the safe command {fallback.tolist()} must be finite and within the command bounds "
                            f"[{low.tolist()}, {high.tolist()}] (low <= high)")
        self.ints, self.floats = self.packed
        self.obs = np.zeros(n_obs)  # an input buffer for callers (float64, contiguous, writable)
        self.command = np.zeros(n_outputs)
