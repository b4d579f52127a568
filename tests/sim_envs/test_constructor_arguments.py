"""sim_envs' constructor arguments: NumPy integers are integers, switches are real bools, a dead zone leaves thrust
to command, bad swimmer arguments are one line, and both blimp plants count an episode's steps alike."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from sim_envs import BlimpAltitudeEnv, SwimmerEnv, SwimmerVectorEnv
from sim_envs.blimp.env import BlimpAltitudeODEEnv
from sim_envs.blimp.ode_plant import BlimpODECore
from sim_envs.blimp.plant import BlimpCore
from sim_envs.blimp.thrust import ThrustUnitParams
from sim_envs.swimmer.envelope import SwimmerEnvelope
from sim_envs.swimmer.mjcf import swimmer_xml

PLANTS = [BlimpCore, BlimpODECore]


def test_numpy_integers_are_integers() -> None:
    """np.int64(6) (an integer read from an array or drawn by numpy) was refused as 'must be an integer'."""
    env = SwimmerEnv(n_links=np.int64(6), frame_skip=np.int32(6))
    assert env.core.n_links == 6 and type(env.core.n_links) is int and env.action_space.shape == (5,)
    env.close()
    envs = SwimmerVectorEnv(np.int64(2), max_episode_steps=np.int64(10))
    assert envs.num_envs == 2
    envs.close()
    assert BlimpODECore(np.int64(3), substeps=np.uint8(5)).n_copies == 3
    envelope = SwimmerEnvelope(links=(np.int64(3), np.int64(5)))
    assert envelope.bodies(np.int64(4), np.int64(3)) == envelope.bodies(4, 3)


@pytest.mark.parametrize("n_links", [True, 6.0, "6", np.float64(6.0)])
def test_a_link_count_that_is_no_integer_is_refused(n_links: object) -> None:
    with pytest.raises(ValueError, match="n_links must be an integer in"):
        SwimmerEnv(n_links=n_links)


@pytest.mark.parametrize("n_links", [6.5, 1, 31, "6"])
def test_swimmer_xml_refuses_a_bad_link_count_in_one_line(n_links: object) -> None:
    """swimmer_xml(6.5) raised a raw TypeError from range()."""
    with pytest.raises(ValueError, match=r"n_links must be an integer in \[2, 30\]") as caught:
        swimmer_xml(n_links)  # type: ignore[arg-type]
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", None])
def test_the_swimmer_envelope_names_a_bad_seed(seed: object) -> None:
    """bodies(-1, 2) failed inside numpy, naming no argument."""
    with pytest.raises(ValueError, match=r"seed must be an integer >= 0") as caught:
        SwimmerEnvelope().bodies(seed, 2)  # type: ignore[arg-type]
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("plant", PLANTS)
@pytest.mark.parametrize("name", ["gusts", "buoyancy_drift"])
@pytest.mark.parametrize("value", ["false", "true", 1, 0, None, np.array([True])])
def test_a_disturbance_switch_must_be_a_bool(plant: type, name: str, value: object) -> None:
    """gusts="false" went through bool() and switched the gusts on."""
    with pytest.raises(ValueError, match=f"{name} must be True or False") as caught:
        plant(1, **{name: value})
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("plant", PLANTS)
def test_a_numpy_bool_switches_a_disturbance(plant: type) -> None:
    for switch in (np.True_, np.False_):
        core = plant(1, gusts=switch)
        core.reset_copies(np.array([0]), [np.random.default_rng(0)])
        assert core.info()["disturbed"][0] == bool(switch)
        core.close()


@pytest.mark.parametrize(("env_class", "dead_zone"), [(BlimpAltitudeEnv, 3.3), (BlimpAltitudeEnv, 10.0),
                                                      (BlimpAltitudeODEEnv, 3.3), (BlimpAltitudeODEEnv, 5.0)])
def test_a_dead_zone_that_swallows_every_command_is_refused(env_class: type, dead_zone: float) -> None:
    """A dead zone >= u_max = 3.3 left no command that gives thrust: a plant no controller can fly."""
    with pytest.raises(ValueError, match=r"dead_zone must be a finite number >= 0 and < 3.3") as caught:
        env_class(dead_zone=dead_zone)
    assert "\n" not in str(caught.value)
    with pytest.raises(ValueError, match=r"dead_zone must be a finite number >= 0 and < 2"):
        ThrustUnitParams(u_max=2.0, dead_zone=2.0)


@pytest.mark.parametrize("length_s", [0.15, 0.35, 2.15, 0.05, 0.25, 12.45, 0.01])
@pytest.mark.parametrize("rate_hz", [10.0, 20.0])
def test_both_blimp_plants_count_an_episode_in_the_same_steps(length_s: float, rate_hz: float) -> None:
    """The MuJoCo plant rounded length * rate, the ODE length / (1 / rate): 0.15 s at 10 Hz was 2 steps in one and
    1 in the other."""
    mujoco, ode = BlimpCore(1, episode_length_s=length_s, control_rate_hz=rate_hz), BlimpODECore(
        1, episode_length_s=length_s, control_rate_hz=rate_hz)
    assert mujoco.n_steps == ode.n_steps == max(1, round(length_s * rate_hz))
    mujoco.close()


@pytest.mark.parametrize(("length_s", "steps"), [(210.0, 2100), (120.0, 1200), (90.0, 900), (70.0, 700),
                                                 (60.0, 600), (20.0, 200), (2.5, 25), (2.0, 20)])
def test_the_episode_lengths_in_use_keep_their_step_counts(length_s: float, steps: int) -> None:
    for plant in PLANTS:
        core = plant(1, episode_length_s=length_s)
        assert core.n_steps == steps
        core.close()


@pytest.mark.parametrize("kwargs", [{"episode_length_s": 0.0}, {"episode_length_s": float("nan")}])
@pytest.mark.parametrize("plant", PLANTS)
def test_a_bad_episode_length_is_named(plant: type, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="episode_length_s must be a finite number > 0"):
        plant(1, **kwargs)


@pytest.mark.parametrize(("name", "value", "says"), [
    ("gust_std", 0.2, "gust_std must be a finite number >= 0 and <= 0.1"),
    ("drift_std", 0.05, "drift_std must be a finite number >= 0 and <= 0.01"),
    ("buoyancy_bias_range", (1e12, 1e12), "buoyancy_bias_range must satisfy -1.0 <= low <= high <= 1.0"),
])  # fmt: skip
def test_mujoco_blimp_forces_beyond_what_it_stays_stable_with_are_refused(name: str, value: object, says: str) -> None:
    """gust_std 1e3 pushed the blimp through the floor, 1e5 (or a 1e12 N bias) made MuJoCo reset it every step."""
    with pytest.raises(ValueError, match=re.escape(says)):
        BlimpCore(1, **{name: value})
    BlimpCore(1, gust_std=0.1, drift_std=0.01, buoyancy_bias_range=(-1.0, 1.0))  # the bounds themselves
