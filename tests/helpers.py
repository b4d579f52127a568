"""Small builders shared by the core tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from snncontrol.connections import Connection
from snncontrol.layers import Layer
from snncontrol.network import Network
from snncontrol.neurons.models import NeuronModel
from snncontrol.spec import NetworkSpec


def single_neuron(neuron: NeuronModel, **fixed: Any) -> tuple[Network, Any]:
    """One neuron whose input current is the network input (weight fixed at 1); all parameters fixed."""
    layer = Layer("cell", 1, neuron, input=Connection(pattern="one_to_one"), fixed={"w_in": 1.0, **fixed})
    net = Network(NetworkSpec(n_inputs=1, layers=(layer,)), dtype=torch.float64)
    return net, net.params(np.zeros((1, 0)))


def run_trace(neuron: NeuronModel, inputs: list[float], backend: str = "auto", **fixed: Any) -> dict[str, np.ndarray]:
    """Drive a single neuron with `inputs` (one per step); return its per-step state fields."""
    net, params = single_neuron(neuron, **fixed)
    state = net.init_state(1)
    record: dict[str, list[float]] = {k: [] for k in ("i", "v", "a", "r", "out")}
    for x in inputs:
        _, state = net.step(params, [[x]], state, backend=backend)
        for key, values in record.items():
            values.append(float(getattr(state, key)[0, 0]))
    return {k: np.array(v) for k, v in record.items()}
