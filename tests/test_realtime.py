"""The real-time stepper (numpy only, P = 1) against `Network.step`: bit for bit, counters included, the P = 1
path of `SNNPolicy` that uses it, and the compiled control tick `Stepper.act` against the same tick in numpy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_network import random_inputs, rich_spec

from snncontrol.adapters import ActionAdapter, IOAdapters, ObservationAdapter
from snncontrol.artifacts import Controller, load_controller
from snncontrol.connections import Connection
from snncontrol.controllers import SHIPPED
from snncontrol.controllers.blimp import i_snn
from snncontrol.decoders import RateDecoder
from snncontrol.encoders import SampleHoldEncoder, SendOnDeltaEncoder
from snncontrol.errors import SpecError
from snncontrol.layers import Layer, leaky_readout
from snncontrol.network import Network
from snncontrol.neurons import LIF, LeakyIntegrator
from snncontrol.policy import SNNPolicy
from snncontrol.realtime import CLIPPED, REJECTED, REPLACED, STEPPED, GuardedIO, Stepper, unsupported
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
    policy = SNNPolicy.of(Controller(spec, spec.parameters.initial()))
    assert policy.stepper is None and policy.act(np.ones((1, 1))).shape == (1, spec.n_outputs)


@pytest.mark.parametrize("name", ["blimp", "swimmer_ncap"])
def test_policy_of_one_steps_in_real_time_and_matches_the_population_path(name: str) -> None:
    controller = load_controller(SHIPPED[name])
    one = SNNPolicy.of(controller, record_spikes=True)
    two = SNNPolicy.of(controller, batch=2, record_spikes=True)  # Network.step, individuals independent
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


def _numpy_tick(stepper: Stepper, io: IOAdapters, obs: np.ndarray, guard: dict) -> tuple[int, np.ndarray | None]:
    """The tick `Stepper.act` compiles, in numpy: bounds check, adapters and network, saturation."""
    big = np.finfo(np.float64).max
    low, high = (np.clip(guard[k], -big, big) for k in ("obs_low", "obs_high"))
    out_low, out_high = (np.clip(guard[k], -big, big) for k in ("out_low", "out_high"))
    if not ((obs >= low) & (obs <= high)).all():
        return REJECTED, None
    command = io.action(stepper.step(io.observation(obs[None])).astype(np.float64))[0]
    if ((command >= out_low) & (command <= out_high)).all():
        return STEPPED, command
    if not np.isfinite(command).all():
        return REPLACED, np.broadcast_to(guard["safe"], command.shape).astype(np.float64)
    return CLIPPED, np.clip(command, out_low, out_high)


def _hidden_net(n_inputs: int, hold: bool) -> NetworkSpec:
    return NetworkSpec(
        n_inputs=n_inputs, encoder=SampleHoldEncoder() if hold else None,
        layers=(Layer("h", 12, LIF(), bias=True), leaky_readout("out", 2)),
    )  # fmt: skip


ACT_CASES = {
    # identity of 3 channels with a valid range and a sample hold, float32, affine_clip action, tighter bounds
    "identity": (
        _hidden_net(3, hold=True), torch.float32, 3,
        IOAdapters(ObservationAdapter("identity", valid=(-2.0, 2.0)),
                   ActionAdapter("affine_clip", scale=(2.0, -1.0), offset=(0.1,), low=-1.0, high=1.0)),
        {"obs_low": -3.0, "obs_high": [3.0, 3.0, np.inf], "out_low": [-0.5], "out_high": [0.8], "safe": 0.0},
    ),
    # select 2 of 4 channels, per-channel scale and offset, float64, no hold, identity action, unbounded output
    "select": (
        _hidden_net(2, hold=False), torch.float64, 4,
        IOAdapters(ObservationAdapter("select", indices=(2, 0), scale=(0.5, 2.0), offset=(0.1, -0.2))),
        {"obs_low": -np.inf, "obs_high": np.inf, "out_low": -np.inf, "out_high": np.inf, "safe": 0.0},
    ),
    # select 2 angles read 0.3 s ahead through their rates (an NCAP's proprioception), with a valid range
    "select_lead": (
        _hidden_net(2, hold=True), torch.float64, 5,
        IOAdapters(ObservationAdapter("select", indices=(1, 2), rates=(3, 4), lead=0.3, scale=(0.5,), valid=(-2, 2)),
                   ActionAdapter("affine_clip", low=-1.0, high=1.0)),
        {"obs_low": -np.inf, "obs_high": np.inf, "out_low": -0.05, "out_high": 0.05, "safe": 0.0},
    ),
    # the blimp's: altitude error of a rangefinder with lost returns, into an I-SNN behind the sample hold
    "setpoint_error": (
        i_snn("iwta", n_pairs=3, n_hidden=8), torch.float32, 2,
        IOAdapters(ObservationAdapter("setpoint_error", scale=(1.0,), measurement=0, setpoint=1, valid=(0.0, 12.0)),
                   ActionAdapter("affine_clip", low=-3.3, high=3.3)),
        {"obs_low": [-5.0, 0.0], "obs_high": 20.0, "out_low": -0.05, "out_high": 0.05, "safe": 0.0},
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(ACT_CASES))
def test_compiled_tick_equals_the_numpy_tick_bit_for_bit(case: str) -> None:
    spec, dtype, n_obs, io, guard = ACT_CASES[case]
    net = Network(spec, dtype=dtype)
    params = net.params(spec.parameters.sample(1, np.random.default_rng(7)))
    fused, reference = Stepper(net, params), Stepper(net, params)
    guarded = GuardedIO(io, n_obs, spec.n_inputs, spec.n_outputs, **guard)
    rng = np.random.default_rng(8)
    observations = rng.normal(0.5, 1.2, size=(400, n_obs))
    observations[rng.random(observations.shape) < 0.03] = np.nan  # rejected
    observations[rng.random(observations.shape) < 0.02] = np.inf
    observations[rng.random(observations.shape) < 0.05] = 15.0  # outside the valid range (a lost return) or the bounds
    outcomes = []
    for obs in observations:
        outcome, command = _numpy_tick(reference, io, obs, guard)
        before = guarded.command.copy()
        assert fused.act(obs, guarded) == outcome
        assert np.array_equal(guarded.command, before if command is None else command)
        outcomes.append(outcome)
    assert {STEPPED, REJECTED} <= set(outcomes)
    if case != "select":
        assert CLIPPED in outcomes
    assert int(fused.state.steps) == int(reference.state.steps) == outcomes.count(STEPPED) + outcomes.count(CLIPPED)
    mine, theirs = fused.network_state(), reference.network_state()
    for name in STATE_FIELDS:
        assert torch.equal(getattr(mine, name), getattr(theirs, name)), name
    if mine.encoder:
        assert torch.equal(mine.encoder[0], theirs.encoder[0])
    assert mine.spikes.sum() > 0


def test_compiled_tick_replaces_a_non_finite_command_and_refuses_unfit_adapters() -> None:
    spec = NetworkSpec(n_inputs=1, layers=(leaky_readout("out", 1),))
    net = Network(spec, dtype=torch.float64)
    stepper = Stepper(net, net.params(spec.parameters.sample(1, np.random.default_rng(0))))
    stepper.weights[:] = 1e308  # 10 x 1e308 overflows: an infinite command
    guarded = GuardedIO(IOAdapters(), 1, 1, 1, -np.inf, np.inf, -1.0, 1.0, [0.25])
    assert stepper.act(np.array([10.0]), guarded) == REPLACED and guarded.command.tolist() == [0.25]
    with pytest.raises(ValueError, match="makes 2 input"):
        GuardedIO(IOAdapters(), 2, 1, 1, -np.inf, np.inf, -1.0, 1.0, 0.0)


def test_guarded_io_refuses_bounds_that_fit_neither_one_value_nor_one_per_element_in_one_line() -> None:
    with pytest.raises(SpecError, match="obs_high needs 1 or 2 value") as info:
        GuardedIO(IOAdapters(), 2, 2, 1, -np.inf, [1.0, 2.0, 3.0], -1.0, 1.0, 0.0)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("safe", "low", "high"), [(np.nan, -1.0, 1.0), (2.0, -1.0, 1.0), (0.0, 1.0, -1.0)],
                         ids=["nan", "outside", "inverted-bounds"])
def test_guarded_io_refuses_a_safe_command_a_replaced_tick_could_not_send(safe, low, high) -> None:
    """A NaN safe command made a REPLACED tick send NaN (the ROS node checks its own; direct API users did not)."""
    with pytest.raises(SpecError, match=r"the safe command .* must be finite and within the command bounds"):
        GuardedIO(IOAdapters(), 1, 1, 1, -np.inf, np.inf, low, high, [safe])


def test_compiled_tick_refuses_a_strided_observation() -> None:
    spec = NetworkSpec(n_inputs=2, layers=(leaky_readout("out", 1),))
    net = Network(spec, dtype=torch.float64)
    stepper = Stepper(net, net.params(spec.parameters.sample(1, np.random.default_rng(0))))
    guarded = GuardedIO(IOAdapters(), 2, 2, 1, -np.inf, np.inf, -np.inf, np.inf, 0.0)
    with pytest.raises(ValueError, match="contiguous float64 observation of 2"):
        stepper.act(np.arange(4.0)[::2], guarded)
    assert stepper.act(np.arange(4.0)[:2], guarded) == STEPPED
