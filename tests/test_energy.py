"""Spikes, SOPs and energy estimate against hand counts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snncontrol.connections import Connection
from snncontrol.encoders import SendOnDeltaEncoder
from snncontrol.energy import E_AC_J, E_MAC_J, energy_report
from snncontrol.layers import Layer
from snncontrol.network import Network
from snncontrol.neurons import LIF, LeakyIntegrator
from snncontrol.spec import NetworkSpec


def test_sops_count_spikes_times_fan_out_and_macs_count_real_valued_synapses() -> None:
    # 2 real inputs -> 2 LIF (one-to-one, fire whenever input > 1) -> 3 LI (dense 2x3)
    spec = NetworkSpec(
        n_inputs=2,
        dt=0.01,
        layers=(
            Layer(
                "spk",
                2,
                LIF(synaptic=False, reset="hard"),
                input=Connection(pattern="one_to_one"),
                fixed={"w_in": 1.0, "decay_mem": 0.0, "theta": 1.0},
            ),
            Layer("out", 3, LeakyIntegrator(), fixed={"w_in": 0.5, "decay_mem": 0.0}),
        ),
    )
    net = Network(spec, dtype=torch.float64)
    xs = torch.tensor([[[2.0, 0.0]], [[2.0, 2.0]], [[0.0, 0.0]], [[0.0, 2.0]]], dtype=torch.float64)
    for backend in ("reference", "compiled"):
        _, state = net.rollout(net.params(np.zeros((1, 0))), xs, net.init_state(1), backend=backend)
        report = energy_report(net, state)
        assert report.spikes.tolist() == [[4.0, 0.0]]
        assert report.sops.tolist() == [12.0]  # 4 spikes x fan-out 3
        assert report.snn_macs.tolist() == [8.0]  # 2 real-valued input synapses x 4 steps
        assert report.ann_macs.tolist() == [32.0]  # (2 + 6) synapses x 4 steps
        assert report.snn_energy_j[0] == pytest.approx(12 * E_AC_J + 8 * E_MAC_J)
        assert report.spike_rate_hz[0] == pytest.approx(4 / (2 * 0.04))
        assert report.summary()["sops_per_s"] == pytest.approx(12 / 0.04)
        _, first = net.rollout(net.params(np.zeros((1, 0))), xs[:1], net.init_state(1), backend=backend)
        window = report.since(energy_report(net, first))  # the last 3 of the 4 steps
        assert (window.steps, window.spikes.tolist(), window.sops.tolist()) == (3, [[3.0, 0.0]], [9.0])
        assert (window.snn_macs.tolist(), window.ann_macs.tolist()) == ([6.0], [24.0])


@pytest.mark.parametrize("backend", ["reference", "compiled"])
def test_a_send_on_delta_count_is_one_synaptic_operation_per_event(backend: str) -> None:
    """A jump of five deltas is five events into a fan-out of 3: 15 operations, not 3."""
    spec = NetworkSpec(1, (Layer("h", 3, LIF()),), encoder=SendOnDeltaEncoder(delta=0.1))
    net = Network(spec, torch.float64)
    xs = torch.tensor([[[0.0]], [[0.5]]], dtype=torch.float64)
    events, _ = spec.encoder.rollout(xs, net.init_state(1).encoder)
    _, stats = net.rollout(net.params(spec.parameters.initial()), xs, net.init_state(1), backend=backend)
    assert events.sum().item() == 5 and stats.sops.item() == 15
