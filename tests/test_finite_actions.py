"""A controller whose network overflows gives inf / NaN commands: evaluations stop in one line instead of flying
the plant on them and reporting figures of the flights that stayed finite."""

from __future__ import annotations

import numpy as np
import pytest

from snncontrol.adapters import IOAdapters
from snncontrol.connections import Connection
from snncontrol.errors import SnnControlError
from snncontrol.evaluation.blimp_flight import fly_blimps
from snncontrol.evaluation.swimming import PLANT, swim
from snncontrol.layers import Layer
from snncontrol.network import Network
from snncontrol.neurons import LeakyIntegrator
from snncontrol.policy import SNNPolicy, finite_actions
from snncontrol.spec import NetworkSpec


def overflowing(n_inputs: int, n_outputs: int) -> tuple[NetworkSpec, np.ndarray]:
    """A recurrent leaky integrator at its upper bounds (loop gain 2 + 2 x 3 per step): inf within ~60 steps."""
    spec = NetworkSpec(n_inputs=n_inputs, dt=0.1, layers=(
        Layer("rec", 4, LeakyIntegrator(), recurrent=Connection()),
        Layer("out", n_outputs, LeakyIntegrator()),
    ))
    return spec, spec.parameters.high.copy()


def test_the_overflowing_network_does_give_non_finite_actions() -> None:
    spec, genome = overflowing(1, 1)
    net = Network(spec)
    policy = SNNPolicy(net, net.params(genome), IOAdapters())
    actions = np.concatenate([policy.act(np.ones((1, 1))) for _ in range(100)])
    assert np.isfinite(actions[:10]).all() and not np.isfinite(actions[-1]).all()


@pytest.mark.parametrize("model", ["mujoco", "ode"])
def test_a_blimp_flight_stops_on_a_non_finite_command_naming_plant_and_time(model: str) -> None:
    spec, genome = overflowing(2, 1)  # the blimp's observation: error and altitude (identity adapter)
    net = Network(spec)
    policy = SNNPolicy(net, net.params(np.stack([genome, genome])), IOAdapters())
    message = rf"not finite .* at t = \d+\.\d\d s for {model} plant seed 1[12](, 12)?: "
    with pytest.raises(SnnControlError, match=message):
        fly_blimps(policy, [11, 12], model=model, episode_length_s=20.0)


def test_a_swim_stops_on_a_non_finite_command_naming_genome_and_episode() -> None:
    import gymnasium as gym

    env = gym.make(PLANT, n_links=3)
    n_obs, n_act = env.observation_space.shape[0], env.action_space.shape[0]
    env.close()
    spec, genome = overflowing(n_obs, n_act)
    with pytest.raises(SnnControlError, match=r"not finite .* for genome / episode seed 0 / [56](, 0 / 6)?: "):
        swim(spec, genome, IOAdapters(), 3, seeds=(5, 6), steps=200)


def test_finite_actions_passes_finite_ones_through_and_names_copies_by_index_without_names() -> None:
    actions = np.ones((3, 2))
    assert finite_actions(actions, 0.0) is actions
    actions[2, 1] = np.nan
    with pytest.raises(SnnControlError, match=r"at t = 1\.50 s for copy 2: "):
        finite_actions(actions, 1.5)


def test_finite_actions_names_eight_copies_at_most_then_an_ellipsis() -> None:
    with pytest.raises(SnnControlError, match=r"for plant seed 100, 101, 102, 103, 104, 105, 106, 107 \.\.\.: "):
        finite_actions(np.full((10, 1), np.inf), 0.0, "plant seed", list(range(100, 110)))
    with pytest.raises(SnnControlError, match=r"for copy 0, 1, 2, 3, 4, 5, 6, 7: "):
        finite_actions(np.full((8, 1), np.nan), 0.0)


def test_a_blimp_flight_refuses_a_controller_made_for_another_step() -> None:
    """A PID tuned for 20 Hz (or an SNN of dt 0.05 s) flown at 10 Hz: its derivative, integral, energy and time
    constants would all be off by the ratio."""
    from snncontrol.controllers.pid import BLIMP_PID, PIDGains, PIDPolicy

    fast = PIDGains(kp=BLIMP_PID.kp, ki=BLIMP_PID.ki, kd=BLIMP_PID.kd, dt=0.05)
    io = IOAdapters.from_dict({"observation": {"kind": "setpoint_error", "measurement": 0, "setpoint": 1}})
    with pytest.raises(SnnControlError, match=r"steps every 0.05 s and the ode plant every 0.1 s"):
        fly_blimps(PIDPolicy(fast, io), [1], model="ode", episode_length_s=5.0)
