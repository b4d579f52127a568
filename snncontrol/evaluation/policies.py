"""Policies: anything that maps a plant observation to an action, step by step.

`SNNPolicy` runs a controller artifact through its I/O adapters (sense -> adapter -> encode -> SNN -> decode
-> adapter -> act) and records what a plot or an energy report needs. One copy (P = 1, e.g. a ROS control
tick) steps through the numpy-only `snncontrol.realtime.Stepper` when the network allows it, a population
through `Network.step`; both compute the same numbers. Other controllers (e.g. a reference PID) implement the
same two methods.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from snncontrol.artifacts import Controller
from snncontrol.energy import EnergyReport, energy_report
from snncontrol.network import NetworkState
from snncontrol.realtime import Stepper, unsupported


class Policy(Protocol):
    def reset(self) -> None: ...

    def act(self, observation: np.ndarray) -> np.ndarray:
        """[P, n_obs] -> [P, n_actions]."""
        ...


class SNNPolicy:
    """A controller artifact as a policy for P copies of a plant (P = 1 by default)."""

    def __init__(self, controller: Controller, batch: int = 1, record_spikes: bool = False) -> None:
        self.controller = controller
        self.batch = batch
        self.record_spikes = record_spikes
        self.params = controller.population_params(batch) if batch > 1 else controller.params
        realtime = batch == 1 and unsupported(controller.network) is None
        self.stepper: Stepper | None = Stepper(controller.network, self.params) if realtime else None
        self.spiking_columns = _spiking_columns(controller)
        self.spikes: list[np.ndarray] = []
        self.reset()

    def reset(self) -> None:
        if self.stepper is not None:
            self.stepper.reset()
        else:
            self._state = self.controller.init_state(self.batch)
        self.spikes = []

    @property
    def state(self) -> NetworkState:
        """The network state since the last reset (on the real-time path, a copy as torch tensors)."""
        return self._state if self.stepper is None else self.stepper.network_state()

    def activity(self) -> tuple[float, float]:
        """(spikes, SOPs) summed over the population since the last reset; cheap enough for every tick."""
        if self.stepper is not None:
            return float(self.stepper.state.spikes.sum()), float(self.stepper.state.sops.sum())
        return float(self._state.spikes.sum()), float(self._state.sops.sum())

    def act(self, observation: np.ndarray) -> np.ndarray:
        x = self.controller.io.observation(np.asarray(observation, dtype=np.float64))
        if self.stepper is not None:
            out = self.stepper.step(x)
            neurons = self.stepper.state.out
        else:
            out_t, self._state = self.controller.network.step(self.params, torch.as_tensor(x), self._state)
            out, neurons = out_t.numpy(), self._state.out.numpy()
        if self.record_spikes:
            self.spikes.append(neurons[:, self.spiking_columns])  # integer indexing: a copy
        return self.controller.io.action(out.astype(np.float64))

    def energy(self) -> EnergyReport:
        return energy_report(self.controller.network, self.state)


def _spiking_columns(controller: Controller) -> np.ndarray:
    """Indices of the spiking neurons in the packed state (for rasters)."""
    net = controller.network
    columns = [
        np.arange(lay.neuron_offset, lay.neuron_offset + lay.n)
        for layer, lay in zip(net.spec.layers, net.layout, strict=True)
        if layer.neuron.spiking
    ]
    return np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
