"""The blimp operating envelope: its documented ranges, the same bands in both plant models, plants that behave as
documented (hover command holds still, per-copy rotor-flip delay, terminal speeds), and the evolution config that
flies it."""

from __future__ import annotations

import itertools
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import sim_envs  # noqa: F401  (registers the ids)
from evolution.config import EnvConfig, load_config
from sim_envs.blimp.envelope import HOVER_BANDS, MODELS, MUJOCO_THRUST_GAIN, BlimpEnvelope
from sim_envs.blimp.ode_plant import U_MAX, terminal_speed

ROOT = Path(__file__).resolve().parents[2]


def test_the_default_envelope_spans_lighter_than_air_to_the_papers_heavy_simulator():
    envelope = BlimpEnvelope()
    assert envelope.hover_command == (-0.5, 2.2)
    assert (envelope.motor_tau, envelope.flip_delay, envelope.drag_scale) == ((0.05, 0.2), (0.2, 0.4), (0.6, 1.4))
    assert envelope.initial_altitude == (0.0, 2.0)
    bands = list(HOVER_BANDS.values())
    assert bands[0][0] == -0.5 and bands[-1][1] == 2.2
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bands))  # contiguous, no gap


def test_a_band_asks_the_same_hover_command_of_both_models():
    band = BlimpEnvelope().band("heavy")
    ode, mujoco = band.kwargs("ode"), band.kwargs("mujoco", "disturbed")
    assert ode["hover_command_range"] == (1.0, 1.5)
    np.testing.assert_allclose(mujoco["buoyancy_bias_range"], (-1.5 * MUJOCO_THRUST_GAIN, -1.0 * MUJOCO_THRUST_GAIN))
    assert mujoco["gusts"] and mujoco["buoyancy_drift"] and mujoco["dropout_prob"] == 0.1 and "gusts" not in ode
    for model in MODELS:
        env = gym.make_vec(MODELS[model], num_envs=4, vectorization_mode="vector_entry_point",
                           **band.kwargs(model), episode_length_s=1.0)
        _, info = env.reset(seed=3)
        assert np.all((info["hover_command"] >= 1.0 - 1e-9) & (info["hover_command"] <= 1.5 + 1e-9))
        env.close()


@pytest.mark.parametrize("name", ["nope", "Heavy"])
def test_an_unknown_band_is_named_in_one_line(name):
    with pytest.raises(ValueError, match="band"):
        BlimpEnvelope().band(name)


def test_a_band_keeps_to_a_custom_envelopes_hover_range():
    """band() replaced the envelope's hover command by the band's whole range: (0, 1) narrowed to "heaviest" flew
    1.5 .. 2.2."""
    envelope = BlimpEnvelope(hover_command=(0.2, 1.2))
    assert envelope.band("light").hover_command == (0.2, 0.5)
    assert envelope.band("medium").hover_command == (0.5, 1.0)
    assert envelope.band("heavy").hover_command == (1.0, 1.2)
    assert BlimpEnvelope(hover_command=(1.2, 1.2)).band("heavy").hover_command == (1.2, 1.2)  # one plant in the band
    assert all(BlimpEnvelope().band(name).hover_command == bounds for name, bounds in HOVER_BANDS.items())


@pytest.mark.parametrize(("hover_command", "name"), [((0.0, 1.0), "heaviest"), ((0.0, 1.0), "heavy"),
                                                      ((-0.5, -0.1), "light")])
def test_a_band_outside_the_envelopes_hover_range_is_refused_in_one_line(hover_command, name):
    """No overlap, or only a common end (a band of one hover command the envelope only touches)."""
    with pytest.raises(ValueError, match=rf"band '{name}' .* lies outside hover_command") as caught:
        BlimpEnvelope(hover_command=hover_command).band(name)
    assert "\n" not in str(caught.value)


def _pinned(model: str, hover: float, **kwargs) -> dict:
    """One copy of `model` at `hover`, calm, noise-free, every randomized quantity pinned."""
    pinned = BlimpEnvelope(hover_command=(hover, hover), motor_tau=(0.05, 0.05), flip_delay=(0.3, 0.3),
                           drag_scale=(1.0, 1.0), initial_altitude=(1.0, 1.0), sensor_noise=(0.0, 0.0))
    return {**pinned.kwargs(model), "episode_length_s": 60.0, **kwargs}


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("hover", [-0.4, 1.2, 2.2])
def test_the_hover_command_holds_every_plant_of_the_envelope_still(model, hover):
    """Held at its hover command, a plant feels no net force once its motor has spun up (0.05 s) and, for a
    lighter-than-air one, its rotors have turned (the plant starts with them pointing up; 0.3 s): from then on
    only drag acts, so its speed never grows again, and the drift of that first second is all it moves."""
    env = gym.make(MODELS[model], **_pinned(model, hover))
    _, info = env.reset(seed=0)
    assert info["hover_command"] == pytest.approx(hover)
    speeds, altitudes = [], []
    for _ in range(200):  # 20 s
        _, _, _, _, info = env.step(np.array([hover]))
        speeds.append(abs(float(info["vertical_velocity"])))
        altitudes.append(float(info["altitude"]))
    assert np.all(np.diff(speeds[10:]) <= 1e-9)
    assert abs(altitudes[-1] - 1.0) < 20 * speeds[10] + 0.01
    env.close()


@pytest.mark.parametrize("model", list(MODELS))
def test_the_heaviest_plant_sinks_without_thrust_and_climbs_at_full_thrust(model):
    """A hover command of 2.2 of 3.3: the thrust unit still lifts it, with a third of its range to spare."""
    for command, direction in ((0.0, -1.0), (U_MAX, 1.0)):
        env = gym.make(MODELS[model], **_pinned(model, 2.2))
        env.reset(seed=0)
        for _ in range(30):
            _, _, _, _, info = env.step(np.array([command]))
        assert direction * (info["altitude"] - 1.0) > 0.05
        env.close()


def test_the_ode_plants_reach_their_documented_terminal_speed_across_the_envelope():
    for hover, drag in ((-0.5, 0.6), (2.2, 1.4)):
        env = gym.make(MODELS["ode"], **_pinned("ode", hover, initial_altitude_range=(50.0, 50.0), ceiling=100.0,
                                                drag_scale_range=(drag, drag)))
        env.reset(seed=0)
        for _ in range(300):
            _, _, _, _, info = env.step(np.array([0.0]))
        accel = 0.8 / U_MAX * hover
        expected = -np.sign(accel) * terminal_speed(abs(accel), 0.3 * drag, 1.0 * drag)
        assert info["vertical_velocity"] == pytest.approx(expected, rel=1e-3)
        env.close()


@pytest.mark.parametrize("delay", [0.2, 0.4])
def test_the_mujoco_rotor_flip_takes_the_copys_own_delay(delay):
    env = gym.make(MODELS["mujoco"], **_pinned("mujoco", 0.0, flip_delay_range=(delay, delay)))
    env.reset(seed=0)
    for _ in range(5):
        env.step(np.array([2.0]))
    flipping = []
    for _ in range(8):
        _, _, _, _, info = env.step(np.array([-2.0]))
        flipping.append(bool(info["flipping"]))
    assert sum(flipping) == round(delay / 0.1) - 1  # the flip ends inside the step that starts delay s later
    env.close()


def test_the_mujoco_plants_default_draws_do_not_change_with_the_flip_delay():
    """The flip delay is drawn after every other quantity, so a seed's plant, set-points and noise stay the same."""
    observations = []
    for flip in ((0.3, 0.3), (0.2, 0.4)):
        env = gym.make(MODELS["mujoco"], flip_delay_range=flip, episode_length_s=5.0)
        obs, info = env.reset(seed=11)
        observations.append((obs.copy(), info["hover_command"]))
        env.close()
    np.testing.assert_array_equal(observations[0][0], observations[1][0])
    assert observations[0][1] == observations[1][1]


def test_the_shipped_evolution_config_flies_the_documented_envelope():
    config = load_config(ROOT / "configs" / "blimp_envelope.yaml")
    env = config.fitness.env
    assert env.id == MODELS["mujoco"] and env.envelope == "all"
    kwargs = env.constructor_kwargs()
    for key, value in BlimpEnvelope().kwargs("mujoco", "disturbed").items():
        assert kwargs[key] == value, key
    assert kwargs["disturbance_prob"] == 0.3
    assert kwargs["mass_scale_range"] == [0.2, 1.1]


def _full_command_acceleration(model: str, **kwargs) -> float:
    """m/s^2 of a neutral plant (hover command 0) held at full command, from 0.2 to 0.6 s (after the motor's lag)."""
    env = gym.make(MODELS[model], **_pinned(model, 0.0, **kwargs))
    env.reset(seed=0)
    speeds = []
    for _ in range(6):
        _, _, _, _, info = env.step(np.array([U_MAX]))
        speeds.append(float(info["vertical_velocity"]))
    env.close()
    return (speeds[5] - speeds[1]) / 0.4


def test_the_evolution_config_trains_on_quicker_bodies_than_it_is_graded_on_but_not_the_odes():
    """The config's lightest body answers full command 1.5x faster than the nominal one: the loop gains evolution
    sees reach toward the ODE plant's, which stays faster still (it is never flown there)."""
    low = load_config(ROOT / "configs" / "blimp_envelope.yaml").fitness.env.constructor_kwargs()["mass_scale_range"][0]
    nominal = _full_command_acceleration("mujoco", mass_scale_range=(1.0, 1.0))
    lightest = _full_command_acceleration("mujoco", mass_scale_range=(low, low))
    ode = _full_command_acceleration("ode")
    assert 0.33 < nominal < 0.4 and lightest > 1.5 * nominal and ode > 1.1 * lightest, (nominal, lightest, ode)


@pytest.mark.parametrize(("envelope", "env_id", "message"), [
    ("heavier", MODELS["ode"], "a band of"), ("all", "Swimmer-v5", "blimp plant id")])
def test_an_envelope_the_config_cannot_fly_is_refused(envelope, env_id, message):
    with pytest.raises(ValueError, match=message):
        EnvConfig(id=env_id, envelope=envelope, episode_steps=10)


def test_a_config_band_draws_only_that_band_and_its_own_keywords_win():
    env = EnvConfig(id=MODELS["ode"], envelope="heaviest", episode_steps=10, kwargs={"motor_tau_range": [0.1, 0.1]})
    kwargs = env.constructor_kwargs()
    assert kwargs["hover_command_range"] == (1.5, 2.2) and kwargs["motor_tau_range"] == [0.1, 0.1]
