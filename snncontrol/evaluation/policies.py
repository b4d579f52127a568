"""Policies: anything that maps a plant observation to an action, step by step.

`SNNPolicy` runs a controller artifact through its I/O adapters (sense -> adapter -> encode -> SNN -> decode
-> adapter -> act) and records what a plot or an energy report needs. Other controllers (e.g. a reference
PID) implement the same two methods.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from snncontrol.artifacts import Controller
from snncontrol.energy import EnergyReport, energy_report


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
        self.spiking_columns = _spiking_columns(controller)
        self.spikes: list[np.ndarray] = []
        self.reset()

    def reset(self) -> None:
        self.state = self.controller.init_state(self.batch)
        self.spikes = []

    def act(self, observation: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(self.controller.io.observation(np.asarray(observation, dtype=np.float64)))
        out, self.state = self.controller.network.step(self.params, x, self.state)
        if self.record_spikes:
            self.spikes.append(self.state.out[:, self.spiking_columns].numpy().copy())
        return self.controller.io.action(out.double().numpy())

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
