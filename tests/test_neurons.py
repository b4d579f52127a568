"""Each neuron model against hand-computed traces (both executors)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snncontrol.connections import Connection
from snncontrol.layers import Layer
from snncontrol.network import Network
from snncontrol.neurons import LIF, Graded, LeakyIntegrator, equations
from snncontrol.spec import NetworkSpec
from tests.helpers import run_trace

BACKENDS = ["reference", "compiled"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_plain_lif_soft_reset_matches_hand_computed_trace(backend: str) -> None:
    # v[t] = 0.5 v[t-1] + 0.6 - s[t-1] * 1.0, spike when v > 1
    trace = run_trace(LIF(synaptic=False), [0.6] * 7, backend, decay_mem=0.5, theta=1.0)
    np.testing.assert_allclose(trace["v"], [0.6, 0.9, 1.05, 0.125, 0.6625, 0.93125, 1.065625])
    np.testing.assert_array_equal(trace["out"], [0, 0, 1, 0, 0, 0, 1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_hard_reset_sets_membrane_to_zero_before_integrating(backend: str) -> None:
    trace = run_trace(LIF(synaptic=False, reset="hard"), [0.6] * 5, backend, decay_mem=0.5, theta=1.0)
    np.testing.assert_allclose(trace["v"], [0.6, 0.9, 1.05, 0.6, 0.9])
    np.testing.assert_array_equal(trace["out"], [0, 0, 1, 0, 0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_current_based_lif_filters_input_through_synaptic_current(backend: str) -> None:
    trace = run_trace(LIF(), [1.0, 0.0, 0.0], backend, decay_syn=0.5, decay_mem=1.0, theta=10.0)
    np.testing.assert_allclose(trace["i"], [1.0, 0.5, 0.25])
    np.testing.assert_allclose(trace["v"], [1.0, 1.5, 1.75])


@pytest.mark.parametrize("backend", BACKENDS)
def test_refractory_period_blocks_input_and_spikes(backend: str) -> None:
    trace = run_trace(LIF(synaptic=False, reset="hard", refractory=2), [2.0] * 6, backend, decay_mem=0.0, theta=1.0)
    # spike, two refractory steps (membrane held at reset, no spike), spike again, ...
    np.testing.assert_array_equal(trace["out"], [1, 0, 0, 1, 0, 0])
    np.testing.assert_allclose(trace["v"], [2.0, 0.0, 0.0, 2.0, 0.0, 0.0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_spike_triggered_adaptation_raises_threshold_after_each_spike(backend: str) -> None:
    neuron = LIF(synaptic=False, reset="hard", adaptation="spike")
    trace = run_trace(neuron, [1.5] * 4, backend, decay_mem=0.0, theta=1.0, decay_th=0.5, beta=1.0)
    # a: 0, then +1 after the first spike -> threshold 2 > 1.5: silent; a decays 1 -> 0.5 -> threshold 1.5
    np.testing.assert_allclose(trace["a"], [0.0, 1.0, 0.5, 0.25])
    np.testing.assert_array_equal(trace["out"], [1, 0, 0, 1])


def test_iwta_threshold_input_moves_threshold_and_decays_back() -> None:
    i, v, a, r, s = (torch.zeros(1, dtype=torch.float64) for _ in range(5))
    drive = [0.8, 0.0, 0.0]
    expected_a = [0.8, 0.4, 0.2]
    spikes = []
    for d, a_expected in zip(drive, expected_a, strict=True):
        i, v, a, r, s = equations.lif(
            i, v, a, r, s, torch.tensor([1.5]), torch.tensor([d]), 0.0, 0.0, 1.0, 0.5, 0.0, 1.0, 0.0
        )
        assert float(a) == pytest.approx(a_expected)
        assert float(v) == pytest.approx(1.5)  # hard reset, no leak: the membrane is the step's input
        spikes.append(float(s))
    # threshold 1 + 0.8 blocks the first step's 1.5 input; the later ones (1.4, 1.2) let it fire
    assert spikes == [0.0, 1.0, 1.0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_iwta_threshold_input_through_a_layer_on_both_backends(backend: str) -> None:
    """The same neuron inside a network: bias 1.5 is its current, the network input reaches it only through its
    threshold weight 0.8 (input 1, 0, 0, 1, 0): silent at threshold 1 + 0.8, firing as it decays to 1.4 and 1.2,
    silent again when the next input lifts it to 1.9, firing at 1.45."""
    neuron = LIF(synaptic=False, reset="hard", adaptation="iwta")
    layer = Layer("cell", 1, neuron, bias=True, input=Connection(pattern="one_to_one"),
                  threshold_input=Connection(pattern="one_to_one"),
                  fixed={"w_in": 0.0, "w_th": 0.8, "bias": 1.5, "decay_mem": 0.0, "theta": 1.0, "decay_th": 0.5})
    net = Network(NetworkSpec(n_inputs=1, layers=(layer,)), dtype=torch.float64)
    params, state = net.params(np.zeros((1, 0))), net.init_state(1)
    trace: dict[str, list[float]] = {"a": [], "out": []}
    for x in [1.0, 0.0, 0.0, 1.0, 0.0]:
        _, state = net.step(params, [[x]], state, backend=backend)
        trace["a"].append(float(state.a[0, 0]))
        trace["out"].append(float(state.out[0, 0]))
    np.testing.assert_allclose(trace["a"], [0.8, 0.4, 0.2, 0.9, 0.45])
    np.testing.assert_array_equal(trace["out"], [0, 1, 1, 0, 1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_leaky_integrator_is_an_exponential_moving_sum(backend: str) -> None:
    trace = run_trace(LeakyIntegrator(), [1.0, 1.0, 0.0], backend, decay_mem=0.5)
    np.testing.assert_allclose(trace["out"], [1.0, 1.5, 0.75])


@pytest.mark.parametrize("backend", BACKENDS)
def test_graded_unit_clamps_to_unit_interval_exactly(backend: str) -> None:
    values = [-2.0, 0.0, 0.3, 0.999, 1.0, 7.0]
    trace = run_trace(Graded(), values, backend)
    np.testing.assert_array_equal(trace["out"], [0.0, 0.0, 0.3, 0.999, 1.0, 1.0])
