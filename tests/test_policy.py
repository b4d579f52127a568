"""The compiled control tick is the project's one policy step compiled: `Stepper.act` with a `GuardedIO` whose
bounds are infinite gives, bit for bit, the commands and the network state of `SNNPolicy.act` (observation
adapter -> network step -> action adapter); and the compiled core stands apart from `snncontrol.network`."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from snncontrol.adapters import ActionAdapter, IOAdapters, ObservationAdapter
from snncontrol.artifacts import Controller, load_controller
from snncontrol.controllers import resolve
from snncontrol.errors import SpecError
from snncontrol.layers import Layer, leaky_readout
from snncontrol.neurons import LIF
from snncontrol.policy import SNNPolicy
from snncontrol.realtime import STEPPED, GuardedIO, Stepper
from snncontrol.spec import NetworkSpec

STATE_FIELDS = ("i", "v", "a", "r", "out", "spikes", "sops", "steps")


def assert_tick_equals_policy(controller: Controller, observations: np.ndarray) -> None:
    """Step the policy and the compiled tick side by side over `observations` [T, n_obs] (plant units)."""
    policy, stepper = SNNPolicy.of(controller), Stepper(controller.network, controller.params)
    spec = controller.spec
    n_obs = observations.shape[1]
    guarded = GuardedIO(controller.io, n_obs, spec.n_inputs, spec.n_outputs, -np.inf, np.inf, -np.inf, np.inf, 0.0)
    commands = []
    for obs in observations:
        expected = policy.act(obs[None])[0]
        assert stepper.act(obs, guarded) == STEPPED
        assert np.array_equal(guarded.command, expected, equal_nan=True)
        commands.append(expected)
    assert np.unique(np.asarray(commands), axis=0).shape[0] > 10, "the commands must actually vary"
    mine, theirs = stepper.network_state(), policy.state
    for name in STATE_FIELDS:
        assert torch.equal(getattr(mine, name), getattr(theirs, name)), name
    assert len(mine.encoder) == len(theirs.encoder)
    for held, expected_held in zip(mine.encoder, theirs.encoder, strict=True):
        assert torch.equal(held, expected_held)
    assert theirs.spikes.sum() > 0, "the network must spike"


def test_shipped_blimp_tick_equals_the_policy_step_with_lost_samples_held() -> None:
    controller = load_controller(resolve("shipped:blimp"))
    assert controller.io.observation.valid == (0.0, 12.0) and controller.spec.encoder is not None
    rng = np.random.default_rng(21)
    steps = 400
    altitude = 1.0 + np.cumsum(rng.normal(0.0, 0.02, steps))  # measured altitude, m
    setpoint = np.repeat(rng.uniform(0.5, 2.5, steps // 100), 100)  # set-point steps, m
    lost = rng.random(steps) < 0.1
    lost[0] = True  # a lost sample before any valid one: the hold's initial zero
    altitude[lost] = rng.choice([12.0, 15.0, -0.5, 1e39], size=lost.sum())  # outside [0, 12): a lost return
    assert_tick_equals_policy(controller, np.stack([altitude, setpoint], axis=1))


def test_select_tick_with_per_channel_scale_and_offset_equals_the_policy_step() -> None:
    spec = NetworkSpec(n_inputs=3, layers=(Layer("h", 16, LIF(), bias=True), leaky_readout("out", 2)))
    io = IOAdapters(
        ObservationAdapter("select", indices=(4, 0, 2), scale=(0.5, 2.0, -1.5), offset=(0.1, -0.2, 0.3)),
        ActionAdapter("affine_clip", scale=(2.0, -1.0), offset=(0.1, 0.0), low=-1.0, high=1.0),
    )
    controller = Controller(spec, spec.parameters.sample(1, np.random.default_rng(4))[0], io=io)
    observations = np.random.default_rng(5).normal(0.0, 1.5, size=(300, 5))
    assert_tick_equals_policy(controller, observations)


def test_importing_the_compiled_core_does_not_import_the_network_module() -> None:
    code = "import sys, snncontrol.compiled; print('snncontrol.network' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("value", [np.nan, -np.inf, 1e39])
def test_a_network_without_sample_hold_refuses_a_non_finite_input_in_one_line(batch: int, value: float) -> None:
    """One NaN observation made the swimmer's membranes NaN: silent (output 0, no error) until a reset; so did
    a finite double beyond float32's range (1e39 is inf in the network)."""
    swimmer = SNNPolicy.of(load_controller(resolve("shipped:swimmer_ncap")), batch=batch)
    n_obs = swimmer.network.spec.n_inputs
    obs = np.zeros((batch, n_obs))
    swimmer.act(obs)
    obs[-1, 1] = value
    assert np.isnan(swimmer.inputs(obs)[-1, 1])  # a lost sample, as one outside an adapter's valid range
    with pytest.raises(SpecError, match=r"network input\(s\) \[1\] not finite"):
        swimmer.act(obs)
    with pytest.raises(SpecError, match=r"network input\(s\) \[1\] not finite"):
        swimmer.act_on_inputs(obs)
    assert np.isfinite(swimmer.state.v.numpy()).all()
    blimp = SNNPolicy.of(load_controller(resolve("shipped:blimp")), batch=batch)
    assert np.isfinite(blimp.act(np.full((batch, 2), value))).all()  # its sample hold carries lost samples
    assert np.isfinite(blimp.act_on_inputs(np.full((batch, 1), value))).all()
