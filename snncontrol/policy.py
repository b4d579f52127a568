"""The one control step of the project: observation -> observation adapter -> network step -> action adapter.

sense -> [observation adapter] -> encode -> SNN -> decode -> [action adapter] -> act, for P copies at once.
`SNNPolicy.act` is the only place that chain is written: closed-loop fitness (`evolution.fitness.closed_loop`),
swimming (`snncontrol.evaluation.swimming`), blimp flights and reports (`snncontrol.evaluation`), videos
(`snncontrol eval-swimmer --video`) and the ROS 2 controller node (`snncontrol_ros.control_core.ControlCore`)
all step their controllers through it. The compiled control tick (`snncontrol.realtime.Stepper.act`, P = 1) is the same
step compiled, with the node's input checks and output saturation around it; tests/test_policy.py holds the
two equal bit for bit.

One copy (P = 1, e.g. a ROS control tick) steps through the numpy-only `snncontrol.realtime.Stepper` when the
network allows it, a population through `Network.step`; both compute the same numbers
(tests/test_realtime.py). Units are the plant's (observations in, actions out) and one step is `spec.dt` s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import torch

from snncontrol.adapters import IOAdapters
from snncontrol.artifacts import Controller
from snncontrol.encoders import SampleHoldEncoder
from snncontrol.energy import EnergyReport, energy_report
from snncontrol.errors import SnnControlError, SpecError, listed
from snncontrol.network import Network, NetworkState, Params
from snncontrol.params import check_copies
from snncontrol.realtime import Stepper, unsupported


class Policy(Protocol):
    """Anything that maps plant observations of P copies to their actions, step by step (an SNN, a PID), one step
    every `dt` s (the plant it flies must be stepped at that period)."""

    @property
    def dt(self) -> float: ...

    def reset(self) -> None: ...

    def act(self, observation: np.ndarray) -> np.ndarray:
        """[P, n_obs] -> [P, n_actions]."""
        ...


class SNNPolicy:
    """A network with its parameters for P copies (P = the parameters' leading dimension) and the I/O adapters
    that connect it to a plant; records what a plot or an energy report needs."""

    def __init__(self, network: Network, params: Params, io: IOAdapters, record_spikes: bool = False) -> None:
        self.network, self.params, self.io = network, params, io
        self.batch = int(params.weights.shape[0])
        self.record_spikes = record_spikes
        realtime = self.batch == 1 and unsupported(network) is None
        self.stepper: Stepper | None = Stepper(network, params) if realtime else None
        self.spiking_columns = _spiking_columns(network)
        self.holds_samples = isinstance(network.spec.encoder, SampleHoldEncoder)
        #: the largest input magnitude the network's float type holds (float32: 3.4e38); beyond it a value
        #: would become inf in the network, and its membranes NaN for good
        self.input_limit = float(torch.finfo(network.dtype).max)
        self.spikes: list[np.ndarray] = []
        self.reset()

    @classmethod
    def of(cls, controller: Controller, batch: int = 1, record_spikes: bool = False) -> SNNPolicy:
        """A controller artifact as a policy for `batch` copies of a plant (e.g. one per randomized plant)."""
        params = controller.population_params(batch) if check_copies(batch) > 1 else controller.params
        return cls(controller.network, params, controller.io, record_spikes)

    @property
    def dt(self) -> float:
        """The network's step (s): one `act` per step."""
        return self.network.spec.dt

    def reset(self) -> None:
        """Back to the resting state (every copy); recorded spikes are cleared."""
        if self.stepper is not None:
            self.stepper.reset()
        else:
            self._state = self.network.init_state(self.batch)
        self.spikes = []

    @property
    def state(self) -> NetworkState:
        """The network state since the last reset (on the real-time path, a copy as torch tensors)."""
        return self._state if self.stepper is None else self.stepper.network_state()

    def activity(self) -> tuple[float, float]:
        """(spikes, SOPs) summed over the population since the last reset; cheap enough for every tick."""
        spikes, sops = self.counters()
        return float(spikes.sum()), float(sops.sum())

    def counters(self) -> tuple[np.ndarray, np.ndarray]:
        """(spikes per layer [P, L], SOPs [P]) of each copy since the last reset: float64 copies, cheap enough
        for every step (the network state itself is not copied)."""
        if self.stepper is not None:
            return self.stepper.state.spikes.copy(), self.stepper.state.sops.copy()
        return self._state.spikes.numpy().copy(), self._state.sops.numpy().copy()

    def act(self, observation: Any, extra_inputs: Any = None) -> np.ndarray:
        """One step of every copy: observations [P, n_obs] (plant units) -> actions [P, n_actions] (float64).
        `extra_inputs` ([n_extra] or [P, n_extra]) are appended to the adapted observation as further network
        inputs, as they are (e.g. an NCAP's command channels, which `snncontrol.controllers.ncap.with_commands`
        makes from its speed and turn commands). A network whose values overflow (e.g. a recurrent leaky
        integrator with gain above 1) gives inf / NaN actions: the ROS node sends its safe command instead, a
        closed-loop fitness scores that genome NaN, and evaluations stop on them (`finite_actions`)."""
        return self.act_on_inputs(self.inputs(observation, extra_inputs))

    def inputs(self, observation: Any, extra_inputs: Any = None) -> np.ndarray:
        """The network inputs [P, n_inputs] of observations [P, n_obs]: the observation adapter's output, then
        `extra_inputs` (see `act`). A value beyond the network's float range (`input_limit`) is NaN, a lost
        sample, as one outside the adapter's valid range."""
        x = self.io.observation(np.asarray(observation, dtype=np.float64))
        if extra_inputs is not None:
            extra = np.asarray(extra_inputs, dtype=np.float64)
            x = np.concatenate([x, np.broadcast_to(extra, (*x.shape[:-1], extra.shape[-1]))], axis=-1)
        return np.where(np.abs(x) <= self.input_limit, x, np.nan)

    def unreadable(self, x: np.ndarray) -> list[int]:
        """The input channels (columns of x [P, n_inputs]) that hold a value the network cannot read in any
        copy: NaN, inf, or beyond its float range (`input_limit`)."""
        bad = ~(np.abs(np.atleast_2d(x)) <= self.input_limit)
        return sorted({int(c) for c in np.nonzero(bad)[1]})

    def act_on_inputs(self, x: np.ndarray) -> np.ndarray:
        """One step of every copy from its network inputs [P, n_inputs] (`inputs`) -> actions [P, n_actions]."""
        if not self.holds_samples and (channels := self.unreadable(x)):
            # one NaN (or a value that overflows the network's floats) turns the membranes it reaches NaN, which
            # never fire again until a reset: refuse it
            raise SpecError(f"network input(s) {channels} not finite (NaN, inf, or beyond the network's "
                            f"+-{self.input_limit:.3g}) and the network holds no samples (a sample-hold encoder "
                            "carries lost ones): give finite observations")
        if self.stepper is not None:
            out = self.stepper.step(x)
            neurons = self.stepper.state.out
        else:
            out_t, self._state = self.network.step(self.params, torch.as_tensor(x), self._state)
            out, neurons = out_t.numpy(), self._state.out.numpy()
        if self.record_spikes:
            self.spikes.append(neurons[:, self.spiking_columns])  # integer indexing: a copy
        return np.asarray(self.io.action(out.astype(np.float64)), dtype=np.float64)

    def energy(self) -> EnergyReport:
        return energy_report(self.network, self.state)


def finite_actions(actions: np.ndarray, time_s: float, what: str = "copy", names: Sequence[Any] = ()) -> np.ndarray:
    """`actions` [P, n_actions] as given if every value is finite, else a one-line error naming the copies (`what`,
    e.g. "plant seed", each by its entry of `names` where given, else its index) that got a non-finite command at
    `time_s` (s): an evaluation must not fly on, or score, a controller whose output broke."""
    bad = ~np.isfinite(actions).reshape(len(actions), -1).all(axis=1)
    if bad.any():
        which = [names[i] if len(names) == len(actions) else i for i in np.flatnonzero(bad).tolist()]
        raise SnnControlError(f"the controller's command is not finite (inf or NaN) at t = {time_s:.2f} s for "
                              f"{what} {listed(which)}: its "
                              "network overflows (a value beyond its float range), so there is no result to report")
    return actions


def _spiking_columns(network: Network) -> np.ndarray:
    """Indices of the spiking neurons in the packed state (for rasters)."""
    columns = [
        np.arange(lay.neuron_offset, lay.neuron_offset + lay.n)
        for layer, lay in zip(network.spec.layers, network.layout, strict=True)
        if layer.neuron.spiking
    ]
    return np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
