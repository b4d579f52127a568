"""The real-time stepper (numpy only, P = 1) against `Network.step`: bit for bit, counters included, and the
P = 1 path of `SNNPolicy` that uses it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_network import random_inputs, rich_spec

from snncontrol.artifacts import Controller, load_controller
from snncontrol.connections import Connection
from snncontrol.controllers import SHIPPED
from snncontrol.controllers.blimp import i_snn
from snncontrol.decoders import RateDecoder
from snncontrol.encoders import SendOnDeltaEncoder
from snncontrol.evaluation.policies import SNNPolicy
from snncontrol.layers import Layer
from snncontrol.network import Network
from snncontrol.neurons import LIF, LeakyIntegrator
from snncontrol.realtime import Stepper, unsupported
from snncontrol.spec import NetworkSpec

STATE_FIELDS = ("i", "v", "a", "r", "out", "spikes", "sops", "steps")


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_stepper_equals_network_step_bit_for_bit_with_counters(dtype: torch.dtype) -> None:
    spec = rich_spec()
    net = Network(spec, dtype=dtype)
    params = net.params(spec.parameters.sample(1, np.random.default_rng(11)))
    xs = random_inputs(300, 1, 1).numpy()  # float64, cast to the network dtype by both
    stepper, state = Stepper(net, params), net.init_state(1)
    for x in xs:
        out = stepper.step(x)
        expected, state = net.step(params, x, state)
        assert out.dtype == expected.numpy().dtype and np.array_equal(out, expected.numpy())
    assert state.spikes.sum() > 100 and state.sops.sum() > 100, "the test network must actually spike"
    mine = stepper.network_state()
    for name in STATE_FIELDS:
        assert torch.equal(getattr(mine, name), getattr(state, name)), name


def test_stepper_holds_missing_inputs_like_the_sample_hold_encoder() -> None:
    spec = i_snn("iwta", n_pairs=2, n_hidden=6)  # behind a SampleHoldEncoder, as the blimp SNNs are
    net = Network(spec, dtype=torch.float64)
    params = net.params(spec.parameters.sample(1, np.random.default_rng(3)))
    xs = random_inputs(200, 1, 1).numpy()
    xs[[0, 5, 6, 7, 120]] = np.nan  # dropouts, the first before any sample
    stepper, state = Stepper(net, params), net.init_state(1)
    for x in xs:
        out = stepper.step(x)
        expected, state = net.step(params, x, state)
        assert np.array_equal(out, expected.numpy())
    assert state.spikes.sum() > 0
    assert torch.equal(stepper.network_state().encoder[0], state.encoder[0])


def test_reset_returns_to_rest_and_replays_the_same_outputs() -> None:
    spec = rich_spec()
    net = Network(spec, dtype=torch.float64)
    stepper = Stepper(net, net.params(spec.parameters.sample(1, np.random.default_rng(2))))
    xs = random_inputs(50, 1, 1).numpy()
    first = [stepper.step(x) for x in xs]
    stepper.reset()
    assert int(stepper.state.steps) == 0 and not stepper.state.sops.any() and not stepper.state.v.any()
    assert all(np.array_equal(a, stepper.step(x)) for a, x in zip(first, xs, strict=True))


def test_wrong_input_size_and_foreign_params_are_refused() -> None:
    spec = rich_spec()
    net = Network(spec)
    stepper = Stepper(net, net.params(spec.parameters.sample(1, np.random.default_rng(0))))
    with pytest.raises(ValueError, match="takes 1 input value"):
        stepper.step(np.zeros(2))
    with pytest.raises(ValueError, match="population of 1"):
        Stepper(net, net.params(spec.parameters.sample(2, np.random.default_rng(0))))


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        (NetworkSpec(n_inputs=1, encoder=SendOnDeltaEncoder(), layers=(Layer("l", 2, LIF()),)), "encoder"),
        (NetworkSpec(n_inputs=1, layers=(Layer("l", 2, LIF()),), decoder=RateDecoder()), "decoder"),
        (NetworkSpec(n_inputs=1, layers=(Layer("l", 1, LeakyIntegrator(), input=Connection(delay=2)),)), "delays"),
    ],
)
def test_networks_with_torch_blocks_are_refused_and_the_policy_falls_back(spec: NetworkSpec, reason: str) -> None:
    net = Network(spec)
    assert reason in unsupported(net)
    with pytest.raises(ValueError, match=reason):
        Stepper(net, net.params(spec.parameters.initial()))
    policy = SNNPolicy(Controller(spec, spec.parameters.initial()))
    assert policy.stepper is None and policy.act(np.ones((1, 1))).shape == (1, spec.n_outputs)


@pytest.mark.parametrize("name", ["blimp", "swimmer_ncap"])
def test_policy_of_one_steps_in_real_time_and_matches_the_population_path(name: str) -> None:
    controller = load_controller(SHIPPED[name])
    one = SNNPolicy(controller, record_spikes=True)
    two = SNNPolicy(controller, batch=2, record_spikes=True)  # Network.step, individuals independent
    assert one.stepper is not None and two.stepper is None
    n_obs = {"blimp": 2, "swimmer_ncap": 5}[name]
    observations = np.random.default_rng(5).normal(0.0, 0.5, size=(200, 1, n_obs))
    for obs in observations:
        assert np.array_equal(one.act(obs), two.act(np.repeat(obs, 2, axis=0))[:1])
    assert np.array_equal(np.concatenate(one.spikes), np.concatenate(two.spikes)[0::2])
    spikes, sops = one.activity()
    assert spikes > 0 and spikes * 2 == two.activity()[0] and sops * 2 == two.activity()[1]
    mine, theirs = one.energy(), two.energy()
    assert mine.steps == theirs.steps == 200
    assert np.array_equal(mine.spikes, theirs.spikes[:1]) and np.array_equal(mine.sops, theirs.sops[:1])
    one.reset()
    assert one.activity() == (0.0, 0.0) and one.energy().steps == 0
